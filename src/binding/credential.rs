//! `NativeCredential`: the native half of `Credential`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::options::NativeOptions;
use super::outcome::{guard, throw, NativeDescription, NativeOutcome};
use crate::credential::Credential;
use crate::description::Options;
use crate::env::Env as ProcessEnv;

/// The native half of `Credential`: a configured provider.
#[napi]
pub struct NativeCredential {
    // Inline: napi boxes the struct already, an `Arc` more was one allocation more per identity.
    inner: Credential,
}

#[napi]
impl NativeCredential {
    /// Builds the provider for `config` (`null` for the default chain), reading the environment now.
    #[napi(constructor)]
    pub fn new(env: Env, config: Option<NativeOptions>) -> napi::Result<Self> {
        super::record_runtime(&env);
        let config = config.map(Options::from);
        // Inside the runtime context, so providers can start their background refresh.
        let credential = guard(|| {
            super::injected_panic("NativeCredential.new");
            within_runtime_if_available(|| Credential::from_config(config, &ProcessEnv::process()))
        })
        .map_err(|e| throw(&env, e))?;
        Ok(NativeCredential { inner: credential })
    }

    /// The official `type` of the credential.
    #[napi(getter)]
    pub fn kind(&self, env: Env) -> napi::Result<String> {
        guard(|| {
            super::injected_panic("NativeCredential.kind");
            Ok(self.inner.type_name().to_owned())
        })
        .map_err(|e| throw(&env, e))
    }

    /// The bearer token of a `bearer` credential.
    #[napi]
    pub fn bearer_token(&self, env: Env) -> napi::Result<Option<String>> {
        guard(|| {
            super::injected_panic("NativeCredential.bearerToken");
            Ok(self.inner.bearer_token().map(|s| s.expose().to_owned()))
        })
        .map_err(|e| throw(&env, e))
    }

    /// Resolves the credentials, from the provider's cache when it has one.
    #[napi(ts_return_type = "Promise<NativeOutcome>")]
    pub fn resolve<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, NativeOutcome>> {
        super::provider::resolve(
            env,
            self.inner.provider().clone(),
            "NativeCredential.resolve",
        )
    }

    /// Resolves and describes the credential, without secrets.
    #[napi(ts_return_type = "Promise<NativeDescription>")]
    pub fn describe<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, NativeDescription>> {
        super::provider::describe(
            env,
            self.inner.provider().clone(),
            "NativeCredential.describe",
        )
    }
}
