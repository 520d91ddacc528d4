//! Environment variables, read when a provider is built (never at import time), and by the `env`
//! provider on every call. Tests build an [`Env`] from pairs so they never touch the process
//! environment.

use std::collections::HashMap;
use std::sync::Arc;

/// A view of environment variables.
#[derive(Clone, Debug, Default)]
pub struct Env {
    overrides: Option<Arc<HashMap<String, String>>>,
    /// Values set over the environment ([`Env::with`]): an option that wins over its variable.
    set: Option<Arc<HashMap<String, String>>>,
}

impl Env {
    /// The environment of this process, read live at each [`Env::get`] (no snapshot), so changes
    /// made after the provider was built (Node's `process.env` writes through) are seen.
    pub fn process() -> Self {
        Env::default()
    }

    /// A fixed environment made of `pairs`, and nothing else.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Env {
            overrides: Some(Arc::new(map)),
            set: None,
        }
    }

    /// This environment with `name` set to `value` over it (an empty value unsets it): how an
    /// option that wins over its variable reaches the code that reads the variable.
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut set = self.set.as_deref().cloned().unwrap_or_default();
        set.insert(name.to_owned(), value.to_owned());
        Env {
            overrides: self.overrides.clone(),
            set: Some(Arc::new(set)),
        }
    }

    /// The value of `name` when it is set and not empty.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(value) = self.set.as_ref().and_then(|set| set.get(name)) {
            return Some(value.clone()).filter(|v| !v.is_empty());
        }
        let value = match &self.overrides {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// True when `name` is set to `true` (any case), the official packages' test for flags.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

/// Names of the environment variables the package reads.
pub mod vars {
    pub const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
    pub const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
    pub const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
    pub const ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
    pub const ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
    pub const OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
    pub const OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
    pub const STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
    pub const STS_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
    pub const VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";
    pub const EXTERNAL_ID: &str = "ALIBABA_CLOUD_EXTERNAL_ID";
    pub const ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
    pub const ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
    pub const ECS_METADATA_SERVICE_ENDPOINT: &str = "ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT";
    pub const IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
    pub const CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";
    pub const CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
    pub const CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
    pub const PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
    pub const CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
    /// This package's own: the directory of the session cache shared by the user's processes
    /// (`crate::shared_cache`); the `sessionCacheDir` option wins over it.
    pub const SESSION_CACHE_DIR: &str = "ALICLOUD_CREDENTIALS_CACHE_DIR";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unset_and_flags_parse() {
        let env = Env::from_pairs([("A", ""), ("B", "TRUE"), ("C", "yes")]);
        assert_eq!(env.get("A"), None);
        assert!(env.flag("B"));
        assert!(!env.flag("C"));
        assert!(!env.flag("D"));
        let over = env.with("B", "").with("E", "x");
        assert_eq!(over.get("B"), None, "an empty value set over unsets");
        assert_eq!(over.get("E").as_deref(), Some("x"));
        assert!(over.flag("B") != env.flag("B"));
    }
}
