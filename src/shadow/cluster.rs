//! An ephemeral PostgreSQL cluster: initdb into a temp dir, a private unix socket, no TCP,
//! run as the `postgres` user when we are root, stopped and removed when dropped.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tokio_postgres::Config;

use crate::error::{Error, Result};

const PORT: u16 = 5432;

/// A running private cluster; dropping it stops the server and deletes its files.
pub struct EphemeralCluster {
    /// A temp directory, removed on drop (see `Drop`).
    dir: PathBuf,
    bindir: PathBuf,
    run_as: Option<(u32, u32)>,
}

impl EphemeralCluster {
    /// Starts a new cluster from the local PostgreSQL server binaries.
    #[tracing::instrument]
    pub fn start() -> Result<EphemeralCluster> {
        let bindir = find_bindir().ok_or_else(|| {
            Error::Shadow(format!(
                "no PostgreSQL server binaries found (looked at `pg_config --bindir`, {} and \
                 PATH); install them (e.g. `apt-get install postgresql`) or pass --dev-url",
                searched_roots()
            ))
        })?;
        EphemeralCluster::start_from(bindir)
    }

    /// Starts a new cluster from the server binaries in `bindir`.
    pub fn start_from(bindir: PathBuf) -> Result<EphemeralCluster> {
        EphemeralCluster::start_with(bindir, &[])
    }

    /// Starts a new cluster from the server binaries in `bindir`, with `settings` in place of
    /// the shadow's own (a test's small server, say).
    #[tracing::instrument]
    pub fn start_with(bindir: PathBuf, settings: &[(&str, &str)]) -> Result<EphemeralCluster> {
        let run_as = server_user()?;
        super::leftovers::remove_dead_clusters(&bindir, run_as);
        let dir = tempfile::Builder::new()
            .prefix("schemadiff-pg-")
            .tempdir_in(super::clusters_dir())
            .map_err(|e| Error::Shadow(format!("cannot make a temp dir: {e}")))?
            .keep();
        // From here on, dropping the cluster removes the directory.
        let cluster = EphemeralCluster { dir, bindir, run_as };
        let dir = cluster.dir.as_path();
        super::leftovers::mark(dir)
            .map_err(|e| Error::Shadow(format!("cannot write in {}: {e}", dir.display())))?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                .map_err(|e| Error::Shadow(format!("cannot hand the temp dir to postgres: {e}")))?;
        }
        let data = cluster.data_dir();
        cluster.initialise(&data)?;
        let mut options = format!(
            "-k {} -p {PORT} -c listen_addresses= -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 \
             -c max_locks_per_transaction=1024",
            cluster.dir.display()
        );
        // The last of a setting given twice is the one that counts.
        for (name, value) in settings {
            options.push_str(&format!(" -c {name}={value}"));
        }
        let log = cluster.dir.join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )?;
        Ok(cluster)
    }

    /// A new data directory at `data`: a copy of the one initdb made for these binaries
    /// before (a copy takes a tenth of initdb's time), else initdb's, kept for the next run.
    fn initialise(&self, data: &Path) -> Result<()> {
        let cached = super::initdb_cache::dir(&self.bindir);
        if let Some(cached) = cached.as_deref().filter(|c| c.is_dir()) {
            if super::initdb_cache::take_spare(self.place(), cached, data, self.server_uid()) {
                return Ok(());
            }
            if super::initdb_cache::copy_tree(cached, data, self.run_as).is_ok() {
                return Ok(());
            }
            let _ = std::fs::remove_dir_all(data);
        }
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        if let Some(cached) = cached {
            super::initdb_cache::store(data, &cached);
        }
        Ok(())
    }

    /// The directory this cluster's own is in, where spares are taken from and left: a
    /// spare is renamed into place, within one file system.
    fn place(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// The user the server runs as, who must own its data directory.
    fn server_uid(&self) -> u32 {
        self.run_as.map_or_else(|| nix::unistd::geteuid().as_raw(), |(uid, _)| uid)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The socket directory, for `host=` in a connection string.
    pub fn socket_dir(&self) -> &Path {
        self.dir.as_path()
    }

    /// A libpq URL for `database` in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgresql://postgres@/{database}?host={}&port={PORT}", self.dir.display())
    }

    /// A connection configuration for `database` in this cluster.
    pub fn config(&self, database: &str) -> Config {
        let mut config = Config::new();
        config.host_path(self.dir.as_path()).port(PORT).user("postgres").dbname(database);
        config
    }

    pub fn describe(&self) -> String {
        format!("the ephemeral cluster in {}", self.dir.display())
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.args(args).current_dir(self.dir.as_path());
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd.output().map_err(|e| Error::Shadow(format!("cannot run {program}: {e}")))?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        Err(Error::Shadow(format!(
            "{program} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim(),
            log.trim()
        )))
    }
}

