//! Where the profile files live on each OS family, as the official package finds them through
//! Node's `os.homedir()`: `%USERPROFILE%` on Windows, `$HOME` elsewhere.
//!
//! The functions are pure: they take the environment and the OS family as data, so the rules of
//! every family are unit-tested on any machine; [`home_dir`] applies them to this process.

use std::path::PathBuf;

use crate::env::Env;

/// The OS families whose rules differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsFamily {
    /// Linux, macOS and the other Unix-likes.
    Unix,
    /// Windows.
    Windows,
}

impl OsFamily {
    /// The family this crate is compiled for.
    pub const fn current() -> Self {
        if cfg!(windows) {
            OsFamily::Windows
        } else {
            OsFamily::Unix
        }
    }

    /// The path separator.
    pub const fn separator(self) -> char {
        match self {
            OsFamily::Unix => '/',
            OsFamily::Windows => '\\',
        }
    }
}

/// The home directory from the environment `get` reads (empty values count as unset).
///
/// - Windows: `USERPROFILE` (what libuv's `uv_os_homedir` reads first), then `HOMEDRIVE` +
///   `HOMEPATH`, then `HOME` (set by MSYS and Cygwin shells, in their own form, so it comes last);
/// - Unix: `HOME`, then `USERPROFILE` (kept from earlier releases for environments that set only it).
pub fn home_dir_for(family: OsFamily, get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let get = |name: &str| get(name).filter(|v| !v.is_empty());
    match family {
        OsFamily::Windows => get("USERPROFILE")
            .or_else(|| Some(format!("{}{}", get("HOMEDRIVE")?, get("HOMEPATH")?)))
            .or_else(|| get("HOME")),
        OsFamily::Unix => get("HOME").or_else(|| get("USERPROFILE")),
    }
}

/// `base` with `parts` appended, separated as `family` separates paths.
pub fn join(family: OsFamily, base: &str, parts: &[&str]) -> String {
    let sep = family.separator();
    let mut out = base.to_owned();
    for part in parts {
        // Windows also accepts '/', so a base like `C:/Users/me/` needs no second separator.
        let ends_with_sep =
            out.ends_with(sep) || (family == OsFamily::Windows && out.ends_with('/'));
        if !out.is_empty() && !ends_with_sep {
            out.push(sep);
        }
        out.push_str(part);
    }
    out
}

/// The Alibaba Cloud CLI's `~/.aliyun/config.json` for `family`.
pub fn cli_config_file_for(
    family: OsFamily,
    get: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    home_dir_for(family, get).map(|h| join(family, &h, &[".aliyun", "config.json"]))
}

/// The INI credentials file `~/.alibabacloud/credentials` for `family`.
pub fn credentials_file_for(
    family: OsFamily,
    get: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    home_dir_for(family, get).map(|h| join(family, &h, &[".alibabacloud", "credentials"]))
}

/// The home directory of this process, by the rules of the OS it runs on.
pub fn home_dir(env: &Env) -> Option<PathBuf> {
    home_dir_for(OsFamily::current(), |name| env.get(name)).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn windows_reads_userprofile_before_home() {
        let env = [
            ("USERPROFILE", r"C:\Users\me"),
            ("HOME", "/c/Users/me"),
            ("HOMEDRIVE", "D:"),
            ("HOMEPATH", r"\other"),
        ];
        assert_eq!(
            home_dir_for(OsFamily::Windows, vars(&env)).as_deref(),
            Some(r"C:\Users\me")
        );
        assert_eq!(
            cli_config_file_for(OsFamily::Windows, vars(&env)).as_deref(),
            Some(r"C:\Users\me\.aliyun\config.json")
        );
        assert_eq!(
            credentials_file_for(OsFamily::Windows, vars(&env)).as_deref(),
            Some(r"C:\Users\me\.alibabacloud\credentials")
        );
    }

    #[test]
    fn windows_falls_back_to_homedrive_homepath_then_home() {
        let drive = [
            ("USERPROFILE", ""),
            ("HOMEDRIVE", "D:"),
            ("HOMEPATH", r"\Users\me"),
            ("HOME", "/home/me"),
        ];
        assert_eq!(
            home_dir_for(OsFamily::Windows, vars(&drive)).as_deref(),
            Some(r"D:\Users\me")
        );
        // HOMEDRIVE without HOMEPATH is no home.
        let half = [("HOMEDRIVE", "D:"), ("HOME", r"E:\msys\home\me")];
        assert_eq!(
            home_dir_for(OsFamily::Windows, vars(&half)).as_deref(),
            Some(r"E:\msys\home\me")
        );
        assert_eq!(home_dir_for(OsFamily::Windows, vars(&[])), None);
        assert_eq!(cli_config_file_for(OsFamily::Windows, vars(&[])), None);
    }

    #[test]
    fn unix_reads_home_then_userprofile() {
        let env = [("HOME", "/home/me"), ("USERPROFILE", r"C:\Users\me")];
        assert_eq!(
            home_dir_for(OsFamily::Unix, vars(&env)).as_deref(),
            Some("/home/me")
        );
        assert_eq!(
            cli_config_file_for(OsFamily::Unix, vars(&env)).as_deref(),
            Some("/home/me/.aliyun/config.json")
        );
        assert_eq!(
            credentials_file_for(OsFamily::Unix, vars(&env)).as_deref(),
            Some("/home/me/.alibabacloud/credentials")
        );
        let only_profile = [("HOME", ""), ("USERPROFILE", "/users/me")];
        assert_eq!(
            home_dir_for(OsFamily::Unix, vars(&only_profile)).as_deref(),
            Some("/users/me")
        );
        // Windows-only variables mean nothing here.
        assert_eq!(
            home_dir_for(
                OsFamily::Unix,
                vars(&[("HOMEDRIVE", "C:"), ("HOMEPATH", r"\Users\me")])
            ),
            None
        );
    }

    #[test]
    fn join_adds_one_separator() {
        assert_eq!(
            join(OsFamily::Unix, "/", &[".aliyun", "config.json"]),
            "/.aliyun/config.json"
        );
        assert_eq!(
            join(OsFamily::Unix, "/home/me/", &[".aliyun"]),
            "/home/me/.aliyun"
        );
        assert_eq!(join(OsFamily::Windows, r"C:\", &[".aliyun"]), r"C:\.aliyun");
        assert_eq!(
            join(OsFamily::Windows, "C:/Users/me/", &[".aliyun"]),
            "C:/Users/me/.aliyun"
        );
    }

    #[test]
    fn this_process_uses_its_own_family() {
        assert_eq!(
            OsFamily::current(),
            if cfg!(windows) {
                OsFamily::Windows
            } else {
                OsFamily::Unix
            }
        );
        let env = Env::from_pairs([("HOME", "/home/me"), ("USERPROFILE", r"C:\Users\me")]);
        let expected = if cfg!(windows) {
            r"C:\Users\me"
        } else {
            "/home/me"
        };
        assert_eq!(home_dir(&env), Some(PathBuf::from(expected)));
    }
}
