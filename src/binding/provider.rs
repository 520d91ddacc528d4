//! The native half of the exported provider classes, in the table of native halves (`table`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

use super::options::NativeOptions;
use super::outcome::{guard, throw, NativeCredentials};
use super::table::{self, Half, ProviderHalf};
use crate::credentials::CredentialsProvider;
use crate::description;
use crate::env::Env as ProcessEnv;
use crate::providers::custom::CustomProvider;

type JsGetCredentials = ThreadsafeFunction<(), Promise<NativeCredentials>, (), Status, false, true>;

/// The provider numbered `handle`, for `f`.
fn with_provider<T>(
    env: &Env,
    handle: u32,
    entry: &'static str,
    f: impl FnOnce(&ProviderHalf) -> crate::error::Result<T>,
) -> napi::Result<T> {
    table::with(env, handle, entry, |half| match half {
        Half::Provider(p) => f(p),
        Half::Credential(_) => Err(table::internal(entry, handle, "no provider")),
    })
}

/// Builds a provider of `kind` (`static_ak`, `ram_role_arn`, `default`, ...) from builder
/// options; `source` is the number of the previous provider of a role provider. Returns the
/// provider's number.
#[napi]
pub fn provider_create(
    env: Env,
    kind: String,
    options: NativeOptions,
    source: Option<u32>,
) -> napi::Result<u32> {
    super::record_runtime(&env);
    let source = match source {
        Some(h) => Some(with_provider(&env, h, "providerCreate", |p| {
            Ok(p.spec.clone())
        })?),
        None => None,
    };
    let half = guard(|| {
        super::injected_panic("providerCreate");
        within_runtime_if_available(|| {
            let process = ProcessEnv::process();
            let spec = description::from_builder(&kind, options.into(), source, &process)?;
            let inner = crate::builder::build(&spec, &process);
            Ok(ProviderHalf { spec, inner })
        })
    })
    .map_err(|e| throw(&env, e))?;
    table::insert(&env, Half::Provider(Box::new(half)))
}

/// Wraps a JavaScript provider's `getCredentials` (called on the JavaScript thread, never
/// keeping the process alive) so native providers can use it as their source; returns its
/// number.
// The alias is Rust's; TypeScript is given the function's own type.
#[napi(ts_args_type = "getCredentials: () => Promise<NativeCredentials>, name: string")]
pub fn provider_from_js(
    env: Env,
    get_credentials: JsGetCredentials,
    name: String,
) -> napi::Result<u32> {
    let half = guard(|| {
        super::injected_panic("providerFromJs");
        let get_credentials = Arc::new(get_credentials);
        let call = move || {
            let get_credentials = get_credentials.clone();
            let pending: crate::credentials::BoxFuture<'static, _> = Box::pin(async move {
                let promise = get_credentials
                    .call_async(())
                    .await
                    .map_err(|e| e.reason.clone())?;
                promise.await.map(Into::into).map_err(|e| e.reason.clone())
            });
            pending
        };
        let inner: Arc<dyn CredentialsProvider> =
            Arc::new(CustomProvider::new(name.clone(), Box::new(call)));
        Ok(ProviderHalf {
            spec: crate::builder::custom(name, &inner),
            inner,
        })
    })
    .map_err(|e| throw(&env, e))?;
    table::insert(&env, Half::Provider(Box::new(half)))
}

/// The official provider name (`ram_role_arn/static_ak`, `default`, ...).
#[napi]
pub fn provider_name(env: Env, handle: u32) -> napi::Result<String> {
    with_provider(&env, handle, "providerName", |p| {
        super::injected_panic("providerName");
        Ok(p.inner.provider_name())
    })
}

/// Stops background refresh (ECS `asyncCredentialUpdateEnabled`).
#[napi]
pub fn provider_close(env: Env, handle: u32) {
    let _ = with_provider(&env, handle, "providerClose", |p| {
        let _ = guard(|| {
            super::injected_panic("providerClose");
            p.inner.close();
            Ok(())
        });
        Ok(())
    });
}
