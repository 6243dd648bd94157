//! Hazards: what a step risks, with a code a reviewer can allow by name.

use crate::catalog::{Object, ObjectId};
use crate::diff::{Busy, Change, ColumnAction};

/// What can go wrong when a step runs on a production database. The README says, for each,
/// what a reviewer should check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HazardCode {
    /// Rows, columns, values or sequence positions are deleted or cut and cannot be recovered
    /// by `down`.
    DeletesData,
    /// PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock.
    TableRewrite,
    /// A statement holds an ACCESS EXCLUSIVE lock while it reads the table: no query on it
    /// runs until it is done.
    AccessExclusiveLock,
    /// A plain index build on a table in use holds a SHARE lock: writes wait until it is built.
    ShareLock,
    /// An index is built on a table in use: time and I/O in proportion to the table.
    IndexBuild,
    /// An index on a table in use goes away: queries that used it may slow down.
    IndexDropped,
    /// A validation reads the whole table (writes go on) and fails if a row breaks the rule.
    TableScan,
    /// Who may read or change what changes: grants, owners, policies, row-level security.
    AuthzUpdate,
    /// The change alters what the database means to the application: replica identity,
    /// values removed from an enum.
    Correctness,
    /// The statement fails if the table holds any row: a new NOT NULL column with no default.
    FailsOnRows,
    /// An extension's upgrade script runs: it may lock or rewrite what the extension owns, and
    /// most extensions ship no script back, so `down` leaves the new version.
    ExtensionVersion,
    /// A routine whose body names objects in a way no catalog records: SQL built at run time
    /// (`EXECUTE`) or a language schemadiff cannot read; nothing orders or keeps those objects
    /// for it.
    UntrackableDependencies,
    /// Every row of a table in use is updated, in batches that commit between them: load,
    /// WAL and replication lag in proportion to the table (a renamed column's copy).
    DataBackfill,
}

impl HazardCode {
    pub const ALL: [HazardCode; 13] = [
        HazardCode::DeletesData,
        HazardCode::TableRewrite,
        HazardCode::AccessExclusiveLock,
        HazardCode::ShareLock,
        HazardCode::IndexBuild,
        HazardCode::IndexDropped,
        HazardCode::TableScan,
        HazardCode::AuthzUpdate,
        HazardCode::Correctness,
        HazardCode::FailsOnRows,
        HazardCode::ExtensionVersion,
        HazardCode::UntrackableDependencies,
        HazardCode::DataBackfill,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HazardCode::DeletesData => "DELETES_DATA",
            HazardCode::TableRewrite => "TABLE_REWRITE",
            HazardCode::AccessExclusiveLock => "ACCESS_EXCLUSIVE_LOCK",
            HazardCode::ShareLock => "SHARE_LOCK",
            HazardCode::IndexBuild => "INDEX_BUILD",
            HazardCode::IndexDropped => "INDEX_DROPPED",
            HazardCode::TableScan => "TABLE_SCAN",
            HazardCode::AuthzUpdate => "AUTHZ_UPDATE",
            HazardCode::Correctness => "DATA_CORRECTNESS",
            HazardCode::FailsOnRows => "FAILS_ON_ROWS",
            HazardCode::ExtensionVersion => "EXTENSION_VERSION",
            HazardCode::UntrackableDependencies => "UNTRACKABLE_DEPENDENCIES",
            HazardCode::DataBackfill => "DATA_BACKFILL",
        }
    }

    /// A code by name; `SCAN`, `CORRECTNESS` and `BACKFILL` are the short names of `TABLE_SCAN`,
    /// `DATA_CORRECTNESS` and `DATA_BACKFILL`.
    pub fn parse(code: &str) -> Option<HazardCode> {
        let code = code.trim();
        if code.eq_ignore_ascii_case("SCAN") {
            return Some(HazardCode::TableScan);
        }
        if code.eq_ignore_ascii_case("CORRECTNESS") {
            return Some(HazardCode::Correctness);
        }
        if code.eq_ignore_ascii_case("BACKFILL") {
            return Some(HazardCode::DataBackfill);
        }
        HazardCode::ALL.into_iter().find(|h| h.as_str().eq_ignore_ascii_case(code))
    }
}

impl std::fmt::Display for HazardCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hazard of one step, with a one-line reason naming the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hazard {
    pub code: HazardCode,
    pub reason: String,
}

fn hazard(code: HazardCode, reason: String) -> Hazard {
    Hazard { code, reason }
}

