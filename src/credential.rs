//! The credential client `new Credential(config)` makes: the provider picked for a `Config`'s
//! options, as the official client picks it, with its `type` and bearer token. (The credentials
//! it hands out are [`crate::credentials::Credentials`].)

use std::sync::Arc;

use crate::credentials::CredentialsProvider;
use crate::description::{self, Kind, Options, ProviderSpec};
use crate::env::Env;
use crate::error::Result;
use crate::secret::Secret;

/// A configured credential: its `type` and the provider that serves it. Kept per live
/// `Credential` in the binding's table: 32 bytes (a kind, not its name; the rare bearer token
/// boxed), where 56 made each table slot 64.
pub struct Credential {
    provider: Arc<dyn CredentialsProvider>,
    bearer_token: Option<Box<Secret>>,
    /// One of the kinds `Kind::from_type` knows, or `Default`.
    kind: Kind,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("type", &self.type_name())
            .field("provider", &self.provider.provider_name())
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The credential `new Credential(config)` makes; `None` is the default chain.
    pub fn from_config(config: Option<Options>, env: &Env) -> Result<Self> {
        let kind = config
            .as_ref()
            .and_then(|c| c.type_name.as_deref())
            .and_then(Kind::from_type);
        // The shared session cache's option wins over its variable (`crate::shared_cache`).
        let option = config.as_ref().and_then(|c| c.session_cache_dir.clone());
        let env = &crate::shared_cache::with_option(env, option.as_deref())?;
        let spec = description::from_config(config, env)?;
        // A config's type was checked by `from_config`: a known kind, or an error above.
        let mut credential = Credential::new(
            kind.unwrap_or(Kind::Default),
            crate::builder::build(&spec, env),
        );
        if let ProviderSpec::Bearer(token) = &spec {
            credential.bearer_token = Some(Box::new(token.clone()));
        }
        Ok(credential)
    }

    /// A credential of `kind` served by `provider`.
    pub fn new(kind: Kind, provider: Arc<dyn CredentialsProvider>) -> Self {
        Credential {
            provider,
            bearer_token: None,
            kind,
        }
    }

    /// The `type` the official `getType()` returns.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// The bearer token, for `bearer` credentials.
    pub fn bearer_token(&self) -> Option<&Secret> {
        self.bearer_token.as_deref()
    }

    /// The provider behind this credential.
    pub fn provider(&self) -> &Arc<dyn CredentialsProvider> {
        &self.provider
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_32_bytes() {
        // Each live `Credential` of JavaScript holds one in the binding's table.
        assert_eq!(std::mem::size_of::<Credential>(), 32);
    }

    #[tokio::test]
    async fn type_and_bearer_token_follow_the_config() {
        let env = Env::from_pairs([
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "i"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
        ]);
        let config = Options {
            type_name: Some("access_key".into()),
            ..Options::default()
        };
        let c = Credential::from_config(Some(config), &env).unwrap();
        assert_eq!(c.type_name(), "access_key");
        assert_eq!(
            c.provider().get_credentials().await.unwrap().provider_name,
            "static_ak"
        );
        let d = Credential::from_config(None, &env).unwrap();
        assert_eq!(d.type_name(), "default");
        assert_eq!(
            d.provider().get_credentials().await.unwrap().provider_name,
            "default/env"
        );
    }
}
