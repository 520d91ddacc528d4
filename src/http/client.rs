//! Exchanges carried by reqwest: hyper's HTTP/1.1 framing, hyper-util's connector (happy eyeballs
//! between address families) and connection pool, rustls with our trimmed ring provider and roots
//! (`super::tls`), and reqwest's proxy support (absolute-form requests for http URLs, CONNECT
//! tunnels for https). What stays here: the body cap, the timeouts, the choice of a pooled client,
//! and turning reqwest's errors into the words Node uses.
//!
//! Connections are kept, as Node's keep-alive agent keeps them: one long-lived client per
//! transport setting (the proxy and the connect timeout; trust is the process's), so a refresh
//! reuses the connection the last one to that origin left, whichever identity made it. A pooled
//! connection the server has closed or reset is never handed out for a new request once its
//! close is seen, and a request that met such a connection before a byte of it was written is sent
//! again on a fresh one (hyper-util's `retry_canceled_requests`). Every client shares the one TLS
//! configuration and so its session store: a new connection resumes a TLS session. No redirect is
//! followed.

use std::error::Error as StdError;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::proxy::Proxy;
use super::url::Url;
use super::{Method, Request, Response, MAX_BODY};

/// Most header fields a response may have (Node's `maxHeadersCount`); hyper's default is 100.
const MAX_HEADERS: usize = 2000;

/// How long a connection may wait idle in the pool before we close it. Shorter than any server we
/// talk to keeps one: a Node server (the usual credentials URI) closes an idle connection after 5 s
/// (`server.keepAliveTimeout`), nginx and Tengine (STS, the metadata service's front) after 60 to
/// 75 s. Closing first means a refresh seldom meets a connection the server is closing at that
/// very moment (the one case no client can retry safely: the request was written). Refreshes of
/// one identity are minutes apart; what is reused is the connection of other identities' refreshes
/// and of a burst of them, which 4 s covers.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// Idle connections kept per origin (scheme, host and port) and client. A burst of refreshes
/// (tenants made together) opens as many connections as run at once; this many stay for the next
/// burst, the others close when their exchange ends. Node's agent keeps up to 256.
pub(super) const MAX_IDLE_PER_ORIGIN: usize = 64;

/// Requests in flight per origin and client, at most; the others wait their turn (within their
/// timeout). hyper-util gives a request that finds no idle connection a new one, and when another
/// request's connection comes back first it takes that one and finishes the new connection in the
/// background, into the pool or closed: a burst of 500 refreshes over TLS kept hundreds of
/// handshakes in flight after the burst was served (866 open sockets after four bursts, each costing
/// the server a handshake and us its buffers). With no more requests in flight than idle
/// connections kept, a burst after the first finds its connections in the pool.
pub(super) const MAX_IN_FLIGHT_PER_ORIGIN: usize = MAX_IDLE_PER_ORIGIN;

/// Origins whose in-flight bound a client keeps; past this many, an origin with nothing in flight
/// is forgotten (or, with none such, a request goes unbounded).
const MAX_ORIGINS: usize = 64;

/// Clients kept (one per transport setting): a new setting (another proxy, another connect
/// timeout) beyond this many closes the least recently used one's pool.
const MAX_CLIENTS: usize = 8;

/// Why an exchange failed; `super` turns it into the package's error words.
#[derive(Debug)]
pub enum Failure {
    /// The connect or the whole exchange ran out of time.
    Timeout,
    /// The host name did not resolve: Node's `getaddrinfo` code (`ENOTFOUND`, `EAI_AGAIN`).
    NotFound { host: String, code: &'static str },
    /// No address of `peer` accepted a connection.
    Connect { peer: String, error: io::Error },
    /// The TLS handshake failed (rustls's words).
    Tls(String),
    /// The peer closed the connection before a whole response head.
    HangUp,
    /// The connection failed while the response was read.
    Broken(io::Error),
    /// The peer closed the connection before the whole body.
    CutShort,
    /// Not an HTTP response, or a request we refuse to write.
    Protocol(String),
    /// The proxy refused the tunnel, with its status if known.
    Proxy(Option<u16>),
    /// The proxy answered an http URL's request itself (407: it wants credentials).
    ProxyAnswered(u16),
    /// The body is larger than `MAX_BODY`.
    TooLarge,
}

/// Sends `req` to `url` (through `proxy` when given) and reads the whole response, within its
/// timeouts: the connect timeout for each connection attempt, their sum for everything.
pub async fn exchange(
    req: &Request,
    url: &Url,
    proxy: Option<&Proxy>,
    user_agent: &str,
) -> Result<Response, Failure> {
    let total = req.connect_timeout + req.read_timeout;
    match tokio::time::timeout(total, exchange_unbounded(req, url, proxy, user_agent)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Timeout),
    }
}

