//! The one HTTP client of the package: reqwest over tokio (`client`), TLS by rustls against what
//! Node trusts (`tls`), URLs by the `url` crate (`url`) and proxies from the environment (`proxy`).
//!
//! - TLS is always verified, against what Node trusts: the bundled Mozilla roots and the PEM file
//!   named by `NODE_EXTRA_CA_CERTS` (how Node users trust a corporate CA); the OS store only when
//!   Node is told to use it.
//! - `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` apply to STS and credential URIs, never to the
//!   metadata service.
//! - Redirects are not followed: credentials never travel to a host we were not configured with.
//! - Bodies are capped at [`MAX_BODY`]; the whole exchange is bounded by connect + read timeouts.
//! - Error messages name the method and the URL without its query (STS queries carry tokens).

mod client;
mod proxy;
mod tls;
pub mod url;

use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use client::Failure;
pub use tls::set_node_flags;
pub use url::Url;

/// The methods credential sources use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        })
    }
}

/// Largest response body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// An HTTP request, built by a credential source.
#[derive(Clone)]
pub struct Request {
    pub method: Method,
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
    pub fn new(method: Method, url: impl Into<String>, connect: Duration, read: Duration) -> Self {
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
    pub fn label(&self) -> String {
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

/// A response: status and the (capped) body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
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
    match Url::parse(url) {
        Ok(u) => format!("{}{}", u.origin(), u.path()),
        Err(_) => "<invalid url>".to_owned(),
    }
}

static RUNTIME: OnceLock<String> = OnceLock::new();

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

/// Node's `code` for the I/O failure at the root of `e`, if it is one Node names.
fn node_code(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Some("ECONNREFUSED"),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            Some("ECONNRESET")
        }
        K::TimedOut => Some("ETIMEDOUT"),
        _ => None,
    }
}

/// The package's error for a failed exchange: Node's words first where Node has them (the
/// official's messages start with them), then the method and the redacted URL.
fn classify(req: &Request, failure: Failure) -> Error {
    let what = req.label();
    let error = match failure {
        // Our own timeouts keep ERR_CREDENTIALS_TIMEOUT (the official's are `RequestTimeoutError`s
        // without a Node code); ETIMEDOUT is for the operating system's.
        Failure::Timeout => {
            let ms = (req.connect_timeout + req.read_timeout).as_millis();
            return Error::new(
                ErrorKind::Timeout,
                format!("{what} failed: timeout after {ms} ms"),
            );
        }
        Failure::Tls(text) => {
            return Error::new(ErrorKind::Tls, format!("{what} failed: TLS error: {text}"))
        }
        Failure::TooLarge => return too_large(req),
        Failure::NotFound { host, code } => Error::new(
            ErrorKind::Http,
            format!("getaddrinfo {code} {host} ({what} failed)"),
        )
        .with_node_code(code),
        Failure::Connect { peer, error } => match node_code(&error) {
            Some("ECONNREFUSED") => Error::new(
                ErrorKind::Http,
                format!("connect ECONNREFUSED {peer} ({what} failed)"),
            )
            .with_node_code("ECONNREFUSED"),
            Some(code) => Error::new(
                ErrorKind::Http,
                format!("connect {code} {peer} ({what} failed: {error})"),
            )
            .with_node_code(code),
            None => Error::new(
                ErrorKind::Http,
                format!("{what} failed: connection error: {error}"),
            ),
        },
        Failure::HangUp => Error::new(ErrorKind::Http, format!("socket hang up ({what} failed)"))
            .with_node_code("ECONNRESET"),
        Failure::CutShort => Error::new(
            ErrorKind::Http,
            format!("read ECONNRESET ({what} failed: connection closed before the whole body)"),
        )
        .with_node_code("ECONNRESET"),
        Failure::Broken(error) => match node_code(&error) {
            Some(code) => Error::new(
                ErrorKind::Http,
                format!("read {code} ({what} failed: {error})"),
            )
            .with_node_code(code),
            None => Error::new(ErrorKind::Http, format!("{what} failed: {error}")),
        },
        Failure::Protocol(detail) => {
            Error::new(ErrorKind::Http, format!("{what} failed: {detail}"))
        }
        Failure::Proxy(Some(status)) => Error::new(
            ErrorKind::Http,
            format!("{what} failed: the proxy refused the tunnel with HTTP {status}"),
        ),
        Failure::ProxyAnswered(status) => Error::new(
            ErrorKind::Http,
            format!("{what} failed: the proxy refused the request with HTTP {status}"),
        ),
        Failure::Proxy(None) => Error::new(
            ErrorKind::Http,
            format!("{what} failed: the proxy refused the tunnel"),
        ),
    };
    error
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
    // The proxy's password is as secret as the request's own: an answer may quote it.
    let mut known: Vec<String> = proxy_for(&request)
        .map(|p| p.url.password_secrets())
        .unwrap_or_default();
    known.extend(secrets.iter().map(|s| (*s).to_owned()));
    let secrets: Vec<&str> = known.iter().map(String::as_str).collect();
    let result = match send(request).await {
        Ok(response) => finish(&response, &secrets, parse),
        Err(e) => Err(e.scrubbed(&secrets)),
    };
    known.iter_mut().for_each(crate::secret::wipe);
    result
}

