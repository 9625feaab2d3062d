//! A throwaway PKI for TLS tests, made at test time with `rcgen`: a CA and
//! a certificate it signed for `localhost` and 127.0.0.1.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use super::Host;

/// A test CA and a certificate for `localhost` and 127.0.0.1 it signed,
/// written as PEM files in a fresh directory.
pub struct Pki {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The CA certificate.
    pub ca: PathBuf,
    /// The leaf's chain (leaf, then CA).
    pub cert: PathBuf,
    /// The leaf's private key.
    pub key: PathBuf,
}

impl Pki {
    /// Makes the CA and certificate under a directory named after `name`.
    pub fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("push-host-tls-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "push-host test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let pki = Pki {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            dir,
        };
        std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
        // The chain: leaf first, then the CA.
        std::fs::write(&pki.cert, format!("{}{}", leaf.pem(), ca_cert.pem())).unwrap();
        std::fs::write(&pki.key, leaf_key.serialize_pem()).unwrap();
        pki
    }

    /// Writes `contents` to a file `name` in the directory.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Starts push-host on `module` with this certificate and key.
    pub fn start(&self, module: &Path) -> Host {
        self.start_with(module, &[])
    }

    /// Like [`Pki::start`], with `extra` flags.
    pub fn start_with(&self, module: &Path, extra: &[&str]) -> Host {
        let mut args = vec![
            "--tls-cert",
            self.cert.to_str().unwrap(),
            "--tls-key",
            self.key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Host::start(module, &args)
    }
}
