//! The one scrubber: removes every form of every known secret from a text built from outside
//! data (error messages, log lines), and finds the secrets a response body carries.

use crate::encoding::{percent_decode_mapped, percent_encode_with};

/// What a removed secret becomes in a message.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not searched for: they would blank out ordinary words.
const MIN_SECRET: usize = 4;

/// Names of the fields whose values are secrets, in every response format the package reads.
const SECRET_FIELDS: &[&str] = &[
    "AccessKeySecret",
    "accessKeySecret",
    "SecurityToken",
    "securityToken",
    "access_token",
    "refresh_token",
    "AccessToken",
    "RefreshToken",
];

/// JSON string escaping, as serde and `JSON.stringify` write it, without the quotes.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// [`json_escaped`] with every non-ASCII character as `\uXXXX` (UTF-16 units), as Python's
/// `json.dumps` and other encoders with ASCII output write it.
fn json_escaped_ascii(value: &str, upper: bool) -> String {
    let mut out = String::new();
    for c in json_escaped(value).chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            if upper {
                out.push_str(&format!("\\u{unit:04X}"));
            } else {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Every form `secret` can take in a text built from a request or a response: raw, JSON-escaped
/// (once, twice, with `\/`), and percent-encoded as every encoder writes it (RFC 3986,
/// `encodeURIComponent`, form encoding with `+`, `URLSearchParams`; upper or lower case hex).
fn forms(secret: &str) -> Vec<String> {
    let json = json_escaped(secret);
    let mut all = vec![
        secret.to_owned(),
        json_escaped(&json),
        json.replace('/', "\\/"),
        json,
    ];
    if !secret.is_ascii() {
        for upper in [false, true] {
            let ascii = json_escaped_ascii(secret, upper);
            all.push(json_escaped(&ascii));
            all.push(ascii);
        }
    }
    for keep in ["", "*", "!'()*"] {
        for plus in [false, true] {
            for lower in [false, true] {
                all.push(percent_encode_with(secret, keep, plus, lower));
            }
        }
    }
    all.sort_by_key(|f| std::cmp::Reverse(f.len()));
    all.dedup();
    all
}

/// The one scrubber: `text` with every form (see [`forms`]) of every secret in `secrets`
/// replaced by `<redacted>`. Every message or log line built from outside data passes through it
/// with every secret known at that point (the configured ones and those of the response). If a
/// secret could still be found afterwards (a replacement that makes a new occurrence), the whole
/// text is withheld.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut all: Vec<String> = secrets
        .iter()
        .filter(|s| s.len() >= MIN_SECRET)
        .flat_map(|s| forms(s))
        .filter(|f| f.len() >= MIN_SECRET)
        .collect();
    all.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut out = text.to_owned();
    for f in &all {
        if out.contains(f.as_str()) {
            out = out.replace(f.as_str(), REDACTED);
        }
    }
    // Echoes re-encoded by encoders of their own (mixed-case hex, `encodeURI`, Python's `quote`,
    // Java's `URLEncoder`, our encoded query encoded again): found in the decoded text and
    // redacted where they came from.
    let mut raw: Vec<&[u8]> = secrets
        .iter()
        .filter(|s| s.len() >= MIN_SECRET)
        .map(|s| s.as_bytes())
        .collect();
    raw.sort_unstable();
    raw.dedup();
    for plus in [false, true] {
        out = redact_decoded(&out, &raw, plus);
    }
    // A message part shortened by a length limit may end with the first characters of a secret.
    out = out
        .split(CUT)
        .map(|part| redact_cut_tail(part, &all, &raw))
        .collect::<Vec<_>>()
        .join(CUT);
    let hidden = [false, true]
        .iter()
        .any(|plus| !decoded_matches(&out, &raw, *plus).is_empty());
    if hidden || all.iter().any(|f| out.contains(f.as_str())) {
        return "<text withheld: it held a secret>".to_owned();
    }
    out
}

/// What [`crate::error::truncate`] puts where it cuts.
const CUT: &str = "...";

/// `part` with a trailing beginning of a secret (at least [`MIN_SECRET`] bytes) redacted: the
/// beginning of one of its `forms`, or text that percent-decodes (once or twice, in any case, a
/// cut escape at its end dropped) to the beginning of one of `secrets`.
fn redact_cut_tail(part: &str, forms: &[String], secrets: &[&[u8]]) -> String {
    let by_form = forms
        .iter()
        .filter_map(|f| {
            (MIN_SECRET..f.len().min(part.len() + 1))
                .rev()
                .find(|&k| f.is_char_boundary(k) && part.ends_with(&f[..k]))
        })
        .max()
        .map(|k| part.len() - k);
    // An encoded beginning is at most 9 bytes (`%25XX` twice) a byte of the secret.
    let longest = secrets.iter().map(|s| s.len()).max().unwrap_or(0);
    let from = part.len().saturating_sub(9 * longest + 9);
    // The first bytes of every secret, to try only the tails that can begin one.
    let heads: std::collections::HashSet<&[u8]> =
        secrets.iter().map(|s| &s[..MIN_SECRET]).collect();
    let by_decoding = (from..part.len().saturating_sub(MIN_SECRET - 1))
        .filter(|&j| part.is_char_boundary(j))
        .find(|&j| {
            decoded_tails(&part[j..]).iter().any(|t| {
                t.len() >= MIN_SECRET
                    && heads.contains(&t[..MIN_SECRET])
                    && secrets.iter().any(|s| s.starts_with(t))
            })
        });
    match [by_form, by_decoding].into_iter().flatten().min() {
        Some(j) => format!("{}{REDACTED}", &part[..j]),
        None => part.to_owned(),
    }
}

/// `tail` as it is and percent-decoded once and twice (`+` kept or read as a space), a cut escape
/// at its end dropped before each decoding.
fn decoded_tails(tail: &str) -> Vec<Vec<u8>> {
    fn cut_escape(mut bytes: Vec<u8>) -> Vec<u8> {
        let n = bytes.len();
        if n >= 1 && bytes[n - 1] == b'%' {
            bytes.truncate(n - 1);
        } else if n >= 2 && bytes[n - 2] == b'%' && bytes[n - 1].is_ascii_hexdigit() {
            bytes.truncate(n - 2);
        }
        bytes
    }
    let mut all = vec![tail.as_bytes().to_vec()];
    for plus in [false, true] {
        let mut bytes = tail.as_bytes().to_vec();
        for _ in 0..2 {
            bytes = percent_decode_mapped(&cut_escape(bytes), plus).0;
            all.push(bytes.clone());
        }
    }
    all
}

/// The byte ranges of `text` that decode (once or twice) to one of `secrets`.
fn decoded_matches(text: &str, secrets: &[&[u8]], plus: bool) -> Vec<(usize, usize)> {
    let (once, map1) = percent_decode_mapped(text.as_bytes(), plus);
    let (twice, map2) = percent_decode_mapped(&once, plus);
    let mut found = Vec::new();
    for s in secrets {
        for (start, end) in occurrences(&once, s) {
            found.push((map1[start].0, map1[end - 1].1));
        }
        for (start, end) in occurrences(&twice, s) {
            found.push((map1[map2[start].0].0, map1[map2[end - 1].1 - 1].1));
        }
    }
    found
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> Vec<(usize, usize)> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return Vec::new();
    }
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| (i, i + needle.len()))
        .collect()
}

