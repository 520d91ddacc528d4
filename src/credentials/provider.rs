//! The provider abstraction every credential source implements.

use std::future::Future;
use std::pin::Pin;

use crate::credentials::Credentials;
use crate::error::Result;

/// A boxed, sendable future; providers are object-safe so chains can hold any of them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of credentials.
pub trait CredentialsProvider: Send + Sync {
    /// Resolves the current credentials, from cache when the provider caches.
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>>;

    /// The official name of this provider (`static_ak`, `env`, `default`, ...).
    fn provider_name(&self) -> String;

    /// Stops background refresh, if the provider runs one (the official ECS provider's `close()`).
    fn close(&self) {}

    /// Where the credentials come from (an endpoint, a file, the environment), for `describe()`.
    /// Never holds a secret.
    fn endpoint(&self) -> Option<String> {
        None
    }

    /// The steps a chain tried in its last pass, in order; empty for other providers.
    fn steps(&self) -> Vec<Step> {
        Vec::new()
    }
}

/// What happened to one step of a chain in its last pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The step's provider name.
    pub provider: String,
    /// `used`, `failed` or `not tried`.
    pub outcome: &'static str,
    /// Why it failed (a secret-free error message).
    pub reason: Option<String>,
}
