// napi-derive registers the exported functions with Node; a test build has no registry, so
// rustc sees free `#[napi]` functions as unused there.
#![cfg_attr(test, allow(dead_code))]

//! The N-API layer: converts JavaScript values to core types and core errors to JavaScript errors
//! carrying the official message and a stable `code`. No credential logic lives here.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

use crate::config::Config;
use crate::credential::Credential;
use crate::credentials::Credentials;
use crate::env::Env as ProcessEnv;
use crate::error::Error as CoreError;

/// A failure, as data: `index.js` turns it into an `Error` with `message` and `code`, so the
/// stack trace starts in the caller's code rather than in a native frame.
#[napi(object)]
pub struct NativeFailure {
    pub code: String,
    pub message: String,
}

impl From<CoreError> for NativeFailure {
    fn from(e: CoreError) -> Self {
        NativeFailure {
            code: e.kind().code().to_owned(),
            message: e.message().to_owned(),
        }
    }
}

/// The outcome of an asynchronous call: exactly one of `value` and `error` is set.
#[napi(object)]
pub struct NativeOutcome {
    pub value: Option<NativeSnapshot>,
    pub error: Option<NativeFailure>,
}

/// Throws `e` as a JavaScript `Error` with its `code`, for synchronous calls.
fn throw(env: &Env, e: CoreError) -> napi::Error {
    crate::log::debug("error", || format!("{}: {}", e.kind().code(), e.message()));
    match env.throw_error(e.message(), Some(e.kind().code())) {
        Ok(()) => napi::Error::from_status(Status::PendingException),
        Err(err) => err,
    }
}

/// Options of a credential, already type-checked by `index.js`.
#[napi(object)]
#[derive(Default)]
pub struct NativeConfig {
    #[napi(js_name = "type")]
    pub kind: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub bearer_token: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub role_session_expiration: Option<f64>,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub sts_endpoint: Option<String>,
    pub sts_region_id: Option<String>,
    pub enable_vpc: Option<bool>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file_path: Option<String>,
    #[napi(js_name = "credentialsURI")]
    pub credentials_uri: Option<String>,
    pub role_name: Option<String>,
    #[napi(js_name = "disableIMDSv1")]
    pub disable_imds_v1: Option<bool>,
    pub async_credential_update_enabled: Option<bool>,
    pub timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub public_key_id: Option<String>,
    pub private_key_file: Option<String>,
}

impl From<NativeConfig> for Config {
    fn from(c: NativeConfig) -> Self {
        Config {
            r#type: c.kind,
            access_key_id: c.access_key_id,
            access_key_secret: c.access_key_secret,
            security_token: c.security_token,
            bearer_token: c.bearer_token,
            role_arn: c.role_arn,
            role_session_name: c.role_session_name,
            role_session_expiration: c.role_session_expiration,
            policy: c.policy,
            external_id: c.external_id,
            sts_endpoint: c.sts_endpoint,
            sts_region_id: c.sts_region_id,
            enable_vpc: c.enable_vpc,
            oidc_provider_arn: c.oidc_provider_arn,
            oidc_token_file_path: c.oidc_token_file_path,
            credentials_uri: c.credentials_uri,
            role_name: c.role_name,
            disable_imds_v1: c.disable_imds_v1,
            async_credential_update_enabled: c.async_credential_update_enabled,
            timeout: c.timeout,
            connect_timeout: c.connect_timeout,
            public_key_id: c.public_key_id,
            private_key_file: c.private_key_file,
        }
    }
}

/// One resolved credential, with how long it may be reused without asking again.
#[napi(object)]
pub struct NativeSnapshot {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
    pub bearer_token: Option<String>,
    /// Empty for bearer credentials.
    pub provider_name: String,
    /// Milliseconds since the epoch until which the snapshot may be served; `Infinity` for ever.
    pub reuse_until: f64,
    /// Milliseconds since the epoch when the credentials expire, for session credentials.
    pub expiration: Option<f64>,
}

