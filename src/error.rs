//! The one error type of the core. Every failure a user can see is an [`Error`] with a stable
//! [`ErrorKind`] (exposed to JavaScript as the `code` property, or Node's code for a network
//! failure) and a message that never contains a secret: messages are built from option names,
//! provider names, URLs and server error fields, and whatever came from a server passes through
//! the one scrubber (`secret::scrub`, applied by `http::fetch`).

use std::fmt;

/// What went wrong, as a category a caller can branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A required option is missing or an option has an invalid value.
    InvalidConfig,
    /// The credential type exists in the official package but is not supported here.
    Unsupported,
    /// No source had credentials (environment, chain).
    NotFound,
    /// A credential source is disabled by configuration or environment.
    Disabled,
    /// STS answered with an error.
    Sts,
    /// STS rejected the signature and its string-to-sign equals ours: the secret is wrong.
    InvalidSecret,
    /// The request did not complete within its timeout.
    Timeout,
    /// Connecting, sending or receiving failed.
    Http,
    /// The certificate of the server was refused.
    Tls,
    /// A server answered with a body we could not use.
    Response,
    /// A profile file is missing, unreadable or malformed.
    Profile,
    /// A user-supplied provider failed.
    Provider,
    /// A bug of ours (a caught panic).
    Internal,
}

impl ErrorKind {
    /// Every kind, for reading a kind back from its code ([`ErrorKind::from_code`]).
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::InvalidConfig,
        ErrorKind::Unsupported,
        ErrorKind::NotFound,
        ErrorKind::Disabled,
        ErrorKind::Sts,
        ErrorKind::InvalidSecret,
        ErrorKind::Timeout,
        ErrorKind::Http,
        ErrorKind::Tls,
        ErrorKind::Response,
        ErrorKind::Profile,
        ErrorKind::Provider,
        ErrorKind::Internal,
    ];

    /// The kind whose [`ErrorKind::code`] is `code` (an error read back from a file).
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The stable `code` string JavaScript sees on the error.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "ERR_CREDENTIALS_INVALID_CONFIG",
            ErrorKind::Unsupported => "ERR_CREDENTIALS_UNSUPPORTED",
            ErrorKind::NotFound => "ERR_CREDENTIALS_NOT_FOUND",
            ErrorKind::Disabled => "ERR_CREDENTIALS_DISABLED",
            ErrorKind::Sts => "ERR_CREDENTIALS_STS",
            ErrorKind::InvalidSecret => "ERR_CREDENTIALS_INVALID_SECRET",
            ErrorKind::Timeout => "ERR_CREDENTIALS_TIMEOUT",
            ErrorKind::Http => "ERR_CREDENTIALS_HTTP",
            ErrorKind::Tls => "ERR_CREDENTIALS_TLS",
            ErrorKind::Response => "ERR_CREDENTIALS_RESPONSE",
            ErrorKind::Profile => "ERR_CREDENTIALS_PROFILE",
            ErrorKind::Provider => "ERR_CREDENTIALS_PROVIDER",
            ErrorKind::Internal => "ERR_CREDENTIALS_INTERNAL",
        }
    }
}

/// A credential error: a kind and a human-readable, secret-free message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// Node's `code` for a network failure (`ECONNREFUSED`, `ETIMEDOUT`, ...).
    node_code: Option<&'static str>,
    /// The HTTP status of the answer this error describes, when a server answered.
    http_status: Option<u16>,
    /// The server's error `Code` (`Throttling.User`, ...), for classification; never shown.
    server_code: Option<String>,
}

