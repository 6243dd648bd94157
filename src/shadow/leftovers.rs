//! What a run killed before it could clean up leaves behind (`kill -9`, a lost terminal): an
//! ephemeral cluster still running in its directory, or scratch databases on the dev
//! server. The next run finds them and removes them; what a live run owns is left alone.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use tokio_postgres::Client;

/// The file in a cluster's directory that names the process that made it.
const OWNER_FILE: &str = "owner";

/// Marks `dir` as this process's: its pid and start time (a pid alone may be reused).
pub(crate) fn mark(dir: &Path) -> std::io::Result<()> {
    let me = std::process::id();
    std::fs::write(dir.join(OWNER_FILE), format!("{me} {}\n", start_time(me).unwrap_or(0)))
}

/// When process `pid` started (clock ticks since boot), if it runs.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: count fields after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that wrote `pid` and `started` still runs.
fn alive(pid: u32, started: Option<u64>) -> bool {
    match (start_time(pid), started) {
        (None, _) => false,
        (Some(now), Some(then)) if then != 0 => now == then,
        (Some(_), _) => true,
    }
}

/// Whether the process named in `dir`'s owner file runs; None without a readable one.
pub(crate) fn owner_alive(dir: &Path) -> Option<bool> {
    let owner = std::fs::read_to_string(dir.join(OWNER_FILE)).ok()?;
    let mut fields = owner.split_whitespace().map(|f| f.parse::<u64>().ok());
    let (Some(Some(pid)), started) = (fields.next(), fields.next().flatten()) else { return None };
    Some(alive(pid as u32, started))
}

/// Stops and removes the ephemeral clusters of dead runs where clusters are made, and in
/// the temp directory (where they were made before, or by a run given another `TMPDIR`).
/// `run_as` is the user the servers run as (when we are root).
pub(crate) fn remove_dead_clusters(bindir: &Path, run_as: Option<(u32, u32)>) {
    let mut places = vec![super::clusters_dir(), std::env::temp_dir()];
    places.dedup();
    let entries = places.iter().filter_map(|place| std::fs::read_dir(place).ok()).flatten();
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_cluster =
            entry.file_name().to_str().is_some_and(|n| n.starts_with("schemadiff-pg-"));
        if !is_cluster || owner_alive(&dir) != Some(false) {
            continue;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let mut stop = Command::new(bindir.join("pg_ctl"));
            stop.arg("-D").arg(&data).args(["-m", "immediate", "stop"]).current_dir(&dir);
            if let Some((uid, gid)) = run_as {
                stop.uid(uid).gid(gid);
            }
            let _ = stop.output();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Drops the scratch databases (`schemadiff_<purpose>_<pid>_<n>`) on a dev server that no
/// session uses and whose run is not alive on this machine.
pub(crate) async fn drop_dead_scratch(admin: &Client) {
    let Ok(rows) = admin.query(include_str!("leftover_databases.sql"), &[]).await else { return };
    for row in rows {
        let name: String = row.get(0);
        let pid = name.rsplit('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if pid.is_none_or(|pid| alive(pid, None)) {
            continue;
        }
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let _ =
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")).await;
    }
}