/// The hazards of one change.
pub fn hazards_of(change: &Change) -> Vec<Hazard> {
    use HazardCode::*;
    match change {
        Change::DropTable { table, .. } => {
            vec![hazard(DeletesData, format!("drops table {} and all its rows", table.name))]
        }
        // A generated column's values are derived, so dropping one loses nothing.
        // A renamed column's old copy goes once the new one holds its values.
        Change::DropColumn { table, column, kept_in: None, .. } if column.generated.is_none() => {
            vec![hazard(
                DeletesData,
                format!("drops column {}.{} and the data in it", table, column.name),
            )]
        }
        Change::Backfill { table, column, from, .. } => vec![hazard(
            DataBackfill,
            format!(
                "copies {table}.{from} into {table}.{column} row by row, in batches that commit between them"
            ),
        )],
        Change::DropSchema { schema, tables } if *tables > 0 => vec![hazard(
            DeletesData,
            format!("drops schema {} with the {tables} table(s) in it", schema.name),
        )],
        Change::DropSequence(s) => {
            vec![hazard(DeletesData, format!("drops sequence {} and its current value", s.name))]
        }
        Change::AlterColumn { table, from, actions, .. } => {
            let mut out = Vec::new();
            for a in actions {
                match a {
                    ColumnAction::SetType { type_sql, rewrites, keeps, .. } => {
                        if *rewrites {
                            let narrows = (type_sql.starts_with("character")
                                || type_sql.starts_with("bit"))
                                && type_sql.contains('(');
                            out.push(hazard(
                                TableRewrite,
                                format!(
                                    "changing {}.{} from {} to {type_sql} rewrites the table and its indexes{}",
                                    table,
                                    from.name,
                                    from.type_sql,
                                    if narrows { ", and fails if a value is longer" } else { "" }
                                ),
                            ));
                        }
                        if !keeps {
                            out.push(hazard(
                                DeletesData,
                                format!(
                                    "changing {}.{} from {} to {type_sql} may round, cut or refuse values, and down cannot bring them back",
                                    table, from.name, from.type_sql
                                ),
                            ));
                        }
                    }
                    ColumnAction::SetNotNull => out.push(hazard(
                        AccessExclusiveLock,
                        format!(
                            "SET NOT NULL on {}.{} reads the whole table holding an ACCESS EXCLUSIVE lock, and fails if a row holds null",
                            table, from.name
                        ),
                    )),
                    _ => {}
                }
            }
            out
        }
        Change::AddConstraint { table, constraint, busy: Busy::Blocking } => {
            use crate::catalog::ConstraintKind::*;
            match constraint.kind {
                ForeignKey => vec![hazard(
                    ShareLock,
                    format!(
                        "{table} is partitioned, which PostgreSQL cannot validate online: adding {} holds a SHARE ROW EXCLUSIVE lock while it reads the table, so writes wait, and fails if a row breaks it",
                        constraint.name
                    ),
                )],
                Check => vec![hazard(
                    AccessExclusiveLock,
                    format!(
                        "adding {} reads all of {table} holding an ACCESS EXCLUSIVE lock, and fails if a row breaks it",
                        constraint.name
                    ),
                )],
                _ => vec![
                    hazard(
                        AccessExclusiveLock,
                        format!(
                            "adding {} builds its index on {table} holding an ACCESS EXCLUSIVE lock: no query on the table runs until it is built",
                            constraint.name
                        ),
                    ),
                    hazard(
                        IndexBuild,
                        format!(
                            "adding {} builds an index on {table}, which reads the whole table and fails if two rows collide",
                            constraint.name
                        ),
                    ),
                ],
            }
        }
        Change::AddColumn { table, column, table_is_new: false, .. } => {
            let volatile = column.identity.is_some()
                || column.generated.is_some()
                || column.depends_on.iter().any(|d| matches!(d, ObjectId::Sequence(_)))
                || column.default.as_deref().is_some_and(calls_volatile);
            let mut out = Vec::new();
            if volatile {
                out.push(hazard(
                    TableRewrite,
                    format!(
                        "adding {}.{} fills every row, rewriting the table",
                        table, column.name
                    ),
                ));
            }
            if column.not_null && column.default.is_none() && !volatile {
                out.push(hazard(
                    FailsOnRows,
                    format!(
                        "adding {}.{} NOT NULL without a default fails if {table} has rows: give it a default, or add it nullable, fill it, then set NOT NULL in a later migration",
                        table, column.name
                    ),
                ));
            }
            out
        }
        Change::RecreateEnum { from, to, columns } => {
            let mut out: Vec<Hazard> = columns
                .iter()
                .map(|c| {
                    hazard(
                        TableRewrite,
                        format!(
                            "recreating type {} rewrites {}.{} (and fails if a row holds a removed value)",
                            from.name, c.table, c.column
                        ),
                    )
                })
                .collect();
            let removed: Vec<&str> = (from.labels.iter())
                .filter(|l| !to.labels.contains(l))
                .map(String::as_str)
                .collect();
            if !removed.is_empty() {
                out.push(hazard(
                    Correctness,
                    format!(
                        "removes {} from type {}: code that still writes them fails",
                        removed.join(", "),
                        from.name
                    ),
                ));
            }
            out
        }
        Change::SetTableProperties { table, from, to } => {
            let mut out = Vec::new();
            if from.unlogged != to.unlogged {
                out.push(hazard(
                    TableRewrite,
                    format!(
                        "making {table} {} rewrites it (and writes it all to the WAL when logged)",
                        if to.unlogged { "unlogged" } else { "logged" }
                    ),
                ));
            }
            if from.replica_identity != to.replica_identity {
                out.push(hazard(
                    Correctness,
                    format!(
                        "changes the replica identity of {table}: logical replication and change capture see other key columns"
                    ),
                ));
            }
            out
        }
        Change::UpdateExtension { name, from, to } => vec![hazard(
            ExtensionVersion,
            format!(
                "updating extension {name} from {from} to {to} runs its upgrade script; down leaves it at {to}"
            ),
        )],
        Change::CreateIndex { index, busy: busy @ (Busy::Online | Busy::Blocking) } => {
            let mut out = vec![hazard(IndexBuild, index_build(index))];
            if *busy == Busy::Blocking {
                out.push(hazard(
                    ShareLock,
                    format!(
                        "{} is partitioned, which PostgreSQL cannot index concurrently: writes to it wait until {} is built",
                        index.table, index.name
                    ),
                ));
            }
            out
        }
        Change::ReplaceIndex { to, .. } => vec![hazard(IndexBuild, index_build(to))],
        Change::DropIndex { index, busy: Busy::Online | Busy::Blocking } => vec![hazard(
            IndexDropped,
            format!(
                "drops index {} on {}: queries that used it may slow down",
                index.name, index.table
            ),
        )],
        Change::SetNotNullProven { table, column, .. } => vec![hazard(
            TableScan,
            format!(
                "checking that {table}.{column} holds no null reads the whole table (writes go on; SET NOT NULL then needs no scan) and fails if a row holds one"
            ),
        )],
        Change::ValidateConstraint { table, name } => vec![hazard(
            TableScan,
            format!(
                "validating {name} reads all of {table} (writes go on) and fails if a row breaks it"
            ),
        )],
        Change::SetAccess { id, .. } => {
            vec![hazard(AuthzUpdate, format!("changes who may use {id}"))]
        }
        Change::SetRowSecurity { table, .. } => {
            vec![hazard(AuthzUpdate, format!("changes row-level security on {table}"))]
        }
        Change::CreateObject(o)
        | Change::DropObject(o)
        | Change::ReplaceObject { to: o, .. }
        | Change::AlterObject { to: o, .. }
            if matches!(**o, Object::Policy(_)) =>
        {
            vec![hazard(AuthzUpdate, format!("changes which rows {} lets through", o.id()))]
        }
        Change::CreateObject(o)
        | Change::ReplaceObject { to: o, .. }
        | Change::AlterObject { to: o, .. }
            if let Object::Function(f) = &**o =>
        {
            match untrackable(f) {
                Some(why) => vec![hazard(
                    UntrackableDependencies,
                    format!(
                        "{}({}) {why}: the objects it uses are not known, so no step waits for them or keeps them",
                        f.name, f.argument_types
                    ),
                )],
                None => vec![],
            }
        }
        _ => vec![],
    }
}

