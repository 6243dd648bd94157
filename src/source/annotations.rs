//! Declared renames: `-- schemadiff:renamed-from old_name [instant]` on the line above a table,
//! column, constraint, index, sequence, view, function or type, or sqldef's
//! `-- @renamed from=old_name` / `/* @renamed from=old_name */` beside it. Without one, a name
//! that vanishes is a drop and a new one an add.
//!
//! The comments are found with PostgreSQL's scanner and the objects with its parser, so an
//! annotation inside a string or a function body is text, not an annotation.

use std::path::Path;
use std::sync::LazyLock;

use pg_query::NodeRef;
use pg_query::protobuf::Token;
use regex::Regex;

use super::locate;
use crate::catalog::QualifiedName;
use crate::error::{Error, Location, Result};

/// What a declared rename names, under its new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    Table(QualifiedName),
    Column {
        table: QualifiedName,
        column: String,
    },
    Constraint {
        table: QualifiedName,
        name: String,
    },
    Index(QualifiedName),
    Sequence(QualifiedName),
    /// A view or materialized view.
    View(QualifiedName),
    /// Every overload of the name.
    Function(QualifiedName),
    /// An enum, composite, range or domain.
    Type(QualifiedName),
    /// A label of an enum type, annotated beside it (`'shipped', -- @renamed from=shipping`).
    EnumValue {
        type_name: QualifiedName,
        label: String,
    },
}

/// One annotation: `target` was called `from` before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameDecl {
    pub target: Renamed,
    pub from: String,
    /// `instant`: a plain `RENAME` even for a column (no running code uses the old name).
    pub instant: bool,
    pub location: Location,
}

static ANNOTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:--|/\*)\s*(?:schemadiff:renamed-from\s+(?P<a>"(?:[^"]|"")+"|[^\s"*]+)(?P<instant>\s+instant)?|@renamed\s+from=(?P<b>"(?:[^"]|"")+"|[^\s"*]+))\s*(?:\*/)?\s*$"#,
    )
    .expect("the annotation pattern is valid")
});

/// Something an annotation can stand beside: where it starts in the file, and what it is.
struct Item {
    offset: usize,
    target: Renamed,
}

impl Item {
    /// An enum label takes only an annotation beside it: one on a line of its own inside the
    /// label list names the type, as sqldef reads it.
    fn beside_only(&self) -> bool {
        matches!(self.target, Renamed::EnumValue { .. })
    }
}

