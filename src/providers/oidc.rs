//! `oidc_role_arn`: AssumeRoleWithOIDC with a token file (Kubernetes RRSA), re-read at every refresh
//! because the kubelet rotates it.

use std::sync::Arc;

use crate::config::non_empty;
use crate::credentials::Credentials;
use crate::env::{vars, Env};
use crate::error::{Error, ErrorKind, Result};
use crate::provider::BoxFuture;
use crate::providers::ram_role_arn::StsSettings;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::sts::{self, RoleOptions};

/// Provider name of OIDC role credentials.
pub const NAME: &str = "oidc_role_arn";

/// The options of an OIDC role assumption, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct OidcOptions {
    pub role_arn: Option<String>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file_path: Option<String>,
    pub sts: StsSettings,
}

struct OidcRefresher {
    provider_arn: String,
    token_file: String,
    options: RoleOptions,
}

impl Refresher for OidcRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let token = std::fs::read_to_string(&self.token_file).map_err(|e| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("cannot read the OIDC token file {}: {e}", self.token_file),
                )
            })?;
            let token = token.trim();
            if token.is_empty() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("the OIDC token file {} is empty", self.token_file),
                ));
            }
            sts::assume_role_with_oidc(&self.provider_arn, token, &self.options, NAME).await
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!(
            "{} (AssumeRoleWithOIDC {}, token file {})",
            self.options.endpoint.base(),
            self.options.role_arn,
            self.token_file
        ))
    }
}

/// True when the three variables the default chain needs for OIDC are set.
pub fn configured_by_env(env: &Env) -> bool {
    env.get(vars::ROLE_ARN).is_some()
        && env.get(vars::OIDC_PROVIDER_ARN).is_some()
        && env.get(vars::OIDC_TOKEN_FILE).is_some()
}

/// Builds the caching `oidc_role_arn` provider, with the official messages for missing options.
pub fn build(options: OidcOptions, env: &Env) -> Result<SessionProvider> {
    let role_arn = non_empty(&options.role_arn)
        .or_else(|| env.get(vars::ROLE_ARN))
        .ok_or_else(|| {
            Error::config("roleArn does not exist and env ALIBABA_CLOUD_ROLE_ARN is null.")
        })?;
    let provider_arn = non_empty(&options.oidc_provider_arn)
        .or_else(|| env.get(vars::OIDC_PROVIDER_ARN))
        .ok_or_else(|| {
            Error::config(
                "oidcProviderArn does not exist and env ALIBABA_CLOUD_OIDC_PROVIDER_ARN is null.",
            )
        })?;
    let token_file = non_empty(&options.oidc_token_file_path)
        .or_else(|| env.get(vars::OIDC_TOKEN_FILE))
        .ok_or_else(|| {
            Error::config(
                "oidcTokenFilePath is not exists and env ALIBABA_CLOUD_OIDC_TOKEN_FILE is null.",
            )
        })?;
    let role = options.sts.resolve(role_arn, env)?;
    Ok(SessionProvider::new(
        Arc::new(OidcRefresher {
            provider_arn,
            token_file,
            options: role,
        }),
        Policy::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_messages_in_official_order() {
        let env = Env::from_pairs::<&str, &str>([]);
        assert_eq!(
            build(OidcOptions::default(), &env).unwrap_err().message(),
            "roleArn does not exist and env ALIBABA_CLOUD_ROLE_ARN is null."
        );
        let o = OidcOptions {
            role_arn: Some("r".into()),
            ..Default::default()
        };
        assert_eq!(
            build(o.clone(), &env).unwrap_err().message(),
            "oidcProviderArn does not exist and env ALIBABA_CLOUD_OIDC_PROVIDER_ARN is null."
        );
        let o = OidcOptions {
            oidc_provider_arn: Some("p".into()),
            ..o
        };
        assert_eq!(
            build(o, &env).unwrap_err().message(),
            "oidcTokenFilePath is not exists and env ALIBABA_CLOUD_OIDC_TOKEN_FILE is null."
        );
        let env = Env::from_pairs([
            (vars::ROLE_ARN, "r"),
            (vars::OIDC_PROVIDER_ARN, "p"),
            (vars::OIDC_TOKEN_FILE, "/t"),
        ]);
        assert!(configured_by_env(&env));
        assert!(build(OidcOptions::default(), &env).is_ok());
    }
}
