//! The admin port's access rule: `/metrics` needs `authorization: Bearer
//! <token>` when a token is set (`--admin-token-file`, `admin_token_file`),
//! compared in constant time; an admin listener off loopback needs a token
//! or a deliberate `--admin-insecure`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use http::HeaderValue;
use subtle::ConstantTimeEq;

/// The bearer token `/metrics` asks for. Its `Debug` never shows it.
pub struct AdminToken {
    /// `Bearer <token>`: what the `authorization` header must be.
    expected: Vec<u8>,
}

/// Why a token file gives no token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file cannot be read.
    #[error("cannot read the admin token file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no token.
    #[error("the admin token file {path} is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The token is not one line of visible ASCII.
    #[error("the admin token file {path} holds more than one line, or characters a header cannot carry")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
}

impl AdminToken {
    /// The token in `path`: its one line, without the line ending.
    pub fn read(path: &Path) -> Result<AdminToken, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.to_owned(),
            source,
        })?;
        let token = text.strip_suffix('\n').unwrap_or(&text);
        let token = token.strip_suffix('\r').unwrap_or(token);
        if token.is_empty() {
            return Err(TokenError::Empty { path: path.to_owned() });
        }
        // Visible ASCII only (RFC 6750's token68 and then some): what a
        // client can send in a header unchanged.
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::Malformed { path: path.to_owned() });
        }
        Ok(AdminToken {
            expected: format!("Bearer {token}").into_bytes(),
        })
    }

    /// Whether `authorization` carries the token (constant time in the
    /// token's bytes).
    pub fn allows(&self, authorization: Option<&HeaderValue>) -> bool {
        authorization.is_some_and(|given| bool::from(given.as_bytes().ct_eq(&self.expected)))
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// Refuses an admin listener on a non-loopback `addr` with no token unless
/// `insecure`: the one line says how to set one.
pub fn check_exposure(addr: SocketAddr, token: bool, insecure: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || token || insecure {
        return Ok(());
    }
    Err(format!(
        "--admin-listen {addr} is not a loopback address and /metrics would be open to anyone who reaches it: \
         set --admin-token-file PATH (or admin_token_file in the hosting file), \
         or pass --admin-insecure to serve it without a token"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str) -> Result<AdminToken, TokenError> {
        let path = std::env::temp_dir().join(format!("push-host-token-{}-{}", std::process::id(), text.len()));
        std::fs::write(&path, text).unwrap();
        let token = AdminToken::read(&path);
        std::fs::remove_file(&path).unwrap();
        token
    }

    #[test]
    fn only_the_exact_bearer_token_is_allowed() {
        let t = token("s3cret\n").unwrap();
        assert!(t.allows(Some(&HeaderValue::from_static("Bearer s3cret"))));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret ",
            "bearer s3cret",
            "s3cret",
            "Bearer s3cres",
            "",
        ] {
            assert!(!t.allows(Some(&HeaderValue::from_static(wrong))), "{wrong:?}");
        }
        assert!(!t.allows(None));
        assert_eq!(format!("{t:?}"), "AdminToken(..)");
    }

    #[test]
    fn empty_or_multi_line_token_files_are_refused() {
        assert!(matches!(token("\n"), Err(TokenError::Empty { .. })));
        assert!(matches!(token("a\nb\n"), Err(TokenError::Malformed { .. })));
        assert!(matches!(token("a b"), Err(TokenError::Malformed { .. })));
    }

    #[test]
    fn off_loopback_needs_a_token_or_insecure() {
        let public: SocketAddr = "0.0.0.0:9090".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:9090".parse().unwrap();
        assert!(check_exposure(local, false, false).is_ok());
        assert!(check_exposure(public, true, false).is_ok());
        assert!(check_exposure(public, false, true).is_ok());
        let refused = check_exposure(public, false, false).unwrap_err();
        assert!(refused.contains("--admin-token-file"), "{refused}");
    }
}