async fn exchange_unbounded(
    req: &Request,
    url: &Url,
    proxy: Option<&Proxy>,
    user_agent: &str,
) -> Result<Response, Failure> {
    let (client, in_flight) = client(req, proxy, url)?;
    let turn = match in_flight {
        Some(bound) => Some(
            bound
                .acquire_owned()
                .await
                .map_err(|_| Failure::Protocol("HTTP client closed".into()))?,
        ),
        None => None,
    };
    let result = exchange_with(&client, req, url, proxy, user_agent).await;
    // Given up once the whole response is read (its connection goes back to the pool).
    drop(turn);
    result
}

/// One exchange on `client` (the rest of [`exchange_unbounded`]).
async fn exchange_with(
    client: &reqwest::Client,
    req: &Request,
    url: &Url,
    proxy: Option<&Proxy>,
    user_agent: &str,
) -> Result<Response, Failure> {
    // Who a refused connection names: the proxy when there is one, as in Node.
    let peer = proxy.map_or_else(|| url.peer(), |p| p.url.peer());
    let method = match req.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
    };
    let mut request = client
        .request(method, url.inner().clone())
        .headers(headers(req, user_agent)?);
    match &req.body {
        Some(body) => request = request.body(body.clone()),
        // `Content-Length: 0`, as Node sends for a POST or PUT without a body.
        None if matches!(req.method, Method::Post | Method::Put) => {
            request = request.body(Vec::new())
        }
        None => {}
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| failure(&e, &peer, url.bare_host(), Phase::Head))?;
    let status = response.status().as_u16();
    // Through a proxy, an http URL's 407 is the proxy's answer, not the server's: never read.
    if status == 407 && proxy.is_some() && url.scheme() == "http" {
        return Err(Failure::ProxyAnswered(status));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(Failure::TooLarge);
    }
    let mut body = Vec::new();
    // Chunk by chunk, stopping at the cap: a larger body is never held whole.
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failure(&e, &peer, url.bare_host(), Phase::Body))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            crate::secret::wipe_bytes(&mut body);
            return Err(Failure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response { status, body })
}

/// What tells two clients apart: the proxy (its whole URL, credentials included) and the connect
/// timeout (hyper-util's connector shares it between a host's addresses). Trust is the process's
/// one TLS configuration, the same for every client.
#[derive(PartialEq, Eq)]
struct Setting {
    proxy: Option<String>,
    connect_timeout: Duration,
}

// The proxy URL may carry a password: overwritten when the setting goes, like every secret.
impl Drop for Setting {
    fn drop(&mut self) {
        if let Some(proxy) = self.proxy.as_mut() {
            crate::secret::wipe(proxy);
        }
    }
}

/// A long-lived client and what it was built for.
struct Pooled {
    setting: Setting,
    client: reqwest::Client,
    /// A task that never ends, on the runtime the client's pool lives on (its idle sweeper and
    /// connections are tasks there): finished once that runtime has shut down (the napi runtime
    /// of a process whose last worker ended; a test's runtime), when the client is built again.
    runtime_alive: tokio::task::JoinHandle<()>,
    /// The in-flight bound of each origin ([`MAX_IN_FLIGHT_PER_ORIGIN`]).
    origins: Vec<(String, Arc<tokio::sync::Semaphore>)>,
}

