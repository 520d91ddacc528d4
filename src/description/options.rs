//! Descriptions from option objects: a `Config` (`new Credential(config)`) and the options of the
//! exported provider builders (`RAMRoleARNCredentialsProvider.builder().with...().build()`). Both
//! take the same [`Options`] and end in one function, [`spec_of`].

use super::resolve::{self, EcsOptions, KeyOptions, OidcOptions, RoleOptions, UriOptions};
use super::{Kind, ProviderSpec};
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};

/// The official message for an unknown `type`, word for word.
const INVALID_TYPE: &str =
    "Invalid type option, support: access_key, sts, ecs_ram_role, ram_role_arn, rsa_key_pair, credentials_uri";

/// Every option a `Config` or a provider builder gives, grouped by the resolver that reads it.
/// The binding fills it from the one JavaScript option object.
#[derive(Clone, Default)]
pub struct Options {
    /// A `Config`'s `type`; builders name their kind instead.
    pub type_name: Option<String>,
    pub key: KeyOptions,
    pub bearer_token: Option<String>,
    pub role: RoleOptions,
    pub oidc: OidcOptions,
    pub ecs: EcsOptions,
    pub uri: UriOptions,
    /// The section (INI) or profile (CLI) of a profile provider.
    pub profile_name: Option<String>,
    /// A `Config`'s `sessionCacheDir`: the shared session cache's directory, over
    /// `ALICLOUD_CREDENTIALS_CACHE_DIR` (empty: off). Read by `crate::credential`, not a description.
    pub session_cache_dir: Option<String>,
}

/// The description `new Credential(config)` stands for; `None` is the default chain.
pub fn from_config(config: Option<Options>, env: &Env) -> Result<ProviderSpec> {
    let Some(o) = config else {
        return Ok(ProviderSpec::Default(resolve::default_chain(env)));
    };
    let type_name = o
        .type_name
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::config("Missing required type option"))?;
    let kind = Kind::from_type(type_name).ok_or_else(|| Error::config(INVALID_TYPE))?;
    // A Config's role is assumed with the Config's own key (and token, when it has one).
    let source = match kind {
        Kind::RamRoleArn
            if o.key
                .security_token
                .as_deref()
                .is_some_and(|t| !t.is_empty()) =>
        {
            Some(resolve::static_sts(o.key.clone(), env)?)
        }
        Kind::RamRoleArn => Some(ProviderSpec::StaticAk(resolve::static_ak(
            o.key.clone(),
            env,
        )?)),
        _ => None,
    };
    spec_of(kind, o, source, env)
}

/// The description a provider builder stands for. `provider_name` is the official name of the
/// provider class (`static_ak`, `ram_role_arn`, `credential_uri`, ...); `source` is the previous
/// provider of a role provider.
pub fn from_builder(
    provider_name: &str,
    o: Options,
    source: Option<ProviderSpec>,
    env: &Env,
) -> Result<ProviderSpec> {
    // No builder class makes bearer or RSA credentials.
    let kind = Kind::from_provider_name(provider_name)
        .filter(|k| !matches!(k, Kind::Bearer | Kind::RsaKeyPair))
        .ok_or_else(|| Error::config(format!("unknown provider kind '{provider_name}'")))?;
    spec_of(kind, o, source, env)
}

/// The description of a source of `kind` with options `o`; `source` is what a role is assumed over.
fn spec_of(
    kind: Kind,
    o: Options,
    source: Option<ProviderSpec>,
    env: &Env,
) -> Result<ProviderSpec> {
    Ok(match kind {
        Kind::AccessKey => ProviderSpec::StaticAk(resolve::static_ak(o.key, env)?),
        Kind::Sts => resolve::static_sts(o.key, env)?,
        Kind::Bearer => ProviderSpec::Bearer(resolve::bearer(o.bearer_token)?),
        Kind::RamRoleArn => {
            let source = source.ok_or_else(|| {
                // The official message, typo included.
                Error::config("must specify a previous credentials provider to asssume role")
            })?;
            source.assume(resolve::role(o.role, env)?)?
        }
        Kind::OidcRoleArn => ProviderSpec::Oidc(resolve::oidc(o.oidc, env)?),
        Kind::EcsRamRole => ProviderSpec::Ecs(resolve::ecs(o.ecs, env)?),
        Kind::CredentialsUri => ProviderSpec::Uri(resolve::uri(o.uri, env)?),
        Kind::Env => ProviderSpec::Env,
        Kind::IniProfile => ProviderSpec::IniProfile(resolve::ini_profile(o.profile_name, env)),
        Kind::CliProfile => ProviderSpec::CliProfile(resolve::cli_profile(o.profile_name, env)?),
        Kind::Default => ProviderSpec::Default(resolve::default_chain(env)),
        Kind::RsaKeyPair => return Err(unsupported_rsa()),
        Kind::CloudSso | Kind::OAuth | Kind::External => return Err(Error::config(INVALID_TYPE)),
    })
}

fn unsupported_rsa() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "the rsa_key_pair credential type is not supported (the official package cannot use it either); use access_key, ram_role_arn or another supported type",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::no_env;

    fn cfg(t: &str) -> Options {
        Options {
            type_name: Some(t.into()),
            ..Options::default()
        }
    }

    #[test]
    fn type_errors_use_the_official_words() {
        let env = no_env();
        let e = from_config(Some(Options::default()), &env).unwrap_err();
        assert_eq!(e.message(), "Missing required type option");
        let e = from_config(Some(cfg("nope")), &env).unwrap_err();
        assert_eq!(e.message(), INVALID_TYPE);
        let e = from_config(Some(cfg("rsa_key_pair")), &env).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        let e = from_builder("ram_role_arn", Options::default(), None, &env).unwrap_err();
        assert_eq!(
            e.message(),
            "must specify a previous credentials provider to asssume role"
        );
        for name in ["bearer", "rsa_key_pair", "cloud_sso", "nope"] {
            let e = from_builder(name, Options::default(), None, &env).unwrap_err();
            assert_eq!(e.message(), format!("unknown provider kind '{name}'"));
        }
    }
}
