//! What a hostile server can send: any bytes as an HTTP response, and any text as a URL.
#![no_main]
use alicloud_credentials_native::http::{wire, Url, MAX_BODY};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = wire::read_response_bytes(data) {
        assert!(response.body.len() <= MAX_BODY);
        assert!(response.body.len() <= data.len());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(url) = Url::parse(text) {
            // What goes on the request line is one token: nothing that would end it.
            assert!(url.target.starts_with('/'));
            assert!(url.target.bytes().all(|b| b.is_ascii_graphic()));
            assert!(!url.host.is_empty());
        }
    }
});
