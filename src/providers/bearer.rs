//! `bearer`: a bearer token for services that sign with it instead of an AccessKey.

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::description::Kind;
use crate::error::Result;
use crate::secret::Secret;

/// A fixed bearer token. Its credentials carry empty AccessKey fields, as the official package's do.
#[derive(Debug)]
pub struct BearerProvider {
    token: Secret,
}

impl BearerProvider {
    /// A provider of `token`.
    pub fn new(token: Secret) -> Self {
        BearerProvider { token }
    }
}

impl CredentialsProvider for BearerProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let mut credentials = Credentials::access_key(String::new(), Secret::default(), "");
        credentials.security_token = Some(Secret::default());
        credentials.bearer_token = Some(self.token.clone());
        Box::pin(async move { Ok(credentials) })
    }

    fn provider_name(&self) -> String {
        Kind::Bearer.provider_name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bearer_shape() {
        let c = BearerProvider::new(Secret::new("tok"))
            .get_credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "");
        assert_eq!(c.security_token.unwrap().expose(), "");
        assert_eq!(c.bearer_token.unwrap().expose(), "tok");
        assert_eq!(c.provider_name, "");
    }
}
