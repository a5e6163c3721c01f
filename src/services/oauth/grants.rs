//! The token endpoint's grants for OAuth clients (authorization code with PKCE,
//! refresh token), ID tokens, userinfo and revocation (RFC 7009).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{oauth_client, oauth_code, oauth_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    ACCESS_TOKEN_TTL, ID_TOKEN_TTL, OAuthError, REFRESH_TOKEN_TTL, clients, parse_scopes, scopes_of,
};
use crate::{
    crypto::{self, jwt, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        authz, throttle, users,
    },
    state::AppState,
};

pub const KIND_ACCESS: &str = "access";
pub const KIND_REFRESH: &str = "refresh";

/// How a client presented itself at the token or revocation endpoint.
pub struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub secret: Option<&'a str>,
    /// A JWT client assertion (RFC 7523; docs/src/oauth-extensions.md).
    pub assertion: Option<&'a str>,
    /// The values the assertion's `aud` may name (issuer, endpoint URLs).
    pub audiences: &'a [String],
}

/// Authenticates an OAuth client: confidential clients with their secret, public
/// clients with their id alone. Failures are `invalid_client` (401), throttled.
pub async fn authenticate_client(
    state: &AppState,
    app_id: Uuid,
    auth: ClientAuth<'_>,
    meta: &RequestMeta,
) -> std::result::Result<oauth_client::Model, OAuthError> {
    let client_key = format!(
        "clientauth:client:{app_id}:{}",
        auth.client_id.chars().take(64).collect::<String>()
    );
    let ip_key = format!(
        "clientauth:ip:{app_id}:{}",
        meta.ip.as_deref().unwrap_or("unknown")
    );
    throttle::check_hinted(state, &client_key, throttle::CLIENT_AUTH).await?;
    throttle::check_hinted(state, &ip_key, throttle::CLIENT_AUTH_IP).await?;
    let client = clients::find(state, app_id, auth.client_id)
        .await?
        .filter(|c| c.is_active);
    let settings = match &client {
        Some(c) => super::settings::of(state, c.id).await?,
        None => None,
    };
    let method = client
        .as_ref()
        .map(|c| super::settings::auth_method(c, settings.as_ref()))
        .unwrap_or_default();
    let mut refusal = None;
    let ok = match (&client, auth.secret, auth.assertion) {
        (Some(c), None, Some(assertion)) if c.client_type == clients::CONFIDENTIAL => {
            match super::client_auth::verify(state, c, settings.as_ref(), assertion, auth.audiences)
                .await
            {
                Ok(()) => true,
                Err(e) => {
                    refusal = Some(e);
                    false
                }
            }
        }
        (Some(c), Some(secret), None)
            if c.client_type == clients::CONFIDENTIAL
                && !super::settings::requires_assertion(method) =>
        {
            c.secret_hash
                .as_deref()
                .is_some_and(|hash| state.hasher.verify(secret, hash))
        }
        (Some(c), None, None) => c.client_type == clients::PUBLIC,
        _ => false,
    };
    match client {
        Some(client) if ok => Ok(client),
        _ => {
            throttle::fail_hinted(state, &client_key, throttle::CLIENT_AUTH).await?;
            throttle::fail_hinted(state, &ip_key, throttle::CLIENT_AUTH_IP).await?;
            Err(refusal.unwrap_or_else(|| {
                if super::settings::requires_assertion(method) && auth.assertion.is_none() {
                    OAuthError::invalid_client(format!(
                        "this client authenticates with {method} (a client_assertion)"
                    ))
                } else {
                    OAuthError::invalid_client("client authentication failed")
                }
            }))
        }
    }
}

/// A token response.
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub scopes: Vec<String>,
    pub id_token: Option<String>,
    /// Who and how, for access tokens of API resources.
    pub user_id: Uuid,
    pub auth_time: DateTime<Utc>,
    pub amr: Option<Vec<String>>,
    /// The API resource the grant is for (RFC 8707).
    pub resource: Option<String>,
    /// The DPoP key the access token is bound to (RFC 9449).
    pub dpop_jkt: Option<String>,
}

