//! config.json text: parsing, profile selection, every mode's description and builder,
//! source_profile chains, and resolution of what needs no network.
//!
//! What each selected profile describes is built; the modes whose credentials are in the file
//! (`AK`, `StsToken`, and `RamRoleArn`/`ChainableRamRoleArn` chains down to their base) are
//! resolved, and the credentials must be the file's. Modes that fetch (STS, ECS, OAuth, CloudSSO,
//! External) are built but not called: calling them would send requests or run a command; what
//! their servers answer is fuzzed by the response targets (`error_secrets`, `sts_response`, ...).
//! Role chains must be flat (the base is never a chain) and within the documented limit.
#![no_main]
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use alicloud_credentials_native::builder::build;
use alicloud_credentials_native::description::{resolve::MAX_ROLE_CHAIN, ProviderSpec};
use alicloud_credentials_native::env::Env;
use alicloud_credentials_native::profile::cli::spec_from_text;
use libfuzzer_sys::fuzz_target;

/// Polls a future that must finish without waiting on anything (no I/O, no timer).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a provider with its credentials in the file waited on something"),
    }
}

fn check(spec: &ProviderSpec, env: &Env) {
    let provider = build(spec, env);
    assert_eq!(provider.provider_name(), spec.provider_name());
    let (id, secret, token) = match spec {
        ProviderSpec::StaticAk(k) => (&k.id, k.secret.expose(), None),
        ProviderSpec::StaticSts(k, t) => (&k.id, k.secret.expose(), Some(t.expose())),
        ProviderSpec::AssumeRole(chain) => {
            assert!(!chain.roles.is_empty() && chain.roles.len() <= MAX_ROLE_CHAIN);
            assert!(!matches!(*chain.base, ProviderSpec::AssumeRole(_)), "a chain's base is a chain");
            // The base is what the first AssumeRole is signed with: resolve it on its own.
            check(&chain.base, env);
            return;
        }
        _ => return,
    };
    match ready(provider.get_credentials()) {
        Ok(c) => {
            assert_eq!(&c.access_key_id, id);
            assert_eq!(c.access_key_secret.expose(), secret);
            assert_eq!(c.security_token.as_ref().map(|t| t.expose()), token);
        }
        // Empty fields are refused when resolved, as the official does.
        Err(e) => assert!(!e.message().is_empty()),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let env = Env::from_pairs::<&str, &str>([]);
        for profile in [None, Some("default")] {
            if let Ok(spec) = spec_from_text(text, profile, &env) {
                check(&spec, &env);
            }
        }
    }
});
