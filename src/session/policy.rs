//! The refresh policy, as pure functions of the time: when a credential goes stale, when to
//! prefetch it, and how long to wait after a failure.

use std::time::{Duration, SystemTime};

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

/// The first wait after a failed refresh; each further failure doubles it.
pub const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest wait while a valid credential is served meanwhile.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The longest wait while callers get the last error: short, so a source that comes back is
/// used soon, and long enough that a caller looping on a failing source sends a handful of
/// requests a minute.
pub const COLD_BACKOFF_CAP: Duration = Duration::from_secs(10);
/// How long a caller may reuse a credential while a background prefetch is running.
pub const PREFETCH_REUSE: Duration = Duration::from_secs(1);

/// When a credential expiring at `expiration`, fetched at `now`, is due for refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Callers wait for a refresh from here on.
    pub refresh_at: SystemTime,
    /// A background refresh starts from here on, while callers keep the credential.
    pub prefetch_at: Option<SystemTime>,
}

impl Policy {
    /// The schedule of a fresh credential; `None` when it is already expired (an error, never
    /// served and never fetched again at once).
    pub fn schedule(&self, now: SystemTime, expiration: SystemTime) -> Option<Schedule> {
        let lifetime = expiration
            .duration_since(now)
            .ok()
            .filter(|l| !l.is_zero())?;
        // Credentials that arrive already inside the stale (or prefetch) window are still used for
        // a while, a fraction of their remaining life and at most a minute, rather than fetched
        // again at every call.
        let refresh_at = match expiration.checked_sub(self.stale_before) {
            Some(t) if t > now => t,
            _ => now + (lifetime / 2).min(Duration::from_secs(60)),
        };
        let prefetch_at = self.prefetch_before.and_then(|before| {
            let at = match expiration.checked_sub(before) {
                Some(t) if t > now => t,
                _ => now + (lifetime / 4).min(Duration::from_secs(60)),
            };
            (at < refresh_at).then_some(at)
        });
        Some(Schedule {
            refresh_at,
            prefetch_at,
        })
    }
}

/// The wait after the `failures`-th failure in a row: exponential from [`BACKOFF_BASE`], capped
/// at `cap`, with jitter in [d/2, d] so that many processes failing together spread out.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    let capped = exp.min(cap);
    let half = capped / 2;
    half + half.mul_f64(random_unit())
}

/// A uniformly random number in [0, 1).
pub fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let now = SystemTime::now();
        let p = Policy::default();
        let s = p.schedule(now, now + Duration::from_secs(3600)).unwrap();
        assert_eq!(s.refresh_at, now + Duration::from_secs(45 * 60));
        assert_eq!(s.prefetch_at, None);
        // Inside the stale window: half the remaining life, at most a minute.
        let s = p.schedule(now, now + Duration::from_secs(600)).unwrap();
        assert_eq!(s.refresh_at, now + Duration::from_secs(60));
        let s = p.schedule(now, now + Duration::from_secs(10)).unwrap();
        assert_eq!(s.refresh_at, now + Duration::from_secs(5));
        // Already expired, or expiring now: no schedule.
        assert!(p.schedule(now, now).is_none());
        assert!(p.schedule(now, now - Duration::from_secs(1)).is_none());
        let ecs = Policy {
            prefetch_before: Some(Duration::from_secs(3600)),
            ..p
        };
        let s = ecs
            .schedule(now, now + Duration::from_secs(6 * 3600))
            .unwrap();
        assert_eq!(s.prefetch_at, Some(now + Duration::from_secs(5 * 3600)));
    }

    #[test]
    fn backoff_is_jittered_growing_and_capped() {
        for failures in 1..40 {
            for cap in [BACKOFF_CAP, COLD_BACKOFF_CAP] {
                let d = backoff(failures, cap);
                assert!(d <= cap, "{d:?}");
                assert!(d >= BACKOFF_BASE / 2);
            }
        }
        assert!(backoff(1, BACKOFF_CAP) <= BACKOFF_BASE);
        assert!(backoff(4, BACKOFF_CAP) >= BACKOFF_BASE * 4);
        let samples: Vec<Duration> = (0..20).map(|_| backoff(5, BACKOFF_CAP)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]), "jittered");
    }
}
