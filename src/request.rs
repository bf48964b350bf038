//! What a request carries, read alike by the API (`http`) and the console: its body (JSON or
//! form, of bounded size) as fields, and the client's address behind trusted proxies. How a
//! surface answers a body it cannot read is its own business: nothing here builds a response.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use ipnet::IpNet;
use serde_json::{Map, Value};

/// Every POST body is at most this large; larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a body could not be read as fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not valid JSON; the parser's reason.
    Json(String),
    /// Valid JSON, but not an object; the kind it was.
    NotAnObject(&'static str),
    /// The Content-Type as sent.
    UnsupportedMediaType(String),
    TooLarge,
    Unreadable,
}

/// The fields of a JSON object or a form-encoded body. Form values are strings; of a repeated
/// form field the last value counts, except for [`Fields::every`].
#[derive(Debug, Default)]
pub struct Fields(Map<String, Value>, Repeated);

/// The values of repeated form fields that a later value replaced, in order: few requests have
/// any, so they cost nothing to the rest.
#[derive(Debug, Default)]
struct Repeated(Vec<(String, String)>);

/// What one field held, in the terms validation messages use.
#[derive(Debug, PartialEq, Eq)]
pub enum FieldError {
    Required,
    Null,
    Blank,
    NotAString,
}

impl Fields {
    /// A text field in the manner of a Django REST framework `CharField`: numbers are taken as
    /// their text, whitespace-only counts as blank, and the value is returned untrimmed.
    pub fn text(&self, name: &str) -> Result<String, FieldError> {
        match self.0.get(name) {
            None => Err(FieldError::Required),
            Some(Value::Null) => Err(FieldError::Null),
            Some(Value::String(s)) if s.trim().is_empty() => Err(FieldError::Blank),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(FieldError::NotAString),
        }
    }

    /// A field that must be a JSON string (form values always are); not blank.
    pub fn string(&self, name: &str) -> Result<String, FieldError> {
        match self.0.get(name) {
            Some(Value::Number(_)) => Err(FieldError::NotAString),
            _ => self.text(name),
        }
    }

    /// Whether a field is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Every value of a field that may repeat (such as RFC 8707's `resource`), in the order
    /// given; a value that is not a string is left out.
    pub fn every(&self, name: &str) -> Vec<String> {
        let Repeated(replaced) = &self.1;
        let earlier = replaced
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone());
        let last = match self.0.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        earlier.chain(last).collect()
    }

    pub fn from_bytes(content_type: Option<&str>, body: &[u8]) -> Result<Self, BodyError> {
        let media = content_type.map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
        match media.as_deref() {
            None if body.is_empty() => Ok(Fields::default()),
            Some("application/json") => {
                if body.is_empty() {
                    return Err(BodyError::Json(
                        "Expecting value: line 1 column 1 (char 0)".into(),
                    ));
                }
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => Ok(Fields(map, Repeated::default())),
                    Ok(other) => Err(BodyError::NotAnObject(kind_of(&other))),
                    Err(e) => Err(BodyError::Json(e.to_string())),
                }
            }
            Some("application/x-www-form-urlencoded") => {
                let mut fields = Fields::default();
                for (key, value) in form_urlencoded::parse(body) {
                    let value = Value::String(value.into_owned());
                    if let Some(Value::String(earlier)) = fields.0.insert(key.to_string(), value) {
                        fields.1.0.push((key.into_owned(), earlier));
                    }
                }
                Ok(fields)
            }
            _ => Err(BodyError::UnsupportedMediaType(
                content_type.unwrap_or_default().to_owned(),
            )),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
        Value::Object(_) => "dict",
    }
}

/// A request body parsed into [`Fields`], or why it could not be.
pub struct Body(pub Result<Fields, BodyError>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let parsed = match Bytes::from_request(req, state).await {
            Ok(bytes) => Fields::from_bytes(content_type.as_deref(), &bytes),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(BodyError::TooLarge)
            }
            Err(_) => Err(BodyError::Unreadable),
        };
        Ok(Body(parsed))
    }
}

/// The client's address: the TCP `peer`, or — when the peer is a trusted proxy — the rightmost
/// address of `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    // A dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`; compare and count them as IPv4.
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // A hop we cannot read: trust nothing to its left.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn every_value_of_a_repeated_form_field_is_kept_and_the_last_one_counts() {
        let form = Some("application/x-www-form-urlencoded");
        let fields = Fields::from_bytes(form, b"resource=a&scope=x&resource=b&resource=c").unwrap();
        assert_eq!(fields.every("resource"), ["a", "b", "c"]);
        assert_eq!(fields.string("resource").unwrap(), "c");
        assert_eq!(fields.every("scope"), ["x"]);
        assert!(fields.every("absent").is_empty());
        let json = Fields::from_bytes(Some("application/json"), br#"{"resource": "a"}"#).unwrap();
        assert_eq!(json.every("resource"), ["a"]);
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            client_address(peer, &h, &["10.0.0.0/8".parse().unwrap()]),
            peer
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.3")]);
        let client = client_address("10.0.0.2".parse().unwrap(), &h, &trusted);
        assert_eq!(client, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_proxies_and_count_as_ipv4() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "::ffff:198.51.100.7")]);
        let client = client_address("::ffff:10.0.0.2".parse().unwrap(), &h, &trusted);
        assert_eq!(client, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn char_fields_follow_drf() {
        let f = Fields::from_bytes(
            Some("application/json; charset=utf-8"),
            br#"{"a": "  ", "b": null, "c": 12, "d": true, "e": " x "}"#,
        )
        .unwrap();
        assert_eq!(f.text("a"), Err(FieldError::Blank));
        assert_eq!(f.text("b"), Err(FieldError::Null));
        assert_eq!(f.text("c"), Ok("12".into()));
        assert_eq!(f.text("d"), Err(FieldError::NotAString));
        assert_eq!(f.text("e"), Ok(" x ".into()));
        assert_eq!(f.text("z"), Err(FieldError::Required));
    }

    #[test]
    fn bodies_that_are_not_objects_or_not_supported_are_refused() {
        assert_eq!(
            Fields::from_bytes(Some("application/json"), b"[1]").unwrap_err(),
            BodyError::NotAnObject("list")
        );
        assert!(matches!(
            Fields::from_bytes(Some("application/json"), b"{"),
            Err(BodyError::Json(_))
        ));
        assert_eq!(
            Fields::from_bytes(Some("text/plain"), b"x").unwrap_err(),
            BodyError::UnsupportedMediaType("text/plain".into())
        );
        assert!(Fields::from_bytes(None, b"").is_ok());
    }
}
