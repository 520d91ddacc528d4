//! One description of every credential source, as plain data.
//!
//! Parsers produce a [`ProviderSpec`]: [`from_config`] (`new Config({...})`) and [`from_builder`]
//! (the exported provider classes), both from one [`Options`]; `profile::cli` (a config.json
//! profile) and `profile::ini_profile` (an INI section). Environment fallbacks and the official option checks are applied while parsing, so a
//! description is the *effective* source: two equal descriptions fetch the same credentials.
//! [`crate::builder::build`] is the only code that turns a description into a provider.
//!
//! Role chains are flat ([`RoleChain`]: a base and the roles assumed over it, innermost first), so
//! nothing that builds, compares or drops a description recurses over outside data.

mod options;
pub mod resolve;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::secret::Secret;

pub use options::{from_builder, from_config, Options};
pub use resolve::MAX_ROLE_CHAIN;

/// Every kind of credential source, with the names the official package gives it: the `type` of
/// a `Config`, the name a provider reports, and the `type` of an INI section. The one place that
/// maps those strings to kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    AccessKey,
    Sts,
    Bearer,
    RamRoleArn,
    OidcRoleArn,
    EcsRamRole,
    CredentialsUri,
    Env,
    IniProfile,
    CliProfile,
    Default,
    RsaKeyPair,
    /// CLI profile modes only: no `Config` type or builder class makes them.
    CloudSso,
    OAuth,
    External,
}

impl Kind {
    /// The kind a `Config`'s `type` (or an INI section's `type`) names.
    pub fn from_type(name: &str) -> Option<Kind> {
        Some(match name {
            "access_key" => Kind::AccessKey,
            "sts" => Kind::Sts,
            "bearer" => Kind::Bearer,
            "ram_role_arn" => Kind::RamRoleArn,
            "oidc_role_arn" => Kind::OidcRoleArn,
            "ecs_ram_role" => Kind::EcsRamRole,
            "credentials_uri" => Kind::CredentialsUri,
            "rsa_key_pair" => Kind::RsaKeyPair,
            _ => return None,
        })
    }

    /// The `type` a `Config` names this kind by (the inverse of [`Kind::from_type`]); the
    /// default chain's is `default`. A `&'static str`, so no identity keeps a copy of it.
    pub const fn type_name(self) -> &'static str {
        match self {
            Kind::AccessKey => "access_key",
            Kind::Sts => "sts",
            Kind::CredentialsUri => "credentials_uri",
            other => other.provider_name(),
        }
    }

    /// The kind a provider name (as the exported provider classes use them) names.
    pub fn from_provider_name(name: &str) -> Option<Kind> {
        Some(match name {
            "static_ak" => Kind::AccessKey,
            "static_sts" => Kind::Sts,
            "credential_uri" => Kind::CredentialsUri,
            "env" => Kind::Env,
            "profile" => Kind::IniProfile,
            "cli_profile" => Kind::CliProfile,
            "default" => Kind::Default,
            other => return Kind::from_type(other).filter(|k| k.provider_name() == other),
        })
    }

    /// The official provider name (`static_ak`, `credential_uri` (sic), ...).
    pub const fn provider_name(self) -> &'static str {
        match self {
            Kind::AccessKey => "static_ak",
            Kind::Sts => "static_sts",
            Kind::Bearer => "bearer",
            Kind::RamRoleArn => "ram_role_arn",
            Kind::OidcRoleArn => "oidc_role_arn",
            Kind::EcsRamRole => "ecs_ram_role",
            Kind::CredentialsUri => "credential_uri",
            Kind::Env => "env",
            Kind::IniProfile => "profile",
            Kind::CliProfile => "cli_profile",
            Kind::Default => "default",
            Kind::RsaKeyPair => "rsa_key_pair",
            Kind::CloudSso => "cloud_sso",
            Kind::OAuth => "oauth",
            Kind::External => "external",
        }
    }
}