impl Pooled {
    /// The in-flight bound of `origin`; `None` when [`MAX_ORIGINS`] others are busy.
    fn bound(&mut self, origin: String) -> Option<Arc<tokio::sync::Semaphore>> {
        if let Some((_, bound)) = self.origins.iter().find(|(o, _)| *o == origin) {
            return Some(bound.clone());
        }
        if self.origins.len() >= MAX_ORIGINS {
            let idle = self.origins.iter().position(|(_, b)| {
                Arc::strong_count(b) == 1 && b.available_permits() == MAX_IN_FLIGHT_PER_ORIGIN
            })?;
            self.origins.swap_remove(idle);
        }
        let bound = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT_PER_ORIGIN));
        self.origins.push((origin, bound.clone()));
        Some(bound)
    }
}

/// The process's clients, most recently used last.
static CLIENTS: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

/// The client for `req`'s transport setting through `proxy` (the pooled one, or a new one) and the
/// in-flight bound of `url`'s origin with it.
type Chosen = (reqwest::Client, Option<Arc<tokio::sync::Semaphore>>);
fn client(req: &Request, proxy: Option<&Proxy>, url: &Url) -> Result<Chosen, Failure> {
    let setting = Setting {
        proxy: proxy.map(|p| p.url.inner().as_str().to_owned()),
        connect_timeout: req.connect_timeout,
    };
    let mut gone = Vec::new();
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    // Clients of a runtime that has shut down: their pool's tasks are gone with it.
    let mut i = 0;
    while i < clients.len() {
        if clients[i].runtime_alive.is_finished() {
            gone.push(clients.remove(i));
        } else {
            i += 1;
        }
    }
    let found = clients.iter().position(|c| c.setting == setting);
    let mut pooled = match found {
        Some(i) => clients.remove(i),
        None => {
            if clients.len() >= MAX_CLIENTS {
                gone.push(clients.remove(0));
            }
            Pooled {
                setting,
                client: build(req, proxy)?,
                runtime_alive: tokio::spawn(std::future::pending()),
                origins: Vec::new(),
            }
        }
    };
    let client = (pooled.client.clone(), pooled.bound(url.origin()));
    clients.push(pooled);
    drop(clients);
    // Dropped outside the lock: a client's drop closes its idle connections.
    drop(gone);
    Ok(client)
}

/// A client: our TLS configuration, HTTP/1 only, no redirects, a bounded pool of idle
/// connections, our resolver, and `proxy` or none (the environment is read by `super::proxy`, not
/// by reqwest).
fn build(req: &Request, proxy: Option<&Proxy>) -> Result<reqwest::Client, Failure> {
    let tls = super::tls::config().map_err(Failure::Tls)?;
    let builder = reqwest::Client::builder()
        // A clone shares the configuration's session store (an `Arc`): every client resumes the
        // sessions any of them made.
        .tls_backend_preconfigured(rustls::ClientConfig::clone(&tls))
        .http1_only()
        .http1_max_headers(MAX_HEADERS)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .connect_timeout(req.connect_timeout)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(MAX_IDLE_PER_ORIGIN)
        .dns_resolver(Arc::new(Resolver));
    let builder = match proxy {
        Some(p) => builder.proxy(
            reqwest::Proxy::all(p.url.inner().clone())
                .map_err(|_| Failure::Protocol("invalid proxy URL".into()))?,
        ),
        None => builder.no_proxy(),
    };
    builder
        .build()
        .map_err(|e| Failure::Protocol(format!("HTTP client: {}", innermost(&e))))
}

