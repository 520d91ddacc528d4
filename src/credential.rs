//! `new Credential(config)`: picks the provider for a [`Config`], as the official client does.

use std::sync::Arc;

use crate::config::{non_empty, Config};
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::CredentialsProvider;
use crate::providers::ecs::{self, EcsOptions};
use crate::providers::oidc::{self, OidcOptions};
use crate::providers::ram_role_arn::{self, RamRoleArnOptions, StsSettings};
use crate::providers::uri::{self, UriOptions};
use crate::providers::{
    bearer::BearerProvider, chain::DefaultChain, static_ak::StaticAkProvider,
    static_sts::StaticStsProvider,
};
use crate::secret::Secret;

/// The `type` values this package supports, in the order the error message lists them.
pub const SUPPORTED_TYPES: &str =
    "access_key, sts, ecs_ram_role, ram_role_arn, oidc_role_arn, credentials_uri, bearer";

fn sts_settings(config: &Config) -> StsSettings {
    StsSettings {
        role_session_name: config.role_session_name.clone(),
        duration_seconds: config.role_session_expiration,
        policy: config.policy.clone(),
        sts_endpoint: config.sts_endpoint.clone(),
        sts_region_id: config.sts_region_id.clone(),
        enable_vpc: config.enable_vpc,
        connect_timeout: config.connect_timeout,
        read_timeout: config.timeout,
    }
}

/// A configured credential: its `type` and the provider that serves it.
pub struct Credential {
    type_name: String,
    provider: Arc<dyn CredentialsProvider>,
    bearer_token: Option<Secret>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("type", &self.type_name)
            .field("provider", &self.provider.provider_name())
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The credential `new Credential(config)` makes; `None` is the default chain.
    pub fn from_config(config: Option<&Config>, env: &Env) -> Result<Self> {
        let Some(config) = config else {
            return Ok(Credential::new(
                "default",
                Arc::new(DefaultChain::build(env)),
            ));
        };
        let type_name = non_empty(&config.r#type)
            .ok_or_else(|| Error::config("Missing required type option"))?;
        let provider: Arc<dyn CredentialsProvider> = match type_name.as_str() {
            "access_key" => Arc::new(StaticAkProvider::build(
                config.access_key_id.clone(),
                config.access_key_secret.clone(),
                env,
            )?),
            "sts" => Arc::new(StaticStsProvider::build(
                config.access_key_id.clone(),
                config.access_key_secret.clone(),
                config.security_token.clone(),
                env,
            )?),
            "bearer" => {
                let bearer = BearerProvider::build(config.bearer_token.clone())?;
                let token = bearer.token().clone();
                let mut credential = Credential::new("bearer", Arc::new(bearer));
                credential.bearer_token = Some(token);
                return Ok(credential);
            }
            "rsa_key_pair" => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the rsa_key_pair credential type is not supported (the official package cannot use it either); use access_key, ram_role_arn or another supported type",
                ))
            }
            "ram_role_arn" => {
                let source: Arc<dyn CredentialsProvider> = if non_empty(&config.security_token).is_some() {
                    Arc::new(StaticStsProvider::build(
                        config.access_key_id.clone(),
                        config.access_key_secret.clone(),
                        config.security_token.clone(),
                        env,
                    )?)
                } else {
                    Arc::new(StaticAkProvider::build(
                        config.access_key_id.clone(),
                        config.access_key_secret.clone(),
                        env,
                    )?)
                };
                Arc::new(ram_role_arn::build(
                    source,
                    RamRoleArnOptions {
                        role_arn: config.role_arn.clone(),
                        external_id: config.external_id.clone(),
                        sts: sts_settings(config),
                    },
                    env,
                )?)
            }
            "oidc_role_arn" => Arc::new(oidc::build(
                OidcOptions {
                    role_arn: config.role_arn.clone(),
                    oidc_provider_arn: config.oidc_provider_arn.clone(),
                    oidc_token_file_path: config.oidc_token_file_path.clone(),
                    sts: sts_settings(config),
                },
                env,
            )?),
            "ecs_ram_role" => Arc::new(ecs::build(
                EcsOptions {
                    role_name: config.role_name.clone(),
                    disable_imds_v1: config.disable_imds_v1,
                    async_credential_update_enabled: config.async_credential_update_enabled,
                    connect_timeout: config.connect_timeout,
                    read_timeout: config.timeout,
                },
                env,
            )?),
            "credentials_uri" => Arc::new(uri::build(
                UriOptions {
                    credentials_uri: config.credentials_uri.clone(),
                    connect_timeout: config.connect_timeout,
                    read_timeout: config.timeout,
                },
                env,
            )?),
            _ => {
                return Err(Error::config(format!(
                    "Invalid type option, support: {SUPPORTED_TYPES}"
                )))
            }
        };
        Ok(Credential::new(&type_name, provider))
    }

    /// A credential of `type_name` served by `provider`.
    pub fn new(type_name: &str, provider: Arc<dyn CredentialsProvider>) -> Self {
        Credential {
            type_name: type_name.to_owned(),
            provider,
            bearer_token: None,
        }
    }

    /// The `type` the official `getType()` returns.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The bearer token, for `bearer` credentials.
    pub fn bearer_token(&self) -> Option<&Secret> {
        self.bearer_token.as_ref()
    }

    /// The provider behind this credential.
    pub fn provider(&self) -> &Arc<dyn CredentialsProvider> {
        &self.provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(t: &str) -> Config {
        Config {
            r#type: Some(t.into()),
            ..Config::default()
        }
    }

    #[test]
    fn type_errors() {
        let env = Env::from_pairs::<&str, &str>([]);
        let e = Credential::from_config(Some(&Config::default()), &env).unwrap_err();
        assert_eq!(e.message(), "Missing required type option");
        let e = Credential::from_config(Some(&cfg("nope")), &env).unwrap_err();
        assert!(e
            .message()
            .starts_with("Invalid type option, support: access_key, sts"));
        let e = Credential::from_config(Some(&cfg("rsa_key_pair")), &env).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }

    #[tokio::test]
    async fn access_key_and_default() {
        let env = Env::from_pairs([
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "i"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
        ]);
        let c = Credential::from_config(Some(&cfg("access_key")), &env).unwrap();
        assert_eq!(c.type_name(), "access_key");
        assert_eq!(
            c.provider().get_credentials().await.unwrap().provider_name,
            "static_ak"
        );
        let d = Credential::from_config(None, &env).unwrap();
        assert_eq!(d.type_name(), "default");
        assert_eq!(
            d.provider().get_credentials().await.unwrap().provider_name,
            "default/env"
        );
    }
}
