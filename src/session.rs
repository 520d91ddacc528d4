//! The session cache: one refresh policy for every source of short-lived credentials.
//!
//! - Serve the cached credentials until 15 minutes before they expire (`stale`); optionally
//!   (ECS) refresh in the background from 60 minutes before (`prefetch`) while callers keep the
//!   cached ones.
//! - Single-flight: one upstream request however many callers ask at once; callers that waited
//!   on an attempt share its outcome instead of starting their own.
//! - After a failed refresh, serve the cached credentials while they are unexpired and retry
//!   after a jittered, capped backoff; once expired, fail with the refresh error. Never hand out
//!   expired credentials.
//! - Background work runs on the Tokio runtime and holds only a weak reference to the cache, so
//!   it never keeps a Node process alive and stops when the credential is dropped.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::{BoxFuture, CredentialsProvider};

/// Something that fetches new session credentials (an STS call, a metadata request, ...).
pub trait Refresher: Send + Sync {
    /// Fetches fresh credentials; `expiration` must be set.
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>>;

    /// The provider name the credentials carry.
    fn provider_name(&self) -> String;

    /// Where the credentials come from, for `describe()`.
    fn endpoint(&self) -> Option<String> {
        None
    }
}

/// When to refresh.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Refresh this long before expiration (15 minutes).
    pub stale_before: Duration,
    /// Refresh in the background from this long before expiration (ECS: 60 minutes).
    pub prefetch_before: Option<Duration>,
    /// Keep refreshing in the background on a timer, without callers (`asyncCredentialUpdateEnabled`).
    pub background: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            stale_before: Duration::from_secs(15 * 60),
            prefetch_before: None,
            background: false,
        }
    }
}

/// First retry delay after a failed refresh, and the cap of the exponential backoff.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// How long a caller may reuse a credential while a background prefetch is running.
const PREFETCH_REUSE: Duration = Duration::from_secs(1);

#[derive(Default)]
struct State {
    current: Option<Credentials>,
    /// When the current credentials go stale (a caller-visible refresh is due).
    refresh_at: Option<SystemTime>,
    /// When a background prefetch is due.
    prefetch_at: Option<SystemTime>,
    /// Completed refresh attempts, successful or not.
    attempts: u64,
    last_error: Option<Error>,
    failures: u32,
    retry_at: Option<SystemTime>,
    prefetching: bool,
}

/// A caching provider over a [`Refresher`].
pub struct SessionCache {
    refresher: Arc<dyn Refresher>,
    policy: Policy,
    state: Mutex<State>,
    refresh_lock: tokio::sync::Mutex<()>,
    me: Weak<SessionCache>,
    stopped: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("provider", &self.refresher.provider_name())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Exponential backoff with full jitter in [d/2, d], capped.
fn backoff(failures: u32) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let cap = exp.min(BACKOFF_CAP);
    let half = cap / 2;
    half + half.mul_f64(random_unit())
}

/// A uniformly random number in [0, 1).
pub(crate) fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

impl SessionCache {
    /// A cache over `refresher`; starts the background refresher when the policy asks for it.
    pub fn new(refresher: Arc<dyn Refresher>, policy: Policy) -> Arc<Self> {
        let cache = Arc::new_cyclic(|me| SessionCache {
            refresher,
            policy,
            state: Mutex::new(State::default()),
            refresh_lock: tokio::sync::Mutex::new(()),
            me: me.clone(),
            stopped: std::sync::atomic::AtomicBool::new(false),
        });
        if policy.background {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(background_loop(Arc::downgrade(&cache)));
            }
        }
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The credentials to serve now without a refresh, with how long they may be reused.
    fn serve(&self, st: &State, now: SystemTime) -> Option<Credentials> {
        let current = st.current.as_ref()?;
        let expiration = current.expiration?;
        if now >= expiration {
            return None;
        }
        let refresh_at = st.refresh_at.unwrap_or(expiration);
        let in_backoff = st.retry_at.is_some_and(|r| now < r);
        if now >= refresh_at && !in_backoff {
            return None;
        }
        let mut until = expiration;
        if now < refresh_at {
            until = until.min(refresh_at);
        }
        if let Some(retry) = st.retry_at.filter(|_| in_backoff) {
            until = until.min(retry);
        }
        if let Some(prefetch) = st.prefetch_at {
            if now >= prefetch {
                until = until.min(now + PREFETCH_REUSE);
            } else {
                until = until.min(prefetch);
            }
        }
        let mut served = current.clone();
        served.reuse_until = Some(until);
        Some(served)
    }

