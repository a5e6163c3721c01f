//! Admin-console sessions (docs/src/console.md, "Signing in"): an operator pastes a root
//! key or an app key once; it is exchanged for a session whose secret lives only in
//! an `HttpOnly` cookie. Requests made with the session act as that key: the
//! session maps to the very [`Principal`] the key does, so the guard and every
//! service treat both alike.
//!
//! An app's administrators who are its end users sign in through the app's hosted
//! login instead: the console is a first-party public OAuth client of the app
//! (authorization code with PKCE, RFC 7636; the verifier stays in an `HttpOnly`
//! cookie, never in browser storage). The code is redeemed here, a session is
//! opened for the user, and the console session stands for that user as their
//! access token would ([`Principal::EndUser`]): revoking the user's sessions or
//! deactivating the user ends it.
//!
//! Cross-site request forgery is stopped by a per-session token (the synchronizer
//! token pattern of the OWASP CSRF cheat sheet): derived from the session secret
//! with the server's keyed hash, handed to the console by the exchange (and by
//! `GET /console/session`, which only a same-origin script can read), and required
//! in the `X-Heimdall-CSRF` header of every request the cookie authenticates. The
//! cookie is also `SameSite=Strict`.
//!
//! Stored: a keyed hash of the session secret and of the key, never either secret.
//! The session ends on sign-out, after the idle timeout, after its absolute
//! lifetime, and as soon as its key is revoked (checked on every use).

use chrono::{DateTime, Duration, Utc};
use entity::{api_key, console_session, oauth_client, root_key, session};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    access::{Actor, EndUser, Principal},
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        keys,
        oauth::{clients, grants},
        sessions, users,
    },
    state::AppState,
};

/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-heimdall-csrf";
/// The session cookie's name.
pub const COOKIE: &str = "heimdall_console";

/// The cookie carrying an OAuth sign-in's state and PKCE verifier between the
/// redirect to the app's login and the callback.
pub const OAUTH_COOKIE: &str = "heimdall_console_oauth";
/// The OAuth client the console is in every app (created on first use).
pub const CLIENT_NAME: &str = "Heimdall console";

const ROOT: &str = "root";
const APP_KEY: &str = "app_key";
const END_USER: &str = "end_user";
/// `last_used_at` moves at most this often (a write per minute, not per request).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A console session as the console sees it: never a secret but the CSRF token.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    /// `root`, `app_key` or `end_user`.
    pub principal: &'static str,
    /// The app an app key administers or an end user belongs to (id and slug).
    pub app_id: Option<Uuid>,
    pub app: Option<String>,
    /// The end user (end-user sessions).
    pub user_id: Option<Uuid>,
    pub csrf_token: String,
    /// When the session ends if unused from now on.
    pub idle_expires_at: DateTime<Utc>,
    /// When the session ends however active it is.
    pub expires_at: DateTime<Utc>,
}

/// A session just opened: its cookie secret (for `Set-Cookie` only) and its info.
pub struct Opened {
    pub secret: String,
    pub info: SessionInfo,
}

fn csrf_token(state: &AppState, secret: &str) -> String {
    state.hasher.hash(&format!("console-csrf:{secret}"))
}

fn idle_timeout(state: &AppState) -> Duration {
    Duration::seconds(i64::try_from(state.config.console_idle_timeout).unwrap_or(i64::MAX / 2))
}

async fn info_of(
    state: &AppState,
    session: &console_session::Model,
    secret: &str,
) -> Result<SessionInfo> {
    let app = match session.app_id {
        Some(id) => state.apps.by_id(id).await?.map(|app| app.name.clone()),
        None => None,
    };
    Ok(SessionInfo {
        principal: match session.principal_type.as_str() {
            ROOT => ROOT,
            END_USER => END_USER,
            _ => APP_KEY,
        },
        app_id: session.app_id,
        app,
        user_id: session.user_id,
        csrf_token: csrf_token(state, secret),
        idle_expires_at: Ord::min(
            session.last_used_at + idle_timeout(state),
            session.expires_at,
        ),
        expires_at: session.expires_at,
    })
}

