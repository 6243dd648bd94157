//! Hazards: what a step risks, with a code a reviewer can allow by name.

use crate::catalog::ObjectId;
use crate::diff::{Change, ColumnAction};

/// What can go wrong when a step runs on a production database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HazardCode {
    /// Rows, columns or sequence positions are deleted and cannot be recovered by `down`.
    DeletesData,
    /// PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock.
    TableRewrite,
    /// An extension's upgrade script runs: it may lock or rewrite what the extension owns, and
    /// most extensions ship no script back, so `down` leaves the new version.
    ExtensionVersion,
}

impl HazardCode {
    pub const ALL: [HazardCode; 3] =
        [HazardCode::DeletesData, HazardCode::TableRewrite, HazardCode::ExtensionVersion];

    pub fn as_str(self) -> &'static str {
        match self {
            HazardCode::DeletesData => "DELETES_DATA",
            HazardCode::TableRewrite => "TABLE_REWRITE",
            HazardCode::ExtensionVersion => "EXTENSION_VERSION",
        }
    }

    pub fn parse(code: &str) -> Option<HazardCode> {
        HazardCode::ALL.into_iter().find(|h| h.as_str().eq_ignore_ascii_case(code.trim()))
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
        Change::DropColumn { table, column, .. } if column.generated.is_none() => vec![hazard(
            DeletesData,
            format!("drops column {}.{} and the data in it", table, column.name),
        )],
        Change::DropSchema { schema, tables } if *tables > 0 => vec![hazard(
            DeletesData,
            format!("drops schema {} with the {tables} table(s) in it", schema.name),
        )],
        Change::DropSequence(s) => {
            vec![hazard(DeletesData, format!("drops sequence {} and its current value", s.name))]
        }
        Change::AlterColumn { table, from, actions, .. } => actions
            .iter()
            .filter_map(|a| match a {
                ColumnAction::SetType { type_sql, rewrites: true, .. } => Some(hazard(
                    TableRewrite,
                    format!(
                        "changing {}.{} from {} to {type_sql} rewrites the table and its indexes",
                        table, from.name, from.type_sql
                    ),
                )),
                _ => None,
            })
            .collect(),
        Change::AddColumn { table, column, table_is_new: false, .. } => {
            let volatile = column.identity.is_some()
                || column.generated.is_some()
                || column.depends_on.iter().any(|d| matches!(d, ObjectId::Sequence(_)));
            if volatile {
                vec![hazard(
                    TableRewrite,
                    format!("adding {}.{} fills every row, rewriting the table", table, column.name),
                )]
            } else {
                vec![]
            }
        }
        Change::RecreateEnum { from, columns, .. } if !columns.is_empty() => columns
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
            .collect(),
        Change::SetTableProperties { table, from, to } if from.unlogged != to.unlogged => {
            vec![hazard(
                TableRewrite,
                format!(
                    "making {table} {} rewrites it (and writes it all to the WAL when logged)",
                    if to.unlogged { "unlogged" } else { "logged" }
                ),
            )]
        }
        Change::UpdateExtension { name, from, to } => vec![hazard(
            ExtensionVersion,
            format!(
                "updating extension {name} from {from} to {to} runs its upgrade script; down leaves it at {to}"
            ),
        )],
        _ => vec![],
    }
}
