//! The authorization endpoint's rules: validating a request, deciding between a code
//! and a consent prompt, recording the user's answer, and issuing codes.
//!
//! An unknown client or an unregistered redirect URI is answered with an error page,
//! never a redirect (nothing proves the URI belongs to the client). Every other error
//! redirects to the client with `error`, `state` and `iss` (RFC 9207).

use chrono::{DateTime, Utc};
use entity::{oauth_client, oauth_code, oauth_consent, oauth_request, oauth_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{CODE_TTL, REQUEST_TTL, clients, parse_scopes, scope_description, scopes_of};
use crate::{
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::audit::{self, Entry, Target},
    state::AppState,
};

/// The query of `GET /oauth/authorize`.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    /// OIDC Core §3.1.2.1: `mfa` (or the PAPE multi-factor policy URI) asks for a
    /// sign-in with a second factor (docs/src/mfa.md).
    pub acr_values: Option<String>,
    /// OIDC Core §3.1.2.1: the longest acceptable time since the user authenticated.
    pub max_age: Option<String>,
    /// RFC 8707: the API resource the access token will be for.
    pub resource: Option<String>,
}

/// `acr_values` that ask for a second factor.
pub const ACR_MFA: &[&str] = &[
    "mfa",
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
];

/// Why a request cannot proceed.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the user; the client is not trusted with a redirect.
    Page(String),
    /// Sent back to the client's redirect URI.
    Redirect(String),
    /// Anything else (database, …).
    Other(Error),
}

impl From<Error> for AuthorizeError {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

impl From<sea_orm::DbErr> for AuthorizeError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Other(e.into())
    }
}

/// A validated request.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub client: oauth_client::Model,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    /// `prompt=consent`: ask even when the user already consented.
    pub prompt_consent: bool,
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// `acr_values` asked for a second factor.
    pub require_mfa: bool,
    /// The API resource (RFC 8707), by identifier.
    pub resource: Option<String>,
}

/// `redirect_uri` with the given parameters and `iss` added to its query.
pub fn redirect_with(redirect_uri: &str, issuer: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in params {
                    query.append_pair(k, v);
                }
                query.append_pair("iss", issuer);
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

fn error_redirect(
    state: &AppState,
    slug: &str,
    redirect_uri: &str,
    error: &str,
    description: &str,
    client_state: Option<&str>,
) -> AuthorizeError {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    AuthorizeError::Redirect(redirect_with(redirect_uri, &state.issuer(slug), &params))
}

fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Validates an authorization request (RFC 6749 §4.1, RFC 9700; docs/src/oauth-provider.md).
pub async fn validate(
    state: &AppState,
    app: &entity::app::Model,
    params: &AuthorizeParams,
) -> std::result::Result<ValidRequest, AuthorizeError> {
    let client_id = params
        .client_id
        .as_deref()
        .ok_or_else(|| AuthorizeError::Page("The request has no client_id.".into()))?;
    let client = clients::find(state, app.id, client_id)
        .await?
        .filter(|c| c.is_active)
        .ok_or_else(|| {
            AuthorizeError::Page(
                "This application is not registered (unknown or inactive client).".into(),
            )
        })?;
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .ok_or_else(|| AuthorizeError::Page("The request has no redirect_uri.".into()))?;
    if !clients::redirect_uris(&client)
        .iter()
        .any(|u| u == redirect_uri)
    {
        return Err(AuthorizeError::Page(
            "The redirect URI is not registered for this application.".into(),
        ));
    }
    let client_state = params.state.as_deref();
    let fail = |error: &str, description: &str| {
        error_redirect(
            state,
            &app.name,
            redirect_uri,
            error,
            description,
            client_state,
        )
    };
    if params.state.as_ref().is_some_and(|s| s.len() > 1024)
        || params.nonce.as_ref().is_some_and(|n| n.len() > 1024)
    {
        return Err(fail(
            "invalid_request",
            "state and nonce must be at most 1024 characters",
        ));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err(fail("invalid_request", "response_type is required")),
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    let scope = params
        .scope
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| fail("invalid_request", "scope is required"))?;
    let scopes = parse_scopes(scope);
    let allowed = clients::allowed_scopes(&client);
    // RFC 8707: the API the token is for, with its declared scopes.
    let resource = match params.resource.as_deref() {
        None => None,
        Some(identifier) => match super::resources::resolve(state, app.id, identifier).await {
            Ok(resource) => Some(resource),
            Err(e) if e.error == "invalid_target" => {
                return Err(fail("invalid_target", &e.description));
            }
            Err(e) => return Err(AuthorizeError::Other(Error::internal(e.description))),
        },
    };
    let resource_scopes = resource
        .as_ref()
        .map(super::resources::scopes)
        .unwrap_or_default();
    if let Some(bad) = scopes.iter().find(|s| {
        let standard = scope_description(s).is_some() && allowed.contains(s);
        !standard && !resource_scopes.contains(s)
    }) {
        let message = match &resource {
            Some(r) => format!(
                "scope '{bad}' is unknown for the resource {} or not allowed for this client",
                r.identifier
            ),
            None => format!("scope '{bad}' is unknown or not allowed for this client"),
        };
        return Err(fail("invalid_scope", &message));
    }
    let code_challenge = match (
        &params.code_challenge,
        params.code_challenge_method.as_deref(),
    ) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), method) if method != Some("S256") => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        (Some(challenge), _) if !is_pkce_value(challenge) => {
            return Err(fail(
                "invalid_request",
                "code_challenge must be 43-128 characters of base64url",
            ));
        }
        (Some(challenge), _) => Some(challenge.clone()),
    };
    if code_challenge.is_none() && client.client_type == clients::PUBLIC {
        return Err(fail(
            "invalid_request",
            "public clients must use PKCE (code_challenge with S256)",
        ));
    }
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .collect();
    if prompts.contains(&"none") && prompts.len() > 1 {
        return Err(fail("invalid_request", "prompt=none cannot be combined"));
    }
    let max_age = match params.max_age.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<i64>() {
            Ok(value) if value >= 0 => Some(value),
            _ => {
                return Err(fail(
                    "invalid_request",
                    "max_age must be a non-negative number of seconds",
                ));
            }
        },
    };
    let require_mfa = params
        .acr_values
        .as_deref()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .any(|v| ACR_MFA.contains(&v));
    Ok(ValidRequest {
        max_age,
        require_mfa,
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: params.state.clone(),
        nonce: params.nonce.clone(),
        code_challenge,
        prompt_none: prompts.contains(&"none"),
        prompt_login: prompts.contains(&"login"),
        prompt_consent: prompts.contains(&"consent"),
        resource: resource.map(|r| r.identifier),
        client,
    })
}

