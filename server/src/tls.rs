//! Optional HTTPS: a certificate and its private key from PEM files, served through rustls with
//! the ring crypto provider (aws-lc-rs would need cmake to build). Browsers keep `Secure`
//! cookies only over HTTPS (WebKitGTK even on loopback), so this also serves local tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// The PEM files to serve HTTPS with.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// The certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// Reads both files into a rustls server configuration. Every error names the file, so a
    /// wrong path or a swapped pair is told apart at start-up.
    pub fn load(&self) -> Result<Arc<ServerConfig>, String> {
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| pem_error("certificate", &self.cert, e))?;
        if certs.is_empty() {
            return Err(pem_error(
                "certificate",
                &self.cert,
                pem::Error::NoItemsFound,
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| pem_error("private key", &self.key, e))?;
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("cannot set up TLS: {e}"))?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .map_err(|e| {
                    format!(
                        "the TLS certificate {} and key {} do not fit together: {e}",
                        self.cert.display(),
                        self.key.display()
                    )
                })?;
        // Offer HTTP/2 as well; the server speaks both.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn pem_error(what: &str, path: &Path, error: pem::Error) -> String {
    match error {
        pem::Error::NoItemsFound => format!("{} holds no PEM {what}", path.display()),
        pem::Error::Io(e) => format!("cannot read the TLS {what} {}: {e}", path.display()),
        e => format!("the TLS {what} {} is not valid PEM: {e}", path.display()),
    }
}
