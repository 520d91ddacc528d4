//! The option objects JavaScript passes (already type-checked by `index.js`), as core types.

use napi_derive::napi;

use crate::config::Config;
use crate::description::BuilderOptions;
use crate::providers::custom::Answer;

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

impl From<NativeProviderOptions> for BuilderOptions {
    fn from(o: NativeProviderOptions) -> Self {
        BuilderOptions {
            access_key_id: o.access_key_id,
            access_key_secret: o.access_key_secret,
            security_token: o.security_token,
            role_arn: o.role_arn,
            role_session_name: o.role_session_name,
            duration_seconds: o.duration_seconds,
            policy: o.policy,
            external_id: o.external_id,
            sts_endpoint: o.sts_endpoint,
            sts_region_id: o.sts_region_id,
            enable_vpc: o.enable_vpc,
            oidc_provider_arn: o.oidc_provider_arn,
            oidc_token_file_path: o.oidc_token_file_path,
            role_name: o.role_name,
            disable_imds_v1: o.disable_imds_v1,
            async_credential_update_enabled: o.async_credential_update_enabled,
            credentials_uri: o.credentials_uri,
            profile_name: o.profile_name,
            read_timeout: o.read_timeout,
            connect_timeout: o.connect_timeout,
        }
    }
}

impl From<JsCredentials> for Answer {
    fn from(c: JsCredentials) -> Self {
        Answer {
            access_key_id: c.access_key_id,
            access_key_secret: c.access_key_secret,
            security_token: c.security_token,
            provider_name: c.provider_name,
        }
    }
}
