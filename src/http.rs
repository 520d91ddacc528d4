//! The one HTTP client of the package (reqwest + rustls).
//!
//! - TLS is always verified, against what Node trusts: the bundled Mozilla roots and the PEM file
//!   named by `NODE_EXTRA_CA_CERTS` (how Node users trust a corporate CA); the OS store only when
//!   Node is told to use it.
//! - `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` apply to STS and credential URIs, never to the
//!   metadata service.
//! - Redirects are not followed: credentials never travel to a host we were not configured with.
//! - Bodies are capped at [`MAX_BODY`]; the whole exchange is bounded by connect + read timeouts.
//! - Error messages name the method and the URL without its query (STS queries carry tokens).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// Largest response body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// An HTTP request, built by a credential source.
#[derive(Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// False for the metadata service, which must never be reached through a proxy.
    pub use_proxy: bool,
}

impl Request {
    /// A request with no headers or body.
    pub fn new(
        method: reqwest::Method,
        url: impl Into<String>,
        connect: Duration,
        read: Duration,
    ) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            connect_timeout: connect,
            read_timeout: read,
            use_proxy: true,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The method and URL without query or credentials, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, redact_url(&self.url))
    }
}

// Requests carry tokens (an STS query's SecurityToken, an OIDC token in a form) and responses carry
// credentials: both are overwritten when dropped, like every `Secret`.
impl Drop for Request {
    fn drop(&mut self) {
        crate::secret::wipe(&mut self.url);
        if let Some(body) = self.body.as_mut() {
            crate::secret::wipe_bytes(body);
        }
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        crate::secret::wipe_bytes(&mut self.body);
    }
}

/// A response: status, content type and the (capped) body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy), for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `scheme://host[:port]/path` of `url`, without userinfo, query or fragment.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let mut shown = format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""));
            if let Some(port) = u.port() {
                shown.push_str(&format!(":{port}"));
            }
            shown.push_str(u.path());
            shown
        }
        Err(_) => "<invalid url>".to_owned(),
    }
}

static RUNTIME: OnceLock<String> = OnceLock::new();
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

/// Whether HTTPS trusts the OS certificate store, as Node does: only when asked by
/// `--use-openssl-ca` / `--use-system-ca` (command line or `NODE_OPTIONS`) or
/// `NODE_USE_SYSTEM_CA=1`. Otherwise Node, and so the official package, trusts its bundled Mozilla
/// roots and `NODE_EXTRA_CA_CERTS` only; so do we (and skip reading the store: about 3 ms).
fn trusts_os_store() -> bool {
    NODE_FLAGS_TRUST_OS_STORE.load(Ordering::Relaxed)
        || std::env::var("NODE_OPTIONS")
            .is_ok_and(|o| o.split_ascii_whitespace().any(is_os_store_flag))
        || std::env::var("NODE_USE_SYSTEM_CA").is_ok_and(|v| v == "1")
}

/// Records the JavaScript runtime (`Node.js/v20.1.0`) for the User-Agent; first call wins.
pub fn set_runtime(runtime: String) {
    let _ = RUNTIME.set(runtime);
}

/// `alicloud-credentials-native/<version> (<os>; <arch>) Node.js/<version>`.
pub fn user_agent() -> String {
    let runtime = RUNTIME
        .get()
        .map(String::as_str)
        .unwrap_or("Node.js/unknown");
    format!(
        "alicloud-credentials-native/{} ({}; {}) {}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        runtime
    )
}

// Clients are costly to build (an HTTPS client reads the OS trust store): one per (connect timeout,
// proxy, TLS) triple, shared by every credential.
static CLIENTS: OnceLock<Mutex<HashMap<ClientKey, reqwest::Client>>> = OnceLock::new();

/// Connect timeout in ms, through a proxy, over TLS.
type ClientKey = (u128, bool, bool);

/// The most `NODE_EXTRA_CA_CERTS` may hold.
const EXTRA_ROOTS_LIMIT: u64 = 8 * 1024 * 1024;

