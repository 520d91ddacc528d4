//! The URLs the package sends requests to, read by the `url` crate as the WHATWG URL standard
//! (and so Node's `new URL`) reads them: tabs and newlines stripped, `\` as `/`, dot segments
//! resolved, numeric IPv4 forms normalised, international names in punycode. Only `http` and
//! `https` with a host are accepted.

use crate::error::{Error, Result};

/// A parsed `http`/`https` URL, without its fragment (never sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url(url::Url);

impl Url {
    /// Parses `text`; fails with a message that never quotes it (a URL may carry a token).
    pub fn parse(text: &str) -> Result<Url> {
        let invalid = || Error::config("not a valid http(s) URL");
        let mut url = url::Url::parse(text).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(invalid());
        }
        // Node's http.request refuses a userinfo that does not percent-decode to UTF-8 (its
        // `decodeURIComponent` throws): no request is sent with a guessed Authorization.
        if !decodes(url.username()) || !url.password().is_none_or(decodes) {
            return Err(invalid());
        }
        url.set_fragment(None);
        Ok(Url(url))
    }

    /// The parsed URL.
    pub fn inner(&self) -> &url::Url {
        &self.0
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.0.scheme()
    }

    /// The host as serialised: lower case, an IPv6 address in brackets.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or("")
    }

    /// The host without IPv6 brackets, as resolvers and TLS name it.
    pub fn bare_host(&self) -> &str {
        self.host().trim_start_matches('[').trim_end_matches(']')
    }

    /// The port requests go to.
    pub fn port_or_default(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(80)
    }

    /// `scheme://host[:port]` (a default port is not written).
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.authority())
    }

    /// `host[:port]`, as the `Host` header names it.
    pub fn authority(&self) -> String {
        match self.0.port() {
            Some(p) => format!("{}:{p}", self.host()),
            None => self.host().to_owned(),
        }
    }

    /// `host:port` with the port always written: the peer of a connection, as Node names it.
    pub fn peer(&self) -> String {
        format!("{}:{}", self.host(), self.port_or_default())
    }

    /// The path, without query.
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// The password as written (percent-encoded), if any.
    pub fn password(&self) -> Option<&str> {
        self.0.password()
    }

    /// `base64(user:password)` of the userinfo, percent-decoded: the `Basic` credentials a
    /// request to this URL carries; `None` when both are empty (as Node's `http.request`).
    pub fn basic_credentials(&self) -> Option<String> {
        use base64::Engine;
        if self.0.username().is_empty() && self.0.password().is_none() {
            return None;
        }
        let user = crate::encoding::percent_decode(self.0.username());
        let password = crate::encoding::percent_decode(self.0.password().unwrap_or(""));
        let mut pair = format!("{user}:{password}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
        crate::secret::wipe(&mut pair);
        Some(encoded)
    }

    /// The secret forms of the userinfo's password: as written, percent-decoded, and the
    /// `Basic` value sent with it; empty without a password.
    pub fn password_secrets(&self) -> Vec<String> {
        let Some(password) = self.password() else {
            return Vec::new();
        };
        let mut found = vec![
            password.to_owned(),
            crate::encoding::percent_decode(password),
        ];
        found.extend(self.basic_credentials());
        found
    }

    /// The query's values, form-decoded (`+` is a space), in order.
    pub fn query_values(&self) -> Vec<String> {
        self.0
            .query_pairs()
            .map(|(_, value)| value.into_owned())
            .collect()
    }
}

/// Whether every `%` of `text` starts an escape (two hex digits) and the escapes decode to UTF-8,
/// as `decodeURIComponent` requires.
fn decodes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    escapes_ok
        && percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_urls() {
        let u =
            Url::parse("HTTPS://User:p%40ss@Sts.Example.COM:8443/a/b?x=1&y=%2B+z#frag").unwrap();
        assert_eq!(u.scheme(), "https");
        assert_eq!(u.password(), Some("p%40ss"));
        assert_eq!(u.host(), "sts.example.com");
        assert_eq!(u.port_or_default(), 8443);
        assert_eq!(u.path(), "/a/b");
        assert_eq!(u.query_values(), vec!["1", "+ z"]);
        assert_eq!(u.origin(), "https://sts.example.com:8443");
        assert_eq!(u.authority(), "sts.example.com:8443");
        assert_eq!(u.inner().fragment(), None);
        assert_eq!(
            u.password_secrets(),
            vec!["p%40ss", "p@ss", "VXNlcjpwQHNz"],
            "as written, decoded, and the Basic value of User:p@ss"
        );
    }

    #[test]
    fn defaults_ipv6_and_whatwg_normalisation() {
        let u = Url::parse("http://127.0.0.1").unwrap();
        assert_eq!((u.port_or_default(), u.path()), (80, "/"));
        assert_eq!(
            Url::parse("http://127.0.0.1:80/x").unwrap().origin(),
            "http://127.0.0.1"
        );
        let u = Url::parse("https://[::1]:9443?q").unwrap();
        assert_eq!(
            (u.host(), u.bare_host(), u.peer().as_str()),
            ("[::1]", "::1", "[::1]:9443")
        );
        assert_eq!(
            Url::parse("http://0x7f.1/a/../b").unwrap().origin(),
            "http://127.0.0.1"
        );
        assert_eq!(
            Url::parse("http://2130706433/").unwrap().host(),
            "127.0.0.1"
        );
        assert_eq!(Url::parse("http://h/a/./../b\\c").unwrap().path(), "/b/c");
        assert_eq!(Url::parse("ht\ttp://h\n/p").unwrap().origin(), "http://h");
        assert_eq!(Url::parse("http://:@h/").unwrap().basic_credentials(), None);
        // Extra slashes are skipped before the host of a special scheme.
        assert_eq!(Url::parse("http:///x").unwrap().host(), "x");
    }

    #[test]
    fn not_urls() {
        for bad in [
            "",
            "127.0.0.1:8080",
            "ftp://h/",
            "file:///etc/passwd",
            "http://",
            "http://h:99999/",
            "http://h:8x/",
            "http://[::1/",
            "http://[zz]/",
            "http://256.1.1.1/",
            "http://a b/",
            "http://user:p%zzss@h/",
            "http://us%ffer@h/",
            "http://user:%@h/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad:?}");
        }
        let e = Url::parse("ftp://user:secret-token@h/").unwrap_err();
        assert!(!e.message().contains("secret-token"));
    }
}