/// Exchanges a root key or an app key for a console session. Anything else (an
/// unknown or revoked key, an end user's token) is 401.
pub async fn sign_in(state: &AppState, key: &str) -> Result<Opened> {
    let key = key.trim();
    let refused = || Error::invalid_token("the key is not a valid root key or app key");
    let principal = if key.starts_with(prefix::ROOT_KEY) {
        keys::authenticate_root(state, key).await?
    } else if key.starts_with(prefix::APP_KEY) {
        keys::authenticate_app_key(state, key).await?
    } else {
        None
    };
    let (principal_type, app_id, key_id) = match principal.ok_or_else(refused)? {
        Principal::Root { key_id } => (ROOT, None, key_id),
        Principal::AppKey { app_id, key_id } => (APP_KEY, Some(app_id), Some(key_id)),
        _ => return Err(refused()),
    };
    let txn = state.db.begin_write().await?;
    let opened = insert(
        state,
        &txn,
        console_session::ActiveModel {
            principal_type: Set(principal_type.to_owned()),
            app_id: Set(app_id),
            key_id: Set(key_id),
            key_hash: Set(Some(state.hasher.hash(key))),
            user_id: Set(None),
            session_id: Set(None),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    let info = info_of(state, &opened.1, &opened.0).await?;
    Ok(Opened {
        secret: opened.0,
        info,
    })
}

/// Stores a new console session (its secret, times); clears ended ones.
async fn insert(
    state: &AppState,
    txn: &db::WriteTxn,
    mut model: console_session::ActiveModel,
) -> Result<(String, console_session::Model)> {
    let secret = crypto::generate_secret(prefix::CONSOLE_SESSION)?;
    let now = state.now();
    let lifetime = Duration::seconds(
        i64::try_from(state.config.console_session_lifetime).unwrap_or(i64::MAX / 2),
    );
    console_session::Entity::delete_many()
        .filter(
            console_session::Column::ExpiresAt
                .lt(now)
                .or(console_session::Column::LastUsedAt.lt(now - idle_timeout(state))),
        )
        .exec(txn)
        .await?;
    model.id = Set(db::new_id());
    model.token_hash = Set(state.hasher.hash(&secret));
    model.created_at = Set(now);
    model.last_used_at = Set(now);
    model.expires_at = Set(now + lifetime);
    let session = model.insert(txn).await?;
    Ok((secret, session))
}

/// Where the hosted login sends the browser back: `{PUBLIC_URL}{BASE_PATH}/console/callback`.
pub fn redirect_uri(state: &AppState) -> String {
    format!("{}/console/callback", state.config.public_base())
}

/// An OAuth sign-in started: where to send the browser, and the cookie that
/// carries its state and PKCE verifier to the callback.
pub struct OAuthStart {
    pub authorize_url: String,
    pub cookie: String,
}

/// The console's OAuth client in `app` (first-party, public, redirecting to the
/// console), created or corrected on first use.
async fn console_client(state: &AppState, app: &entity::app::Model) -> Result<oauth_client::Model> {
    let redirect = redirect_uri(state);
    let found = oauth_client::Entity::find()
        .filter(oauth_client::Column::AppId.eq(app.id))
        .filter(oauth_client::Column::Name.eq(CLIENT_NAME))
        .filter(oauth_client::Column::IsFirstParty.eq(true))
        .filter(oauth_client::Column::ClientType.eq(clients::PUBLIC))
        .one(&*state.db)
        .await?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let client = match found {
        Some(client)
            if clients::redirect_uris(&client) == [redirect.clone()] && client.is_active =>
        {
            return Ok(client);
        }
        Some(client) => {
            // The public URL changed (or someone edited the client): point it back.
            let mut model: oauth_client::ActiveModel = client.into();
            model.redirect_uris = Set(serde_json::json!([redirect]));
            model.is_active = Set(true);
            model.updated_at = Set(now);
            model.update(&txn).await?
        }
        None => {
            let client = oauth_client::ActiveModel {
                id: Set(db::new_id()),
                app_id: Set(app.id),
                owner_id: Set(None),
                name: Set(CLIENT_NAME.to_owned()),
                description: Set(Some(
                    "The Heimdall admin console: app administrators sign in here.".to_owned(),
                )),
                logo_url: Set(None),
                homepage_url: Set(None),
                privacy_policy_url: Set(None),
                terms_of_service_url: Set(None),
                redirect_uris: Set(serde_json::json!([redirect])),
                allowed_scopes: Set(serde_json::json!(["openid"])),
                client_type: Set(clients::PUBLIC.to_owned()),
                secret_hash: Set(None),
                sealed_secret: Set(None),
                id_token_signed_response_alg: Set(None),
                is_active: Set(true),
                is_first_party: Set(true),
                post_logout_redirect_uris: Set(None),
                backchannel_logout_uri: Set(None),
                backchannel_logout_session_required: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                dpop_bound_access_tokens: Set(false),
                token_exchange: Set(None),
                subject_type: Set(crate::services::oauth::pairwise::PUBLIC.to_owned()),
                sector_identifier_uri: Set(None),
                sector_identifier: Set(None),
            }
            .insert(&txn)
            .await?;
            audit::record(
                &txn,
                state,
                &RequestMeta::default(),
                Entry::new(
                    app.id,
                    "oauth_client.created",
                    Actor {
                        kind: "system",
                        id: "console".to_owned(),
                    },
                )
                .target(Target::new("oauth_client", client.id))
                .metadata(serde_json::json!({
                    "name": CLIENT_NAME, "client_type": clients::PUBLIC, "is_first_party": true
                })),
            )
            .await?;
            client
        }
    };
    txn.commit().await?;
    Ok(client)
}

/// Starts an end user's sign-in to the console through `slug`'s hosted login.
pub async fn start_oauth(state: &AppState, slug: &str) -> Result<OAuthStart> {
    let app = state
        .apps
        .by_name(slug.trim())
        .await?
        .ok_or_else(|| Error::not_found(format!("app '{}' not found", slug.trim())))?;
    let client = console_client(state, &app).await?;
    let flow_state = crypto::b64url(&crypto::random_bytes(32)?);
    let verifier = crypto::b64url(&crypto::random_bytes(32)?);
    let challenge = crypto::b64url(&crypto::sha256(verifier.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id.to_string())
        .append_pair("redirect_uri", &redirect_uri(state))
        .append_pair("scope", "openid")
        .append_pair("state", &flow_state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    Ok(OAuthStart {
        authorize_url: format!(
            "{}/{}/v1/oauth/authorize?{query}",
            state.config.base_path, app.name
        ),
        cookie: format!("{}.{flow_state}.{verifier}", app.id),
    })
}

/// Finishes it: checks the returned `state` against the cookie, redeems the code
/// with the PKCE verifier, opens a session for the user and a console session for
/// that. 401 when anything does not match.
pub async fn finish_oauth(
    state: &AppState,
    cookie: Option<&str>,
    returned_state: &str,
    code: &str,
    meta: &RequestMeta,
) -> Result<Opened> {
    let refused = |why: &str| Error::rejected("invalid_grant", why.to_owned());
    let mut parts = cookie.unwrap_or_default().splitn(3, '.');
    let (Some(app_id), Some(expected), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused(
            "the sign-in was not started here or has expired; start again",
        ));
    };
    if !crypto::ct_eq(expected.as_bytes(), returned_state.as_bytes()) {
        return Err(refused("the sign-in's state does not match; start again"));
    }
    let app_id = Uuid::parse_str(app_id).map_err(|_| refused("the sign-in cookie is malformed"))?;
    let app = state
        .apps
        .by_id(app_id)
        .await?
        .ok_or_else(|| refused("the app no longer exists"))?;
    let client = console_client(state, &app).await?;
    let issued = grants::authorization_code(
        state,
        &app,
        &client,
        code,
        Some(&redirect_uri(state)),
        Some(verifier),
        None,
        None,
        meta,
    )
    .await
    .map_err(|e| {
        if e.status.is_server_error() {
            Error::internal(e.description)
        } else {
            refused(&e.description)
        }
    })?;
    let token = grants::live_access_token(state, &issued.access_token)
        .await?
        .ok_or_else(|| refused("the sign-in did not complete"))?;
    let txn = state.db.begin_write().await?;
    let user = users::find(&txn, app.id, token.token.user_id).await?;
    sessions::check_may_sign_in(&app, &user)?;
    // The console's own session of the user: it shows in their sessions, and
    // revoking it (or deactivating the user) ends the console session.
    let (session, _refresh) = sessions::open(&txn, state, &app, &user, None, meta).await?;
    let opened = insert(
        state,
        &txn,
        console_session::ActiveModel {
            principal_type: Set(END_USER.to_owned()),
            app_id: Set(Some(app.id)),
            key_id: Set(None),
            key_hash: Set(None),
            user_id: Set(Some(user.id)),
            session_id: Set(Some(session.id)),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    let info = info_of(state, &opened.1, &opened.0).await?;
    Ok(Opened {
        secret: opened.0,
        info,
    })
}

/// The live session of a cookie secret, or 401. Touches it (idle timeout).
async fn live(state: &AppState, secret: &str) -> Result<(console_session::Model, Principal)> {
    let ended = || Error::invalid_token("the console session has ended; sign in again");
    if !secret.starts_with(prefix::CONSOLE_SESSION) {
        return Err(ended());
    }
    let session = console_session::Entity::find()
        .filter(console_session::Column::TokenHash.is_in(state.hasher.candidates(secret)))
        .one(&*state.db)
        .await?
        .ok_or_else(ended)?;
    let now = state.now();
    if session.expires_at <= now || session.last_used_at + idle_timeout(state) <= now {
        end(state, session.id).await?;
        return Err(ended());
    }
    let Some(principal) = principal_of(state, &session).await? else {
        // The key was revoked (or HEIMDALL_ROOT_KEY changed): the session ends with it.
        end(state, session.id).await?;
        return Err(ended());
    };
    let session = if (now - session.last_used_at).num_seconds() >= TOUCH_EVERY_SECONDS {
        let txn = state.db.begin_write().await?;
        console_session::Entity::update_many()
            .col_expr(console_session::Column::LastUsedAt, Expr::value(now))
            .filter(console_session::Column::Id.eq(session.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        console_session::Model {
            last_used_at: now,
            ..session
        }
    } else {
        session
    };
    Ok((session, principal))
}

/// The principal a session stands for, while its key is still valid.
async fn principal_of(
    state: &AppState,
    session: &console_session::Model,
) -> Result<Option<Principal>> {
    match (
        session.principal_type.as_str(),
        session.app_id,
        session.key_id,
    ) {
        (ROOT, None, None) => {
            let key_hash = session.key_hash.as_deref().unwrap_or_default();
            let configured = !key_hash.is_empty()
                && state
                    .env_root_key_hashes
                    .iter()
                    .any(|stored| crypto::ct_eq(stored.as_bytes(), key_hash.as_bytes()));
            Ok(configured.then_some(Principal::Root { key_id: None }))
        }
        (ROOT, None, Some(key_id)) => {
            let exists = root_key::Entity::find_by_id(key_id)
                .one(&*state.db)
                .await?
                .is_some();
            Ok(exists.then_some(Principal::Root {
                key_id: Some(key_id),
            }))
        }
        (APP_KEY, Some(app_id), Some(key_id)) => {
            let exists = api_key::Entity::find_by_id(key_id)
                .filter(api_key::Column::AppId.eq(app_id))
                .one(&*state.db)
                .await?
                .is_some();
            Ok(exists.then_some(Principal::AppKey { app_id, key_id }))
        }
        (END_USER, Some(app_id), None) => {
            let (Some(user_id), Some(session_id)) = (session.user_id, session.session_id) else {
                return Ok(None);
            };
            let Ok(user) = users::find(&*state.db, app_id, user_id).await else {
                return Ok(None);
            };
            let Some(opened) = session::Entity::find_by_id(session_id)
                .one(&*state.db)
                .await?
            else {
                return Ok(None);
            };
            // As the user's access token would be: live session, active user.
            let principal = EndUser {
                app_id,
                user_id,
                session_id,
                role: user.role,
                org_id: None,
                org_role: None,
                token_id: session.id.to_string(),
                expires_at: session.expires_at.timestamp(),
                issued_at: opened.created_at.timestamp(),
                amr: crate::services::mfa::session_amr(&opened),
                auth_time: Some(crate::services::mfa::session_auth_time(&opened).timestamp()),
            };
            match sessions::check_live(state, &principal).await {
                Ok(()) => Ok(Some(Principal::EndUser(principal))),
                Err(Error::Unauthenticated { .. }) => Ok(None),
                Err(other) => Err(other),
            }
        }
        _ => Ok(None),
    }
}

async fn end(state: &AppState, id: Uuid) -> Result<()> {
    let txn = state.db.begin_write().await?;
    console_session::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

fn check_csrf(state: &AppState, secret: &str, csrf: Option<&str>) -> Result<()> {
    let expected = csrf_token(state, secret);
    match csrf {
        Some(given) if crypto::ct_eq(given.trim().as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(Error::forbidden(format!(
            "the {CSRF_HEADER} header does not match the console session"
        ))),
        None => Err(Error::forbidden(format!(
            "a request authenticated by the console cookie needs the {CSRF_HEADER} header"
        ))),
    }
}

/// The principal of a request carrying the console cookie: 401 when the session
/// has ended, 403 without the matching CSRF header.
pub async fn authenticate(state: &AppState, secret: &str, csrf: Option<&str>) -> Result<Principal> {
    let (_, principal) = live(state, secret).await?;
    check_csrf(state, secret, csrf)?;
    Ok(principal)
}

/// The session behind a cookie (for a console that reloads): its CSRF token and
/// when it ends. A read: no CSRF token is needed, and only a same-origin script
/// can read the answer.
pub async fn current(state: &AppState, secret: &str) -> Result<SessionInfo> {
    let (session, _) = live(state, secret).await?;
    info_of(state, &session, secret).await
}

/// Ends the session (sign-out). Needs the CSRF token; an already ended session is
/// fine (signing out twice succeeds).
pub async fn sign_out(state: &AppState, secret: &str, csrf: Option<&str>) -> Result<()> {
    check_csrf(state, secret, csrf)?;
    let found = console_session::Entity::find()
        .filter(console_session::Column::TokenHash.is_in(state.hasher.candidates(secret)))
        .one(&*state.db)
        .await?;
    let Some(found) = found else { return Ok(()) };
    if let Some(session_id) = found.session_id {
        let now = state.now();
        let txn = state.db.begin_write().await?;
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .col_expr(
                session::Column::RevokedReason,
                Expr::value("console_sign_out"),
            )
            .filter(session::Column::Id.eq(session_id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        state.sessions.forget(&[session_id]).await;
    }
    end(state, found.id).await
}
