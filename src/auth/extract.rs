//! The axum extractor: `Principal` (required) and `Option<Principal>` (anonymous
//! allowed). The result is cached in the request extensions.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{header, request::Parts},
};

use super::{Principal, authenticate};
use crate::{
    error::{Error, Result},
    state::AppState,
};

#[derive(Clone)]
struct Authenticated(Option<Principal>);

/// Authenticates the request once; `Ok(None)` when no credential was sent.
pub async fn principal_of(parts: &mut Parts, state: &AppState) -> Result<Option<Principal>> {
    if let Some(Authenticated(cached)) = parts.extensions.get::<Authenticated>() {
        return Ok(cached.clone());
    }
    let principal = match parts.headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| Error::invalid_token("the Authorization header is not valid text"))?;
            let token = authenticate::bearer_token(value)?;
            Some(authenticate::authenticate(state, token).await?)
        }
    };
    parts.extensions.insert(Authenticated(principal.clone()));
    Ok(principal)
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