impl Issued {
    pub fn body(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": if self.dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
            "expires_in": self.expires_in,
            "scope": self.scopes.join(" "),
        });
        if let Some(rt) = &self.refresh_token {
            body["refresh_token"] = json!(rt);
        }
        if let Some(id) = &self.id_token {
            body["id_token"] = json!(id);
        }
        body
    }
}

/// What a stored token is bound to besides its grant.
#[derive(Default, Clone, Copy)]
pub struct Binding<'a> {
    /// The API resource (RFC 8707).
    pub resource: Option<&'a str>,
    /// The DPoP key thumbprint (RFC 9449).
    pub dpop_jkt: Option<&'a str>,
    /// The acting party of an exchanged token (RFC 8693).
    pub act: Option<&'a Value>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn store_token(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    client_id: Uuid,
    user_id: Uuid,
    grant_id: Uuid,
    kind: &str,
    scopes: &[String],
    auth_time: DateTime<Utc>,
    ttl: chrono::Duration,
    binding: Binding<'_>,
) -> Result<String> {
    let secret = crypto::generate_secret(if kind == KIND_ACCESS {
        prefix::ACCESS_TOKEN
    } else {
        prefix::REFRESH_TOKEN
    })?;
    let now = state.now();
    oauth_token::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        client_id: Set(client_id),
        user_id: Set(user_id),
        grant_id: Set(grant_id),
        kind: Set(kind.to_owned()),
        token_hash: Set(state.hasher.hash(&secret)),
        scopes: Set(json!(scopes)),
        auth_time: Set(auth_time),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
        resource: Set(binding.resource.map(str::to_owned)),
        dpop_jkt: Set(binding.dpop_jkt.map(str::to_owned)),
        act: Set(binding.act.cloned()),
    }
    .insert(conn)
    .await?;
    Ok(secret)
}

