//! A provider supplied by the caller (in Node, any object with `getCredentials()`), used where the
//! core takes a provider: as the source of a role. How it is called is the binding's business.

use std::time::SystemTime;

use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::credentials::{CredentialFields, Credentials};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// Calls the caller's provider: its answer as it gave it, or its own error text.
pub type Call =
    dyn Fn() -> BoxFuture<'static, std::result::Result<CredentialFields, String>> + Send + Sync;

/// A caller's provider named `name`.
pub struct CustomProvider {
    name: String,
    call: Box<Call>,
}

impl CustomProvider {
    /// A provider that asks `call` at every use.
    pub fn new(name: String, call: Box<Call>) -> Self {
        CustomProvider { name, call }
    }
}

impl CredentialsProvider for CustomProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let pending = (self.call)();
        Box::pin(async move {
            let name = &self.name;
            let answer = pending.await.map_err(|reason| {
                Error::new(
                    ErrorKind::Provider,
                    format!("the {name} provider failed: {reason}"),
                )
            })?;
            let id = answer.access_key_id.unwrap_or_default();
            let secret = answer.access_key_secret.unwrap_or_default();
            if id.is_empty() || secret.is_empty() {
                return Err(Error::new(
                    ErrorKind::Provider,
                    format!("the {name} provider returned no accessKeyId or accessKeySecret"),
                ));
            }
            let mut out = Credentials::access_key(
                id,
                Secret::new(secret),
                answer.provider_name.unwrap_or_else(|| name.clone()),
            );
            out.security_token = answer
                .security_token
                .filter(|t| !t.is_empty())
                .map(Secret::new);
            // A caller's provider caches on its own terms: ask it every time.
            out.reuse_until = Some(SystemTime::now());
            Ok(out)
        })
    }

    fn provider_name(&self) -> String {
        self.name.clone()
    }
}
