//! The desired state as written: `schema/*.sql` read in path order and split into located
//! statements with PostgreSQL's own parser (pg_query).

mod annotations;
mod split;
mod syntax;

pub use annotations::{RenameDecl, Renamed};
pub use split::split_with_parser;

use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};

/// One SQL statement and where it was written.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub location: Location,
}

/// Every `.sql` file below `dir` (or `dir` itself when it is a file), in path order.
pub fn sql_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(Error::io(&d))?;
        for entry in entries {
            let path = entry.map_err(Error::io(&d))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_sql(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_sql(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

/// Files below `dir` that are not read as schema (not `.sql`), so a plan can say so.
pub fn ignored_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                pending.push(path);
            } else if !is_sql(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Reads and splits every schema file; a syntax error names file:line:col.
pub fn load_schema_dir(dir: &Path) -> Result<Vec<Statement>> {
    if !dir.exists() {
        return Err(Error::Usage(format!(
            "schema directory {} does not exist; create it and put the schema you want there as .sql files",
            dir.display()
        )));
    }
    let mut out = Vec::new();
    for file in sql_files(dir)? {
        let text = std::fs::read_to_string(&file).map_err(Error::io(&file))?;
        out.extend(split_statements(&file, &text)?);
    }
    return_parser_memory();
    // Held through the plan: 50,000 statements at 10,000 tables.
    out.shrink_to_fit();
    Ok(out)
}

/// The renames `schema/` declares (`-- schemadiff:renamed-from old_name`), in path order.
pub fn load_renames(dir: &Path) -> Result<Vec<RenameDecl>> {
    let mut out = Vec::new();
    for file in sql_files(dir)? {
        let text = std::fs::read_to_string(&file).map_err(Error::io(&file))?;
        out.extend(annotations::renames(&file, &text)?);
    }
    return_parser_memory();
    Ok(out)
}

/// Hands the memory PostgreSQL's parser freed back to the system. The parser allocates with
/// the C allocator, which keeps what is freed for later: a 10,000-table schema's tokens and
/// trees peak at some 180 MB there, which would stay resident through the whole plan.
fn return_parser_memory() {
    // SAFETY: malloc_trim only gives back pages no allocation uses; it touches no live memory.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Splits one file's text into statements, each located at its first token.
///
/// The parser knows PostgreSQL 18's grammar, and older servers take some text it rejects
/// (an argument named `json`, a keyword since 16, as PostgreSQL 15 itself prints it). Such a
/// file is split by its tokens instead, and the server that loads it judges each statement;
/// its errors name file:line:col as well. Only text that cannot even be scanned (an
/// unterminated quote) is refused here.
pub fn split_statements(file: &Path, text: &str) -> Result<Vec<Statement>> {
    let pieces = match split_with_parser(text) {
        Ok(pieces) => pieces,
        Err(err) => match pg_query::split_with_scanner(text) {
            Ok(pieces) => pieces,
            Err(_) => {
                let (offset, message) =
                    syntax::error_position(text).unwrap_or((0, err.to_string()));
                return Err(Error::Syntax { location: locate(file, text, offset), message });
            }
        },
    };
    let base = text.as_ptr() as usize;
    let locator = Locator::new(file, text);
    Ok(pieces
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(|piece| {
            let start = piece.as_ptr() as usize - base;
            let leading = piece.len() - piece.trim_start().len();
            Statement { sql: piece.trim().to_string(), location: locator.locate(start + leading) }
        })
        .collect())
}

/// Statements that change rows rather than the schema (`INSERT`, `UPDATE`, `DELETE`,
/// `COPY`, `MERGE`, `TRUNCATE`): they run when `schema/` is loaded, but rows are not part of a
/// schema and no migration carries them.
pub fn data_statements(statements: &[Statement]) -> Vec<&Statement> {
    const DATA: [&str; 6] = ["INSERT", "UPDATE", "DELETE", "COPY", "MERGE", "TRUNCATE"];
    statements
        .iter()
        .filter(|s| {
            let first = s.sql.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
            let first = first.to_ascii_uppercase();
            DATA.contains(&first.as_str())
                || (first == "WITH"
                    && pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT).is_ok_and(
                        |tree| {
                            use pg_query::NodeRef::*;
                            tree.protobuf.nodes().first().is_some_and(|(n, ..)| {
                                matches!(
                                    n,
                                    InsertStmt(_) | UpdateStmt(_) | DeleteStmt(_) | MergeStmt(_)
                                )
                            })
                        },
                    ))
        })
        .collect()
}

/// The extensions `schema/` creates at a version it names (`CREATE EXTENSION ... VERSION`).
pub fn pinned_extensions(statements: &[Statement]) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    // Only a statement that says `extension` can create one: the rest are not parsed.
    let creates_extension = |sql: &str| {
        sql.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("create"))
            && sql.as_bytes().windows(9).any(|w| w.eq_ignore_ascii_case(b"extension"))
    };
    for s in statements.iter().filter(|s| creates_extension(s.sql.trim_start())) {
        let Ok(tree) = pg_query::parse(&s.sql, pg_query::ParserOptions::DEFAULT) else { continue };
        for (node, ..) in tree.protobuf.nodes() {
            if let pg_query::NodeRef::CreateExtensionStmt(stmt) = node {
                let versioned = stmt.options.iter().any(|o| {
                    matches!(&o.node, Some(pg_query::NodeEnum::DefElem(d)) if d.defname == "new_version")
                });
                if versioned {
                    names.insert(stmt.extname.clone());
                }
            }
        }
    }
    names
}

/// What to say about data statements in `schema/`: a note by default, an error naming each
/// at file:line when `refuse` (`data_statements = "error"` in `schemadiff.toml`).
pub fn data_note(statements: &[Statement], refuse: bool) -> Result<Option<String>> {
    let data = data_statements(statements);
    if data.is_empty() {
        return Ok(None);
    }
    let list: Vec<String> =
        data.iter().map(|s| format!("  {}: {}", s.location, head(&s.sql))).collect();
    let text = format!(
        "schema/ holds the schema, not data: these statements change rows, and no migration carries rows:\n{}",
        list.join("\n")
    );
    if refuse {
        return Err(Error::Usage(format!("{text}\nmove them to the application's seed data")));
    }
    Ok(Some(format!(
        "{text}\nthey are left out of the plan (set `data_statements = \"error\"` in schemadiff.toml to refuse them)"
    )))
}

/// The first words of a statement, for messages.
pub fn head(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(3).collect();
    words.join(" ")
}

/// The 1-based line and column of a byte offset.
/// Locates many offsets of one text: each in O(log lines) instead of a scan from the start,
/// which made splitting a 10,000-table schema quadratic (39 s).
pub struct Locator<'t> {
    file: &'t Path,
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> Locator<'t> {
    pub fn new(file: &'t Path, text: &'t str) -> Locator<'t> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Locator { file, text, line_starts }
    }

    pub fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        Location { file: self.file.to_path_buf(), line, column }
    }
}

