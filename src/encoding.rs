//! The encodings requests are built with: RFC 3986 percent-encoding (and its decoding), form
//! bodies, and nonces. The scrubber uses the same functions to find a secret in every encoding.

/// RFC 3986 percent-encoding: unreserved characters stay, everything else is `%XX` (upper case).
pub fn percent_encode(value: &str) -> String {
    percent_encode_with(value, "", false, false)
}

/// Percent-encoding of `value`: unreserved characters and those in `keep` stay, a space becomes
/// `+` when `plus` (form encoding), the rest `%XX` in `lower` or upper case hex.
pub fn percent_encode_with(value: &str, keep: &str, plus: bool, lower: bool) -> String {
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

/// `k=v` pairs joined by `&`, keys and values percent-encoded: a form body or a query string.
pub fn form<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encode(k.as_ref()),
                percent_encode(v.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `text` with its `%XX` escapes decoded (`+` stays), lossy for bytes that are not UTF-8.
pub fn percent_decode(text: &str) -> String {
    String::from_utf8_lossy(&percent_decode_mapped(text.as_bytes(), false).0).into_owned()
}

/// `text` percent-decoded (`+` as a space when `plus`), with the byte range of `text` each
/// decoded byte came from.
pub fn percent_decode_mapped(text: &[u8], plus: bool) -> (Vec<u8>, Vec<(usize, usize)>) {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let mut out = Vec::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' && i + 2 < text.len() {
            if let (Some(h), Some(l)) = (hex(text[i + 1]), hex(text[i + 2])) {
                out.push(h * 16 + l);
                map.push((i, i + 3));
                i += 3;
                continue;
            }
        }
        out.push(if plus && text[i] == b'+' {
            b' '
        } else {
            text[i]
        });
        map.push((i, i + 1));
        i += 1;
    }
    (out, map)
}

/// A unique nonce: 16 random bytes in hex.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Fall back to time and a counter: unique within this process, which is what STS needs.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        bytes[..8].copy_from_slice(&millis.to_le_bytes());
        bytes[8..].copy_from_slice(&n.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_is_rfc3986() {
        assert_eq!(percent_encode("a b*c~d'(e)!"), "a%20b%2Ac~d%27%28e%29%21");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("A-Z_a.z~09"), "A-Z_a.z~09");
    }

    #[test]
    fn form_and_decoding() {
        assert_eq!(form([("a b", "c&d"), ("é", "=")]), "a%20b=c%26d&%C3%A9=%3D");
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%C3%A9+"), "é+");
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
