//! The checks and environment fallbacks every parser applies, one function per source, with the
//! official messages. Parsers gather raw options from their format and call these.

use std::path::PathBuf;
use std::time::Duration;

use super::{
    AccessKey, ChainStep, CloudSsoSpec, EcsSpec, Endpoint, Kind, OAuthSpec, OidcSpec, ProfileFile,
    ProfileLocation, ProviderSpec, RoleSpec, StsSpec, UriSpec,
};
use crate::env::{vars, Env};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// The deepest chain of role assumptions a description may hold. Each `ChainableRamRoleArn`
/// profile adds one; real chains are two or three deep.
pub const MAX_ROLE_CHAIN: usize = 32;

/// The metadata service of every ECS instance.
pub const ECS_DEFAULT_ENDPOINT: &str = "http://100.100.100.200";
const ECS_DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);
const STS_DEFAULT_READ_TIMEOUT: Duration = Duration::from_millis(10_000);
const STS_DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(5_000);

fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn or_env(value: Option<String>, env: &Env, var: &str, message: &str) -> Result<String> {
    given(value)
        .or_else(|| env.get(var))
        .ok_or_else(|| Error::config(message))
}

/// A timeout in ms, or `default` when absent or not positive.
fn millis(value: Option<f64>, default: Duration) -> Duration {
    match value {
        Some(ms) if ms.is_finite() && ms > 0.0 => Duration::from_millis(ms as u64),
        _ => default,
    }
}

/// An AccessKey and the token of STS credentials, before environment fallbacks.
#[derive(Clone, Default)]
pub struct KeyOptions {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
}

/// An AccessKey, falling back to `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` for empty values.
pub fn static_ak(o: KeyOptions, env: &Env) -> Result<AccessKey> {
    let id = or_env(
        o.access_key_id,
        env,
        vars::ACCESS_KEY_ID,
        "the access key id is empty",
    )?;
    let secret = or_env(
        o.access_key_secret,
        env,
        vars::ACCESS_KEY_SECRET,
        "the access key secret is empty",
    )?;
    Ok(AccessKey {
        id,
        secret: Secret::new(secret),
    })
}

/// An STS token, with the same fallbacks and `ALIBABA_CLOUD_SECURITY_TOKEN`.
pub fn static_sts(o: KeyOptions, env: &Env) -> Result<ProviderSpec> {
    let token = o.security_token.clone();
    let key = static_ak(o, env)?;
    let token = or_env(
        token,
        env,
        vars::SECURITY_TOKEN,
        "the security token is empty",
    )?;
    Ok(ProviderSpec::StaticSts(key, Secret::new(token)))
}

/// A bearer token (`bearer`), which has no environment fallback.
pub fn bearer(token: Option<String>) -> Result<Secret> {
    given(token)
        .map(Secret::new)
        .ok_or_else(|| Error::config("Missing required bearerToken option in config for bearer"))
}

/// Timeouts in milliseconds; absent or not positive: the source's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeouts {
    pub connect: Option<f64>,
    pub read: Option<f64>,
}

/// The STS options of a role, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct StsOptions {
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<f64>,
    pub policy: Option<String>,
    pub sts_endpoint: Option<String>,
    pub sts_region_id: Option<String>,
    pub enable_vpc: Option<bool>,
    pub timeouts: Timeouts,
}

/// The options of one role assumption, before environment fallbacks.
#[derive(Clone, Default)]
pub struct RoleOptions {
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub sts: StsOptions,
}

/// Checks `roleSessionExpiration`: absent or 0 means 3600; below 900 is refused before any request.
fn duration_seconds(value: Option<f64>) -> Result<u64> {
    match value {
        None => Ok(3600),
        Some(0.0) => Ok(3600),
        Some(v) if !v.is_finite() || v < 900.0 => Err(Error::config(
            "session duration should be in the range of 900s - max session duration",
        )),
        Some(v) => Ok(v as u64),
    }
}