fn epoch_ms(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as f64,
        Err(_) => 0.0,
    }
}

impl From<Credentials> for NativeSnapshot {
    fn from(c: Credentials) -> Self {
        NativeSnapshot {
            access_key_id: c.access_key_id.clone(),
            access_key_secret: c.access_key_secret.expose().to_owned(),
            security_token: c.security_token.as_ref().map(|s| s.expose().to_owned()),
            bearer_token: c.bearer_token.as_ref().map(|s| s.expose().to_owned()),
            provider_name: c.provider_name.clone(),
            reuse_until: c.reuse_until.map_or(f64::INFINITY, epoch_ms),
            expiration: c.expiration.map(epoch_ms),
        }
    }
}

/// The native half of `Credential`: a configured provider.
#[napi]
pub struct NativeCredential {
    inner: Arc<Credential>,
}

#[napi]
impl NativeCredential {
    /// Builds the provider for `config` (`null` for the default chain), reading the environment now.
    #[napi(constructor)]
    pub fn new(env: Env, config: Option<NativeConfig>) -> napi::Result<Self> {
        if let Ok(v) = env.get_node_version() {
            crate::http::set_runtime(format!("Node.js/v{}.{}.{}", v.major, v.minor, v.patch));
        }
        let config = config.map(Config::from);
        // Inside the runtime context, so providers can start their background refresh.
        let credential = within_runtime_if_available(|| {
            Credential::from_config(config.as_ref(), &ProcessEnv::process())
        })
        .map_err(|e| throw(&env, e))?;
        Ok(NativeCredential {
            inner: Arc::new(credential),
        })
    }

    /// The official `type` of the credential.
    #[napi(getter)]
    pub fn kind(&self) -> String {
        self.inner.type_name().to_owned()
    }

    /// The bearer token of a `bearer` credential.
    #[napi]
    pub fn bearer_token(&self) -> Option<String> {
        self.inner.bearer_token().map(|s| s.expose().to_owned())
    }

    /// Resolves the credentials, from the provider's cache when it has one.
    #[napi]
    pub async fn resolve(&self) -> NativeOutcome {
        let credential = self.inner.clone();
        match credential.provider().get_credentials().await {
            Ok(credentials) => NativeOutcome {
                value: Some(credentials.into()),
                error: None,
            },
            Err(e) => NativeOutcome {
                value: None,
                error: Some(e.into()),
            },
        }
    }
}

/// Options of the exported provider builders (`with...()` setters), already type-checked.
#[napi(object)]
#[derive(Default)]
pub struct NativeProviderOptions {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<f64>,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub sts_endpoint: Option<String>,
    pub sts_region_id: Option<String>,
    pub enable_vpc: Option<bool>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file_path: Option<String>,
    pub role_name: Option<String>,
    #[napi(js_name = "disableIMDSv1")]
    pub disable_imds_v1: Option<bool>,
    pub async_credential_update_enabled: Option<bool>,
    #[napi(js_name = "credentialsURI")]
    pub credentials_uri: Option<String>,
    pub profile_name: Option<String>,
    pub read_timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
}

/// What a JavaScript provider's `getCredentials()` resolved to, normalised by `index.js`.
#[napi(object)]
pub struct JsCredentials {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub provider_name: Option<String>,
}

type JsGetCredentials = ThreadsafeFunction<(), Promise<JsCredentials>, (), Status, false, true>;

/// A JavaScript provider (any object with `getCredentials()`), usable where the core takes one.
struct JsProvider {
    get_credentials: Arc<JsGetCredentials>,
    name: String,
}

