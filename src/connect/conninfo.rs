//! Connection strings as libpq reads them: a `postgresql://` URL or `key=value` pairs, with
//! the `PG*` environment variables and the password file filling in what the string leaves
//! out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// A value that must not reach output: `Debug` and `Display` show `****`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

/// The keywords libpq reads that schemadiff passes on; others are refused, as libpq does.
pub(crate) const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslnegotiation",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "channel_binding",
    "keepalives",
    "keepalives_idle",
    "load_balance_hosts",
];

/// libpq's environment variable for each keyword it reads from the environment.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("hostaddr", "PGHOSTADDR"),
    ("port", "PGPORT"),
    ("dbname", "PGDATABASE"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("passfile", "PGPASSFILE"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("sslcert", "PGSSLCERT"),
    ("sslkey", "PGSSLKEY"),
    ("sslnegotiation", "PGSSLNEGOTIATION"),
    ("application_name", "PGAPPNAME"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("options", "PGOPTIONS"),
    ("target_session_attrs", "PGTARGETSESSIONATTRS"),
    ("channel_binding", "PGCHANNELBINDING"),
    ("load_balance_hosts", "PGLOADBALANCEHOSTS"),
];

/// A parsed connection string. The password is a `Secret`; `Display` shows the string
/// without it, so a `ConnInfo` can be named in any message.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnInfo {
    params: BTreeMap<String, String>,
    password: Option<Secret>,
}

impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnInfo({self})")
    }
}

/// Why a connection string could not be read; it never quotes the string (a password may be
/// in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ConnInfo {
    /// Reads a URL (`postgres://` or `postgresql://`) or `key=value` pairs, as given.
    pub fn parse(text: &str) -> Result<ConnInfo, ParseError> {
        let text = text.trim();
        let pairs = match text.split_once("://") {
            Some(("postgres" | "postgresql", rest)) => parse_url(rest)?,
            Some((scheme, _)) if !scheme.contains(['=', ' ']) => {
                return Err(ParseError(format!(
                    "the URL scheme `{scheme}` is not postgres:// or postgresql://"
                )));
            }
            _ => parse_pairs(text)?,
        };
        let mut info = ConnInfo { params: BTreeMap::new(), password: None };
        for (key, value) in pairs {
            info.set(&key, value)?;
        }
        Ok(info)
    }

    fn set(&mut self, key: &str, value: String) -> Result<(), ParseError> {
        if !KEYWORDS.contains(&key) {
            return Err(ParseError(format!("`{key}` is not a connection option schemadiff reads")));
        }
        if key == "password" {
            self.password = Some(Secret(value));
        } else {
            self.params.insert(key.to_string(), value);
        }
        Ok(())
    }

    /// What the string leaves out, filled in as libpq does: the `PG*` environment variables,
    /// then a password from the password file, then the defaults.
    pub fn completed(&self) -> ConnInfo {
        self.completed_from(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn completed_from(&self, env: &dyn Fn(&str) -> Option<String>) -> ConnInfo {
        let mut info = self.clone();
        for (key, var) in ENVIRONMENT {
            if info.get(key).is_none()
                && let Some(value) = env(var)
            {
                let _ = info.set(key, value);
            }
        }
        let port = info.get("port").unwrap_or("5432").to_string();
        if info.get("host").is_none() && info.get("hostaddr").is_none() {
            info.params.insert("host".into(), default_host(&port));
        }
        if info.get("user").is_none() {
            info.params.insert("user".into(), os_user());
        }
        if info.get("dbname").is_none() {
            let user = info.params["user"].clone();
            info.params.insert("dbname".into(), user);
        }
        if info.password.is_none() {
            let file = info
                .get("passfile")
                .map(PathBuf::from)
                .or_else(|| home().map(|h| h.join(".pgpass")));
            if let Some(file) = file {
                info.password = password_from_file(&file, &info).map(Secret);
            }
        }
        info
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        if key == "password" {
            return self.password.as_ref().map(Secret::expose);
        }
        self.params.get(key).map(String::as_str)
    }

    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    /// The same string pointed at another database.
    pub fn with_database(&self, database: &str) -> ConnInfo {
        let mut info = self.clone();
        info.params.insert("dbname".into(), database.to_string());
        info
    }

    /// The same string with one option set.
    pub fn with(&self, key: &str, value: &str) -> ConnInfo {
        let mut info = self.clone();
        let _ = info.set(key, value.to_string());
        info
    }

    /// The hosts, each with its port (libpq pairs the lists, or uses one port for all).
    pub fn hosts(&self) -> Vec<(String, u16)> {
        let hosts: Vec<&str> =
            self.get("host").or(self.get("hostaddr")).unwrap_or("").split(',').collect();
        let ports: Vec<u16> = self
            .get("port")
            .unwrap_or("5432")
            .split(',')
            .map(|p| p.trim().parse().unwrap_or(5432))
            .collect();
        hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), *ports.get(i).or(ports.last()).unwrap_or(&5432)))
            .collect()
    }
}

