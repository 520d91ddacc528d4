//! The few URLs the package sends requests to: `http(s)://[user[:password]@]host[:port][/path][?query]`.
//!
//! Hosts are ASCII names, IPv4 addresses or bracketed IPv6 addresses (no IDNA: credential servers
//! are addressed by ASCII names). What a request line may not carry (spaces, controls, non-ASCII,
//! quotes, ...) is percent-encoded, as WHATWG URL parsers do; a fragment is dropped.

use crate::error::{Error, Result};

/// A parsed `http`/`https` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`, lower case.
    pub scheme: &'static str,
    /// Percent-encoded, as written; empty when absent.
    pub username: String,
    /// Percent-encoded, as written.
    pub password: Option<String>,
    /// Lower case; an IPv6 address keeps its brackets.
    pub host: String,
    /// Only when written and not the scheme's default.
    pub port: Option<u16>,
    /// Path and query as sent in the request line, starting with `/`.
    pub target: String,
}

impl Url {
    /// Parses `text`; fails with a message that never quotes it (a URL may carry a token).
    pub fn parse(text: &str) -> Result<Url> {
        let invalid = || Error::config("not a valid http(s) URL");
        let text = text.trim_matches(|c: char| c <= ' ');
        let (scheme, rest) = text.split_once("://").ok_or_else(invalid)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => "http",
            "https" => "https",
            _ => return Err(invalid()),
        };
        let rest = rest.split('#').next().unwrap_or("");
        let authority_end = rest.find(['/', '?', '\\']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(authority_end);
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
                None => (info.to_owned(), None),
            },
            None => (String::new(), None),
        };
        let (host, port_text) = if let Some(v6) = hostport.strip_prefix('[') {
            let close = v6.find(']').ok_or_else(invalid)?;
            let address = &v6[..close];
            address
                .parse::<std::net::Ipv6Addr>()
                .map_err(|_| invalid())?;
            let after = &v6[close + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(invalid()),
            };
            (format!("[{}]", address.to_ascii_lowercase()), port)
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
                None => (hostport.to_ascii_lowercase(), None),
            }
        };
        let host_ok = !host.is_empty()
            && (host.starts_with('[')
                || host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
        if !host_ok {
            return Err(invalid());
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = match port_text {
            None | Some("") => None,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u16 = p.parse().map_err(|_| invalid())?;
                (n != default_port).then_some(n)
            }
            Some(_) => return Err(invalid()),
        };
        Ok(Url {
            scheme,
            username,
            password,
            host,
            port,
            target: request_target(target),
        })
    }

    /// The port requests go to.
    pub fn port_or_default(&self) -> u16 {
        self.port
            .unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }

    /// The host without IPv6 brackets, as resolvers and TLS name it.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// `host:port` (the `Host` header omits a default port).
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// The path, without query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    /// `base64(user:password)` of the userinfo, percent-decoded: the `Basic` credentials a
    /// request to this URL carries; `None` without userinfo.
    pub fn basic_credentials(&self) -> Option<String> {
        use base64::Engine;
        if self.username.is_empty() && self.password.is_none() {
            return None;
        }
        let user = crate::secret::percent_decode(&self.username);
        let password = crate::secret::percent_decode(self.password.as_deref().unwrap_or(""));
        let mut pair = format!("{user}:{password}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
        crate::secret::wipe(&mut pair);
        Some(encoded)
    }

    /// The query's values, form-decoded (`+` is a space), in order.
    pub fn query_values(&self) -> Vec<String> {
        let Some((_, query)) = self.target.split_once('?') else {
            return Vec::new();
        };
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let value = pair.split_once('=').map_or("", |(_, v)| v);
                crate::secret::percent_decode(&value.replace('+', " "))
            })
            .collect()
    }
}

/// `/path?query` with what a request line may not carry percent-encoded; `\` is a `/`, as in
/// WHATWG URLs of special schemes.
fn request_target(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 1);
    if !raw.starts_with(['/', '\\']) {
        out.push('/');
    }
    let mut in_query = false;
    for c in raw.chars() {
        match c {
            '?' if !in_query => {
                in_query = true;
                out.push('?');
            }
            '\\' if !in_query => out.push('/'),
            c if c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '`' | '{' | '}') => {
                out.push(c)
            }
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_urls() {
        let u =
            Url::parse("HTTPS://User:p%40ss@Sts.Example.COM:8443/a/b?x=1&y=%2B+z#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.username, "User");
        assert_eq!(u.password.as_deref(), Some("p%40ss"));
        assert_eq!(u.host, "sts.example.com");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.target, "/a/b?x=1&y=%2B+z");
        assert_eq!(u.path(), "/a/b");
        assert_eq!(u.query_values(), vec!["1", "+ z"]);
        assert_eq!(u.origin(), "https://sts.example.com:8443");
        assert_eq!(u.authority(), "sts.example.com:8443");
    }

    #[test]
    fn defaults_and_ipv6() {
        let u = Url::parse("http://127.0.0.1").unwrap();
        assert_eq!(
            (u.port, u.port_or_default(), u.target.as_str()),
            (None, 80, "/")
        );
        let u = Url::parse("http://127.0.0.1:80/x").unwrap();
        assert_eq!(u.port, None, "a default port is not kept");
        let u = Url::parse("https://[::1]:9443?q").unwrap();
        assert_eq!(
            (u.host.as_str(), u.bare_host(), u.port),
            ("[::1]", "::1", Some(9443))
        );
        assert_eq!(u.target, "/?q");
        assert_eq!(Url::parse("http://h:/p").unwrap().port, None);
    }

    #[test]
    fn what_a_request_line_cannot_carry_is_encoded() {
        let u = Url::parse("http://h/a b/\u{e9}?q=\"x y\"\\").unwrap();
        assert_eq!(u.target, "/a%20b/%C3%A9?q=%22x%20y%22\\");
        assert_eq!(Url::parse("http://h\\x").unwrap().target, "/x");
    }

    #[test]
    fn not_urls() {
        for bad in [
            "",
            "127.0.0.1:8080",
            "ftp://h/",
            "file:///etc/passwd",
            "http://",
            "http:///x",
            "http://h:99999/",
            "http://h:8x/",
            "http://[::1/",
            "http://[zz]/",
            "http://h\u{e9}/",
            "http://a b/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad:?}");
        }
        let e = Url::parse("ftp://user:secret-token@h/").unwrap_err();
        assert!(!e.message().contains("secret-token"));
    }
}
