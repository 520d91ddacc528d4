//! The refresh policy, as pure functions of the time: when a credential's refresh window opens,
//! until when it may be handed out, and how long to wait after a failure.

use std::time::{Duration, SystemTime};

/// When to refresh.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// The longest refresh window: refresh from at most this long before expiration (15 minutes;
    /// ECS 60 minutes, as its metadata service rotates an hour ahead).
    pub refresh_before: Duration,
    /// Keep refreshing in the background on a timer, without callers (`asyncCredentialUpdateEnabled`).
    pub background: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            refresh_before: Duration::from_secs(15 * 60),
            background: false,
        }
    }
}

/// The refresh window of a credential of lifetime L is `min(refresh_before, L / WINDOW_DIVISOR)`
/// (and never shorter than one and a half safety margins, so that it opens before the margin
/// retires the credential): a 900 s credential (the STS minimum) is used for 600 s, an hour-long
/// one for 45 minutes. A continuous function of L, so a second of clock skew between STS and us
/// moves the refresh by two thirds of a second, never from "every ten minutes" to "every second".
pub const WINDOW_DIVISOR: u32 = 3;
/// A credential is never handed out within its safety margin of its expiration:
/// `min(SAFETY_MARGIN, max(MIN_SAFETY_MARGIN, L / MARGIN_DIVISOR))`, and at most half the
/// lifetime L. The margin is there for what stands between handing a credential out and the
/// server checking it: the request's latency, the retries of the caller's own client, and the
/// server's clock being a little ahead of ours. None of those shrinks with the lifetime, so the
/// margin is a time: at least [`MIN_SAFETY_MARGIN`] whenever the lifetime allows it (L of 4 s or
/// more), a tenth of the lifetime in between, [`SAFETY_MARGIN`] for long lifetimes. Only a
/// credential living under 4 s (tests, odd sidecars) gets less: half its life, so it is usable
/// at all.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(10);
/// See [`SAFETY_MARGIN`].
pub const MIN_SAFETY_MARGIN: Duration = Duration::from_secs(2);
/// See [`SAFETY_MARGIN`].
pub const MARGIN_DIVISOR: u32 = 10;

/// The safety margin of a credential of lifetime `lifetime`: see [`SAFETY_MARGIN`].
pub fn margin(lifetime: Duration) -> Duration {
    (lifetime / MARGIN_DIVISOR)
        .max(MIN_SAFETY_MARGIN)
        .min(SAFETY_MARGIN)
        .min(lifetime / 2)
}

/// The refresh window of a credential of lifetime `lifetime` when the longest is
/// `refresh_before`: see [`WINDOW_DIVISOR`].
pub fn window(refresh_before: Duration, lifetime: Duration) -> Duration {
    let floor = margin(lifetime) * 3 / 2;
    refresh_before
        .min(lifetime / WINDOW_DIVISOR)
        .max(floor)
        .min(lifetime)
}

/// The first wait after a failed refresh; each further failure doubles it.
pub const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest wait while a valid credential is served meanwhile.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The longest wait while callers get the last error: short, so a source that comes back is
/// used soon, and long enough that a caller looping on a failing source sends a handful of
/// requests a minute.
pub const COLD_BACKOFF_CAP: Duration = Duration::from_secs(10);

/// When a credential expiring at `expiration`, fetched at `now`, is refreshed and retired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The refresh window opens: a background refresh starts, callers keep the credential.
    pub refresh_at: SystemTime,
    /// The credential is never handed out from here on (the safety margin before expiration).
    pub serve_until: SystemTime,
}

impl Policy {
    /// The schedule of a fresh credential; `None` when it is already expired (an error, never
    /// served and never fetched again at once).
    pub fn schedule(&self, now: SystemTime, expiration: SystemTime) -> Option<Schedule> {
        let lifetime = expiration
            .duration_since(now)
            .ok()
            .filter(|l| !l.is_zero())?;
        Some(Schedule {
            refresh_at: expiration - window(self.refresh_before, lifetime),
            serve_until: expiration - margin(lifetime),
        })
    }
}

