//! User collations (`CREATE COLLATION`).

use super::QualifiedName;

/// A collation; `provider` is `libc`, `icu` or `builtin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collation {
    pub name: QualifiedName,
    pub provider: String,
    /// `LC_COLLATE` and `LC_CTYPE` for libc, else `None`.
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    /// The locale of an ICU or builtin collation.
    pub locale: Option<String>,
    pub deterministic: bool,
    pub comment: Option<String>,
}