impl crate::provider::CredentialsProvider for JsProvider {
    fn get_credentials(&self) -> crate::provider::BoxFuture<'_, crate::error::Result<Credentials>> {
        let call = self.get_credentials.clone();
        let name = self.name.clone();
        Box::pin(async move {
            let failed = |e: napi::Error| {
                CoreError::new(
                    crate::error::ErrorKind::Provider,
                    format!("the {name} provider failed: {}", e.reason),
                )
            };
            let promise = call.call_async(()).await.map_err(failed)?;
            let c = promise.await.map_err(failed)?;
            let id = c.access_key_id.unwrap_or_default();
            let secret = c.access_key_secret.unwrap_or_default();
            if id.is_empty() || secret.is_empty() {
                return Err(CoreError::new(
                    crate::error::ErrorKind::Provider,
                    format!("the {name} provider returned no accessKeyId or accessKeySecret"),
                ));
            }
            let mut out = Credentials::access_key(
                id,
                crate::secret::Secret::new(secret),
                c.provider_name.unwrap_or(name),
            );
            out.security_token = c
                .security_token
                .filter(|t| !t.is_empty())
                .map(crate::secret::Secret::new);
            // A JavaScript provider caches on its own terms: ask it every time.
            out.reuse_until = Some(SystemTime::now());
            Ok(out)
        })
    }

    fn provider_name(&self) -> String {
        self.name.clone()
    }
}

fn sts_settings(o: &NativeProviderOptions) -> crate::providers::ram_role_arn::StsSettings {
    crate::providers::ram_role_arn::StsSettings {
        role_session_name: o.role_session_name.clone(),
        duration_seconds: o.duration_seconds,
        policy: o.policy.clone(),
        sts_endpoint: o.sts_endpoint.clone(),
        sts_region_id: o.sts_region_id.clone(),
        enable_vpc: o.enable_vpc,
        connect_timeout: o.connect_timeout,
        read_timeout: o.read_timeout,
    }
}

/// The native half of the exported provider classes.
#[napi]
pub struct NativeProvider {
    inner: Arc<dyn crate::provider::CredentialsProvider>,
}