/// Revokes every live token of a grant.
async fn revoke_grant(
    conn: &impl ConnectionTrait,
    state: &AppState,
    grant_id: Uuid,
) -> Result<u64> {
    Ok(oauth_token::Entity::update_many()
        .col_expr(oauth_token::Column::RevokedAt, Expr::value(state.now()))
        .filter(oauth_token::Column::GrantId.eq(grant_id))
        .filter(oauth_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// How the session an authorization came from authenticated (`amr`).
async fn session_amr(state: &AppState, session_id: Option<Uuid>) -> Result<Option<Vec<String>>> {
    let Some(session_id) = session_id else {
        return Ok(None);
    };
    Ok(entity::session::Entity::find_by_id(session_id)
        .one(&*state.db)
        .await?
        .map(|s| crate::services::mfa::session_amr(&s)))
}

/// Claims of an ID token, by granted scope (OIDC Core §5.4).
#[allow(clippy::too_many_arguments)]
async fn id_token(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    user: &user::Model,
    scopes: &[String],
    nonce: Option<&str>,
    auth_time: DateTime<Utc>,
    amr: Option<Vec<String>>,
    session_id: Option<Uuid>,
) -> Result<String> {
    let now = state.now().timestamp();
    let mut claims = Map::new();
    if let Some(amr) = amr {
        // How the user authenticated (RFC 8176; docs/src/mfa.md).
        claims.insert("amr".into(), json!(amr));
    }
    claims.insert("iss".into(), json!(state.issuer(&app.name)));
    claims.insert(
        "sub".into(),
        json!(super::pairwise::subject(state, client, user.id).await?),
    );
    claims.insert("aud".into(), json!(client.id.to_string()));
    claims.insert("exp".into(), json!(now + ID_TOKEN_TTL.num_seconds()));
    claims.insert("iat".into(), json!(now));
    claims.insert("auth_time".into(), json!(auth_time.timestamp()));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    // The session, for clients that are told when it ends (Back-Channel Logout §2.1).
    if let (Some(sid), Some(_)) = (session_id, &client.backchannel_logout_uri) {
        claims.insert("sid".into(), json!(sid.to_string()));
    }
    for (key, value) in profile_claims(state, user, scopes).await? {
        if key != "sub" {
            claims.insert(key, value);
        }
    }
    // Claims the app maps from metadata (docs/src/importing-users-and-scim.md).
    let settings = state.apps.settings(app).await;
    for (key, value) in crate::services::metadata::token_claims(&settings.token_claims, user) {
        claims.entry(key).or_insert(value);
    }
    match client.id_token_signed_response_alg.as_deref() {
        Some("HS256") => {
            let secret = clients::open_secret(state, client)?
                .ok_or_else(|| Error::internal("HS256 client without a sealed secret"))?;
            jwt::sign_hs256(&secret, &claims)
        }
        _ => state.signing.sign(app.id, &claims).await,
    }
}

/// The user's claims for the granted scopes, live from the database (userinfo and
/// ID tokens).
pub async fn profile_claims(
    state: &AppState,
    user: &user::Model,
    scopes: &[String],
) -> Result<Map<String, Value>> {
    let has = |s: &str| scopes.iter().any(|g| g == s);
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id));
    if has("profile") {
        out.insert("name".into(), json!(user.display_name));
        out.insert("picture".into(), Value::Null);
        out.insert("updated_at".into(), json!(user.updated_at.timestamp()));
    }
    if has("email") {
        out.insert("email".into(), json!(user.email));
        out.insert("email_verified".into(), json!(user.email_verified));
    }
    if has("roles") {
        out.insert("roles".into(), json!([user.role]));
        out.insert("role_ids".into(), json!([user.role]));
    }
    if has("permissions") {
        let effective = authz::effective(state, user.app_id, user.id, None).await?;
        out.insert("permissions".into(), json!(effective.permissions));
    }
    Ok(out)
}

fn s256(verifier: &str) -> String {
    crypto::b64url(&crypto::sha256(verifier.as_bytes()))
}

/// `grant_type=authorization_code`.
#[allow(clippy::too_many_arguments)]
pub async fn authorization_code(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    requested_resource: Option<&str>,
    dpop_jkt: Option<&str>,
    meta: &RequestMeta,
) -> std::result::Result<Issued, OAuthError> {
    let invalid =
        || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
    if !code.starts_with(prefix::AUTH_CODE) || code.len() > 200 {
        return Err(invalid());
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let Some(stored) = oauth_code::Entity::find()
        .filter(oauth_code::Column::CodeHash.is_in(state.hasher.candidates(code)))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    if stored.client_id != client.id || stored.app_id != app.id {
        return Err(invalid());
    }
    same_resource(requested_resource, stored.resource.as_deref())?;
    let resource = requested_resource
        .map(str::to_owned)
        .or_else(|| stored.resource.clone());
    let access_binding = Binding {
        resource: resource.as_deref(),
        dpop_jkt,
        act: None,
    };
    // The refresh token keeps the resource only when the user authorized it; one
    // chosen at the token endpoint alone may change at each refresh.
    let refresh_binding = Binding {
        resource: stored.resource.as_deref(),
        dpop_jkt: refresh_jkt(client, dpop_jkt),
        act: None,
    };
    // Redeem once: the first exchange claims the code; a replay revokes everything
    // the code produced (RFC 6749 §4.1.2).
    let claimed = oauth_code::Entity::update_many()
        .col_expr(oauth_code::Column::UsedAt, Expr::value(now))
        .filter(oauth_code::Column::Id.eq(stored.id))
        .filter(oauth_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        let revoked = revoke_grant(&txn, state, stored.grant_id).await?;
        audit::commit(
            txn,
            state,
            meta,
            Entry::new(
                app.id,
                "oauth.code_replayed",
                crate::access::Actor {
                    kind: "oauth_client",
                    id: client.id.to_string(),
                },
            )
            .target(Target::new("oauth_client", client.id))
            .metadata(json!({ "revoked_tokens": revoked })),
        )
        .await?;
        return Err(invalid());
    }
    if stored.expires_at <= now {
        return Err(invalid());
    }
    if redirect_uri != Some(stored.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&stored.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !well_formed || !crypto::ct_eq(s256(verifier).as_bytes(), challenge.as_bytes()) {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier is required (PKCE was used)",
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "the code was issued without PKCE; code_verifier is not accepted",
            ));
        }
        (None, None) => {}
    }
    let user = users::find(&txn, app.id, stored.user_id)
        .await
        .map_err(|_| invalid())?;
    if user.status != users::STATUS_ACTIVE {
        return Err(invalid());
    }
    let scopes = scopes_of(&stored.scopes);
    let access = store_token(
        &txn,
        state,
        app.id,
        client.id,
        user.id,
        stored.grant_id,
        KIND_ACCESS,
        &scopes,
        stored.auth_time,
        ACCESS_TOKEN_TTL,
        access_binding,
    )
    .await?;
    let refresh = if scopes.iter().any(|s| s == "offline_access") {
        Some(
            store_token(
                &txn,
                state,
                app.id,
                client.id,
                user.id,
                stored.grant_id,
                KIND_REFRESH,
                &scopes,
                stored.auth_time,
                REFRESH_TOKEN_TTL,
                refresh_binding,
            )
            .await?,
        )
    } else {
        None
    };
    super::backchannel::remember(&txn, state, app.id, client.id, stored.session_id).await?;
    txn.commit().await?;
    let amr = session_amr(state, stored.session_id).await?;
    let id_token = if scopes.iter().any(|s| s == "openid") {
        Some(
            id_token(
                state,
                app,
                client,
                &user,
                &scopes,
                stored.nonce.as_deref(),
                stored.auth_time,
                amr.clone(),
                stored.session_id,
            )
            .await?,
        )
    } else {
        None
    };
    issued_audit(state, app, client, user.id, "oauth.token_issued", meta).await?;
    Ok(Issued {
        access_token: access,
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        refresh_token: refresh,
        scopes,
        id_token,
        user_id: user.id,
        auth_time: stored.auth_time,
        amr,
        resource,
        dpop_jkt: dpop_jkt.map(str::to_owned),
    })
}

