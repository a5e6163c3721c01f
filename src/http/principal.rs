//! The axum extractor of the caller: `Principal` (required) and `Option<Principal>` (anonymous
//! allowed). The result is cached in the request extensions.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri},
    http::{HeaderMap, header, request::Parts},
};

use crate::{
    access::Principal,
    error::{Error, Result},
    services::{authenticate, console},
    state::AppState,
};

#[derive(Clone)]
struct Authenticated(Option<Principal>);

/// Authenticates the request once; `Ok(None)` when no credential was sent.
pub async fn principal_of(parts: &mut Parts, state: &AppState) -> Result<Option<Principal>> {
    if let Some(Authenticated(cached)) = parts.extensions.get::<Authenticated>() {
        return Ok(cached.clone());
    }
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |o| o.0.path());
    let target = authenticate::RequestTarget {
        method: parts.method.as_str(),
        path,
    };
    let principal = presented(state, &parts.headers, Some(target)).await?;
    parts.extensions.insert(Authenticated(principal.clone()));
    Ok(principal)
}

/// The caller named by `Authorization: Bearer …`; `Ok(None)` without the header.
pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>> {
    presented(state, headers, None).await
}

/// The caller named by `Authorization: Bearer …`, or by `Authorization: DPoP …` with
/// its `DPoP` proof where `target` says where the request went (RFC 9449).
pub async fn presented(
    state: &AppState,
    headers: &HeaderMap,
    target: Option<authenticate::RequestTarget<'_>>,
) -> Result<Option<Principal>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Error::invalid_token("the Authorization header is not valid text"))?;
    let mut proofs = headers.get_all("dpop").iter();
    let proof = proofs.next().and_then(|v| v.to_str().ok());
    if proofs.next().is_some() {
        return Err(Error::dpop_refused(
            "invalid_dpop_proof",
            "send one DPoP header",
            None,
        ));
    }
    let presented = authenticate::Presented {
        authorization: value,
        dpop_proof: proof,
        target,
    };
    Ok(Some(
        authenticate::authenticate_presented(state, presented).await?,
    ))
}

/// The caller named by the admin console's session cookie, which counts only with
/// the session's CSRF header (`/graphql` accepts it; docs/src/console.md). `Ok(None)`
/// without the cookie.
pub async fn from_console_cookie(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>> {
    let Some(secret) = super::pages::cookie(headers, console::COOKIE) else {
        return Ok(None);
    };
    let csrf = headers
        .get(console::CSRF_HEADER)
        .and_then(|v| v.to_str().ok());
    Ok(Some(console::authenticate(state, &secret, csrf).await?))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        principal_of(parts, state)
            .await?
            .ok_or_else(|| Error::unauthenticated("a bearer token is required"))
    }
}

impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>> {
        principal_of(parts, state).await
    }
}