fn provider_options(
    kind: &str,
    o: NativeProviderOptions,
    source: Option<Arc<dyn crate::provider::CredentialsProvider>>,
    env: &ProcessEnv,
) -> crate::error::Result<Arc<dyn crate::provider::CredentialsProvider>> {
    use crate::providers::*;
    Ok(match kind {
        "static_ak" => Arc::new(static_ak::StaticAkProvider::build(
            o.access_key_id,
            o.access_key_secret,
            env,
        )?),
        "static_sts" => Arc::new(static_sts::StaticStsProvider::build(
            o.access_key_id,
            o.access_key_secret,
            o.security_token,
            env,
        )?),
        "ram_role_arn" => {
            let source = source.ok_or_else(|| {
                CoreError::config("must specify a previous credentials provider to asssume role")
            })?;
            Arc::new(ram_role_arn::build(
                source,
                ram_role_arn::RamRoleArnOptions {
                    role_arn: o.role_arn.clone(),
                    external_id: o.external_id.clone(),
                    sts: sts_settings(&o),
                },
                env,
            )?)
        }
        "oidc_role_arn" => Arc::new(oidc::build(
            oidc::OidcOptions {
                role_arn: o.role_arn.clone(),
                oidc_provider_arn: o.oidc_provider_arn.clone(),
                oidc_token_file_path: o.oidc_token_file_path.clone(),
                sts: sts_settings(&o),
            },
            env,
        )?),
        "ecs_ram_role" => Arc::new(ecs::build(
            ecs::EcsOptions {
                role_name: o.role_name,
                disable_imds_v1: o.disable_imds_v1,
                async_credential_update_enabled: o.async_credential_update_enabled,
                connect_timeout: o.connect_timeout,
                read_timeout: o.read_timeout,
            },
            env,
        )?),
        "credential_uri" => Arc::new(uri::build(
            uri::UriOptions {
                credentials_uri: o.credentials_uri,
                connect_timeout: o.connect_timeout,
                read_timeout: o.read_timeout,
            },
            env,
        )?),
        "env" => Arc::new(env::EnvProvider::new(env.clone())),
        "profile" => Arc::new(crate::profile::ini_provider::IniProfileProvider::build(
            o.profile_name,
            env,
        )),
        "cli_profile" => Arc::new(crate::profile::cli::CliProfileProvider::build(
            o.profile_name,
            env,
        )?),
        "default" => Arc::new(chain::DefaultChain::build(env)),
        other => {
            return Err(CoreError::config(format!(
                "unknown provider kind '{other}'"
            )))
        }
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
        options: NativeProviderOptions,
        source: Option<&NativeProvider>,
    ) -> napi::Result<Self> {
        let source = source.map(|s| s.inner.clone());
        let inner = within_runtime_if_available(|| {
            provider_options(&kind, options, source, &ProcessEnv::process())
        })
        .map_err(|e| throw(&env, e))?;
        Ok(NativeProvider { inner })
    }

    /// Wraps a JavaScript provider's `getCredentials` (called on the JavaScript thread, never
    /// keeping the process alive) so native providers can use it as their source.
    #[napi(factory)]
    pub fn from_js(get_credentials: JsGetCredentials, name: String) -> Self {
        NativeProvider {
            inner: Arc::new(JsProvider {
                get_credentials: Arc::new(get_credentials),
                name,
            }),
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
        self.inner.close();
    }

    /// Resolves the provider's credentials.
    #[napi]
    pub async fn resolve(&self) -> NativeOutcome {
        match self.inner.get_credentials().await {
            Ok(credentials) => NativeOutcome {
                value: Some(credentials.into()),
                error: None,
            },
            Err(e) => NativeOutcome {
                value: None,
                error: Some(e.into()),
            },
        }
    }
}

/// True when `DEBUG` enables `alicloud-credentials:<topic>`.
#[napi]
pub fn debug_enabled(topic: String) -> bool {
    crate::log::enabled(&topic)
}

/// Prints a debug line for `topic` (when enabled), in the format of the core's own lines.
#[napi]
pub fn debug_log(topic: String, message: String) {
    crate::log::debug(&topic, || message);
}

/// One step of a chain's last pass.
#[napi(object)]
pub struct NativeStep {
    pub provider: String,
    /// `used`, `failed` or `not tried`.
    pub outcome: String,
    pub reason: Option<String>,
}

/// A secret-free description of a credential (see `describe()` in `index.d.ts`).
#[napi(object)]
pub struct NativeDescription {
    pub provider_name: Option<String>,
    pub access_key_id: Option<String>,
    /// RFC 3339 UTC.
    pub expiration: Option<String>,
    /// RFC 3339 UTC.
    pub next_refresh: Option<String>,
    pub endpoint: Option<String>,
    pub steps: Vec<NativeStep>,
    pub error: Option<NativeFailure>,
}

impl From<crate::describe::Description> for NativeDescription {
    fn from(d: crate::describe::Description) -> Self {
        NativeDescription {
            provider_name: d.provider_name,
            access_key_id: d.access_key_id,
            expiration: d.expiration.map(crate::session::rfc3339),
            next_refresh: d.next_refresh.map(crate::session::rfc3339),
            endpoint: d.endpoint,
            steps: d
                .steps
                .into_iter()
                .map(|s| NativeStep {
                    provider: s.provider,
                    outcome: s.outcome.to_owned(),
                    reason: s.reason,
                })
                .collect(),
            error: d.error.map(NativeFailure::from),
        }
    }
}

#[napi]
impl NativeCredential {
    /// Resolves and describes the credential, without secrets.
    #[napi]
    pub async fn describe(&self) -> NativeDescription {
        crate::describe::describe(self.inner.provider().as_ref())
            .await
            .into()
    }
}

#[napi]
impl NativeProvider {
    /// Resolves and describes the provider's credentials, without secrets.
    #[napi]
    pub async fn describe(&self) -> NativeDescription {
        crate::describe::describe(self.inner.as_ref()).await.into()
    }
}
