//! The value every provider produces.

mod provider;
pub use provider::{BoxFuture, CredentialsProvider, Step};

use std::fmt;
use std::time::SystemTime;

use crate::error::{Error, ErrorKind, Result};
use crate::secret::{mask_id, Secret};
use crate::time::parse_expiration;

/// One set of credentials, as a provider returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The AccessKey ID (empty for bearer credentials).
    pub access_key_id: String,
    /// The AccessKey secret (empty for bearer credentials).
    pub access_key_secret: Secret,
    /// The STS security token, when the credentials are temporary.
    pub security_token: Option<Secret>,
    /// The bearer token, for `bearer` credentials only.
    pub bearer_token: Option<Secret>,
    /// The official provider name (`static_ak`, `ram_role_arn/static_sts`, ...); empty for bearer.
    pub provider_name: String,
    /// When the credentials stop working, for session credentials.
    pub expiration: Option<SystemTime>,
    /// Until when a caller may reuse these credentials without asking the provider again. `None`
    /// means for ever (static credentials). Never later than `expiration`.
    pub reuse_until: Option<SystemTime>,
    /// From when the provider stops handing these credentials out (the safety margin before
    /// `expiration`), so a caller holding them on to read their fields one by one lets go there.
    /// `None`: at `expiration`, or never.
    pub serve_until: Option<SystemTime>,
    /// When the source fetched these credentials, when that was before they were handed over
    /// (a machine-wide cache's entry, fetched by another process): the session engine schedules
    /// their refresh from there, as the process that fetched them does. `None`: just now.
    pub fetched_at: Option<SystemTime>,
}

impl Credentials {
    /// Static AccessKey credentials.
    pub fn access_key(id: String, secret: Secret, provider_name: impl Into<String>) -> Self {
        Credentials {
            access_key_id: id,
            access_key_secret: secret,
            security_token: None,
            bearer_token: None,
            provider_name: provider_name.into(),
            expiration: None,
            reuse_until: None,
            serve_until: None,
            fetched_at: None,
        }
    }

    /// The same credentials under another provider name (chains and role providers wrap names).
    pub fn renamed(mut self, provider_name: String) -> Self {
        self.provider_name = provider_name;
        self
    }
}

/// Credentials as a source gives them, before any check: as servers send them, PascalCase (STS,
/// ECS metadata, credential URIs, CloudSSO) or camelCase (the OAuth exchange), and as a caller's
/// provider answers (`providers::custom`, filled by the binding). [`Credentials`] is what they
/// become once checked.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CredentialFields {
    #[serde(alias = "accessKeyId")]
    pub access_key_id: Option<String>,
    #[serde(alias = "accessKeySecret")]
    pub access_key_secret: Option<String>,
    #[serde(alias = "securityToken")]
    pub security_token: Option<String>,
    #[serde(alias = "expiration")]
    pub expiration: Option<String>,
    /// The name a caller's provider gives its credentials; servers send none.
    #[serde(skip)]
    pub provider_name: Option<String>,
}

impl CredentialFields {
    /// Session credentials named `provider_name`, or a [`ErrorKind::Response`] error with `missing` when
    /// the id, the secret or the token is absent or empty. An absent or bad `Expiration` fails
    /// with the official time-parsing words (`invalid UTC format time string`, ...), as the
    /// official session does when it reads it.
    pub fn into_credentials(self, provider_name: &str, missing: &str) -> Result<Credentials> {
        let present = |v: Option<String>| v.filter(|s| !s.is_empty());
        match (
            present(self.access_key_id),
            present(self.access_key_secret),
            present(self.security_token),
        ) {
            (Some(id), Some(secret), Some(token)) => {
                let mut c = Credentials::access_key(id, Secret::new(secret), provider_name);
                c.security_token = Some(Secret::new(token));
                c.expiration = Some(parse_expiration(self.expiration.as_deref().unwrap_or(""))?);
                Ok(c)
            }
            _ => Err(Error::new(ErrorKind::Response, missing)),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &mask_id(&self.access_key_id))
            .field("access_key_secret", &self.access_key_secret)
            .field("security_token", &self.security_token)
            .field("bearer_token", &self.bearer_token)
            .field("provider_name", &self.provider_name)
            .field("expiration", &self.expiration)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let mut c = Credentials::access_key(
            "LTAI5tSECRETIDVALUE".into(),
            Secret::new("the-access-key-secret"),
            "static_sts",
        );
        c.security_token = Some(Secret::new("the-security-token"));
        c.bearer_token = Some(Secret::new("the-bearer-token"));
        let text = format!("{c:?} {c:#?}");
        for secret in [
            "the-access-key-secret",
            "the-security-token",
            "the-bearer-token",
            "LTAI5tSECRETIDVALUE",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("LTAI****ALUE"));
    }
}
