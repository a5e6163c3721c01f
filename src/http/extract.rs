//! Request extractors whose rejections are REST errors (docs/src/api-conventions.md): malformed JSON → 400
//! naming the field, wrong content type → 415, oversized body → 413, bad query or
//! path → 400.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{
    db::PageRequest,
    error::{Error, Result},
    state::AppState,
};

/// Whether the request declares a JSON body.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Reads the body within the configured limit.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes> {
    Bytes::from_request(req, state).await.map_err(body_error)
}

fn body_error(rejection: BytesRejection) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge("the request body is too large".into())
    } else {
        Error::invalid(format!(
            "the request body could not be read: {}",
            rejection.body_text()
        ))
    }
}

/// Parses JSON, naming the offending field in `details.fields`: a
/// missing, unknown or ill-typed field alike.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        if inner.is_syntax() || inner.is_eof() {
            return Error::invalid(format!("the request body is not valid JSON: {message}"));
        }
        let parent = if path == "." { "" } else { path.as_str() };
        match field_of(parent, &message) {
            Some(field) => Error::InvalidRequest {
                details: Some(json!({ "fields": { field.clone(): message } })),
                message: format!("{field}: {message}"),
            },
            None => Error::InvalidRequest {
                details: None,
                message: format!("invalid request body: {message}"),
            },
        }
    })
}

/// The field a deserialisation error is about: the path where it happened, or, for
/// serde's "missing field `x`" and "unknown field `x`" (reported at the enclosing
/// object), that object's path plus the named field.
fn field_of(path: &str, message: &str) -> Option<String> {
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|lead| message.strip_prefix(lead))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (named, path) {
        (Some(name), "") => Some(name.to_owned()),
        (Some(name), parent) if !parent.ends_with(name) => Some(format!("{parent}.{name}")),
        (_, "") => None,
        (_, path) => Some(path.to_owned()),
    }
}

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        if !is_json(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "the request body must be JSON (Content-Type: application/json)".into(),
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: an empty body is `None`.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let json = is_json(req.headers());
        let has_type = req.headers().contains_key(header::CONTENT_TYPE);
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if !json {
            return Err(Error::UnsupportedMediaType(if has_type {
                "the request body must be JSON (Content-Type: application/json)".into()
            } else {
                "a request body needs Content-Type: application/json".into()
            }));
        }
        parse_json(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| Error::invalid(format!("invalid query string: {e}")))
    }
}

/// `?limit=&cursor=`, validated.
#[derive(Debug, Clone, Copy)]
pub struct Pagination(pub PageRequest);

#[derive(serde::Deserialize)]
struct RawPage {
    limit: Option<String>,
    cursor: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let ApiQuery(raw) = ApiQuery::<RawPage>::from_request_parts(parts, state).await?;
        PageRequest::parse(raw.limit.as_deref(), raw.cursor.as_deref()).map(Pagination)
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| Error::invalid(format!("invalid path parameter: {}", e.body_text())))
    }
}

/// Where the request came from (never fails).
impl FromRequestParts<AppState> for crate::request::RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, state.config.trust_proxy))
    }
}

/// Parses a uuid path segment; anything else names a resource that does not exist.
pub fn uuid_param(text: &str, what: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(text).map_err(|_| Error::not_found(format!("{what} not found")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        url: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        password: String,
        inner: Option<Inner>,
        count: Option<u32>,
    }

    fn fields(body: &str) -> serde_json::Value {
        match parse_json::<Body>(body.as_bytes()) {
            Err(error) => error.details().unwrap_or_default()["fields"].clone(),
            Ok(parsed) => panic!("parsed {parsed:?}"),
        }
    }

    #[test]
    fn details_name_missing_unknown_and_ill_typed_fields() {
        let missing = fields(r#"{"email": "a@b.c"}"#);
        assert!(missing["password"].is_string(), "{missing}");
        let unknown = fields(r#"{"email": "a", "password": "b", "colour": 1}"#);
        assert!(unknown["colour"].is_string(), "{unknown}");
        let typed = fields(r#"{"email": "a", "password": "b", "count": "x"}"#);
        assert!(typed["count"].is_string(), "{typed}");
        let nested = fields(r#"{"email": "a", "password": "b", "inner": {}}"#);
        assert!(nested["inner.url"].is_string(), "{nested}");
        let nested = fields(r#"{"email": "a", "password": "b", "inner": {"url": "u", "x": 1}}"#);
        assert!(nested["inner.x"].is_string(), "{nested}");
    }
}
