//! Tables with their columns and constraints, and indexes.

use litemap::LiteMap;

use super::{Identity, Name, ObjectId, QualifiedName};

/// A column as PostgreSQL deparses it. `depends_on` is derived and not compared.
#[derive(Debug, Clone, Eq)]
pub struct Column {
    pub name: Name,
    /// `format_type` output, qualified when the type is outside `pg_catalog`.
    pub type_sql: Name,
    /// The column's collation when it differs from its type's, quoted and qualified.
    pub collation: Option<String>,
    /// NOT NULL and validated: every row holds a value. PostgreSQL 18's `NOT VALID` NOT NULL
    /// is not this but a constraint of the table (`ConstraintKind::NotNull`), as it is added.
    pub not_null: bool,
    /// The name of the NOT NULL constraint, which PostgreSQL 18 keeps (`t_a_not_null` unless
    /// named); `None` before 18.
    pub not_null_name: Option<String>,
    /// `pg_get_expr` of the default; `None` for generated columns.
    pub default: Option<String>,
    pub identity: Option<Box<Identity>>,
    /// The expression of a `GENERATED ALWAYS AS (...)` column.
    pub generated: Option<String>,
    /// The generated column is computed when read (PostgreSQL 18's `VIRTUAL`), not `STORED`.
    pub generated_virtual: bool,
    pub comment: Option<String>,
    /// Objects the type, default and generation expression need (types, sequences, extensions).
    pub depends_on: Vec<ObjectId>,
    /// `SET STORAGE` when it differs from the type's (`p`, `e`, `m`, `x`). These three are
    /// PostgreSQL's one-letter codes, kept as letters: as strings they were a tenth of a
    /// 10,000-table catalog's columns.
    pub storage: Option<char>,
    /// The type's own storage, which a reset returns to.
    pub type_storage: char,
    /// `SET COMPRESSION` (`p`: pglz, `l`: lz4) when set.
    pub compression: Option<char>,
    /// `SET STATISTICS` when set.
    pub statistics: Option<i32>,
    /// Comes from a parent table only (not declared on this one): the parent changes it.
    pub inherited: bool,
}

/// The name PostgreSQL 18 gives the NOT NULL of `table`.`column` when none is given:
/// `table_column_not_null`, each part cut as PostgreSQL's makeObjectName cuts it to fit 63 bytes.
pub fn default_not_null_name(table: &str, column: &str) -> String {
    const LABEL: &str = "not_null";
    let available = 63 - LABEL.len() - 2;
    let (mut t, mut c) = (table.len(), column.len());
    while t + c > available {
        if t > c { t -= 1 } else { c -= 1 }
    }
    // Cut at a character boundary, as pg_mbcliplen does.
    let clip = |s: &str, mut n: usize| {
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    format!("{}_{}_{LABEL}", clip(table, t), clip(column, c))
}

/// The kind of a table constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
    /// PostgreSQL 18's `NOT NULL col NOT VALID`: new rows are checked, old ones not yet. A
    /// validated NOT NULL is a property of its column instead.
    NotNull,
}

/// A table constraint; `definition` is `pg_get_constraintdef` output. `depends_on` is
/// derived (which of two equal keys a foreign key uses is PostgreSQL's pick) and not compared.
#[derive(Debug, Clone, Eq)]
pub struct Constraint {
    pub name: Name,
    pub kind: ConstraintKind,
    pub definition: String,
    /// Columns of this table it covers.
    pub columns: Vec<Name>,
    /// Other objects it needs: the referenced key of a foreign key.
    pub depends_on: Vec<ObjectId>,
    pub comment: Option<String>,
    /// The `CREATE UNIQUE INDEX` behind a primary key or unique constraint, which a key added
    /// to a table in use is built from first; not compared (the definition says it all).
    pub index_definition: Option<String>,
}

/// A table (relkind `r`). Column order is not compared: PostgreSQL appends new columns and
/// cannot reorder them without rebuilding the table.
#[derive(Debug, Clone, Eq)]
pub struct Table {
    pub name: QualifiedName,
    /// Shared: a plan's steps copy the tables they create or drop, and the columns are most
    /// of a table (a 10,000-table catalog's columns are 25 MB).
    pub columns: std::sync::Arc<Vec<Column>>,
    /// By name. Sorted in a vector rather than a tree: a table has a few constraints, and a
    /// tree's node holds room for eleven (at 10,000 tables, 12 MB a catalog). Shared as the
    /// columns are: a catalog's constraints are 14 MB at 10,000 tables.
    pub constraints: std::sync::Arc<LiteMap<Name, Constraint>>,
    pub comment: Option<String>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub row_security: bool,
    /// `FORCE ROW LEVEL SECURITY`: policies apply to the owner too.
    pub force_row_security: bool,
    pub unlogged: bool,
    /// Storage parameters (`fillfactor=70`), as `reloptions` keeps them.
    pub options: Vec<String>,
    pub replica_identity: ReplicaIdentity,
    /// `PARTITION BY` of a partitioned table: `RANGE (logdate)`.
    pub partition_by: Option<String>,
    /// The partitioned table this is a partition of, with its bound.
    pub partition_of: Option<PartitionOf>,
    /// `INHERITS` parents, in order.
    pub inherits: Vec<QualifiedName>,
}

