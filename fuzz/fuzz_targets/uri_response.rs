//! The uri credentials document.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = alicloud_credentials_native::providers::uri::parse_credentials(data);
});
