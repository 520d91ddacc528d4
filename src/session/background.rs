//! `asyncCredentialUpdateEnabled`: refresh ahead of callers for as long as the cache lives. The
//! loop holds only a weak reference, so it never keeps a process alive and ends with the cache.

use std::sync::Weak;
use std::time::Duration;

use super::cache::SessionCache;

/// Runs until the cache is dropped or closed.
pub(super) async fn run(cache: Weak<SessionCache>) {
    loop {
        let wait = match cache.upgrade() {
            Some(c) if !c.lock().stopped => c.next_wake(),
            _ => return,
        };
        // Tokio's timers run on the monotonic clock, which stands still while the machine sleeps
        // and ignores steps of the wall clock: wake at least every 10 s to re-check the window
        // (a wall-clock time) and to notice that the credential was dropped.
        tokio::time::sleep(wait.clamp(Duration::from_millis(50), Duration::from_secs(10))).await;
        let Some(c) = cache.upgrade() else { return };
        if c.lock().stopped {
            return;
        }
        if c.background_due() {
            let _guard = c.refresh_lock.lock().await;
            let _ = c.refresh_locked().await;
        }
    }
}
