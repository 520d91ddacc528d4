//! Timestamps of the wire formats.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::{Error, ErrorKind, Result};

/// Parses an `Expiration`: `YYYY-MM-DDThh:mm:ssZ`, optionally with fractional seconds, or any
/// RFC 3339 time with an offset.
pub fn parse_expiration(value: &str) -> Result<SystemTime> {
    let value = value.trim();
    let parsed = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%SZ")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.fZ"))
        .map(|naive| naive.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(value).map(|d| d.with_timezone(&Utc)));
    let datetime = parsed.map_err(|_| {
        Error::new(
            ErrorKind::Response,
            format!("invalid UTC format time string: {:?}", truncate(value, 40)),
        )
    })?;
    let millis = datetime.timestamp_millis();
    if millis < 0 {
        return Err(Error::new(ErrorKind::Response, "expiration is before 1970"));
    }
    Ok(UNIX_EPOCH + Duration::from_millis(millis as u64))
}

/// `YYYY-MM-DDThh:mm:ssZ` of now, the STS `Timestamp`.
pub fn utc_timestamp() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Milliseconds since the epoch of now.
pub fn epoch_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// `s` cut to at most `max` characters, for echoing untrusted input in messages.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_sts_forms() {
        let a = parse_expiration("2024-08-30T07:03:06Z").unwrap();
        let b = parse_expiration("2024-08-30T07:03:06.117Z").unwrap();
        assert_eq!(b.duration_since(a).unwrap(), Duration::from_millis(117));
        assert_eq!(
            a.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_725_001_386
        );
        let c = parse_expiration("2024-08-30T15:03:06+08:00").unwrap();
        assert_eq!(a, c);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "tomorrow",
            "2024-13-01T00:00:00Z",
            "2024-08-30 07:03:06",
            "1969-12-31T23:59:59Z",
        ] {
            assert!(parse_expiration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamp_shape() {
        let t = utc_timestamp();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z'));
    }
}
