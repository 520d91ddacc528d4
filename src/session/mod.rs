//! The session cache: one refresh policy for every source of short-lived credentials.
//!
//! - Serve the cached credentials until 15 minutes before they expire (`stale`); optionally
//!   (ECS) refresh in the background from 60 minutes before (`prefetch`) while callers keep the
//!   cached ones. Credentials that arrive already inside that window are served for half their
//!   remaining life, at most a minute, so that they are not fetched again at every call.
//! - Single-flight: one upstream request however many callers ask at once; callers that waited
//!   on an attempt share its outcome instead of starting their own.
//! - Failure memory: after a failed refresh, no new request before a jittered backoff (1 s,
//!   doubling). Meanwhile a cached credential is served while it is unexpired (backoff capped at
//!   60 s); with none, callers get the same error again without a request (capped at 10 s), so a
//!   caller looping on a failing source sends a handful of requests, not thousands. The first call
//!   after the window tries again. A credential that arrives already expired is such a failure.
//!   Expired credentials are never handed out. The shape follows aws-sdk-java's `CachedSupplier`
//!   and the Alibaba Java/.NET `RefreshCachedSupplier` (stale value kept on failure, jittered
//!   retry); the constants are in `policy`, and tests move a [`ManualClock`] through them.
//! - Background work runs on the Tokio runtime and holds only a weak reference to the cache, so
//!   it never keeps a Node process alive and stops when the credential is dropped.
//!
//! Parts: `policy` (when, as pure functions of the time), `cache` (state and single flight),
//! `background` (the timer-driven refresher), `clock` (time, injected).

mod background;
mod cache;
pub mod clock;
mod policy;

use std::sync::Arc;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::provider::{BoxFuture, CredentialsProvider};

pub use cache::{rfc3339, SessionCache};
pub use clock::{Clock, ManualClock, SystemClock};
pub use policy::{random_unit, Policy};

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

/// A [`CredentialsProvider`] serving a [`SessionCache`].
#[derive(Debug, Clone)]
pub struct SessionProvider {
    cache: Arc<SessionCache>,
}

impl SessionProvider {
    /// A caching provider over `refresher`, on the system clock.
    pub fn new(refresher: Arc<dyn Refresher>, policy: Policy) -> Self {
        SessionProvider::with_clock(refresher, policy, Arc::new(SystemClock))
    }

    /// A caching provider over `refresher` reading the time from `clock`; starts the background
    /// refresher when the policy asks for it.
    pub fn with_clock(
        refresher: Arc<dyn Refresher>,
        policy: Policy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let cache = SessionCache::new(refresher, policy, clock);
        if policy.background {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(background::run(Arc::downgrade(&cache)));
            }
        }
        SessionProvider { cache }
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
    use crate::error::{Error, ErrorKind};
    use crate::secret::Secret;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    /// Returns credentials `id-<n>` living `lifetime` from the clock's now, or fails when `fail`
    /// is set, or returns them already expired when `expired` is set.
    struct Fake {
        clock: Arc<dyn Clock>,
        calls: AtomicUsize,
        lifetime: Mutex<Duration>,
        fail: AtomicBool,
        expired: AtomicBool,
    }

