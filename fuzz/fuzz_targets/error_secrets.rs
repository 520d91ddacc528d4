//! No error text from a response parser ever holds a secret planted in the response. The input is
//! a status selector and a body template whose `@` marks are replaced by a secret, in the form the
//! selector picks (raw, JSON-escaped with or without ASCII output, double-escaped, percent-encoded
//! in upper, mixed case or twice, form-encoded). No quoted field cut by a length limit ends with the
//! beginning of a secret. Answers with status 200 are parsed with no secret known (a parser quotes
//! nothing of a body); other answers as the providers read them, with the secret known (a server
//! echoing what we sent it).
#![no_main]
use alicloud_credentials_native::error::Result;
use alicloud_credentials_native::http::{finish, Response};
use alicloud_credentials_native::providers::{cloud_sso, ecs, oauth, uri};
use alicloud_credentials_native::sts::{parse_response, ASSUME_ROLE, ASSUME_ROLE_WITH_OIDC};
use libfuzzer_sys::fuzz_target;

const PLAIN: &str = "Zq8SeCrEtVaLuE7k";
const SPECIAL: &str = "Sp3c+/ \"\\&=\u{e9}*!'()x9";

fn json(s: &str) -> String {
    let q = serde_json::Value::String(s.to_owned()).to_string();
    q[1..q.len() - 1].to_owned()
}

fn pct(s: &str, plus: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' if plus => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Lower-case hex on every other escape, as some gateways' encoders write.
fn mixed_pct(s: &str) -> String {
    let upper = pct(s, false);
    let mut out = String::new();
    let mut n = 0;
    let mut chars = upper.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            let escape: String = chars.by_ref().take(2).collect();
            n += 1;
            out.push_str(&if n % 2 == 0 { escape.to_lowercase() } else { escape });
        }
    }
    out
}

/// JSON escaping with ASCII output (`\u00e9`), as Python's `json.dumps` writes it.
fn ascii_json(s: &str) -> String {
    json(s)
        .encode_utf16()
        .map(|u| match char::from_u32(u as u32) {
            Some(c) if c.is_ascii() => c.to_string(),
            _ => format!("\\u{u:04x}"),
        })
        .collect()
}

fn forms(s: &str) -> Vec<String> {
    vec![
        s.to_owned(),
        json(s),
        json(&json(s)),
        pct(s, false),
        pct(s, true),
        mixed_pct(s),
        ascii_json(s),
        pct(&pct(s, false), false),
    ]
}

fn check<T>(name: &str, secret: &str, text: &[u8], outcome: Result<T>) {
    if let Err(e) = outcome {
        for f in forms(secret) {
            assert!(
                !e.message().contains(&f),
                "{name} leaked {f:?} in {:?} (body {:?})",
                e.message(),
                String::from_utf8_lossy(text)
            );
            // Where a length limit cut a quoted field ("..."), no beginning of a secret is left.
            for k in (4..f.len()).filter(|k| f.is_char_boundary(*k)) {
                let cut = format!("{}...", &f[..k]);
                assert!(
                    !e.message().contains(&cut),
                    "{name} left {cut:?} in {:?} (body {:?})",
                    e.message(),
                    String::from_utf8_lossy(text)
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, template)) = data.split_first() else { return };
    let status = match selector & 0x0f {
        0..=7 => 200,
        8 => 400,
        9 => 401,
        10 => 403,
        11 => 404,
        12 => 429,
        13 => 500,
        14 => 503,
        _ => 302,
    };
    let secret = if selector & 0x80 == 0 { PLAIN } else { SPECIAL };
    let planted = match (selector >> 4) & 0x07 {
        0 => secret.to_owned(),
        1 => mixed_pct(secret),
        2 => json(secret),
        3 => ascii_json(secret),
        4 => json(&json(secret)),
        5 => pct(secret, false),
        6 => pct(secret, true),
        _ => pct(&pct(secret, false), false),
    };
    let text = String::from_utf8_lossy(template).replace('@', &planted);
    let response = Response { status, content_type: Some("application/json".into()), body: text.clone().into_bytes() };
    let known: &[&str] = if status == 200 { &[] } else { &[secret] };
    let body = text.as_bytes();
    check("uri", secret, body, finish(&response, known, uri::parse_response));
    check("ecs", secret, body, finish(&response, known, ecs::parse_response));
    check("cloud_sso", secret, body, finish(&response, known, cloud_sso::parse_response));
    check("oauth token", secret, body, finish(&response, known, oauth::parse_token_response));
    check("oauth exchange", secret, body, finish(&response, known, oauth::parse_exchange_response));
    check("sts", secret, body, finish(&response, known, |r| parse_response(r, &ASSUME_ROLE, Some("POST&%2F&x"), "ram_role_arn/static_ak")));
    check("oidc", secret, body, finish(&response, known, |r| parse_response(r, &ASSUME_ROLE_WITH_OIDC, None, "oidc_role_arn")));
});
