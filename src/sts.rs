//! STS: the RPC signature (HMAC-SHA1) and the AssumeRole / AssumeRoleWithOIDC
//! exchanges shared by `ram_role_arn`, `oidc_role_arn` and the CLI profile modes.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use std::time::Duration;

use crate::credentials::{CredentialFields, Credentials};
use crate::description::{Endpoint, RoleSpec, StsSpec};
use crate::encoding::{form, nonce, percent_encode};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::secret::Secret;
use crate::time::utc_timestamp;

/// `POST&%2F&<pct(sorted k=v joined by &)>` over every parameter but `Signature`.
pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let joined = form(sorted.iter().map(|(k, v)| (k, v)));
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&joined)
    )
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn sign(string_to_sign: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The request of one STS exchange: the role (its STS options and, for AssumeRole, its own
/// parameters), with the session name it runs under filled in. One per live identity, so kept
/// lean: its texts in one block (no spare capacity) and the timeouts in milliseconds (saturating
/// at 49 days, which no request waits for): 88 bytes and one block where a copy of the
/// `RoleSpec` is 152 and a block per string.
#[derive(Clone, Debug)]
pub struct RoleRequest {
    /// The role's ARN, the session name (the spec's, or the one made when the provider was
    /// built) and the policy, one after the other.
    text: Box<str>,
    /// Where the ARN and the session name end in `text`.
    ends: [u32; 2],
    has_policy: bool,
    external_id: Option<Secret>,
    duration_seconds: u64,
    endpoint: Endpoint,
    connect_ms: u32,
    read_ms: u32,
}

impl RoleRequest {
    /// The request that assumes `role`; the session name, when none is given, is
    /// `credentials-nodejs-<ms since epoch>` as the official package makes it. Every field of
    /// the role is named here, so a new one does not build until it is kept (and sent by
    /// [`Self::body`], or marked as not a request parameter).
    pub fn new(role: &RoleSpec) -> Self {
        let RoleSpec { sts, external_id } = role;
        let StsSpec {
            role_arn,
            role_session_name,
            duration_seconds,
            policy,
            endpoint,
            connect_timeout,
            read_timeout,
        } = sts;
        let made;
        let session_name = match role_session_name {
            Some(name) => name.as_str(),
            None => {
                made = format!("credentials-nodejs-{}", crate::time::epoch_millis());
                made.as_str()
            }
        };
        let policy_text = policy.as_deref().unwrap_or_default();
        let mut text =
            String::with_capacity(role_arn.len() + session_name.len() + policy_text.len());
        text.push_str(role_arn);
        text.push_str(session_name);
        text.push_str(policy_text);
        // Offsets past 4 GiB cannot come from options (a process's argv and config are far
        // smaller); saturating keeps the slicing in bounds whatever comes.
        let end = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        RoleRequest {
            text: text.into_boxed_str(),
            ends: [
                end(role_arn.len()),
                end(role_arn.len() + session_name.len()),
            ],
            has_policy: policy.is_some(),
            external_id: external_id.clone(),
            duration_seconds: *duration_seconds,
            endpoint: endpoint.clone(),
            connect_ms: crate::time::millis_u32(*connect_timeout),
            read_ms: crate::time::millis_u32(*read_timeout),
        }
    }

    fn part(&self, from: usize, to: usize) -> &str {
        self.text.get(from..to).unwrap_or_default()
    }

    /// The session name the role is assumed under.
    pub fn session_name(&self) -> &str {
        self.part(self.ends[0] as usize, self.ends[1] as usize)
    }

    fn policy(&self) -> Option<&str> {
        self.has_policy
            .then(|| self.part(self.ends[1] as usize, self.text.len()))
    }

    /// The request of AssumeRoleWithOIDC: the shared STS options only.
    pub fn with_oidc(sts: &StsSpec) -> Self {
        Self::new(&RoleSpec::from(sts.clone()))
    }

    /// The role's ARN.
    pub fn role_arn(&self) -> &str {
        self.part(0, self.ends[0] as usize)
    }

    /// The STS endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_ms.into())
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_ms.into())
    }

    /// `RoleArn`, `Policy`, `ExternalId`, `RoleSessionName`, `DurationSeconds`, in the official
    /// order.
    fn body(&self) -> Vec<(String, String)> {
        let mut body = vec![("RoleArn".to_owned(), self.role_arn().to_owned())];
        if let Some(p) = self.policy() {
            body.push(("Policy".to_owned(), p.to_owned()));
        }
        if let Some(e) = &self.external_id {
            body.push(("ExternalId".to_owned(), e.expose().to_owned()));
        }
        body.push(("RoleSessionName".into(), self.session_name().to_owned()));
        body.push(("DurationSeconds".into(), self.duration_seconds.to_string()));
        body
    }

    fn post(&self, query: &[(String, String)]) -> Request {
        Request::new(
            crate::http::Method::Post,
            format!(
                "{}/?{}",
                self.endpoint.base(),
                form(query.iter().map(|(k, v)| (k, v)))
            ),
            self.connect_timeout(),
            self.read_timeout(),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsSuccess {
    credentials: Option<CredentialFields>,
}

const SERVER_STRING_TO_SIGN_PREFIX: &str =
    "Specified signature is not matched with our calculation. server string to sign is:";

/// The official package's words for one STS exchange.
#[derive(Clone, Copy, Debug)]
pub struct Words {
    /// Before the description of a non-200 answer (`refresh session token failed: `).
    pub failed: &'static str,
    /// Before the description of a body that is not JSON.
    pub unmarshal: &'static str,
    /// A 200 answer without usable credentials.
    pub no_credentials: &'static str,
}

/// AssumeRole (`ram_role_arn` and the CLI's role modes).
pub const ASSUME_ROLE: Words = Words {
    failed: "refresh session token failed: ",
    unmarshal: "refresh RoleArn sts token err, unmarshal fail: ",
    no_credentials: "refresh RoleArn sts token err, fail to get credentials",
};

/// AssumeRoleWithOIDC (`oidc_role_arn`).
pub const ASSUME_ROLE_WITH_OIDC: Words = Words {
    failed: "get sts token failed with OIDC: ",
    unmarshal: "get sts token failed with OIDC, unmarshal fail: ",
    no_credentials: "get sts token failed with OIDC",
};

/// Parses an STS response into credentials named `provider_name`, in the official `words`;
/// `our_string_to_sign` detects a wrong secret. A pure function of the response: it quotes no
/// body, only the `Code`, `Message` and `RequestId` of an error, which [`http::finish`] scrubs.
pub fn parse_response(
    response: &http::Response,
    words: &Words,
    our_string_to_sign: Option<&str>,
    provider_name: &str,
) -> Result<Credentials> {
    if response.status != 200 {
        let failure = http::ErrorBody::of(&response.body);
        if failure.code.as_deref() == Some("SignatureDoesNotMatch") {
            let message = failure.message.unwrap_or_default();
            if let (Some(ours), Some(theirs)) = (
                our_string_to_sign,
                message.strip_prefix(SERVER_STRING_TO_SIGN_PREFIX),
            ) {
                if theirs == ours {
                    return Err(Error::new(
                        ErrorKind::InvalidSecret,
                        "the access key secret is invalid",
                    ));
                }
            }
            // The server's string to sign carries the security token: never echo it.
            return Err(Error::new(
                ErrorKind::Sts,
                format!("{}HTTP {}, Code: SignatureDoesNotMatch, the signature does not match the server's calculation", words.failed, response.status),
            ));
        }
        let detail = if failure.summary.is_empty() {
            format!("HTTP {}", response.status)
        } else {
            format!("HTTP {}, {}", response.status, failure.summary)
        };
        return Err(
            Error::new(ErrorKind::Sts, format!("{}{detail}", words.failed))
                .with_answer(response.status, failure.code.as_deref()),
        );
    }
    let parsed: Option<StsSuccess> = serde_json::from_slice(&response.body).map_err(|e| {
        Error::new(
            ErrorKind::Response,
            format!("{}{}", words.unmarshal, crate::error::describe_json(&e)),
        )
    })?;
    parsed
        .and_then(|p| p.credentials)
        .ok_or_else(|| Error::new(ErrorKind::Response, words.no_credentials))?
        .into_credentials(provider_name, words.no_credentials)
}

/// AssumeRole signed with `source`; the credentials are named `provider_name`.
pub async fn assume_role(
    source: &Credentials,
    request: &RoleRequest,
    provider_name: &str,
) -> Result<Credentials> {
    let mut query: Vec<(String, String)> = vec![
        ("Version".into(), "2015-04-01".into()),
        ("Action".into(), "AssumeRole".into()),
        ("Format".into(), "JSON".into()),
        ("Timestamp".into(), utc_timestamp()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        ("SignatureVersion".into(), "1.0".into()),
        ("SignatureNonce".into(), nonce()),
        ("AccessKeyId".into(), source.access_key_id.clone()),
    ];
    if let Some(token) = source.security_token.as_ref().filter(|t| !t.is_empty()) {
        query.push(("SecurityToken".into(), token.expose().to_owned()));
    }
    let body = request.body();
    let all: Vec<(String, String)> = query.iter().chain(body.iter()).cloned().collect();
    let to_sign = string_to_sign("POST", &all);
    query.push((
        "Signature".into(),
        sign(&to_sign, source.access_key_secret.expose()),
    ));

    let mut http_request = request
        .post(&query)
        .header("x-acs-credentials-provider", source.provider_name.clone());
    http_request.body = Some(form(body.iter().map(|(k, v)| (k, v))).into_bytes());
    let token = source
        .security_token
        .as_ref()
        .map(|t| t.expose())
        .unwrap_or("");
    http::fetch(
        http_request,
        &[source.access_key_secret.expose(), token],
        |response| parse_response(response, &ASSUME_ROLE, Some(&to_sign), provider_name),
    )
    .await
}

/// AssumeRoleWithOIDC (unsigned) with `oidc_token`.
pub async fn assume_role_with_oidc(
    oidc_provider_arn: &str,
    oidc_token: &str,
    request: &RoleRequest,
    provider_name: &str,
) -> Result<Credentials> {
    let query: Vec<(String, String)> = vec![
        ("Version".into(), "2015-04-01".into()),
        ("Action".into(), "AssumeRoleWithOIDC".into()),
        ("Format".into(), "JSON".into()),
        ("Timestamp".into(), utc_timestamp()),
    ];
    let mut body = vec![
        ("OIDCProviderArn".to_owned(), oidc_provider_arn.to_owned()),
        ("OIDCToken".to_owned(), oidc_token.to_owned()),
    ];
    body.extend(request.body());
    let mut http_request = request.post(&query);
    http_request.body = Some(form(body.iter().map(|(k, v)| (k, v))).into_bytes());
    http::fetch(http_request, &[oidc_token], |response| {
        parse_response(response, &ASSUME_ROLE_WITH_OIDC, None, provider_name)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_request_sends_its_role_as_described() {
        let role = |session: Option<&str>, policy: Option<&str>| RoleSpec {
            sts: StsSpec {
                role_arn: "acs:ram::1:role/é".into(),
                role_session_name: session.map(Into::into),
                duration_seconds: 900,
                policy: policy.map(Into::into),
                endpoint: crate::description::Endpoint::resolve(None, None, false),
                connect_timeout: Duration::from_millis(1500),
                read_timeout: Duration::from_secs(2),
            },
            external_id: Some(Secret::new("ext")),
        };
        let pairs = |r: &RoleRequest| {
            r.body()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        let r = RoleRequest::new(&role(Some("s€ssion"), Some(r#"{"p":1}"#)));
        assert_eq!(
            pairs(&r),
            [
                "RoleArn=acs:ram::1:role/é",
                r#"Policy={"p":1}"#,
                "ExternalId=ext",
                "RoleSessionName=s€ssion",
                "DurationSeconds=900"
            ]
        );
        assert_eq!(r.role_arn(), "acs:ram::1:role/é");
        assert_eq!(
            r.connect_timeout() + r.read_timeout(),
            Duration::from_millis(3500)
        );
        // No policy, an empty one, a made session name.
        let r = RoleRequest::new(&role(None, None));
        assert!(
            r.session_name().starts_with("credentials-nodejs-"),
            "{}",
            r.session_name()
        );
        assert!(!pairs(&r).iter().any(|p| p.starts_with("Policy")));
        let r = RoleRequest::new(&role(Some(""), Some("")));
        assert_eq!(r.session_name(), "");
        assert!(pairs(&r).contains(&"Policy=".to_owned()));
    }

    // The string to sign of the documented RPC example; the signature value was computed
    // independently with Node's crypto (HMAC-SHA1 over it with "testsecret&").
    #[test]
    fn signature_matches_the_documented_example() {
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeDedicatedHosts"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sts = string_to_sign("GET", &params);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(sign(&sts, "testsecret"), "5ACtZHtjqvBbWa1PFQm1U5JYiQI=");
    }

    fn response(status: u16, body: &str) -> http::Response {
        http::Response {
            status,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn wrong_secret_is_detected_and_never_echoed() {
        let ours = "POST&%2F&SecurityToken%3Dsecret-token-value";
        let body = format!(
            r#"{{"Code":"SignatureDoesNotMatch","Message":"{SERVER_STRING_TO_SIGN_PREFIX}{ours}"}}"#
        );
        let e = parse_response(&response(400, &body), &ASSUME_ROLE, Some(ours), "x").unwrap_err();
        assert_eq!(e.message(), "the access key secret is invalid");
        assert_eq!(e.kind(), ErrorKind::InvalidSecret);
        let e =
            parse_response(&response(400, &body), &ASSUME_ROLE, Some("other"), "x").unwrap_err();
        assert!(!e.message().contains("secret-token-value"), "{e}");
    }

    #[test]
    fn errors_carry_code_and_message_and_scrub_secrets() {
        let body =
            r#"{"Code":"NoPermission","Message":"denied for my-secret-key","RequestId":"R1"}"#;
        let e = http::finish(&response(403, body), &["my-secret-key"], |r| {
            parse_response(r, &ASSUME_ROLE, None, "x")
        })
        .unwrap_err();
        assert_eq!(e.message(), "refresh session token failed: HTTP 403, Code: NoPermission, Message: denied for <redacted>, RequestId: R1");
        let e = parse_response(
            &response(502, "<html>token</html>"),
            &ASSUME_ROLE,
            None,
            "x",
        )
        .unwrap_err();
        assert_eq!(e.message(), "refresh session token failed: HTTP 502");
        let e = parse_response(&response(200, "not json"), &ASSUME_ROLE, None, "x").unwrap_err();
        assert!(e
            .message()
            .starts_with("refresh RoleArn sts token err, unmarshal fail: not valid JSON"));
        for body in [
            "null",
            "{}",
            r#"{"Credentials":{}}"#,
            r#"{"Credentials":{"AccessKeyId":"a"}}"#,
        ] {
            let e = parse_response(&response(200, body), &ASSUME_ROLE, None, "x").unwrap_err();
            assert_eq!(
                e.message(),
                "refresh RoleArn sts token err, fail to get credentials"
            );
            let e = parse_response(&response(200, body), &ASSUME_ROLE_WITH_OIDC, None, "x")
                .unwrap_err();
            assert_eq!(e.message(), "get sts token failed with OIDC");
        }
        let ok = parse_response(
            &response(200, r#"{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2030-01-01T00:00:00Z"}}"#),
            &ASSUME_ROLE, None, "ram_role_arn/static_ak",
        ).unwrap();
        assert_eq!(ok.provider_name, "ram_role_arn/static_ak");
        assert!(ok.expiration.is_some());
    }
}
