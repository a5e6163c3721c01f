//! Turns a bearer credential into a [`Principal`]. A missing credential is
//! anonymous; a presented but bad one is an error (401), never anonymous.

use serde_json::Value;
use uuid::Uuid;

use crate::access::{EndUser, M2m, OAuthAccess, Principal};
use crate::{
    crypto::prefix,
    error::{Error, Result},
    services::{keys, m2m, sessions},
    state::AppState,
};

/// Parses an `Authorization` header value into the bearer token.
pub fn bearer_token(header: &str) -> Result<&str> {
    let (scheme, token) = header
        .split_once(' ')
        .ok_or_else(|| Error::invalid_token("the Authorization header must be `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::invalid_token(
            "only Bearer authorization is accepted",
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::invalid_token("the bearer token is empty"));
    }
    Ok(token)
}

/// Where a request went, for the `htm` and `htu` of a DPoP proof. The public URL
/// (`htu`) is built from the path only when a DPoP proof is checked, so a Bearer
/// request does not pay for it.
pub struct RequestTarget<'a> {
    pub method: &'a str,
    /// The request's path under the public origin (base path included), no query.
    pub path: &'a str,
}

/// How a request presented its access token (RFC 6750 or RFC 9449).
pub struct Presented<'a> {
    /// The `Authorization` header's value.
    pub authorization: &'a str,
    /// The `DPoP` header's value.
    pub dpop_proof: Option<&'a str>,
    /// `None` where the DPoP scheme is not accepted.
    pub target: Option<RequestTarget<'a>>,
}

/// Authenticates `Authorization: Bearer <token>` or `Authorization: DPoP <token>`
/// with its proof (docs/src/oauth-extensions.md#dpop). A DPoP-bound token presented
/// as a Bearer is refused, and so is a proof of another key; refusals carry a `DPoP`
/// challenge.
pub async fn authenticate_presented(
    state: &AppState,
    presented: Presented<'_>,
) -> Result<Principal> {
    use crate::services::oauth::dpop;
    let (scheme, token) = presented
        .authorization
        .split_once(' ')
        .map(|(s, t)| (s, t.trim()))
        .unwrap_or((presented.authorization, ""));
    if !scheme.eq_ignore_ascii_case(dpop::SCHEME) {
        let principal = authenticate(state, bearer_token(presented.authorization)?).await?;
        if let Principal::OAuth(access) = &principal
            && access.dpop_jkt.is_some()
        {
            return Err(Error::dpop_refused(
                "invalid_token",
                "this access token is DPoP-bound: send it as `Authorization: DPoP <token>` with a DPoP proof",
                None,
            ));
        }
        return Ok(principal);
    }
    let Some(target) = presented.target else {
        return Err(Error::invalid_token(
            "the DPoP scheme is not accepted here; send `Authorization: Bearer <token>`",
        ));
    };
    if token.is_empty() {
        return Err(Error::dpop_refused(
            "invalid_token",
            "the DPoP access token is empty",
            None,
        ));
    }
    let principal = authenticate(state, token).await?;
    let (app_id, bound) = match &principal {
        Principal::OAuth(access) => (access.app_id, access.dpop_jkt.clone()),
        _ => (Uuid::nil(), None),
    };
    let Some(bound) = bound else {
        return Err(Error::dpop_refused(
            "invalid_token",
            "this access token is not DPoP-bound: send it as a Bearer token",
            None,
        ));
    };
    let proof = presented.dpop_proof.ok_or_else(|| {
        Error::dpop_refused(
            "invalid_dpop_proof",
            "a DPoP proof (DPoP header) is required",
            None,
        )
    })?;
    let nonce_required = match state.apps.by_id(app_id).await? {
        Some(app) => state.apps.settings(&app).await.dpop_nonce_required,
        None => false,
    };
    let htu = [format!("{}{}", state.config.public_origin(), target.path)];
    let expected = dpop::Expected {
        htm: target.method,
        htu: &htu,
        access_token: Some(token),
        app_id,
        nonce_required,
    };
    match dpop::verify(state, proof, &expected).await? {
        Ok(jkt) if crate::crypto::ct_eq(jkt.as_bytes(), bound.as_bytes()) => Ok(principal),
        Ok(_) => Err(Error::dpop_refused(
            "invalid_dpop_proof",
            "the DPoP proof is not signed with the key the token is bound to",
            None,
        )),
        Err(refused) => Err(Error::dpop_refused(
            refused.error,
            refused.description,
            refused.nonce,
        )),
    }
}

