//! Retries inside one refresh: a blip (a reset or refused connection, one attempt timing out, an
//! HTTP 5xx, STS throttling) is tried again up to [`RETRIES`] times with jittered backoff before
//! the refresh counts as failed, all within the time one attempt may take. A refusal
//! (authentication, permission, a bad answer) is never retried: asking again gets the same no.
//! Classified on our error kinds and the answer's status and `Code`, so it holds whatever HTTP
//! client produced the error.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// Further attempts after the first, at most.
pub const RETRIES: u32 = 2;
/// The wait before the first retry, jittered down to half; doubled for the second.
pub const RETRY_BASE: Duration = Duration::from_millis(100);

/// Node's codes of network failures that say nothing about the request: the next attempt may
/// well get through. `ENOTFOUND` is not one: a name that does not resolve is a configuration
/// error far more often than a blip, and resolvers retry on their own.
const BLIP_CODES: &[&str] = &[
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "EPIPE",
    "ECONNABORTED",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EAI_AGAIN",
];

/// True when `e` is a blip worth another attempt within the same refresh.
pub fn is_blip(e: &Error) -> bool {
    if let Some(status) = e.http_status() {
        let throttled = e.server_code().is_some_and(|c| c.starts_with("Throttling"));
        return status >= 500 || status == 429 || throttled;
    }
    match e.kind() {
        ErrorKind::Timeout => true,
        ErrorKind::Http => e.node_code().is_some_and(|c| BLIP_CODES.contains(&c)),
        _ => false,
    }
}

/// The wait before retry number `retry` (1-based): [`RETRY_BASE`] doubled per retry, jittered.
pub fn retry_delay(retry: u32) -> Duration {
    super::policy::jittered(RETRY_BASE * (1 << retry.saturating_sub(1).min(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blips_and_refusals() {
        let e = |kind| Error::new(kind, "x");
        assert!(is_blip(&e(ErrorKind::Timeout)));
        for code in BLIP_CODES {
            assert!(is_blip(&e(ErrorKind::Http).with_node_code(code)), "{code}");
        }
        assert!(!is_blip(&e(ErrorKind::Http).with_node_code("ENOTFOUND")));
        assert!(!is_blip(&e(ErrorKind::Http)), "a protocol error");
        assert!(!is_blip(&e(ErrorKind::Tls)));
        for status in [500, 502, 503, 504, 429] {
            assert!(
                is_blip(&e(ErrorKind::Sts).with_answer(status, None)),
                "{status}"
            );
            assert!(
                is_blip(&e(ErrorKind::Http).with_answer(status, None)),
                "{status}"
            );
        }
        assert!(is_blip(
            &e(ErrorKind::Sts).with_answer(400, Some("Throttling.User"))
        ));
        assert!(is_blip(
            &e(ErrorKind::Sts).with_answer(400, Some("Throttling"))
        ));
        for (status, code) in [
            (400, Some("InvalidParameter")),
            (403, Some("NoPermission")),
            (404, Some("InvalidAccessKeyId.NotFound")),
            (400, Some("SignatureDoesNotMatch")),
            (401, None),
            (404, None),
        ] {
            assert!(
                !is_blip(&e(ErrorKind::Sts).with_answer(status, code)),
                "{status} {code:?}"
            );
        }
        assert!(!is_blip(&e(ErrorKind::InvalidSecret)));
        assert!(!is_blip(&e(ErrorKind::Response)));
        assert!(!is_blip(&e(ErrorKind::Provider)));
    }

    #[test]
    fn retry_delays_double_and_are_jittered() {
        for _ in 0..100 {
            let first = retry_delay(1);
            assert!(first >= RETRY_BASE / 2 && first <= RETRY_BASE, "{first:?}");
            let second = retry_delay(2);
            assert!(
                second >= RETRY_BASE && second <= RETRY_BASE * 2,
                "{second:?}"
            );
        }
    }
}
