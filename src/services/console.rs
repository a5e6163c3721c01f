//! Admin-console sessions (docs/console.md, "Signing in"): an operator pastes a root
//! key or an app key once; it is exchanged for a session whose secret lives only in
//! an `HttpOnly` cookie. Requests made with the session act as that key: the
//! session maps to the very [`Principal`] the key does, so the guard and every
//! service treat both alike.
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
use entity::{api_key, console_session, root_key};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    access::Principal,
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    services::keys,
    state::AppState,
};

/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-heimdall-csrf";
/// The session cookie's name.
pub const COOKIE: &str = "heimdall_console";

const ROOT: &str = "root";
const APP_KEY: &str = "app_key";
/// `last_used_at` moves at most this often (a write per minute, not per request).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A console session as the console sees it: never a secret but the CSRF token.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
    /// `root` or `app_key`.
    pub principal: &'static str,
    /// The app an app key administers (its id and slug).
    pub app_id: Option<Uuid>,
    pub app: Option<String>,
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
        principal: if session.principal_type == ROOT {
            ROOT
        } else {
            APP_KEY
        },
        app_id: session.app_id,
        app,
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
    let secret = crypto::generate_secret(prefix::CONSOLE_SESSION)?;
    let now = state.now();
    let lifetime = Duration::seconds(
        i64::try_from(state.config.console_session_lifetime).unwrap_or(i64::MAX / 2),
    );
    let txn = state.db.begin_write().await?;
    // Ended sessions are cleared as new ones open.
    console_session::Entity::delete_many()
        .filter(
            console_session::Column::ExpiresAt
                .lt(now)
                .or(console_session::Column::LastUsedAt.lt(now - idle_timeout(state))),
        )
        .exec(&txn)
        .await?;
    let session = console_session::ActiveModel {
        id: Set(db::new_id()),
        token_hash: Set(state.hasher.hash(&secret)),
        principal_type: Set(principal_type.to_owned()),
        app_id: Set(app_id),
        key_id: Set(key_id),
        key_hash: Set(state.hasher.hash(key)),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + lifetime),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let info = info_of(state, &session, &secret).await?;
    Ok(Opened { secret, info })
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
    match (session.principal_type.as_str(), session.app_id, session.key_id) {
        (ROOT, None, None) => {
            let configured = state
                .env_root_key_hashes
                .iter()
                .any(|stored| crypto::ct_eq(stored.as_bytes(), session.key_hash.as_bytes()));
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
    match found {
        Some(session) => end(state, session.id).await,
        None => Ok(()),
    }
}
