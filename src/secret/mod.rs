//! A string that must never be printed: its `Debug` and `Display` are redacted and its bytes are
//! overwritten when it is dropped, so a secret does not linger in freed memory.

mod scrub;

use std::fmt;

pub use scrub::*;

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
}