/// The wait after the `failures`-th failure in a row: exponential from [`BACKOFF_BASE`], capped
/// at `cap`, with jitter in [d/2, d] so that many processes failing together spread out.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    jittered(exp.min(cap))
}

/// `d` jittered uniformly into [d/2, d].
pub fn jittered(d: Duration) -> Duration {
    let half = d / 2;
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

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn windows_are_a_third_of_the_lifetime_up_to_the_cap() {
        let now = SystemTime::now();
        let p = Policy::default();
        let at = |secs: u64| p.schedule(now, now + S * secs as u32).unwrap();
        // An hour: refreshed from 15 minutes before, retired 10 s before.
        assert_eq!(at(3600).refresh_at, now + S * 45 * 60);
        assert_eq!(at(3600).serve_until, now + S * 3590);
        // 900 s, the STS minimum: from 300 s before, so one request per 600 s of use.
        assert_eq!(at(900).refresh_at, now + S * 600);
        // Ten minutes: from 200 s before.
        assert_eq!(at(600).refresh_at, now + S * 400);
        // Four seconds: margin 2 s (the least), window 3 s (one and a half margins).
        let s = at(4);
        assert_eq!(s.refresh_at, now + S);
        assert_eq!(s.serve_until, now + S * 2);
        // Already expired, or expiring now: no schedule.
        assert!(p.schedule(now, now).is_none());
        assert!(p.schedule(now, now - S).is_none());
        let ecs = Policy {
            refresh_before: S * 3600,
            ..p
        };
        assert_eq!(
            ecs.schedule(now, now + S * 6 * 3600).unwrap().refresh_at,
            now + S * 5 * 3600
        );
    }

    #[test]
    fn the_margin_is_a_time_of_2_to_10_s_whenever_the_lifetime_allows() {
        let ms = Duration::from_millis;
        for (lifetime_ms, margin_ms) in [
            (3_600_000, 10_000),
            (900_000, 10_000),
            (100_000, 10_000),
            (60_000, 6_000),
            (30_000, 3_000),
            (20_000, 2_000),
            (10_000, 2_000),
            (4_000, 2_000),
            // Under 4 s the lifetime does not allow 2 s: half of it.
            (3_000, 1_500),
            (1_000, 500),
        ] {
            assert_eq!(margin(ms(lifetime_ms)), ms(margin_ms), "{lifetime_ms} ms");
        }
        // The window always opens before the margin retires the credential.
        for lifetime_ms in [1, 10, 999, 4_000, 10_000, 3_600_000, 100_000_000u64] {
            let l = ms(lifetime_ms);
            assert!(window(S * 900, l) > margin(l), "{lifetime_ms} ms");
            assert!(window(S * 900, l) < l, "{lifetime_ms} ms");
        }
        // A 10 s credential: refreshed from 3.33 s before expiry, retired 2 s before.
        assert_eq!(window(S * 900, S * 10), S * 10 / 3);
    }

    #[test]
    fn the_schedule_is_continuous_in_the_lifetime() {
        // No cliff anywhere, the 900 s STS minimum and the 45-minute cap included: a lifetime one
        // millisecond longer moves the refresh by at most a millisecond.
        let now = SystemTime::now();
        let p = Policy::default();
        let mut last: Option<Schedule> = None;
        for ms in (1..=4_000_000u64).step_by(997) {
            let s = p.schedule(now, now + Duration::from_millis(ms)).unwrap();
            assert!(s.refresh_at < s.serve_until, "{ms} ms");
            assert!(s.serve_until < now + Duration::from_millis(ms), "{ms} ms");
            if let Some(prev) = last {
                let d = s.refresh_at.duration_since(prev.refresh_at).unwrap();
                assert!(
                    d <= Duration::from_millis(997),
                    "{ms} ms: the refresh jumped {d:?}"
                );
                let d = s.serve_until.duration_since(prev.serve_until).unwrap();
                assert!(
                    d <= Duration::from_millis(997),
                    "{ms} ms: the margin jumped {d:?}"
                );
            }
            last = Some(s);
        }
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
