//! Token exchange, RFC 8693 (docs/src/oauth-extensions.md#token-exchange): a
//! confidential client whose policy allows it trades a user's access token of this
//! app (`subject_token`) for one with narrower scopes, or for one of the API
//! resources its policy names (`resource` or `audience`).
//!
//! Delegation is the rule: the new token names the acting party in `act` (the
//! `actor_token`'s subject, or else the client itself), nested over the subject
//! token's own `act`. Impersonation (no `act`) is for first-party clients only,
//! when they send no `actor_token`. Every exchange is audited (`oauth.token_exchanged`).

use chrono::{DateTime, Utc};
use entity::oauth_client;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use super::{ACCESS_TOKEN_TTL, OAuthError, clients, grants, parse_scopes, resources, token};
use crate::{
    access::Principal,
    db,
    error::Error,
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        authenticate,
    },
    state::AppState,
};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The only token type taken and issued.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The parameters of RFC 8693 §2.1.
pub struct Request<'a> {
    pub subject_token: &'a str,
    pub subject_token_type: &'a str,
    pub actor_token: Option<&'a str>,
    pub actor_token_type: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub requested_token_type: Option<&'a str>,
    /// The `DPoP` header: the new token is bound to its key.
    pub dpop_proof: Option<&'a str>,
}