/// The proxy `request` goes through, from the environment of the moment; none for the metadata
/// service.
fn proxy_for(request: &Request) -> Option<proxy::Proxy> {
    if !request.use_proxy {
        return None;
    }
    let url = Url::parse(&request.url).ok()?;
    proxy::for_url(&url, &crate::env::Env::process())
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
/// error fields: a non-200 answer described without quoting its body, carrying the answer (see
/// [`Error::answered`]).
pub fn status_error(kind: ErrorKind, prefix: &str, response: &Response) -> Error {
    let body = ErrorBody::of(&response.body);
    let message = if body.summary.is_empty() {
        format!("{prefix}HTTP {}", response.status)
    } else {
        format!("{prefix}{} (HTTP {})", body.summary, response.status)
    };
    Error::new(kind, message).with_answer(response.status, body.code.as_deref())
}

/// The official words for a credentials server that refused (ECS metadata, credentials URI):
/// `get sts token failed, httpStatus: <status>, message = <summary><end>`; never quotes the body.
/// Carries the answer (see [`Error::answered`]).
pub fn refused(response: &Response, end: &str) -> Error {
    let body = ErrorBody::of(&response.body);
    Error::new(
        ErrorKind::Http,
        format!(
            "get sts token failed, httpStatus: {}, message = {}{end}",
            response.status, body.summary
        ),
    )
    .with_answer(response.status, body.code.as_deref())
}

/// A server's JSON error body, parsed once: its error fields (`Code`/`Message`/`RequestId` of
/// Alibaba Cloud APIs, `error`/`error_description` of OAuth), never anything else of the body,
/// which may hold credentials.
#[derive(Debug, Default)]
pub struct ErrorBody {
    /// `Code` of Alibaba Cloud APIs (`code` in some), else `error` of OAuth.
    pub code: Option<String>,
    /// `Message` (or `message`) as sent, for callers that compare it.
    pub message: Option<String>,
    /// The error fields, shortened, as `Label: value, ...`; empty when the body has none.
    pub summary: String,
}

impl ErrorBody {
    pub fn of(body: &[u8]) -> ErrorBody {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
        else {
            return ErrorBody::default();
        };
        let text = |key: &str| map.get(key).and_then(|v| v.as_str());
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
            if let Some(v) = text(key) {
                parts.push(format!("{label}: {}", crate::error::truncate(v, max)));
            }
        }
        ErrorBody {
            code: ["Code", "code", "error"]
                .into_iter()
                .find_map(text)
                .map(str::to_owned),
            message: ["Message", "message"]
                .into_iter()
                .find_map(text)
                .map(str::to_owned),
            summary: parts.join(", "),
        }
    }
}

impl Error {
    /// This error carrying `response`'s status and its body's server code
    /// ([`Error::with_answer`]): what decides whether a refresh tries again.
    pub fn answered(self, response: &Response) -> Error {
        let code = ErrorBody::of(&response.body).code;
        self.with_answer(response.status, code.as_deref())
    }
}

/// Sends `req` and reads the whole (capped) response.
pub async fn send(req: Request) -> Result<Response> {
    let started = std::time::Instant::now();
    let result = send_inner(&req).await;
    crate::log::debug("http", || match &result {
        Ok(r) => format!(
            "{} -> {} ({} bytes) in {} ms",
            req.label(),
            r.status,
            r.body.len(),
            started.elapsed().as_millis()
        ),
        Err(e) => format!(
            "{} failed in {} ms: {}",
            req.label(),
            started.elapsed().as_millis(),
            e.message()
        ),
    });
    result
}

async fn send_inner(req: &Request) -> Result<Response> {
    let url = Url::parse(&req.url).map_err(|_| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("{} failed: not a valid http(s) URL", req.label()),
        )
    })?;
    let proxy = proxy_for(req);
    client::exchange(req, &url, proxy.as_ref(), &user_agent())
        .await
        .map_err(|f| classify(req, f))
}

fn too_large(req: &Request) -> Error {
    Error::new(
        ErrorKind::Response,
        format!(
            "{} failed: response body larger than {} bytes",
            req.label(),
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
            ErrorBody::of(body).summary,
            "Code: Throttling, Message: slow down, RequestId: R"
        );
        assert_eq!(ErrorBody::of(b"<html>s3cr3t</html>").summary, "");
        let response = |status, body: &[u8]| Response {
            status,
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
    fn answers_are_recorded_on_their_errors() {
        let response = |status, body: &[u8]| Response {
            status,
            body: body.to_vec(),
        };
        for (status, body, code) in [
            (
                503,
                &br#"{"Code":"ServiceUnavailable"}"#[..],
                Some("ServiceUnavailable"),
            ),
            (
                400,
                br#"{"code":"Throttling.User"}"#,
                Some("Throttling.User"),
            ),
            (401, br#"{"error":"invalid_token"}"#, Some("invalid_token")),
            (429, br#"{"Code":7}"#, None),
            (502, b"<html>bad gateway</html>", None),
        ] {
            for e in [
                status_error(ErrorKind::Http, "p: ", &response(status, body)),
                refused(&response(status, body), ""),
            ] {
                assert_eq!(e.http_status(), Some(status), "{}", e.message());
                assert_eq!(e.server_code(), code, "{}", e.message());
            }
        }
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
        assert_eq!(node_code(&Io::from(K::PermissionDenied)), None);
        let e = Error::new(ErrorKind::Http, "x").with_node_code("ECONNREFUSED");
        assert_eq!(e.code(), "ECONNREFUSED");
        assert_eq!(
            Error::new(ErrorKind::Http, "x").code(),
            "ERR_CREDENTIALS_HTTP"
        );
    }
}