    fn prefetch_due(&self, st: &State, now: SystemTime) -> bool {
        !st.prefetching
            && st.prefetch_at.is_some_and(|p| now >= p)
            && st.retry_at.is_none_or(|r| now >= r)
    }

    /// The current credentials, refreshing them when they are stale or missing.
    pub async fn get(&self) -> Result<Credentials> {
        let seen_attempts;
        {
            let mut st = self.lock();
            let now = SystemTime::now();
            if let Some(served) = self.serve(&st, now) {
                if self.prefetch_due(&st, now) {
                    st.prefetching = true;
                    self.spawn_prefetch();
                }
                return Ok(served);
            }
            seen_attempts = st.attempts;
        }
        let _guard = self.refresh_lock.lock().await;
        {
            let st = self.lock();
            if st.attempts != seen_attempts {
                // An attempt finished while we waited: share its outcome.
                let now = SystemTime::now();
                if let Some(served) = self.serve(&st, now) {
                    return Ok(served);
                }
                if let Some(e) = &st.last_error {
                    return Err(e.clone());
                }
            }
        }
        self.refresh_locked().await
    }

    // Runs one refresh attempt; the caller holds `refresh_lock`.
    async fn refresh_locked(&self) -> Result<Credentials> {
        let started = std::time::Instant::now();
        let fetched = self.refresher.fetch().await;
        let took = started.elapsed().as_millis();
        let mut st = self.lock();
        let now = SystemTime::now();
        st.attempts += 1;
        match fetched {
            Ok(credentials) => {
                let Some(expiration) = credentials.expiration else {
                    let e = Error::new(ErrorKind::Response, "the credentials have no expiration");
                    st.last_error = Some(e.clone());
                    return Err(e);
                };
                let lifetime = expiration.duration_since(now).unwrap_or_default();
                // Credentials that arrive already inside the stale (or prefetch) window are
                // still used for a while, a fraction of their remaining life and at most a
                // minute, rather than fetched again at every call.
                let stale_at = match expiration.checked_sub(self.policy.stale_before) {
                    Some(t) if t > now => t,
                    _ => now + (lifetime / 2).min(Duration::from_secs(60)),
                };
                st.refresh_at = Some(stale_at);
                st.prefetch_at = self.policy.prefetch_before.and_then(|before| {
                    let at = match expiration.checked_sub(before) {
                        Some(t) if t > now => t,
                        _ => now + (lifetime / 4).min(Duration::from_secs(60)),
                    };
                    (at < stale_at).then_some(at)
                });
                crate::log::debug("session", || {
                    format!(
                        "refresh {} ok in {took} ms: {}, expires {}, refresh from {}",
                        self.refresher.provider_name(),
                        crate::secret::mask_id(&credentials.access_key_id),
                        rfc3339(expiration),
                        rfc3339(st.prefetch_at.unwrap_or(stale_at)),
                    )
                });
                st.current = Some(credentials);
                st.failures = 0;
                st.retry_at = None;
                st.last_error = None;
            }
            Err(e) => {
                st.failures = st.failures.saturating_add(1);
                let delay = backoff(st.failures);
                st.retry_at = Some(now + delay);
                crate::log::debug("session", || {
                    format!(
                        "refresh {} failed in {took} ms (failure {}, next try in {} ms): {}",
                        self.refresher.provider_name(),
                        st.failures,
                        delay.as_millis(),
                        e.message()
                    )
                });
                st.last_error = Some(e);
            }
        }
        match self.serve(&st, now) {
            Some(served) => Ok(served),
            None => Err(st
                .last_error
                .clone()
                .unwrap_or_else(|| Error::new(ErrorKind::Response, "the credentials are expired"))),
        }
    }