/// The result of an authorization request for a signed-in user.
pub enum Decision {
    /// Redirect the user agent here (a code, or an error).
    Redirect(String),
    /// Ask the user.
    Consent(Box<oauth_request::Model>),
}

/// Whether the user's remembered consent covers `scopes`.
async fn consented(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    client_id: Uuid,
    scopes: &[String],
) -> Result<bool> {
    let found = oauth_consent::Entity::find()
        .filter(oauth_consent::Column::UserId.eq(user_id))
        .filter(oauth_consent::Column::ClientId.eq(client_id))
        .one(conn)
        .await?;
    Ok(found.is_some_and(|c| {
        let granted = scopes_of(&c.scopes);
        scopes.iter().all(|s| granted.contains(s))
    }))
}

#[allow(clippy::too_many_arguments)]
async fn issue_code(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    client_id: Uuid,
    user_id: Uuid,
    session_id: Option<Uuid>,
    redirect_uri: &str,
    scopes: &[String],
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: DateTime<Utc>,
    resource: Option<String>,
) -> Result<String> {
    let code = crypto::generate_secret(prefix::AUTH_CODE)?;
    let now = state.now();
    oauth_code::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        client_id: Set(client_id),
        user_id: Set(user_id),
        session_id: Set(session_id),
        code_hash: Set(state.hasher.hash(&code)),
        redirect_uri: Set(redirect_uri.to_owned()),
        scopes: Set(json!(scopes)),
        nonce: Set(nonce),
        code_challenge: Set(code_challenge),
        auth_time: Set(auth_time),
        created_at: Set(now),
        expires_at: Set(now + CODE_TTL),
        used_at: Set(None),
        grant_id: Set(db::new_id()),
        resource: Set(resource),
    }
    .insert(conn)
    .await?;
    Ok(code)
}