/// The declared renames in one file's text.
pub fn renames(file: &Path, text: &str) -> Result<Vec<RenameDecl>> {
    // Every annotation says `renamed`: a file without the word has none, and is not scanned
    // (a scan of a 10,000-table schema takes most of a second).
    if !text.contains("renamed") {
        return Ok(Vec::new());
    }
    let Ok(scan) = pg_query::scan(text) else { return Ok(Vec::new()) };
    let comments: Vec<(usize, usize, &str)> = scan
        .tokens
        .iter()
        .filter(|t| matches!(Token::try_from(t.token), Ok(Token::SqlComment | Token::CComment)))
        .map(|t| (t.start as usize, t.end as usize))
        .map(|(s, e)| (s, e, text[s..e].trim()))
        .filter(|(.., c)| c.contains("renamed"))
        .collect();
    if comments.is_empty() {
        return Ok(Vec::new());
    }
    let tokens: Vec<usize> = scan
        .tokens
        .iter()
        .filter(|t| !matches!(Token::try_from(t.token), Ok(Token::SqlComment | Token::CComment)))
        .map(|t| t.start as usize)
        .collect();
    let (statements, items) = items(text);
    let mut out = Vec::new();
    for (start, end, comment) in comments {
        let location = locate(file, text, start);
        let Some(caps) = ANNOTATION.captures(comment) else {
            if comment.contains("schemadiff:renamed-from") || comment.contains("@renamed") {
                return Err(Error::Usage(format!(
                    "{location}: cannot read the rename annotation `{comment}`; write `-- schemadiff:renamed-from old_name` (optionally followed by `instant`)"
                )));
            }
            continue;
        };
        let from = identifier(caps.name("a").or(caps.name("b")).map_or("", |m| m.as_str()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let own_line = text[line_start..start].trim().is_empty();
        let containing = statements.iter().find(|(s, e)| *s <= start && start <= *e);
        let next = items
            .iter()
            .filter(|i| !i.beside_only())
            .find(|i| i.offset >= end)
            .filter(|i| !tokens.iter().any(|&t| t >= end && t < i.offset));
        let target = if own_line {
            // The next thing after the comment, with nothing but comments between; else, on a
            // line of its own inside a statement that declares nothing else (an enum's
            // labels), the statement.
            next.or_else(|| {
                let &(s, e) = containing?;
                let mut inside =
                    items.iter().filter(|i| i.offset >= s && i.offset < e && !i.beside_only());
                match (inside.next(), inside.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            })
        } else {
            // The innermost thing the comment's statement has begun before it.
            let within = containing.or_else(|| {
                statements
                    .iter()
                    .rev()
                    .find(|(_, e)| *e <= start && !text[*e..start].contains('\n'))
            });
            within
                .and_then(|&(s, _)| items.iter().rev().find(|i| i.offset >= s && i.offset < start))
        };
        let Some(target) = target else {
            return Err(Error::Usage(format!(
                "{location}: the rename annotation stands beside no table, column, constraint, index, sequence, view, function or type; put it on the line above the object's name"
            )));
        };
        out.push(RenameDecl {
            target: target.target.clone(),
            from,
            instant: caps.name("instant").is_some(),
            location,
        });
    }
    Ok(out)
}

/// `"Quoted"` as written, anything else folded to lower case as PostgreSQL folds it.
fn identifier(raw: &str) -> String {
    let last = raw.rsplit('.').next().unwrap_or(raw);
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => last.to_lowercase(),
    }
}

/// The statements' byte ranges, and every item they declare, in file order.
fn items(text: &str) -> (Vec<(usize, usize)>, Vec<Item>) {
    let Ok(pieces) = super::split_with_parser(text) else { return (Vec::new(), Vec::new()) };
    let base = text.as_ptr() as usize;
    let mut ranges = Vec::new();
    let mut items = Vec::new();
    for piece in pieces {
        let trimmed = piece.trim();
        if trimmed.is_empty() {
            continue;
        }
        let start = piece.as_ptr() as usize - base + (piece.len() - piece.trim_start().len());
        ranges.push((start, start + trimmed.len()));
        let Ok(tree) = pg_query::parse(trimmed, pg_query::ParserOptions::DEFAULT) else {
            continue;
        };
        let mut found = Vec::new();
        for raw in &tree.protobuf.stmts {
            if let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) {
                statement_items(node.to_ref(), &mut found);
                if let NodeRef::CreateEnumStmt(stmt) = node.to_ref()
                    && let Some(type_name) = from_list(&stmt.type_name)
                {
                    found.extend(labels(trimmed, &type_name));
                }
            }
        }
        items.extend(found.into_iter().map(|(at, target)| Item { offset: start + at, target }));
    }
    items.sort_by_key(|i| i.offset);
    (ranges, items)
}

/// An enum's labels, at their string literals (the parser keeps no position for them).
fn labels(statement: &str, type_name: &QualifiedName) -> Vec<(usize, Renamed)> {
    let Ok(scan) = pg_query::scan(statement) else { return Vec::new() };
    (scan.tokens.iter())
        .filter(|t| Token::try_from(t.token) == Ok(Token::Sconst))
        .filter_map(|t| {
            let text = statement.get(t.start as usize..t.end as usize)?;
            let label = text.strip_prefix('\'')?.strip_suffix('\'')?.replace("''", "'");
            Some((t.start as usize, Renamed::EnumValue { type_name: type_name.clone(), label }))
        })
        .collect()
}

fn qualified(schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(if schema.is_empty() { "public" } else { schema }, name)
}

/// A qualified name from a parser name list (`[schema,] name`).
fn from_list(names: &[pg_query::protobuf::Node]) -> Option<QualifiedName> {
    let parts: Vec<&str> = names
        .iter()
        .filter_map(|n| match &n.node {
            Some(pg_query::NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [name] => Some(qualified("", name)),
        [.., schema, name] => Some(qualified(schema, name)),
        [] => None,
    }
}

/// What a top-level statement declares, at byte offsets within it (the statement at 0).
fn statement_items(node: NodeRef, out: &mut Vec<(usize, Renamed)>) {
    match node {
        NodeRef::CreateStmt(stmt) => {
            let Some(rel) = &stmt.relation else { return };
            let table = qualified(&rel.schemaname, &rel.relname);
            out.push((0, Renamed::Table(table.clone())));
            for elt in &stmt.table_elts {
                match &elt.node {
                    Some(pg_query::NodeEnum::ColumnDef(c)) if c.location >= 0 => out.push((
                        c.location as usize,
                        Renamed::Column { table: table.clone(), column: c.colname.clone() },
                    )),
                    Some(pg_query::NodeEnum::Constraint(c))
                        if c.location >= 0 && !c.conname.is_empty() =>
                    {
                        out.push((
                            c.location as usize,
                            Renamed::Constraint { table: table.clone(), name: c.conname.clone() },
                        ))
                    }
                    _ => {}
                }
            }
        }
        NodeRef::IndexStmt(stmt) => {
            if let Some(rel) = &stmt.relation
                && !stmt.idxname.is_empty()
            {
                out.push((0, Renamed::Index(qualified(&rel.schemaname, &stmt.idxname))));
            }
        }
        NodeRef::CreateSeqStmt(stmt) => {
            if let Some(rel) = &stmt.sequence {
                out.push((0, Renamed::Sequence(qualified(&rel.schemaname, &rel.relname))));
            }
        }
        NodeRef::ViewStmt(stmt) => {
            if let Some(rel) = &stmt.view {
                out.push((0, Renamed::View(qualified(&rel.schemaname, &rel.relname))));
            }
        }
        NodeRef::CreateTableAsStmt(stmt) => {
            if let Some(rel) = stmt.into.as_ref().and_then(|i| i.rel.as_ref()) {
                out.push((0, Renamed::View(qualified(&rel.schemaname, &rel.relname))));
            }
        }
        NodeRef::CreateFunctionStmt(stmt) => {
            if let Some(name) = from_list(&stmt.funcname) {
                out.push((0, Renamed::Function(name)));
            }
        }
        NodeRef::CreateEnumStmt(stmt) => {
            if let Some(name) = from_list(&stmt.type_name) {
                out.push((0, Renamed::Type(name)));
            }
        }
        NodeRef::CreateRangeStmt(stmt) => {
            if let Some(name) = from_list(&stmt.type_name) {
                out.push((0, Renamed::Type(name)));
            }
        }
        NodeRef::CreateDomainStmt(stmt) => {
            if let Some(name) = from_list(&stmt.domainname) {
                out.push((0, Renamed::Type(name)));
            }
        }
        NodeRef::CompositeTypeStmt(stmt) => {
            if let Some(rel) = &stmt.typevar {
                out.push((0, Renamed::Type(qualified(&rel.schemaname, &rel.relname))));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls(text: &str) -> Vec<(Renamed, String, bool, usize)> {
        renames(Path::new("s.sql"), text)
            .unwrap()
            .into_iter()
            .map(|d| (d.target, d.from, d.instant, d.location.line))
            .collect()
    }

    fn public(name: &str) -> QualifiedName {
        QualifiedName::new("public", name)
    }

    #[test]
    fn each_form_names_what_it_stands_beside() {
        let text = "-- schemadiff:renamed-from people\nCREATE TABLE users (\n  id bigint,\n  \
                    -- schemadiff:renamed-from username instant\n  user_name text,\n  \
                    age int, -- @renamed from=\"Age\"\n  CONSTRAINT users_age CHECK (age > 0) /* @renamed from=age_check */\n);\n\
                    CREATE TYPE s.item_status /* @renamed from=item_state */ AS ENUM ('a');\n\
                    CREATE TABLE \"user profiles\" ( -- @renamed from=\"user accounts\"\n  id int\n);\n\
                    CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT '-- schemadiff:renamed-from g' $$;\n";
        let users = public("users");
        assert_eq!(
            decls(text),
            [
                (Renamed::Table(users.clone()), "people".into(), false, 1),
                (
                    Renamed::Column { table: users.clone(), column: "user_name".into() },
                    "username".into(),
                    true,
                    4
                ),
                (
                    Renamed::Column { table: users.clone(), column: "age".into() },
                    "Age".into(),
                    false,
                    6
                ),
                (
                    Renamed::Constraint { table: users, name: "users_age".into() },
                    "age_check".into(),
                    false,
                    7
                ),
                (
                    Renamed::Type(QualifiedName::new("s", "item_status")),
                    "item_state".into(),
                    false,
                    9
                ),
                (Renamed::Table(public("user profiles")), "user accounts".into(), false, 10),
            ]
        );
    }

    #[test]
    fn enum_labels_take_annotations_beside_them_and_the_type_those_on_their_own_line() {
        let text = "CREATE TYPE status AS ENUM (\n  /* @renamed from=state */\n  'a',\n  \
                    'b it''s' -- @renamed from=c\n);\n";
        let status = public("status");
        assert_eq!(
            decls(text),
            [
                (Renamed::Type(status.clone()), "state".into(), false, 2),
                (
                    Renamed::EnumValue { type_name: status, label: "b it's".into() },
                    "c".into(),
                    false,
                    4
                ),
            ]
        );
    }

    #[test]
    fn an_annotation_beside_nothing_is_an_error_naming_its_line() {
        let text = "CREATE TABLE a (id int);\n\n-- schemadiff:renamed-from b\n\nSELECT 1;\n";
        let err = renames(Path::new("schema/a.sql"), text).unwrap_err().to_string();
        assert!(
            err.starts_with("schema/a.sql:3:1: the rename annotation stands beside no"),
            "{err}"
        );
        let text = "-- schemadiff:renamed-from\nCREATE TABLE a (id int);\n";
        let err = renames(Path::new("schema/a.sql"), text).unwrap_err().to_string();
        assert!(err.starts_with("schema/a.sql:1:1: cannot read the rename annotation"), "{err}");
    }
}
