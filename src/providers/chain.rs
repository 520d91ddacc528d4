//! `default`: the default credential chain. It tries each step in order, sticks to the first that
//! succeeds, and when all fail reports every step's reason in one error. Unlike the official chain,
//! a pass that failed everywhere leaves nothing remembered, so the next call tries every step again.

use std::sync::{Arc, Mutex};

use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};
use crate::profile::cli::CliProfileProvider;
use crate::profile::ini_provider::IniProfileProvider;
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::providers::ecs::{self, EcsOptions};
use crate::providers::env::EnvProvider;
use crate::providers::oidc::{self, OidcOptions};
use crate::providers::uri::{self, UriOptions};

/// Provider name of the chain.
pub const NAME: &str = "default";

/// The default chain over a list of steps.
pub struct DefaultChain {
    steps: Vec<Arc<dyn CredentialsProvider>>,
    chosen: Mutex<Option<Arc<dyn CredentialsProvider>>>,
}

impl std::fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps: Vec<String> = self.steps.iter().map(|s| s.provider_name()).collect();
        f.debug_struct("DefaultChain")
            .field("steps", &steps)
            .finish()
    }
}

impl DefaultChain {
    /// The chain as `new Credential()` builds it from `env`: environment, OIDC (when its three
    /// variables are set), CLI profile, INI profile, ECS metadata, credentials URI (when set).
    /// A step that cannot be built (disabled, incomplete) is left out, as in the official chain.
    pub fn build(env: &Env) -> Self {
        let mut steps: Vec<Arc<dyn CredentialsProvider>> =
            vec![Arc::new(EnvProvider::new(env.clone()))];
        if oidc::configured_by_env(env) {
            if let Ok(p) = oidc::build(OidcOptions::default(), env) {
                steps.push(Arc::new(p));
            }
        }
        if let Ok(p) = CliProfileProvider::build(None, env) {
            steps.push(Arc::new(p));
        }
        steps.push(Arc::new(IniProfileProvider::build(None, env)));
        if let Ok(p) = ecs::build(EcsOptions::default(), env) {
            steps.push(Arc::new(p));
        }
        if env.get(crate::env::vars::CREDENTIALS_URI).is_some() {
            if let Ok(p) = uri::build(UriOptions::default(), env) {
                steps.push(Arc::new(p));
            }
        }
        DefaultChain::with_steps(steps)
    }

    /// A chain over explicit steps.
    pub fn with_steps(steps: Vec<Arc<dyn CredentialsProvider>>) -> Self {
        DefaultChain {
            steps,
            chosen: Mutex::new(None),
        }
    }

    fn chosen(&self) -> Option<Arc<dyn CredentialsProvider>> {
        self.chosen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn resolve(&self) -> Result<Credentials> {
        if let Some(step) = self.chosen() {
            let inner = step.get_credentials().await?;
            return Ok(wrap(inner, &step));
        }
        let mut reasons = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            match step.get_credentials().await {
                Ok(inner) => {
                    crate::log::debug("chain", || format!("using {}", step.provider_name()));
                    *self.chosen.lock().unwrap_or_else(|e| e.into_inner()) = Some(step.clone());
                    return Ok(wrap(inner, step));
                }
                Err(e) => {
                    crate::log::debug("chain", || {
                        format!("skipping {}: {}", step.provider_name(), e.message())
                    });
                    reasons.push(e.message().to_owned())
                }
            }
        }
        Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "unable to get credentials from any of the providers in the chain: {}",
                reasons.join(", ")
            ),
        ))
    }
}

fn wrap(inner: Credentials, step: &Arc<dyn CredentialsProvider>) -> Credentials {
    let name = format!("{NAME}/{}", step.provider_name());
    inner.renamed(name)
}

impl CredentialsProvider for DefaultChain {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.resolve())
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::vars;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Failing(&'static str, AtomicUsize);
    impl CredentialsProvider for Failing {
        fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
            self.1.fetch_add(1, Ordering::SeqCst);
            let msg = self.0;
            Box::pin(async move { Err(Error::new(ErrorKind::NotFound, msg)) })
        }
        fn provider_name(&self) -> String {
            "failing".into()
        }
    }

    #[tokio::test]
    async fn env_step_names_itself() {
        let env = Env::from_pairs([(vars::ACCESS_KEY_ID, "i"), (vars::ACCESS_KEY_SECRET, "s")]);
        let c = DefaultChain::build(&env).get_credentials().await.unwrap();
        assert_eq!(c.provider_name, "default/env");
    }

    #[tokio::test]
    async fn all_fail_lists_reasons_and_retries_every_step() {
        let a = Arc::new(Failing("first reason", AtomicUsize::new(0)));
        let b = Arc::new(Failing("second reason", AtomicUsize::new(0)));
        let chain = DefaultChain::with_steps(vec![a.clone(), b.clone()]);
        let e = chain.get_credentials().await.unwrap_err();
        assert_eq!(
            e.message(),
            "unable to get credentials from any of the providers in the chain: first reason, second reason"
        );
        chain.get_credentials().await.unwrap_err();
        assert_eq!(a.1.load(Ordering::SeqCst), 2);
        assert_eq!(b.1.load(Ordering::SeqCst), 2);
    }
}
