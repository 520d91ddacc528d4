//! Any text as a URL: what is accepted is an http(s) URL with a host, and its redacted form
//! keeps neither userinfo nor query. (Response framing is hyper's, fuzzed upstream.)
#![no_main]
use alicloud_credentials_native::http::{redact_url, Url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(url) = Url::parse(text) {
            assert!(matches!(url.scheme(), "http" | "https"));
            assert!(!url.host().is_empty());
            let redacted = redact_url(text);
            assert!(!redacted.contains('?'));
            let again = Url::parse(&redacted).expect("a redacted URL parses");
            assert_eq!(again.host(), url.host());
            assert!(again.password().is_none() && again.inner().username().is_empty());
        }
    }
});
