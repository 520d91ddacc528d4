//! `default`: the default credential chain. It tries each step in order, sticks to the first that
//! succeeds, and when all fail reports every step's reason in one error. Unlike the official chain,
//! a pass that failed everywhere leaves nothing remembered, so the next call tries every step again.

use std::sync::{Arc, Mutex};

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider, Step};
use crate::description::Kind;
use crate::error::{Error, ErrorKind, Result};

/// The provider name, as the official package gives it.
const NAME: &str = Kind::Default.provider_name();

/// The default chain over a list of steps.
pub struct DefaultChain {
    steps: Vec<Arc<dyn CredentialsProvider>>,
    /// Steps left out when the chain was built, each before the step at its index.
    skipped: Vec<(usize, Step)>,
    chosen: Mutex<Option<Arc<dyn CredentialsProvider>>>,
    last_pass: Mutex<Vec<Step>>,
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
    /// A chain over `steps`, with the steps left out when it was built (each before the step at its
    /// index), for `describe()`.
    pub fn new(steps: Vec<Arc<dyn CredentialsProvider>>, skipped: Vec<(usize, Step)>) -> Self {
        DefaultChain {
            skipped,
            ..DefaultChain::with_steps(steps)
        }
    }

    /// A chain over explicit steps.
    pub fn with_steps(steps: Vec<Arc<dyn CredentialsProvider>>) -> Self {
        DefaultChain {
            steps,
            skipped: Vec::new(),
            chosen: Mutex::new(None),
            last_pass: Mutex::new(Vec::new()),
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
        let mut pass: Vec<Step> = self
            .steps
            .iter()
            .map(|s| Step {
                provider: s.provider_name(),
                outcome: "not tried",
                reason: None,
            })
            .collect();
        for (index, step) in self.steps.iter().enumerate() {
            match step.get_credentials().await {
                Ok(inner) => {
                    crate::log::debug("chain", || format!("using {}", step.provider_name()));
                    pass[index].outcome = "used";
                    *self.last_pass.lock().unwrap_or_else(|e| e.into_inner()) = pass;
                    *self.chosen.lock().unwrap_or_else(|e| e.into_inner()) = Some(step.clone());
                    return Ok(wrap(inner, step));
                }
                Err(e) => {
                    crate::log::debug("chain", || {
                        format!("skipping {}: {}", step.provider_name(), e.message())
                    });
                    pass[index].outcome = "failed";
                    pass[index].reason = Some(e.message().to_owned());
                    reasons.push(e.message().to_owned())
                }
            }
        }
        *self.last_pass.lock().unwrap_or_else(|e| e.into_inner()) = pass;
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

    fn endpoint(&self) -> Option<String> {
        self.chosen().and_then(|s| s.endpoint())
    }

    fn steps(&self) -> Vec<Step> {
        let pass = self
            .last_pass
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = Vec::with_capacity(self.steps.len() + self.skipped.len());
        for index in 0..=self.steps.len() {
            out.extend(
                self.skipped
                    .iter()
                    .filter(|(at, _)| *at == index)
                    .map(|(_, s)| s.clone()),
            );
            if index < self.steps.len() {
                out.push(pass.get(index).cloned().unwrap_or_else(|| Step {
                    provider: self.steps[index].provider_name(),
                    outcome: "not tried",
                    reason: None,
                }));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