impl Error {
    /// An error of `kind` with `message`. The message must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            node_code: None,
            http_status: None,
            server_code: None,
        }
    }

    /// The same error recording the server's answer: its HTTP status and error `Code`, which
    /// the session layer reads to tell a blip (5xx, throttling) from a refusal.
    pub fn with_answer(mut self, status: u16, server_code: Option<&str>) -> Self {
        self.http_status = Some(status);
        self.server_code = server_code.map(|c| truncate(c, 64));
        self
    }

    /// The HTTP status of the server's answer, when the error describes one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The server's error `Code`, when the error describes an answer that had one.
    pub fn server_code(&self) -> Option<&str> {
        self.server_code.as_deref()
    }

    /// Node's `code` of a network failure, when the error is one.
    pub fn node_code(&self) -> Option<&'static str> {
        self.node_code
    }

    /// The same error carrying Node's `code` for a network failure (`ECONNREFUSED`, `ETIMEDOUT`,
    /// `ENOTFOUND`, `ECONNRESET`), as Node's own errors do.
    pub fn with_node_code(mut self, code: &'static str) -> Self {
        self.node_code = Some(code);
        self
    }

    /// The `code` JavaScript sees: Node's code for a network failure, else the stable kind code.
    pub fn code(&self) -> &'static str {
        self.node_code.unwrap_or_else(|| self.kind.code())
    }

    /// The same error with its message passed through the scrubber with `secrets`.
    pub fn scrubbed(mut self, secrets: &[&str]) -> Self {
        self.message = crate::secret::scrub(&self.message, secrets);
        self
    }

    /// The same error with `prefix` before its message.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}{}", self.message);
        self
    }

    /// Shorthand for [`ErrorKind::InvalidConfig`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidConfig, message)
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, identical to the official package's where it has one.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `body` decoded as JSON into `T`; a failure is a [`ErrorKind::Response`] error reading
/// `<prefix><what was wrong and where>`, which never quotes the input.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], prefix: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Response,
            format!("{prefix}{}", describe_json(&e)),
        )
    })
}

/// A JSON decoding error described for users: what was wrong and where, without the names of
/// our Rust types (serde says "expected struct UriCredentials") and never any of the input (serde
/// quotes the unexpected value: `invalid type: string "{\"AccessKeySecret\":...`).
pub fn describe_json(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let place = format!("line {} column {}", e.line(), e.column());
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or("");
    match e.classify() {
        Category::Io => format!("read error at {place}"),
        Category::Eof => format!("the JSON ends early at {place}"),
        // serde_json's syntax messages are fixed texts ("expected value", "key must be a string").
        Category::Syntax => format!("not valid JSON ({what}) at {place}"),
        Category::Data => format!("unexpected JSON ({}) at {place}", describe_data(what)),
    }
}

/// serde's data error `what` reduced to the kind of value found and what was expected.
fn describe_data(what: &str) -> String {
    let expected = |rest: &str| {
        // The expectation is written by our types and comes last; the found value (which may be
        // any input) comes before it.
        match rest.rfind(", expected ") {
            Some(i) if rest[i..].starts_with(", expected struct ") => ", expected a JSON object",
            Some(i) => &rest[i..],
            None => "",
        }
        .to_owned()
    };
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = what.strip_prefix(prefix) {
            let kind = [
                "string",
                "integer",
                "floating point",
                "boolean",
                "null",
                "sequence",
                "map",
                "unit",
                "char",
                "byte array",
            ]
            .into_iter()
            .find(|k| rest.starts_with(k))
            .unwrap_or("value");
            let tail = expected(rest);
            // Only serde's own expectation texts, never a value.
            let tail = if tail.contains(['"', '`']) { "" } else { &tail };
            return format!("{prefix}{kind}{tail}");
        }
    }
    for prefix in ["missing field ", "duplicate field ", "invalid length "] {
        if what.starts_with(prefix) && what.len() < 80 && !what.contains('"') {
            return what.to_owned();
        }
    }
    "unexpected value".to_owned()
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

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

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct InternalName {
        field: String,
    }

    fn describe<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
        describe_json(&serde_json::from_str::<T>(text).unwrap_err())
    }

    #[test]
    fn json_errors_name_no_internal_type_and_echo_no_input() {
        let m = describe::<InternalName>("true");
        assert_eq!(
            m,
            "unexpected JSON (invalid type: boolean, expected a JSON object) at line 1 column 4"
        );
        let m = describe::<InternalName>(r#"{"field": 12345678}"#);
        assert!(
            m.contains("invalid type: integer, expected a string"),
            "{m}"
        );
        let m = describe::<InternalName>(r#""{\"AccessKeySecret\":\"hunter2-secret\"}""#);
        assert_eq!(
            m,
            "unexpected JSON (invalid type: string, expected a JSON object) at line 1 column 42"
        );
        assert_eq!(
            describe::<InternalName>(r#"{"field": "#),
            "the JSON ends early at line 1 column 10"
        );
        let m = describe::<InternalName>("{nope-secret}");
        assert!(
            m.starts_with("not valid JSON (key must be a string)"),
            "{m}"
        );
        assert!(!m.contains("nope-secret"));
    }
}
