//! The test server and fresh databases. One PostgreSQL for the whole run: the ephemeral
//! cluster schemadiff itself uses, or the server `SCHEMADIFF_TEST_DATABASE_URL` names.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use schemadiff::shadow::EphemeralCluster;
use tokio_postgres::Client;

pub struct TestServer {
    /// Kept so that dropping the server stops the cluster.
    _cluster: Option<EphemeralCluster>,
    admin_url: String,
    url_for: Box<dyn Fn(&str) -> String + Send + Sync>,
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

impl TestServer {
    pub fn start() -> TestServer {
        if let Ok(url) = std::env::var("SCHEMADIFF_TEST_DATABASE_URL") {
            let base = url.clone();
            return TestServer {
                _cluster: None,
                admin_url: url,
                url_for: Box::new(move |db| replace_database(&base, db)),
            };
        }
        // The version matrix (scripts/matrix) names the major version to test on.
        let cluster = match std::env::var("SCHEMADIFF_TEST_PG_MAJOR") {
            Ok(major) => {
                let major: u32 = major.parse().expect("SCHEMADIFF_TEST_PG_MAJOR is a number");
                let bindir = schemadiff::shadow::bindir_for_major(major)
                    .unwrap_or_else(|why| panic!("SCHEMADIFF_TEST_PG_MAJOR={major}: {why}"));
                EphemeralCluster::start_from(bindir)
            }
            Err(_) => EphemeralCluster::start(),
        }
        .expect("start the test cluster");
        let socket = cluster.socket_dir().to_path_buf();
        TestServer {
            admin_url: cluster.url("postgres"),
            url_for: Box::new(move |db| {
                format!("postgresql://postgres@/{db}?host={}&port=5432", socket.display())
            }),
            _cluster: Some(cluster),
        }
    }

    /// A URL of the server's maintenance database, for `--dev-url`.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The server's major version, e.g. 15.
    pub fn major(&self) -> u32 {
        block_on(async {
            let admin = schemadiff::connect::connect_url(&self.admin_url).await.expect("connect");
            schemadiff::shadow::server_major_version(&admin).await.expect("server version")
        })
    }

    pub fn url(&self, db: &str) -> String {
        (self.url_for)(db)
    }

    /// A new empty database, named after the test.
    pub async fn fresh_database(&self, label: &str) -> TestDb {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let label: String =
            label.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
        let name = format!("t_{}_{n}_{label}", std::process::id());
        let admin = schemadiff::connect::connect_url(&self.admin_url).await.expect("connect admin");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0"))
            .await
            .expect("create database");
        let url = self.url(&name);
        let client = schemadiff::connect::connect_url(&url).await.expect("connect test db");
        TestDb { name, url, client }
    }

    pub async fn drop_database(&self, db: TestDb) {
        drop(db.client);
        let admin = schemadiff::connect::connect_url(&self.admin_url).await.expect("connect admin");
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", db.name))
            .await;
    }
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    pub client: Client,
}

fn replace_database(url: &str, db: &str) -> String {
    // postgresql://user@host:port/db?params -> .../<db>?params
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A scratch directory with `schema/` and `generated/` for one test.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("schema")).unwrap();
        Workdir { dir }
    }

    pub fn schema_dir(&self) -> PathBuf {
        self.dir.path().join("schema")
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.dir.path().join("generated")
    }

    pub fn write_schema(&self, file: &str, sql: &str) {
        std::fs::write(self.schema_dir().join(file), sql).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Runs an async test body on its own runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// The roles the upstream harnesses create before their runs; cases name them.
pub const HARNESS_ROLES: &[&str] = &[
    "schemainspect_test_role",
    "readonly_user",
    "app_user",
    "admin_role",
    "user-with-dash",
    "user.with.dot",
    "user with spaces",
    "CamelCaseUser",
    "UPPERCASE_USER",
    "user1",
    "user2",
    "user3",
    "user4",
    "My User",
    "reader",
    "writer",
    "admin",
    "reader1",
    "reader2",
    "writer1",
    "writer2",
    "role1",
    "role2",
    "power_user",
    "user@domain.com",
];

static HARNESS_ROLES_MADE: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);

impl TestServer {
    /// Creates the harness roles once per server: cluster objects the cases' grants,
    /// owners and policies name.
    pub async fn ensure_harness_roles(&self) {
        let mut done = HARNESS_ROLES_MADE.lock().await;
        if *done {
            return;
        }
        let admin = schemadiff::connect::connect_url(self.admin_url()).await.expect("connect");
        for role in HARNESS_ROLES {
            let (lit, ident) = (role.replace('\'', "''"), role.replace('"', "\"\""));
            let sql = format!(
                "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{lit}') THEN \
                 CREATE ROLE \"{ident}\"; END IF; END$$"
            );
            admin.batch_execute(&sql).await.expect("create a harness role");
        }
        *done = true;
    }
}

/// Runs the `schemadiff` binary in `dir`, with no database from the environment.
pub fn bin(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_schemadiff"));
    command.args(args).current_dir(dir).env_remove("DATABASE_URL").env_remove("SCHEMADIFF_DEV_URL");
    output_within(command, BIN_DEADLINE)
}

/// Longer than any command of the suite takes on a busy machine: a command still running then
/// hangs, and is killed so that its test fails instead of the whole run never ending.
pub const BIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

/// Runs `command` to its end, or kills it at `deadline` (its output then says so).
pub fn output_within(
    mut command: std::process::Command,
    deadline: std::time::Duration,
) -> std::process::Output {
    use std::sync::atomic::AtomicBool;
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run schemadiff");
    let pid = child.id().to_string();
    let done = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (done, killed) = (done.clone(), killed.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !done.load(Ordering::SeqCst) {
                if started.elapsed() > deadline {
                    killed.store(true, Ordering::SeqCst);
                    let _ = std::process::Command::new("kill").args(["-9", &pid]).status();
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
    };
    let mut output = child.wait_with_output().expect("wait for schemadiff");
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    if killed.load(Ordering::SeqCst) {
        output.stderr.extend_from_slice(
            format!("\n[killed by the test after {}s: it hung]\n", deadline.as_secs()).as_bytes(),
        );
    }
    output
}

/// A command's standard output, then its standard error.
pub fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

pub fn ensure(cond: bool, msg: impl Into<String>) -> Result<(), libtest_mimic::Failed> {
    if cond { Ok(()) } else { Err(msg.into().into()) }
}
