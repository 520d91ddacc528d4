//! Time, read through a clock the cache is given, so tests move time instead of waiting for it.
//!
//! Two clocks, each for what it is right about. The wall clock ([`Clock::now`]) decides expiry:
//! credentials expire by it, and it moves on while a machine sleeps (the monotonic clock does
//! not). The monotonic clock ([`Clock::monotonic`]) measures waits (backoffs, retry delays): an
//! NTP step or a manual change of the wall clock must neither stretch nor shrink them.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the session cache reads the time.
pub trait Clock: Send + Sync {
    /// The wall clock: what expirations are compared with.
    fn now(&self) -> SystemTime;

    /// The monotonic clock: what waits are measured on.
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// The system's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to, for tests: [`advance`](Self::advance) moves both
/// clocks, as time passing does; [`step_wall`](Self::step_wall) moves the wall clock alone, as a
/// sleep of the machine (forward) or an NTP step (either way) does.
#[derive(Debug)]
pub struct ManualClock(Mutex<(SystemTime, Instant)>);

impl ManualClock {
    /// A clock standing at the system's current time.
    pub fn new() -> Self {
        ManualClock(Mutex::new((SystemTime::now(), Instant::now())))
    }

    /// Moves both clocks forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        t.0 += by;
        t.1 += by;
    }

    /// Moves the wall clock alone by `by`, forward or (`forward` false) back.
    pub fn step_wall(&self, forward: bool, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if forward {
            t.0 += by;
        } else {
            t.0 -= by;
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn monotonic(&self) -> Instant {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

/// Test-only: `<scale>@<epoch ms>` makes every session of the process read a clock running
/// `scale` times as fast as the system's from the instant `epoch ms`, so a Node test can watch
/// backoffs of a minute in a second (`__test__/backoff.test.js`). Not an option: nothing else
/// reads it.
pub const CLOCK_SCALE_TEST_VAR: &str = "ALICLOUD_CREDENTIALS_NATIVE_TEST_CLOCK_SCALE";

/// A clock running `scale` times as fast as the system's from `origin`: at system time t it
/// reads `origin + (t - origin) * scale`; its monotonic clock runs as fast from the same instant.
#[derive(Debug)]
pub struct ScaledClock {
    origin: SystemTime,
    monotonic_origin: Instant,
    scale: f64,
}

impl ScaledClock {
    /// Parses `<scale>@<epoch ms>`.
    pub fn parse(text: &str) -> Option<Self> {
        let (scale, origin) = text.split_once('@')?;
        let scale: f64 = scale
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| *s >= 1.0 && s.is_finite())?;
        let origin = UNIX_EPOCH + Duration::from_millis(origin.trim().parse().ok()?);
        let now = Instant::now();
        let since = SystemTime::now().duration_since(origin).unwrap_or_default();
        let monotonic_origin = now.checked_sub(since).unwrap_or(now);
        Some(ScaledClock {
            origin,
            monotonic_origin,
            scale,
        })
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        match now.duration_since(self.origin) {
            Ok(d) => self.origin + d.mul_f64(self.scale),
            Err(_) => now,
        }
    }

    fn monotonic(&self) -> Instant {
        let elapsed = Instant::now().saturating_duration_since(self.monotonic_origin);
        self.monotonic_origin + elapsed.mul_f64(self.scale)
    }
}

/// The clock of every session of the process: the system's, unless a test set
/// [`CLOCK_SCALE_TEST_VAR`].
pub fn process_clock() -> Arc<dyn Clock> {
    static CLOCK: OnceLock<Arc<dyn Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            match std::env::var(CLOCK_SCALE_TEST_VAR)
                .ok()
                .and_then(|v| ScaledClock::parse(&v))
            {
                Some(scaled) => Arc::new(scaled),
                None => Arc::new(SystemClock),
            }
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_clock_runs_faster_from_its_origin() {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            - 1000;
        let c = ScaledClock::parse(&format!("60@{origin_ms}")).unwrap();
        let ahead = c.now().duration_since(SystemTime::now()).unwrap();
        // One second since the origin reads as a minute: 59 s ahead.
        assert!(
            ahead >= Duration::from_secs(58) && ahead <= Duration::from_secs(61),
            "{ahead:?}"
        );
        assert!(ScaledClock::parse("fast").is_none());
        assert!(ScaledClock::parse("0.5@0").is_none());
    }
}
