//! The TLS client configuration: rustls with ring, verifying against what Node trusts.
//!
//! Node (and so the official package, which uses Node's `https`) trusts its bundled Mozilla roots
//! and the PEM file named by `NODE_EXTRA_CA_CERTS`; the OS store only when told to by
//! `--use-openssl-ca` / `--use-system-ca` (command line or `NODE_OPTIONS`) or
//! `NODE_USE_SYSTEM_CA=1`. We trust the same, and skip reading the OS store otherwise (about 3 ms
//! of a first HTTPS request).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

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
            let provider = Arc::new(provider());
            let verifier =
                NodeVerifier::new(roots, ExtraCerts::sorted(extra_roots()), provider.clone())?;
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| {
                    Arc::new(
                        b.dangerous()
                            .with_custom_certificate_verifier(Arc::new(verifier))
                            .with_no_client_auth(),
                    )
                })
                .map_err(|e| e.to_string())
        })
        .clone()
}

/// ring's provider, trimmed to what a client that verifies servers needs: the AES-GCM suites
/// (every TLS server offers them; the ChaCha20 code is about 50 KiB) and no private-key loading
/// (we never present a client certificate; RSA and ECDSA signing are as much again).
fn provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::{cipher_suite as suite, kx_group};
    rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            suite::TLS13_AES_256_GCM_SHA384,
            suite::TLS13_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: SIGNATURES,
        secure_random: &OsRandom,
        key_provider: &NoClientKeys,
    }
}

/// Every certificate signature webpki verifies with ring (ring's provider's list, restated:
/// taking it from `default_provider()` would keep every cipher suite of that provider linked).
static SIGNATURES: rustls::crypto::WebPkiSupportedAlgorithms = {
    use rustls::SignatureScheme as S;
    use webpki::ring as alg;
    rustls::crypto::WebPkiSupportedAlgorithms {
        all: &[
            alg::ECDSA_P256_SHA256,
            alg::ECDSA_P256_SHA384,
            alg::ECDSA_P384_SHA256,
            alg::ECDSA_P384_SHA384,
            alg::ED25519,
            alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            alg::RSA_PKCS1_2048_8192_SHA256,
            alg::RSA_PKCS1_2048_8192_SHA384,
            alg::RSA_PKCS1_2048_8192_SHA512,
            alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        mapping: &[
            // In TLS 1.2 the scheme does not fix the curve; in TLS 1.3 it does.
            (
                S::ECDSA_NISTP384_SHA384,
                &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
            ),
            (
                S::ECDSA_NISTP256_SHA256,
                &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
            ),
            (S::ED25519, &[alg::ED25519]),
            (
                S::RSA_PSS_SHA512,
                &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            ),
            (
                S::RSA_PSS_SHA384,
                &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            ),
            (
                S::RSA_PSS_SHA256,
                &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            ),
            (S::RSA_PKCS1_SHA512, &[alg::RSA_PKCS1_2048_8192_SHA512]),
            (S::RSA_PKCS1_SHA384, &[alg::RSA_PKCS1_2048_8192_SHA384]),
            (S::RSA_PKCS1_SHA256, &[alg::RSA_PKCS1_2048_8192_SHA256]),
        ],
    }
};

#[derive(Debug)]
struct OsRandom;

impl rustls::crypto::SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        getrandom::getrandom(buf).map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

#[derive(Debug)]
struct NoClientKeys;

impl rustls::crypto::KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "client certificates are not used".into(),
        ))
    }
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

/// The certificates of `NODE_EXTRA_CA_CERTS` by what OpenSSL (and so Node) lets them do: a CA
/// certificate (basicConstraints `CA:TRUE`, keyCertSign where key usage is present) is a trust
/// anchor when it issued itself, and otherwise an intermediate that counts only where it chains to
/// an anchor; a self-signed certificate that is no CA is trusted as that one server's certificate
/// only; anything else (unreadable, or no CA and issued by another) is unused. Each counts only
/// within its validity, judged at every handshake as OpenSSL does ([`NodeVerifier`]).
#[derive(Default, Debug)]
struct ExtraCerts {
    anchors: Vec<Dated>,
    intermediates: Vec<Dated>,
    self_signed: Vec<Dated>,
}

