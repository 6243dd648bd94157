//! Opening connections, and showing connection strings without their passwords.

use std::str::FromStr;

use tokio_postgres::{Client, Config, NoTls};

use crate::error::{Error, Result, describe_db_error};

/// Connects with a libpq URL or key=value string and drives the connection in the background.
pub async fn connect_url(url: &str) -> Result<Client> {
    let config = Config::from_str(url).map_err(|e| Error::Connect {
        url: redact(url),
        cause: format!("not a valid connection string: {e}"),
    })?;
    connect(&config, &redact(url)).await
}

/// Connects with a parsed configuration; `shown_as` names it in errors.
pub async fn connect(config: &Config, shown_as: &str) -> Result<Client> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| Error::Connect { url: shown_as.to_string(), cause: describe_db_error(&e) })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The same URL with the password replaced by `****`, in URL or key=value form.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    // In a URL the user info runs to the last '@': a password may hold '/', '?' or '@'.
    if let (Some(scheme), Some(at)) = (out.find("://"), out.rfind('@')) {
        let start = scheme + 3;
        if at > start
            && let Some(colon) = out[start..at].find(':')
        {
            out.replace_range(start + colon + 1..at, "****");
        }
    }
    let key_password =
        regex::Regex::new(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)").unwrap();
    key_password.replace_all(&out, "${1}****").into_owned()
}

/// The same connection string pointed at another database.
pub fn with_database(url: &str, database: &str) -> Result<Config> {
    let mut config = Config::from_str(url).map_err(|e| Error::Connect {
        url: redact(url),
        cause: format!("not a valid connection string: {e}"),
    })?;
    config.dbname(database);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden_in_every_form() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/crm"), "postgres://app:****@db:5432/crm");
        assert_eq!(redact("host=db password=s3cret user=app"), "host=db password=**** user=app");
        assert_eq!(
            redact("postgresql://app@/crm?host=/tmp&password=s3cret"),
            "postgresql://app@/crm?host=/tmp&password=****"
        );
        assert_eq!(redact("postgres://app@db/crm"), "postgres://app@db/crm");
        assert_eq!(
            redact("postgresql://app:ab/c+d==@/crm?host=/tmp"),
            "postgresql://app:****@/crm?host=/tmp"
        );
        assert_eq!(redact("postgres://app:a?b@c@db/crm"), "postgres://app:****@db/crm");
        assert_eq!(redact("host=db password='it s' user=app"), "host=db password=**** user=app");
    }
}