fn extra_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS") else {
            return Vec::new();
        };
        // Read as every outside file is: a regular file, capped (a bundle of every public CA is
        // about 250 KiB).
        match crate::fsio::read_text(std::path::Path::new(&path), EXTRA_ROOTS_LIMIT) {
            Ok(pem) => reqwest::Certificate::from_pem_bundle(pem.as_bytes()).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    })
}

fn client(connect_timeout: Duration, use_proxy: bool, tls: bool) -> Result<reqwest::Client> {
    let key = (connect_timeout.as_millis(), use_proxy, tls);
    let clients = CLIENTS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(c) = clients.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(c.clone());
    }
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(connect_timeout)
        // Refreshes are minutes apart: keep idle connections only briefly, below the 5 s
        // keep-alive of common servers (Node's default), so a pooled connection is never reused
        // just as the server closes it.
        .pool_idle_timeout(Duration::from_secs(3))
        .redirect(reqwest::redirect::Policy::none())
        .use_rustls_tls()
        .https_only(false);
    if tls {
        builder = builder.tls_built_in_native_certs(trusts_os_store());
        for cert in extra_roots() {
            builder = builder.add_root_certificate(cert.clone());
        }
    } else {
        // A client for plain-HTTP servers (the metadata service, most credentials URIs) never
        // verifies a certificate: loading the trust stores would only slow the first request.
        builder = builder.tls_built_in_root_certs(false);
    }
    if !use_proxy {
        builder = builder.no_proxy();
    }
    let built = builder.build().map_err(|e| {
        Error::new(
            ErrorKind::Http,
            format!("cannot create the HTTP client: {e}"),
        )
    })?;
    clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, built.clone());
    Ok(built)
}

/// Node's `code` for the I/O failure at the root of `e`, if it is one Node names.
fn node_code(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return Some("ECONNREFUSED"),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    return Some("ECONNRESET")
                }
                K::TimedOut => return Some("ETIMEDOUT"),
                _ => {}
            }
        }
        let text = s.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Some("ENOTFOUND");
        }
        // hyper's words for a peer that hung up (Node: "socket hang up", ECONNRESET).
        if text.contains("connection closed before message completed")
            || text.contains("end of file before message length reached")
            || text.contains("connection reset")
        {
            return Some("ECONNRESET");
        }
        source = s.source();
    }
    None
}

/// `host:port` of the request's URL, as Node names the peer in `connect ECONNREFUSED 127.0.0.1:80`.
fn peer(req: &Request) -> String {
    match reqwest::Url::parse(&req.url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => String::new(),
    }
}

