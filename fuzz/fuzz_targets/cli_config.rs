//! config.json text: parsing, profile selection, every mode's description, source_profile chains,
//! then the provider built from it. Descriptions that need no network (static keys and tokens) are
//! resolved too; the others are only built (they would reach servers).
#![no_main]
use std::sync::OnceLock;

use alicloud_credentials_native::builder::build;
use alicloud_credentials_native::description::ProviderSpec;
use alicloud_credentials_native::env::Env;
use alicloud_credentials_native::profile::cli::spec_from_text;
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Env::from_pairs::<&str, &str>([]);
    for profile in [None, Some("default")] {
        let Ok(spec) = spec_from_text(text, profile, &env) else {
            continue;
        };
        let provider = build(&spec, &env);
        assert_eq!(provider.provider_name(), spec.provider_name());
        if matches!(spec, ProviderSpec::StaticAk(_) | ProviderSpec::StaticSts(..)) {
            let c = runtime()
                .block_on(provider.get_credentials())
                .expect("static credentials resolve");
            assert!(!c.access_key_id.is_empty());
        }
    }
});