    fn spawn_prefetch(&self) {
        let Some(me) = self.me.upgrade() else { return };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            me.lock().prefetching = false;
            return;
        };
        handle.spawn(async move {
            let _guard = me.refresh_lock.lock().await;
            let due = {
                let st = me.lock();
                let now = SystemTime::now();
                st.prefetch_at.is_some_and(|p| now >= p)
            };
            if due {
                let _ = me.refresh_locked().await;
            }
            me.lock().prefetching = false;
        });
    }

    /// When the background loop should next look, from the current state.
    fn next_wake(&self) -> Duration {
        let st = self.lock();
        let now = SystemTime::now();
        let target = if st.current.is_none() {
            st.retry_at.unwrap_or(now)
        } else {
            let due = st.prefetch_at.or(st.refresh_at).unwrap_or(now);
            match st.retry_at {
                Some(r) if r > due => r,
                _ => due,
            }
        };
        target.duration_since(now).unwrap_or_default()
    }
}

// `asyncCredentialUpdateEnabled`: refresh ahead of callers for as long as the cache lives.
async fn background_loop(cache: Weak<SessionCache>) {
    loop {
        let wait = match cache.upgrade() {
            Some(c) if !c.stopped.load(std::sync::atomic::Ordering::Relaxed) => c.next_wake(),
            _ => return,
        };
        // Wake at least once a minute to notice that the credential was dropped.
        tokio::time::sleep(wait.clamp(Duration::from_millis(50), Duration::from_secs(60))).await;
        let Some(c) = cache.upgrade() else { return };
        if c.stopped.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let due = {
            let st = c.lock();
            let now = SystemTime::now();
            let refresh_due =
                st.current.is_none() || st.prefetch_at.or(st.refresh_at).is_some_and(|t| now >= t);
            refresh_due && st.retry_at.is_none_or(|r| now >= r)
        };
        if due {
            let _guard = c.refresh_lock.lock().await;
            let _ = c.refresh_locked().await;
        }
    }
}

/// `t` as an RFC 3339 UTC time, for logs and descriptions.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A [`CredentialsProvider`] serving a [`SessionCache`].
#[derive(Debug, Clone)]
pub struct SessionProvider {
    cache: Arc<SessionCache>,
}

impl SessionProvider {
    /// A caching provider over `refresher`.
    pub fn new(refresher: Arc<dyn Refresher>, policy: Policy) -> Self {
        SessionProvider {
            cache: SessionCache::new(refresher, policy),
        }
    }
}

