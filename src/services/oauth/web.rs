//! Browser sessions of the hosted pages (login, consent): a cookie holding a random
//! secret, stored hashed and bound to a regular Heimdall session, so signing out or
//! revoking the session ends it too.

use entity::{session, web_session};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{crypto, db, error::Result, state::AppState};

pub const COOKIE: &str = "hm_session";
pub const PREFIX: &str = "hm_ws_";

/// Creates a browser session for `session`; returns the cookie value.
pub async fn create(state: &AppState, session: &session::Model) -> Result<String> {
    let secret = crypto::generate_secret(PREFIX)?;
    let txn = state.db.begin_write().await?;
    web_session::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(session.app_id),
        session_id: Set(session.id),
        user_id: Set(session.user_id),
        token_hash: Set(state.hasher.hash(&secret)),
        created_at: Set(state.now()),
        expires_at: Set(session.expires_at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Creates a browser session for the session of just-issued tokens (a sign-up or
/// federated sign-in of the hosted pages); returns the cookie value and how long
/// it lives, in seconds.
pub async fn create_for_session(state: &AppState, session_id: Uuid) -> Result<(String, i64)> {
    let session = session::Entity::find_by_id(session_id)
        .one(&*state.db)
        .await?
        .ok_or_else(|| crate::error::Error::internal("the new session is gone"))?;
    let secret = create(state, &session).await?;
    Ok((
        secret,
        (session.expires_at - state.now()).num_seconds().max(0),
    ))
}

/// The live session behind a cookie value, for `app_id`.
pub async fn resolve(
    state: &AppState,
    app_id: Uuid,
    cookie: &str,
) -> Result<Option<session::Model>> {
    if !cookie.starts_with(PREFIX) || cookie.len() > 200 {
        return Ok(None);
    }
    let Some((web, Some(session))) = web_session::Entity::find()
        .filter(web_session::Column::TokenHash.is_in(state.hasher.candidates(cookie)))
        .filter(web_session::Column::AppId.eq(app_id))
        .find_also_related(session::Entity)
        .one(&*state.db)
        .await?
    else {
        return Ok(None);
    };
    let now = state.now();
    let live = web.expires_at > now && session.revoked_at.is_none() && session.expires_at > now;
    Ok(live.then_some(session))
}

/// Who is signed in for an authorization request: the user of an end-user access
/// token of this app (the API path of custom login UIs), else of the hosted
/// session cookie. Any other bearer is a 401.
pub struct SignedIn {
    pub user: entity::user::Model,
    pub session_id: Uuid,
    /// When the session signed in (`auth_time`).
    pub auth_time: chrono::DateTime<chrono::Utc>,
    /// How it signed in (RFC 8176 `amr`).
    pub amr: Vec<String>,
}

pub async fn signed_in(
    state: &AppState,
    app: &entity::app::Model,
    bearer: Option<&crate::access::Principal>,
    cookie: Option<&str>,
) -> Result<Option<SignedIn>> {
    use crate::access::Principal;
    if let Some(principal) = bearer {
        return match principal {
            Principal::EndUser(user) if user.app_id == app.id => {
                let model = crate::services::users::find(&*state.db, app.id, user.user_id).await?;
                let session = session::Entity::find_by_id(user.session_id)
                    .one(&*state.db)
                    .await?;
                let auth_time = session
                    .as_ref()
                    .map(crate::services::mfa::session_auth_time)
                    .unwrap_or_else(|| state.now());
                let amr = session
                    .as_ref()
                    .map(crate::services::mfa::session_amr)
                    .unwrap_or_default();
                Ok(Some(SignedIn {
                    user: model,
                    session_id: user.session_id,
                    auth_time,
                    amr,
                }))
            }
            _ => Err(crate::error::Error::invalid_token(
                "an end-user access token of this app is required",
            )),
        };
    }
    if let Some(cookie) = cookie
        && let Some(session) = resolve(state, app.id, cookie).await?
    {
        let model = crate::services::users::find(&*state.db, app.id, session.user_id).await?;
        return Ok(Some(SignedIn {
            user: model,
            session_id: session.id,
            auth_time: crate::services::mfa::session_auth_time(&session),
            amr: crate::services::mfa::session_amr(&session),
        }));
    }
    Ok(None)
}
