//! The INI credentials file (`~/.alibabacloud/credentials`): sections of `key = value` lines.
//! Comments (`#`, `;`, whole-line or after whitespace), quoted values, blank lines, odd whitespace
//! and a UTF-8 BOM are handled as real files have them.

use std::collections::HashMap;

/// Sections by name, each a map of keys to values.
pub type Ini = HashMap<String, HashMap<String, String>>;

/// Parses INI text. Keys before the first section go to the section named `""`. A malformed line
/// is an error naming its number (never its content: it may hold a secret).
pub fn parse(text: &str) -> Result<Ini, String> {
    let mut ini: Ini = HashMap::new();
    let mut section = String::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                return Err(format!("line {}: unterminated section header", index + 1));
            };
            let after = rest[end + 1..].trim();
            if !after.is_empty() && !after.starts_with('#') && !after.starts_with(';') {
                return Err(format!("line {}: text after the section header", index + 1));
            }
            section = rest[..end].trim().to_owned();
            ini.entry(section.clone()).or_default();
            continue;
        }
        let Some(eq) = line.find(['=', ':']) else {
            return Err(format!("line {}: expected key = value", index + 1));
        };
        let key = line[..eq].trim();
        if key.is_empty() {
            return Err(format!("line {}: empty key", index + 1));
        }
        let value = clean_value(line[eq + 1..].trim());
        ini.entry(section.clone())
            .or_default()
            .insert(key.to_owned(), value);
    }
    Ok(ini)
}

// Strips matching quotes, or an inline comment (` #` / ` ;`) from an unquoted value.
fn clean_value(value: &str) -> String {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) {
            if let Some(end) = value[1..].find(quote) {
                return value[1..1 + end].to_owned();
            }
        }
    }
    let mut cut = value.len();
    for marker in [" #", "\t#", " ;", "\t;"] {
        if let Some(i) = value.find(marker) {
            cut = cut.min(i);
        }
    }
    value[..cut].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_world_shapes() {
        let text = "\u{feff}# comment\n; other comment\n[default]\ntype = access_key   \n  access_key_id=foo  # trailing\naccess_key_secret = \"bar # not a comment\"\n\n[ client1 ]  ; note\ntype:ecs_ram_role\nrole_name = 'EcsRole'\nempty =\n";
        let ini = parse(text).unwrap();
        let d = &ini["default"];
        assert_eq!(d["type"], "access_key");
        assert_eq!(d["access_key_id"], "foo");
        assert_eq!(d["access_key_secret"], "bar # not a comment");
        let c = &ini["client1"];
        assert_eq!(c["type"], "ecs_ram_role");
        assert_eq!(c["role_name"], "EcsRole");
        assert_eq!(c["empty"], "");
    }

    #[test]
    fn errors_name_the_line_not_the_content() {
        let e = parse("[default]\nsecret-value-without-equals\n").unwrap_err();
        assert_eq!(e, "line 2: expected key = value");
        assert!(parse("[broken\n").unwrap_err().contains("line 1"));
        assert!(parse("[a] b\n").is_err());
    }

    #[test]
    fn windows_line_endings() {
        let ini = parse("[default]\r\ntype = access_key\r\naccess_key_id = a\r\n").unwrap();
        assert_eq!(ini["default"]["access_key_id"], "a");
    }
}