/// Decides for a signed-in user: a code at once (first-party client, or consent
/// already given for these scopes), or a pending request awaiting consent.
pub async fn decide(
    state: &AppState,
    app: &entity::app::Model,
    request: &ValidRequest,
    user: &user::Model,
    session_id: Option<Uuid>,
    auth_time: DateTime<Utc>,
) -> std::result::Result<Decision, AuthorizeError> {
    let client_state = request.state.as_deref();
    let fail = |error: &str, description: &str| {
        error_redirect(
            state,
            &app.name,
            &request.redirect_uri,
            error,
            description,
            client_state,
        )
    };
    if user.status != crate::services::users::STATUS_ACTIVE {
        return Err(fail("access_denied", "the account is deactivated"));
    }
    let skip = !request.prompt_consent
        && (request.client.is_first_party
            || consented(&*state.db, user.id, request.client.id, &request.scopes).await?);
    let txn = state.db.begin_write().await?;
    if skip {
        let code = issue_code(
            &txn,
            state,
            app.id,
            request.client.id,
            user.id,
            session_id,
            &request.redirect_uri,
            &request.scopes,
            request.nonce.clone(),
            request.code_challenge.clone(),
            auth_time,
            request.resource.clone(),
        )
        .await?;
        txn.commit().await?;
        let mut params = vec![("code", code.as_str())];
        if let Some(s) = client_state {
            params.push(("state", s));
        }
        return Ok(Decision::Redirect(redirect_with(
            &request.redirect_uri,
            &state.issuer(&app.name),
            &params,
        )));
    }
    if request.prompt_none {
        return Err(fail(
            "consent_required",
            "the user has not consented to this client",
        ));
    }
    let now = state.now();
    let pending = oauth_request::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        client_id: Set(request.client.id),
        user_id: Set(user.id),
        session_id: Set(session_id),
        redirect_uri: Set(request.redirect_uri.clone()),
        scopes: Set(json!(request.scopes)),
        state: Set(request.state.clone()),
        nonce: Set(request.nonce.clone()),
        code_challenge: Set(request.code_challenge.clone()),
        auth_time: Set(auth_time),
        created_at: Set(now),
        expires_at: Set(now + REQUEST_TTL),
        decided_at: Set(None),
        resource: Set(request.resource.clone()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Decision::Consent(Box::new(pending)))
}

/// A pending request of this user, still open.
pub async fn pending(
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    id: &str,
) -> Result<(oauth_request::Model, oauth_client::Model)> {
    let not_found = || Error::not_found("authorization request not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let request = oauth_request::Entity::find_by_id(id)
        .filter(oauth_request::Column::AppId.eq(app_id))
        .filter(oauth_request::Column::UserId.eq(user_id))
        .one(&*state.db)
        .await?
        .ok_or_else(not_found)?;
    if request.decided_at.is_some() {
        return Err(Error::Gone(
            "this authorization request was already answered".into(),
        ));
    }
    if request.expires_at <= state.now() {
        return Err(Error::Gone(
            "this authorization request has expired (after 15 minutes)".into(),
        ));
    }
    let client = oauth_client::Entity::find_by_id(request.client_id)
        .one(&*state.db)
        .await?
        .filter(|c| c.is_active)
        .ok_or_else(not_found)?;
    Ok((request, client))
}

/// Records the user's answer; returns where to send the user agent.
pub async fn answer(
    state: &AppState,
    app: &entity::app::Model,
    user_id: Uuid,
    request_id: &str,
    approved: bool,
    meta: &RequestMeta,
) -> Result<String> {
    let (request, client) = pending(state, app.id, user_id, request_id).await?;
    let scopes = scopes_of(&request.scopes);
    let issuer = state.issuer(&app.name);
    let actor = crate::access::Actor {
        kind: "end_user",
        id: user_id.to_string(),
    };
    let txn = state.db.begin_write().await?;
    // Answer once, even under concurrent submissions.
    let claimed = oauth_request::Entity::update_many()
        .col_expr(oauth_request::Column::DecidedAt, Expr::value(state.now()))
        .filter(oauth_request::Column::Id.eq(request.id))
        .filter(oauth_request::Column::DecidedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(Error::Gone(
            "this authorization request was already answered".into(),
        ));
    }
    if !approved {
        txn.commit().await?;
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "the user denied the request"),
        ];
        if let Some(s) = request.state.as_deref() {
            params.push(("state", s));
        }
        return Ok(redirect_with(&request.redirect_uri, &issuer, &params));
    }
    remember_consent(&txn, state, app.id, user_id, client.id, &scopes).await?;
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "consent.granted", actor)
            .target(Target::new("oauth_client", client.id))
            .metadata(json!({ "user_id": user_id, "client_id": client.id, "scopes": scopes })),
    )
    .await?;
    let code = issue_code(
        &txn,
        state,
        app.id,
        client.id,
        user_id,
        request.session_id,
        &request.redirect_uri,
        &scopes,
        request.nonce.clone(),
        request.code_challenge.clone(),
        request.auth_time,
        request.resource.clone(),
    )
    .await?;
    txn.commit().await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = request.state.as_deref() {
        params.push(("state", s));
    }
    Ok(redirect_with(&request.redirect_uri, &issuer, &params))
}

