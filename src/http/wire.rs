//! One HTTP/1.1 exchange on a fresh connection: resolve, connect (through a proxy when the
//! environment names one), TLS, write the request, read the response.
//!
//! Refreshes are minutes apart, so no connection is kept: every request says `Connection: close`,
//! and a pooled socket can never be reused just as the server closes it. The response head is
//! capped at [`MAX_HEAD`], the body at [`super::MAX_BODY`].

use std::io;

use std::future::Future;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use super::proxy::{self, Proxy};
use super::url::Url;
use super::{Request, Response, MAX_BODY};

/// Largest response head (status line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// Why an exchange failed; `super` turns it into the package's error words.
#[derive(Debug)]
pub enum Failure {
    /// The connect or the whole exchange ran out of time.
    Timeout,
    /// The host name did not resolve.
    NotFound(String),
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
    /// The proxy refused the tunnel.
    Proxy(u16),
    /// The body is larger than `MAX_BODY`.
    TooLarge,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Sends `req` to `url` and reads the whole response, within its timeouts.
pub async fn exchange(req: &Request, url: &Url, user_agent: &str) -> Result<Response, Failure> {
    let total = req.connect_timeout + req.read_timeout;
    match tokio::time::timeout(total, exchange_unbounded(req, url, user_agent)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Timeout),
    }
}

async fn exchange_unbounded(
    req: &Request,
    url: &Url,
    user_agent: &str,
) -> Result<Response, Failure> {
    let proxy = if req.use_proxy {
        proxy::for_url(url, &crate::env::Env::process())
    } else {
        None
    };
    let connecting = connect(url, proxy.as_ref());
    let mut stream = match tokio::time::timeout(req.connect_timeout, connecting).await {
        Ok(stream) => stream?,
        Err(_) => return Err(Failure::Timeout),
    };
    // Through a proxy, a plain-HTTP request names the whole URL; otherwise the path.
    let absolute = proxy.is_some() && url.scheme == "http";
    let head = request_head(
        req,
        url,
        user_agent,
        absolute.then_some(proxy.as_ref()).flatten(),
    )?;
    let mut out = head.into_bytes();
    if let Some(body) = &req.body {
        out.extend_from_slice(body);
    }
    let written = async {
        stream.write_all(&out).await?;
        stream.flush().await
    }
    .await;
    crate::secret::wipe_bytes(&mut out);
    written.map_err(io_failure)?;
    read_response(&mut Reader::new(stream)).await
}

/// A connected stream to `url`'s server: directly or through `proxy`, TLS for https.
async fn connect(url: &Url, proxy: Option<&Proxy>) -> Result<Box<dyn Stream>, Failure> {
    let Some(proxy) = proxy else {
        let tcp = tcp(url.bare_host(), url.port_or_default()).await?;
        return if url.scheme == "https" {
            tls(tcp, url.bare_host()).await
        } else {
            Ok(Box::new(tcp))
        };
    };
    let tcp = tcp(proxy.url.bare_host(), proxy.url.port_or_default()).await?;
    let mut stream: Box<dyn Stream> = if proxy.url.scheme == "https" {
        tls(tcp, proxy.url.bare_host()).await?
    } else {
        Box::new(tcp)
    };
    if url.scheme == "http" {
        return Ok(stream);
    }
    // An https URL goes through a tunnel, end to end encrypted.
    let authority = format!("{}:{}", url.host, url.port_or_default());
    let mut connect = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = proxy.url.basic_credentials() {
        connect.push_str(&format!("Proxy-Authorization: Basic {auth}\r\n"));
    }
    connect.push_str("\r\n");
    stream
        .write_all(connect.as_bytes())
        .await
        .map_err(io_failure)?;
    crate::secret::wipe(&mut connect);
    let mut reader = Reader::new(stream);
    let (status, _) = read_head(&mut reader).await?;
    if !(200..300).contains(&status) {
        return Err(Failure::Proxy(status));
    }
    if !reader.buf.is_empty() {
        return Err(Failure::Protocol(
            "the proxy sent data before the tunnel".into(),
        ));
    }
    tls(reader.stream, url.bare_host()).await
}

