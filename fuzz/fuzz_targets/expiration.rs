//! The UTC `Expiration` parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = alicloud_credentials_native::time::parse_expiration(text);
    }
});
