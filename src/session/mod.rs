//! The session cache: one refresh policy for every source of short-lived credentials.
//!
//! - A credential of lifetime L (as it arrives) is refreshed from `min(15 min, L/3)` before it
//!   expires (ECS: up to 60 minutes), a continuous rule: a 900 s credential is used for 600 s
//!   whether STS's clock is a second ahead or behind. It is never handed out within its safety
//!   margin, `min(10 s, max(2 s, L/10))` of its expiry (see `policy` for why), never after.
//! - The wall clock decides expiry, read at every call: after a sleep of the machine or a clock
//!   step, the first call sees where the credential stands. Waits (backoff, retry delays) run on
//!   the monotonic clock, so a step of the wall clock neither stretches nor shrinks them.
//! - No caller waits after the first: once the window is open, the first caller starts one
//!   refresh in the background and every caller keeps getting the cached credential meanwhile;
//!   only a caller with nothing servable cached waits for the network.
//! - Single flight: one refresh at a time however many callers ask; callers that waited on one
//!   share its outcome instead of starting their own.
//! - Blips retried inside one refresh (`retry`): a reset connection, a timeout, a 5xx or STS
//!   throttling is tried again up to twice, jittered, within the time one attempt may take.
//! - Failure memory: after a failed refresh, no new refresh before a jittered backoff (1 s,
//!   doubling). Meanwhile a cached credential is served while servable (backoff capped at 60 s);
//!   with none, callers get the same error again without a request (capped at 10 s), so a
//!   caller looping on a failing source sends a handful of requests, not thousands. The first call
//!   after the window tries again. A credential that arrives already expired is such a failure.
//!   The shape follows aws-sdk-java's `CachedSupplier` and the Alibaba Java/.NET
//!   `RefreshCachedSupplier` (stale value kept on failure, jittered retry, prefetch); the
//!   constants are in `policy`, and tests move a [`ManualClock`] through them.
//! - Background work runs on the Tokio runtime, holds the cache only while a refresh runs (the
//!   `asyncCredentialUpdateEnabled` loop only weakly), so it never keeps a Node process alive and
//!   ends with the credential.
//!
//! Parts: `policy` (when, as pure functions of the time), `retry` (what a blip is), `cache`
//! (state, single flight, background refresh), `background` (the timer-driven refresher),
//! `clock` (time, injected).

mod background;
mod cache;
pub mod clock;
pub mod policy;
mod retry;

use std::sync::Arc;
use std::time::Duration;

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::error::Result;

pub use cache::{rfc3339, SessionCache};
pub use clock::{Clock, ManualClock, SystemClock};
pub use policy::{random_unit, Policy};
// The failure backoff, for the shared cache's failure note (`crate::shared_cache`).
pub use policy::{backoff, COLD_BACKOFF_CAP};
pub use retry::is_blip;

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

    /// The longest one attempt may take by its configured timeouts (connect + read): retries of
    /// a blip stay within it. `None`: no bound of its own (retries are still counted).
    fn budget(&self) -> Option<Duration> {
        None
    }
}

/// A refresher shared by reference (a decorator's inner one, a test's fake) refreshes as itself.
impl<T: Refresher + ?Sized> Refresher for Arc<T> {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        (**self).fetch()
    }

    fn provider_name(&self) -> String {
        (**self).provider_name()
    }

    fn endpoint(&self) -> Option<String> {
        (**self).endpoint()
    }

    fn budget(&self) -> Option<Duration> {
        (**self).budget()
    }
}

/// A caching provider over `refresher`, on the system clock (a test may speed it up:
/// [`clock::CLOCK_SCALE_TEST_VAR`]): the cache itself, holding `refresher`, in one allocation.
pub fn provider<R: Refresher + 'static>(
    refresher: R,
    policy: Policy,
) -> Arc<dyn CredentialsProvider> {
    provider_with_clock(refresher, policy, clock::process_clock())
}

/// A caching provider over `refresher` reading the time from `clock`; starts the background
/// refresher when the policy asks for it.
pub fn provider_with_clock<R: Refresher + 'static>(
    refresher: R,
    policy: Policy,
    clock: Arc<dyn Clock>,
) -> Arc<dyn CredentialsProvider> {
    let cache = SessionCache::inline(refresher, policy, clock);
    if policy.background {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let weak: std::sync::Weak<SessionCache> = Arc::downgrade(&cache) as _;
            handle.spawn(background::run(weak));
        }
    }
    cache
}

