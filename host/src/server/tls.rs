//! TLS for `--tls-cert`/`--tls-key`: the PEM files loaded and checked once
//! at start-up (rustls with the `ring` provider), ALPN `h2` and `http/1.1`.
//!
//! Every way the files can be wrong stops start-up with a [`TlsError`] that
//! names the file and the problem.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The ALPN protocols offered, in order of preference. A client that offers
/// neither fails the handshake (`no_application_protocol`); one that offers
/// none gets HTTP/2, as with prior knowledge.
pub const ALPN: &[&[u8]] = &[b"h2", HTTP1];

/// The ALPN name of HTTP/1.1.
pub const HTTP1: &[u8] = b"http/1.1";

/// Why the certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file is missing or unreadable.
    #[error("cannot read {what} {}: {error}", path.display())]
    Read {
        /// "certificate" or "private key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The IO error.
        error: std::io::Error,
    },
    /// The file is not valid PEM, or holds no item of the kind needed.
    #[error("{} is not a PEM {what}: {reason}", path.display())]
    Malformed {
        /// "certificate" or "private key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the parser found.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error("the private key in {} does not match the certificate in {}", key.display(), cert.display())]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the pair for another reason (e.g. an unsupported key type).
    #[error("{} / {}: {reason}", cert.display(), key.display())]
    Rejected {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Read {
        what,
        path: path.to_owned(),
        error,
    })
}

/// Loads a certificate chain (leaf first) and its private key, both PEM.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let malformed = |what, path: &Path, reason: String| TlsError::Malformed {
        what,
        path: path.to_owned(),
        reason,
    };
    let cert_pem = read("certificate", cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| malformed("certificate", cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(malformed("certificate", cert, "no CERTIFICATE block found".into()));
    }
    let key_pem = read("private key", key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let reason = match e {
            rustls_pki_types::pem::Error::NoItemsFound => "no PRIVATE KEY block found".to_string(),
            e => e.to_string(),
        };
        malformed("private key", key, reason)
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key_der))
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::Mismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
            },
            e => TlsError::Rejected {
                cert: cert.to_owned(),
                key: key.to_owned(),
                reason: e.to_string(),
            },
        })?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