fn classify(req: &Request, e: &reqwest::Error) -> Error {
    let what = req.describe();
    // Our own timeouts keep ERR_CREDENTIALS_TIMEOUT (the official's are `RequestTimeoutError`s
    // without a Node code); ETIMEDOUT is for the operating system's.
    if e.is_timeout() {
        let ms = (req.connect_timeout + req.read_timeout).as_millis();
        return Error::new(
            ErrorKind::Timeout,
            format!("{what} failed: timeout after {ms} ms"),
        );
    }
    // Walk the causes for TLS and connection details. The first level is skipped: reqwest's own
    // text quotes the whole URL, query (an STS SecurityToken) included.
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::from("request failed");
    while let Some(s) = source {
        let text = s.to_string();
        if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
            return Error::new(ErrorKind::Tls, format!("{what} failed: TLS error: {text}"));
        }
        detail = text;
        source = s.source();
    }
    let code = node_code(e);
    let error = match code {
        // Node's own words first (the official's message starts with them), then ours.
        Some("ECONNREFUSED") => Error::new(
            ErrorKind::Http,
            format!("connect ECONNREFUSED {} ({what} failed)", peer(req)),
        ),
        Some("ENOTFOUND") => Error::new(
            ErrorKind::Http,
            format!(
                "getaddrinfo ENOTFOUND {} ({what} failed)",
                reqwest::Url::parse(&req.url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        ),
        Some("ECONNRESET") if detail.contains("connection closed before message completed") => {
            Error::new(ErrorKind::Http, format!("socket hang up ({what} failed)"))
        }
        Some("ECONNRESET") => Error::new(
            ErrorKind::Http,
            format!("read ECONNRESET ({what} failed: {detail})"),
        ),
        Some(c) => Error::new(
            ErrorKind::Http,
            format!("connect {c} {} ({what} failed: {detail})", peer(req)),
        ),
        None if e.is_connect() => Error::new(
            ErrorKind::Http,
            format!("{what} failed: connection error: {detail}"),
        ),
        None => Error::new(ErrorKind::Http, format!("{what} failed: {detail}")),
    };
    match code {
        Some(c) => error.with_node_code(c),
        None => error,
    }
}

/// The one way to get JSON from a credentials server: sends `request` (timeouts, body cap, no
/// redirects), hands the whole response to `parse` (a pure function of the response that handles
/// the status and decodes the body into its typed struct), and passes any error through the
/// scrubber with `secrets` (what the request carried) and the secrets found in the response.
pub async fn fetch<T>(
    request: Request,
    secrets: &[&str],
    parse: impl FnOnce(&Response) -> Result<T>,
) -> Result<T> {
    match send(request).await {
        Ok(response) => finish(&response, secrets, parse),
        Err(e) => Err(e.scrubbed(secrets)),
    }
}

/// The part of [`fetch`] after the exchange, a pure function (the fuzz targets call it):
/// `parse(response)`, its error scrubbed of `secrets` and of the secrets the response holds.
pub fn finish<T>(
    response: &Response,
    secrets: &[&str],
    parse: impl FnOnce(&Response) -> Result<T>,
) -> Result<T> {
    parse(response).map_err(|e| {
        let found = crate::secret::secrets_in(&response.body);
        let mut all: Vec<&str> = secrets.to_vec();
        all.extend(found.iter().map(String::as_str));
        e.scrubbed(&all)
    })
}

/// `{prefix}{error fields} (HTTP {status})`, or `{prefix}HTTP {status}` for a body without
/// error fields: a non-200 answer described without quoting its body.
pub fn status_error(kind: ErrorKind, prefix: &str, response: &Response) -> Error {
    let summary = error_summary(&response.body);
    let message = if summary.is_empty() {
        format!("{prefix}HTTP {}", response.status)
    } else {
        format!("{prefix}{summary} (HTTP {})", response.status)
    };
    Error::new(kind, message)
}

/// The official words for a credentials server that refused (ECS metadata, credentials URI):
/// `get sts token failed, httpStatus: <status>, message = <summary><end>`; never quotes the body.
pub fn refused(response: &Response, end: &str) -> Error {
    Error::new(
        ErrorKind::Http,
        format!(
            "get sts token failed, httpStatus: {}, message = {}{end}",
            response.status,
            error_summary(&response.body)
        ),
    )
}

/// The error fields of a server's JSON error body (`Code`/`Message`/`RequestId` of Alibaba Cloud
/// APIs, `error`/`error_description` of OAuth), shortened; empty when the body has none. Never
/// anything else of the body, which may hold credentials.
pub fn error_summary(body: &[u8]) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (key, label, max) in [
        ("Code", "Code", 64),
        ("code", "Code", 64),
        ("error", "error", 64),
        ("Message", "Message", 300),
        ("message", "Message", 300),
        ("error_description", "error_description", 300),
        ("RequestId", "RequestId", 64),
    ] {
        if let Some(v) = map.get(key).and_then(|v| v.as_str()) {
            parts.push(format!("{label}: {}", crate::time::truncate(v, max)));
        }
    }
    parts.join(", ")
}

/// Sends `req` and reads the whole (capped) response.
pub async fn send(req: Request) -> Result<Response> {
    let started = std::time::Instant::now();
    let result = send_inner(&req).await;
    crate::log::debug("http", || match &result {
        Ok(r) => format!(
            "{} -> {} ({} bytes) in {} ms",
            req.describe(),
            r.status,
            r.body.len(),
            started.elapsed().as_millis()
        ),
        Err(e) => format!(
            "{} failed in {} ms: {}",
            req.describe(),
            started.elapsed().as_millis(),
            e.message()
        ),
    });
    result
}

