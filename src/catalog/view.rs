//! Views and materialized views.

use std::collections::BTreeMap;

use super::QualifiedName;

/// A view (relkind `v`) or materialized view (`m`); `definition` is `pg_get_viewdef` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// The query, without the trailing semicolon.
    pub definition: String,
    /// `reloptions`: `check_option=local`, `security_barrier=true`, `security_invoker=true`.
    pub options: Vec<String>,
    /// Output columns as (name, type): `CREATE OR REPLACE VIEW` may only append to them.
    pub columns: Vec<(String, String)>,
    /// A materialized view created `WITH NO DATA` is not populated until refreshed.
    pub populated: bool,
    pub comment: Option<String>,
    /// `COMMENT ON COLUMN` of the view's columns.
    pub column_comments: BTreeMap<String, String>,
    /// `ALTER VIEW ... ALTER COLUMN ... SET DEFAULT`: what inserts through the view get.
    pub column_defaults: BTreeMap<String, String>,
    /// The query reads the view itself, which only `CREATE OR REPLACE` over a view of the
    /// same columns can make.
    pub refers_to_itself: bool,
}

impl View {
    /// Whether `CREATE OR REPLACE VIEW` can turn `self` into `to`: same kind, and the old
    /// columns are a prefix of the new ones with the same names and types.
    pub fn replaceable_by(&self, to: &View) -> bool {
        !self.materialized
            && !to.materialized
            && self.columns.len() <= to.columns.len()
            && self.columns.iter().zip(&to.columns).all(|(a, b)| a == b)
    }
}
