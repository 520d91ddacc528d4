//! The cache of one session credential and its single flight: one refresh at a time, whose outcome
//! every caller that waited on it shares, success or failure. Callers wait only when nothing
//! servable is cached; once a credential's refresh window opens, the first caller starts a
//! refresh in the background and every caller keeps getting the cached credential meanwhile.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::clock::Clock;
use super::policy::{backoff, Policy, BACKOFF_CAP, COLD_BACKOFF_CAP};
use super::retry::{is_blip, retry_delay, RETRIES};
use super::Refresher;
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

#[derive(Default)]
pub(super) struct State {
    /// The current credentials with their schedule, in one allocation (see [`Cached`]).
    current: Option<Cached>,
    /// Completed refreshes, successful or not (wrapping: only compared for equality).
    attempts: u32,
    /// The failure memory, from a failed refresh until the next successful one: boxed, so an
    /// identity that never failed (most of thousands of live ones) pays a pointer for it.
    failure: Option<Box<Failure>>,
    /// A background refresh is queued or running.
    pub(super) refreshing: bool,
    /// `close()` was called: the background refresher stops (here, not an atomic of its own
    /// beside the lock: it fits in the state's padding).
    pub(super) stopped: bool,
    /// Requests sent upstream, retries included (for tests and `describe()`-level diagnostics).
    pub(super) upstream_attempts: u64,
}

/// The credentials a cache holds between refreshes, with their schedule, in one allocation: a
/// block per refresh, not one per string plus the times beside them in every identity's cache
/// (thousands of identities live, most never failing). It holds the secrets, so it is overwritten
/// when dropped. Made after the fetch's buffers are gone, so it does not sit between them.
///
/// Layout: expiration, refresh_at, serve_until (each u64 seconds and u32 nanoseconds since the
/// epoch, little-endian; none is before it: each is after the time of a fetch), the lengths of the
/// [`FIELDS`] strings (u32 each, [`ABSENT`] for none), then the strings. A provider name that is
/// the refresher's own is not kept (absent: the refresher names them when served).
struct Cached(Box<[u8]>);

/// The strings of [`Cached`], in order: id, secret, token, bearer token, provider name.
const FIELDS: usize = 5;
const TIME: usize = 12;
const TIMES: usize = 3;
const HEADER: usize = TIMES * TIME + FIELDS * 4;
const ABSENT: u32 = u32::MAX;

impl Cached {
    /// `credentials` expiring at `expiration`, served until `serve_until`, refreshed from
    /// `refresh_at`, their provider name kept unless it is `refresher_name`; `None` when a string
    /// is too long to be counted (4 GiB, never from a capped body).
    fn new(
        credentials: &Credentials,
        expiration: SystemTime,
        refresh_at: SystemTime,
        serve_until: SystemTime,
        refresher_name: &str,
    ) -> Option<Self> {
        let fields: [Option<&str>; FIELDS] = [
            Some(&credentials.access_key_id),
            Some(credentials.access_key_secret.expose()),
            credentials.security_token.as_ref().map(Secret::expose),
            credentials.bearer_token.as_ref().map(Secret::expose),
            Some(credentials.provider_name.as_str()).filter(|n| *n != refresher_name),
        ];
        let text: usize = fields.iter().flatten().map(|f| f.len()).sum();
        let mut bytes = Vec::with_capacity(HEADER + text);
        for t in [expiration, refresh_at, serve_until] {
            let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
            bytes.extend_from_slice(&since.as_secs().to_le_bytes());
            bytes.extend_from_slice(&since.subsec_nanos().to_le_bytes());
        }
        for f in fields {
            let len = match f {
                Some(f) => u32::try_from(f.len()).ok().filter(|l| *l != ABSENT)?,
                None => ABSENT,
            };
            bytes.extend_from_slice(&len.to_le_bytes());
        }
        for f in fields.into_iter().flatten() {
            bytes.extend_from_slice(f.as_bytes());
        }
        // Exactly its capacity: boxing it moves nothing.
        Some(Cached(bytes.into_boxed_slice()))
    }

