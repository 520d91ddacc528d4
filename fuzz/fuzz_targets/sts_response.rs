//! STS answers: any status, any body, with and without our string to sign.
#![no_main]
use alicloud_credentials_native::http::{finish, Response};
use alicloud_credentials_native::sts::{parse_response, ASSUME_ROLE, ASSUME_ROLE_WITH_OIDC};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((s, rest)) => (if *s < 128 { 200 } else { 300 + u16::from(*s) }, rest),
        None => (200, data),
    };
    let response = Response { status, content_type: Some("application/json".into()), body: body.to_vec() };
    let _ = finish(&response, &["secret"], |r| parse_response(r, &ASSUME_ROLE, Some("POST&%2F&x"), "ram_role_arn/static_ak"));
    let _ = parse_response(&response, &ASSUME_ROLE_WITH_OIDC, None, "oidc_role_arn");
});