/// A credential source, fully resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProviderSpec {
    /// A fixed AccessKey (`access_key`, CLI `AK`, INI `access_key`).
    StaticAk(AccessKey),
    /// A fixed STS token (`sts`, CLI `StsToken`).
    StaticSts(AccessKey, Secret),
    /// A bearer token (`bearer`).
    Bearer(Secret),
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`, read at each call.
    Env,
    /// Roles assumed over a base source (`ram_role_arn`, CLI `RamRoleArn` and `ChainableRamRoleArn`).
    AssumeRole(RoleChain),
    /// AssumeRoleWithOIDC with a token file (`oidc_role_arn`, CLI `OIDC`).
    Oidc(OidcSpec),
    /// The ECS metadata service (`ecs_ram_role`, CLI `EcsRamRole`).
    Ecs(EcsSpec),
    /// A credentials server (`credentials_uri`).
    Uri(UriSpec),
    /// The CloudSSO portal (CLI `CloudSSO`).
    CloudSso(CloudSsoSpec),
    /// OAuth tokens exchanged for STS credentials (CLI `OAuth`).
    OAuth(OAuthSpec),
    /// An external command (CLI `External`).
    External(ExternalSpec),
    /// A profile of the CLI's config.json, read at the first call.
    CliProfile(ProfileFile),
    /// A section of the INI credentials file, read at the first call.
    IniProfile(ProfileFile),
    /// The default chain.
    Default(Vec<ChainStep>),
    /// A provider supplied by the caller (a JavaScript object with `getCredentials()`).
    Custom(CustomSource),
}

impl ProviderSpec {
    /// The name the provider built from this description reports.
    pub fn provider_name(&self) -> String {
        match self {
            ProviderSpec::StaticAk(_) => Kind::AccessKey.provider_name().to_owned(),
            ProviderSpec::StaticSts(..) => Kind::Sts.provider_name().to_owned(),
            ProviderSpec::Bearer(_) => Kind::Bearer.provider_name().to_owned(),
            ProviderSpec::Env => Kind::Env.provider_name().to_owned(),
            ProviderSpec::AssumeRole(chain) => {
                let prefix = format!("{}/", Kind::RamRoleArn.provider_name());
                format!(
                    "{}{}",
                    prefix.repeat(chain.roles.len()),
                    chain.base.provider_name()
                )
            }
            ProviderSpec::Oidc(_) => Kind::OidcRoleArn.provider_name().to_owned(),
            ProviderSpec::Ecs(_) => Kind::EcsRamRole.provider_name().to_owned(),
            ProviderSpec::Uri(_) => Kind::CredentialsUri.provider_name().to_owned(),
            ProviderSpec::CloudSso(_) => Kind::CloudSso.provider_name().to_owned(),
            ProviderSpec::OAuth(_) => Kind::OAuth.provider_name().to_owned(),
            ProviderSpec::External(_) => Kind::External.provider_name().to_owned(),
            ProviderSpec::CliProfile(_) => Kind::CliProfile.provider_name().to_owned(),
            ProviderSpec::IniProfile(_) => Kind::IniProfile.provider_name().to_owned(),
            ProviderSpec::Default(_) => Kind::Default.provider_name().to_owned(),
            ProviderSpec::Custom(c) => c.name.clone(),
        }
    }

    /// This description with one more role assumed over it (a chain stays flat).
    pub fn assume(self, role: RoleSpec) -> Result<ProviderSpec, crate::error::Error> {
        let mut chain = match self {
            ProviderSpec::AssumeRole(chain) => chain,
            base => RoleChain {
                base: Box::new(base),
                roles: Vec::new(),
            },
        };
        if chain.roles.len() >= MAX_ROLE_CHAIN {
            return Err(crate::error::Error::config(format!(
                "a chain of role assumptions may be at most {MAX_ROLE_CHAIN} deep"
            )));
        }
        chain.roles.push(role);
        Ok(ProviderSpec::AssumeRole(chain))
    }
}

/// Where to send STS requests: one shared string per endpoint of the process, however many
/// identities use it (thousands of tenants' roles assumed at one STS endpoint).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint(Arc<str>);

impl Endpoint {
    /// `endpoint` as given (a scheme in it is kept, otherwise https), or derived from the region:
    /// `sts-vpc.<region>.aliyuncs.com` with VPC, `sts.<region>.aliyuncs.com`, `sts.aliyuncs.com`.
    pub fn resolve(endpoint: Option<String>, region: Option<String>, vpc: bool) -> Self {
        let host = match (endpoint, region) {
            (Some(e), _) => e,
            (None, Some(r)) if vpc => format!("sts-vpc.{r}.aliyuncs.com"),
            (None, Some(r)) => format!("sts.{r}.aliyuncs.com"),
            (None, None) => "sts.aliyuncs.com".to_owned(),
        };
        let base = if host.contains("://") {
            host
        } else {
            format!("https://{host}")
        };
        Endpoint(shared_endpoint(base.trim_end_matches('/')))
    }

    /// The base URL, `scheme://host[:port]`.
    pub fn base(&self) -> &str {
        &self.0
    }
}

/// Endpoints kept for sharing, at most: a process talks to a handful; past this many, each new
/// one is its own copy.
const SHARED_ENDPOINTS: usize = 64;

/// The process's copy of `base`.
fn shared_endpoint(base: &str) -> Arc<str> {
    static SHARED: Mutex<Vec<Arc<str>>> = Mutex::new(Vec::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = shared.iter().find(|e| &***e == base) {
        return found.clone();
    }
    let endpoint: Arc<str> = Arc::from(base);
    if shared.len() < SHARED_ENDPOINTS {
        shared.push(endpoint.clone());
    }
    endpoint
}

/// An AccessKey pair.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccessKey {
    pub id: String,
    pub secret: Secret,
}

