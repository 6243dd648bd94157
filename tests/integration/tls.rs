//! Connecting like libpq: a private cluster serving TLS with certificates made for the run
//! (a CA, a server certificate for `localhost`, a client certificate), reached with each
//! `sslmode`, a client certificate, the `PG*` variables and a password file; no password in
//! any output.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Failed, Trial};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use crate::support::{Workdir, block_on, ensure, text};

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "tls::every_sslmode_client_certificates_environment_and_password_file",
        || block_on(every_mode()),
    )]
}

/// The test password; it holds a space and a colon, which both forms must carry.
const PASSWORD: &str = "s3cret pa:ss";

/// A cluster listening on 127.0.0.1 with TLS only (plain TCP is refused by pg_hba).
struct TlsCluster {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    run_as: Option<(u32, u32)>,
    port: u16,
}

impl TlsCluster {
    fn start() -> TlsCluster {
        let bindir = schemadiff::shadow::find_bindir().expect("PostgreSQL server binaries");
        let dir = tempfile::Builder::new().prefix("schemadiff-tls-").tempdir().unwrap();
        let run_as = nix::unistd::geteuid().is_root().then(|| {
            let user = nix::unistd::User::from_name("postgres").unwrap().expect("a postgres user");
            (user.uid.as_raw(), user.gid.as_raw())
        });
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = TlsCluster { dir, bindir, run_as, port };
        let certs = cluster.dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        make_certificates(&certs);
        cluster.hand_over(cluster.dir.path());
        let data = cluster.dir.path().join("data");
        cluster.run(
            "initdb",
            &["-D", data.to_str().unwrap(), "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostnossl all all 127.0.0.1/32 reject\n\
             hostssl all certuser 127.0.0.1/32 cert\n\
             hostssl all pwuser 127.0.0.1/32 scram-sha-256\n\
             hostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let c = |f: &str| certs.join(f).display().to_string();
        let options = format!(
            "-k {} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on \
             -c ssl_cert_file={} -c ssl_key_file={} -c ssl_ca_file={}",
            cluster.dir.path().display(),
            c("server.crt"),
            c("server.key"),
            c("ca.crt"),
        );
        let log = cluster.dir.path().join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        cluster
    }

    fn hand_over(&self, path: &Path) {
        if let Some((uid, gid)) = self.run_as {
            for entry in walk(path) {
                std::os::unix::fs::chown(&entry, Some(uid), Some(gid)).unwrap();
            }
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.args(args).current_dir(self.dir.path());
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{program}: {}", text(&out));
    }

    fn cert(&self, file: &str) -> String {
        self.dir.path().join("certs").join(file).display().to_string()
    }

    fn url(&self, host: &str, rest: &str) -> String {
        format!("host={host} port={} dbname=postgres {rest}", self.port)
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut cmd = Command::new(self.bindir.join("pg_ctl"));
        cmd.args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"]);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let _ = cmd.output();
    }
}

fn walk(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            out.extend(walk(&entry.path()));
        }
    }
    out
}

/// A CA; a server certificate for `localhost` it signs; a client certificate for
/// `certuser`; and a second CA that signs nothing here.
fn make_certificates(dir: &Path) {
    let write = |name: &str, pem: String| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    let ca_params = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params
    };
    let ca =
        CertifiedIssuer::self_signed(ca_params("schemadiff test CA"), KeyPair::generate().unwrap())
            .unwrap();
    write("ca.crt", ca.pem());
    let other = CertifiedIssuer::self_signed(ca_params("another CA"), KeyPair::generate().unwrap())
        .unwrap();
    write("other-ca.crt", other.pem());
    for (name, subject, sans) in
        [("server", "localhost", vec!["localhost".to_string()]), ("client", "certuser", vec![])]
    {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(DnType::CommonName, subject);
        let cert = params.signed_by(&key, &ca).unwrap();
        write(&format!("{name}.crt"), cert.pem());
        write(&format!("{name}.key"), key.serialize_pem());
    }
}

