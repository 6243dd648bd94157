//! TLS as libpq's `sslmode` asks for it, through rustls.
//!
//! `prefer` and `require` encrypt without checking who answers (unless a root certificate
//! file is there, when `require` checks it as `verify-ca` does, as libpq does for backward
//! compatibility); `verify-ca` checks the chain against `sslrootcert`; `verify-full` checks
//! the chain and that the certificate names the host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conninfo::ConnInfo;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(value: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }

    /// What tokio-postgres asks of the server. `allow` tries TLS first, like `prefer`: the
    /// one difference from libpq, which tries without first.
    pub fn wire(self) -> WireMode {
        match self {
            SslMode::Disable => WireMode::Disable,
            SslMode::Allow | SslMode::Prefer => WireMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireMode::Require,
        }
    }
}

/// The rustls client for a completed connection string.
pub fn connector(info: &ConnInfo, mode: SslMode) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let postgresql_dir = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".postgresql"));
    let default_file =
        |name: &str| postgresql_dir.as_ref().map(|d| d.join(name)).filter(|p| p.exists());
    let root_file = match info.get("sslrootcert") {
        Some(given) => Some(PathBuf::from(given)),
        None => default_file("root.crt"),
    };
    let check = match mode {
        SslMode::VerifyFull => Check::Full,
        SslMode::VerifyCa => Check::Chain,
        SslMode::Require if root_file.is_some() => Check::Chain,
        _ => Check::Nothing,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Nothing => Arc::new(AcceptAnyServer(provider.signature_verification_algorithms)),
        Check::Chain | Check::Full => {
            let roots = roots(root_file.as_deref(), mode)?;
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| e.to_string())?;
            if check == Check::Full { webpki } else { Arc::new(ChainOnly(webpki)) }
        }
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let cert_file =
        info.get("sslcert").map(PathBuf::from).or_else(|| default_file("postgresql.crt"));
    let config = match cert_file {
        Some(cert_file) => {
            let key_file = info
                .get("sslkey")
                .map(PathBuf::from)
                .or_else(|| default_file("postgresql.key"))
                .ok_or("sslcert is set but sslkey is not: the client certificate needs its key")?;
            let certs = CertificateDer::pem_file_iter(&cert_file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!("cannot read the client certificate {}: {e}", cert_file.display())
                })?;
            let key = PrivateKeyDer::from_pem_file(&key_file)
                .map_err(|e| format!("cannot read the client key {}: {e}", key_file.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("the client certificate: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

#[derive(PartialEq)]
enum Check {
    Nothing,
    Chain,
    Full,
}

/// The certificates to trust: `sslrootcert`'s file, or the system's with `sslrootcert=system`.
fn roots(file: Option<&Path>, mode: SslMode) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let Some(file) = file else {
        return Err(format!(
            "sslmode={} needs the certificate of the authority that signed the server's: set sslrootcert to its file (or to `system` for the system's trusted roots), or place it in ~/.postgresql/root.crt",
            if mode == SslMode::VerifyFull { "verify-full" } else { "verify-ca" }
        ));
    };
    if file == Path::new("system") {
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            return Err("sslrootcert=system: the system has no trusted root certificates".into());
        }
        return Ok(roots);
    }
    let certs = CertificateDer::pem_file_iter(file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read sslrootcert {}: {e}", file.display()))?;
    let (_, unreadable) = roots.add_parsable_certificates(certs);
    if roots.is_empty() {
        return Err(format!(
            "sslrootcert {} holds no certificate rustls can use ({unreadable} unreadable)",
            file.display()
        ));
    }
    Ok(roots)
}

/// `verify-ca`: the chain must lead to a trusted root; the name in it is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The name is checked last, after the chain: a name error means the chain held.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require`: any certificate, as libpq; the handshake is still checked.
#[derive(Debug)]
struct AcceptAnyServer(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
