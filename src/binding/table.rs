//! The native halves of JavaScript objects (`Credential`s and the exported provider classes): a
//! table per JavaScript thread, which JavaScript refers to by number.
//!
//! A number, not a class instance: a `#[napi]` object per identity cost about 230 bytes of native
//! memory beside what it wraps (napi-rs's box, its reference-map entry and finalizer slot, Node's
//! wrap reference and handle) and a JavaScript object, for each of thousands of live identities.
//! JavaScript frees a number with a `FinalizationRegistry` when its object is collected; the table
//! is the thread's instance data, so whatever the collector had not yet finalized goes with the
//! thread's environment (a worker that exits, the process at its end).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use slab::Slab;

use super::outcome::{guard, guarded, throw, NativeDescription, NativeFailure, NativeOutcome};
use crate::credential::Credential;
use crate::credentials::CredentialsProvider;
use crate::description::ProviderSpec;
use crate::error::{Error as CoreError, ErrorKind, Result as CoreResult};

/// The native half of one JavaScript object.
pub(super) enum Half {
    /// A `Credential`'s.
    Credential(Credential),
    /// A provider object's (boxed: rarer, and a description is 184 bytes).
    Provider(Box<ProviderHalf>),
}

/// The native half of an exported provider object.
pub(super) struct ProviderHalf {
    /// What the provider stands for, so it can be the source of another.
    pub spec: ProviderSpec,
    pub inner: Arc<dyn CredentialsProvider>,
}

impl Half {
    fn provider(&self) -> &Arc<dyn CredentialsProvider> {
        match self {
            Half::Credential(c) => c.provider(),
            Half::Provider(p) => &p.inner,
        }
    }
}

/// The halves made in one JavaScript thread, by number.
#[derive(Default)]
struct Halves(Slab<Half>);

/// This thread's table, made on first use.
fn table(env: &Env) -> napi::Result<&'static mut Halves> {
    if let Some(table) = env.get_instance_data::<Halves>()? {
        return Ok(table);
    }
    // Dropped (and every half in it) when the environment is torn down.
    env.set_instance_data(Halves::default(), (), |_| {})?;
    env.get_instance_data::<Halves>()?
        .ok_or_else(|| napi::Error::from_reason("no table of native halves"))
}

/// Puts `half` in this thread's table; its number.
pub(super) fn insert(env: &Env, half: Half) -> napi::Result<u32> {
    u32::try_from(table(env)?.0.insert(half))
        .map_err(|_| napi::Error::from_reason("more than 2^32 live native halves"))
}

/// The half numbered `handle`, for `f` (panics guarded); a number no live half has is an internal
/// error (JavaScript frees a number only once its object is gone).
pub(super) fn with<T>(
    env: &Env,
    handle: u32,
    entry: &'static str,
    f: impl FnOnce(&Half) -> CoreResult<T>,
) -> napi::Result<T> {
    let table = table(env)?;
    guard(|| {
        let half = table
            .0
            .get(handle as usize)
            .ok_or_else(|| internal(entry, handle, "no native half"))?;
        f(half)
    })
    .map_err(|e| throw(env, e))
}

/// The internal error of an entry point given a number that is not what it takes.
pub(super) fn internal(entry: &str, handle: u32, what: &str) -> CoreError {
    CoreError::new(
        ErrorKind::Internal,
        format!("alicloud-credentials-native: {entry}: {what} numbered {handle}"),
    )
}

/// Frees the half numbered `handle` (its object was collected). A number no live half has is
/// ignored.
#[napi]
pub fn native_release(env: Env, handle: u32) {
    let _ = guard(|| {
        super::injected_panic("nativeRelease");
        if let Ok(table) = table(&env) {
            table.0.try_remove(handle as usize);
        }
        Ok(())
    });
}

// Every asynchronous call takes what it needs from the table on the JavaScript thread, before the
// future starts: a future that borrowed a half could outlive it (a worker thread that exits
// mid-call frees its table) and read freed memory.

/// Resolves the credentials of the half numbered `handle`, from its provider's cache when it has
/// one; a panic becomes the outcome's error.
#[napi(ts_return_type = "Promise<NativeOutcome>")]
pub fn native_resolve(env: &Env, handle: u32) -> napi::Result<PromiseRaw<'_, NativeOutcome>> {
    let provider = with(env, handle, "nativeResolve", |h| Ok(h.provider().clone()))?;
    env.spawn_future(async move {
        let outcome = guarded(async move {
            super::injected_panic("nativeResolve");
            provider.get_credentials().await
        })
        .await;
        Ok(NativeOutcome::from(outcome))
    })
}

/// Resolves and describes the credentials of the half numbered `handle`, without secrets; a panic
/// becomes the described error.
#[napi(ts_return_type = "Promise<NativeDescription>")]
pub fn native_describe(env: &Env, handle: u32) -> napi::Result<PromiseRaw<'_, NativeDescription>> {
    let provider = with(env, handle, "nativeDescribe", |h| Ok(h.provider().clone()))?;
    env.spawn_future(async move {
        let described = guarded(async move {
            super::injected_panic("nativeDescribe");
            Ok(crate::diagnostics::describe(provider.as_ref()).await)
        });
        Ok(match described.await {
            Ok(d) => d.into(),
            Err(e) => NativeDescription {
                provider_name: None,
                access_key_id: None,
                expiration: None,
                next_refresh: None,
                endpoint: None,
                steps: Vec::new(),
                error: Some(NativeFailure::from(e)),
            },
        })
    })
}
