//! The TLS client configuration: rustls with ring, verifying against what Node trusts.
//!
//! Node (and so the official package, which uses Node's `https`) trusts its bundled Mozilla roots
//! and the PEM file named by `NODE_EXTRA_CA_CERTS`; the OS store only when told to by
//! `--use-openssl-ca` / `--use-system-ca` (command line or `NODE_OPTIONS`) or
//! `NODE_USE_SYSTEM_CA=1`. We trust the same, and skip reading the OS store otherwise (about 3 ms
//! of a first HTTPS request).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls;

/// The most `NODE_EXTRA_CA_CERTS` may hold (a bundle of every public CA is about 250 KiB).
const EXTRA_ROOTS_LIMIT: u64 = 8 * 1024 * 1024;

static NODE_FLAGS_TRUST_OS_STORE: AtomicBool = AtomicBool::new(false);

/// Records the runtime's command-line flags (`process.execArgv`), for [`trusts_os_store`].
pub fn set_node_flags(exec_argv: &[String]) {
    if exec_argv.iter().any(|a| is_os_store_flag(a)) {
        NODE_FLAGS_TRUST_OS_STORE.store(true, Ordering::Relaxed);
    }
}

fn is_os_store_flag(arg: &str) -> bool {
    arg == "--use-openssl-ca" || arg == "--use-system-ca"
}

/// Whether HTTPS trusts the OS certificate store, as Node does.
fn trusts_os_store() -> bool {
    NODE_FLAGS_TRUST_OS_STORE.load(Ordering::Relaxed)
        || std::env::var("NODE_OPTIONS")
            .is_ok_and(|o| o.split_ascii_whitespace().any(is_os_store_flag))
        || std::env::var("NODE_USE_SYSTEM_CA").is_ok_and(|v| v == "1")
}

/// The client configuration, built on first use and shared by every request of the process; the
/// error is rustls's words, should it refuse the ring provider's defaults.
pub fn config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            if trusts_os_store() {
                // Unreadable entries are skipped, as OpenSSL does.
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            }
            roots.add_parsable_certificates(extra_roots());
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
                .map_err(|e| e.to_string())
        })
        .clone()
}

/// The certificates of `NODE_EXTRA_CA_CERTS`, read as every outside file is (a regular file,
/// capped); a missing or unreadable file adds none, as in Node (which only warns).
fn extra_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS") else {
        return Vec::new();
    };
    match crate::fsio::read_text(std::path::Path::new(&path), EXTRA_ROOTS_LIMIT) {
        Ok(pem) => rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
            .filter_map(|c| c.ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}
