//! `NativeProvider`: the native half of the exported provider classes.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

use super::options::NativeOptions;
use super::outcome::{
    guard, guarded, throw, NativeCredentials, NativeDescription, NativeFailure, NativeOutcome,
};
use crate::credentials::CredentialsProvider;
use crate::description::{self, ProviderSpec};
use crate::env::Env as ProcessEnv;
use crate::providers::custom::CustomProvider;

type JsGetCredentials = ThreadsafeFunction<(), Promise<NativeCredentials>, (), Status, false, true>;

/// The native half of the exported provider classes.
#[napi]
pub struct NativeProvider {
    /// What the provider stands for, so it can be the source of another.
    spec: ProviderSpec,
    inner: Arc<dyn CredentialsProvider>,
}

// Every asynchronous call takes what it needs from `self` on the JavaScript thread, before the
// future starts: a future that borrowed the object could outlive it (a worker thread that exits
// mid-call frees its objects) and read freed memory.

/// Resolves `provider` on the runtime; a panic becomes the outcome's error.
pub(super) fn resolve<'env>(
    env: &'env Env,
    provider: Arc<dyn CredentialsProvider>,
    entry: &'static str,
) -> napi::Result<PromiseRaw<'env, NativeOutcome>> {
    env.spawn_future(async move {
        let outcome = guarded(async move {
            super::injected_panic(entry);
            provider.get_credentials().await
        })
        .await;
        Ok(NativeOutcome::from(outcome))
    })
}

/// Describes `provider` after resolving it; a panic becomes the described error.
pub(super) fn describe<'env>(
    env: &'env Env,
    provider: Arc<dyn CredentialsProvider>,
    entry: &'static str,
) -> napi::Result<PromiseRaw<'env, NativeDescription>> {
    env.spawn_future(async move {
        let described = guarded(async move {
            super::injected_panic(entry);
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

#[napi]
impl NativeProvider {
    /// Builds a provider of `kind` (`static_ak`, `ram_role_arn`, `default`, ...) from builder
    /// options; `source` is the previous provider of a role provider.
    #[napi(factory)]
    pub fn create(
        env: Env,
        kind: String,
        options: NativeOptions,
        source: Option<&NativeProvider>,
    ) -> napi::Result<Self> {
        super::record_runtime(&env);
        let source = source.map(|s| s.spec.clone());
        guard(|| {
            super::injected_panic("NativeProvider.create");
            within_runtime_if_available(|| {
                let process = ProcessEnv::process();
                let spec = description::from_builder(&kind, options.into(), source, &process)?;
                let inner = crate::builder::build(&spec, &process);
                Ok(NativeProvider { spec, inner })
            })
        })
        .map_err(|e| throw(&env, e))
    }

    /// Wraps a JavaScript provider's `getCredentials` (called on the JavaScript thread, never
    /// keeping the process alive) so native providers can use it as their source.
    // The alias is Rust's; TypeScript is given the function's own type.
    #[napi(
        factory,
        ts_args_type = "getCredentials: () => Promise<NativeCredentials>, name: string"
    )]
    pub fn from_js(
        env: Env,
        get_credentials: JsGetCredentials,
        name: String,
    ) -> napi::Result<Self> {
        guard(|| {
            super::injected_panic("NativeProvider.fromJs");
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
            Ok(NativeProvider {
                spec: crate::builder::custom(name, &inner),
                inner,
            })
        })
        .map_err(|e| throw(&env, e))
    }

    /// The official provider name (`ram_role_arn/static_ak`, `default`, ...).
    #[napi(getter)]
    pub fn name(&self, env: Env) -> napi::Result<String> {
        guard(|| {
            super::injected_panic("NativeProvider.name");
            Ok(self.inner.provider_name())
        })
        .map_err(|e| throw(&env, e))
    }

    /// Stops background refresh (ECS `asyncCredentialUpdateEnabled`).
    #[napi]
    pub fn close(&self) {
        let _ = guard(|| {
            super::injected_panic("NativeProvider.close");
            self.inner.close();
            Ok(())
        });
    }

    /// Resolves the provider's credentials.
    #[napi(ts_return_type = "Promise<NativeOutcome>")]
    pub fn resolve<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, NativeOutcome>> {
        resolve(env, self.inner.clone(), "NativeProvider.resolve")
    }

    /// Resolves and describes the provider's credentials, without secrets.
    #[napi(ts_return_type = "Promise<NativeDescription>")]
    pub fn describe<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, NativeDescription>> {
        describe(env, self.inner.clone(), "NativeProvider.describe")
    }
}
