//! Debug logging, switched on the way Node users switch on the `debug` package:
//! `DEBUG=alicloud-credentials*` (or a single namespace such as `alicloud-credentials:session`;
//! comma- or space-separated patterns, `*` wildcards, `-pattern` to exclude). Lines go to stderr as
//! `<ISO time> <namespace> <message>`. Messages carry provider names, masked AccessKey IDs, URLs
//! without queries, timings and error messages; never a secret.

use std::sync::OnceLock;

/// The namespace prefix of every line.
pub const PREFIX: &str = "alicloud-credentials";

struct Patterns {
    include: Vec<String>,
    exclude: Vec<String>,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| parse(&std::env::var("DEBUG").unwrap_or_default()))
}

fn parse(spec: &str) -> Patterns {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for part in spec
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part.strip_prefix('-') {
            Some(rest) => exclude.push(rest.to_owned()),
            None => include.push(part.to_owned()),
        }
    }
    Patterns { include, exclude }
}

/// `*`-wildcard match of `name` against `pattern`.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn matches(p: &Patterns, namespace: &str) -> bool {
    p.include.iter().any(|pat| glob(pat, namespace))
        && !p.exclude.iter().any(|pat| glob(pat, namespace))
}

/// True when lines of `alicloud-credentials:<topic>` are printed.
pub fn enabled(topic: &str) -> bool {
    let p = patterns();
    !p.include.is_empty() && matches(p, &format!("{PREFIX}:{topic}"))
}

/// Prints one line for `topic` when it is enabled; `message` is only built then. A line that
/// cannot be written (stderr closed, a full disk) is dropped: logging never fails the caller
/// (`eprintln!` would panic there).
pub fn debug(topic: &str, message: impl FnOnce() -> String) {
    if enabled(topic) {
        use std::io::Write;
        let now = crate::time::format_utc(std::time::SystemTime::now(), true);
        let line = format!("{now} {PREFIX}:{topic} {}\n", message());
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_package_patterns() {
        let p = parse("alicloud-credentials*,-alicloud-credentials:http");
        assert!(matches(&p, "alicloud-credentials:session"));
        assert!(!matches(&p, "alicloud-credentials:http"));
        assert!(!matches(&p, "express:router"));
        let p = parse("express:* alicloud-credentials:session");
        assert!(matches(&p, "alicloud-credentials:session"));
        assert!(!matches(&p, "alicloud-credentials:chain"));
        assert!(matches(&parse("*"), "alicloud-credentials:chain"));
        assert!(glob("a*c*e", "abcde"));
        assert!(!glob("a*c*e", "abcd"));
    }
}