pub fn locate(file: &Path, text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location { file: file.to_path_buf(), line, column }
}

/// The byte offset of the `position`-th character (1-based), as PostgreSQL counts positions.
pub fn char_position_to_offset(text: &str, position: usize) -> usize {
    text.char_indices().nth(position.saturating_sub(1)).map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locator_agrees_with_a_scan() {
        let text = "a\nbé\n\nc d\n";
        let locator = Locator::new(Path::new("f.sql"), text);
        for offset in 0..=text.len() {
            if text.is_char_boundary(offset) {
                assert_eq!(locator.locate(offset), locate(Path::new("f.sql"), text, offset));
            }
        }
    }

    #[test]
    fn statements_are_located_at_their_first_token() {
        let text = "-- contacts\nCREATE TABLE a (id int);\n\n  CREATE TABLE b (id int);\n";
        let stmts = split_statements(Path::new("s.sql"), text).unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!((stmts[0].location.line, stmts[0].location.column), (2, 1));
        assert_eq!((stmts[1].location.line, stmts[1].location.column), (4, 3));
        assert_eq!(stmts[1].sql, "CREATE TABLE b (id int)");
    }

    #[test]
    fn data_statements_are_told_from_schema_statements() {
        let text = "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n\
                    WITH x AS (SELECT 1) DELETE FROM a;\nWITH x AS (SELECT 1) SELECT * FROM x;\n\
                    update a set id = 2;\nCREATE VIEW v AS SELECT 1;\n";
        let stmts = split_statements(Path::new("s.sql"), text).unwrap();
        let lines: Vec<usize> = data_statements(&stmts).iter().map(|s| s.location.line).collect();
        assert_eq!(lines, [2, 3, 5]);
    }

    #[test]
    fn text_the_parser_rejects_is_split_by_tokens_for_the_server_to_judge() {
        let text = "CREATE TABLE a (id int);\nCREATE FUNCTION f(json json) RETURNS int\n    LANGUAGE sql AS 'SELECT 1';\n";
        let stmts = split_statements(Path::new("schema/f.sql"), text).unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!((stmts[1].location.line, stmts[1].location.column), (2, 1));
        assert!(stmts[1].sql.starts_with("CREATE FUNCTION f(json json)"));
    }

    #[test]
    fn unscannable_text_names_line_and_column() {
        let text = "CREATE TABLE a (id int);\nCREATE TABLE b (note text DEFAULT 'open);\n";
        let err = split_statements(Path::new("schema/b.sql"), text).unwrap_err();
        assert!(err.to_string().starts_with("schema/b.sql:2:"), "{err}");
    }
}
