//! Opening connections as libpq would: the connection string, the `PG*` environment, the
//! password file and TLS by `sslmode`; no message ever shows a password.

pub mod conninfo;
mod tls;

use std::str::FromStr;

use tokio_postgres::{Client, Config, NoTls};

pub use conninfo::{ConnInfo, Secret};
pub use tls::SslMode;

use crate::error::{Error, Result, describe_db_error};

/// Who the server sees connecting, unless the string or `PGAPPNAME` names another.
pub const APPLICATION_NAME: &str = "schemadiff";

/// The keywords schemadiff reads itself (TLS and the password file); tokio-postgres is given
/// the others.
const OURS: &[&str] =
    &["passfile", "sslmode", "sslrootcert", "sslcert", "sslkey", "fallback_application_name"];

/// Reads a connection string; the error never quotes it.
pub fn parse(text: &str) -> Result<ConnInfo> {
    ConnInfo::parse(text).map_err(|e| Error::Connect {
        url: "the connection string".into(),
        cause: format!("not a valid connection string: {}", e.0),
    })
}

/// Connects with a libpq URL or key=value string and drives the connection in the background.
pub async fn connect_url(url: &str) -> Result<Client> {
    connect_info(&parse(url)?).await
}

/// Connects as libpq would with `info`, TLS as its `sslmode` asks.
pub async fn connect_info(info: &ConnInfo) -> Result<Client> {
    let full = info.completed();
    let failed = |cause: String| Error::Connect { url: full.to_string(), cause };
    let (config, mode) = tokio_config(&full).map_err(failed)?;
    let tls = tls::connector(&full, mode).map_err(failed)?;
    let (client, connection) =
        config.connect(tls.clone()).await.map_err(|e| failed(describe_db_error(&e)))?;
    let id = crate::interrupt::opened(client.cancel_token(), Some(tls));
    tokio::spawn(async move {
        let _ = connection.await;
        crate::interrupt::closed(id);
    });
    Ok(client)
}

/// The tokio-postgres configuration of a completed string, and the `sslmode` asked for.
fn tokio_config(info: &ConnInfo) -> std::result::Result<(Config, SslMode), String> {
    let quoted = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut text: Vec<String> = (conninfo::KEYWORDS.iter())
        .filter(|key| !OURS.contains(key))
        .filter_map(|key| info.get(key).map(|value| format!("{key}={}", quoted(value))))
        .collect();
    if info.get("application_name").is_none() {
        let name = info.get("fallback_application_name").unwrap_or(APPLICATION_NAME);
        text.push(format!("application_name={}", quoted(name)));
    }
    let mut config = Config::from_str(&text.join(" ")).map_err(|e| e.to_string())?;
    let mode = SslMode::parse(info.get("sslmode").unwrap_or("prefer"))?;
    // libpq never uses TLS on a Unix socket, whatever sslmode says.
    let all_sockets = info.hosts().iter().all(|(host, _)| host.starts_with('/'));
    config.ssl_mode(if all_sockets { SslMode::Disable.wire() } else { mode.wire() });
    Ok((config, mode))
}

/// Connects with a parsed configuration and no TLS (the ephemeral cluster's socket);
/// `shown_as` names it in errors.
pub async fn connect(config: &Config, shown_as: &str) -> Result<Client> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| Error::Connect { url: shown_as.to_string(), cause: describe_db_error(&e) })?;
    let id = crate::interrupt::opened(client.cancel_token(), None);
    tokio::spawn(async move {
        let _ = connection.await;
        crate::interrupt::closed(id);
    });
    Ok(client)
}
