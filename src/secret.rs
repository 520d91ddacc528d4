//! A string that must never be printed: its `Debug` and `Display` are redacted and its bytes are
//! overwritten when it is dropped, so a secret does not linger in freed memory.

use std::fmt;

/// A secret string (AccessKey secret, security token, bearer token).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for signing and for handing to the caller who owns it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites the bytes of `s` (its whole capacity) with zeros in a way the optimiser keeps.
pub(crate) fn wipe(s: &mut String) {
    // SAFETY: the bytes become zeros, then the string is cleared: it stays valid UTF-8 (empty).
    wipe_bytes(unsafe { s.as_mut_vec() });
}

/// Overwrites a byte buffer (its whole capacity) with zeros and empties it.
pub(crate) fn wipe_bytes(vec: &mut Vec<u8>) {
    let len = vec.capacity();
    let ptr = vec.as_mut_ptr();
    for i in 0..len {
        // SAFETY: `i` is within the allocation of the vector; zero is a valid u8.
        unsafe { std::ptr::write_volatile(ptr.add(i), 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    vec.clear();
}

/// An AccessKey ID shown as its first and last four characters, for logs and descriptions.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

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

/// Percent-encoding of `value`: unreserved characters and those in `keep` stay, a space becomes
/// `+` when `plus` (form encoding), the rest `%XX` in `lower` or upper case hex.
fn encode(value: &str, keep: &str, plus: bool, lower: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ if keep.as_bytes().contains(&b) => out.push(b as char),
            b' ' if plus => out.push('+'),
            _ if lower => out.push_str(&format!("%{b:02x}")),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// JSON string escaping, as serde and `JSON.stringify` write it, without the quotes.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
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
    for keep in ["", "*", "!'()*"] {
        for plus in [false, true] {
            for lower in [false, true] {
                all.push(encode(secret, keep, plus, lower));
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
    if all.iter().any(|f| out.contains(f.as_str())) {
        return "<text withheld: it held a secret>".to_owned();
    }
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

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "\"<redacted>\"");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn wipe_zeroes_capacity() {
        let mut s = String::with_capacity(32);
        s.push_str("abcdef");
        wipe(&mut s);
        assert!(s.is_empty());
        let v = unsafe { s.as_mut_vec() };
        let bytes = unsafe { std::slice::from_raw_parts(v.as_ptr(), v.capacity()) };
        assert!(bytes.iter().all(|b| *b == 0));
    }

    #[test]
    fn mask_keeps_ends() {
        assert_eq!(mask_id("LTAI5tABCDEFGH1234"), "LTAI****1234");
        assert_eq!(mask_id("short"), "*****");
    }

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
            encode(secret, "", false, false),
            encode(secret, "", false, true),
            encode(secret, "*", true, false),
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
}