/// Whether a default calls one of the volatile functions defaults commonly use, which fill
/// every row one by one (a rewrite) where a stable default is stored once. The fast guess;
/// the shadow's measure of each table's storage file decides (see `Plan::with_measured_rewrites`).
fn calls_volatile(default: &str) -> bool {
    static VOLATILE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(gen_random_uuid|uuid_generate_v[14]|uuid_generate_v1mc|uuidv[47]|random|random_normal|clock_timestamp|timeofday|txid_current|gen_random_bytes|nextval)\s*\(",
        )
        .expect("a valid pattern")
    });
    VOLATILE.is_match(default)
}

/// Why a routine's body names objects out of schemadiff's sight, if it does: SQL built and run
/// at run time in PL/pgSQL, or a procedural language whose bodies are not read (C and internal
/// functions name nothing).
fn untrackable(f: &crate::catalog::Function) -> Option<&'static str> {
    static DYNAMIC: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)\bEXECUTE\s+(?:format\s*\(|'|\$|[a-z_][a-z0-9_]*\s*(?:;|\|\||USING|INTO))",
        )
        .expect("a valid pattern")
    });
    match f.language.as_str() {
        "sql" | "c" | "internal" => None,
        "plpgsql" => {
            DYNAMIC.is_match(&f.body).then_some("runs SQL it builds at run time (EXECUTE)")
        }
        _ => Some("is written in a language whose body schemadiff does not read"),
    }
}

fn index_build(index: &crate::catalog::Index) -> String {
    let unique = index.definition.starts_with("CREATE UNIQUE");
    format!(
        "builds index {} on {}, which reads the whole table{}; a build that fails leaves an invalid index, which the next plan builds again",
        index.name,
        index.table,
        if unique { " and fails if two rows collide" } else { "" }
    )
}
