//! Optional HTTPS: a certificate and its private key from PEM files, served through rustls with
//! the ring crypto provider (aws-lc-rs would need cmake to build). Browsers keep `Secure`
//! cookies only over HTTPS (WebKitGTK even on loopback), so this also serves local tests.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::error::{Error, Result};

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
    pub fn load(&self) -> Result<Arc<ServerConfig>> {
        let pem_error = |what, path: &PathBuf| {
            let path = path.clone();
            move |source| Error::TlsFile { what, path, source }
        };
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(pem_error("certificate", &self.cert))?;
        if certs.is_empty() {
            return Err(pem_error("certificate", &self.cert)(
                pem::Error::NoItemsFound,
            ));
        }
        let key =
            PrivateKeyDer::from_pem_file(&self.key).map_err(pem_error("private key", &self.key))?;
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(Error::TlsSetup)?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .map_err(|source| Error::TlsPair {
                    cert: self.cert.clone(),
                    key: self.key.clone(),
                    source,
                })?;
        // Offer HTTP/2 as well; the server speaks both.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