    fn time(&self, i: usize) -> SystemTime {
        let at = &self.0[i * TIME..(i + 1) * TIME];
        let secs = u64::from_le_bytes(at[..8].try_into().expect("8 bytes"));
        let nanos = u32::from_le_bytes(at[8..].try_into().expect("4 bytes"));
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    fn expiration(&self) -> SystemTime {
        self.time(0)
    }

    fn refresh_at(&self) -> SystemTime {
        self.time(1)
    }

    /// From when the credentials are no longer handed out (the safety margin), never after
    /// their expiration.
    fn serve_until(&self) -> SystemTime {
        self.time(2).min(self.expiration())
    }

    /// The strings, in [`FIELDS`] order.
    fn fields(&self) -> [Option<&str>; FIELDS] {
        let mut out = [None; FIELDS];
        let mut at = HEADER;
        for (i, field) in out.iter_mut().enumerate() {
            let from = TIMES * TIME + i * 4;
            let len = u32::from_le_bytes(self.0[from..from + 4].try_into().expect("4 bytes"));
            if len != ABSENT {
                let len = len as usize;
                *field = std::str::from_utf8(&self.0[at..at + len]).ok();
                at += len;
            }
        }
        out
    }

    /// The credentials, as they were fetched (without `fetched_at`: only the schedule, kept
    /// here, used it); `refresher_name` gives the name when it was the refresher's.
    fn credentials(&self, refresher_name: impl FnOnce() -> String) -> Credentials {
        let [id, secret, token, bearer, name] = self.fields();
        let mut c = Credentials::access_key(
            id.unwrap_or_default().to_owned(),
            Secret::new(secret.unwrap_or_default()),
            name.map_or_else(refresher_name, str::to_owned),
        );
        c.security_token = token.map(Secret::new);
        c.bearer_token = bearer.map(Secret::new);
        c.expiration = Some(self.expiration());
        c
    }
}

impl Drop for Cached {
    fn drop(&mut self) {
        // A boxed slice is a vector of its length without a new allocation.
        let mut bytes = std::mem::take(&mut self.0).into_vec();
        crate::secret::wipe_bytes(&mut bytes);
    }
}

/// What a cache remembers of its last failed refreshes.
struct Failure {
    last_error: Error,
    /// Failed refreshes in a row.
    failures: u32,
    /// No new refresh before this instant of the monotonic clock: a step of the wall clock
    /// neither stretches nor shrinks a backoff.
    retry_at: Instant,
    /// ... nor after the cached credential stops being servable (its safety margin, on the wall
    /// clock): the next caller then tries again at once.
    retry_by: Option<SystemTime>,
}

/// A caching provider over a [`Refresher`]: one allocation per identity holds the cache and its
/// refresher (the last field, so `Arc<SessionCache<R>>` is both an `Arc<SessionCache>` over
/// `dyn Refresher` for the engine and, through [`super::provider`], the identity's provider).
pub struct SessionCache<R: ?Sized + Refresher = dyn Refresher> {
    pub(super) policy: Policy,
    pub(super) clock: Arc<dyn Clock>,
    state: Mutex<State>,
    pub(super) refresh_lock: tokio::sync::Mutex<()>,
    me: Weak<SessionCache>,
    pub(super) refresher: R,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("provider", &self.refresher.provider_name())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<R: Refresher + 'static> SessionCache<R> {
    /// A cache over `refresher` reading the time from `clock`, `refresher` in the same allocation.
    pub fn inline(refresher: R, policy: Policy, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<SessionCache<R>>| SessionCache {
            policy,
            clock,
            state: Mutex::new(State::default()),
            refresh_lock: tokio::sync::Mutex::new(()),
            me: me.clone(),
            refresher,
        })
    }
}

impl SessionCache {
    /// A cache over `refresher` reading the time from `clock`.
    pub fn new<R: Refresher + 'static>(
        refresher: R,
        policy: Policy,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        SessionCache::inline(refresher, policy, clock)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The credentials to serve now without waiting, with how long they may be reused; `None`
    /// when nothing servable is cached (none, or within the safety margin of expiring).
    fn serve(&self, st: &State, now: SystemTime) -> Option<Credentials> {
        let current = st.current.as_ref()?;
        let serve_until = current.serve_until();
        if now >= serve_until {
            return None;
        }
        let refresh_at = current.refresh_at();
        // Before the window: reusable until it opens. Inside it: not reusable (the caller asks
        // again at its next call), so the result of the refresh is served from the call after it
        // lands.
        let until = if now < refresh_at { refresh_at } else { now };
        let mut served = current.credentials(|| self.refresher.provider_name());
        served.reuse_until = Some(until);
        served.serve_until = Some(serve_until);
        Some(served)
    }

    /// True while the backoff after a failure lasts: on the monotonic clock, and no longer than
    /// the cached credential it was serving stays servable.
    fn backing_off(st: &State, now: SystemTime, monotonic: Instant) -> bool {
        st.failure
            .as_ref()
            .is_some_and(|f| monotonic < f.retry_at && f.retry_by.is_none_or(|b| now < b))
    }

    /// The last failure, while its backoff lasts: callers get it again without a new request.
    fn remembered_failure(st: &State, now: SystemTime, monotonic: Instant) -> Option<Error> {
        st.failure
            .as_ref()
            .filter(|_| Self::backing_off(st, now, monotonic))
            .map(|f| f.last_error.clone())
    }

