//! The registry of definition kinds: objects that PostgreSQL deparses whole (views,
//! routines, triggers, policies, domains, composite types). Each kind keeps its model in its
//! own file; this enum is the one list the generic diff, plan and render walk.

use super::{
    Cast, Collation, CompositeType, Domain, EventTrigger, ForeignTable, Function, Name, ObjectId,
    Operator, Policy, QualifiedName, RangeType, Rule, Server, Trigger, View,
};

/// One object of a definition kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    View(View),
    Function(Function),
    Trigger(Trigger),
    Policy(Policy),
    Domain(Domain),
    Composite(CompositeType),
    Collation(Collation),
    Rule(Rule),
    Operator(Operator),
    Cast(Cast),
    Range(RangeType),
    Server(Server),
    ForeignTable(ForeignTable),
    EventTrigger(EventTrigger),
}

/// What an object is, as `COMMENT ON`, `DROP` and messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectKind {
    View,
    MaterializedView,
    Function,
    Procedure,
    Aggregate,
    Trigger,
    Policy,
    Domain,
    Type,
    Collation,
    Rule,
    Operator,
    Cast,
    Server,
    ForeignTable,
    EventTrigger,
}

impl ObjectKind {
    /// The words SQL uses for the kind: `MATERIALIZED VIEW`, `FUNCTION`, ...
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::View => "VIEW",
            ObjectKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::Aggregate => "AGGREGATE",
            ObjectKind::Trigger => "TRIGGER",
            ObjectKind::Policy => "POLICY",
            ObjectKind::Domain => "DOMAIN",
            ObjectKind::Type => "TYPE",
            ObjectKind::Collation => "COLLATION",
            ObjectKind::Rule => "RULE",
            ObjectKind::Operator => "OPERATOR",
            ObjectKind::Cast => "CAST",
            ObjectKind::Server => "SERVER",
            ObjectKind::ForeignTable => "FOREIGN TABLE",
            ObjectKind::EventTrigger => "EVENT TRIGGER",
        }
    }
}

impl Object {
    pub fn id(&self) -> ObjectId {
        match self {
            Object::View(v) => ObjectId::View(v.name.clone()),
            Object::Function(f) => {
                ObjectId::Function(f.name.clone(), Name::from(&f.argument_types))
            }
            Object::Trigger(t) => ObjectId::Trigger(t.table.clone(), Name::from(&t.name)),
            Object::Policy(p) => ObjectId::Policy(p.table.clone(), Name::from(&p.name)),
            Object::Domain(d) => ObjectId::Type(d.name.clone()),
            Object::Composite(c) => ObjectId::Type(c.name.clone()),
            Object::Collation(c) => ObjectId::Collation(c.name.clone()),
            Object::Rule(r) => ObjectId::Rule(r.table.clone(), Name::from(&r.name)),
            Object::Operator(o) => ObjectId::Operator(o.name.clone(), Name::from(&o.arguments)),
            Object::Cast(c) => ObjectId::Cast((&c.source).into(), (&c.target).into()),
            Object::Range(r) => ObjectId::Type(r.name.clone()),
            Object::Server(s) => ObjectId::Server(Name::from(&s.name)),
            Object::ForeignTable(t) => ObjectId::ForeignTable(t.name.clone()),
            Object::EventTrigger(e) => ObjectId::EventTrigger(Name::from(&e.name)),
        }
    }