impl<R: Refresher + 'static> CredentialsProvider for SessionCache<R> {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        let engine: &SessionCache = self;
        Box::pin(engine.get())
    }

    fn provider_name(&self) -> String {
        self.refresher.provider_name()
    }

    fn close(&self) {
        let engine: &SessionCache = self;
        engine.lock().stopped = true;
    }

    fn endpoint(&self) -> Option<String> {
        self.refresher.endpoint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use crate::secret::Secret;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// Returns credentials `id-<n>` living `lifetime` from the clock's now, or fails when `fail`
    /// is set (or for the next `blips` calls with `blip`), or returns them already expired when
    /// `expired` is set. `delay` is how long each fetch takes.
    struct Fake {
        clock: Arc<dyn Clock>,
        calls: AtomicUsize,
        lifetime: Mutex<Duration>,
        fail: AtomicBool,
        expired: AtomicBool,
        blips: AtomicUsize,
        blip: Mutex<Error>,
        delay: Mutex<Duration>,
        budget: Option<Duration>,
    }

    impl Fake {
        fn new(clock: Arc<dyn Clock>, lifetime: Duration) -> Arc<Self> {
            Fake::with_budget(clock, lifetime, None)
        }

        fn with_budget(
            clock: Arc<dyn Clock>,
            lifetime: Duration,
            budget: Option<Duration>,
        ) -> Arc<Self> {
            Arc::new(Fake {
                clock,
                calls: AtomicUsize::new(0),
                lifetime: Mutex::new(lifetime),
                fail: AtomicBool::new(false),
                expired: AtomicBool::new(false),
                blips: AtomicUsize::new(0),
                blip: Mutex::new(Error::new(ErrorKind::Timeout, "blip")),
                delay: Mutex::new(Duration::from_millis(5)),
                budget,
            })
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl Refresher for Fake {
        fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
            Box::pin(async move {
                let delay = *self.delay.lock().unwrap();
                tokio::time::sleep(delay).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if self
                    .blips
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                    .is_ok()
                {
                    return Err(self.blip.lock().unwrap().clone());
                }
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
        fn budget(&self) -> Option<Duration> {
            self.budget
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

    /// Waits (real time) until no background refresh is queued or running.
    async fn settled(cache: &SessionCache) {
        for _ in 0..1000 {
            if !cache.lock().refreshing {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("the background refresh never finished");
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_window_opens_and_the_refresh_runs_behind_the_cached_credential() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        let first = cache.get().await.unwrap();
        assert_eq!(
            first.reuse_until.unwrap(),
            first.expiration.unwrap() - Duration::from_secs(15 * 60)
        );
        clock.advance(Duration::from_secs(45 * 60) - SECOND);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        settled(&cache).await;
        assert_eq!(fake.calls(), 1);
        // The window is open: slow refreshes do not hold callers up.
        *fake.delay.lock().unwrap() = Duration::from_millis(300);
        clock.advance(SECOND);
        let started = std::time::Instant::now();
        for _ in 0..100 {
            let served = cache.get().await.unwrap();
            assert_eq!(served.access_key_id, "id-1");
            // Not reusable in the window: the next call asks again, and gets the refresh's
            // result as soon as it lands.
            assert_eq!(served.reuse_until.unwrap(), clock.now());
        }
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "callers waited for the refresh"
        );
        settled(&cache).await;
        assert_eq!(fake.calls(), 2, "one refresh for all those callers");
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_900s_credential_costs_one_request_per_600s_whatever_the_sts_clock_skew() {
        // STS's clock a second ahead (the credential arrives with 901 s left), right, and a
        // second behind (899 s). An hour of a caller every 100 ms.
        for lifetime_ms in [901_000u64, 900_000, 899_000, 900_700] {
            let (clock, fake, cache) = setup(Duration::from_millis(lifetime_ms), Policy::default());
            for _ in 0..36_000 {
                let served = cache.get().await.unwrap();
                let left = served
                    .expiration
                    .unwrap()
                    .duration_since(clock.now())
                    .unwrap();
                assert!(
                    left >= Duration::from_secs(10),
                    "handed out with {left:?} left"
                );
                settled(&cache).await;
                clock.advance(Duration::from_millis(100));
            }
            let requests = fake.calls();
            // 3600 s / ~600 s: the first and five or six refreshes.
            assert!(
                (6..=7).contains(&requests),
                "{lifetime_ms} ms credentials: {requests} requests in an hour"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_handed_out_within_the_safety_margin_nor_after_expiry() {
        // Four-second credentials and a source that fails once they are out: served until
        // 2 s before expiry (the least margin), never after; then the refresh error.
        let (clock, fake, cache) = setup(4 * SECOND, Policy::default());
        let first = cache.get().await.unwrap();
        let expiration = first.expiration.unwrap();
        fake.fail.store(true, Ordering::SeqCst);
        let mut last_served = None;
        for _ in 0..500 {
            match cache.get().await {
                Ok(c) => {
                    assert_eq!(c.access_key_id, "id-1");
                    assert!(c.reuse_until.unwrap() <= expiration - Duration::from_millis(2000));
                    last_served = Some(clock.now());
                }
                Err(e) => assert!(e.message().starts_with("upstream down"), "{e}"),
            }
            settled(&cache).await;
            clock.advance(Duration::from_millis(10));
        }
        let last = last_served.unwrap();
        assert!(last < expiration - Duration::from_millis(2000), "{last:?}");
        assert!(last >= expiration - Duration::from_millis(2020), "{last:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_window_refresh_serves_the_cached_credential_with_backoff_then_rejects() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        cache.get().await.unwrap();
        fake.fail.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(50 * 60));
        // In the window: the background refresh fails, the cached one is served throughout.
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        settled(&cache).await;
        assert_eq!(fake.calls(), 2);
        for _ in 0..100 {
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        }
        settled(&cache).await;
        assert_eq!(fake.calls(), 2, "no new refresh within the backoff");
        // Past the safety margin: the refresh error, never the old credential.
        clock.advance(Duration::from_secs(10 * 60));
        let e = cache.get().await.unwrap_err();
        assert!(e.message().starts_with("upstream down"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_refresh_of_a_valid_credential_keeps_serving_it_asking_with_backoff() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        cache.get().await.unwrap();
        fake.fail.store(true, Ordering::SeqCst);
        clock.advance(46 * 60 * SECOND);
        // Fourteen minutes of a caller looping every 10 ms in the window, up to the safety margin:
        // the credential is served throughout, and the source is asked with a backoff growing
        // to a minute.
        for _ in 0..((14 * 60 - 10) * 100) {
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
            settled(&cache).await;
            clock.advance(Duration::from_millis(10));
        }
        let asked = fake.calls() - 1;
        // Waits of 1, 2, 4 ... 60 s, each jittered down to half: 20 to 34 requests.
        assert!((15..=40).contains(&asked), "{asked} requests");
        fake.fail.store(false, Ordering::SeqCst);
        clock.advance(60 * SECOND);
        cache.get().await.unwrap();
        settled(&cache).await;
        assert_eq!(
            cache.get().await.unwrap().access_key_id,
            format!("id-{}", fake.calls())
        );
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
    async fn blips_are_retried_twice_inside_one_refresh() {
        for blip in [
            Error::new(ErrorKind::Http, "reset").with_node_code("ECONNRESET"),
            Error::new(ErrorKind::Timeout, "timeout"),
            Error::new(ErrorKind::Sts, "503").with_answer(503, Some("ServiceUnavailable")),
            Error::new(ErrorKind::Sts, "throttled").with_answer(400, Some("Throttling.User")),
        ] {
            // One blip: the caller gets credentials from the second attempt.
            let (_, fake, cache) = setup(HOUR, Policy::default());
            *fake.blip.lock().unwrap() = blip.clone();
            fake.blips.store(1, Ordering::SeqCst);
            assert_eq!(cache.get().await.unwrap().access_key_id, "id-2", "{blip}");
            assert_eq!(cache.upstream_attempts(), 2);
            // Three in a row: two retries, then the refresh fails with the blip.
            let (_, fake, cache) = setup(HOUR, Policy::default());
            *fake.blip.lock().unwrap() = blip.clone();
            fake.blips.store(3, Ordering::SeqCst);
            assert_eq!(cache.get().await.unwrap_err(), blip);
            assert_eq!(fake.calls(), 3);
            assert_eq!(cache.upstream_attempts(), 3);
        }
    }

    #[tokio::test]
    async fn refusals_are_never_retried() {
        for refusal in [
            Error::new(ErrorKind::Sts, "denied").with_answer(403, Some("NoPermission")),
            Error::new(ErrorKind::Sts, "bad key")
                .with_answer(404, Some("InvalidAccessKeyId.NotFound")),
            Error::new(ErrorKind::InvalidSecret, "the access key secret is invalid"),
            Error::new(ErrorKind::Http, "401").with_answer(401, None),
            Error::new(ErrorKind::Response, "not json"),
        ] {
            let (_, fake, cache) = setup(HOUR, Policy::default());
            *fake.blip.lock().unwrap() = refusal.clone();
            fake.blips.store(1, Ordering::SeqCst);
            assert_eq!(cache.get().await.unwrap_err(), refusal);
            assert_eq!(fake.calls(), 1, "{refusal}");
        }
    }

    #[tokio::test]
    async fn retries_stay_within_the_time_one_attempt_may_take() {
        // Attempts of 150 ms that time out, in a budget of 400 ms: the first retry fits (about
        // 150 + 100 + 150 ms), the second would not and is cut; the whole within the budget.
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
        let fake = Fake::with_budget(clock.clone(), HOUR, Some(Duration::from_millis(400)));
        *fake.delay.lock().unwrap() = Duration::from_millis(150);
        fake.blips.store(5, Ordering::SeqCst);
        let cache = SessionCache::new(fake.clone(), Policy::default(), clock);
        let started = std::time::Instant::now();
        let e = cache.get().await.unwrap_err();
        let took = started.elapsed();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(took < Duration::from_millis(450), "{took:?}");
        assert!(cache.upstream_attempts() <= 3);
        assert!(fake.calls() >= 2, "{} attempts completed", fake.calls());
    }

    #[tokio::test]
    async fn a_wall_clock_jump_past_expiry_is_seen_by_the_first_call() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        // The machine slept two hours: the monotonic clock stood still, the wall clock did not.
        clock.step_wall(true, 2 * HOUR);
        let served = cache.get().await.unwrap();
        assert_eq!(served.access_key_id, "id-2");
        assert_eq!(fake.calls(), 2);
        // Into the window of id-2 (50 minutes on): the first call starts the refresh.
        clock.step_wall(true, Duration::from_secs(50 * 60));
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
        settled(&cache).await;
        assert_eq!(fake.calls(), 3);
        // Landed: served from the next call on.
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-3");
    }

    #[tokio::test]
    async fn a_wall_clock_step_back_does_not_stretch_a_backoff() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        fake.fail.store(true, Ordering::SeqCst);
        cache.get().await.unwrap_err();
        fake.fail.store(false, Ordering::SeqCst);
        // NTP steps the clock back an hour during the first backoff (at most 1 s).
        clock.step_wall(false, HOUR);
        assert!(cache.get().await.is_err(), "still in the backoff");
        assert_eq!(fake.calls(), 1);
        clock.advance(SECOND);
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-2");
    }

    #[tokio::test]
    async fn a_wall_clock_step_forward_does_not_shrink_a_backoff() {
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        fake.fail.store(true, Ordering::SeqCst);
        for failures in 1..=5u32 {
            cache.get().await.unwrap_err();
            assert_eq!(fake.calls(), failures as usize);
            // A jump of an hour forward: the backoff (1, 2, 4 ... s, jittered down to half) is
            // not over.
            clock.step_wall(true, HOUR);
            let e = cache.get().await.unwrap_err();
            assert!(e.message().starts_with("upstream down"), "{e}");
            assert_eq!(fake.calls(), failures as usize, "failure {failures}");
            clock.advance(SECOND * (1 << (failures - 1)));
        }
        // With a servable credential cached: a jump within its life keeps the backoff, a jump
        // past its margin ends it (nothing to serve: the next caller tries at once).
        let (clock, fake, cache) = setup(HOUR, Policy::default());
        cache.get().await.unwrap();
        fake.fail.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(50 * 60));
        cache.get().await.unwrap();
        settled(&cache).await;
        assert_eq!(fake.calls(), 2);
        clock.step_wall(true, Duration::from_secs(5 * 60));
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-1");
        settled(&cache).await;
        assert_eq!(fake.calls(), 2, "the backoff holds");
        fake.fail.store(false, Ordering::SeqCst);
        clock.step_wall(true, Duration::from_secs(5 * 60));
        assert_eq!(cache.get().await.unwrap().access_key_id, "id-3");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn background_refresher_refreshes_without_callers_then_stops_when_closed_or_dropped() {
        // Credentials living 3 s: a background refresh every 2 s.
        let policy = Policy {
            refresh_before: Duration::from_secs(2),
            background: true,
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let fake = Fake::new(clock.clone(), Duration::from_millis(1500));
        let provider = provider_with_clock(fake.clone(), policy, clock.clone());
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
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(fake.calls(), at_close, "no refresh after close()");

        let fake = Fake::new(clock.clone(), Duration::from_millis(1500));
        let provider = provider_with_clock(fake.clone(), policy, clock);
        for _ in 0..200 {
            if fake.calls() >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let weak = Arc::downgrade(&provider);
        drop(provider);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            weak.upgrade().is_none(),
            "the loop holds no strong reference"
        );
        let at_drop = fake.calls();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(fake.calls(), at_drop, "no refresh after drop");
    }
}
