//! The native half of `Credential`, in the table of native halves (`table`).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::options::NativeOptions;
use super::outcome::{guard, throw};
use super::table::{self, Half};
use crate::credential::Credential;
use crate::description::Options;
use crate::env::Env as ProcessEnv;

/// The credential numbered `handle`, for `f`.
fn with_credential<T>(
    env: &Env,
    handle: u32,
    entry: &'static str,
    f: impl FnOnce(&Credential) -> crate::error::Result<T>,
) -> napi::Result<T> {
    table::with(env, handle, entry, |half| match half {
        Half::Credential(c) => f(c),
        Half::Provider(_) => Err(table::internal(entry, handle, "no credential")),
    })
}

/// Builds the provider for `config` (`null` for the default chain), reading the environment now;
/// returns the credential's number.
#[napi]
pub fn credential_new(env: Env, config: Option<NativeOptions>) -> napi::Result<u32> {
    super::record_runtime(&env);
    let config = config.map(Options::from);
    // Inside the runtime context, so providers can start their background refresh.
    let credential = guard(|| {
        super::injected_panic("credentialNew");
        within_runtime_if_available(|| Credential::from_config(config, &ProcessEnv::process()))
    })
    .map_err(|e| throw(&env, e))?;
    table::insert(&env, Half::Credential(credential))
}

/// The official `type` of the credential.
#[napi]
pub fn credential_kind(env: Env, handle: u32) -> napi::Result<&'static str> {
    with_credential(&env, handle, "credentialKind", |c| {
        super::injected_panic("credentialKind");
        Ok(c.type_name())
    })
}

/// The bearer token of a `bearer` credential.
#[napi]
pub fn credential_bearer_token(env: Env, handle: u32) -> napi::Result<Option<String>> {
    with_credential(&env, handle, "credentialBearerToken", |c| {
        super::injected_panic("credentialBearerToken");
        Ok(c.bearer_token().map(|s| s.expose().to_owned()))
    })
}
