//! Where a syntax error is. The pg_query crate reports the parser's message but not its cursor
//! position, so this asks libpg_query (linked in by pg_query) directly.

use std::ffi::{CStr, CString, c_char, c_int};

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryParseResult {
    parse_tree: *mut c_char,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

unsafe extern "C" {
    fn pg_query_parse(input: *const c_char) -> PgQueryParseResult;
    fn pg_query_free_parse_result(result: PgQueryParseResult);
}

/// The byte offset and message of the first syntax error in `text`, if it has one.
pub fn error_position(text: &str) -> Option<(usize, String)> {
    let input = CString::new(text).ok()?;
    // SAFETY: libpg_query takes a NUL-terminated string and returns a result that we free
    // exactly once; the error fields are read before the free.
    unsafe {
        let result = pg_query_parse(input.as_ptr());
        let found = if result.error.is_null() {
            None
        } else {
            let err = &*result.error;
            let message = CStr::from_ptr(err.message).to_string_lossy().into_owned();
            let offset = super::char_position_to_offset(text, err.cursorpos.max(1) as usize);
            Some((offset, message))
        };
        pg_query_free_parse_result(result);
        found
    }
}