/// RFC 8707: a token request may repeat the authorization's `resource`, not change it.
fn same_resource(
    asked: Option<&str>,
    granted: Option<&str>,
) -> std::result::Result<(), OAuthError> {
    match (asked, granted) {
        (Some(asked), Some(granted)) if asked != granted => Err(OAuthError::invalid_target(
            "resource differs from the one the grant was authorized for",
        )),
        _ => Ok(()),
    }
}

/// Refresh tokens of public clients are bound to the DPoP key too (RFC 9449 §5);
/// confidential clients authenticate at every refresh instead.
fn refresh_jkt<'a>(client: &oauth_client::Model, dpop_jkt: Option<&'a str>) -> Option<&'a str> {
    dpop_jkt.filter(|_| client.client_type == clients::PUBLIC)
}

/// Records a token response (group-committed, like machine tokens' entries): the
/// dashboard counts tokens issued per grant from these entries.
async fn issued_audit(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    user_id: Uuid,
    action: &'static str,
    meta: &RequestMeta,
) -> Result<()> {
    state
        .audit_buffer
        .push(
            state,
            meta,
            Entry::new(
                app.id,
                action,
                crate::access::Actor {
                    kind: "oauth_client",
                    id: client.id.to_string(),
                },
            )
            .target(Target::user(user_id))
            .metadata(json!({ "client_id": client.id })),
        )
        .await
}

