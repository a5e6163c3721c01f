//! The device authorization grant (RFC 8628; docs/src/oauth-extensions.md#device-authorization-grant).
//! A device without a browser asks for a device code and a user code; its user
//! enters the user code on the hosted `/{app}/device` page, signed in, and approves;
//! meanwhile the device polls the token endpoint, which answers
//! `authorization_pending`, `slow_down`, `access_denied` or `expired_token` until the
//! tokens are ready.

use axum::http::StatusCode;
use entity::{oauth_client, oauth_device_code};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{OAuthError, clients, grants, parse_scopes, scope_description, scopes_of};
use crate::{
    access::Actor,
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        throttle,
    },
    state::AppState,
};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long a device code lives, seconds.
pub const EXPIRES_IN: i64 = 600;
/// The polling interval a device starts with, seconds.
pub const INTERVAL: i32 = 5;
/// User codes use consonants only (RFC 8628 §6.1): no vowels (no words), no
/// look-alikes such as 0/O or 1/I.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_APPROVED: &str = "approved";
pub const STATUS_DENIED: &str = "denied";
pub const STATUS_USED: &str = "used";

/// Wrong user codes per user (and app) before the page waits.
pub const USER_CODE_FAILURES: throttle::Limit = throttle::Limit {
    max_failures: 10,
    window: chrono::Duration::minutes(15),
};

/// A new device authorization.
pub struct Started {
    pub device_code: String,
    /// `XXXX-XXXX`.
    pub user_code: String,
    pub expires_in: i64,
    pub interval: i32,
}

fn new_user_code() -> Result<String> {
    let bytes = crypto::random_bytes(8)?;
    let chars: String = bytes
        .iter()
        .map(|b| USER_CODE_ALPHABET[usize::from(*b) % USER_CODE_ALPHABET.len()] as char)
        .collect();
    Ok(format!("{}-{}", &chars[..4], &chars[4..]))
}

/// Upper case without dashes and spaces, as users type it.
pub fn normalise(user_code: &str) -> String {
    user_code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// `POST /{app}/v1/oauth/device_authorization` for an authenticated client.
pub async fn start(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    scope: Option<&str>,
) -> std::result::Result<Started, OAuthError> {
    let allowed = clients::allowed_scopes(client);
    let scopes = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        Some(scope) => parse_scopes(scope),
        None => allowed.clone(),
    };
    if let Some(bad) = scopes
        .iter()
        .find(|s| scope_description(s).is_none() || !allowed.contains(s))
    {
        return Err(OAuthError::invalid_scope(format!(
            "scope '{}' is unknown or not allowed for this client",
            bad.chars().take(64).collect::<String>()
        )));
    }
    let device_code = crypto::generate_secret(prefix::DEVICE_CODE)?;
    let user_code = new_user_code()?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    oauth_device_code::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        client_id: Set(client.id),
        device_code_hash: Set(state.hasher.hash(&device_code)),
        user_code_hash: Set(state.hasher.hash(&normalise(&user_code))),
        scopes: Set(json!(scopes)),
        status: Set(STATUS_PENDING.to_owned()),
        user_id: Set(None),
        session_id: Set(None),
        auth_time: Set(None),
        interval: Set(INTERVAL),
        last_polled_at: Set(None),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(EXPIRES_IN)),
    }
    .insert(&txn)
    .await?;
    // Expired codes of the app go as new ones come.
    oauth_device_code::Entity::delete_many()
        .filter(oauth_device_code::Column::AppId.eq(app.id))
        .filter(oauth_device_code::Column::ExpiresAt.lt(now - chrono::Duration::hours(1)))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Started {
        device_code,
        user_code,
        expires_in: EXPIRES_IN,
        interval: INTERVAL,
    })
}