async fn send_inner(req: &Request) -> Result<Response> {
    let tls = !req.url.starts_with("http://");
    let client = client(req.connect_timeout, req.use_proxy, tls)?;
    let mut builder = client
        .request(req.method.clone(), &req.url)
        .timeout(req.connect_timeout + req.read_timeout);
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = &req.body {
        builder = builder.body(body.clone());
    }
    let mut response = builder.send().await.map_err(|e| classify(req, &e))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(too_large(req));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(req, &e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large(req));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        content_type,
        body,
    })
}

fn too_large(req: &Request) -> Error {
    Error::new(
        ErrorKind::Response,
        format!(
            "{} failed: response body larger than {} bytes",
            req.describe(),
            MAX_BODY
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_query_and_userinfo() {
        assert_eq!(
            redact_url("https://user:pw@sts.aliyuncs.com:8443/?SecurityToken=abc&Signature=x"),
            "https://sts.aliyuncs.com:8443/"
        );
        assert_eq!(redact_url("not a url"), "<invalid url>");
    }

    #[test]
    fn user_agent_names_package_os_and_runtime() {
        set_runtime("Node.js/v20.0.0".into());
        let ua = user_agent();
        assert!(ua.starts_with("alicloud-credentials-native/"));
        assert!(ua.contains(std::env::consts::OS));
        assert!(ua.ends_with("Node.js/v20.0.0"));
    }

    #[test]
    fn error_bodies_are_summarised_never_quoted() {
        let body = br#"{"Code":"Throttling","Message":"slow down","RequestId":"R","AccessKeySecret":"s3cr3t"}"#;
        assert_eq!(
            error_summary(body),
            "Code: Throttling, Message: slow down, RequestId: R"
        );
        assert_eq!(error_summary(b"<html>s3cr3t</html>"), "");
        let response = |status, body: &[u8]| Response {
            status,
            content_type: None,
            body: body.to_vec(),
        };
        let e = status_error(ErrorKind::Http, "p: ", &response(400, body));
        assert_eq!(
            e.message(),
            "p: Code: Throttling, Message: slow down, RequestId: R (HTTP 400)"
        );
        let e = status_error(ErrorKind::Http, "p: ", &response(502, b"s3cr3t"));
        assert_eq!(e.message(), "p: HTTP 502");
        // finish() scrubs what the request carried and what the response holds.
        let echo = br#"{"Code":"E","Message":"tok%2Fen and s3cr3t","AccessKeySecret":"s3cr3t"}"#;
        let e = finish(&response(400, echo), &["tok/en"], |r| {
            Err::<(), _>(status_error(ErrorKind::Http, "p: ", r))
        })
        .unwrap_err();
        assert_eq!(
            e.message(),
            "p: Code: E, Message: <redacted> and <redacted> (HTTP 400)"
        );
    }

    #[test]
    fn node_codes_of_io_failures() {
        use std::io::{Error as Io, ErrorKind as K};
        assert_eq!(
            node_code(&Io::from(K::ConnectionRefused)),
            Some("ECONNREFUSED")
        );
        assert_eq!(node_code(&Io::from(K::ConnectionReset)), Some("ECONNRESET"));
        assert_eq!(node_code(&Io::from(K::TimedOut)), Some("ETIMEDOUT"));
        assert_eq!(
            node_code(&Io::other(
                "dns error: failed to lookup address information"
            )),
            Some("ENOTFOUND")
        );
        assert_eq!(node_code(&Io::from(K::PermissionDenied)), None);
        let e = Error::new(ErrorKind::Http, "x").with_node_code("ECONNREFUSED");
        assert_eq!(e.code(), "ECONNREFUSED");
        assert_eq!(
            Error::new(ErrorKind::Http, "x").code(),
            "ERR_CREDENTIALS_HTTP"
        );
    }
}