fn redact_decoded(text: &str, secrets: &[&[u8]], plus: bool) -> String {
    let mut ranges = decoded_matches(text, secrets, plus);
    if ranges.is_empty() {
        return text.to_owned();
    }
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        let start = start.max(at);
        if start >= end {
            continue;
        }
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            // Cannot happen for UTF-8 secrets; the caller withholds the text if a secret is left.
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The secret values a response body carries (credentials, OAuth tokens), found in JSON at any
/// depth, inside JSON-encoded strings too (a double-encoded document), for [`scrub`].
pub fn secrets_in(body: &[u8]) -> Vec<String> {
    fn walk(value: &serde_json::Value, depth: usize, found: &mut Vec<String>) {
        if depth > 8 {
            return;
        }
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if let (true, Some(s)) = (SECRET_FIELDS.contains(&k.as_str()), v.as_str()) {
                        found.push(s.to_owned());
                    }
                    walk(v, depth + 1, found);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, depth + 1, found);
                }
            }
            serde_json::Value::String(s) if s.trim_start().starts_with(['{', '[', '"']) => {
                if let Ok(inner) = serde_json::from_str(s) {
                    walk(&inner, depth + 1, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Ok(value) = serde_json::from_slice(body) {
        walk(&value, 0, &mut found);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::percent_encode;

    #[test]
    fn scrub_removes_every_form() {
        let secret = "Ab+/ \"\\&=é*x!'()9";
        let json = serde_json::Value::String(secret.into()).to_string();
        let json = &json[1..json.len() - 1];
        let texts = [
            secret.to_owned(),
            json.to_owned(),
            serde_json::Value::String(json.into()).to_string(),
            json.replace('/', "\\/"),
            percent_encode_with(secret, "", false, false),
            percent_encode_with(secret, "", false, true),
            percent_encode_with(secret, "*", true, false),
            // form encoding with every reserved character encoded (found by the fuzzer)
            "Ab%2B%2F+%22%5C%26%3D%C3%A9%2Ax%21%27%28%299".to_owned(),
            "Ab%2B%2F%20%22%5C%26%3D%C3%A9*x!'()9".to_owned(),
        ];
        for t in texts {
            let out = scrub(&format!("before {t} after"), &[secret]);
            assert_eq!(out.matches(REDACTED).count(), 1, "{t} -> {out}");
            assert!(
                out.starts_with("before ") && out.ends_with(" after"),
                "{out}"
            );
        }
        assert_eq!(
            scrub("abc", &["ab"]),
            "abc",
            "short secrets are not searched"
        );
        // A replacement that makes a new occurrence: the text is withheld.
        assert!(!scrub("<redacted", &["<redacted"]).contains("<redacted"));
    }

    #[test]
    fn secrets_are_found_in_double_encoded_documents() {
        let doc = r#"{"AccessKeySecret":"s-1","Nested":{"SecurityToken":"t-1"}}"#;
        let double = serde_json::Value::String(doc.into()).to_string();
        let mut found = secrets_in(double.as_bytes());
        found.sort();
        assert_eq!(found, ["s-1", "t-1"]);
        assert!(secrets_in(b"not json").is_empty());
    }

    /// A random secret shaped like an STS token (base64: `+`, `/`, `=` included).
    fn random_token() -> String {
        use base64::Engine;
        let mut bytes = [0u8; 45];
        getrandom::getrandom(&mut bytes).unwrap();
        // Make sure the characters that encoders disagree on are there.
        format!(
            "CAIS/{}+x=",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    fn error_of(status: u16, body: &str, secrets: &[&str]) -> String {
        let response = crate::http::Response {
            status,
            body: body.as_bytes().to_vec(),
        };
        crate::http::finish(&response, secrets, |r| {
            Err::<(), _>(crate::http::status_error(
                crate::error::ErrorKind::Http,
                "p: ",
                r,
            ))
        })
        .unwrap_err()
        .message()
        .to_owned()
    }

    // The Message field is shortened before the scrubber sees it: a secret cut by the limit must
    // not leave its first characters behind.
    #[test]
    fn a_secret_cut_short_by_a_length_limit_leaves_no_prefix() {
        for pad in [250usize, 270, 290, 299] {
            let token = random_token();
            let echo =
                serde_json::json!({"Code": "E", "Message": format!("{}{token}", "x".repeat(pad))});
            let m = error_of(400, &echo.to_string(), &[&token]);
            assert!(!m.contains(&token[..6]), "pad {pad}: {m}");
            let secret_in_body = serde_json::json!({
                "Message": format!("{}{token}", "y".repeat(pad)),
                "AccessKeySecret": token,
            });
            let m = error_of(500, &secret_in_body.to_string(), &[]);
            assert!(!m.contains(&token[..6]), "pad {pad}: {m}");
            // Cut inside an echo encoded twice, or with lower-case hex.
            let twice = percent_encode(&percent_encode(&token));
            let lower = percent_encode_with(&token, "", false, true);
            for echoed in [twice, lower] {
                let echo = serde_json::json!({"Code": "E", "Message": format!("{}{echoed}", "z".repeat(pad))});
                let m = error_of(400, &echo.to_string(), &[&token]);
                assert!(!m.contains(&echoed[..8]), "pad {pad}: {m}");
            }
        }
    }

    // Gateways re-encode what they echo with encoders of their own: mixed-case hex, `encodeURI`
    // (keeps `/+=`), Python's `quote` (keeps `/`), Java's `URLEncoder` (`~` as `%7E`).
    #[test]
    fn partly_or_differently_percent_encoded_echoes_are_caught() {
        fn pct(s: &str, keep: &str, lower_every_other: bool) -> String {
            let mut out = String::new();
            for (i, b) in s.bytes().enumerate() {
                if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
                    out.push(b as char);
                } else if lower_every_other && i % 2 == 0 {
                    out.push_str(&format!("%{b:02x}"));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
        let token = random_token();
        let with_tilde = format!("{}~end", token);
        for (secret, echoed) in [
            (&token, pct(&token, "-_.~", true)),
            (&token, pct(&token, "-_.~/+=", false)),
            (&token, pct(&token, "-_.~/", false)),
            (&with_tilde, pct(&with_tilde, "-_.*", false)),
            // Our own query (already encoded) encoded again by the one that echoes it.
            (&token, pct(&pct(&token, "-_.~", false), "-_.~", false)),
        ] {
            let echo = serde_json::json!({"Code": "E", "Message": format!("you sent {echoed}")});
            let m = error_of(400, &echo.to_string(), &[secret]);
            assert!(!m.contains(&echoed), "{m}");
            assert!(!m.contains(secret.as_str()), "{m}");
        }
    }

    // Python's `json.dumps` (and Java's and Go's encoders with ASCII output) write every non-ASCII
    // character as `\uXXXX`: a gateway echoing our token that way must not show it.
    #[test]
    fn ascii_only_json_escaping_is_caught() {
        let token = format!("{}é\u{1F511}\u{7f}", random_token());
        let ascii = |s: &str, upper: bool| -> String {
            let json = serde_json::Value::String(s.to_owned()).to_string();
            let mut out = String::new();
            for unit in json[1..json.len() - 1].encode_utf16() {
                match char::from_u32(unit as u32) {
                    Some(c) if c.is_ascii() => out.push(c),
                    _ if upper => out.push_str(&format!("\\u{unit:04X}")),
                    _ => out.push_str(&format!("\\u{unit:04x}")),
                }
            }
            out
        };
        for echoed in [
            ascii(&token, false),
            ascii(&token, true),
            ascii(&ascii(&token, false), false),
        ] {
            let echo = serde_json::json!({"Code": "E", "Message": format!("sent {echoed}")});
            let m = error_of(400, &echo.to_string(), &[&token]);
            assert!(!m.contains(&echoed), "{m}");
            let body =
                serde_json::json!({"Message": format!("sent {echoed}"), "SecurityToken": token});
            let m = error_of(500, &body.to_string(), &[]);
            assert!(!m.contains(&echoed), "{m}");
        }
    }
}