impl CredentialsProvider for SessionProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.cache.get())
    }

    fn provider_name(&self) -> String {
        self.cache.refresher.provider_name()
    }

    fn close(&self) {
        self.cache
            .stopped
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn endpoint(&self) -> Option<String> {
        self.cache.refresher.endpoint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    /// Returns credentials `id-<n>` living `lifetime`, or fails when `fail` is set.
    struct Fake {
        calls: AtomicUsize,
        lifetime: Mutex<Duration>,
        fail: AtomicU32,
        delay: Duration,
    }

    impl Fake {
        fn new(lifetime: Duration) -> Arc<Self> {
            Arc::new(Fake {
                calls: AtomicUsize::new(0),
                lifetime: Mutex::new(lifetime),
                fail: AtomicU32::new(0),
                delay: Duration::from_millis(20),
            })
        }
    }

    impl Refresher for Fake {
        fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
            Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail.load(Ordering::SeqCst) > 0 {
                    return Err(Error::new(ErrorKind::Sts, format!("upstream down {n}")));
                }
                let mut c = Credentials::access_key(format!("id-{n}"), Secret::new("s"), "fake");
                c.security_token = Some(Secret::new("t"));
                c.expiration = Some(SystemTime::now() + *self.lifetime.lock().unwrap());
                Ok(c)
            })
        }
        fn provider_name(&self) -> String {
            "fake".into()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn single_flight_for_concurrent_cold_callers() {
        let fake = Fake::new(Duration::from_secs(3600));
        let cache = SessionCache::new(fake.clone(), Policy::default());
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.get().await.unwrap().access_key_id })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "id-1");
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn serves_cache_until_stale_then_refreshes() {
        let fake = Fake::new(Duration::from_secs(3600));
        let cache = SessionCache::new(fake.clone(), Policy::default());
        let first = cache.get().await.unwrap();
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        let until = first.reuse_until.unwrap();
        let expected = first.expiration.unwrap() - Duration::from_secs(15 * 60);
        assert_eq!(until, expected);
        // Make it stale.
        cache.lock().refresh_at = Some(SystemTime::now() - Duration::from_secs(1));
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
    }

    #[tokio::test]
    async fn failure_serves_unexpired_cache_with_backoff_then_rejects_once_expired() {
        let fake = Fake::new(Duration::from_secs(3600));
        let cache = SessionCache::new(fake.clone(), Policy::default());
        cache.get().await.unwrap();
        fake.fail.store(1, Ordering::SeqCst);
        cache.lock().refresh_at = Some(SystemTime::now() - Duration::from_secs(1));
        // Stale but unexpired: the refresh fails, the cached one is served, a retry is scheduled.
        let served = cache.get().await.unwrap();
        assert_eq!(served.access_key_id, "id-1");
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        let retry_at = cache.lock().retry_at.unwrap();
        assert!(served.reuse_until.unwrap() <= retry_at);
        // Within the backoff, no new request.
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        // Expired: every call fails with the refresh error, never the expired credential.
        {
            let mut st = cache.lock();
            st.current.as_mut().unwrap().expiration =
                Some(SystemTime::now() - Duration::from_secs(1));
        }
        let e = cache.get().await.unwrap_err();
        assert!(e.message().starts_with("upstream down"), "{e}");
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        for failures in 1..40 {
            let d = backoff(failures);
            assert!(d <= BACKOFF_CAP, "{d:?}");
            assert!(d >= BACKOFF_BASE / 2);
        }
        let samples: Vec<Duration> = (0..20).map(|_| backoff(5)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]), "jittered");
    }

    #[tokio::test]
    async fn cold_failure_is_reported_and_retried_on_next_call() {
        let fake = Fake::new(Duration::from_secs(3600));
        fake.fail.store(1, Ordering::SeqCst);
        let cache = SessionCache::new(fake.clone(), Policy::default());
        assert!(cache.get().await.is_err());
        fake.fail.store(0, Ordering::SeqCst);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefetch_serves_cached_and_refreshes_in_background() {
        let fake = Fake::new(Duration::from_secs(2 * 3600));
        let policy = Policy {
            prefetch_before: Some(Duration::from_secs(3600)),
            ..Policy::default()
        };
        let cache = SessionCache::new(fake.clone(), policy);
        cache.get().await.unwrap();
        cache.lock().prefetch_at = Some(SystemTime::now() - Duration::from_secs(1));
        // Served from cache at once, a background refresh starts.
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        for _ in 0..100 {
            if fake.calls.load(Ordering::SeqCst) == 2 && !cache.lock().prefetching {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_loop_refreshes_without_callers_and_stops_when_dropped() {
        // Credentials living 8 s with a 6 s prefetch window: prefetch due after 2 s.
        let fake = Fake::new(Duration::from_secs(8));
        let policy = Policy {
            stale_before: Duration::from_secs(1),
            prefetch_before: Some(Duration::from_secs(6)),
            background: true,
        };
        let cache = SessionCache::new(fake.clone(), policy);
        for _ in 0..300 {
            if fake.calls.load(Ordering::SeqCst) >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            fake.calls.load(Ordering::SeqCst) >= 2,
            "background fetches happened"
        );
        let weak = Arc::downgrade(&cache);
        drop(cache);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            weak.upgrade().is_none(),
            "the loop holds no strong reference"
        );
    }
}