/// Roles assumed in turn over a base source: `roles[0]` with the base's credentials, each next
/// role with the previous one's. The base is never itself a chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleChain {
    pub base: Box<ProviderSpec>,
    pub roles: Vec<RoleSpec>,
}

/// One AssumeRole call: the STS options and AssumeRole's own parameters, every one of which
/// `sts::RoleRequest` sends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleSpec {
    pub sts: StsSpec,
    pub external_id: Option<Secret>,
}

impl From<StsSpec> for RoleSpec {
    /// The STS options alone (AssumeRoleWithOIDC takes none of AssumeRole's own parameters).
    fn from(sts: StsSpec) -> Self {
        RoleSpec {
            sts,
            external_id: None,
        }
    }
}

/// The STS request options shared by AssumeRole and AssumeRoleWithOIDC.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StsSpec {
    pub role_arn: String,
    /// `None`: `credentials-nodejs-<ms since epoch>` when the provider is built.
    pub role_session_name: Option<String>,
    pub duration_seconds: u64,
    pub policy: Option<String>,
    pub endpoint: Endpoint,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

/// AssumeRoleWithOIDC.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OidcSpec {
    pub provider_arn: String,
    pub token_file: String,
    pub sts: StsSpec,
}

/// The ECS metadata service.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EcsSpec {
    /// `scheme://host[:port]` of the metadata service.
    pub base_url: String,
    /// `None`: asked of the metadata service.
    pub role_name: Option<String>,
    pub disable_imds_v1: bool,
    /// Refresh on a timer without callers (`asyncCredentialUpdateEnabled`).
    pub background: bool,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

/// A credentials server.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UriSpec {
    pub uri: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl fmt::Debug for UriSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The query string often carries a token.
        f.debug_struct("UriSpec")
            .field("uri", &crate::http::redact_url(&self.uri))
            .finish_non_exhaustive()
    }
}

/// The CloudSSO portal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CloudSsoSpec {
    /// `scheme://host[:port]` of the sign-in URL.
    pub base_url: String,
    pub account_id: String,
    pub access_config: String,
    pub access_token: Secret,
    /// Seconds since the epoch.
    pub access_token_expire: i64,
}

/// OAuth tokens of a CLI profile.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OAuthSpec {
    /// `scheme://host[:port]` of the sign-in service.
    pub base_url: String,
    pub client_id: String,
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// Seconds since the epoch.
    pub access_token_expire: i64,
    pub write_back: Option<ProfileLocation>,
}

/// An external command, already split into its program and arguments.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ExternalSpec {
    pub argv: Vec<String>,
    pub write_back: Option<ProfileLocation>,
}

impl fmt::Debug for ExternalSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The program only: arguments may carry secrets.
        f.debug_struct("ExternalSpec")
            .field("program", &self.argv.first())
            .field("write_back", &self.write_back)
            .finish_non_exhaustive()
    }
}

/// A profile of a config.json, where refreshed tokens are written back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProfileLocation {
    pub path: PathBuf,
    pub profile: String,
}

/// A profile file and the profile (CLI) or section (INI) to read from it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProfileFile {
    /// `None` when no home directory is known.
    pub path: Option<PathBuf>,
    /// CLI: `None` for the file's `current`. INI: always set.
    pub profile: Option<String>,
}

/// One step of the default chain as it was built.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChainStep {
    /// A step the chain tries.
    Try(ProviderSpec),
    /// A step left out (disabled, incomplete), with the reason `describe()` shows.
    Skipped { provider: String, reason: String },
}

/// A provider supplied by the caller, as an id into the table the builder keeps
/// ([`crate::builder::custom`]): the description stays plain data. Two are the same description
/// only when they are the same object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomSource {
    pub name: String,
    pub id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kinds_type_name_is_the_type_that_names_it() {
        for name in [
            "access_key",
            "sts",
            "bearer",
            "ram_role_arn",
            "oidc_role_arn",
            "ecs_ram_role",
            "credentials_uri",
            "rsa_key_pair",
        ] {
            assert_eq!(Kind::from_type(name).unwrap().type_name(), name);
        }
        assert_eq!(Kind::Default.type_name(), "default");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::resolve(None, None, false).base(),
            "https://sts.aliyuncs.com"
        );
        assert_eq!(
            Endpoint::resolve(None, Some("cn-beijing".into()), false).base(),
            "https://sts.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            Endpoint::resolve(None, Some("cn-beijing".into()), true).base(),
            "https://sts-vpc.cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            Endpoint::resolve(Some("sts.example.test".into()), Some("x".into()), true).base(),
            "https://sts.example.test"
        );
        assert_eq!(
            Endpoint::resolve(Some("http://127.0.0.1:8080/".into()), None, false).base(),
            "http://127.0.0.1:8080"
        );
    }
}