/// An access token of this app, verified; `invalid_grant`-style refusals are `None`.
async fn live_token(
    state: &AppState,
    app: &entity::app::Model,
    token: &str,
) -> Result<Option<Principal>, OAuthError> {
    match authenticate::authenticate(state, token).await {
        Ok(principal) => Ok(Some(principal).filter(|p| match p {
            Principal::OAuth(a) => a.app_id == app.id,
            Principal::M2m(m) => m.app_id == app.id,
            Principal::EndUser(u) => u.app_id == app.id,
            _ => false,
        })),
        Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

/// The `act` of the new token: who acts, over who acted before.
fn actor_claim(actor: Option<&Principal>, client: &oauth_client::Model) -> Option<Value> {
    let sub = match actor {
        Some(Principal::OAuth(a)) => a.client_id.to_string(),
        Some(Principal::M2m(m)) => m.client_id.clone(),
        Some(Principal::EndUser(u)) => u.user_id.to_string(),
        Some(_) => client.id.to_string(),
        None if client.is_first_party => return None,
        None => client.id.to_string(),
    };
    Some(json!({ "sub": sub }))
}

/// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`.
pub async fn exchange(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    request: Request<'_>,
    meta: &RequestMeta,
) -> Result<Value, OAuthError> {
    if client.client_type != clients::CONFIDENTIAL {
        return Err(OAuthError::unauthorized_client(
            "token exchange is for confidential clients",
        ));
    }
    let policy = clients::TokenExchangePolicy::of(client)
        .filter(|p| p.allowed)
        .ok_or_else(|| {
            OAuthError::unauthorized_client(
                "this client may not exchange tokens (its token_exchange policy)",
            )
        })?;
    if request.subject_token_type != ACCESS_TOKEN_TYPE {
        return Err(OAuthError::invalid_request(format!(
            "subject_token_type must be {ACCESS_TOKEN_TYPE}"
        )));
    }
    if request
        .requested_token_type
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(OAuthError::invalid_request(format!(
            "only access tokens are issued: requested_token_type must be {ACCESS_TOKEN_TYPE}"
        )));
    }
    let target = match (request.resource, request.audience) {
        (Some(r), Some(a)) if r != a => {
            return Err(OAuthError::invalid_request(
                "resource and audience name different targets; send one",
            ));
        }
        (r, a) => r.or(a),
    };
    let resource = match target {
        None => None,
        Some(identifier) => {
            if !policy.audiences.iter().any(|a| a == identifier) {
                return Err(OAuthError::invalid_target(
                    "this client's token_exchange policy does not name that audience",
                ));
            }
            Some(resources::resolve(state, app.id, identifier).await?)
        }
    };
    let Some(Principal::OAuth(subject)) = live_token(state, app, request.subject_token).await?
    else {
        return Err(OAuthError::invalid_grant(
            "subject_token is not an active OAuth access token of this app",
        ));
    };
    let actor = match request.actor_token {
        None => None,
        Some(actor_token) => {
            if request.actor_token_type != Some(ACCESS_TOKEN_TYPE) {
                return Err(OAuthError::invalid_request(format!(
                    "actor_token_type must be {ACCESS_TOKEN_TYPE}"
                )));
            }
            Some(live_token(state, app, actor_token).await?.ok_or_else(|| {
                OAuthError::invalid_grant("actor_token is not an active access token of this app")
            })?)
        }
    };
    if actor.is_none() && request.actor_token_type.is_some() {
        return Err(OAuthError::invalid_request(
            "actor_token_type without actor_token",
        ));
    }
    // Scopes narrow, never widen.
    let scopes = match request.scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => subject.scopes.clone(),
        Some(asked) => {
            let asked = parse_scopes(asked);
            if asked.iter().any(|s| !subject.scopes.contains(s)) {
                return Err(OAuthError::invalid_scope(
                    "token exchange can only narrow the subject token's scopes",
                ));
            }
            asked
        }
    };
    let mut act = actor_claim(actor.as_ref(), client);
    if let (Some(act), Some(previous)) = (act.as_mut(), subject.act.clone()) {
        act["act"] = previous;
    }
    let impersonation = act.is_none();
    let jkt = token::dpop_key(state, app, client, request.dpop_proof).await?;
    // The new token does not outlive the subject token.
    let now = state.now();
    let remaining = subject.expires_at - now.timestamp();
    if remaining <= 0 {
        return Err(OAuthError::invalid_grant("subject_token has expired"));
    }
    // The subject token's grant and sign-in time, when it is one of our opaque tokens.
    let stored = entity::oauth_token::Entity::find_by_id(subject.token_id)
        .one(&*state.db)
        .await?;
    let grant_id = stored.as_ref().map_or_else(db::new_id, |t| t.grant_id);
    let auth_time = stored.as_ref().map_or_else(
        || DateTime::<Utc>::from_timestamp(subject.issued_at, 0).unwrap_or(now),
        |t| t.auth_time,
    );
    let (txn, access_token, expires_in) = match &resource {
        Some(r) if r.access_token_format == resources::FORMAT_JWT => {
            let (token, ttl) = resources::issue_jwt(
                state,
                app,
                client,
                r,
                resources::Subject {
                    user_id: subject.user_id,
                    scopes: &scopes,
                    auth_time,
                    amr: None,
                    dpop_jkt: jkt.as_deref(),
                    act: act.as_ref(),
                    max_ttl: Some(remaining),
                },
            )
            .await?;
            (state.db.begin_write().await?, token, ttl)
        }
        _ => {
            let ttl = remaining.min(
                resource
                    .as_ref()
                    .map_or(ACCESS_TOKEN_TTL.num_seconds(), |r| i64::from(r.token_ttl)),
            );
            let txn = state.db.begin_write().await?;
            let token = grants::store_token(
                &txn,
                state,
                app.id,
                client.id,
                subject.user_id,
                grant_id,
                grants::KIND_ACCESS,
                &scopes,
                auth_time,
                chrono::Duration::seconds(ttl),
                grants::Binding {
                    resource: resource.as_ref().map(|r| r.identifier.as_str()),
                    dpop_jkt: jkt.as_deref(),
                    act: act.as_ref(),
                },
            )
            .await?;
            (txn, token, ttl)
        }
    };
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app.id,
            "oauth.token_exchanged",
            crate::access::Actor {
                kind: "oauth_client",
                id: client.id.to_string(),
            },
        )
        .target(Target::user(subject.user_id))
        .metadata(json!({
            "client_id": client.id,
            "subject_client_id": subject.client_id,
            "audience": resource.as_ref().map(|r| r.identifier.clone()),
            "scopes": scopes,
            "impersonation": impersonation,
            "act": act,
        })),
    )
    .await?;
    Ok(json!({
        "access_token": access_token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": expires_in,
        "scope": scopes.join(" "),
    }))
}
