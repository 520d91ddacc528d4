//! OAuth `/v1/token` and `/v1/exchange` answers.
#![no_main]
use alicloud_credentials_native::providers::oauth::{parse_exchange, parse_token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_token(data);
    let _ = parse_exchange(data);
});