/// The string as `key=value` pairs without the password, quoted where libpq needs it.
impl std::fmt::Display for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (key, value) in &self.params {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            if value.is_empty() || value.contains([' ', '\'', '\\']) {
                write!(f, "{key}='{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))?;
            } else {
                write!(f, "{key}={value}")?;
            }
        }
        if self.password.is_some() {
            f.write_str(if first { "password=****" } else { " password=****" })?;
        }
        Ok(())
    }
}

/// `key = value` pairs; a value is single-quoted or runs to the next space, and a backslash
/// takes the next character as it is in both.
fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(ParseError(format!("`{key}` is missing `=` and a value")));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(ParseError(format!(
                            "the value of `{key}` has no closing quote"
                        )));
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// `[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`, percent-decoded.
fn parse_url(rest: &str) -> Result<Vec<(String, String)>, ParseError> {
    let decode = |s: &str| -> Result<String, ParseError> {
        percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| ParseError("a percent-encoded part of the URL is not UTF-8".into()))
    };
    let mut pairs = Vec::new();
    // As libpq: the user part ends at the first '@' before any '/'.
    let (userinfo, rest) = match rest.find(['@', '/']) {
        Some(at) if rest.as_bytes()[at] == b'@' => (Some(&rest[..at]), &rest[at + 1..]),
        _ => (None, rest),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            pairs.push(("user".into(), decode(user)?));
        }
        if let Some(p) = password {
            pairs.push(("password".into(), decode(p)?));
        }
    }
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (hostspec, dbname) = match before_query.split_once('/') {
        Some((h, d)) => (h, Some(d)),
        None => (before_query, None),
    };
    if !hostspec.is_empty() {
        let (mut hosts, mut ports) = (Vec::new(), Vec::new());
        for spec in hostspec.split(',') {
            let (host, port) = if let Some(inner) = spec.strip_prefix('[') {
                let (h, after) = inner.split_once(']').ok_or_else(|| {
                    ParseError("an IPv6 address in the URL has no closing `]`".into())
                })?;
                (h, after.strip_prefix(':'))
            } else {
                match spec.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (spec, None),
                }
            };
            hosts.push(decode(host)?);
            ports.push(port.unwrap_or("").to_string());
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            pairs.push(("host".into(), hosts.join(",")));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            let ports: Vec<&str> =
                ports.iter().map(|p| if p.is_empty() { "5432" } else { p }).collect();
            pairs.push(("port".into(), ports.join(",")));
        }
    }
    if let Some(db) = dbname.filter(|d| !d.is_empty()) {
        pairs.push(("dbname".into(), decode(db)?));
    }
    for param in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').ok_or_else(|| {
            ParseError(format!(
                "the URL parameter `{}` has no value",
                decode(param).unwrap_or_default()
            ))
        })?;
        pairs.push((decode(key)?, decode(value)?));
    }
    Ok(pairs)
}

/// libpq's default: the socket directory when a server listens there, else `localhost`.
fn default_host(port: &str) -> String {
    let port = port.split(',').next().unwrap_or("5432");
    ["/var/run/postgresql", "/tmp"]
        .iter()
        .find(|dir| Path::new(dir).join(format!(".s.PGSQL.{port}")).exists())
        .map_or_else(|| "localhost".to_string(), |dir| dir.to_string())
}

fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "postgres".into())
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The password file's line for this host, port, database and user (`*` matches anything),
/// as libpq reads it; a file others may read is ignored, as libpq does.
fn password_from_file(file: &Path, info: &ConnInfo) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let (host, port) = info.hosts().into_iter().next()?;
    // A socket in the default directory is `localhost` to the password file.
    let host = if host.is_empty() || host == "/var/run/postgresql" || host == "/tmp" {
        "localhost".to_string()
    } else {
        host
    };
    let wanted =
        [host, port.to_string(), info.get("dbname")?.to_string(), info.get("user")?.to_string()];
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|line| {
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            return None;
        }
        let matches = wanted.iter().zip(&fields).all(|(want, field)| field == "*" || field == want);
        matches.then(|| fields[4..].join(":"))
    })
}

/// A password-file line split at unescaped `:`, with `\:` and `\\` read as the character.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> String {
        ConnInfo::parse(text).unwrap().to_string()
    }

    #[test]
    fn urls_and_pairs_read_alike() {
        let url =
            ConnInfo::parse("postgresql://app:s%40cret@db.example.com:6432/crm?sslmode=require")
                .unwrap();
        let pairs = ConnInfo::parse(
            "host=db.example.com port=6432 dbname=crm user=app password=s@cret sslmode=require",
        )
        .unwrap();
        assert_eq!(url, pairs);
        assert_eq!(url.get("password"), Some("s@cret"));
        let socket =
            ConnInfo::parse("postgresql://postgres@/crm?host=/tmp/sock&port=5433").unwrap();
        assert_eq!(socket.hosts(), vec![("/tmp/sock".to_string(), 5433)]);
        let many = ConnInfo::parse("postgresql://a:1,b,[::1]:3/x").unwrap();
        assert_eq!(many.get("host"), Some("a,b,::1"));
        assert_eq!(many.get("port"), Some("1,5432,3"));
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            shown("postgres://app:s3cret@db:5432/crm"),
            "dbname=crm host=db port=5432 user=app password=****"
        );
        assert_eq!(shown("host=db password=it\\ s user=app"), "host=db user=app password=****");
        assert_eq!(shown("host=db password='it s' user=app"), "host=db user=app password=****");
        assert_eq!(
            shown("postgresql://app@/crm?host=/tmp&password=s3cret"),
            "dbname=crm host=/tmp user=app password=****"
        );
        let info = ConnInfo::parse("password='a b\\'c'").unwrap();
        assert_eq!(info.get("password"), Some("a b'c"));
        assert!(!format!("{info:?}").contains("a b"));
        assert_eq!(format!("{:?}", Secret::new("x")), "****");
    }

    #[test]
    fn bad_strings_are_refused_without_quoting_them() {
        let err = ConnInfo::parse("host=db password=s3cret sslmod=require").unwrap_err();
        assert_eq!(err.0, "`sslmod` is not a connection option schemadiff reads");
        let err = ConnInfo::parse("host=db password='s3cret").unwrap_err();
        assert!(!err.0.contains("s3cret"), "{}", err.0);
        assert!(ConnInfo::parse("mysql://x@y/z").is_err());
    }

    #[test]
    fn the_environment_fills_in_what_the_string_leaves_out() {
        let env = |name: &str| match name {
            "PGHOST" => Some("envhost".to_string()),
            "PGUSER" => Some("envuser".to_string()),
            "PGSSLMODE" => Some("verify-full".to_string()),
            "PGPASSFILE" => Some("/nonexistent".to_string()),
            _ => None,
        };
        let info = ConnInfo::parse("dbname=crm user=app").unwrap().completed_from(&env);
        assert_eq!(info.get("host"), Some("envhost"));
        assert_eq!(info.get("user"), Some("app"));
        assert_eq!(info.get("sslmode"), Some("verify-full"));
        assert_eq!(info.get("dbname"), Some("crm"));
    }

    #[test]
    fn the_password_file_matches_like_libpq() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:*:*:*:no\ndb:5432:crm:app:pa\\:ss\n*:*:*:app:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let passfile = file.display().to_string();
        let env = |name: &str| (name == "PGPASSFILE").then(|| passfile.clone());
        let info = ConnInfo::parse("host=db dbname=crm user=app").unwrap().completed_from(&env);
        assert_eq!(info.get("password"), Some("pa:ss"));
        let info =
            ConnInfo::parse("host=elsewhere dbname=crm user=app").unwrap().completed_from(&env);
        assert_eq!(info.get("password"), Some("fallback"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let info = ConnInfo::parse("host=db dbname=crm user=app").unwrap().completed_from(&env);
        assert_eq!(info.get("password"), None, "a file others can read is ignored");
    }
}
