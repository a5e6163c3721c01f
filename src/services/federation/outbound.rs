//! Outbound HTTP to identity providers: one client with timeouts, no redirects,
//! bounded response sizes, and the URL rules upstream endpoints must follow.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};

/// Responses larger than this are refused (a JWKS or token response is a few KiB).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client for upstream identity providers.
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
}

/// An upstream answer: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Outbound {
    pub fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("heimdall/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the outbound HTTP client: {e}"))?;
        Ok(Self { client })
    }

    /// `GET` a JSON document; anything but a 200 with a JSON body is an error.
    pub async fn get_json(&self, url: &Url, what: &str) -> Result<Value> {
        let request = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        let answer = self.send(request, what).await?;
        if answer.status != 200 {
            return Err(unavailable(
                what,
                format!("answered HTTP {}", answer.status),
            ));
        }
        if answer.body.is_null() {
            return Err(unavailable(what, "answered something that is not JSON"));
        }
        Ok(answer.body)
    }

    /// `POST` a form (token endpoints), optionally with HTTP Basic client
    /// authentication (RFC 6749 §2.3.1: both parts form-urlencoded first).
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
        what: &str,
    ) -> Result<Answer> {
        let body = serde_urlencoded::to_string(form).map_err(Error::internal)?;
        let mut request = self
            .client
            .post(url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if let Some((id, secret)) = basic {
            let encode = |s: &str| -> String {
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
            };
            let pair = format!("{}:{}", encode(id), encode(secret));
            request = request.header(
                reqwest::header::AUTHORIZATION,
                format!("Basic {}", STANDARD.encode(pair)),
            );
        }
        self.send(request, what).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Answer> {
        // The request being served continues its trace at the provider
        // (docs/src/production.md#tracing).
        let (span, request) = match crate::trace::outbound("identity provider") {
            Some((span, traceparent)) => (span, request.header("traceparent", traceparent)),
            None => (tracing::Span::none(), request),
        };
        let request = match crate::trace::current_state() {
            Some(tracestate) => request.header("tracestate", &*tracestate),
            None => request,
        };
        let mut response = tracing::Instrument::instrument(request.send(), span)
            .await
            .map_err(|e| unavailable(what, e.without_url()))?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(unavailable(
                what,
                "answered with a response that is too large",
            ));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| unavailable(what, e.without_url()))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(unavailable(
                    what,
                    "answered with a response that is too large",
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}

fn unavailable(what: &str, cause: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("{what} could not be used: {cause}"))
}

/// Whether a URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            domain.eq_ignore_ascii_case("localhost") || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// An upstream endpoint (issuer, discovery, JWKS, token, authorization URL): an
/// absolute `https` URL without credentials or fragment; plain `http` only on a
/// loopback host and only when `allow_loopback` is set.
pub fn upstream_url(field: &str, value: &str, allow_loopback: bool) -> Result<Url> {
    if value.len() > 2048 || value.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            "must be a URL of at most 2048 characters without control characters",
        ));
    }
    let url =
        Url::parse(value).map_err(|_| Error::invalid_field(field, "must be an absolute URL"))?;
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_field(
            field,
            "must be an absolute URL with a host and no credentials",
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_field(field, "must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_loopback && is_loopback(&url) => Ok(url),
        "http" if is_loopback(&url) => Err(Error::invalid_field(
            field,
            "must use https (http on loopback hosts needs HEIMDALL_FEDERATION_ALLOW_LOOPBACK=true)",
        )),
        _ => Err(Error::invalid_field(field, "must use https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls_must_be_https() {
        assert!(upstream_url("u", "https://accounts.example.com", false).is_ok());
        assert!(upstream_url("u", "http://accounts.example.com", true).is_err());
        assert!(upstream_url("u", "http://127.0.0.1:9000/x", false).is_err());
        assert!(upstream_url("u", "http://127.0.0.1:9000/x", true).is_ok());
        assert!(upstream_url("u", "http://[::1]:9000/x", true).is_ok());
        assert!(upstream_url("u", "http://localhost/x", true).is_ok());
        assert!(upstream_url("u", "https://user:pw@example.com", false).is_err());
        assert!(upstream_url("u", "https://example.com/#frag", false).is_err());
        assert!(upstream_url("u", "ftp://example.com", true).is_err());
        assert!(upstream_url("u", "not a url", true).is_err());
    }
}
