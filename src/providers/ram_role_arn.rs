//! `ram_role_arn`: AssumeRole with credentials from another provider (an AccessKey, an STS
//! token, a CLI profile, a custom provider ...).

use std::sync::Arc;
use std::time::Duration;

use crate::config::non_empty;
use crate::credentials::Credentials;
use crate::env::{vars, Env};
use crate::error::{Error, Result};
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::session::{Policy, Refresher, SessionProvider};
use crate::sts::{self, Endpoint, RoleOptions};

/// The STS options shared by `ram_role_arn` and `oidc_role_arn`, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct StsSettings {
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<f64>,
    pub policy: Option<String>,
    pub sts_endpoint: Option<String>,
    pub sts_region_id: Option<String>,
    pub enable_vpc: Option<bool>,
    /// Milliseconds.
    pub connect_timeout: Option<f64>,
    /// Milliseconds.
    pub read_timeout: Option<f64>,
}

impl StsSettings {
    /// The request options for assuming `role_arn`, with the environment fallbacks and the
    /// official duration check.
    pub(crate) fn resolve(self, role_arn: String, env: &Env) -> Result<RoleOptions> {
        Ok(RoleOptions {
            role_arn,
            role_session_name: session_name(self.role_session_name, env),
            duration_seconds: sts::duration_seconds(self.duration_seconds)?,
            policy: non_empty(&self.policy),
            endpoint: endpoint(self.sts_endpoint, self.sts_region_id, self.enable_vpc, env),
            connect_timeout: millis(self.connect_timeout, sts::DEFAULT_CONNECT_TIMEOUT),
            read_timeout: millis(self.read_timeout, sts::DEFAULT_READ_TIMEOUT),
        })
    }
}

/// The options of a RAM role assumption, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct RamRoleArnOptions {
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub sts: StsSettings,
}

/// A timeout in ms, or `default` when absent or not positive.
pub(crate) fn millis(value: Option<f64>, default: Duration) -> Duration {
    match value {
        Some(ms) if ms.is_finite() && ms > 0.0 => Duration::from_millis(ms as u64),
        _ => default,
    }
}

/// The session name when none is given: `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else
/// `credentials-nodejs-<ms since epoch>`.
pub(crate) fn session_name(given: Option<String>, env: &Env) -> String {
    given
        .filter(|v| !v.is_empty())
        .or_else(|| env.get(vars::ROLE_SESSION_NAME))
        .unwrap_or_else(|| format!("credentials-nodejs-{}", crate::time::epoch_millis()))
}

/// The STS endpoint from the option, `ALIBABA_CLOUD_STS_ENDPOINT`, or the region and VPC flag.
pub(crate) fn endpoint(
    endpoint: Option<String>,
    region: Option<String>,
    vpc: Option<bool>,
    env: &Env,
) -> Endpoint {
    let endpoint = endpoint
        .filter(|v| !v.is_empty())
        .or_else(|| env.get(vars::STS_ENDPOINT));
    let region = region
        .filter(|v| !v.is_empty())
        .or_else(|| env.get(vars::STS_REGION));
    let vpc = vpc.unwrap_or(false) || env.flag(vars::VPC_ENDPOINT_ENABLED);
    Endpoint::resolve(endpoint, region, vpc)
}

struct RamRoleArnRefresher {
    source: Arc<dyn CredentialsProvider>,
    options: RoleOptions,
    external_id: Option<String>,
}

impl Refresher for RamRoleArnRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let source = self.source.get_credentials().await?;
            sts::assume_role(
                &source,
                &self.options,
                self.external_id.as_deref(),
                &self.provider_name(),
            )
            .await
        })
    }

    fn provider_name(&self) -> String {
        format!("ram_role_arn/{}", self.source.provider_name())
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!(
            "{} (AssumeRole {})",
            self.options.endpoint.base(),
            self.options.role_arn
        ))
    }
}

/// Builds the caching `ram_role_arn` provider over `source`, with the official checks.
pub fn build(
    source: Arc<dyn CredentialsProvider>,
    options: RamRoleArnOptions,
    env: &Env,
) -> Result<SessionProvider> {
    let role_arn = non_empty(&options.role_arn)
        .or_else(|| env.get(vars::ROLE_ARN))
        .ok_or_else(|| Error::config("the RoleArn is empty"))?;
    let role = options.sts.resolve(role_arn, env)?;
    let external_id = non_empty(&options.external_id).or_else(|| env.get(vars::EXTERNAL_ID));
    Ok(SessionProvider::new(
        Arc::new(RamRoleArnRefresher {
            source,
            options: role,
            external_id,
        }),
        Policy::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::static_ak::StaticAkProvider;

    fn source() -> Arc<dyn CredentialsProvider> {
        Arc::new(
            StaticAkProvider::build(
                Some("i".into()),
                Some("s".into()),
                &Env::from_pairs::<&str, &str>([]),
            )
            .unwrap(),
        )
    }

    #[test]
    fn official_checks_and_env_fallbacks() {
        let empty = Env::from_pairs::<&str, &str>([]);
        let e = build(source(), RamRoleArnOptions::default(), &empty).unwrap_err();
        assert_eq!(e.message(), "the RoleArn is empty");
        let env = Env::from_pairs([(vars::ROLE_ARN, "acs:ram::1:role/x")]);
        let p = build(source(), RamRoleArnOptions::default(), &env).unwrap();
        assert_eq!(p.provider_name(), "ram_role_arn/static_ak");
        let short = RamRoleArnOptions {
            sts: StsSettings {
                duration_seconds: Some(600.0),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(build(source(), short, &env)
            .unwrap_err()
            .message()
            .starts_with("session duration"));
    }

    #[test]
    fn endpoint_from_env() {
        let env = Env::from_pairs([
            (vars::STS_REGION, "cn-shanghai"),
            (vars::VPC_ENDPOINT_ENABLED, "true"),
        ]);
        assert_eq!(
            endpoint(None, None, None, &env).base(),
            "https://sts-vpc.cn-shanghai.aliyuncs.com"
        );
        let env = Env::from_pairs([(vars::STS_ENDPOINT, "sts.override.test")]);
        assert_eq!(
            endpoint(None, Some("r".into()), None, &env).base(),
            "https://sts.override.test"
        );
        assert_eq!(
            session_name(None, &Env::from_pairs([(vars::ROLE_SESSION_NAME, "n")])),
            "n"
        );
        assert!(session_name(None, &Env::from_pairs::<&str, &str>([]))
            .starts_with("credentials-nodejs-"));
    }
}
