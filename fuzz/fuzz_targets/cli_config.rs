//! config.json text: parsing, profile selection, every mode's builder, source_profile chains.
#![no_main]
use alicloud_credentials_native::env::Env;
use alicloud_credentials_native::builder::from_cli_text as provider_from_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let env = Env::from_pairs::<&str, &str>([]);
        let _ = provider_from_text(text, None, &env);
        let _ = provider_from_text(text, Some("default"), &env);
    }
});
