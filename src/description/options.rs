//! Descriptions from option objects: a `Config` (`new Credential(config)`) and the options of the
//! exported provider builders (`RAMRoleARNCredentialsProvider.builder().with...().build()`).

use super::resolve::{self, RoleOptions, StsOptions};
use super::{Kind, ProviderSpec};
use crate::config::Config;
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// The official message for an unknown `type`, word for word.
const INVALID_TYPE: &str =
    "Invalid type option, support: access_key, sts, ecs_ram_role, ram_role_arn, rsa_key_pair, credentials_uri";

/// The description `new Credential(config)` stands for; `None` is the default chain.
pub fn from_config(config: Option<&Config>, env: &Env) -> Result<ProviderSpec> {
    let Some(c) = config else {
        return Ok(ProviderSpec::Default(resolve::default_chain(env)));
    };
    let type_name = c
        .r#type
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::config("Missing required type option"))?;
    let kind = Kind::from_type(type_name).ok_or_else(|| Error::config(INVALID_TYPE))?;
    let sts = || StsOptions {
        role_session_name: c.role_session_name.clone(),
        duration_seconds: c.role_session_expiration,
        policy: c.policy.clone(),
        sts_endpoint: c.sts_endpoint.clone(),
        sts_region_id: c.sts_region_id.clone(),
        enable_vpc: c.enable_vpc,
        connect_timeout: c.connect_timeout,
        read_timeout: c.timeout,
    };
    let id = || c.access_key_id.clone();
    let secret = || c.access_key_secret.clone();
    Ok(match kind {
        Kind::AccessKey => ProviderSpec::StaticAk(resolve::static_ak(id(), secret(), env)?),
        Kind::Sts => resolve::static_sts(id(), secret(), c.security_token.clone(), env)?,
        Kind::Bearer => ProviderSpec::Bearer(Secret::new(
            c.bearer_token
                .clone()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    Error::config("Missing required bearerToken option in config for bearer")
                })?,
        )),
        Kind::RamRoleArn => {
            let has_token = c.security_token.as_deref().is_some_and(|t| !t.is_empty());
            let source = if has_token {
                resolve::static_sts(id(), secret(), c.security_token.clone(), env)?
            } else {
                ProviderSpec::StaticAk(resolve::static_ak(id(), secret(), env)?)
            };
            let role = resolve::role(
                RoleOptions {
                    role_arn: c.role_arn.clone(),
                    external_id: c.external_id.clone(),
                    sts: sts(),
                },
                env,
            )?;
            source.assume(role)?
        }
        Kind::OidcRoleArn => ProviderSpec::Oidc(resolve::oidc(
            c.role_arn.clone(),
            c.oidc_provider_arn.clone(),
            c.oidc_token_file_path.clone(),
            sts(),
            env,
        )?),
        Kind::EcsRamRole => ProviderSpec::Ecs(resolve::ecs(
            c.role_name.clone(),
            c.disable_imds_v1,
            c.async_credential_update_enabled,
            c.connect_timeout,
            c.timeout,
            env,
        )?),
        Kind::CredentialsUri => ProviderSpec::Uri(resolve::uri(
            c.credentials_uri.clone(),
            c.connect_timeout,
            c.timeout,
            env,
        )?),
        Kind::RsaKeyPair => return Err(unsupported_rsa()),
        Kind::Env | Kind::IniProfile | Kind::CliProfile | Kind::Default => {
            return Err(Error::config(INVALID_TYPE))
        }
    })
}

fn unsupported_rsa() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "the rsa_key_pair credential type is not supported (the official package cannot use it either); use access_key, ram_role_arn or another supported type",
    )
}

/// Options of the exported provider builders (their `with...()` setters).
#[derive(Clone, Debug, Default)]
pub struct BuilderOptions {
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
    pub disable_imds_v1: Option<bool>,
    pub async_credential_update_enabled: Option<bool>,
    pub credentials_uri: Option<String>,
    pub profile_name: Option<String>,
    /// Milliseconds.
    pub read_timeout: Option<f64>,
    /// Milliseconds.
    pub connect_timeout: Option<f64>,
}

/// The description a provider builder stands for. `provider_name` is the official name of the
/// provider class (`static_ak`, `ram_role_arn`, `credential_uri`, ...); `source` is the previous
/// provider of a role provider.
pub fn from_builder(
    provider_name: &str,
    o: BuilderOptions,
    source: Option<ProviderSpec>,
    env: &Env,
) -> Result<ProviderSpec> {
    let kind = Kind::from_provider_name(provider_name)
        .ok_or_else(|| Error::config(format!("unknown provider kind '{provider_name}'")))?;
    let sts = StsOptions {
        role_session_name: o.role_session_name,
        duration_seconds: o.duration_seconds,
        policy: o.policy,
        sts_endpoint: o.sts_endpoint,
        sts_region_id: o.sts_region_id,
        enable_vpc: o.enable_vpc,
        connect_timeout: o.connect_timeout,
        read_timeout: o.read_timeout,
    };
    Ok(match kind {
        Kind::AccessKey => ProviderSpec::StaticAk(resolve::static_ak(
            o.access_key_id,
            o.access_key_secret,
            env,
        )?),
        Kind::Sts => {
            resolve::static_sts(o.access_key_id, o.access_key_secret, o.security_token, env)?
        }
        Kind::RamRoleArn => {
            let source = source.ok_or_else(|| {
                // The official message, typo included.
                Error::config("must specify a previous credentials provider to asssume role")
            })?;
            let role = resolve::role(
                RoleOptions {
                    role_arn: o.role_arn,
                    external_id: o.external_id,
                    sts,
                },
                env,
            )?;
            source.assume(role)?
        }
        Kind::OidcRoleArn => ProviderSpec::Oidc(resolve::oidc(
            o.role_arn,
            o.oidc_provider_arn,
            o.oidc_token_file_path,
            sts,
            env,
        )?),
        Kind::EcsRamRole => ProviderSpec::Ecs(resolve::ecs(
            o.role_name,
            o.disable_imds_v1,
            o.async_credential_update_enabled,
            o.connect_timeout,
            o.read_timeout,
            env,
        )?),
        Kind::CredentialsUri => ProviderSpec::Uri(resolve::uri(
            o.credentials_uri,
            o.connect_timeout,
            o.read_timeout,
            env,
        )?),
        Kind::Env => ProviderSpec::Env,
        Kind::IniProfile => ProviderSpec::IniProfile(resolve::ini_profile(o.profile_name, env)),
        Kind::CliProfile => ProviderSpec::CliProfile(resolve::cli_profile(o.profile_name, env)?),
        Kind::Default => ProviderSpec::Default(resolve::default_chain(env)),
        Kind::Bearer | Kind::RsaKeyPair => {
            return Err(Error::config(format!(
                "unknown provider kind '{provider_name}'"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::no_env;

    fn cfg(t: &str) -> Config {
        Config {
            r#type: Some(t.into()),
            ..Config::default()
        }
    }

    #[test]
    fn type_errors_use_the_official_words() {
        let env = no_env();
        let e = from_config(Some(&Config::default()), &env).unwrap_err();
        assert_eq!(e.message(), "Missing required type option");
        let e = from_config(Some(&cfg("nope")), &env).unwrap_err();
        assert_eq!(e.message(), INVALID_TYPE);
        let e = from_config(Some(&cfg("rsa_key_pair")), &env).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let e = from_builder("ram_role_arn", BuilderOptions::default(), None, &env).unwrap_err();
        assert_eq!(
            e.message(),
            "must specify a previous credentials provider to asssume role"
        );
    }
}
