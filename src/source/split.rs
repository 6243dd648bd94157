//! Statement boundaries by PostgreSQL's parser, a run of statements at a time.
//!
//! `pg_query::split_with_parser` builds the parse tree of the whole text in C memory it frees
//! only at the end: for a 10,000-table schema or initial migration (8-10 MB of SQL) that is
//! over 150 MB, the largest allocation of a whole `plan`, for boundaries alone. The scanner
//! finds candidate boundaries in little memory; the parser then confirms them a run at a time.

/// Statements per run the parser confirms: its tree of a run stays around a megabyte.
const RUN: usize = 256;

/// Text the scanner reads at a time: it keeps every token of what it reads until it ends, 30 MB
/// for the 9 MB up file of a 10,000-table initial migration, when the rest of a plan is 100.
const WINDOW: usize = 1 << 20;

/// What `pg_query::split_with_parser(text)` gives, in the memory of one run of statements.
pub fn split_with_parser(text: &str) -> Result<Vec<&str>, pg_query::Error> {
    split_in_runs(text, RUN, WINDOW)
}

fn split_in_runs(text: &str, run: usize, window: usize) -> Result<Vec<&str>, pg_query::Error> {
    let starts = match scanned_starts(text, window) {
        Ok(starts) if starts.len() > run => starts,
        _ => return pg_query::split_with_parser(text),
    };
    let mut pieces = Vec::new();
    let (mut next, mut begin) = (0, 0);
    while begin < text.len() {
        // A run ends where the scanner saw a statement start. Where that is inside a statement
        // the scanner cannot see whole (a `BEGIN ATOMIC` body, a rule's action list), the run
        // ends in an unfinished statement the parser rejects, and it grows until it parses; a
        // syntax error grows it to the end of the text, which fails as the whole text would.
        let mut take = run;
        loop {
            let end = starts.get(next + take).copied().unwrap_or(text.len());
            match pg_query::split_with_parser(&text[begin..end]) {
                Ok(run_pieces) => {
                    pieces.extend(run_pieces);
                    (next, begin) = (next + take, end);
                    break;
                }
                Err(err) if end == text.len() => return Err(err),
                Err(_) => take *= 2,
            }
        }
    }
    Ok(pieces)
}

/// Where the scanner sees statements start in `text`, as offsets, scanned `window` bytes at a
/// time. A window's last statement may be cut short, so the next window starts at it; a window
/// that ends inside a string, quoted name or comment is one the scanner rejects, and it grows.
/// The scanner reads left to right, so what it finds before the cut is what it finds in the
/// whole text.
fn scanned_starts(text: &str, window: usize) -> Result<Vec<usize>, pg_query::Error> {
    let base = text.as_ptr() as usize;
    let mut starts = Vec::new();
    let (mut begin, mut size) = (0, window);
    while begin < text.len() {
        let mut end = (begin + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let at_end = end == text.len();
        match pg_query::split_with_scanner(&text[begin..end]) {
            Ok(pieces) => {
                let found = pieces.iter().map(|p| p.as_ptr() as usize - base);
                if at_end {
                    starts.extend(found);
                    break;
                }
                let found: Vec<usize> = found.collect();
                match found.split_last() {
                    Some((&last, whole)) if !whole.is_empty() => {
                        starts.extend_from_slice(whole);
                        (begin, size) = (last, window);
                    }
                    _ => size *= 2,
                }
            }
            Err(err) if at_end => return Err(err),
            Err(_) => size *= 2,
        }
    }
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of two statements, so that runs end everywhere they can, and windows of a few
    /// bytes, so that they cut every kind of token, against the whole text.
    fn agrees(text: &str) {
        for window in [1, 7, 64, WINDOW] {
            agrees_in(text, window);
        }
    }

    fn agrees_in(text: &str, window: usize) {
        let whole = pg_query::split_with_parser(text);
        let runs = split_in_runs(text, 2, window);
        match (whole, runs) {
            (Ok(whole), Ok(runs)) => {
                let at = |p: &[&str]| -> Vec<(usize, usize)> {
                    p.iter()
                        .map(|s| (s.as_ptr() as usize - text.as_ptr() as usize, s.len()))
                        .collect()
                };
                assert_eq!(at(&runs), at(&whole), "window {window}: {text}");
            }
            (Err(_), Err(_)) => {}
            (whole, runs) => panic!("window {window}: whole: {whole:?}, runs: {runs:?}\n{text}"),
        }
    }

    #[test]
    fn runs_split_as_the_whole_text_does() {
        agrees(
            "-- head\nCREATE TABLE a (id int);\n\n/* b */ CREATE TABLE b (id int) ;;\nCREATE VIEW v AS SELECT 1;\n-- tail\n",
        );
        agrees(
            "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\nCREATE TABLE d (id int)",
        );
    }

    #[test]
    fn a_body_with_semicolons_is_one_statement() {
        let text = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n\
             CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; SELECT 3; END;\n\
             CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO b VALUES (2); INSERT INTO b VALUES (3));\n\
             CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END $$;\n\
             CREATE TABLE c (id int);\n";
        // The scanner ends statements inside the bodies, so runs end there too.
        let scanned = pg_query::split_with_scanner(text).unwrap().len();
        assert!(scanned > pg_query::split_with_parser(text).unwrap().len(), "{scanned}");
        agrees(text);
    }

    #[test]
    fn windows_cut_strings_names_and_comments_as_the_whole_text_does() {
        agrees(
            "COMMENT ON TABLE a IS 'one; two '' three';\n\
             CREATE TABLE \"we;ird\" (\"é;è\" text DEFAULT E'a\\'; b');\n\
             /* a comment; with a semicolon */ CREATE TABLE b (id int); -- and here; too\n\
             CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'x;y' $body$;\n\
             CREATE TABLE c (id int);\n",
        );
    }

    #[test]
    fn an_unterminated_string_fails_as_in_the_whole_text() {
        agrees(
            "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCOMMENT ON TABLE a IS 'open;\n",
        );
    }

    #[test]
    fn a_syntax_error_fails_as_in_the_whole_text() {
        agrees(
            "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TABLE c (id int;\nCREATE TABLE d (id int);\nCREATE TABLE e (id int);\n",
        );
    }

    /// Every SQL file of the fixtures and corpora the repository and its neighbours hold.
    #[test]
    fn runs_split_every_fixture_as_the_whole_text_does() {
        let mut pending =
            vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
        let mut files = 0;
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "sql") {
                    agrees(&std::fs::read_to_string(&path).unwrap());
                    files += 1;
                }
            }
        }
        assert!(files > 100, "{files} fixture files");
    }
}
