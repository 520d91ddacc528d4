//! The cache of one session credential and its single flight: one refresh at a time, whose outcome
//! every caller that waited on it shares, success or failure.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::SystemTime;

use super::clock::Clock;
use super::policy::{backoff, Policy, BACKOFF_CAP, COLD_BACKOFF_CAP, PREFETCH_REUSE};
use super::Refresher;
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};

#[derive(Default)]
pub(super) struct State {
    pub(super) current: Option<Credentials>,
    /// When the current credentials go stale (a caller-visible refresh is due).
    pub(super) refresh_at: Option<SystemTime>,
    /// When a background prefetch is due.
    pub(super) prefetch_at: Option<SystemTime>,
    /// Completed refresh attempts, successful or not.
    attempts: u64,
    last_error: Option<Error>,
    failures: u32,
    /// No new attempt before this, after a failure.
    pub(super) retry_at: Option<SystemTime>,
    pub(super) prefetching: bool,
}

/// A caching provider over a [`Refresher`].
pub struct SessionCache {
    pub(super) refresher: Arc<dyn Refresher>,
    pub(super) policy: Policy,
    pub(super) clock: Arc<dyn Clock>,
    state: Mutex<State>,
    pub(super) refresh_lock: tokio::sync::Mutex<()>,
    me: Weak<SessionCache>,
    pub(super) stopped: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("provider", &self.refresher.provider_name())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl SessionCache {
    /// A cache over `refresher` reading the time from `clock`.
    pub fn new(refresher: Arc<dyn Refresher>, policy: Policy, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new_cyclic(|me| SessionCache {
            refresher,
            policy,
            clock,
            state: Mutex::new(State::default()),
            refresh_lock: tokio::sync::Mutex::new(()),
            me: me.clone(),
            stopped: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
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

    /// The last failure, while its backoff lasts: callers get it again without a new request.
    fn remembered_failure(st: &State, now: SystemTime) -> Option<Error> {
        st.last_error
            .clone()
            .filter(|_| st.retry_at.is_some_and(|r| now < r))
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
            let now = self.clock.now();
            if let Some(served) = self.serve(&st, now) {
                if self.prefetch_due(&st, now) {
                    st.prefetching = true;
                    self.spawn_prefetch();
                }
                return Ok(served);
            }
            if let Some(e) = Self::remembered_failure(&st, now) {
                return Err(e);
            }
            seen_attempts = st.attempts;
        }
        let _guard = self.refresh_lock.lock().await;
        {
            let st = self.lock();
            if st.attempts != seen_attempts {
                // An attempt finished while we waited: share its outcome.
                let now = self.clock.now();
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

    /// Runs one refresh attempt; the caller holds `refresh_lock`.
    pub(super) async fn refresh_locked(&self) -> Result<Credentials> {
        let started = std::time::Instant::now();
        let fetched = self.refresher.fetch().await.and_then(|c| {
            let expiration = c.expiration.ok_or_else(|| {
                Error::new(ErrorKind::Response, "the credentials have no expiration")
            })?;
            Ok((c, expiration))
        });
        let took = started.elapsed().as_millis();
        let mut st = self.lock();
        let now = self.clock.now();
        st.attempts += 1;
        let scheduled =
            fetched.and_then(
                |(c, expiration)| match self.policy.schedule(now, expiration) {
                    Some(schedule) => Ok((c, expiration, schedule)),
                    None => Err(Error::new(
                        ErrorKind::Response,
                        format!(
                            "the credentials {} returned expired at {}",
                            self.refresher.provider_name(),
                            rfc3339(expiration)
                        ),
                    )),
                },
            );
        match scheduled {
            Ok((credentials, expiration, schedule)) => {
                crate::log::debug("session", || {
                    format!(
                        "refresh {} ok in {took} ms: {}, expires {}, refresh from {}",
                        self.refresher.provider_name(),
                        crate::secret::mask_id(&credentials.access_key_id),
                        rfc3339(expiration),
                        rfc3339(schedule.prefetch_at.unwrap_or(schedule.refresh_at)),
                    )
                });
                st.refresh_at = Some(schedule.refresh_at);
                st.prefetch_at = schedule.prefetch_at;
                st.current = Some(credentials);
                st.failures = 0;
                st.retry_at = None;
                st.last_error = None;
            }
            Err(e) => {
                st.failures = st.failures.saturating_add(1);
                let valid = st
                    .current
                    .as_ref()
                    .and_then(|c| c.expiration)
                    .is_some_and(|x| now < x);
                let delay = backoff(
                    st.failures,
                    if valid { BACKOFF_CAP } else { COLD_BACKOFF_CAP },
                );
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

    /// When the background refresher should next look.
    pub(super) fn next_wake(&self) -> std::time::Duration {
        let st = self.lock();
        let now = self.clock.now();
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

    /// True when the background refresher should refresh now.
    pub(super) fn background_due(&self) -> bool {
        let st = self.lock();
        let now = self.clock.now();
        let due =
            st.current.is_none() || st.prefetch_at.or(st.refresh_at).is_some_and(|t| now >= t);
        due && st.retry_at.is_none_or(|r| now >= r)
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
                let now = me.clock.now();
                st.prefetch_at.is_some_and(|p| now >= p)
            };
            if due {
                let _ = me.refresh_locked().await;
            }
            me.lock().prefetching = false;
        });
    }
}

/// `t` as an RFC 3339 UTC time, for logs and descriptions.
pub fn rfc3339(t: SystemTime) -> String {
    crate::time::format_utc(t, false)
}