/// A certificate and its validity (notBefore, notAfter).
#[derive(Debug)]
struct Dated {
    der: CertificateDer<'static>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Dated {
    fn valid_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

impl ExtraCerts {
    fn sorted(certs: Vec<CertificateDer<'static>>) -> Self {
        use x509_cert::der::Decode;
        use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
        let mut sorted = ExtraCerts::default();
        for der in certs {
            let Ok(cert) = x509_cert::Certificate::from_der(der.as_ref()) else {
                continue;
            };
            let tbs = cert.tbs_certificate();
            let validity = tbs.validity();
            let ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, b))) if b.ca);
            let signs_certificates = match tbs.get_extension::<KeyUsage>() {
                Ok(Some((_, usage))) => usage.key_cert_sign(),
                Ok(None) => true,
                Err(_) => false,
            };
            let self_issued = tbs.subject() == tbs.issuer();
            let dated = Dated {
                not_before: validity.not_before.to_system_time(),
                not_after: validity.not_after.to_system_time(),
                der,
            };
            match (ca && signs_certificates, self_issued) {
                (true, true) => sorted.anchors.push(dated),
                (true, false) => sorted.intermediates.push(dated),
                (false, true) => sorted.self_signed.push(dated),
                (false, false) => {}
            }
        }
        sorted
    }
}

/// webpki's verification over the roots and the anchors of `NODE_EXTRA_CA_CERTS` valid at the
/// handshake's time, offered that file's intermediates valid then beside the server's own, and a
/// self-signed server certificate of that file as its own anchor. webpki checks the validity of
/// every certificate of a chain but its anchor's, so that one is checked here, at each handshake
/// (a root that expires while the process runs stops counting then, as in Node).
#[derive(Debug)]
struct NodeVerifier {
    /// The bundled roots, and the OS store's when Node would use it.
    roots: rustls::RootCertStore,
    extra: ExtraCerts,
    /// Over `roots` and every anchor: used whenever every anchor is valid (the usual case).
    all_anchors: Arc<rustls::client::WebPkiServerVerifier>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl NodeVerifier {
    fn new(
        roots: rustls::RootCertStore,
        extra: ExtraCerts,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, String> {
        let all_anchors = verifier(&roots, &extra.anchors, &provider).map_err(|e| e.to_string())?;
        Ok(NodeVerifier {
            roots,
            extra,
            all_anchors,
            provider,
        })
    }
}

/// A webpki verifier over `roots` and `anchors`.
fn verifier<'a>(
    roots: &rustls::RootCertStore,
    anchors: impl IntoIterator<Item = &'a Dated>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<rustls::client::WebPkiServerVerifier>, rustls::Error> {
    let mut roots = roots.clone();
    roots.add_parsable_certificates(anchors.into_iter().map(|a| a.der.clone()));
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))
}

impl ServerCertVerifier for NodeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let at = UNIX_EPOCH + Duration::from_secs(now.as_secs());
        let extra = &self.extra;
        if let Some(itself) = extra
            .self_signed
            .iter()
            .find(|c| c.valid_at(at) && c.der.as_ref() == end_entity.as_ref())
        {
            let verifier = verifier(&rustls::RootCertStore::empty(), [itself], &self.provider)?;
            return verifier.verify_server_cert(end_entity, &[], server_name, ocsp_response, now);
        }
        let mut offered: Vec<CertificateDer<'_>> = intermediates.to_vec();
        offered.extend(
            extra
                .intermediates
                .iter()
                .filter(|c| c.valid_at(at))
                .map(|c| c.der.clone()),
        );
        let inner = if extra.anchors.iter().all(|a| a.valid_at(at)) {
            self.all_anchors.clone()
        } else {
            let valid = extra.anchors.iter().filter(|a| a.valid_at(at));
            verifier(&self.roots, valid, &self.provider)?
        };
        inner.verify_server_cert(end_entity, &offered, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.all_anchors.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.all_anchors.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.all_anchors.supported_verify_schemes()
    }
}
