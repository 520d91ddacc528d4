//! `sts`: a fixed STS token.

use crate::credentials::Credentials;
use crate::env::{vars, Env};
use crate::error::Result;
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::providers::static_ak::{or_env, StaticAkProvider};
use crate::secret::Secret;

/// Provider name of static STS tokens.
pub const NAME: &str = "static_sts";

/// A fixed STS token (AccessKey pair and security token).
#[derive(Debug)]
pub struct StaticStsProvider {
    credentials: Credentials,
}

impl StaticStsProvider {
    /// Builds from the given values, falling back to the `ALIBABA_CLOUD_*` variables for empty
    /// ones, with the official error messages.
    pub fn build(
        id: Option<String>,
        secret: Option<String>,
        token: Option<String>,
        env: &Env,
    ) -> Result<Self> {
        // The AccessKey half with its checks and fallbacks, then the token: the official order.
        let mut credentials = StaticAkProvider::build(id, secret, env)?.into_credentials();
        let token = or_env(
            token,
            env,
            vars::SECURITY_TOKEN,
            "the security token is empty",
        )?;
        credentials.provider_name = NAME.to_owned();
        credentials.security_token = Some(Secret::new(token));
        Ok(StaticStsProvider { credentials })
    }
}

impl CredentialsProvider for StaticStsProvider {
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
    async fn returns_the_triple() {
        let env = Env::from_pairs::<&str, &str>([]);
        let p =
            StaticStsProvider::build(Some("i".into()), Some("s".into()), Some("t".into()), &env)
                .unwrap();
        let c = p.get_credentials().await.unwrap();
        assert_eq!(c.security_token.unwrap().expose(), "t");
        assert_eq!(c.provider_name, "static_sts");
    }

    #[test]
    fn missing_token_message() {
        let env = Env::from_pairs([(vars::ACCESS_KEY_ID, "i"), (vars::ACCESS_KEY_SECRET, "s")]);
        let e = StaticStsProvider::build(None, None, None, &env).unwrap_err();
        assert_eq!(e.message(), "the security token is empty");
        let env = Env::from_pairs([
            (vars::ACCESS_KEY_ID, "i"),
            (vars::ACCESS_KEY_SECRET, "s"),
            (vars::SECURITY_TOKEN, "t"),
        ]);
        assert!(StaticStsProvider::build(None, None, None, &env).is_ok());
    }
}