/// `PARTITION OF parent FOR VALUES ...` (or `DEFAULT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// `pg_get_expr` of the bound: `FOR VALUES FROM ('2006-02-01') TO ('2006-03-01')`.
    pub bound: String,
}

/// `REPLICA IDENTITY`: what logical replication sends of an updated or deleted row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum ReplicaIdentity {
    /// The primary key.
    #[default]
    Default,
    Nothing,
    Full,
    /// `USING INDEX` of this name, in the table's schema.
    Index(String),
}

/// The properties of a table besides its columns and constraints, as one unit to change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableProperties {
    pub unlogged: bool,
    pub options: Vec<String>,
    pub replica_identity: ReplicaIdentity,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn properties(&self) -> TableProperties {
        TableProperties {
            unlogged: self.unlogged,
            options: self.options.clone(),
            replica_identity: self.replica_identity.clone(),
        }
    }

    /// The columns declared on this table, not only inherited from a parent.
    pub fn local_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| !c.inherited)
    }

    /// The columns in name order, the order comparisons use.
    pub fn columns_by_name(&self) -> Vec<&Column> {
        let mut columns: Vec<&Column> = self.columns.iter().collect();
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        columns
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.comment == other.comment
            && self.row_security == other.row_security
            && self.force_row_security == other.force_row_security
            && self.properties() == other.properties()
            && self.partition_by == other.partition_by
            && self.partition_of == other.partition_of
            && self.inherits == other.inherits
            && self.constraints == other.constraints
            && self.columns_by_name() == other.columns_by_name()
    }
}

/// An index that does not back a constraint; `definition` is `pg_get_indexdef` output.
/// Validity is not compared: it is state the plan repairs, not a part of the schema.
#[derive(Debug, Clone, Eq)]
pub struct Index {
    pub name: QualifiedName,
    pub table: QualifiedName,
    pub definition: String,
    /// Columns of the table it reads (plain key and INCLUDE columns, and those in expressions).
    pub columns: Vec<Name>,
    pub comment: Option<String>,
    /// `false` for what a failed `CREATE INDEX CONCURRENTLY` leaves behind: it is kept up to
    /// date but never used, and a plan builds it again.
    pub valid: bool,
}

impl PartialEq for Index {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.table, &self.definition, &self.columns, &self.comment)
            == (&other.name, &other.table, &other.definition, &other.columns, &other.comment)
    }
}

impl Index {
    /// Equal in every field, validity too (see `Column::same_in_full`).
    pub fn same_in_full(&self, other: &Index) -> bool {
        let Index { valid, name: _, table: _, definition: _, columns: _, comment: _ } = self;
        self == other && *valid == other.valid
    }
}

impl Column {
    /// Equal in every field, those the comparison leaves out too: what two catalogs may share
    /// before a plan is made from them. Every field is named, so that a new one is weighed.
    pub fn same_in_full(&self, other: &Column) -> bool {
        let Column {
            depends_on,
            type_storage,
            name: _,
            type_sql: _,
            collation: _,
            not_null: _,
            not_null_name: _,
            default: _,
            identity: _,
            generated: _,
            generated_virtual: _,
            comment: _,
            storage: _,
            compression: _,
            statistics: _,
            inherited: _,
        } = self;
        self == other && *depends_on == other.depends_on && *type_storage == other.type_storage
    }
}

impl PartialEq for Column {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.type_sql == other.type_sql
            && self.collation == other.collation
            && self.not_null == other.not_null
            && self.not_null_name == other.not_null_name
            && self.default == other.default
            && self.identity == other.identity
            && self.generated == other.generated
            && self.generated_virtual == other.generated_virtual
            && self.comment == other.comment
            && self.storage == other.storage
            && self.compression == other.compression
            && self.statistics == other.statistics
            && self.inherited == other.inherited
    }
}

impl Constraint {
    /// Equal in every field, those the comparison leaves out too (see `Column::same_in_full`).
    pub fn same_in_full(&self, other: &Constraint) -> bool {
        let Constraint {
            depends_on,
            index_definition,
            name: _,
            kind: _,
            definition: _,
            columns: _,
            comment: _,
        } = self;
        self == other
            && *depends_on == other.depends_on
            && *index_definition == other.index_definition
    }
}

impl PartialEq for Constraint {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.kind == other.kind
            && self.definition == other.definition
            && self.columns == other.columns
            && self.comment == other.comment
    }
}

#[cfg(test)]
mod tests {
    use super::default_not_null_name;

    /// As PostgreSQL 18 names them (checked against a server): the longer part is cut first,
    /// at a character boundary.
    #[test]
    fn default_not_null_names_fit_63_bytes() {
        let table = "a".repeat(57);
        assert_eq!(default_not_null_name("t", "c"), "t_c_not_null");
        assert_eq!(
            default_not_null_name(&table, &"b".repeat(46)),
            format!("{}_{}_not_null", "a".repeat(27), "b".repeat(26))
        );
        assert_eq!(
            default_not_null_name(&table, &"é".repeat(31)),
            format!("{}_{}_not_null", "a".repeat(27), "é".repeat(13))
        );
        assert_eq!(default_not_null_name(&table, "c"), format!("{}_c_not_null", "a".repeat(52)));
    }
}