/// `grant_type=refresh_token`: rotation; the new tokens inherit the scopes (or a
/// subset); reusing a refresh token revokes its whole grant.
#[allow(clippy::too_many_arguments)]
pub async fn refresh(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    presented: &str,
    scope: Option<&str>,
    requested_resource: Option<&str>,
    dpop_jkt: Option<&str>,
    meta: &RequestMeta,
) -> std::result::Result<Issued, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    if !presented.starts_with(prefix::REFRESH_TOKEN) || presented.len() > 200 {
        return Err(invalid());
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let Some(token) = oauth_token::Entity::find()
        .filter(oauth_token::Column::TokenHash.is_in(state.hasher.candidates(presented)))
        .filter(oauth_token::Column::Kind.eq(KIND_REFRESH))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    if token.client_id != client.id || token.app_id != app.id {
        return Err(invalid());
    }
    // Checked before the token is spent: a thief without the key cannot burn it.
    if let Some(bound) = token.dpop_jkt.as_deref()
        && dpop_jkt != Some(bound)
    {
        return Err(OAuthError::invalid_grant(
            "the refresh token is bound to a DPoP key: send a DPoP proof of that key",
        ));
    }
    same_resource(requested_resource, token.resource.as_deref())?;
    let resource = requested_resource
        .map(str::to_owned)
        .or_else(|| token.resource.clone());
    let access_binding = Binding {
        resource: resource.as_deref(),
        dpop_jkt,
        act: None,
    };
    let refresh_binding = Binding {
        resource: token.resource.as_deref(),
        dpop_jkt: refresh_jkt(client, dpop_jkt),
        act: None,
    };
    let claimed = if token.used_at.is_some() {
        false
    } else {
        oauth_token::Entity::update_many()
            .col_expr(oauth_token::Column::UsedAt, Expr::value(now))
            .filter(oauth_token::Column::Id.eq(token.id))
            .filter(oauth_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1
    };
    if !claimed {
        let revoked = revoke_grant(&txn, state, token.grant_id).await?;
        audit::commit(
            txn,
            state,
            meta,
            Entry::new(
                app.id,
                "oauth.refresh_token_reused",
                crate::access::Actor {
                    kind: "oauth_client",
                    id: client.id.to_string(),
                },
            )
            .target(Target::user(token.user_id))
            .metadata(json!({ "client_id": client.id, "revoked_tokens": revoked })),
        )
        .await?;
        return Err(invalid());
    }
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(invalid());
    }
    let original = scopes_of(&token.scopes);
    let scopes = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => original.clone(),
        Some(requested) => {
            let requested = parse_scopes(requested);
            if requested.iter().any(|s| !original.contains(s)) {
                return Err(OAuthError::invalid_scope(
                    "a refresh cannot widen the granted scopes",
                ));
            }
            requested
        }
    };
    let user = users::find(&txn, app.id, token.user_id)
        .await
        .map_err(|_| invalid())?;
    if user.status != users::STATUS_ACTIVE {
        return Err(invalid());
    }
    // The previous access tokens of the grant end with the rotation.
    oauth_token::Entity::update_many()
        .col_expr(oauth_token::Column::RevokedAt, Expr::value(now))
        .filter(oauth_token::Column::GrantId.eq(token.grant_id))
        .filter(oauth_token::Column::Kind.eq(KIND_ACCESS))
        .filter(oauth_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let access = store_token(
        &txn,
        state,
        app.id,
        client.id,
        user.id,
        token.grant_id,
        KIND_ACCESS,
        &scopes,
        token.auth_time,
        ACCESS_TOKEN_TTL,
        access_binding,
    )
    .await?;
    let next = store_token(
        &txn,
        state,
        app.id,
        client.id,
        user.id,
        token.grant_id,
        KIND_REFRESH,
        &original,
        token.auth_time,
        REFRESH_TOKEN_TTL,
        refresh_binding,
    )
    .await?;
    txn.commit().await?;
    let session_id = oauth_code::Entity::find()
        .filter(oauth_code::Column::GrantId.eq(token.grant_id))
        .one(&*state.db)
        .await?
        .and_then(|c| c.session_id);
    let amr = session_amr(state, session_id).await?;
    let id_token = if scopes.iter().any(|s| s == "openid") {
        Some(
            id_token(
                state,
                app,
                client,
                &user,
                &scopes,
                None,
                token.auth_time,
                amr.clone(),
                session_id,
            )
            .await?,
        )
    } else {
        None
    };
    issued_audit(state, app, client, user.id, "oauth.token_refreshed", meta).await?;
    Ok(Issued {
        access_token: access,
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        refresh_token: Some(next),
        scopes,
        id_token,
        user_id: user.id,
        auth_time: token.auth_time,
        amr,
        resource,
        dpop_jkt: dpop_jkt.map(str::to_owned),
    })
}

