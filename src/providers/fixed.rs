//! `access_key` and `sts`: a fixed AccessKey, with or without an STS token.

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::description::{AccessKey, Kind};
use crate::error::Result;
use crate::secret::Secret;

/// Credentials that never change.
#[derive(Debug)]
pub struct FixedProvider {
    credentials: Credentials,
}

impl FixedProvider {
    /// A provider that always returns `key` (`static_ak`).
    pub fn access_key(key: AccessKey) -> Self {
        FixedProvider {
            credentials: Credentials::access_key(
                key.id,
                key.secret,
                Kind::AccessKey.provider_name(),
            ),
        }
    }

    /// A provider that always returns `key` with `token` (`static_sts`).
    pub fn sts(key: AccessKey, token: Secret) -> Self {
        let mut credentials =
            Credentials::access_key(key.id, key.secret, Kind::Sts.provider_name());
        credentials.security_token = Some(token);
        FixedProvider { credentials }
    }
}

impl CredentialsProvider for FixedProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let credentials = self.credentials.clone();
        Box::pin(async move { Ok(credentials) })
    }

    fn provider_name(&self) -> String {
        self.credentials.provider_name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, secret: &str) -> AccessKey {
        AccessKey {
            id: id.into(),
            secret: Secret::new(secret),
        }
    }

    #[tokio::test]
    async fn returns_the_key_or_the_triple() {
        let c = FixedProvider::access_key(key("id", "secret"))
            .get_credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "id");
        assert_eq!(c.access_key_secret.expose(), "secret");
        assert_eq!(c.provider_name, "static_ak");
        assert!(c.security_token.is_none());
        let c = FixedProvider::sts(key("i", "s"), Secret::new("t"))
            .get_credentials()
            .await
            .unwrap();
        assert_eq!(c.security_token.unwrap().expose(), "t");
        assert_eq!(c.provider_name, "static_sts");
    }

    #[test]
    fn debug_hides_secret() {
        let p = FixedProvider::access_key(key("LTAI5tIDVALUE0001", "TOPSECRETVALUE"));
        let text = format!("{p:?}");
        assert!(!text.contains("TOPSECRETVALUE"));
        assert!(!text.contains("LTAI5tIDVALUE0001"));
    }
}