    /// The table or view the object is part of (a trigger's, policy's or rule's), which
    /// PostgreSQL drops it with.
    pub fn relation(&self) -> Option<&QualifiedName> {
        match self {
            Object::Trigger(t) => Some(&t.table),
            Object::Policy(p) => Some(&p.table),
            Object::Rule(r) => Some(&r.table),
            _ => None,
        }
    }

    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::View(v) if v.materialized => ObjectKind::MaterializedView,
            Object::View(_) => ObjectKind::View,
            Object::Function(f) => match f.kind {
                super::RoutineKind::Function => ObjectKind::Function,
                super::RoutineKind::Procedure => ObjectKind::Procedure,
                super::RoutineKind::Aggregate => ObjectKind::Aggregate,
            },
            Object::Trigger(_) => ObjectKind::Trigger,
            Object::Policy(_) => ObjectKind::Policy,
            Object::Domain(_) => ObjectKind::Domain,
            Object::Composite(_) => ObjectKind::Type,
            Object::Collation(_) => ObjectKind::Collation,
            Object::Rule(_) => ObjectKind::Rule,
            Object::Operator(_) => ObjectKind::Operator,
            Object::Cast(_) => ObjectKind::Cast,
            Object::Range(_) => ObjectKind::Type,
            Object::Server(_) => ObjectKind::Server,
            Object::ForeignTable(_) => ObjectKind::ForeignTable,
            Object::EventTrigger(_) => ObjectKind::EventTrigger,
        }
    }

    /// The name a person would call it by (the table for triggers, policies and rules; for a
    /// cast, which has none, its target type).
    pub fn name(&self) -> QualifiedName {
        self.name_ref().cloned().unwrap_or_else(|| match self {
            Object::Cast(c) => QualifiedName::new("", format!("{}_as_{}", c.source, c.target)),
            Object::Server(s) => QualifiedName::new("", s.name.clone()),
            Object::EventTrigger(e) => QualifiedName::new("", e.name.clone()),
            _ => unreachable!("every object but a cast has a name"),
        })
    }

    fn name_ref(&self) -> Option<&QualifiedName> {
        Some(match self {
            Object::Cast(_) | Object::Server(_) | Object::EventTrigger(_) => return None,
            Object::Range(r) => &r.name,
            Object::ForeignTable(t) => &t.name,
            Object::Rule(r) => &r.table,
            Object::Operator(o) => &o.name,
            Object::View(v) => &v.name,
            Object::Function(f) => &f.name,
            Object::Trigger(t) => &t.table,
            Object::Policy(p) => &p.table,
            Object::Domain(d) => &d.name,
            Object::Composite(c) => &c.name,
            Object::Collation(c) => &c.name,
        })
    }

    pub fn comment(&self) -> Option<&String> {
        match self {
            Object::View(v) => v.comment.as_ref(),
            Object::Function(f) => f.comment.as_ref(),
            Object::Trigger(t) => t.comment.as_ref(),
            Object::Policy(p) => p.comment.as_ref(),
            Object::Domain(d) => d.comment.as_ref(),
            Object::Composite(c) => c.comment.as_ref(),
            Object::Collation(c) => c.comment.as_ref(),
            Object::Rule(r) => r.comment.as_ref(),
            Object::Operator(o) => o.comment.as_ref(),
            Object::Cast(c) => c.comment.as_ref(),
            Object::Range(r) => r.comment.as_ref(),
            Object::Server(s) => s.comment.as_ref(),
            Object::ForeignTable(t) => t.comment.as_ref(),
            Object::EventTrigger(e) => e.comment.as_ref(),
        }
    }

    /// Comments on its columns (views and composite types).
    pub fn column_comments(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        match self {
            Object::View(v) => Some(&v.column_comments),
            Object::Composite(c) => Some(&c.column_comments),
            Object::ForeignTable(t) => Some(&t.column_comments),
            _ => None,
        }
    }

    /// The same object with its comment cleared: two objects that differ only in this are
    /// changed with `COMMENT ON`.
    pub fn without_comment(&self) -> Object {
        let mut o = self.clone();
        match &mut o {
            Object::View(v) => (v.comment, v.column_comments) = (None, Default::default()),
            Object::Function(f) => f.comment = None,
            Object::Trigger(t) => t.comment = None,
            Object::Policy(p) => p.comment = None,
            Object::Domain(d) => d.comment = None,
            Object::Composite(c) => (c.comment, c.column_comments) = (None, Default::default()),
            Object::Collation(c) => c.comment = None,
            Object::Rule(r) => r.comment = None,
            Object::Operator(o) => o.comment = None,
            Object::Cast(c) => c.comment = None,
            Object::Range(r) => r.comment = None,
            Object::Server(s) => s.comment = None,
            Object::ForeignTable(t) => (t.comment, t.column_comments) = (None, Default::default()),
            Object::EventTrigger(e) => e.comment = None,
        }
        o
    }
}
