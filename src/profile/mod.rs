//! Profile files: the Alibaba Cloud CLI's `config.json` and the INI credentials file.

pub mod cli;
pub mod command;
pub mod ini;
pub mod ini_provider;
pub mod store;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::Result;
use crate::provider::CredentialsProvider;

/// The home directory: `HOME`, or `USERPROFILE` on Windows.
pub fn home_dir(env: &Env) -> Option<PathBuf> {
    crate::paths::home_dir(env)
}

/// The provider a profile file describes, built at the first call; a failure (a missing or
/// broken file) is retried at the next call.
#[derive(Default)]
pub(crate) struct LazyProvider(Mutex<Option<Arc<dyn CredentialsProvider>>>);

impl LazyProvider {
    /// The provider, once built.
    pub(crate) fn current(&self) -> Option<Arc<dyn CredentialsProvider>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Resolves through the provider `build` makes, naming the result `<outer>/<inner>`.
    pub(crate) async fn resolve(
        &self,
        outer: &str,
        build: impl FnOnce() -> Result<Arc<dyn CredentialsProvider>>,
    ) -> Result<Credentials> {
        let inner = {
            let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(p) => p.clone(),
                None => {
                    let built = build()?;
                    *slot = Some(built.clone());
                    built
                }
            }
        };
        let c = inner.get_credentials().await?;
        Ok(c.renamed(format!("{outer}/{}", inner.provider_name())))
    }
}
