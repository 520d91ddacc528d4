//! One provider per identity per process. Two `Credential`s (or provider objects, in any worker
//! thread: they share the process and so this registry) whose descriptions are equal share one
//! provider, so one cache and one refresh in flight.
//!
//! - Keys are a keyed hash of the whole description (random keys per process): no secret is a
//!   map key in clear. Equal hashes are compared by the full description, so different identities
//!   (another secret, role, endpoint, session name, ...) never share.
//! - A provider stays while a user holds it, and for [`LINGER`] after it was last handed out:
//!   code that makes a `Credential` per request drops each one quickly, and the garbage collector
//!   must not decide how often STS is asked. Entries no one holds past that are swept at each
//!   insertion, so the registry holds at most the identities used within the last minute.
//! - Providers that run a background refresher (`asyncCredentialUpdateEnabled`) are not shared:
//!   one object's `close()` must never stop another's refresh.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::description::ProviderSpec;
use crate::provider::CredentialsProvider;

/// How long a provider no one holds is kept for the next user of its identity.
pub const LINGER: Duration = Duration::from_secs(60);

struct Entry {
    spec: ProviderSpec,
    provider: Arc<dyn CredentialsProvider>,
    handed_out: Instant,
}

type Entries = HashMap<u64, Vec<Entry>>;

/// Providers by identity.
pub struct Registry {
    hasher: RandomState,
    linger: Duration,
    entries: Mutex<Entries>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::with_linger(LINGER)
    }
}

/// The registry of this process.
pub fn process() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// True for the descriptions whose providers cache session credentials and may be shared.
pub fn shareable(spec: &ProviderSpec) -> bool {
    match spec {
        ProviderSpec::AssumeRole(_)
        | ProviderSpec::Oidc(_)
        | ProviderSpec::Uri(_)
        | ProviderSpec::CloudSso(_)
        | ProviderSpec::OAuth(_)
        | ProviderSpec::External(_) => true,
        ProviderSpec::Ecs(ecs) => !ecs.background,
        _ => false,
    }
}

fn find(
    entries: &mut Entries,
    key: u64,
    spec: &ProviderSpec,
) -> Option<Arc<dyn CredentialsProvider>> {
    let entry = entries
        .get_mut(&key)?
        .iter_mut()
        .find(|e| &e.spec == spec)?;
    entry.handed_out = Instant::now();
    Some(entry.provider.clone())
}

impl Registry {
    /// A registry that keeps providers no one holds for `linger`.
    pub fn with_linger(linger: Duration) -> Self {
        Registry {
            hasher: RandomState::new(),
            linger,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live provider for `spec`, or the one `make` builds (outside the lock: building a role
    /// chain builds its base through here too).
    pub fn shared(
        &self,
        spec: &ProviderSpec,
        make: impl FnOnce() -> Arc<dyn CredentialsProvider>,
    ) -> Arc<dyn CredentialsProvider> {
        let key = self.hasher.hash_one(spec);
        if let Some(p) = find(&mut self.entries(), key, spec) {
            return p;
        }
        let built = make();
        let mut entries = self.entries();
        // Another thread may have built the same provider meanwhile: one wins for everyone.
        if let Some(p) = find(&mut entries, key, spec) {
            return p;
        }
        let now = Instant::now();
        entries.retain(|_, list| {
            list.retain(|e| {
                Arc::strong_count(&e.provider) > 1 || now.duration_since(e.handed_out) < self.linger
            });
            !list.is_empty()
        });
        entries.entry(key).or_default().push(Entry {
            spec: spec.clone(),
            provider: built.clone(),
            handed_out: now,
        });
        built
    }

    /// How many entries the registry holds, held or lingering or not yet swept.
    pub fn len(&self) -> usize {
        self.entries().values().map(Vec::len).sum()
    }

    /// True when the registry holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::{AccessKey, ProviderSpec, UriSpec};
    use crate::providers::fixed::FixedProvider;
    use std::time::Duration;

    fn uri(n: usize) -> ProviderSpec {
        ProviderSpec::Uri(UriSpec {
            uri: format!("http://127.0.0.1:9/creds?n={n}"),
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
        })
    }

    fn provider() -> Arc<dyn CredentialsProvider> {
        Arc::new(FixedProvider::access_key(AccessKey {
            id: "i".into(),
            secret: "s".into(),
        }))
    }

    #[test]
    fn entries_go_after_their_last_user_and_the_linger() {
        let registry = Registry::with_linger(Duration::ZERO);
        let kept = registry.shared(&uri(0), provider);
        for n in 1..=1000 {
            drop(registry.shared(&uri(n), provider));
        }
        // Each insertion sweeps the dead: at most the kept one and the last one remain.
        assert!(registry.len() <= 2, "{}", registry.len());
        let again = registry.shared(&uri(0), || panic!("must not build again"));
        assert!(Arc::ptr_eq(&kept, &again));
    }

    #[test]
    fn a_provider_no_one_holds_lingers_for_the_next_user() {
        let registry = Registry::with_linger(Duration::from_secs(3600));
        let first = registry.shared(&uri(0), provider);
        let weak = Arc::downgrade(&first);
        drop(first);
        drop(registry.shared(&uri(1), provider));
        let again = registry.shared(&uri(0), || panic!("must not build again"));
        assert!(Arc::ptr_eq(&weak.upgrade().unwrap(), &again));
    }
}
