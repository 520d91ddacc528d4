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
}
