//! Sequences: standalone, owned by a column (`serial`), or behind an identity column.

use super::{Name, QualifiedName};

/// The parameters a sequence is created with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SequenceOptions {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

impl SequenceOptions {
    /// The options PostgreSQL picks when none are given, for a sequence of `data_type`.
    pub fn defaults_for(data_type: &str, increment: i64) -> SequenceOptions {
        let max = match data_type {
            "smallint" => i16::MAX as i64,
            "integer" => i32::MAX as i64,
            _ => i64::MAX,
        };
        let (min, start) = if increment > 0 { (1, 1) } else { (-max - 1, -1) };
        let (min, max) = if increment > 0 { (min, max) } else { (min, -1) };
        SequenceOptions {
            data_type: data_type.to_string(),
            start,
            increment,
            min,
            max,
            cache: 1,
            cycle: false,
        }
    }
}

/// A sequence that is not an identity column's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub name: QualifiedName,
    pub options: SequenceOptions,
    /// `OWNED BY table.column`: dropped with the column (what `serial` sets up).
    pub owned_by: Option<(QualifiedName, Name)>,
    pub comment: Option<String>,
}

/// `GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY` with its sequence's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub always: bool,
    pub sequence_name: QualifiedName,
    pub options: SequenceOptions,
}