/// Authenticates a bearer token of any kind.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal> {
    let principal = if token.starts_with(prefix::ROOT_KEY) {
        keys::authenticate_root(state, token).await?
    } else if token.starts_with(prefix::APP_KEY) {
        keys::authenticate_app_key(state, token).await?
    } else if token.starts_with(prefix::ACCESS_TOKEN) {
        oauth_access(state, token).await?
    } else if token.matches('.').count() == 2 {
        // RFC 9068 access tokens of API resources (docs/src/oauth-extensions.md).
        if crate::services::oauth::resources::is_at_jwt(token) {
            return crate::services::oauth::resources::authenticate_at_jwt(state, token).await;
        }
        return authenticate_jwt(state, token).await;
    } else {
        return Err(Error::invalid_token("the bearer token is not recognised"));
    };
    principal.ok_or_else(|| Error::invalid_token("the bearer token is invalid or has been revoked"))
}

/// Verifies an access token issued by Heimdall for one of its apps.
pub async fn authenticate_jwt(state: &AppState, token: &str) -> Result<Principal> {
    let verified = state
        .signing
        .verify(token)
        .await?
        .map_err(|e| Error::invalid_token(e.to_string()))?;
    let app = state
        .apps
        .by_id(verified.app_id)
        .await?
        .ok_or_else(|| Error::invalid_token("the token's app no longer exists"))?;
    let claims = &verified.claims;
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if !str_claim("iss").is_some_and(|iss| state.is_issuer(&app.name, iss)) {
        return Err(Error::invalid_token(
            "the token was not issued by this app's issuer",
        ));
    }
    let int_claim = |name: &str| claims.get(name).and_then(Value::as_i64).unwrap_or_default();
    let uuid_claim = |name: &str| str_claim(name).and_then(|s| Uuid::parse_str(s).ok());
    let malformed = || Error::invalid_token("the token's claims are malformed");
    let token_id = str_claim("jti").ok_or_else(malformed)?.to_owned();
    match str_claim("type") {
        Some("end_user") => {
            let user = EndUser {
                app_id: app.id,
                user_id: uuid_claim("sub").ok_or_else(malformed)?,
                session_id: uuid_claim("sid").ok_or_else(malformed)?,
                role: str_claim("role").ok_or_else(malformed)?.to_owned(),
                org_id: uuid_claim("org_id"),
                org_role: str_claim("org_role").map(str::to_owned),
                token_id,
                expires_at: int_claim("exp"),
                issued_at: int_claim("iat"),
                amr: claims
                    .get("amr")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                auth_time: claims.get("auth_time").and_then(Value::as_i64),
            };
            // Revoked sessions and deactivated users stop working at once, not at `exp`.
            sessions::check_live(state, &user).await?;
            Ok(Principal::EndUser(user))
        }
        Some("m2m") => {
            let client = M2m {
                app_id: app.id,
                client_id: str_claim("sub").ok_or_else(malformed)?.to_owned(),
                scopes: claims
                    .get("scopes")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                token_id,
                expires_at: int_claim("exp"),
                issued_at: int_claim("iat"),
            };
            // A deleted client or a rotated-out secret ends its tokens at once.
            m2m::check_live(state, &client).await?;
            Ok(Principal::M2m(client))
        }
        _ => Err(Error::invalid_token("the token is not an access token")),
    }
}

/// An opaque OAuth access token, looked up live (revocation is immediate).
async fn oauth_access(state: &AppState, token: &str) -> Result<Option<Principal>> {
    let Some(live) = crate::services::oauth::grants::live_access_token(state, token).await? else {
        return Ok(None);
    };
    let t = &live.token;
    Ok(Some(Principal::OAuth(OAuthAccess {
        app_id: t.app_id,
        user_id: t.user_id,
        client_id: t.client_id,
        scopes: crate::services::oauth::scopes_of(&t.scopes),
        token_id: t.id,
        expires_at: t.expires_at.timestamp(),
        issued_at: t.created_at.timestamp(),
        dpop_jkt: t.dpop_jkt.clone(),
        resource: t.resource.clone(),
        act: t.act.clone(),
    })))
}
