//! `describe()`: where a credential came from and when it refreshes, with no secret in it.

use std::time::SystemTime;

use crate::credentials::{CredentialsProvider, Step};
use crate::error::Error;
use crate::secret::mask_id;

/// A secret-free account of a provider's current credentials.
#[derive(Clone, Debug, Default)]
pub struct Description {
    /// The provider name the credentials carry (`default/ecs_ram_role`, ...).
    pub provider_name: Option<String>,
    /// The AccessKey ID, first and last four characters only.
    pub access_key_id: Option<String>,
    /// When the credentials expire (session credentials).
    pub expiration: Option<SystemTime>,
    /// When they will next be refreshed (session credentials).
    pub next_refresh: Option<SystemTime>,
    /// Where they came from: an endpoint, a file, the environment.
    pub endpoint: Option<String>,
    /// For a chain: each step of its last pass, in order.
    pub steps: Vec<Step>,
    /// Why no credentials could be had.
    pub error: Option<Error>,
}

/// Resolves `provider` (from its cache when it has one) and describes the outcome.
pub async fn describe(provider: &dyn CredentialsProvider) -> Description {
    let outcome = provider.get_credentials().await;
    let mut d = Description {
        endpoint: provider.endpoint(),
        steps: provider.steps(),
        ..Description::default()
    };
    match outcome {
        Ok(c) => {
            d.provider_name = Some(c.provider_name.clone()).filter(|n| !n.is_empty());
            d.access_key_id = Some(mask_id(&c.access_key_id)).filter(|id| !id.is_empty());
            d.expiration = c.expiration;
            d.next_refresh = c.expiration.and(c.reuse_until);
        }
        Err(e) => d.error = Some(e),
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{vars, Env};

    #[tokio::test]
    async fn chain_description_lists_steps_and_masks_the_id() {
        let env = Env::from_pairs([
            (vars::ACCESS_KEY_ID, "LTAI5tDESCRIBEME0001"),
            (vars::ACCESS_KEY_SECRET, "describe-secret"),
        ]);
        let spec = crate::description::from_config(None, &env).unwrap();
        let chain = crate::builder::build(&spec, &env);
        let d = describe(chain.as_ref()).await;
        assert_eq!(d.provider_name.as_deref(), Some("default/env"));
        assert_eq!(d.access_key_id.as_deref(), Some("LTAI****0001"));
        let outline: Vec<(&str, &str)> = d
            .steps
            .iter()
            .map(|s| (s.provider.as_str(), s.outcome))
            .collect();
        assert_eq!(
            outline,
            [
                ("env", "used"),
                ("oidc_role_arn", "skipped"),
                ("cli_profile", "not tried"),
                ("profile", "not tried"),
                ("ecs_ram_role", "not tried"),
                ("credential_uri", "skipped"),
            ]
        );
        assert!(d.endpoint.unwrap().contains("environment"));
        assert!(!format!("{:?}", describe(chain.as_ref()).await).contains("describe-secret"));
    }
}
