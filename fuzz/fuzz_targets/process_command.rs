//! The `process_command` splitter, POSIX and Windows rules.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for windows in [false, true] {
            if let Ok(args) = alicloud_credentials_native::profile::command::split(text, windows) {
                assert!(!args.is_empty() && !args[0].is_empty());
            }
        }
    }
});
