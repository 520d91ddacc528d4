//! `NativeProvider`: the native half of the exported provider classes.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

use super::options::{JsCredentials, NativeOptions};
use super::outcome::{guard, guarded, throw, NativeDescription, NativeFailure, NativeOutcome};
use crate::description::{self, ProviderSpec};
use crate::env::Env as ProcessEnv;
use crate::provider::CredentialsProvider;
use crate::providers::custom::CustomProvider;

type JsGetCredentials = ThreadsafeFunction<(), Promise<JsCredentials>, (), Status, false, true>;

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
pub(super) fn resolve(
    env: &Env,
    provider: Arc<dyn CredentialsProvider>,
) -> napi::Result<PromiseRaw<'_, NativeOutcome>> {
    env.spawn_future(async move {
        let outcome = guarded(async move { provider.get_credentials().await }).await;
        Ok(NativeOutcome::from(outcome))
    })
}

/// Describes `provider` after resolving it; a panic becomes the described error.
pub(super) fn describe(
    env: &Env,
    provider: Arc<dyn CredentialsProvider>,
) -> napi::Result<PromiseRaw<'_, NativeDescription>> {
    env.spawn_future(async move {
        let described =
            guarded(async move { Ok(crate::diagnostics::describe(provider.as_ref()).await) });
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
        ts_args_type = "getCredentials: () => Promise<JsCredentials>, name: string"
    )]
    pub fn from_js(get_credentials: JsGetCredentials, name: String) -> Self {
        let get_credentials = Arc::new(get_credentials);
        let call = move || {
            let get_credentials = get_credentials.clone();
            let pending: crate::provider::BoxFuture<'static, _> = Box::pin(async move {
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
        NativeProvider {
            spec: crate::builder::custom(name, &inner),
            inner,
        }
    }

    /// The official provider name (`ram_role_arn/static_ak`, `default`, ...).
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.provider_name()
    }

    /// Stops background refresh (ECS `asyncCredentialUpdateEnabled`).
    #[napi]
    pub fn close(&self) {
        let _ = guard(|| {
            self.inner.close();
            Ok(())
        });
    }

    /// Resolves the provider's credentials.
    #[napi(ts_return_type = "Promise<NativeOutcome>")]
    pub fn resolve<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, NativeOutcome>> {
        resolve(env, self.inner.clone())
    }

    /// Resolves and describes the provider's credentials, without secrets.
    #[napi(ts_return_type = "Promise<NativeDescription>")]
    pub fn describe<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, NativeDescription>> {
        describe(env, self.inner.clone())
    }
}
