//! `cli_profile` and `profile`: credentials described by a profile file, read at the first call. A
//! failure (a missing or broken file) is retried at the next call; once built, the provider is kept.

use std::sync::{Arc, Mutex};

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::error::Result;

/// What reading the profile gave: its provider, and where it was found (a file and a profile),
/// for `describe()`.
pub struct Loaded {
    pub provider: Arc<dyn CredentialsProvider>,
    pub location: String,
}

type Load = dyn Fn() -> Result<Loaded> + Send + Sync;

/// The provider once built, and where it was found (before: where it will be looked for).
type State = (Option<Arc<dyn CredentialsProvider>>, Option<String>);

/// A provider built from a profile file at the first call.
pub struct ProfileFileProvider {
    name: &'static str,
    load: Box<Load>,
    state: Mutex<State>,
}

impl ProfileFileProvider {
    /// A provider named `name` (`cli_profile`, `profile`) that `load`s its inner provider at the
    /// first call. `location` says where it will look, `None` when there is nowhere (no home).
    pub fn new(
        name: &'static str,
        location: Option<String>,
        load: impl Fn() -> Result<Loaded> + Send + Sync + 'static,
    ) -> Self {
        ProfileFileProvider {
            name,
            load: Box::new(load),
            state: Mutex::new((None, location)),
        }
    }

    fn inner(&self) -> Result<Arc<dyn CredentialsProvider>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = &state.0 {
            return Ok(p.clone());
        }
        let loaded = (self.load)()?;
        *state = (Some(loaded.provider.clone()), Some(loaded.location));
        Ok(loaded.provider)
    }
}

impl CredentialsProvider for ProfileFileProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let inner = self.inner()?;
            let c = inner.get_credentials().await?;
            Ok(c.renamed(format!("{}/{}", self.name, inner.provider_name())))
        })
    }

    fn provider_name(&self) -> String {
        self.name.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        let (inner, location) = self.state.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let location = location?;
        Some(match inner.and_then(|p| p.endpoint()) {
            Some(e) => format!("{location} via {e}"),
            None => location,
        })
    }
}