    /// True when a refresh should start now behind a servable credential.
    fn window_refresh_due(st: &State, now: SystemTime, monotonic: Instant) -> bool {
        !st.refreshing
            && st.current.as_ref().is_some_and(|c| now >= c.refresh_at())
            && !Self::backing_off(st, now, monotonic)
    }

    /// The current credentials, refreshing them when nothing servable is cached, and starting a
    /// background refresh when the refresh window is open.
    pub async fn get(&self) -> Result<Credentials> {
        let seen_attempts;
        {
            let mut st = self.lock();
            let now = self.clock.now();
            if let Some(served) = self.serve(&st, now) {
                if Self::window_refresh_due(&st, now, self.clock.monotonic()) {
                    st.refreshing = true;
                    drop(st);
                    self.spawn_refresh();
                }
                return Ok(served);
            }
            if let Some(e) = Self::remembered_failure(&st, now, self.clock.monotonic()) {
                return Err(e);
            }
            seen_attempts = st.attempts;
        }
        let _guard = self.refresh_lock.lock().await;
        {
            let st = self.lock();
            if st.attempts != seen_attempts {
                // A refresh finished while we waited: share its outcome.
                let now = self.clock.now();
                if let Some(served) = self.serve(&st, now) {
                    return Ok(served);
                }
                if let Some(f) = &st.failure {
                    return Err(f.last_error.clone());
                }
            }
        }
        self.refresh_locked().await
    }

    /// One fetch with its retries: a blip is tried again up to [`RETRIES`] times after a jittered
    /// wait, while the whole stays within the time one attempt may take (the refresher's
    /// budget); an attempt cut short by that budget leaves the previous attempt's error.
    async fn fetch_with_retries(&self) -> Result<Credentials> {
        let deadline = self.refresher.budget().map(|b| Instant::now() + b);
        self.lock().upstream_attempts += 1;
        let mut outcome = self.refresher.fetch().await;
        for retry in 1..=RETRIES {
            let error = match &outcome {
                Err(e) if is_blip(e) => e,
                _ => break,
            };
            let wait = retry_delay(retry);
            let budget_left = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now() + wait) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => break,
                },
                None => None,
            };
            crate::log::debug("session", || {
                format!(
                    "refresh {}: retry {retry} in {} ms after a blip: {}",
                    self.refresher.provider_name(),
                    wait.as_millis(),
                    error.message()
                )
            });
            tokio::time::sleep(wait).await;
            self.lock().upstream_attempts += 1;
            let attempt = self.refresher.fetch();
            match budget_left {
                Some(left) => match tokio::time::timeout(left, attempt).await {
                    Ok(next) => outcome = next,
                    Err(_) => break,
                },
                None => outcome = attempt.await,
            }
        }
        outcome
    }

    /// Runs one refresh; the caller holds `refresh_lock`.
    pub(super) async fn refresh_locked(&self) -> Result<Credentials> {
        let started = Instant::now();
        let fetched = self.fetch_with_retries().await.and_then(|c| {
            let expiration = c.expiration.ok_or_else(|| {
                Error::new(ErrorKind::Response, "the credentials have no expiration")
            })?;
            Ok((c, expiration))
        });
        let took = started.elapsed().as_millis();
        let mut st = self.lock();
        let now = self.clock.now();
        st.attempts = st.attempts.wrapping_add(1);
        let scheduled = fetched.and_then(|(c, expiration)| {
            // Credentials fetched earlier (a shared cache's entry) keep the schedule of their
            // whole lifetime, not one counted from now.
            let fetched_at = c.fetched_at.map_or(now, |t| t.min(now));
            let schedule = self
                .policy
                .schedule(fetched_at, expiration)
                .filter(|_| expiration > now);
            match schedule {
                Some(schedule) => {
                    let cached = Cached::new(
                        &c,
                        expiration,
                        schedule.refresh_at,
                        schedule.serve_until,
                        &self.refresher.provider_name(),
                    )
                    .ok_or_else(|| {
                        Error::new(ErrorKind::Response, "the credentials are too large")
                    })?;
                    Ok((c, cached, expiration, schedule))
                }
                None => Err(Error::new(
                    ErrorKind::Response,
                    format!(
                        "the credentials {} returned expired at {}",
                        self.refresher.provider_name(),
                        rfc3339(expiration)
                    ),
                )),
            }
        });
        match scheduled {
            Ok((credentials, cached, expiration, schedule)) => {
                crate::log::debug("session", || {
                    format!(
                        "refresh {} ok in {took} ms: {}, expires {}, refresh from {}",
                        self.refresher.provider_name(),
                        crate::secret::mask_id(&credentials.access_key_id),
                        rfc3339(expiration),
                        rfc3339(schedule.refresh_at),
                    )
                });
                drop(credentials);
                st.current = Some(cached);
                st.failure = None;
            }
            Err(e) => {
                let failures = st
                    .failure
                    .as_ref()
                    .map_or(0, |f| f.failures)
                    .saturating_add(1);
                let servable_until = st
                    .current
                    .as_ref()
                    .map(Cached::serve_until)
                    .filter(|until| now < *until);
                let delay = backoff(
                    failures,
                    if servable_until.is_some() {
                        BACKOFF_CAP
                    } else {
                        COLD_BACKOFF_CAP
                    },
                );
                crate::log::debug("session", || {
                    format!(
                        "refresh {} failed in {took} ms (failure {failures}, next try in {} ms): {}",
                        self.refresher.provider_name(),
                        delay.as_millis(),
                        e.message()
                    )
                });
                // Once the cached credential can no longer be served, the next caller tries again
                // (then under the short backoff of a cold cache).
                let failure = Failure {
                    last_error: e,
                    failures,
                    retry_at: self.clock.monotonic() + delay,
                    retry_by: servable_until,
                };
                // Reuses the box of an earlier failure.
                match &mut st.failure {
                    Some(f) => **f = failure,
                    None => st.failure = Some(Box::new(failure)),
                }
            }
        }
        match self.serve(&st, now) {
            Some(served) => Ok(served),
            None => Err(st
                .failure
                .as_ref()
                .map(|f| f.last_error.clone())
                .unwrap_or_else(|| Error::new(ErrorKind::Response, "the credentials are expired"))),
        }
    }

    /// How long the background refresher may sleep before it should look again: until the
    /// refresh window opens (a wall-clock time, so the loop re-checks it when it wakes) and the
    /// backoff is over (monotonic).
    pub(super) fn next_wake(&self) -> std::time::Duration {
        let st = self.lock();
        let now = self.clock.now();
        let backoff_left = st
            .failure
            .as_ref()
            .map(|f| f.retry_at.saturating_duration_since(self.clock.monotonic()))
            .unwrap_or_default();
        let Some(current) = &st.current else {
            return backoff_left;
        };
        let window_in = current.refresh_at().duration_since(now).unwrap_or_default();
        window_in.max(backoff_left)
    }

    /// True when the background refresher should refresh now.
    pub(super) fn background_due(&self) -> bool {
        let st = self.lock();
        let now = self.clock.now();
        let due = st.current.as_ref().is_none_or(|c| now >= c.refresh_at());
        due && !Self::backing_off(&st, now, self.clock.monotonic())
    }

    /// Starts one refresh on the runtime, behind the credential callers are being served. It
    /// holds the cache only while it runs.
    fn spawn_refresh(&self) {
        let Some(me) = self.me.upgrade() else { return };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // No runtime to run it on: the first caller past the safety margin refreshes.
            me.lock().refreshing = false;
            return;
        };
        let seen = me.lock().attempts;
        handle.spawn(async move {
            // Clears the flag however the task ends (done, panicked, or dropped with the runtime).
            let done = Refreshing(me);
            let me = &done.0;
            let _guard = me.refresh_lock.lock().await;
            // A caller may have refreshed while this waited for the lock.
            if me.lock().attempts == seen {
                let _ = me.refresh_locked().await;
            }
        });
    }

    /// Upstream requests so far, retries included.
    pub fn upstream_attempts(&self) -> u64 {
        self.lock().upstream_attempts
    }
}