fn sts(role_arn: String, o: StsOptions, env: &Env) -> Result<StsSpec> {
    let endpoint = given(o.sts_endpoint).or_else(|| env.get(vars::STS_ENDPOINT));
    let region = given(o.sts_region_id).or_else(|| env.get(vars::STS_REGION));
    let vpc = o.enable_vpc.unwrap_or(false) || env.flag(vars::VPC_ENDPOINT_ENABLED);
    let endpoint = Endpoint::resolve(endpoint, region, vpc);
    if crate::http::Url::parse(&format!("{}/", endpoint.base())).is_err() {
        return Err(Error::config("the STS endpoint is not an http(s) URL"));
    }
    Ok(StsSpec {
        role_arn,
        role_session_name: given(o.role_session_name).or_else(|| env.get(vars::ROLE_SESSION_NAME)),
        duration_seconds: duration_seconds(o.duration_seconds)?,
        policy: given(o.policy),
        endpoint,
        connect_timeout: millis(o.timeouts.connect, STS_DEFAULT_CONNECT_TIMEOUT),
        read_timeout: millis(o.timeouts.read, STS_DEFAULT_READ_TIMEOUT),
    })
}

/// A role to assume, with `ALIBABA_CLOUD_ROLE_ARN`, `_EXTERNAL_ID` and the STS fallbacks.
pub fn role(o: RoleOptions, env: &Env) -> Result<RoleSpec> {
    let role_arn = given(o.role_arn)
        .or_else(|| env.get(vars::ROLE_ARN))
        .ok_or_else(|| Error::config("the RoleArn is empty"))?;
    Ok(RoleSpec {
        sts: sts(role_arn, o.sts, env)?,
        external_id: given(o.external_id)
            .or_else(|| env.get(vars::EXTERNAL_ID))
            .map(Secret::new),
    })
}

/// The options of AssumeRoleWithOIDC, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct OidcOptions {
    pub role_arn: Option<String>,
    pub provider_arn: Option<String>,
    pub token_file: Option<String>,
    pub sts: StsOptions,
}

/// AssumeRoleWithOIDC, with the official messages for missing options, in the official order.
pub fn oidc(o: OidcOptions, env: &Env) -> Result<OidcSpec> {
    let role_arn = or_env(
        o.role_arn,
        env,
        vars::ROLE_ARN,
        "roleArn does not exist and env ALIBABA_CLOUD_ROLE_ARN is null.",
    )?;
    let provider_arn = or_env(
        o.provider_arn,
        env,
        vars::OIDC_PROVIDER_ARN,
        "oidcProviderArn does not exist and env ALIBABA_CLOUD_OIDC_PROVIDER_ARN is null.",
    )?;
    let token_file = or_env(
        o.token_file,
        env,
        vars::OIDC_TOKEN_FILE,
        "oidcTokenFilePath is not exists and env ALIBABA_CLOUD_OIDC_TOKEN_FILE is null.",
    )?;
    Ok(OidcSpec {
        provider_arn,
        token_file,
        sts: sts(role_arn, o.sts, env)?,
    })
}

/// The metadata service base URL: `ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT` or the default.
fn ecs_base_url(env: &Env) -> String {
    let base = env
        .get(vars::ECS_METADATA_SERVICE_ENDPOINT)
        .unwrap_or_else(|| ECS_DEFAULT_ENDPOINT.to_owned());
    let base = if base.contains("://") {
        base
    } else {
        format!("http://{base}")
    };
    base.trim_end_matches('/').to_owned()
}

/// The options of the ECS metadata service, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct EcsOptions {
    pub role_name: Option<String>,
    pub disable_imds_v1: Option<bool>,
    /// Refresh on a timer without callers (`asyncCredentialUpdateEnabled`).
    pub background: Option<bool>,
    pub timeouts: Timeouts,
}

/// The ECS metadata service; refused when `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`.
pub fn ecs(o: EcsOptions, env: &Env) -> Result<EcsSpec> {
    if env.flag(vars::ECS_METADATA_DISABLED) {
        return Err(Error::new(
            ErrorKind::Disabled,
            "IMDS credentials is disabled",
        ));
    }
    let base_url = ecs_base_url(env);
    if crate::http::Url::parse(&base_url).is_err() {
        return Err(Error::config(
            "the metadata service endpoint (ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT) is not an http(s) URL",
        ));
    }
    Ok(EcsSpec {
        base_url,
        role_name: given(o.role_name).or_else(|| env.get(vars::ECS_METADATA)),
        disable_imds_v1: o.disable_imds_v1.unwrap_or(false) || env.flag(vars::IMDSV1_DISABLED),
        background: o.background.unwrap_or(false),
        connect_timeout: millis(o.timeouts.connect, ECS_DEFAULT_TIMEOUT),
        read_timeout: millis(o.timeouts.read, ECS_DEFAULT_TIMEOUT),
    })
}

/// The options of a credentials server, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct UriOptions {
    pub uri: Option<String>,
    pub timeouts: Timeouts,
}

