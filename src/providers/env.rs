//! `env`: the AccessKey (and optional STS token) in `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` /
//! `ALIBABA_CLOUD_SECURITY_TOKEN`, read every time credentials are asked for, as the official
//! provider does: a key rotated in the environment is picked up by the next call.

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::description::Kind;
use crate::env::{vars, Env};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use std::time::SystemTime;

/// The provider name, as the official package gives it.
const NAME: &str = Kind::Env.provider_name();

/// Credentials from environment variables.
#[derive(Debug)]
pub struct EnvProvider {
    env: Env,
}

impl EnvProvider {
    /// A provider reading `env`.
    pub fn new(env: Env) -> Self {
        EnvProvider { env }
    }

    fn resolve(&self) -> Result<Credentials> {
        // The official messages, typo included: code matches on them.
        let id = self.env.get(vars::ACCESS_KEY_ID).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                "unable to get credentials from enviroment variables, Access key ID must be specified via environment variable (ALIBABA_CLOUD_ACCESS_KEY_ID)",
            )
        })?;
        let secret = self.env.get(vars::ACCESS_KEY_SECRET).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                "unable to get credentials from enviroment variables, Access key secret must be specified via environment variable (ALIBABA_CLOUD_ACCESS_KEY_SECRET)",
            )
        })?;
        let mut credentials = Credentials::access_key(id, Secret::new(secret), NAME);
        credentials.security_token = self.env.get(vars::SECURITY_TOKEN).map(Secret::new);
        // Not reusable: callers' caches (the JavaScript snapshot) ask again on the next call.
        credentials.reuse_until = Some(SystemTime::now());
        Ok(credentials)
    }
}

impl CredentialsProvider for EnvProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let result = self.resolve();
        Box::pin(async move { result })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some("environment variables ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> EnvProvider {
        EnvProvider::new(Env::from_pairs([
            (vars::ACCESS_KEY_ID, "i"),
            (vars::ACCESS_KEY_SECRET, "s"),
        ]))
    }

    #[tokio::test]
    async fn reads_pair_and_optional_token() {
        let c = pair().get_credentials().await.unwrap();
        assert!(c.security_token.is_none());
        assert_eq!(c.provider_name, "env");
        let p = EnvProvider::new(Env::from_pairs([
            (vars::ACCESS_KEY_ID, "i"),
            (vars::ACCESS_KEY_SECRET, "s"),
            (vars::SECURITY_TOKEN, "t"),
        ]));
        assert_eq!(
            p.get_credentials()
                .await
                .unwrap()
                .security_token
                .unwrap()
                .expose(),
            "t"
        );
    }

    #[tokio::test]
    async fn never_reusable_so_a_rotated_key_is_read() {
        let c = pair().get_credentials().await.unwrap();
        assert!(c.reuse_until.is_some_and(|t| t <= SystemTime::now()));
    }

    #[tokio::test]
    async fn missing_secret_message() {
        let p = EnvProvider::new(Env::from_pairs([(vars::ACCESS_KEY_ID, "i")]));
        let e = p.get_credentials().await.unwrap_err();
        assert!(e.message().contains("(ALIBABA_CLOUD_ACCESS_KEY_SECRET)"));
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}
