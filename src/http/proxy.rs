//! The proxy a request goes through, from the environment as curl and reqwest read it:
//! `HTTPS_PROXY`/`https_proxy` for https URLs, `HTTP_PROXY`/`http_proxy` for http URLs (the upper-case
//! one is ignored under CGI, where a client can set it as a header), `ALL_PROXY`/`all_proxy` for
//! both; `NO_PROXY`/`no_proxy` lists hosts reached directly. Read at every request.

use super::url::Url;
use crate::env::Env;

/// Where a request is sent instead of its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub url: Url,
}

/// The proxy for `url`, if the environment names one and `NO_PROXY` does not exempt its host. A
/// value that is not a URL is ignored (bare `host:port` means `http://host:port`).
pub fn for_url(url: &Url, env: &Env) -> Option<Proxy> {
    let var = |name: &str| env.get(name);
    let cgi = var("REQUEST_METHOD").is_some();
    let named = if url.scheme() == "https" {
        var("HTTPS_PROXY").or_else(|| var("https_proxy"))
    } else if cgi {
        var("http_proxy")
    } else {
        var("HTTP_PROXY").or_else(|| var("http_proxy"))
    };
    let value = named.or_else(|| var("ALL_PROXY").or_else(|| var("all_proxy")))?;
    let no_proxy = var("NO_PROXY")
        .or_else(|| var("no_proxy"))
        .unwrap_or_default();
    if exempt(&no_proxy, url.bare_host()) {
        return None;
    }
    let value = value.trim();
    let parsed = if value.contains("://") {
        Url::parse(value)
    } else {
        Url::parse(&format!("http://{value}"))
    };
    parsed.ok().map(|url| Proxy { url })
}

