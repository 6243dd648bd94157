//! What a command prints: lines for a person, or with `--format json` one JSON document on
//! standard output that carries the same facts for a machine. Notes, waits and progress go
//! to standard error either way.

use std::io::IsTerminal;

use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// A document for a pull-request comment (`plan`, `diff`) or the docs (`inspect`);
    /// printed by the command itself.
    Markdown,
    /// An ER diagram (`inspect`).
    Mermaid,
}

pub struct Out {
    format: Format,
    doc: Map<String, Value>,
}

impl Out {
    pub fn new(format: Format, command: &str) -> Out {
        let mut doc = Map::new();
        doc.insert("command".into(), json!(command));
        Out { format, doc }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    pub fn mermaid(&self) -> bool {
        self.format == Format::Mermaid
    }

    pub fn markdown(&self) -> bool {
        self.format == Format::Markdown
    }

    /// A line for a person (text format only).
    pub fn say(&self, line: impl AsRef<str>) {
        if self.format == Format::Text {
            println!("{}", line.as_ref());
        }
    }

    /// Something the user should know: on standard error, and under "notes".
    pub fn note(&mut self, note: impl AsRef<str>) {
        eprintln!("note: {}", note.as_ref());
        self.push("notes", json!(note.as_ref()));
    }

    pub fn warn(&mut self, warning: impl AsRef<str>) {
        eprintln!("warning: {}", warning.as_ref());
        self.push("warnings", json!(warning.as_ref()));
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.doc.insert(key.into(), value);
    }

    /// `set`, for a value only JSON output prints: built only then (a plan's steps as JSON
    /// at 10,000 tables were 67 MB, a quarter of the initial migration's peak).
    pub fn set_with(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if self.json() {
            self.set(key, value());
        }
    }

    pub fn push(&mut self, key: &str, value: Value) {
        let entry = self.doc.entry(key.to_string()).or_insert_with(|| json!([]));
        if let Value::Array(items) = entry {
            items.push(value);
        }
    }

    /// Ends the command: the JSON document (with `ok` and any error), or the error line.
    pub fn finish(mut self, error: Option<(&schemadiff::Error, u8)>, interrupted: Option<&str>) {
        if let Some(what) = interrupted {
            self.set("interrupted", json!(what));
        }
        match self.format {
            Format::Text | Format::Markdown | Format::Mermaid => {
                if let Some((e, _)) = error {
                    eprintln!("error: {e}");
                }
            }
            Format::Json => {
                self.set("ok", json!(error.is_none()));
                if let Some((e, code)) = error {
                    self.set("error", json!(e.to_string()));
                    self.set("exit_code", json!(code));
                    eprintln!("error: {e}");
                }
                println!("{}", Value::Object(self.doc));
            }
        }
    }

    /// Whether to draw progress: text output to a terminal.
    pub fn progress(&self) -> bool {
        !self.json() && std::io::stderr().is_terminal()
    }
}
