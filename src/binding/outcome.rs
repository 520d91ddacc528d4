//! What goes back to JavaScript, and the guard that keeps a Rust panic from reaching Node.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::credentials::{CredentialFields, Credentials};
use crate::error::{Error as CoreError, ErrorKind, Result as CoreResult};

/// A failure, as data: `index.js` turns it into an `Error` with `message` and `code`, so the
/// stack trace starts in the caller's code rather than in a native frame.
#[napi(object)]
pub struct NativeFailure {
    pub code: String,
    pub message: String,
}

impl From<CoreError> for NativeFailure {
    fn from(e: CoreError) -> Self {
        NativeFailure {
            code: e.code().to_owned(),
            message: e.message().to_owned(),
        }
    }
}

/// The outcome of an asynchronous call: exactly one of `value` and `error` is set.
#[napi(object)]
pub struct NativeOutcome {
    pub value: Option<NativeCredentials>,
    pub error: Option<NativeFailure>,
}

impl From<CoreResult<Credentials>> for NativeOutcome {
    fn from(r: CoreResult<Credentials>) -> Self {
        match r {
            Ok(credentials) => NativeOutcome {
                value: Some(credentials.into()),
                error: None,
            },
            Err(e) => NativeOutcome {
                value: None,
                error: Some(e.into()),
            },
        }
    }
}

/// Throws `e` as a JavaScript `Error` with its `code`, for synchronous calls.
pub(super) fn throw(env: &Env, e: CoreError) -> napi::Error {
    crate::log::debug("error", || format!("{}: {}", e.code(), e.message()));
    match env.throw_error(e.message(), Some(e.code())) {
        Ok(()) => napi::Error::from_status(Status::PendingException),
        Err(err) => err,
    }
}

/// Credentials crossing the boundary, both ways: a resolved credential going to JavaScript (every
/// field the native side has, with how long it may be reused without asking again) and what a
/// JavaScript provider's `getCredentials()` resolved to, normalised by `providers.js` (its keys,
/// secrets and name only).
#[napi(object)]
pub struct NativeCredentials {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub bearer_token: Option<String>,
    /// Empty for bearer credentials.
    pub provider_name: Option<String>,
    /// Milliseconds since the epoch until which the snapshot may be served; `Infinity` for ever.
    /// Always set going to JavaScript.
    pub reuse_until: Option<f64>,
    /// Milliseconds since the epoch when the credentials expire, for session credentials.
    pub expiration: Option<f64>,
    /// Milliseconds since the epoch from when the native side stops handing these credentials
    /// out (the safety margin before `expiration`); absent when they do not expire. Going to
    /// JavaScript only.
    pub serve_until: Option<f64>,
}

fn epoch_ms(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as f64,
        Err(_) => 0.0,
    }
}

impl From<Credentials> for NativeCredentials {
    fn from(c: Credentials) -> Self {
        NativeCredentials {
            access_key_id: Some(c.access_key_id.clone()),
            access_key_secret: Some(c.access_key_secret.expose().to_owned()),
            security_token: c.security_token.as_ref().map(|s| s.expose().to_owned()),
            bearer_token: c.bearer_token.as_ref().map(|s| s.expose().to_owned()),
            provider_name: Some(c.provider_name.clone()),
            reuse_until: Some(c.reuse_until.map_or(f64::INFINITY, epoch_ms)),
            expiration: c.expiration.map(epoch_ms),
            serve_until: c.serve_until.or(c.expiration).map(epoch_ms),
        }
    }
}

impl From<NativeCredentials> for CredentialFields {
    fn from(c: NativeCredentials) -> Self {
        let NativeCredentials {
            access_key_id,
            access_key_secret,
            security_token,
            provider_name,
            // A JavaScript provider gives keys and a name only; it caches on its own terms.
            bearer_token: _,
            reuse_until: _,
            expiration: _,
            serve_until: _,
        } = c;
        CredentialFields {
            access_key_id,
            access_key_secret,
            security_token,
            provider_name,
            expiration: None,
        }
    }
}

/// One step of a chain's last pass.
#[napi(object)]
pub struct NativeStep {
    pub provider: String,
    /// `used`, `failed` or `not tried`.
    pub outcome: String,
    pub reason: Option<String>,
}

/// A secret-free description of a credential (see `describe()` in `index.d.ts`).
#[napi(object)]
pub struct NativeDescription {
    pub provider_name: Option<String>,
    pub access_key_id: Option<String>,
    /// RFC 3339 UTC.
    pub expiration: Option<String>,
    /// RFC 3339 UTC.
    pub next_refresh: Option<String>,
    pub endpoint: Option<String>,
    pub steps: Vec<NativeStep>,
    pub error: Option<NativeFailure>,
}

impl From<crate::diagnostics::Description> for NativeDescription {
    fn from(d: crate::diagnostics::Description) -> Self {
        NativeDescription {
            provider_name: d.provider_name,
            access_key_id: d.access_key_id,
            expiration: d.expiration.map(crate::session::rfc3339),
            next_refresh: d.next_refresh.map(crate::session::rfc3339),
            endpoint: d.endpoint,
            steps: d
                .steps
                .into_iter()
                .map(|s| NativeStep {
                    provider: s.provider,
                    outcome: s.outcome.to_owned(),
                    reason: s.reason,
                })
                .collect(),
            error: d.error.map(NativeFailure::from),
        }
    }
}

/// The error a caught panic becomes: a bug of ours, reported without its text (which could quote
/// data).
fn panicked() -> CoreError {
    crate::log::debug("error", || {
        "a panic was caught at the N-API boundary".to_owned()
    });
    CoreError::new(
        ErrorKind::Internal,
        "alicloud-credentials-native: internal error (a bug; please report it)",
    )
}

/// Runs `f`; a panic becomes an error instead of unwinding into Node.
pub(super) fn guard<T>(f: impl FnOnce() -> CoreResult<T>) -> CoreResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(panicked()))
}

/// A future whose panic, at any poll, becomes an error.
pub(super) struct Guarded<F>(Pin<Box<F>>);

/// Guards `future` as [`guard`] guards a call.
pub(super) fn guarded<T, F: Future<Output = CoreResult<T>>>(future: F) -> Guarded<F> {
    Guarded(Box::pin(future))
}

impl<T, F: Future<Output = CoreResult<T>>> Future for Guarded<F> {
    type Output = CoreResult<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))
            .unwrap_or_else(|_| Poll::Ready(Err(panicked())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_call_becomes_an_internal_error() {
        let r: CoreResult<()> = guard(|| panic!("boom with data"));
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(!e.message().contains("boom"));
        assert_eq!(guard(|| Ok(7)).unwrap(), 7);
    }

    #[tokio::test]
    async fn a_future_that_panics_at_a_later_poll_becomes_an_internal_error() {
        let r: CoreResult<()> = guarded(async {
            tokio::task::yield_now().await;
            panic!("boom after a yield")
        })
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Internal);
    }
}