/// A credentials server: the option or `ALIBABA_CLOUD_CREDENTIALS_URI`, an http(s) URL.
pub fn uri(o: UriOptions, env: &Env) -> Result<UriSpec> {
    let uri = or_env(
        o.uri,
        env,
        vars::CREDENTIALS_URI,
        "the credentials URI is empty: set credentialsURI or ALIBABA_CLOUD_CREDENTIALS_URI",
    )?;
    if crate::http::Url::parse(&uri).is_err() {
        return Err(Error::config("the credentials URI is not an http(s) URL"));
    }
    Ok(UriSpec {
        uri,
        connect_timeout: millis(o.timeouts.connect, STS_DEFAULT_CONNECT_TIMEOUT),
        read_timeout: millis(o.timeouts.read, STS_DEFAULT_READ_TIMEOUT),
    })
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    crate::http::Url::parse(url).ok().map(|u| u.origin())
}

fn now_seconds() -> i64 {
    (crate::time::epoch_millis() / 1000) as i64
}

/// The options of a CloudSSO profile.
#[derive(Clone, Default)]
pub struct CloudSsoOptions {
    pub sign_in_url: Option<String>,
    pub account_id: Option<String>,
    pub access_config: Option<String>,
    pub access_token: Option<String>,
    /// Seconds since the epoch.
    pub access_token_expire: Option<i64>,
}

/// The CloudSSO portal; refuses a missing or expired access token.
pub fn cloud_sso(o: CloudSsoOptions) -> Result<CloudSsoSpec> {
    let expire = o.access_token_expire.unwrap_or(0);
    let Some(token) = given(o.access_token).filter(|_| expire > now_seconds()) else {
        return Err(Error::new(
            ErrorKind::Profile,
            "CloudSSO access token is empty or expired, please re-login with cli.",
        ));
    };
    let (Some(url), Some(account_id), Some(access_config)) = (
        given(o.sign_in_url),
        given(o.account_id),
        given(o.access_config),
    ) else {
        return Err(Error::new(
            ErrorKind::Profile,
            "CloudSSO sign in url, account id, and access config cannot be empty.",
        ));
    };
    let base_url = origin(&url).ok_or_else(|| {
        Error::new(
            ErrorKind::Profile,
            "CloudSSO sign in url is not a valid URL",
        )
    })?;
    Ok(CloudSsoSpec {
        base_url,
        account_id,
        access_config,
        access_token: Secret::new(token),
        access_token_expire: expire,
    })
}

/// Overrides the OAuth sign-in base URL (private deployments, tests).
pub const OAUTH_SIGN_IN_URL_VAR: &str = "ALIBABA_CLOUD_OAUTH_SIGN_IN_URL";

/// The options of an OAuth profile.
#[derive(Clone, Default)]
pub struct OAuthOptions {
    /// `CN` or `INTL`.
    pub site_type: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    /// Seconds since the epoch.
    pub access_token_expire: Option<i64>,
    pub write_back: Option<ProfileLocation>,
}

/// OAuth tokens for a site type (`CN` or `INTL`).
pub fn oauth(o: OAuthOptions, env: &Env) -> Result<OAuthSpec> {
    let (default_url, client_id) = match o
        .site_type
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "CN" => ("https://oauth.aliyun.com", "4038181954557748008"),
        "INTL" => ("https://oauth.alibabacloud.com", "4103531455503354461"),
        _ => {
            return Err(Error::new(
                ErrorKind::Profile,
                "invalid OAuth site type, support CN or INTL",
            ))
        }
    };
    let sign_in_url = env
        .get(OAUTH_SIGN_IN_URL_VAR)
        .unwrap_or_else(|| default_url.to_owned());
    let base_url = origin(&sign_in_url)
        .ok_or_else(|| Error::new(ErrorKind::Profile, "the url for sign-in is empty"))?;
    let access = o.access_token.unwrap_or_default();
    let refresh = o.refresh_token.unwrap_or_default();
    if access.is_empty() && refresh.is_empty() {
        return Err(Error::new(
            ErrorKind::Profile,
            "OAuth access token and refresh token are empty, please re-login with cli.",
        ));
    }
    Ok(OAuthSpec {
        base_url,
        client_id: client_id.to_owned(),
        access_token: Secret::new(access),
        refresh_token: Secret::new(refresh),
        access_token_expire: o.access_token_expire.unwrap_or(0),
        write_back: o.write_back,
    })
}