impl Drop for EphemeralCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        if data.join("postmaster.pid").exists() {
            let _ = self.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "stop".as_ref(),
                ],
            );
        }
        // The files of a 10,000-table schema loaded twice number hundreds of thousands, and
        // deleting them takes seconds the command need not wait for: a process of its own
        // deletes them, started in the background by a shell that exits at once (so it
        // outlives this process and leaves no zombie in a long-lived one). Should it die
        // first, the next run's sweep of dead clusters (see `leftovers`) finishes the work.
        // It names itself the directory's owner first: else that sweep, seeing this run
        // dead, deletes the same files beside it (7 s of the next command at 10,000 tables).
        // The same process first copies the next run's data directory, if no spare is waiting
        // (see `initdb_cache::take_spare`).
        let spare = super::initdb_cache::dir(&self.bindir)
            .filter(|cached| cached.is_dir())
            .and_then(|cached| {
                let uid = self.server_uid();
                Some((super::initdb_cache::spare_to_make(self.place(), &cached, uid)?, cached))
            });
        let (cached, spare) = match &spare {
            Some((spare, cached)) => (cached.as_os_str(), spare.as_os_str()),
            None => ("".as_ref(), "".as_ref()),
        };
        let owner = self.run_as.map(|(uid, gid)| format!("{uid}:{gid}")).unwrap_or_default();
        let removal = Command::new("sh")
            .args(["-c", REMOVE_IN_BACKGROUND, "sh"])
            .arg(&self.dir)
            .args([cached, spare, owner.as_ref()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if !removal.is_ok_and(|s| s.success()) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Run by `sh -c` with the cluster's directory as `$1`: a background shell writes its own
/// pid as the owner (see `leftovers::mark`; 0 for an unknown start time), then, given the
/// cached data directory `$2`, copies it inside `$1` (a copy cut short goes with the rest) and
/// moves it to `$3`, owned by `$4` (`uid:gid`) when given, then becomes `rm`. All at the lowest
/// priority, so that the next command's server comes first.
const REMOVE_IN_BACKGROUND: &str = r#"sh -c 'echo "$$ 0" > "$1/owner"
n=; command -v nice >/dev/null && n="nice -n 19"
if [ -n "$2" ] && $n cp -R -p "$2" "$1/spare"; then
  if [ -z "$4" ] || chown -R "$4" "$1/spare"; then mv "$1/spare" "$3"; fi
fi
exec $n rm -rf -- "$1"' sh "$1" "$2" "$3" "$4" &"#;

/// The user the server runs as: `postgres` when we are root (PostgreSQL refuses root).
fn server_user() -> Result<Option<(u32, u32)>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = nix::unistd::User::from_name("postgres").ok().flatten().ok_or_else(|| {
        Error::Shadow(
            "running as root, and PostgreSQL refuses to run as root, but there is no \
             `postgres` user to run it as; create one or pass --dev-url"
                .into(),
        )
    })?;
    Ok(Some((user.uid.as_raw(), user.gid.as_raw())))
}

fn has_server(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|p| dir.join(p).is_file())
}

/// Directories holding `<major>/bin` of PostgreSQL servers: where `scripts/install-postgres`
/// puts them (`SCHEMADIFF_POSTGRES_DIR` when set, in place of the per-user and all-users
/// places), and Debian's.
fn server_roots() -> Vec<PathBuf> {
    let debian = PathBuf::from("/usr/lib/postgresql");
    if let Some(dir) = std::env::var_os("SCHEMADIFF_POSTGRES_DIR").filter(|d| !d.is_empty()) {
        return vec![dir.into(), debian];
    }
    let mut roots = Vec::new();
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    roots.extend(data_home.map(|d| d.join("schemadiff/postgres")));
    roots.push("/usr/local/lib/schemadiff/postgres".into());
    roots.push(debian);
    roots
}

fn searched_roots() -> String {
    server_roots().iter().map(|r| format!("{}/*/bin", r.display())).collect::<Vec<_>>().join(", ")
}

/// The server binaries under the known roots, by major version; the first root holding a
/// version wins.
pub fn installed_servers() -> Vec<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    for root in server_roots() {
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let Some(major) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let bin = entry.path().join("bin");
            if has_server(&bin) && !found.iter().any(|(m, _)| *m == major) {
                found.push((major, bin));
            }
        }
    }
    found.sort();
    found
}

