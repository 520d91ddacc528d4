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

/// Milliseconds since the epoch of `YYYY-MM-DD(T|t| )hh:mm:ss[.fraction](Z|z|+hh:mm|-hh:mm)`, a
/// real calendar date; second 60 (a leap second) is the next minute's first. Fractions beyond
/// milliseconds are cut.
fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize| b.get(i).copied();
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let separators_ok = at(4) == Some(b'-')
        && at(7) == Some(b'-')
        && matches!(at(10), Some(b'T' | b't' | b' '))
        && at(13) == Some(b':')
        && at(16) == Some(b':');
    let in_range = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60;
    if !separators_ok || !in_range {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if at(i) == Some(b'.') {
        let start = i + 1;
        i = start;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        let fraction = &b[start..i];
        if fraction.is_empty() {
            return None;
        }
        millis = (0..3).fold(0i64, |n, k| {
            n * 10 + fraction.get(k).map_or(0, |d| i64::from(d - b'0'))
        });
    }
    let offset_minutes = match at(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && at(i + 3) == Some(b':') => {
            let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (eras of 400 years; years counted from
/// March, so February's length only matters at the end of one).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count from 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DDThh:mm:ssZ` of `t` (`YYYY-MM-DDThh:mm:ss.mmmZ` with `millis`), UTC; a time before
/// 1970 is 1970's start (nothing here is older).
pub fn format_utc(t: SystemTime, millis: bool) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    let (h, m, s) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    if millis {
        let ms = since.subsec_millis();
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
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

    /// chrono (a dev-dependency only) as an independent reference over the accepted grammar and
    /// just outside it (month 13, day 32, hour 24, ...).
    #[test]
    fn agrees_with_chrono() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        for _ in 0..200_000 {
            let year = 1970 + next(500);
            let (month, day) = (next(14), next(33));
            let (h, m, s) = (next(25), next(61), next(62));
            let fraction = match next(3) {
                0 => String::new(),
                _ => format!(".{:0width$}", next(1_000_000_000) % 10u64.pow(9), width = 9)
                    [..2 + next(9) as usize]
                    .to_owned(),
            };
            let zone = match next(3) {
                0 => "Z".to_owned(),
                _ => format!(
                    "{}{:02}:{:02}",
                    if next(2) == 0 { '+' } else { '-' },
                    next(25),
                    next(61)
                ),
            };
            let text =
                format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}{fraction}{zone}");
            let ours = parse_rfc3339_millis(&text);
            let reference = chrono::DateTime::parse_from_rfc3339(&text)
                .ok()
                .map(|d| d.timestamp_millis());
            assert_eq!(ours, reference, "{text}");
        }
    }

    #[test]
    fn timestamp_shape() {
        let t = utc_timestamp();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z'));
    }
}