async fn encrypted(url: &str) -> Result<bool, String> {
    let client = schemadiff::connect::connect_url(url).await.map_err(|e| e.to_string())?;
    let row = client
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

async fn every_mode() -> Result<(), Failed> {
    let cluster = TlsCluster::start();
    let root = format!("sslrootcert={}", cluster.cert("ca.crt"));
    // Over TCP the server takes only TLS.
    let plain = encrypted(&cluster.url("127.0.0.1", "user=postgres sslmode=disable")).await;
    ensure(
        plain.as_ref().is_err_and(|e| e.contains("no encryption")),
        format!("sslmode=disable reaches a TLS-only server: {plain:?}"),
    )?;
    for mode in ["prefer", "require", "allow"] {
        let got =
            encrypted(&cluster.url("127.0.0.1", &format!("user=postgres sslmode={mode}"))).await;
        ensure(got == Ok(true), format!("sslmode={mode}: {got:?}"))?;
    }
    // verify-ca checks the chain, not the name: 127.0.0.1 is not in the certificate.
    let got =
        encrypted(&cluster.url("127.0.0.1", &format!("user=postgres sslmode=verify-ca {root}")))
            .await;
    ensure(got == Ok(true), format!("verify-ca: {got:?}"))?;
    let other = format!("sslrootcert={}", cluster.cert("other-ca.crt"));
    let got =
        encrypted(&cluster.url("127.0.0.1", &format!("user=postgres sslmode=verify-ca {other}")))
            .await;
    ensure(
        got.as_ref().is_err_and(|e| e.contains("UnknownIssuer")),
        format!("verify-ca, another CA: {got:?}"),
    )?;
    let got = encrypted(
        &cluster
            .url("127.0.0.1", "user=postgres sslmode=verify-ca sslrootcert=/nonexistent/root.crt"),
    )
    .await;
    ensure(
        got.as_ref().is_err_and(|e| e.contains("sslrootcert")),
        format!("verify-ca, no root: {got:?}"),
    )?;
    // verify-full also checks the name.
    let got =
        encrypted(&cluster.url("localhost", &format!("user=postgres sslmode=verify-full {root}")))
            .await;
    ensure(got == Ok(true), format!("verify-full: {got:?}"))?;
    let got =
        encrypted(&cluster.url("127.0.0.1", &format!("user=postgres sslmode=verify-full {root}")))
            .await;
    ensure(
        got.as_ref().is_err_and(|e| e.contains("not valid for name")),
        format!("verify-full, wrong name: {got:?}"),
    )?;
    // A client certificate is the login for `cert` authentication.
    let admin = schemadiff::connect::connect_url(
        &cluster.url("localhost", &format!("user=postgres sslmode=verify-full {root}")),
    )
    .await?;
    admin
        .batch_execute(&format!(
            "CREATE ROLE certuser LOGIN; CREATE ROLE pwuser LOGIN PASSWORD '{}'; \
             GRANT CREATE ON SCHEMA public TO pwuser",
            PASSWORD.replace('\'', "''")
        ))
        .await?;
    let with_cert = format!(
        "user=certuser sslmode=verify-full {root} sslcert={} sslkey={}",
        cluster.cert("client.crt"),
        cluster.cert("client.key")
    );
    let got = encrypted(&cluster.url("localhost", &with_cert)).await;
    ensure(got == Ok(true), format!("client certificate: {got:?}"))?;
    let got =
        encrypted(&cluster.url("localhost", &format!("user=certuser sslmode=verify-full {root}")))
            .await;
    ensure(got.is_err(), "certuser got in without a certificate")?;
    // Who the server sees.
    let name: String = admin
        .query_one(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?
        .get(0);
    ensure(name == "schemadiff", format!("application_name is {name:?}"))?;

    // The CLI end to end: the PG* variables and a password file fill in a bare string, and
    // `apply` records its history over TLS; no password is printed on failure.
    let work = Workdir::new();
    std::fs::create_dir_all(work.migrations_dir()).unwrap();
    std::fs::write(work.migrations_dir().join("001_init.up.sql"), "CREATE TABLE t (id int);\n")
        .unwrap();
    std::fs::write(work.migrations_dir().join("001_init.down.sql"), "DROP TABLE t;\n").unwrap();
    let sum = schemadiff::migrations::read_dir(&work.migrations_dir()).unwrap();
    std::fs::write(
        work.migrations_dir().join("schemadiff.sum"),
        schemadiff::migrations::sum_text(&sum),
    )
    .unwrap();
    let passfile = work.path().join("pgpass");
    std::fs::write(
        &passfile,
        format!("localhost:{}:postgres:pwuser:{}\n", cluster.port, PASSWORD.replace(':', "\\:")),
    )
    .unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cli = |args: &[&str], password_env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_schemadiff"));
        cmd.args(args)
            .current_dir(work.path())
            .env_remove("DATABASE_URL")
            .env("PGHOST", "localhost")
            .env("PGPORT", cluster.port.to_string())
            .env("PGUSER", "pwuser")
            .env("PGSSLMODE", "verify-full")
            .env("PGSSLROOTCERT", cluster.cert("ca.crt"))
            .env("PGPASSFILE", &passfile);
        if let Some(p) = password_env {
            cmd.env("PGPASSWORD", p);
        }
        cmd.output().unwrap()
    };
    let out = cli(&["apply", "--database-url", "dbname=postgres"], None);
    ensure(out.status.success(), format!("apply over TLS with the password file: {}", text(&out)))?;
    let applied: i64 = admin
        .query_one(
            "SELECT count(*) FROM public.schemadiff_migrations WHERE status = 'applied'",
            &[],
        )
        .await?
        .get(0);
    ensure(applied == 1, format!("{applied} migrations recorded"))?;
    let out = cli(&["status", "--database-url", "dbname=postgres password=wrong\\ guess"], None);
    let shown = text(&out);
    ensure(!out.status.success(), "a wrong password connected")?;
    ensure(
        shown.contains("password authentication failed")
            && !shown.contains("wrong")
            && !shown.contains("guess"),
        format!("the wrong password's error: {shown}"),
    )?;
    let out = cli(&["status", "--database-url", "dbname=postgres"], Some("wrong guess"));
    ensure(!out.status.success(), "PGPASSWORD was not used (it comes before the password file)")?;
    Ok(())
}