/// The major version of the server binaries in `bindir`, from `postgres --version`.
pub fn bindir_major(bindir: &Path) -> Option<u32> {
    let out = Command::new(bindir.join("postgres")).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    let version = text.split(')').nth(1)?.split_whitespace().next()?;
    version.split('.').next()?.parse().ok()
}

/// The server binaries of PostgreSQL `major` on this machine, or why there are none.
pub fn bindir_for_major(major: u32) -> std::result::Result<PathBuf, String> {
    if let Some((_, dir)) = installed_servers().into_iter().find(|(m, _)| *m == major) {
        return Ok(dir);
    }
    if let Some(dir) = find_bindir().filter(|d| bindir_major(d) == Some(major)) {
        return Ok(dir);
    }
    Err(format!(
        "no PostgreSQL {major} server binaries on this machine (looked at `pg_config --bindir`, \
         {} and PATH)",
        searched_roots()
    ))
}

/// The directory holding initdb and pg_ctl: pg_config's, the newest Debian one (the system's
/// server before any installed for other versions), the newest under the other roots, or PATH's.
pub fn find_bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let servers = installed_servers();
    let debian = servers.iter().rev().find(|(_, d)| d.starts_with("/usr/lib/postgresql"));
    if let Some((_, dir)) = debian.or(servers.last()) {
        return Some(dir.clone());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|d| has_server(d)).map(|d| {
            // PATH may hold symlinks into the real bindir; pg_ctl finds postgres beside itself.
            std::fs::canonicalize(d.join("pg_ctl"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or(d)
        })
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A command's background removal leaves the next command a spare copy of the cached
    /// data directory, one at a time, which the next takes whole; the cluster's own files go.
    #[test]
    fn the_background_removal_leaves_a_spare_the_next_start_takes() {
        use super::super::initdb_cache::{spare_to_make, take_spare};
        let tmp = tempfile::tempdir().unwrap();
        let place = tmp.path();
        let cached = tmp.path().join(format!("initdb-test-{}", std::process::id()));
        std::fs::create_dir_all(cached.join("base")).unwrap();
        std::fs::write(cached.join("base/PG_VERSION"), "15\n").unwrap();
        let cluster = tmp.path().join("schemadiff-pg-test");
        std::fs::create_dir(&cluster).unwrap();
        std::fs::write(cluster.join("postgresql.conf"), "").unwrap();
        let uid = nix::unistd::geteuid().as_raw();
        let spare = spare_to_make(place, &cached, uid).expect("no spare waits yet");
        let status = Command::new("sh")
            .args(["-c", REMOVE_IN_BACKGROUND, "sh"])
            .args([&cluster, &cached, &spare])
            .arg("")
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while cluster.exists() || !spare.exists() {
            assert!(std::time::Instant::now() < deadline, "no spare, or the cluster stayed");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(spare_to_make(place, &cached, uid), None, "a second spare while one waits");
        assert!(!take_spare(place, &cached, &tmp.path().join("other"), uid + 1), "another's");
        let data = tmp.path().join("data");
        assert!(take_spare(place, &cached, &data, uid));
        assert_eq!(std::fs::read_to_string(data.join("base/PG_VERSION")).unwrap(), "15\n");
        assert!(!spare.exists());
        assert!(!take_spare(place, &cached, &tmp.path().join("again"), uid), "taken twice");
    }

    /// The background removal names itself the owner before it deletes anything, so that the
    /// next run's sweep takes the directory for a live run's and leaves it alone. A `nice`
    /// that sleeps stands in for a removal still under way.
    #[test]
    fn the_background_removal_owns_the_directory_it_removes() {
        let tmp = tempfile::tempdir().unwrap();
        let cluster = tmp.path().join("schemadiff-pg-test");
        std::fs::create_dir(&cluster).unwrap();
        // A process that is gone: pid 1 with a start time it never had.
        std::fs::write(cluster.join("owner"), "1 99999999999\n").unwrap();
        assert_eq!(super::super::leftovers::owner_alive(&cluster), Some(false));
        let bin = tmp.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(bin.join("nice"), "#!/bin/sh\nsleep 5\n").unwrap();
        std::fs::set_permissions(bin.join("nice"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let status = Command::new("sh")
            .args(["-c", REMOVE_IN_BACKGROUND, "sh"])
            .arg(&cluster)
            .env("PATH", path)
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while super::super::leftovers::owner_alive(&cluster) != Some(true) {
            assert!(std::time::Instant::now() < deadline, "the removal never took the directory");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
