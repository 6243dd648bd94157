//! Named behaviours of the tool, end to end.

use std::sync::Arc;

use crate::support::TestServer;

pub fn trials(_server: &Arc<TestServer>) -> Vec<libtest_mimic::Trial> {
    vec![]
}
