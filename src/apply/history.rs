//! Where the history table lives: `public.schemadiff_migrations` unless `history_table` in
//! schemadiff.toml names another. PostgreSQL 15 took `CREATE` on `public` from ordinary
//! roles: `schemadiff.migrations` puts it in schemadiff's own schema (made when missing,
//! never planned), or a schema the team declares holds it.

use crate::catalog::QualifiedName;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTable(pub QualifiedName);

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable(QualifiedName::new("public".to_string(), "schemadiff_migrations".to_string()))
    }
}

impl HistoryTable {
    /// `schema.table` or `table` (in `public`), as written in schemadiff.toml; quoted parts
    /// keep their case.
    pub fn parse(text: &str) -> Result<HistoryTable> {
        let refused = || {
            Error::Usage(format!(
                "history_table {text:?} in schemadiff.toml is not a table name such as \"ops.schemadiff_migrations\""
            ))
        };
        // PostgreSQL's own parser reads the name, quoting and case included.
        let tree =
            pg_query::parse(&format!("SELECT FROM {text}"), pg_query::ParserOptions::DEFAULT)
                .map_err(|_| refused())?;
        let Some(pg_query::NodeEnum::SelectStmt(select)) =
            tree.protobuf.stmts.first().and_then(|s| s.stmt.as_ref()).and_then(|n| n.node.as_ref())
        else {
            return Err(refused());
        };
        match select.from_clause.as_slice() {
            [from] => match from.node.as_ref() {
                Some(pg_query::NodeEnum::RangeVar(r)) if r.catalogname.is_empty() => {
                    let schema = if r.schemaname.is_empty() { "public" } else { &r.schemaname };
                    Ok(HistoryTable(QualifiedName::new(schema.to_string(), r.relname.clone())))
                }
                _ => Err(refused()),
            },
            _ => Err(refused()),
        }
    }

    /// The table as SQL names it.
    pub fn sql_name(&self) -> String {
        crate::render::qualified(&self.0)
    }

    /// `template` with `{history}` replaced by the table's name.
    pub(crate) fn sql(&self, template: &str) -> String {
        template.replace("{history}", &self.sql_name())
    }

    /// The table's name as a string literal holds it (for `to_regclass`).
    pub(crate) fn literal(&self) -> String {
        format!("'{}'", self.sql_name().replace('\'', "''"))
    }
}

impl std::fmt::Display for HistoryTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.sql_name())
    }
}