/// A live OAuth access token (`hm_at_…`).
#[derive(Debug, Clone)]
pub struct LiveAccessToken {
    pub token: oauth_token::Model,
}

/// Looks up a presented `hm_at_` token; `None` when unknown, expired, revoked, or its
/// client or user is no longer active.
pub async fn live_access_token(
    state: &AppState,
    presented: &str,
) -> Result<Option<Arc<LiveAccessToken>>> {
    if !presented.starts_with(prefix::ACCESS_TOKEN) || presented.len() > 200 {
        return Ok(None);
    }
    let Some(token) = oauth_token::Entity::find()
        .filter(oauth_token::Column::TokenHash.is_in(state.hasher.candidates(presented)))
        .filter(oauth_token::Column::Kind.eq(KIND_ACCESS))
        .one(&*state.db)
        .await?
    else {
        return Ok(None);
    };
    if token.revoked_at.is_some() || token.expires_at <= state.now() {
        return Ok(None);
    }
    let client_active = oauth_client::Entity::find_by_id(token.client_id)
        .one(&*state.db)
        .await?
        .is_some_and(|c| c.is_active);
    let user_active = users::find(&*state.db, token.app_id, token.user_id)
        .await
        .is_ok_and(|u| u.status == users::STATUS_ACTIVE);
    Ok((client_active && user_active).then(|| Arc::new(LiveAccessToken { token })))
}

/// RFC 7009: revokes a token (and the rest of its grant) if it belongs to `client`.
/// Unknown tokens and other clients' tokens are silently ignored.
pub async fn revoke(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    presented: &str,
    meta: &RequestMeta,
) -> Result<()> {
    if presented.len() > 200 {
        return Ok(());
    }
    let Some(token) = oauth_token::Entity::find()
        .filter(oauth_token::Column::TokenHash.is_in(state.hasher.candidates(presented)))
        .one(&*state.db)
        .await?
    else {
        return Ok(());
    };
    if token.client_id != client.id || token.app_id != app.id {
        return Ok(());
    }
    let txn = state.db.begin_write().await?;
    let revoked = revoke_grant(&txn, state, token.grant_id).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app.id,
            "oauth.token_revoked",
            crate::access::Actor {
                kind: "oauth_client",
                id: client.id.to_string(),
            },
        )
        .target(Target::user(token.user_id))
        .metadata(json!({ "client_id": client.id, "revoked_tokens": revoked })),
    )
    .await?;
    Ok(())
}

/// The user's live tokens with their clients (`myOauthTokens`).
pub async fn tokens_of(
    state: &AppState,
    me: &crate::access::Me,
) -> Result<Vec<(oauth_token::Model, oauth_client::Model)>> {
    let (app_id, user_id) = (me.app().id, me.user_id());
    let rows = oauth_token::Entity::find()
        .filter(oauth_token::Column::AppId.eq(app_id))
        .filter(oauth_token::Column::UserId.eq(user_id))
        .filter(oauth_token::Column::RevokedAt.is_null())
        .filter(oauth_token::Column::ExpiresAt.gt(state.now()))
        .order_by_asc(oauth_token::Column::Id)
        .find_also_related(oauth_client::Entity)
        .all(&*state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(t, _)| t.used_at.is_none())
        .filter_map(|(t, c)| c.map(|c| (t, c)))
        .collect())
}

