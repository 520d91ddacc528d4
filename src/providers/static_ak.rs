//! `access_key`: a fixed AccessKey pair.

use crate::credentials::Credentials;
use crate::env::{vars, Env};
use crate::error::{Error, Result};
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::secret::Secret;

/// Provider name of static AccessKeys.
pub const NAME: &str = "static_ak";

/// `value` when set and not empty, else the environment variable `var`, else the official
/// `message` as an error.
pub(crate) fn or_env(value: Option<String>, env: &Env, var: &str, message: &str) -> Result<String> {
    value
        .filter(|v| !v.is_empty())
        .or_else(|| env.get(var))
        .ok_or_else(|| Error::config(message))
}

/// A fixed AccessKey pair.
#[derive(Debug)]
pub struct StaticAkProvider {
    credentials: Credentials,
}

impl StaticAkProvider {
    /// Builds from the given values, falling back to `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` for
    /// empty ones, with the official error messages.
    pub fn build(id: Option<String>, secret: Option<String>, env: &Env) -> Result<Self> {
        let id = or_env(id, env, vars::ACCESS_KEY_ID, "the access key id is empty")?;
        let secret = or_env(
            secret,
            env,
            vars::ACCESS_KEY_SECRET,
            "the access key secret is empty",
        )?;
        Ok(StaticAkProvider {
            credentials: Credentials::access_key(id, Secret::new(secret), NAME),
        })
    }
}

impl StaticAkProvider {
    /// The credentials this provider serves.
    pub(crate) fn into_credentials(self) -> Credentials {
        self.credentials
    }
}

impl CredentialsProvider for StaticAkProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let credentials = self.credentials.clone();
        Box::pin(async move { Ok(credentials) })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn explicit_values_win_over_env() {
        let env = Env::from_pairs([
            (vars::ACCESS_KEY_ID, "env-id"),
            (vars::ACCESS_KEY_SECRET, "env-secret"),
        ]);
        let p = StaticAkProvider::build(Some("id".into()), Some("secret".into()), &env).unwrap();
        let c = p.get_credentials().await.unwrap();
        assert_eq!(c.access_key_id, "id");
        assert_eq!(c.access_key_secret.expose(), "secret");
        assert_eq!(c.provider_name, "static_ak");
        assert!(c.security_token.is_none());
    }

    #[tokio::test]
    async fn empty_values_fall_back_to_env() {
        let env = Env::from_pairs([
            (vars::ACCESS_KEY_ID, "env-id"),
            (vars::ACCESS_KEY_SECRET, "env-secret"),
        ]);
        let p = StaticAkProvider::build(Some(String::new()), None, &env).unwrap();
        let c = p.get_credentials().await.unwrap();
        assert_eq!(c.access_key_id, "env-id");
        assert_eq!(c.access_key_secret.expose(), "env-secret");
    }

    #[test]
    fn official_messages() {
        let env = Env::from_pairs::<&str, &str>([]);
        let e = StaticAkProvider::build(None, Some("s".into()), &env).unwrap_err();
        assert_eq!(e.message(), "the access key id is empty");
        let e = StaticAkProvider::build(Some("i".into()), None, &env).unwrap_err();
        assert_eq!(e.message(), "the access key secret is empty");
    }

    #[test]
    fn debug_hides_secret() {
        let env = Env::from_pairs::<&str, &str>([]);
        let p = StaticAkProvider::build(
            Some("LTAI5tIDVALUE0001".into()),
            Some("TOPSECRETVALUE".into()),
            &env,
        )
        .unwrap();
        let text = format!("{p:?}");
        assert!(!text.contains("TOPSECRETVALUE"));
        assert!(!text.contains("LTAI5tIDVALUE0001"));
    }
}