/// Whether `host` is listed in `no_proxy`, as curl reads it: `*` alone exempts every host; each
/// entry (separated by commas or spaces) is an exact name or address, a domain (with or without a
/// leading `.`, or `*.`) covering it, or an IP network in CIDR form. An entry with a port, or a `*`
/// inside a list, names no host (curl compares them literally).
///
/// Not hyper-util's `proxy::Matcher` (reqwest's NO_PROXY), which routes every case of the node
/// proxy tests (`transport/http-client.test.js`) the same but reads five kinds of list otherwise
/// (`tests::hyper_util_matcher_reads_these_lists_otherwise` pins each): it splits on commas only
/// (`a b` is one name), keeps `*.corp` as a literal name, does not take `[fe80::1]` as an address,
/// compares `localhost.` (a fully qualified host) with `localhost` as different names, and lets a
/// `*` inside a list exempt every host. Users' lists written for curl (spaces, `*.`, brackets)
/// would then go through the proxy, and `example, *` would skip it for every host.
fn exempt(no_proxy: &str, host: &str) -> bool {
    if no_proxy.trim() == "*" {
        return true;
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    no_proxy.split([',', ' ']).map(str::trim).any(|entry| {
        if let Some((net, bits)) = entry.split_once('/') {
            return match (ip, net.parse::<std::net::IpAddr>(), bits.parse::<u32>()) {
                (Some(ip), Ok(net), Ok(bits)) => in_network(ip, net, bits),
                _ => false,
            };
        }
        let entry = match entry.strip_prefix('[').and_then(|e| e.strip_suffix(']')) {
            Some(v6) => v6,
            None => entry,
        };
        let entry = entry
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if entry.is_empty() {
            return false;
        }
        if let (Some(ip), Ok(e)) = (ip, entry.parse::<std::net::IpAddr>()) {
            return ip == e;
        }
        host == entry
            || host
                .strip_suffix(entry.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

fn in_network(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(a), V4(n)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (V6(a), V6(n)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_variable_names_the_proxy() {
        let proxy_of = |url: &str, pairs: &[(&str, &str)]| {
            for_url(
                &Url::parse(url).unwrap(),
                &Env::from_pairs(pairs.iter().copied()),
            )
            .map(|p| p.url.origin())
        };
        let all = [
            ("HTTPS_PROXY", "http://upper-s:1"),
            ("https_proxy", "http://lower-s:1"),
            ("HTTP_PROXY", "upper:2"),
            ("http_proxy", "http://lower:2"),
        ];
        assert_eq!(
            proxy_of("https://h/", &all).as_deref(),
            Some("http://upper-s:1")
        );
        assert_eq!(
            proxy_of("http://h/", &all).as_deref(),
            Some("http://upper:2")
        );
        let cgi = [all.as_slice(), &[("REQUEST_METHOD", "GET")]].concat();
        assert_eq!(
            proxy_of("http://h/", &cgi).as_deref(),
            Some("http://lower:2")
        );
        let fallback = [("ALL_PROXY", "https://every:3")];
        assert_eq!(
            proxy_of("http://h/", &fallback).as_deref(),
            Some("https://every:3")
        );
        let exempt = [("all_proxy", "http://every:3"), ("no_proxy", "h")];
        assert_eq!(proxy_of("http://h/", &exempt), None);
        assert_eq!(proxy_of("http://h/", &[("HTTP_PROXY", "ftp://x")]), None);
        assert_eq!(proxy_of("http://h/", &[]), None);
    }

    #[test]
    fn no_proxy_entries() {
        let list = "localhost, .internal.example, *.corp, 10.0.0.0/8, ::1, [fe80::1] 172.16.0.9";
        for host in [
            "localhost",
            "a.internal.example",
            "internal.example",
            "x.y.corp",
            "10.2.3.4",
            "::1",
            "fe80::1",
            "LOCALHOST.",
            "172.16.0.9",
        ] {
            assert!(exempt(list, host), "{host}");
        }
        for host in [
            "notlocalhost",
            "example",
            "corp.example",
            "11.0.0.1",
            "192.168.1.6",
            "xinternal.example",
        ] {
            assert!(!exempt(list, host), "{host}");
        }
        assert!(exempt("*", "anything"));
        assert!(exempt(" * ", "anything"));
        assert!(!exempt("", "anything"));
        // curl compares these literally: they name no host.
        assert!(!exempt("192.168.1.5:8080", "192.168.1.5"));
        assert!(!exempt("localhost:3128", "localhost"));
        assert!(!exempt("example.invalid, *", "anything"));
        assert!(exempt("0.0.0.0/0", "8.8.8.8"));
        assert!(!exempt("10.0.0.0/99,10.0.0.0/x", "10.0.0.1"));
    }

    /// hyper-util's `proxy::Matcher` on the same lists: where it agrees with [`exempt`], and the
    /// five lists it reads otherwise (see [`exempt`]). When a hyper-util release reads them as
    /// curl does, this fails, and `exempt` can give way to it.
    #[test]
    fn hyper_util_matcher_reads_these_lists_otherwise() {
        use hyper_util::client::proxy::matcher::Matcher;
        let direct = |no_proxy: &str, host: &str| {
            let matcher = Matcher::builder()
                .all("http://proxy.invalid:1")
                .no(no_proxy)
                .build();
            let uri: http::Uri = format!("http://{host}/").parse().unwrap();
            matcher.intercept(&uri).is_none()
        };
        let bracketed = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_owned()
            }
        };
        let agreed = "localhost, .internal.example, 10.0.0.0/8, ::1, 172.16.0.9, 127.0.0.0/8, example.invalid";
        for host in [
            "localhost",
            "a.internal.example",
            "internal.example",
            "10.2.3.4",
            "::1",
            "172.16.0.9",
            "127.0.0.1",
            "example.invalid",
            "notlocalhost",
            "corp.example",
            "11.0.0.1",
            "xinternal.example",
            "LOCALHOST",
        ] {
            assert_eq!(
                direct(agreed, &bracketed(host)),
                exempt(agreed, host),
                "{host}"
            );
        }
        for (list, host) in [
            ("*", "anything"),
            ("", "anything"),
            ("localhost:3128", "localhost"),
        ] {
            assert_eq!(direct(list, host), exempt(list, host), "{list} {host}");
        }
        // The lists read otherwise: (list, host, curl's reading).
        for (list, host, curl) in [
            ("a.example b.example", "b.example", true),
            ("*.corp", "x.y.corp", true),
            ("[fe80::1]", "fe80::1", true),
            ("localhost", "localhost.", true),
            ("example.invalid, *", "anything", false),
        ] {
            assert_eq!(exempt(list, host), curl, "{list} {host}");
            assert_eq!(direct(list, &bracketed(host)), !curl, "{list} {host}");
        }
    }
}
