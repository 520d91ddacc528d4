//! The one error type of the core. Every failure a user can see is an [`Error`] with a stable
//! [`ErrorKind`] (exposed to JavaScript as the `code` property) and a message that never contains a
//! secret: messages are built from option names, provider names, URLs and server error codes only.

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
}

impl Error {
    /// An error of `kind` with `message`. The message must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
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

/// A JSON decoding error described for users: what was wrong and where, without the names of
/// our Rust types (serde says "expected struct UriCredentials") and never any of the input.
pub fn describe_json(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let place = format!("line {} column {}", e.line(), e.column());
    match e.classify() {
        Category::Io => format!("read error at {place}"),
        Category::Eof => format!("the JSON ends early at {place}"),
        Category::Syntax => {
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or("syntax error");
            format!("not valid JSON ({what}) at {place}")
        }
        Category::Data => {
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or("unexpected value");
            // "expected struct Foo" / "expected a map" name internals or nothing useful.
            let what = match what.find(", expected struct ") {
                Some(i) => format!("{}, expected a JSON object", &what[..i]),
                None => what.to_owned(),
            };
            format!("unexpected JSON ({what}) at {place}")
        }
    }
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

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
        assert_eq!(m, "unexpected JSON (invalid type: boolean `true`, expected a JSON object) at line 1 column 4");
        let m = describe::<InternalName>(r#"{"field": 12345678}"#);
        assert!(
            m.contains("invalid type: integer `12345678`, expected a string"),
            "{m}"
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
