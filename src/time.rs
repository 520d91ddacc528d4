//! Timestamps of the wire formats.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind, Result};

/// Parses an `Expiration`: `YYYY-MM-DDThh:mm:ssZ`, optionally with fractional seconds, or any
/// RFC 3339 time with an offset. A value that does not parse fails with the official package's
/// message for it (`invalid UTC format time string`, `invalid month value`, ...); the value itself
/// is never quoted.
pub fn parse_expiration(value: &str) -> Result<SystemTime> {
    let millis = parse_rfc3339_millis(value.trim()).ok_or_else(|| {
        let message = official_time_error(value).unwrap_or("invalid UTC format time string");
        Error::new(ErrorKind::Response, message)
    })?;
    if millis < 0 {
        return Err(Error::new(ErrorKind::Response, "expiration is before 1970"));
    }
    Ok(UNIX_EPOCH + Duration::from_millis(millis as u64))
}

/// Milliseconds since the epoch of an RFC 3339 time (`T`, `t` or a space between date and time;
/// `Z`, `z` or an offset), by chrono: a real calendar date; second 60 (a leap second) is the next
/// minute's first; fractions beyond milliseconds are cut.
fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `YYYY-MM-DDThh:mm:ssZ` of `t` (`YYYY-MM-DDThh:mm:ss.mmmZ` with `millis`), UTC; a time before
/// 1970 is 1970's start (nothing here is older).
pub fn format_utc(t: SystemTime, millis: bool) -> String {
    let t = t.max(UNIX_EPOCH);
    let format = if millis {
        chrono::SecondsFormat::Millis
    } else {
        chrono::SecondsFormat::Secs
    };
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(format, true)
}

/// JavaScript's `Number.parseInt(text, 10)`: leading blanks, a sign, then at least one digit.
fn js_parse_int(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..end].parse().ok()?;
    Some(if negative { -n } else { n })
}

/// The message the official `parseUTC` throws for `value`, or `None` where it accepts it (it
/// accepts impossible dates such as February 31, which JavaScript's `Date.UTC` rolls over).
fn official_time_error(value: &str) -> Option<&'static str> {
    let b = value.as_bytes();
    let at = |i: usize| b.get(i).copied();
    if value.is_empty() {
        return Some("invalid UTC format time string");
    }
    // The official counts UTF-16 units; only ASCII can be well formed, so bytes do here.
    match (value.chars().count(), b.len()) {
        (20, 20) => {
            if at(4) != Some(b'-')
                || at(7) != Some(b'-')
                || at(10) != Some(b'T')
                || at(13) != Some(b':')
                || at(16) != Some(b':')
                || at(19) != Some(b'Z')
            {
                return Some("invalid UTC format date string");
            }
        }
        (24, 24) => {
            if at(4) != Some(b'-')
                || at(7) != Some(b'-')
                || at(10) != Some(b'T')
                || at(13) != Some(b':')
                || at(16) != Some(b':')
                || at(19) != Some(b'.')
                || at(23) != Some(b'Z')
            {
                return Some("invalid UTC format date string");
            }
        }
        (20, _) | (24, _) => return Some("invalid UTC format date string"),
        _ => return Some("invalid UTC format time string"),
    }
    let field = |from: usize, to: usize| js_parse_int(&value[from..to]);
    // (from, to, not a number, out of range, min, max)
    type Check = (usize, usize, &'static str, Option<&'static str>, i64, i64);
    let checks: [Check; 6] = [
        (0, 4, "invalid year string", None, i64::MIN, i64::MAX),
        (
            5,
            7,
            "invalid month string",
            Some("invalid month value"),
            1,
            12,
        ),
        (
            8,
            10,
            "invalid date string",
            Some("invalid date value"),
            1,
            31,
        ),
        (
            11,
            13,
            "invalid hours string",
            Some("invalid hours value"),
            0,
            24,
        ),
        (
            14,
            16,
            "invalid minutes string",
            Some("invalid minutes value"),
            0,
            60,
        ),
        (
            17,
            19,
            "invalid seconds string",
            Some("invalid seconds value"),
            0,
            60,
        ),
    ];
    for (from, to, not_a_number, out_of_range, min, max) in checks {
        match field(from, to) {
            None => return Some(not_a_number),
            Some(n) if n < min || n > max => return out_of_range,
            Some(_) => {}
        }
    }
    if b.len() == 24 && field(20, 23).is_none() {
        return Some("invalid ms string");
    }
    None
}

/// `YYYY-MM-DDThh:mm:ssZ` of now, the STS `Timestamp`.
pub fn utc_timestamp() -> String {
    format_utc(SystemTime::now(), false)
}

