//! The UTC `Expiration` parser: any text; what it accepts formats back to the same instant.
#![no_main]
use alicloud_credentials_native::time::{format_utc, parse_expiration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(t) = parse_expiration(text) {
            let whole_seconds = format_utc(t, false);
            let with_millis = format_utc(t, true);
            assert_eq!(parse_expiration(&with_millis).ok(), Some(t), "{with_millis}");
            let back = parse_expiration(&whole_seconds).expect("our own format parses");
            assert!(back <= t && t.duration_since(back).unwrap().as_millis() < 1000);
        }
    }
});
