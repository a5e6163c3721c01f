//! The token endpoint for OAuth clients (docs/src/oauth-provider.md,
//! docs/src/oauth-extensions.md): the authorization-code, refresh-token, device and
//! (token exchange: `exchange`) grants, with the API resource they are for (RFC 8707) and the
//! DPoP key they are bound to (RFC 9449).

use serde_json::Value;

use super::{OAuthError, device, dpop, grants, resources};
use crate::{request::RequestMeta, state::AppState};

/// A grant as the client asked for it.
pub enum Grant<'a> {
    AuthorizationCode {
        code: &'a str,
        redirect_uri: Option<&'a str>,
        verifier: Option<&'a str>,
    },
    Refresh {
        refresh_token: &'a str,
        scope: Option<&'a str>,
    },
    Device {
        device_code: &'a str,
    },
}

/// A token request of an authenticated client.
pub struct Request<'a> {
    pub grant: Grant<'a>,
    /// RFC 8707 `resource`.
    pub resource: Option<&'a str>,
    /// The `DPoP` header (RFC 9449).
    pub dpop_proof: Option<&'a str>,
}

/// The key a token request proves possession of: `None` without a proof (refused
/// when the client's tokens must be DPoP-bound).
pub async fn dpop_key(
    state: &AppState,
    app: &entity::app::Model,
    client: &entity::oauth_client::Model,
    proof: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let Some(proof) = proof else {
        if client.dpop_bound_access_tokens {
            return Err(OAuthError::dpop(dpop::ProofError::invalid(
                "this client's tokens are DPoP-bound: send a DPoP proof",
            )));
        }
        return Ok(None);
    };
    let nonce_required = state.apps.settings(app).await.dpop_nonce_required;
    let urls = dpop::endpoint_urls(state, app, "/v1/oauth/token");
    let expected = dpop::Expected {
        htm: "POST",
        htu: &urls,
        access_token: None,
        app_id: app.id,
        nonce_required,
    };
    match dpop::verify(state, proof, &expected).await? {
        Ok(jkt) => Ok(Some(jkt)),
        Err(refused) => Err(OAuthError::dpop(refused)),
    }
}

/// Runs a grant; returns the token response.
pub async fn grant(
    state: &AppState,
    app: &entity::app::Model,
    client: &entity::oauth_client::Model,
    request: Request<'_>,
    meta: &RequestMeta,
) -> Result<Value, OAuthError> {
    let jkt = dpop_key(state, app, client, request.dpop_proof).await?;
    // RFC 8707: the API the access token is for (checked before the grant is spent).
    let asked = match request.resource {
        Some(identifier) => Some(resources::resolve(state, app.id, identifier).await?),
        None => None,
    };
    let asked_id = asked.as_ref().map(|r| r.identifier.as_str());
    let mut issued = match request.grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            verifier,
        } => {
            grants::authorization_code(
                state,
                app,
                client,
                code,
                redirect_uri,
                verifier,
                asked_id,
                jkt.as_deref(),
                meta,
            )
            .await?
        }
        Grant::Refresh {
            refresh_token,
            scope,
        } => {
            grants::refresh(
                state,
                app,
                client,
                refresh_token,
                scope,
                asked_id,
                jkt.as_deref(),
                meta,
            )
            .await?
        }
        Grant::Device { device_code } => {
            device::poll(state, app, client, device_code, jkt.as_deref(), meta).await?
        }
    };
    // The resource named at the authorization request, when the token request
    // names none.
    let resource = match (asked, issued.resource.as_deref()) {
        (Some(resource), _) => Some(resource),
        (None, Some(identifier)) => Some(resources::resolve(state, app.id, identifier).await?),
        (None, None) => None,
    };
    if let Some(resource) = resource.filter(|r| r.access_token_format == resources::FORMAT_JWT) {
        let (token, ttl) = resources::issue_jwt(
            state,
            app,
            client,
            &resource,
            resources::Subject {
                user_id: issued.user_id,
                scopes: &issued.scopes,
                auth_time: issued.auth_time,
                amr: issued.amr.clone(),
                dpop_jkt: issued.dpop_jkt.as_deref(),
                act: None,
                max_ttl: None,
            },
        )
        .await?;
        issued.access_token = token;
        issued.expires_in = ttl;
    }
    Ok(issued.body())
}