/// The CLI profile: `ALIBABA_CLOUD_CONFIG_FILE` or `~/.aliyun/config.json`; the profile named, else
/// `ALIBABA_CLOUD_PROFILE`, else the file's `current`. Refused when
/// `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`.
pub fn cli_profile(profile: Option<String>, env: &Env) -> Result<ProfileFile> {
    if env.flag(vars::CLI_PROFILE_DISABLED) {
        return Err(Error::new(
            ErrorKind::Disabled,
            "the CLI profile is disabled",
        ));
    }
    Ok(ProfileFile {
        path: env
            .get(vars::CONFIG_FILE)
            .map(PathBuf::from)
            .or_else(|| crate::paths::home_dir(env).map(|h| h.join(".aliyun").join("config.json"))),
        profile: given(profile).or_else(|| env.get(vars::PROFILE)),
    })
}

/// The INI profile: `ALIBABA_CLOUD_CREDENTIALS_FILE` or `~/.alibabacloud/credentials`; the section
/// named, else `ALIBABA_CLOUD_PROFILE`, else `default`.
pub fn ini_profile(section: Option<String>, env: &Env) -> ProfileFile {
    ProfileFile {
        path: env
            .get(vars::CREDENTIALS_FILE)
            .map(PathBuf::from)
            .or_else(|| {
                crate::paths::home_dir(env).map(|h| h.join(".alibabacloud").join("credentials"))
            }),
        profile: Some(
            given(section)
                .or_else(|| env.get(vars::PROFILE))
                .unwrap_or_else(|| "default".to_owned()),
        ),
    }
}