async fn tcp(host: &str, port: u16) -> Result<TcpStream, Failure> {
    let peer = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let addresses: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![(ip, port).into()],
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(found) => found.collect(),
            Err(_) => return Err(Failure::NotFound(host.to_owned())),
        },
    };
    if addresses.is_empty() {
        return Err(Failure::NotFound(host.to_owned()));
    }
    match connect_any(addresses).await {
        Ok(tcp) => {
            // One write per request and per response: nothing to gain from Nagle.
            let _ = tcp.set_nodelay(true);
            Ok(tcp)
        }
        Err(error) => Err(Failure::Connect { peer, error }),
    }
}

/// How long an attempt has before the next address is tried beside it (Node's
/// `autoSelectFamilyAttemptTimeout` is 250 ms; RFC 8305 suggests 250 ms too).
const NEXT_ADDRESS_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// The first of `addresses` that accepts a connection. They are tried in order, each new attempt
/// started as soon as one fails or after [`NEXT_ADDRESS_AFTER`] without an answer, the earlier
/// ones kept running (happy eyeballs): an address that never answers, as over a broken IPv6
/// route, does not use up the connect timeout. The other attempts end when one wins.
async fn connect_any(addresses: Vec<std::net::SocketAddr>) -> io::Result<TcpStream> {
    let mut waiting = addresses.into_iter();
    let mut attempts = tokio::task::JoinSet::new();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    loop {
        if attempts.is_empty() {
            match waiting.next() {
                Some(address) => {
                    attempts.spawn(TcpStream::connect(address));
                }
                None => return Err(last),
            }
        }
        tokio::select! {
            done = attempts.join_next() => match done {
                Some(Ok(Ok(tcp))) => return Ok(tcp),
                Some(failed) => {
                    last = match failed {
                        Ok(Err(e)) => e,
                        _ => io::Error::other("connection attempt aborted"),
                    };
                    // A failed attempt hands over to the next address at once.
                    if let Some(address) = waiting.next() {
                        attempts.spawn(TcpStream::connect(address));
                    }
                }
                None => {}
            },
            _ = tokio::time::sleep(NEXT_ADDRESS_AFTER), if waiting.len() > 0 => {
                if let Some(address) = waiting.next() {
                    attempts.spawn(TcpStream::connect(address));
                }
            }
        }
    }
}

async fn tls<S>(stream: S, host: &str) -> Result<Box<dyn Stream>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = super::tls::config().map_err(Failure::Tls)?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Failure::Tls(format!("invalid server name: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match connector.connect(name, stream).await {
        Ok(s) => Ok(Box::new(s)),
        Err(e) => Err(tls_failure(e)),
    }
}

/// rustls reports its own failures as `InvalidData` carrying a `rustls::Error`.
fn tls_failure(e: io::Error) -> Failure {
    let is_tls = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
    if is_tls {
        Failure::Tls(e.to_string())
    } else {
        io_failure(e)
    }
}

fn io_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Failure::HangUp
    } else {
        Failure::Broken(e)
    }
}

fn request_head(
    req: &Request,
    url: &Url,
    user_agent: &str,
    absolute_via: Option<&Proxy>,
) -> Result<String, Failure> {
    let target = match absolute_via {
        Some(_) => format!("{}://{}{}", url.scheme, url.authority(), url.target),
        None => url.target.clone(),
    };
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {}\r\n",
        req.method,
        url.authority()
    );
    let has = |name: &str| {
        req.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if !has("user-agent") {
        head.push_str(&format!("User-Agent: {user_agent}\r\n"));
    }
    if !has("accept") {
        head.push_str("Accept: */*\r\n");
    }
    if let Some(auth) = url.basic_credentials() {
        head.push_str(&format!("Authorization: Basic {auth}\r\n"));
    }
    if let Some(auth) = absolute_via.and_then(|p| p.url.basic_credentials()) {
        head.push_str(&format!("Proxy-Authorization: Basic {auth}\r\n"));
    }
    for (name, value) in &req.headers {
        // A value from outside (a metadata token) must not smuggle a header in.
        let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        let value_ok = value
            .bytes()
            .all(|b| b == b'\t' || (b >= b' ' && b != 0x7f));
        if !name_ok || !value_ok {
            return Err(Failure::Protocol(format!(
                "invalid value for the {name:?} header"
            )));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &req.body {
        Some(body) => head.push_str(&format!("Content-Length: {}\r\n", body.len())),
        None if req.method.has_body() => head.push_str("Content-Length: 0\r\n"),
        None => {}
    }
    head.push_str("Connection: close\r\n\r\n");
    Ok(head)
}

/// A stream with what has been read of it and not yet used.
struct Reader<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + Unpin> Reader<S> {
    fn new(stream: S) -> Self {
        Reader {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads more; `Ok(0)` at the end. A TLS peer that closes without `close_notify` ends the
    /// stream too: the body's own framing says whether it was whole.
    async fn fill(&mut self) -> Result<usize, Failure> {
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk).await {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            Err(e) => Err(Failure::Broken(e)),
        }
    }

    /// Takes `n` bytes (fewer at the end of the stream: `CutShort`).
    async fn take(&mut self, n: usize) -> Result<Vec<u8>, Failure> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(Failure::CutShort);
            }
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Takes one line, without its CRLF (or LF).
    async fn line(&mut self) -> Result<Vec<u8>, Failure> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = self.take(end + 1).await?;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(Failure::Protocol("a line longer than 64 KiB".into()));
            }
            if self.fill().await? == 0 {
                return Err(Failure::CutShort);
            }
        }
    }
}