fn device_error(error: &'static str, description: &str) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, error, description)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5).
pub async fn poll(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    device_code: &str,
    dpop_jkt: Option<&str>,
    meta: &RequestMeta,
) -> std::result::Result<grants::Issued, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the device code is invalid or was used");
    if !device_code.starts_with(prefix::DEVICE_CODE) || device_code.len() > 200 {
        return Err(invalid());
    }
    let found = oauth_device_code::Entity::find()
        .filter(
            oauth_device_code::Column::DeviceCodeHash.is_in(state.hasher.candidates(device_code)),
        )
        .one(&*state.db)
        .await?
        .filter(|d| d.app_id == app.id && d.client_id == client.id)
        .ok_or_else(invalid)?;
    let now = state.now();
    if found.expires_at <= now {
        return Err(device_error(
            "expired_token",
            "the device code has expired; start again",
        ));
    }
    match found.status.as_str() {
        STATUS_PENDING => {
            let too_soon = found
                .last_polled_at
                .is_some_and(|last| (now - last).num_seconds() < i64::from(found.interval));
            let mut model = found.clone().into_active_model();
            model.last_polled_at = Set(Some(now));
            if too_soon {
                model.interval = Set(found.interval + 5);
            }
            let txn = state.db.begin_write().await?;
            model.update(&txn).await?;
            txn.commit().await?;
            if too_soon {
                Err(device_error(
                    "slow_down",
                    &format!("poll at most every {} seconds", found.interval + 5),
                ))
            } else {
                Err(device_error(
                    "authorization_pending",
                    "the user has not answered yet",
                ))
            }
        }
        STATUS_DENIED => Err(device_error("access_denied", "the user denied the request")),
        STATUS_APPROVED => {
            // Redeem once.
            let txn = state.db.begin_write().await?;
            let claimed = oauth_device_code::Entity::update_many()
                .col_expr(oauth_device_code::Column::Status, Expr::value(STATUS_USED))
                .filter(oauth_device_code::Column::Id.eq(found.id))
                .filter(oauth_device_code::Column::Status.eq(STATUS_APPROVED))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            if claimed.rows_affected == 0 {
                return Err(invalid());
            }
            let user_id = found.user_id.ok_or_else(invalid)?;
            grants::device_tokens(
                state,
                app,
                client,
                user_id,
                found.session_id,
                scopes_of(&found.scopes),
                found.auth_time.unwrap_or(now),
                dpop_jkt,
                meta,
            )
            .await
        }
        _ => Err(invalid()),
    }
}

/// A pending authorization by its user code, with its client, for the page.
pub async fn pending(
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    user_code: &str,
) -> Result<(oauth_device_code::Model, oauth_client::Model)> {
    let key = format!("device:user:{app_id}:{user_id}");
    throttle::check(state, &key, USER_CODE_FAILURES).await?;
    let normalised = normalise(user_code);
    let not_found = || {
        Error::not_found(
            "this code is unknown or has expired: check it, or start again on the device",
        )
    };
    let found = if normalised.len() == 8 {
        oauth_device_code::Entity::find()
            .filter(oauth_device_code::Column::AppId.eq(app_id))
            .filter(
                oauth_device_code::Column::UserCodeHash.is_in(state.hasher.candidates(&normalised)),
            )
            .one(&*state.db)
            .await?
    } else {
        None
    };
    let found = found.filter(|d| d.status == STATUS_PENDING && d.expires_at > state.now());
    let Some(found) = found else {
        throttle::fail(state, &key, USER_CODE_FAILURES).await?;
        return Err(not_found());
    };
    let client = oauth_client::Entity::find_by_id(found.client_id)
        .one(&*state.db)
        .await?
        .filter(|c| c.is_active)
        .ok_or_else(not_found)?;
    Ok((found, client))
}

/// Records the signed-in user's answer for a user code.
pub async fn answer(
    state: &AppState,
    app: &entity::app::Model,
    signed_in: &super::web::SignedIn,
    user_code: &str,
    approved: bool,
    meta: &RequestMeta,
) -> Result<oauth_client::Model> {
    let user_id = signed_in.user.id;
    let (found, client) = pending(state, app.id, user_id, user_code).await?;
    let txn = state.db.begin_write().await?;
    let status = if approved {
        STATUS_APPROVED
    } else {
        STATUS_DENIED
    };
    let claimed = oauth_device_code::Entity::update_many()
        .col_expr(oauth_device_code::Column::Status, Expr::value(status))
        .col_expr(oauth_device_code::Column::UserId, Expr::value(user_id))
        .col_expr(
            oauth_device_code::Column::SessionId,
            Expr::value(signed_in.session_id),
        )
        .col_expr(
            oauth_device_code::Column::AuthTime,
            Expr::value(signed_in.auth_time),
        )
        .filter(oauth_device_code::Column::Id.eq(found.id))
        .filter(oauth_device_code::Column::Status.eq(STATUS_PENDING))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(Error::Gone("this code was already answered".into()));
    }
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app.id,
            if approved {
                "oauth.device_authorized"
            } else {
                "oauth.device_denied"
            },
            Actor {
                kind: "end_user",
                id: user_id.to_string(),
            },
        )
        .target(Target::new("oauth_client", client.id))
        .metadata(json!({ "client_id": client.id, "scopes": scopes_of(&found.scopes) })),
    )
    .await?;
    Ok(client)
}