/// The default chain as `new Credential()` builds it from `env`: environment, OIDC (when its three
/// variables are set), CLI profile, INI profile, ECS metadata, credentials URI (when set). A step
/// that cannot be built (disabled, incomplete) is left out with its reason, as the official chain
/// leaves it out.
pub fn default_chain(env: &Env) -> Vec<ChainStep> {
    let skipped = |kind: Kind, reason: String| ChainStep::Skipped {
        provider: kind.provider_name().to_owned(),
        reason,
    };
    let mut steps = vec![ChainStep::Try(ProviderSpec::Env)];
    let oidc_vars = [
        vars::ROLE_ARN,
        vars::OIDC_PROVIDER_ARN,
        vars::OIDC_TOKEN_FILE,
    ];
    steps.push(if oidc_vars.iter().all(|v| env.get(v).is_some()) {
        match oidc(OidcOptions::default(), env) {
            Ok(spec) => ChainStep::Try(ProviderSpec::Oidc(spec)),
            Err(e) => skipped(Kind::OidcRoleArn, e.message().to_owned()),
        }
    } else {
        skipped(Kind::OidcRoleArn, "ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are not all set".to_owned())
    });
    steps.push(match cli_profile(None, env) {
        Ok(file) => ChainStep::Try(ProviderSpec::CliProfile(file)),
        Err(e) => skipped(
            Kind::CliProfile,
            format!("{} (ALIBABA_CLOUD_CLI_PROFILE_DISABLED)", e.message()),
        ),
    });
    steps.push(ChainStep::Try(ProviderSpec::IniProfile(ini_profile(
        None, env,
    ))));
    steps.push(match ecs(EcsOptions::default(), env) {
        Ok(spec) => ChainStep::Try(ProviderSpec::Ecs(spec)),
        Err(e) => skipped(
            Kind::EcsRamRole,
            format!("{} (ALIBABA_CLOUD_ECS_METADATA_DISABLED)", e.message()),
        ),
    });
    steps.push(if env.get(vars::CREDENTIALS_URI).is_some() {
        match uri(UriOptions::default(), env) {
            Ok(spec) => ChainStep::Try(ProviderSpec::Uri(spec)),
            Err(e) => skipped(Kind::CredentialsUri, e.message().to_owned()),
        }
    } else {
        skipped(
            Kind::CredentialsUri,
            "ALIBABA_CLOUD_CREDENTIALS_URI is not set".to_owned(),
        )
    });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::no_env;

    #[test]
    fn static_fallbacks_and_messages() {
        let env = Env::from_pairs([(vars::ACCESS_KEY_ID, "env-id")]);
        assert_eq!(
            static_ak(KeyOptions::default(), &env)
                .unwrap_err()
                .message(),
            "the access key secret is empty"
        );
        let secret_only = KeyOptions {
            access_key_secret: Some("s".into()),
            ..KeyOptions::default()
        };
        let key = static_ak(secret_only, &env).unwrap();
        assert_eq!((key.id.as_str(), key.secret.expose()), ("env-id", "s"));
        let none = no_env();
        assert_eq!(
            static_ak(KeyOptions::default(), &none)
                .unwrap_err()
                .message(),
            "the access key id is empty"
        );
        let no_token = KeyOptions {
            access_key_id: Some("i".into()),
            access_key_secret: Some("s".into()),
            security_token: None,
        };
        assert_eq!(
            static_sts(no_token, &none).unwrap_err().message(),
            "the security token is empty"
        );
    }

    #[test]
    fn role_checks_and_env_fallbacks() {
        let empty = no_env();
        assert_eq!(
            role(RoleOptions::default(), &empty).unwrap_err().message(),
            "the RoleArn is empty"
        );
        let env = Env::from_pairs([
            (vars::ROLE_ARN, "acs:ram::1:role/x"),
            (vars::STS_REGION, "cn-shanghai"),
            (vars::VPC_ENDPOINT_ENABLED, "true"),
            (vars::ROLE_SESSION_NAME, "n"),
        ]);
        let r = role(RoleOptions::default(), &env).unwrap();
        assert_eq!(r.sts.role_arn, "acs:ram::1:role/x");
        assert_eq!(
            r.sts.endpoint.base(),
            "https://sts-vpc.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(r.sts.role_session_name.as_deref(), Some("n"));
        assert_eq!(r.sts.duration_seconds, 3600);
        let short = RoleOptions {
            sts: StsOptions {
                duration_seconds: Some(600.0),
                ..StsOptions::default()
            },
            ..RoleOptions::default()
        };
        assert_eq!(
            role(short, &env).unwrap_err().message(),
            "session duration should be in the range of 900s - max session duration"
        );
        let env = Env::from_pairs([(vars::STS_ENDPOINT, "sts.override.test")]);
        let o = RoleOptions {
            role_arn: Some("r".into()),
            sts: StsOptions {
                sts_region_id: Some("x".into()),
                ..StsOptions::default()
            },
            ..RoleOptions::default()
        };
        assert_eq!(
            role(o, &env).unwrap().sts.endpoint.base(),
            "https://sts.override.test"
        );
    }

    #[test]
    fn oidc_messages_in_official_order() {
        let env = no_env();
        let mut o = OidcOptions::default();
        assert_eq!(
            oidc(o.clone(), &env).unwrap_err().message(),
            "roleArn does not exist and env ALIBABA_CLOUD_ROLE_ARN is null."
        );
        o.role_arn = Some("r".into());
        assert_eq!(
            oidc(o.clone(), &env).unwrap_err().message(),
            "oidcProviderArn does not exist and env ALIBABA_CLOUD_OIDC_PROVIDER_ARN is null."
        );
        o.provider_arn = Some("p".into());
        assert_eq!(
            oidc(o, &env).unwrap_err().message(),
            "oidcTokenFilePath is not exists and env ALIBABA_CLOUD_OIDC_TOKEN_FILE is null."
        );
    }

    #[test]
    fn ecs_and_uri() {
        let env = Env::from_pairs([(vars::ECS_METADATA_DISABLED, "true")]);
        assert_eq!(
            ecs(EcsOptions::default(), &env).unwrap_err().message(),
            "IMDS credentials is disabled"
        );
        let env = Env::from_pairs([(vars::ECS_METADATA_SERVICE_ENDPOINT, "127.0.0.1:9/")]);
        let spec = ecs(EcsOptions::default(), &env).unwrap();
        assert_eq!(spec.base_url, "http://127.0.0.1:9");
        assert_eq!(spec.connect_timeout, Duration::from_millis(1000));
        let none = no_env();
        assert_eq!(
            uri(
                UriOptions {
                    uri: Some("ftp://x".into()),
                    ..UriOptions::default()
                },
                &none
            )
            .unwrap_err()
            .message(),
            "the credentials URI is not an http(s) URL"
        );
    }

    #[test]
    fn default_chain_skips_with_reasons() {
        let env = Env::from_pairs([
            (vars::CLI_PROFILE_DISABLED, "true"),
            (vars::ECS_METADATA_DISABLED, "true"),
        ]);
        let steps = default_chain(&env);
        let shown: Vec<String> = steps
            .iter()
            .map(|s| match s {
                ChainStep::Try(spec) => spec.provider_name(),
                ChainStep::Skipped { provider, .. } => format!("-{provider}"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "env",
                "-oidc_role_arn",
                "-cli_profile",
                "profile",
                "-ecs_ram_role",
                "-credential_uri"
            ]
        );
    }
}