/// Status and headers of one response head (after any interim 1xx heads).
async fn read_head<S: AsyncRead + Unpin>(
    reader: &mut Reader<S>,
) -> Result<(u16, Vec<(String, String)>), Failure> {
    loop {
        let end = loop {
            if let Some(end) = find_head_end(&reader.buf) {
                break end;
            }
            if reader.buf.len() > MAX_HEAD {
                return Err(Failure::Protocol("response head larger than 64 KiB".into()));
            }
            if reader.fill().await? == 0 {
                return Err(Failure::HangUp);
            }
        };
        let mut slots = [httparse::EMPTY_HEADER; 100];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&reader.buf[..end]) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(Failure::Protocol("incomplete response head".into()))
            }
            Err(e) => return Err(Failure::Protocol(format!("invalid response head: {e}"))),
        }
        let status = parsed.code.unwrap_or(0);
        let headers = parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).trim().to_owned(),
                )
            })
            .collect();
        reader.buf.drain(..end);
        // 101 would switch protocols, which we never ask for.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return Ok((status, headers));
    }
}

/// The end of the head: a line ending followed by an empty line (CRLF or bare LF).
fn find_head_end(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find_map(|i| match &buf[i..] {
        [b'\n', b'\n', ..] => Some(i + 2),
        [b'\n', b'\r', b'\n', ..] => Some(i + 3),
        _ => None,
    })
}

async fn read_response<S: AsyncRead + Unpin>(reader: &mut Reader<S>) -> Result<Response, Failure> {
    let (status, headers) = read_head(reader).await?;
    let header = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let content_type = header("content-type").next().map(str::to_owned);
    let chunked = header("transfer-encoding")
        .flat_map(|v| v.split(','))
        .last()
        .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
    let mut lengths = header("content-length")
        .flat_map(|v| v.split(','))
        .map(str::trim);
    let length = match lengths.next() {
        None => None,
        Some(first) => {
            let n: u64 = first
                .parse()
                .map_err(|_| Failure::Protocol("invalid Content-Length".into()))?;
            if lengths.any(|other| other != first) {
                return Err(Failure::Protocol("conflicting Content-Length".into()));
            }
            Some(n)
        }
    };
    let body = if status == 204 || status == 304 {
        Vec::new()
    } else if chunked {
        read_chunked(reader).await?
    } else if let Some(n) = length {
        if n > MAX_BODY as u64 {
            return Err(Failure::TooLarge);
        }
        reader.take(n as usize).await?
    } else {
        while reader.fill().await? > 0 {
            if reader.buf.len() > MAX_BODY {
                return Err(Failure::TooLarge);
            }
        }
        std::mem::take(&mut reader.buf)
    };
    Ok(Response {
        status,
        content_type,
        body,
    })
}

async fn read_chunked<S: AsyncRead + Unpin>(reader: &mut Reader<S>) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    loop {
        let line = reader.line().await?;
        let size_text = String::from_utf8_lossy(&line);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| Failure::Protocol("invalid chunk size".into()))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !reader.line().await?.is_empty() {}
            return Ok(body);
        }
        if size > MAX_BODY || body.len() + size > MAX_BODY {
            return Err(Failure::TooLarge);
        }
        body.extend_from_slice(&reader.take(size).await?);
        if !reader.line().await?.is_empty() {
            return Err(Failure::Protocol("invalid chunk end".into()));
        }
    }
}