struct Refreshing(Arc<SessionCache>);

impl Drop for Refreshing {
    fn drop(&mut self) {
        self.0.lock().refreshing = false;
    }
}

/// `t` as an RFC 3339 UTC time, for logs and descriptions.
pub fn rfc3339(t: SystemTime) -> String {
    crate::time::format_utc(t, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_credentials_read_back_as_fetched_to_the_nanosecond() {
        let at = |s: u64, n: u32| UNIX_EPOCH + Duration::new(s, n);
        let mut c = Credentials::access_key("id-é".into(), Secret::new("s€cret"), "fake/name");
        c.bearer_token = Some(Secret::new("bearer"));
        c.expiration = Some(at(2_000_000_000, 999_999_999));
        for token in [None, Some(Secret::new("")), Some(Secret::new("token"))] {
            c.security_token = token;
            let cache = |refresher_name: &str| {
                Cached::new(
                    &c,
                    c.expiration.unwrap(),
                    at(1_999_999_000, 1),
                    at(2_000_000_001, 0),
                    refresher_name,
                )
                .unwrap()
            };
            // Another name than the refresher's is kept; the refresher's is asked again.
            assert_eq!(cache("other").credentials(|| unreachable!()), c);
            let cached = cache("fake/name");
            assert_eq!(cached.credentials(|| "fake/name".into()), c);
            assert!(cached.0.len() < cache("other").0.len());
            assert_eq!(cached.refresh_at(), at(1_999_999_000, 1));
            // Never served after its expiration.
            assert_eq!(cached.serve_until(), c.expiration.unwrap());
        }
    }
}