    impl Fake {
        fn new(clock: Arc<dyn Clock>, lifetime: Duration) -> Arc<Self> {
            Arc::new(Fake {
                clock,
                calls: AtomicUsize::new(0),
                lifetime: Mutex::new(lifetime),
                fail: AtomicBool::new(false),
                expired: AtomicBool::new(false),
            })
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl Refresher for Fake {
        fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail.load(Ordering::SeqCst) {
                    return Err(Error::new(ErrorKind::Sts, format!("upstream down {n}")));
                }
                let mut c = Credentials::access_key(format!("id-{n}"), Secret::new("s"), "fake");
                c.security_token = Some(Secret::new("t"));
                let now = self.clock.now();
                c.expiration = Some(if self.expired.load(Ordering::SeqCst) {
                    now - Duration::from_secs(1)
                } else {
                    now + *self.lifetime.lock().unwrap()
                });
                Ok(c)
            })
        }
        fn provider_name(&self) -> String {
            "fake".into()
        }
    }

    fn setup(
        lifetime: Duration,
        policy: Policy,
    ) -> (Arc<ManualClock>, Arc<Fake>, Arc<SessionCache>) {
        let clock = Arc::new(ManualClock::new());
        let fake = Fake::new(clock.clone(), lifetime);
        let cache = SessionCache::new(fake.clone(), policy, clock.clone());
        (clock, fake, cache)
    }

    const HOUR: Duration = Duration::from_secs(3600);
    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn single_flight_for_concurrent_cold_callers() {
        let (_, fake, cache) = setup(HOUR, Policy::default());
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.get().await.unwrap().access_key_id })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "id-1");
        }
        assert_eq!(fake.calls(), 1);
    }

    #[tokio::test]
    async fn serves_cache_until_stale_then_refreshes() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        let first = cache.get().await.unwrap();
        assert_eq!(
            first.reuse_until.unwrap(),
            first.expiration.unwrap() - Duration::from_secs(15 * 60)
        );
        clock.advance(Duration::from_secs(45 * 60) - SECOND);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        clock.advance(SECOND);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
        assert_eq!(fake.calls(), 2);
    }

    #[tokio::test]
    async fn failure_serves_unexpired_cache_with_backoff_then_rejects_once_expired() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        cache.get().await.unwrap();
        fake.fail.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(50 * 60));
        // Stale but unexpired: the refresh fails, the cached one is served, a retry is scheduled.
        let served = cache.get().await.unwrap();
        assert_eq!(served.access_key_id, "id-1");
        assert_eq!(fake.calls(), 2);
        // Reused at most until the retry, which comes within the first backoff (1 s).
        assert!(served.reuse_until.unwrap() <= clock.now() + SECOND);
        for _ in 0..100 {
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        }
        assert_eq!(fake.calls(), 2);
        // Expired: the refresh error, never the expired credential.
        clock.advance(Duration::from_secs(10 * 60));
        let e = cache.get().await.unwrap_err();
        assert!(e.message().starts_with("upstream down"), "{e}");
    }

    #[tokio::test]
    async fn a_failing_source_is_asked_a_handful_of_times_not_at_every_call() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        fake.fail.store(true, Ordering::SeqCst);
        let first = cache.get().await.unwrap_err();
        // 2000 calls within the first backoff: the same error, no new request.
        for _ in 0..2000 {
            assert_eq!(cache.get().await.unwrap_err(), first);
        }
        assert_eq!(fake.calls(), 1);
        // A caller looping for ten seconds: the backoff doubles (1, 2, 4 s ...), a handful of tries.
        for _ in 0..1000 {
            clock.advance(Duration::from_millis(10));
            let _ = cache.get().await;
        }
        assert!((2..=5).contains(&fake.calls()), "{} requests", fake.calls());
        // The source is back: the first call after the window succeeds.
        fake.fail.store(false, Ordering::SeqCst);
        clock.advance(Duration::from_secs(10));
        let ok = cache.get().await.unwrap();
        assert_eq!(ok.access_key_id, format!("id-{}", fake.calls()));
    }

    #[tokio::test]
    async fn credentials_that_arrive_expired_are_an_error_not_a_loop() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        fake.expired.store(true, Ordering::SeqCst);
        let e = cache.get().await.unwrap_err();
        assert!(
            e.message()
                .starts_with("the credentials fake returned expired at "),
            "{e}"
        );
        for _ in 0..500 {
            assert!(cache.get().await.is_err());
        }
        assert_eq!(fake.calls(), 1);
        fake.expired.store(false, Ordering::SeqCst);
        clock.advance(Duration::from_secs(10));
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_cold_callers_share_one_failed_attempt_and_its_error() {
        let (_, fake, cache) = setup(HOUR, Policy::default());
        fake.fail.store(true, Ordering::SeqCst);
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.get().await.unwrap_err().message().to_owned() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "upstream down 1");
        }
        assert_eq!(fake.calls(), 1);
    }

    #[tokio::test]
    async fn credentials_inside_the_stale_window_are_served_for_a_bounded_time() {
        // Ten-minute credentials under the 15-minute stale window: served for a minute (not
        // refetched at every call), then refreshed.
        let (clock, fake, cache) = setup(Duration::from_secs(600), Policy::default());
        let first = cache.get().await.unwrap();
        assert_eq!(first.reuse_until.unwrap(), clock.now() + 60 * SECOND);
        for _ in 0..500 {
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        }
        clock.advance(59 * SECOND);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        assert_eq!(fake.calls(), 1);
        clock.advance(SECOND);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
        // Four-second credentials: half their life.
        *fake.lifetime.lock().unwrap() = 4 * SECOND;
        clock.advance(60 * SECOND);
        let short = cache.get().await.unwrap();
        assert_eq!(short.access_key_id, "id-3");
        assert_eq!(short.reuse_until.unwrap(), clock.now() + 2 * SECOND);
        for _ in 0..500 {
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-3");
        }
        assert_eq!(fake.calls(), 3);
    }

    #[tokio::test]
    async fn a_failing_refresh_of_a_valid_credential_keeps_serving_it_asking_with_backoff() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        cache.get().await.unwrap();
        fake.fail.store(true, Ordering::SeqCst);
        clock.advance(46 * 60 * SECOND);
        // Fourteen minutes of a caller looping every 10 ms on a stale, valid credential: it is
        // served throughout, and the source is asked with a backoff growing to a minute.
        for _ in 0..(14 * 60 * 100) {
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
            clock.advance(Duration::from_millis(10));
        }
        let asked = fake.calls() - 1;
        // Waits of 1, 2, 4 ... 60 s, each jittered down to half: 20 to 34 requests.
        assert!((15..=40).contains(&asked), "{asked} requests");
        fake.fail.store(false, Ordering::SeqCst);
        clock.advance(60 * SECOND);
        assert_eq!(
            cache.get().await.unwrap().access_key_id,
            format!("id-{}", fake.calls())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn prefetch_serves_cached_and_refreshes_in_background() {
        let policy = Policy {
            prefetch_before: Some(HOUR),
            ..Policy::default()
        };
        let (clock, fake, cache) = setup(2 * HOUR, policy);
        cache.get().await.unwrap();
        clock.advance(HOUR + SECOND);
        // Served from cache at once; a background refresh starts.
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        for _ in 0..200 {
            if fake.calls() == 2 && !cache.lock().prefetching {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
        assert_eq!(fake.calls(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_refresher_refreshes_without_callers_then_stops_when_closed_or_dropped() {
        // Credentials living 3 s with a 2 s prefetch window: a background refresh every ~1 s.
        let policy = Policy {
            stale_before: Duration::from_millis(500),
            prefetch_before: Some(Duration::from_secs(2)),
            background: true,
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let fake = Fake::new(clock.clone(), Duration::from_secs(3));
        let provider = SessionProvider::with_clock(fake.clone(), policy, clock.clone());
        for _ in 0..400 {
            if fake.calls() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            fake.calls() >= 3,
            "refreshed without callers: {}",
            fake.calls()
        );
        provider.close();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let at_close = fake.calls();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(fake.calls(), at_close, "no refresh after close()");

        let fake = Fake::new(clock.clone(), Duration::from_secs(3));
        let provider = SessionProvider::with_clock(fake.clone(), policy, clock);
        for _ in 0..200 {
            if fake.calls() >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let weak = Arc::downgrade(&provider.cache);
        drop(provider);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            weak.upgrade().is_none(),
            "the loop holds no strong reference"
        );
        let at_drop = fake.calls();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(fake.calls(), at_drop, "no refresh after drop");
    }
}
