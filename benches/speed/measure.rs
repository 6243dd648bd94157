//! Running and timing the commands: wall time and peak resident memory of each process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use schemadiff::shadow::EphemeralCluster;

/// A figure: wall time, and the process's peak memory when it was its own process.
#[derive(Clone, Copy)]
pub struct Measured {
    pub time: Duration,
    pub peak_kb: Option<i64>,
}

pub struct Runner {
    schemadiff: PathBuf,
    socket: PathBuf,
    bindir: PathBuf,
    cache: PathBuf,
    /// Where each measured process's standard error is kept, numbered in the order run: with
    /// `SCHEMADIFF_LOG=info`, the time of each step of each command.
    pub logs: Option<PathBuf>,
    logged: std::sync::atomic::AtomicUsize,
}

impl Runner {
    pub fn new(schemadiff: &str, cluster: &EphemeralCluster, cache: &Path) -> Runner {
        Runner {
            schemadiff: schemadiff.into(),
            cache: cache.into(),
            socket: cluster.socket_dir().to_path_buf(),
            bindir: schemadiff::shadow::find_bindir().expect("PostgreSQL binaries"),
            logs: None,
            logged: Default::default(),
        }
    }

    fn client_tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(name));
        cmd.env("PGHOST", &self.socket).env("PGPORT", "5432").env("PGUSER", "postgres");
        cmd
    }

    /// Forgets the verdicts earlier runs left in the cache (inputs found in sync), keeping
    /// its initialised data directory.
    pub fn forget_verdicts(&self) {
        let _ = std::fs::remove_dir_all(self.cache.join("in-sync"));
    }

    pub fn server_version(&self) -> String {
        let out = self
            .client_tool("psql")
            .args(["-XAtc", "SELECT version()", "postgres"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn psql(&self, db: &str, sql: &str) {
        let out = self
            .client_tool("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn recreate_database(&self, db: &str) {
        self.drop_database(db);
        self.psql("postgres", &format!("CREATE DATABASE {db}"));
    }

    pub fn drop_database(&self, db: &str) {
        self.psql("postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    }

    /// `psql -f` of a schema file, in autocommit as a team loads one.
    pub fn psql_file(&self, db: &str, file: &Path) -> Measured {
        let mut cmd = self.client_tool("psql");
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f"]).arg(file);
        self.measure(cmd)
    }

    pub fn pg_dump(&self, db: &str) -> Command {
        let mut cmd = self.client_tool("pg_dump");
        cmd.args(["-s", db]);
        cmd
    }

    pub fn schemadiff(&self, repo: &Path, args: &[&str]) -> Measured {
        let mut cmd = Command::new(&self.schemadiff);
        cmd.args(args)
            .current_dir(repo)
            .env("SCHEMADIFF_CACHE_DIR", &self.cache)
            .env_remove("SCHEMADIFF_DEV_URL")
            .env_remove("DATABASE_URL");
        self.measure(cmd)
    }

    pub fn migra(&self, migra: &Path, from: &str, to: &str) -> Measured {
        let mut cmd = Command::new(migra);
        cmd.args(["--unsafe", &self.sqlalchemy_url(from), &self.sqlalchemy_url(to)]);
        self.measure_allowing(cmd, &[0, 2])
    }

    fn sqlalchemy_url(&self, db: &str) -> String {
        format!("postgresql+psycopg2://postgres@/{db}?host={}&port=5432", self.socket.display())
    }

    pub fn measure(&self, cmd: Command) -> Measured {
        self.measure_allowing(cmd, &[0])
    }

    /// Waits until the work an earlier figure left behind is done, so that it is not counted
    /// in the next: the ephemeral clusters of earlier commands, which a background `rm`
    /// deletes after the command exits (hundreds of thousands of files at 10,000 tables,
    /// seconds of the kernel's time), the bench server's dirty buffers, and the files the
    /// kernel has yet to write back. Each figure then starts on a machine as quiet as a
    /// developer's when they type a command.
    pub fn settle(&self) {
        let waited = Instant::now();
        let own = self.socket.file_name().map(|n| n.to_os_string());
        // A cluster directory whose owner (the removing `rm` names itself) still runs.
        let removing = || {
            let Ok(entries) = std::fs::read_dir(schemadiff::shadow::clusters_dir()) else {
                return false;
            };
            entries.flatten().any(|e| {
                let name = e.file_name();
                let owner = std::fs::read_to_string(e.path().join("owner")).unwrap_or_default();
                let pid = owner.split_whitespace().next().unwrap_or("");
                name.to_str().is_some_and(|n| n.starts_with("schemadiff-pg-"))
                    && Some(&name) != own.as_ref()
                    && !pid.is_empty()
                    && Path::new("/proc").join(pid).exists()
            })
        };
        // First, which also gives the removal's shell time to name itself the owner.
        self.psql("postgres", "CHECKPOINT");
        while removing() && waited.elapsed() < Duration::from_secs(300) {
            std::thread::sleep(Duration::from_millis(200));
        }
        // SAFETY: sync takes no arguments and cannot fail.
        unsafe { libc::sync() };
    }

    /// Runs `cmd` to its end and reads its peak memory from the kernel (wait4's rusage).
    #[allow(clippy::zombie_processes)] // wait4 reaps it, where Child::wait cannot give rusage
    fn measure_allowing(&self, mut cmd: Command, ok: &[i32]) -> Measured {
        self.settle();
        let out = tempfile::tempfile().unwrap();
        let err = tempfile::NamedTempFile::new().unwrap();
        cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err.reopen().unwrap()));
        let start = Instant::now();
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        let mut status = 0;
        // SAFETY: rusage is plain data the kernel fills in; the pid is our child's.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        let time = start.elapsed();
        assert_eq!(pid, child.id() as i32, "wait4 failed");
        let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
        if let Some(dir) = &self.logs {
            let n = self.logged.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = std::fs::copy(err.path(), dir.join(format!("{n:03}.err")));
        }
        if !ok.contains(&code) {
            panic!(
                "{cmd:?} exited with {code}:\n{}",
                std::fs::read_to_string(err.path()).unwrap_or_default()
            );
        }
        Measured { time, peak_kb: Some(usage.ru_maxrss) }
    }
}

/// migra on PATH or in pip's user and pyenv directories.
pub fn find_migra() -> Option<PathBuf> {
    let which = Command::new("sh").args(["-c", "command -v migra"]).output().ok()?;
    let path = String::from_utf8_lossy(&which.stdout).trim().to_string();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// The processor and memory this run had.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total_kb: u64 = mem
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    format!("{model}, {cores} cores, {} GiB", total_kb / 1024 / 1024)
}