/// The request's headers: ours (User-Agent, Accept) unless it names them, then its
/// own, each checked so that a value from outside (a metadata token) cannot smuggle a header in.
fn headers(req: &Request, user_agent: &str) -> Result<HeaderMap, Failure> {
    let mut map = HeaderMap::new();
    let has = |name: &str| {
        req.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    // No `Connection` header: HTTP/1.1 keeps the connection open unless told otherwise.
    let ours = [("user-agent", user_agent), ("accept", "*/*")];
    for (name, value) in ours {
        if !has(name) {
            map.insert(
                name,
                HeaderValue::from_str(value).map_err(|_| invalid(name))?,
            );
        }
    }
    for (name, value) in &req.headers {
        // `http`'s own rule: no control byte but tab, no DEL (so no line break to smuggle a
        // header with).
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid(name))?;
        let mut value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| invalid(name))?;
        value.set_sensitive(true);
        map.append(header, value);
    }
    Ok(map)
}

/// The refusal of a header, named as the provider wrote it (names are the providers' constants).
fn invalid(name: &str) -> Failure {
    Failure::Protocol(format!("invalid value for the {name:?} header"))
}

/// Whether the response head had arrived when the error happened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Body,
}

/// The errors in `e`'s source chain, and inside each `io::Error` the error it carries (an
/// `io::Error`'s own `source()` skips it).
fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut all = Vec::new();
    let mut next = Some(e);
    while let Some(error) = next {
        all.push(error);
        // hyper-rustls wraps tokio-rustls's `io::Error` (which carries the `rustls::Error`) in
        // another `io::Error`: each one is opened.
        next = match error
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => error.source(),
        };
    }
    all
}

/// The words of the innermost error of `e`: never reqwest's own (which quotes the URL).
fn innermost(e: &reqwest::Error) -> String {
    chain(e).last().map(|e| e.to_string()).unwrap_or_default()
}

fn find<'a, T: StdError + 'static>(all: &[&'a (dyn StdError + 'static)]) -> Option<&'a T> {
    all.iter().find_map(|e| e.downcast_ref::<T>())
}

/// The failure `e` is, by what its source chain holds.
fn failure(e: &reqwest::Error, peer: &str, host: &str, phase: Phase) -> Failure {
    let all = chain(e);
    if let Some(tls) = find::<rustls::Error>(&all) {
        return Failure::Tls(tls.to_string());
    }
    if let Some(unresolved) = find::<Unresolved>(&all) {
        return Failure::NotFound {
            host: host.to_owned(),
            code: unresolved.code,
        };
    }
    // hyper-util's tunnel error is not public: its words say which.
    for text in all.iter().map(|e| e.to_string()) {
        match text.as_str() {
            "tunnel error: proxy authorization required" => return Failure::Proxy(Some(407)),
            "tunnel error: unsuccessful" => return Failure::Proxy(None),
            "tunnel error: unexpected end of file" => return Failure::HangUp,
            _ => {}
        }
    }
    // An operating system error: Node's code for it.
    if let Some(os) = all
        .iter()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .find(|io| io.raw_os_error().is_some())
    {
        let error = io::Error::from_raw_os_error(os.raw_os_error().unwrap_or_default());
        use io::ErrorKind as K;
        let at_connect = e.is_connect()
            && matches!(
                error.kind(),
                K::ConnectionRefused
                    | K::TimedOut
                    | K::HostUnreachable
                    | K::NetworkUnreachable
                    | K::AddrNotAvailable
            );
        return if at_connect {
            Failure::Connect {
                peer: peer.to_owned(),
                error,
            }
        } else {
            Failure::Broken(error)
        };
    }
    // Our timers (reqwest's connect timeout, hyper-util's per-address one).
    if e.is_timeout()
        || all.iter().any(|e| {
            e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        })
    {
        return Failure::Timeout;
    }
    let closed = all.iter().any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message())
            || e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof)
    });
    if closed {
        return match phase {
            Phase::Head => Failure::HangUp,
            Phase::Body => Failure::CutShort,
        };
    }
    if phase == Phase::Body {
        // A body hyper could not frame (an invalid chunk, a connection cut in a chunk).
        return Failure::CutShort;
    }
    Failure::Protocol(format!("invalid response: {}", innermost(e)))
}