/// The response framing over `bytes` as the whole stream: what a server sent, read as
/// [`exchange`] reads it (the fuzz target's entry). Reading a slice never waits, so one poll ends
/// it.
pub fn read_response_bytes(bytes: &[u8]) -> Result<Response, Failure> {
    let mut reader = Reader::new(bytes);
    let mut future = std::pin::pin!(read_response(&mut reader));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(Failure::Protocol("a slice read waited".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn read(raw: &[u8]) -> Result<Response, Failure> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(read_response(&mut Reader::new(raw)))
    }

    #[test]
    fn bodies_by_length_chunks_and_end_of_stream() {
        let r = read(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}trailing").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{}"[..]));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let r = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n").unwrap();
        assert_eq!(r.body, b"abcde");
        let r = read(b"HTTP/1.0 503 No\r\n\r\nbusy").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (503, &b"busy"[..]));
        let r = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.len()), (204, 0));
        let r = read(b"HTTP/1.1 200 OK\nContent-Length: 1\n\nx").unwrap();
        assert_eq!(r.body, b"x");
    }

    #[test]
    fn broken_responses() {
        assert!(matches!(read(b""), Err(Failure::HangUp)));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-"),
            Err(Failure::HangUp)
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            Err(Failure::CutShort)
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n"),
            Err(Failure::TooLarge)
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n"),
            Err(Failure::TooLarge)
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Err(Failure::Protocol(_))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            Err(Failure::Protocol(_))
        ));
        assert!(matches!(
            read(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(Failure::Protocol(_))
        ));
        let huge = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; 70_000]].concat();
        assert!(matches!(read(&huge), Err(Failure::Protocol(_))));
        let mut endless = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        endless.resize(MAX_BODY + 100, b'x');
        assert!(matches!(read(&endless), Err(Failure::TooLarge)));
    }

    /// A listener whose accept queue is full drops new SYNs: on loopback, an address that never
    /// answers (as a broken IPv6 route does).
    async fn black_hole() -> (
        std::net::SocketAddr,
        Vec<TcpStream>,
        tokio::net::TcpListener,
    ) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1).unwrap();
        let address = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        // Fill the queue: connects that complete without an accept, until one does not.
        while let Ok(Ok(tcp)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(address)).await
        {
            fillers.push(tcp);
        }
        (address, fillers, listener)
    }

    #[test]
    fn an_address_that_never_answers_does_not_hold_up_the_next() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (dead, _fillers, _queue) = black_hole().await;
            let good = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let good_address = good.local_addr().unwrap();
            let connected = tokio::time::timeout(
                Duration::from_secs(3),
                connect_any(vec![dead, good_address]),
            )
            .await
            .expect("the second address is tried while the first hangs")
            .unwrap();
            assert_eq!(connected.peer_addr().unwrap(), good_address);
            // All refusing: the last error.
            let refused = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let refused_address = refused.local_addr().unwrap();
            drop(refused);
            let e = connect_any(vec![refused_address, refused_address])
                .await
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        });
    }

    #[test]
    fn request_heads() {
        let mut req = Request::new(
            super::super::Method::Post,
            "http://u%40x:p%3Aw@h:81/p?q=1",
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .header("Content-Type", "application/x-www-form-urlencoded");
        req.body = Some(b"a=b".to_vec());
        let url = Url::parse(&req.url).unwrap();
        let head = request_head(&req, &url, "ua/1", None).unwrap();
        assert_eq!(
            head,
            "POST /p?q=1 HTTP/1.1\r\nHost: h:81\r\nUser-Agent: ua/1\r\nAccept: */*\r\n\
             Authorization: Basic dUB4OnA6dw==\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 3\r\nConnection: close\r\n\r\n"
        );
        let proxy = Proxy {
            url: Url::parse("http://pu:pp@proxy:3128").unwrap(),
        };
        let head = request_head(&req, &url, "ua/1", Some(&proxy)).unwrap();
        assert!(head.starts_with("POST http://h:81/p?q=1 HTTP/1.1\r\n"));
        assert!(head.contains("Proxy-Authorization: Basic cHU6cHA=\r\n"));
        let smuggled = Request::new(
            super::super::Method::Get,
            "http://h/",
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .header("X-Token", "a\r\nX-Evil: 1");
        assert!(matches!(
            request_head(&smuggled, &url, "ua", None),
            Err(Failure::Protocol(_))
        ));
    }
}
