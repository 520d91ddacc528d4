//! Splitting `process_command` into argv without a shell: POSIX shell quoting rules, or the
//! Windows variant where `\` is a path separator.

/// JavaScript's whitespace (`\s`, `trim()`), which the official splitter uses: Unicode White_Space
/// without U+0085, plus the byte-order mark U+FEFF.
fn js_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// Splits `command` into arguments. Errors are the official messages (`process_command is empty`,
/// `invalid process_command: unclosed quote`, `invalid process_command: trailing backslash`); they
/// never quote the command (it may hold a secret).
pub fn split(command: &str, windows: bool) -> Result<Vec<String>, String> {
    let input = command.trim_matches(js_space);
    if input.is_empty() {
        return Err("process_command is empty".to_owned());
    }
    let chars: Vec<char> = input.chars().collect();
    let mut args = Vec::new();
    let mut current = String::new();
    let mut started = false;
    let (mut single, mut double) = (false, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if single {
            if c == '\'' {
                single = false;
            } else {
                current.push(c);
            }
        } else if double {
            if c == '"' {
                double = false;
            } else if c == '\\' && i + 1 < chars.len() {
                let next = chars[i + 1];
                let escapes = if windows {
                    next == '"'
                } else {
                    matches!(next, '"' | '\\' | '$' | '`' | '\n')
                };
                if escapes {
                    if next != '\n' {
                        current.push(next);
                    }
                    i += 1;
                } else {
                    current.push(c);
                }
            } else {
                current.push(c);
            }
        } else if js_space(c) {
            if started {
                args.push(std::mem::take(&mut current));
                started = false;
            }
        } else if c == '\'' {
            single = true;
            started = true;
        } else if c == '"' {
            double = true;
            started = true;
        } else if c == '\\' && !windows {
            // Backslash-newline is a line continuation: both vanish and no argument starts.
            // A lone backslash at the end escapes nothing: refused, as the official does.
            let Some(&next) = chars.get(i + 1) else {
                return Err("invalid process_command: trailing backslash".to_owned());
            };
            if next != '\n' {
                current.push(next);
                started = true;
            }
            i += 1;
        } else {
            current.push(c);
            started = true;
        }
        i += 1;
    }
    if single || double {
        return Err("invalid process_command: unclosed quote".to_owned());
    }
    if started {
        args.push(current);
    }
    if args.is_empty() || args[0].is_empty() {
        return Err("process_command is empty".to_owned());
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn posix_rules() {
        assert_eq!(
            split("tool --a b", false).unwrap(),
            s(&["tool", "--a", "b"])
        );
        assert_eq!(
            split(r#"tool "two words" 'single $x' "" end"#, false).unwrap(),
            s(&["tool", "two words", "single $x", "", "end"])
        );
        assert_eq!(
            split(r#"tool "say \"hi\" \\ \$HOME" a\ b"#, false).unwrap(),
            s(&["tool", r#"say "hi" \ $HOME"#, "a b"])
        );
        assert_eq!(
            split("tool \\\n next", false).unwrap(),
            s(&["tool", "next"])
        );
        assert_eq!(
            split("tool 'open", false).unwrap_err(),
            "invalid process_command: unclosed quote"
        );
        assert_eq!(
            split(r#"tool "open"#, false).unwrap_err(),
            "invalid process_command: unclosed quote"
        );
        assert_eq!(split("   ", false).unwrap_err(), "process_command is empty");
        assert_eq!(
            split(r#""" arg"#, false).unwrap_err(),
            "process_command is empty"
        );
        assert_eq!(
            split(r"tool\", false).unwrap_err(),
            "invalid process_command: trailing backslash"
        );
        assert_eq!(
            split(r"tool arg \", false).unwrap_err(),
            "invalid process_command: trailing backslash"
        );
        // Whitespace as JavaScript's `\s`: U+FEFF separates, U+0085 does not.
        assert_eq!(
            split("\u{feff}tool\u{feff}a\u{85}b", false).unwrap(),
            s(&["tool", "a\u{85}b"])
        );
        // On Windows a backslash is a path separator, at the end too.
        assert_eq!(split(r"C:\tools\", true).unwrap(), s(&[r"C:\tools\"]));
    }

    #[test]
    fn windows_paths() {
        assert_eq!(
            split(
                r#""C:\Program Files\tool.exe" --profile x C:\tools\cred.exe"#,
                true
            )
            .unwrap(),
            s(&[
                r"C:\Program Files\tool.exe",
                "--profile",
                "x",
                r"C:\tools\cred.exe"
            ])
        );
        assert_eq!(
            split(r#"tool "a \"q\" b""#, true).unwrap(),
            s(&["tool", r#"a "q" b"#])
        );
    }
}
