//! The option object JavaScript passes (already type-checked by `index.js`), as core types.

use napi_derive::napi;

use crate::description::resolve::{
    EcsOptions, KeyOptions, OidcOptions, RoleOptions, StsOptions, Timeouts, UriOptions,
};
use crate::description::Options;

/// Options of a credential (`new Credential(config)`) or of a provider builder (its `with...()`
/// setters), already type-checked by `options.js`, whose table lists them.
#[napi(object)]
#[derive(Default)]
pub struct NativeOptions {
    /// `access_key`, `sts`, `bearer`, `ram_role_arn`, `oidc_role_arn`, `ecs_ram_role`,
    /// `credentials_uri`.
    #[napi(js_name = "type")]
    pub kind: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub bearer_token: Option<String>,
    /// ARN of the RAM role to assume (`ram_role_arn`, `oidc_role_arn`).
    pub role_arn: Option<String>,
    /// Session name; default `credentials-nodejs-<ms since epoch>`.
    pub role_session_name: Option<String>,
    /// Session lifetime in seconds; default 3600, at least 900 (a builder's `durationSeconds`).
    pub role_session_expiration: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    /// STS endpoint host, or a URL whose scheme is used as given.
    pub sts_endpoint: Option<String>,
    pub sts_region_id: Option<String>,
    pub enable_vpc: Option<bool>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file_path: Option<String>,
    #[napi(js_name = "credentialsURI")]
    pub credentials_uri: Option<String>,
    /// ECS RAM role name; discovered from the metadata service when absent.
    pub role_name: Option<String>,
    #[napi(js_name = "disableIMDSv1")]
    pub disable_imds_v1: Option<bool>,
    pub async_credential_update_enabled: Option<bool>,
    /// Read timeout in milliseconds (a builder's `readTimeout`).
    pub timeout: Option<f64>,
    pub read_timeout: Option<f64>,
    /// Connect timeout in milliseconds.
    pub connect_timeout: Option<f64>,
    pub profile_name: Option<String>,
    /// The session cache shared by the user's processes: its directory (over
    /// `ALICLOUD_CREDENTIALS_CACHE_DIR`; an empty string turns it off).
    pub session_cache_dir: Option<String>,
}

impl From<NativeOptions> for Options {
    fn from(o: NativeOptions) -> Self {
        // Every field named, none skipped with `..`: a new option does not build until it is
        // handed to a source's option struct here.
        let NativeOptions {
            kind,
            access_key_id,
            access_key_secret,
            security_token,
            bearer_token,
            role_arn,
            role_session_name,
            role_session_expiration,
            duration_seconds,
            policy,
            external_id,
            sts_endpoint,
            sts_region_id,
            enable_vpc,
            oidc_provider_arn,
            oidc_token_file_path,
            credentials_uri,
            role_name,
            disable_imds_v1,
            async_credential_update_enabled,
            timeout,
            read_timeout,
            connect_timeout,
            profile_name,
            session_cache_dir,
        } = o;
        // A Config and a builder name two options differently; `options.js` sends each only
        // its own name.
        let timeouts = Timeouts {
            connect: connect_timeout,
            read: read_timeout.or(timeout),
        };
        let sts = StsOptions {
            role_session_name,
            duration_seconds: duration_seconds.or(role_session_expiration),
            policy,
            sts_endpoint,
            sts_region_id,
            enable_vpc,
            timeouts,
        };
        Options {
            type_name: kind,
            key: KeyOptions {
                access_key_id,
                access_key_secret,
                security_token,
            },
            bearer_token,
            role: RoleOptions {
                role_arn: role_arn.clone(),
                external_id,
                sts: sts.clone(),
            },
            oidc: OidcOptions {
                role_arn,
                provider_arn: oidc_provider_arn,
                token_file: oidc_token_file_path,
                sts,
            },
            ecs: EcsOptions {
                role_name,
                disable_imds_v1,
                background: async_credential_update_enabled,
                timeouts,
            },
            uri: UriOptions {
                uri: credentials_uri,
                timeouts,
            },
            profile_name,
            session_cache_dir,
        }
    }
}
