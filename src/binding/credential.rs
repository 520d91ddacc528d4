//! The native half of `Credential`: a table of credentials per JavaScript thread, which `index.js`
//! refers to by number.
//!
//! A number, not a class instance: a `#[napi]` object per identity cost about 230 bytes of native
//! memory beside the credential itself (napi-rs's box, its reference-map entry and finalizer
//! slot, Node's wrap reference and handle) and a JavaScript object, for each of thousands of live
//! identities. `index.js` frees a number with a `FinalizationRegistry` when its `Credential` is
//! collected; the table is the thread's instance data, so whatever the collector had not yet
//! finalized goes with the thread's environment (a worker that exits, the process at its end).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use slab::Slab;

use super::options::NativeOptions;
use super::outcome::{guard, throw, NativeDescription, NativeOutcome};
use crate::credential::Credential;
use crate::description::Options;
use crate::env::Env as ProcessEnv;
use crate::error::{Error as CoreError, ErrorKind};

/// The credentials made in one JavaScript thread, by number.
#[derive(Default)]
struct Credentials(Slab<Credential>);

/// This thread's table, made on first use.
fn table(env: &Env) -> napi::Result<&'static mut Credentials> {
    if let Some(table) = env.get_instance_data::<Credentials>()? {
        return Ok(table);
    }
    // Dropped (and every credential in it) when the environment is torn down.
    env.set_instance_data(Credentials::default(), (), |_| {})?;
    env.get_instance_data::<Credentials>()?
        .ok_or_else(|| napi::Error::from_reason("no credential table"))
}

/// The credential numbered `handle`, for `f` (panics guarded); a number no live credential has is
/// an internal error (`index.js` frees a number only once its `Credential` is gone).
fn with_credential<T>(
    env: &Env,
    handle: u32,
    entry: &'static str,
    f: impl FnOnce(&Credential) -> crate::error::Result<T>,
) -> napi::Result<T> {
    let table = table(env)?;
    guard(|| {
        let credential = table.0.get(handle as usize).ok_or_else(|| {
            CoreError::new(
                ErrorKind::Internal,
                format!("alicloud-credentials-native: {entry}: no credential numbered {handle}"),
            )
        })?;
        f(credential)
    })
    .map_err(|e| throw(env, e))
}

/// Builds the provider for `config` (`null` for the default chain), reading the environment now;
/// returns the credential's number.
#[napi]
pub fn credential_new(env: Env, config: Option<NativeOptions>) -> napi::Result<u32> {
    super::record_runtime(&env);
    let table = table(&env)?;
    let config = config.map(Options::from);
    // Inside the runtime context, so providers can start their background refresh.
    let credential = guard(|| {
        super::injected_panic("credentialNew");
        within_runtime_if_available(|| Credential::from_config(config, &ProcessEnv::process()))
    })
    .map_err(|e| throw(&env, e))?;
    u32::try_from(table.0.insert(credential))
        .map_err(|_| napi::Error::from_reason("more than 2^32 live credentials"))
}

/// Frees the credential numbered `handle` (its `Credential` was collected). A number no live
/// credential has is ignored.
#[napi]
pub fn credential_release(env: Env, handle: u32) {
    let _ = guard(|| {
        super::injected_panic("credentialRelease");
        if let Ok(table) = table(&env) {
            table.0.try_remove(handle as usize);
        }
        Ok(())
    });
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

/// Resolves the credentials, from the provider's cache when it has one.
#[napi(ts_return_type = "Promise<NativeOutcome>")]
pub fn credential_resolve(env: &Env, handle: u32) -> napi::Result<PromiseRaw<'_, NativeOutcome>> {
    // The provider is taken now, on this thread: the credential may be freed before the call ends.
    let provider = with_credential(env, handle, "credentialResolve", |c| {
        Ok(c.provider().clone())
    })?;
    super::provider::resolve(env, provider, "credentialResolve")
}

/// Resolves and describes the credential, without secrets.
#[napi(ts_return_type = "Promise<NativeDescription>")]
pub fn credential_describe(
    env: &Env,
    handle: u32,
) -> napi::Result<PromiseRaw<'_, NativeDescription>> {
    let provider = with_credential(env, handle, "credentialDescribe", |c| {
        Ok(c.provider().clone())
    })?;
    super::provider::describe(env, provider, "credentialDescribe")
}