/// Revokes one of the user's tokens (and its grant) by id.
pub async fn revoke_by_id(
    state: &AppState,
    me: &crate::access::Me,
    token_id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let (app_id, user_id) = (me.app().id, me.user_id());
    let not_found = || Error::not_found("token not found");
    let id = Uuid::parse_str(token_id).map_err(|_| not_found())?;
    let token = oauth_token::Entity::find_by_id(id)
        .filter(oauth_token::Column::AppId.eq(app_id))
        .filter(oauth_token::Column::UserId.eq(user_id))
        .one(&*state.db)
        .await?
        .ok_or_else(not_found)?;
    let txn = state.db.begin_write().await?;
    let revoked = revoke_grant(&txn, state, token.grant_id).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app_id,
            "oauth.token_revoked",
            crate::access::Actor {
                kind: "end_user",
                id: user_id.to_string(),
            },
        )
        .target(Target::new("oauth_client", token.client_id))
        .metadata(json!({ "revoked_tokens": revoked })),
    )
    .await?;
    Ok(())
}

/// Tokens for an approved device authorization (RFC 8628 §3.5): like a redeemed
/// code, a new grant with an access token, a refresh token with `offline_access`,
/// and an ID token with `openid`.
#[allow(clippy::too_many_arguments)]
pub async fn device_tokens(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    user_id: Uuid,
    session_id: Option<Uuid>,
    scopes: Vec<String>,
    auth_time: DateTime<Utc>,
    dpop_jkt: Option<&str>,
    meta: &RequestMeta,
) -> std::result::Result<Issued, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the device code is invalid, expired or used");
    let access_binding = Binding {
        resource: None,
        dpop_jkt,
        act: None,
    };
    let refresh_binding = Binding {
        dpop_jkt: refresh_jkt(client, dpop_jkt),
        ..access_binding
    };
    let user = users::find(&*state.db, app.id, user_id)
        .await
        .map_err(|_| invalid())?;
    if user.status != users::STATUS_ACTIVE {
        return Err(invalid());
    }
    let grant_id = db::new_id();
    let txn = state.db.begin_write().await?;
    let access = store_token(
        &txn,
        state,
        app.id,
        client.id,
        user.id,
        grant_id,
        KIND_ACCESS,
        &scopes,
        auth_time,
        ACCESS_TOKEN_TTL,
        access_binding,
    )
    .await?;
    let refresh = if scopes.iter().any(|s| s == "offline_access") {
        Some(
            store_token(
                &txn,
                state,
                app.id,
                client.id,
                user.id,
                grant_id,
                KIND_REFRESH,
                &scopes,
                auth_time,
                REFRESH_TOKEN_TTL,
                refresh_binding,
            )
            .await?,
        )
    } else {
        None
    };
    super::backchannel::remember(&txn, state, app.id, client.id, session_id).await?;
    txn.commit().await?;
    let amr = session_amr(state, session_id).await?;
    let id_token = if scopes.iter().any(|s| s == "openid") {
        Some(
            id_token(
                state,
                app,
                client,
                &user,
                &scopes,
                None,
                auth_time,
                amr.clone(),
                session_id,
            )
            .await?,
        )
    } else {
        None
    };
    issued_audit(state, app, client, user.id, "oauth.token_issued", meta).await?;
    Ok(Issued {
        access_token: access,
        expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        refresh_token: refresh,
        scopes,
        id_token,
        user_id: user.id,
        auth_time,
        amr,
        resource: None,
        dpop_jkt: dpop_jkt.map(str::to_owned),
    })
}