/// The resolver: the system's (`getaddrinfo`, as Node's `dns.lookup`), with a failure that says
/// which of Node's codes it is.
struct Resolver;

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        #[cfg(test)]
        if let Some(addresses) = tests::resolved(&host) {
            return Box::pin(
                async move { Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs) },
            );
        }
        Box::pin(async move {
            match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(found) => {
                    let addresses: Vec<std::net::SocketAddr> = found.collect();
                    if addresses.is_empty() {
                        return Err(Box::new(Unresolved { code: "ENOTFOUND" }) as _);
                    }
                    Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
                }
                Err(e) => Err(Box::new(Unresolved {
                    code: getaddrinfo_code(&e),
                }) as _),
            }
        })
    }
}

/// A name that did not resolve.
#[derive(Debug)]
struct Unresolved {
    code: &'static str,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "getaddrinfo {}", self.code)
    }
}

impl StdError for Unresolved {}

/// Node's code for a failed lookup: `EAI_AGAIN` for a temporary failure (the resolver did not
/// answer), else `ENOTFOUND`. The standard library keeps only `gai_strerror`'s words, so they
/// are compared with the system's words for `EAI_AGAIN`.
fn getaddrinfo_code(e: &io::Error) -> &'static str {
    #[cfg(unix)]
    {
        // SAFETY: gai_strerror returns a static, NUL-terminated string for every code.
        let again = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(libc::EAI_AGAIN)) };
        if let Ok(again) = again.to_str() {
            if e.to_string().ends_with(again) {
                return "EAI_AGAIN";
            }
        }
    }
    let _ = e;
    "ENOTFOUND"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket, TcpStream};

    /// Host names the resolver answers with these addresses, in this order (tests only: the
    /// hook is compiled into test builds alone, so no user can reach it).
    static RESOLVED: Mutex<Vec<(String, Vec<SocketAddr>)>> = Mutex::new(Vec::new());

    pub(super) fn resolved(host: &str) -> Option<Vec<SocketAddr>> {
        let names = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
        names
            .iter()
            .find(|(name, _)| name == host)
            .map(|(_, addresses)| addresses.clone())
    }

    fn resolve_as(host: &str, addresses: Vec<SocketAddr>) {
        let mut names = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
        names.retain(|(name, _)| name != host);
        names.push((host.to_owned(), addresses));
    }

    /// A listener on `ip:port` whose accept queue is full: the kernel drops new SYNs, so a
    /// connect to it hangs as to an address that never answers. None when `ip:port` is taken or
    /// the family is not configured here.
    async fn black_hole(address: SocketAddr) -> Option<(TcpListener, Vec<TcpStream>)> {
        let socket = match address {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .ok()?;
        socket.bind(address).ok()?;
        let listener = socket.listen(1).ok()?;
        let mut fillers = Vec::new();
        // Connects complete without an accept until the queue is full; then one hangs.
        while let Ok(Ok(tcp)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(address)).await
        {
            fillers.push(tcp);
            assert!(fillers.len() < 64, "the accept queue never filled");
        }
        Some((listener, fillers))
    }

    /// A server on 127.0.0.1 that answers one request with a JSON body, and reports the request
    /// head it read.
    async fn answering_server() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tcp.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client closed before a whole request head");
                head.extend_from_slice(&buf[..n]);
            }
            tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
                .await
                .unwrap();
            String::from_utf8_lossy(&head).into_owned()
        });
        (port, served)
    }

    /// Resolves `host` to a black hole on each of `holes` then to the server, all on one port
    /// (the URL's), sends a GET through the real path and returns how long it took. None when a
    /// black hole could not be made here (the port is taken on that address, or no IPv6).
    async fn get_past_black_holes(
        host: &str,
        holes: &[&str],
        connect: Duration,
    ) -> Option<Duration> {
        let (port, served) = answering_server().await;
        let mut kept = Vec::new();
        let mut addresses = Vec::new();
        for ip in holes {
            let address = SocketAddr::new(ip.parse().unwrap(), port);
            // The same address twice is one black hole, tried twice.
            if !addresses.contains(&address) {
                kept.push(black_hole(address).await?);
            }
            addresses.push(address);
        }
        addresses.push(SocketAddr::from(([127, 0, 0, 1], port)));
        resolve_as(host, addresses);
        let req = Request::new(
            Method::Get,
            format!("http://{host}:{port}/x"),
            connect,
            connect,
        );
        let started = Instant::now();
        let response = super::super::send(req)
            .await
            .expect("the server past the black holes answers");
        let elapsed = started.elapsed();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"{\"ok\":true}");
        // What the server received, read by the server: the request was made to it once.
        let head = tokio::time::timeout(Duration::from_secs(5), served)
            .await
            .unwrap()
            .unwrap();
        assert!(head.starts_with("GET /x HTTP/1.1\r\n"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("host: {host}:{port}\r\n")),
            "{head}"
        );
        drop(kept);
        Some(elapsed)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn request(method: Method, url: &str) -> Request {
        Request::new(method, url, Duration::from_secs(2), Duration::from_secs(2))
    }

    #[test]
    fn headers_are_ours_then_the_providers_and_refuse_line_breaks() {
        let req = request(Method::Get, "http://h/").header("X-Token", "t");
        let map = headers(&req, "ua/1").unwrap();
        assert_eq!(map["user-agent"], "ua/1");
        assert_eq!(map["accept"], "*/*");
        assert!(!map.contains_key("connection"));
        assert_eq!(map["x-token"], "t");
        let smuggled = request(Method::Get, "http://h/").header("X-Token", "a\r\nX-Evil: 1");
        match headers(&smuggled, "ua") {
            Err(Failure::Protocol(text)) => {
                assert_eq!(text, "invalid value for the \"X-Token\" header")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_header_value_is_refused_by_the_rule_of_http_itself() {
        // Every character of one byte inside a value: refused exactly where `http`'s
        // `HeaderValue` refuses it (controls but tab, DEL), with the same words.
        for b in 0u8..=255 {
            let value = format!("a{}b", char::from(b));
            let req = request(Method::Get, "http://h/").header("X-Token", &value);
            let http_accepts = HeaderValue::from_bytes(value.as_bytes()).is_ok();
            match headers(&req, "ua") {
                Ok(map) => {
                    assert!(http_accepts, "byte {b:#04x}");
                    assert_eq!(map["x-token"].as_bytes(), value.as_bytes(), "byte {b:#04x}");
                }
                Err(Failure::Protocol(text)) => {
                    assert!(!http_accepts, "byte {b:#04x}");
                    assert_eq!(text, "invalid value for the \"X-Token\" header");
                }
                Err(other) => panic!("byte {b:#04x}: {other:?}"),
            }
        }
    }

    /// What a test server does with a connection after each answer.
    #[derive(Clone, Copy, Debug)]
    enum AfterAnswer {
        /// Keeps it open for the next request.
        KeepOpen,
        /// Closes it (FIN) at once, without a `Connection: close` header.
        Close,
        /// Resets it (RST) at once.
        Reset,
        /// Closes it when no request came within 50 ms.
        CloseIdle,
        /// Resets it when no request came within 50 ms.
        ResetIdle,
    }

    /// A server on 127.0.0.1 answering every GET with a JSON body numbering the answers, treating
    /// each connection as `after` says; returns its port and a count of connections accepted.
    async fn pooling_server(after: AfterAnswer) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let answers = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        let idle = matches!(after, AfterAnswer::CloseIdle | AfterAnswer::ResetIdle);
                        let read = if idle && head.is_empty() {
                            match tokio::time::timeout(
                                Duration::from_millis(50),
                                tcp.read(&mut buf),
                            )
                            .await
                            {
                                Ok(read) => read,
                                Err(_) => {
                                    if matches!(after, AfterAnswer::ResetIdle) {
                                        tcp.set_zero_linger().unwrap();
                                    }
                                    return;
                                }
                            }
                        } else {
                            tcp.read(&mut buf).await
                        };
                        match read {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                        if !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            continue;
                        }
                        head.clear();
                        let n = answers.fetch_add(1, Ordering::SeqCst) + 1;
                        let body = format!("{{\"n\":{n}}}");
                        let answer = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                        if tcp.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                        match after {
                            AfterAnswer::Close => return,
                            AfterAnswer::Reset => {
                                tcp.set_zero_linger().unwrap();
                                return;
                            }
                            _ => {}
                        }
                    }
                });
            }
        });
        (port, connections)
    }

    #[test]
    fn sequential_requests_to_one_origin_share_one_connection() {
        use std::sync::atomic::Ordering;
        runtime().block_on(async {
            let (port, connections) = pooling_server(AfterAnswer::KeepOpen).await;
            for n in 1..=100 {
                let url = format!("http://127.0.0.1:{port}/creds?identity={n}");
                let response = super::super::send(request(Method::Get, &url))
                    .await
                    .unwrap();
                assert_eq!(response.body, format!("{{\"n\":{n}}}").as_bytes());
            }
            // More than one: hyper-util starts a connection when a request finds none idle, and
            // keeps it if the one in use came back first (a request sent just as the last answer
            // was read). Back to back with nothing between them, that race was lost twice in a
            // run under load (3 connections); a client per request opens 100. The bound,
            // at most 2 for 100 refreshes, is asserted where it is claimed: at the refresh
            // (`__test__/transport/connection-pool.test.js`) and in `npm run bench`.
            let opened = connections.load(Ordering::SeqCst);
            assert!(opened <= 3, "{opened} connections for 100 requests");
        });
    }

    #[test]
    fn a_pooled_connection_the_server_closed_or_reset_never_fails_a_request() {
        // Gaps shorter and longer than the servers' 50 ms idle close, and none at all: a closed or
        // reset connection is either seen closed before it is handed out, or the request that met
        // it is sent again on a fresh connection (nothing of it was written). This is the
        // transport alone: no retry of the session engine hides a failure here. (A request written
        // at the very moment the server closes cannot be told from one the server took and lost:
        // no client sends it again by itself; the session engine retries it as a blip. The gaps
        // keep 30 ms away from that moment.)
        use std::sync::atomic::Ordering;
        let gaps = [0u64, 0, 1, 5, 10, 20, 80, 100, 0, 0, 3, 120, 0, 150, 2];
        runtime().block_on(async {
            for after in [
                AfterAnswer::Close,
                AfterAnswer::Reset,
                AfterAnswer::CloseIdle,
                AfterAnswer::ResetIdle,
            ] {
                let (port, connections) = pooling_server(after).await;
                for round in 0..3 {
                    for (i, gap) in gaps.iter().enumerate() {
                        tokio::time::sleep(Duration::from_millis(*gap)).await;
                        let url = format!("http://127.0.0.1:{port}/creds?r={round}&i={i}");
                        let result = super::super::send(request(Method::Get, &url)).await;
                        if let Err(e) = result {
                            panic!(
                                "{after:?}, round {round}, request {i} after {gap} ms: {}",
                                e.message()
                            );
                        }
                    }
                }
                let opened = connections.load(Ordering::SeqCst);
                eprintln!(
                    "{after:?}: {} requests on {opened} connections",
                    3 * gaps.len()
                );
                assert!(opened > 1, "{after:?}: the server's closes were not met");
            }
        });
    }

    #[test]
    fn a_burst_opens_no_more_connections_than_requests_in_flight_per_origin() {
        use std::sync::atomic::Ordering;
        runtime().block_on(async {
            let (port, connections) = pooling_server(AfterAnswer::KeepOpen).await;
            for burst in 0..3 {
                let requests = (0..300).map(|i| {
                    let url = format!("http://127.0.0.1:{port}/creds?burst={burst}&i={i}");
                    tokio::spawn(super::super::send(request(Method::Get, &url)))
                });
                for done in futures_join(requests).await {
                    assert_eq!(done.unwrap().unwrap().status, 200);
                }
                let opened = connections.load(Ordering::SeqCst);
                eprintln!(
                    "after burst {burst}: {opened} connections for {} requests",
                    300 * (burst + 1)
                );
                // hyper-util races a pool checkout against a new connect, so a turn handed to a
                // waiter can still open a connection while one goes idle: up to about 82 were seen
                // under CI load. Without the bound the first burst alone opened 209.
                assert!(
                    opened <= 2 * MAX_IN_FLIGHT_PER_ORIGIN,
                    "{opened} connections"
                );
            }
        });
    }

    /// Awaits every handle, in order.
    async fn futures_join<T>(
        handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
    ) -> Vec<Result<T, tokio::task::JoinError>> {
        let handles: Vec<_> = handles.collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await);
        }
        out
    }

    #[test]
    fn clients_are_one_per_transport_setting() {
        use std::sync::atomic::Ordering;
        runtime().block_on(async {
            let (port, connections) = pooling_server(AfterAnswer::KeepOpen).await;
            let url = format!("http://127.0.0.1:{port}/creds");
            let other = Duration::from_millis(1999);
            for _ in 0..3 {
                super::super::send(request(Method::Get, &url))
                    .await
                    .unwrap();
                super::super::send(Request::new(Method::Get, &url, other, other))
                    .await
                    .unwrap();
            }
            // One connection per connect timeout: each client its own pool.
            assert_eq!(connections.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn a_temporary_resolver_failure_is_eai_again() {
        #[cfg(unix)]
        {
            let again = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(libc::EAI_AGAIN)) };
            let e = io::Error::other(format!(
                "failed to lookup address information: {}",
                again.to_str().unwrap()
            ));
            assert_eq!(getaddrinfo_code(&e), "EAI_AGAIN");
        }
        let e = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(getaddrinfo_code(&e), "ENOTFOUND");
    }

    /// Prints the skip, as the Node tests say theirs.
    fn skipped(what: &str) {
        eprintln!("skipped: {what}: a black hole could not be made here (port taken, or no IPv6 loopback)");
    }

    #[test]
    fn a_black_holed_address_of_the_same_family_costs_a_share_of_the_connect_timeout() {
        // hyper-util gives each address of one family an equal share of the connect timeout:
        // one black hole before the server costs half of it, two cost two thirds; the server is
        // still reached within the connect timeout.
        let connect = Duration::from_secs(4);
        runtime().block_on(async {
            for (host, holes) in [
                ("one-hole.test", &["127.0.0.2"][..]),
                ("two-holes.test", &["127.0.0.2", "127.0.0.3"][..]),
            ] {
                let Some(elapsed) = get_past_black_holes(host, holes, connect).await else {
                    skipped(host);
                    continue;
                };
                eprintln!("{host}: answered in {} ms", elapsed.as_millis());
                // The lower bound shows the black holes held (a refused or accepted connect would
                // be answered at once); the upper one is the claim.
                let share = connect * holes.len() as u32 / (holes.len() as u32 + 1);
                assert!(
                    elapsed >= share,
                    "{host}: {elapsed:?}, before the black holes' share"
                );
                assert!(
                    elapsed < connect,
                    "{host}: {elapsed:?}, past the connect timeout"
                );
            }
        });
    }

    #[test]
    fn address_families_are_interleaved_so_black_holes_of_one_family_do_not_hold_up_the_other() {
        // As Node's autoSelectFamily: the first address of the other family is tried within
        // about 300 ms (hyper-util's happy eyeballs), however many addresses of the first
        // family never answer and whatever the connect timeout.
        let connect = Duration::from_secs(10);
        runtime().block_on(async {
            for (host, holes) in [
                ("v6-hole.test", &["::1"][..]),
                ("v6-holes.test", &["::1", "::1", "::1"][..]),
            ] {
                let Some(elapsed) = get_past_black_holes(host, holes, connect).await else {
                    skipped(host);
                    continue;
                };
                eprintln!("{host}: answered in {} ms", elapsed.as_millis());
                // Sequential tries would take a share of 10 s (5 s or more); 2 s is far from both.
                assert!(elapsed < Duration::from_secs(2), "{host}: {elapsed:?}");
                assert!(elapsed >= Duration::from_millis(250), "{host}: {elapsed:?}");
            }
        });
    }
}
