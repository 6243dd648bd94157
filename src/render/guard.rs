//! The queries `down` runs before a step that deletes data: does the data it would delete
//! exist? They read at most `LIMIT` rows, so a guard costs little on a large table.

use super::ident;

/// Rows read at most to tell "some" from "many".
pub const LIMIT: i64 = 1000;

/// The rows written after transaction `since` (`txid_current()` then): younger than it.
/// Without it, every row.
fn written_since(since: Option<i64>) -> String {
    match since {
        Some(xid) => format!("age(xmin) < txid_current() - {xid}"),
        None => "true".into(),
    }
}

/// How many rows `schema.table` holds (written since `since`), up to `LIMIT + 1`.
pub fn rows_query(schema: &str, table: &str, since: Option<i64>) -> String {
    format!(
        "SELECT count(*) FROM (SELECT FROM {}.{} WHERE {} LIMIT {}) AS guarded",
        ident(schema),
        ident(table),
        written_since(since),
        LIMIT + 1
    )
}

/// How many rows hold a value in `column` that its default did not put there (any value
/// but null when it has none; with a volatile default, any value of a row written since
/// `since`), up to `LIMIT + 1`.
pub fn values_query(
    schema: &str,
    table: &str,
    column: &str,
    default: Option<&str>,
    since: Option<i64>,
) -> String {
    let column = ident(column);
    let kept = match default {
        // As text: not every type has an equality (json has none).
        Some(default) => format!("{column}::text IS DISTINCT FROM ({default})::text"),
        None => format!("{column} IS NOT NULL"),
    };
    format!(
        "SELECT count(*) FROM (SELECT FROM {}.{} WHERE {column} IS NOT NULL AND {kept} AND {} LIMIT {}) AS guarded",
        ident(schema),
        ident(table),
        written_since(since),
        LIMIT + 1
    )
}