async fn remember_consent(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    client_id: Uuid,
    scopes: &[String],
) -> Result<()> {
    let now = state.now();
    let existing = oauth_consent::Entity::find()
        .filter(oauth_consent::Column::UserId.eq(user_id))
        .filter(oauth_consent::Column::ClientId.eq(client_id))
        .one(conn)
        .await?;
    match existing {
        Some(consent) => {
            let mut granted = scopes_of(&consent.scopes);
            granted.extend(scopes.iter().cloned());
            let granted = parse_scopes(&granted.join(" "));
            let mut model = consent.into_active_model();
            model.scopes = Set(json!(granted));
            model.updated_at = Set(now);
            model.update(conn).await?;
        }
        None => {
            oauth_consent::ActiveModel {
                id: Set(db::new_id()),
                app_id: Set(app_id),
                user_id: Set(user_id),
                client_id: Set(client_id),
                scopes: Set(json!(scopes)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(conn)
            .await?;
        }
    }
    Ok(())
}

/// The consent payload (docs/src/oauth-provider.md).
pub fn consent_payload(
    request: &oauth_request::Model,
    client: &oauth_client::Model,
) -> serde_json::Value {
    let scopes: Vec<serde_json::Value> = scopes_of(&request.scopes)
        .iter()
        .map(|s| {
            let description = match (scope_description(s), &request.resource) {
                (Some(d), _) => d.to_owned(),
                (None, Some(resource)) => format!("Use {resource} ({s})"),
                (None, None) => String::new(),
            };
            json!({ "name": s, "description": description })
        })
        .collect();
    json!({
        "consent_required": true,
        "client": {
            "id": client.id,
            "name": client.name,
            "logo_url": client.logo_url,
            "homepage_url": client.homepage_url,
            "privacy_policy_url": client.privacy_policy_url,
            "terms_of_service_url": client.terms_of_service_url,
        },
        "requested_scopes": scopes,
        "pending_authorization_id": request.id,
        "resource": request.resource,
        "expires_at": request.expires_at,
    })
}

/// A user's consents with their clients.
pub async fn consents_of(
    state: &AppState,
    me: &crate::access::Me,
) -> Result<Vec<(oauth_consent::Model, oauth_client::Model)>> {
    let (app_id, user_id) = (me.app().id, me.user_id());
    let rows = oauth_consent::Entity::find()
        .filter(oauth_consent::Column::AppId.eq(app_id))
        .filter(oauth_consent::Column::UserId.eq(user_id))
        .find_also_related(oauth_client::Entity)
        .all(&*state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, client)| client.map(|cl| (c, cl)))
        .collect())
}

/// Deletes the user's consent to a client and revokes every token it produced.
pub async fn revoke_consent(
    state: &AppState,
    me: &crate::access::Me,
    client_id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let (app_id, user_id) = (me.app().id, me.user_id());
    let not_found = || Error::not_found("consent not found");
    let client_id = Uuid::parse_str(client_id).map_err(|_| not_found())?;
    let txn = state.db.begin_write().await?;
    let deleted = oauth_consent::Entity::delete_many()
        .filter(oauth_consent::Column::AppId.eq(app_id))
        .filter(oauth_consent::Column::UserId.eq(user_id))
        .filter(oauth_consent::Column::ClientId.eq(client_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(not_found());
    }
    oauth_token::Entity::update_many()
        .col_expr(oauth_token::Column::RevokedAt, Expr::value(state.now()))
        .filter(oauth_token::Column::UserId.eq(user_id))
        .filter(oauth_token::Column::ClientId.eq(client_id))
        .filter(oauth_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app_id,
            "consent.revoked",
            crate::access::Actor {
                kind: "end_user",
                id: user_id.to_string(),
            },
        )
        .target(Target::new("oauth_client", client_id))
        .metadata(json!({ "user_id": user_id, "client_id": client_id })),
    )
    .await?;
    Ok(())
}