/// `d` in whole milliseconds, saturating at `u32::MAX` (49 days, longer than any request
/// waits): how a value kept per live identity holds a timeout in 4 bytes instead of 16.
pub fn millis_u32(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Milliseconds since the epoch of now.
pub fn epoch_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
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
    fn errors_are_the_official_words() {
        let message = |v: &str| parse_expiration(v).unwrap_err().message().to_owned();
        assert_eq!(message(""), "invalid UTC format time string");
        assert_eq!(message("tomorrow"), "invalid UTC format time string");
        assert_eq!(
            message("2024/08/30T07:03:06Z"),
            "invalid UTC format date string"
        );
        assert_eq!(
            message("2024-08-30T07:03:06,117Z"),
            "invalid UTC format date string"
        );
        assert_eq!(message("abcd-08-30T07:03:06Z"), "invalid year string");
        assert_eq!(message("2024-xx-30T07:03:06Z"), "invalid month string");
        assert_eq!(message("2024-13-30T07:03:06Z"), "invalid month value");
        assert_eq!(message("2024-08-xxT07:03:06Z"), "invalid date string");
        assert_eq!(message("2024-08-32T07:03:06Z"), "invalid date value");
        assert_eq!(message("2024-08-30Txx:03:06Z"), "invalid hours string");
        assert_eq!(message("2024-08-30T25:03:06Z"), "invalid hours value");
        assert_eq!(message("2024-08-30T07:xx:06Z"), "invalid minutes string");
        assert_eq!(message("2024-08-30T07:61:06Z"), "invalid minutes value");
        assert_eq!(message("2024-08-30T07:03:xxZ"), "invalid seconds string");
        assert_eq!(message("2024-08-30T07:03:61Z"), "invalid seconds value");
        assert_eq!(message("2024-08-30T07:03:06.xxxZ"), "invalid ms string");
        // Accepted by the official (rolled over by Date.UTC), refused here: its generic words.
        assert_eq!(
            message("2024-02-31T07:03:06Z"),
            "invalid UTC format time string"
        );
        assert!(!message("2024-13-30T07:03:06Z-secret-value").contains("secret"));
    }

    #[test]
    fn accepted_forms() {
        let base = parse_expiration("2024-08-30T07:03:06Z").unwrap();
        for same in [
            "2024-08-30t07:03:06z",
            "2024-08-30 07:03:06Z",
            "  2024-08-30T07:03:06Z\n",
            "2024-08-30T07:03:06.000000000Z",
            "2024-08-30T09:33:06+02:30",
            "2024-08-29T21:03:06-10:00",
        ] {
            assert_eq!(parse_expiration(same).unwrap(), base, "{same}");
        }
        let ms = |v: &str| {
            parse_expiration(v)
                .unwrap()
                .duration_since(base)
                .unwrap()
                .as_millis()
        };
        assert_eq!(ms("2024-08-30T07:03:06.1Z"), 100);
        assert_eq!(ms("2024-08-30T07:03:06.123456789123Z"), 123);
        assert_eq!(
            ms("2024-08-30T07:03:60Z"),
            54_000,
            "a leap second is the next minute"
        );
        assert!(parse_expiration("2024-02-29T00:00:00Z").is_ok());
        assert!(parse_expiration("2000-02-29T00:00:00Z").is_ok());
        for bad in [
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:61Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00ZZ",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+0800",
            "2024-1-01T00:00:00Z",
            "+2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00\u{ff}Z",
            "2024-01-01\u{e9}00:00:00Z",
        ] {
            assert!(parse_expiration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_calendar_both_ways() {
        assert_eq!(format_utc(UNIX_EPOCH, false), "1970-01-01T00:00:00Z");
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(format_utc(at(951_782_400), false), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(at(4_102_444_800), false), "2100-01-01T00:00:00Z");
        assert_eq!(format_utc(at(1_725_001_386), false), "2024-08-30T07:03:06Z");
        assert_eq!(
            format_utc(at(1_725_001_386) + Duration::from_millis(7), true),
            "2024-08-30T07:03:06.007Z"
        );
        // Every day from 1970 to past 2400, at a spread of times of day, round trips.
        for day in 0..160_000u64 {
            let t = at(day * 86_400 + (day * 7919) % 86_400);
            let text = format_utc(t, false);
            assert_eq!(parse_expiration(&text).unwrap(), t, "{text}");
        }
    }

    #[test]
    fn timestamp_shape() {
        let t = utc_timestamp();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z'));
    }
}
