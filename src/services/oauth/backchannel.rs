//! OpenID Connect Back-Channel Logout 1.0 (docs/src/hosted-pages.md#back-channel-logout).
//!
//! A client that registered a `backchannel_logout_uri` is told when a session it
//! signed in to ends — RP-Initiated Logout, the user or an administrator revoking
//! the session, a deactivation — by a `logout_token` (a JWT of `typ` `logout+jwt`
//! signed with the app's key) POSTed to that URI. Which clients a session signed in
//! to is remembered when an authorization code (or device grant) is redeemed in it
//! ([`remember`]); the notices are queued in the transaction that ends the session
//! ([`queue`]) and sent by the webhook worker with the webhook retry schedule
//! (`services::webhooks::backchannel`), so they survive restarts.

use entity::{backchannel_logout, oauth_client, oauth_session_client, session};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    access::Actor,
    db,
    error::Result,
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        webhooks::STATUS_PENDING,
    },
    state::AppState,
};

/// The `events` member of every logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The logout token's header `typ` (§2.4, RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";
/// How long a logout token is valid: it is made afresh for every attempt.
pub const TOKEN_TTL_SECS: i64 = 120;

/// Records that `session_id` signed in to `client_id` (idempotent). Runs on the
/// transaction that issues the tokens; a session that no longer exists is skipped.
pub async fn remember(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    client_id: Uuid,
    session_id: Option<Uuid>,
) -> Result<()> {
    let Some(session_id) = session_id else {
        return Ok(());
    };
    if session::Entity::find_by_id(session_id)
        .one(conn)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let inserted = oauth_session_client::Entity::insert(oauth_session_client::ActiveModel {
        session_id: Set(session_id),
        client_id: Set(client_id),
        app_id: Set(app_id),
        created_at: Set(state.now()),
    })
    .on_conflict(
        OnConflict::columns([
            oauth_session_client::Column::SessionId,
            oauth_session_client::Column::ClientId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await;
    match inserted {
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Queues a logout notice for every active client with a `backchannel_logout_uri`
/// that the ended sessions (`(session_id, user_id)`) signed in to, with an audit
/// entry each (`oauth.backchannel_logout_queued`). Runs on the transaction that
/// ends the sessions, so a notice exists exactly when the session ended.
pub async fn queue(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    ended: &[(Uuid, Uuid)],
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<usize> {
    if ended.is_empty() {
        return Ok(0);
    }
    let session_ids: Vec<Uuid> = ended.iter().map(|(s, _)| *s).collect();
    let links = oauth_session_client::Entity::find()
        .filter(oauth_session_client::Column::SessionId.is_in(session_ids))
        .all(conn)
        .await?;
    if links.is_empty() {
        return Ok(0);
    }
    let mut client_ids: Vec<Uuid> = links.iter().map(|l| l.client_id).collect();
    client_ids.sort();
    client_ids.dedup();
    let clients: Vec<oauth_client::Model> = oauth_client::Entity::find()
        .filter(oauth_client::Column::Id.is_in(client_ids))
        .filter(oauth_client::Column::AppId.eq(app_id))
        .filter(oauth_client::Column::IsActive.eq(true))
        .filter(oauth_client::Column::BackchannelLogoutUri.is_not_null())
        .all(conn)
        .await?;
    let now = state.now();
    let mut queued = 0;
    for link in &links {
        let Some(client) = clients.iter().find(|c| c.id == link.client_id) else {
            continue;
        };
        let Some((_, user_id)) = ended.iter().find(|(s, _)| *s == link.session_id) else {
            continue;
        };
        let id = db::new_id();
        backchannel_logout::Entity::insert(backchannel_logout::ActiveModel {
            id: Set(id),
            app_id: Set(app_id),
            client_id: Set(client.id),
            user_id: Set(*user_id),
            session_id: Set(link.session_id),
            status: Set(STATUS_PENDING.to_owned()),
            attempt: Set(0),
            next_attempt_at: Set(Some(now)),
            response_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(conn)
        .await?;
        audit::record(
            conn,
            state,
            meta,
            Entry::new(app_id, "oauth.backchannel_logout_queued", actor.clone())
                .target(Target::new("oauth_client", client.id))
                .metadata(json!({
                    "logout_id": id,
                    "session_id": link.session_id,
                    "user_id": user_id,
                    "origin": origin(client.backchannel_logout_uri.as_deref().unwrap_or_default()),
                })),
        )
        .await?;
        queued += 1;
    }
    if queued > 0 {
        // The worker looks shortly after (the transaction commits first).
        state.webhooks.wake();
    }
    Ok(queued)
}

/// What the audit log keeps of a URI: its origin (paths may carry the RP's secrets).
fn origin(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// The claims of a logout token for `notice` (§2.4): `iss`, `aud` (the client),
/// `iat`, `exp`, a fresh `jti`, `sub`, `sid` and `events`; never a `nonce`.
pub fn claims(
    issuer: &str,
    notice: &backchannel_logout::Model,
    subject: &str,
    now: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(notice.client_id.to_string()));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + TOKEN_TTL_SECS));
    claims.insert("jti".into(), json!(db::new_id().to_string()));
    claims.insert("sub".into(), json!(subject));
    claims.insert("sid".into(), json!(notice.session_id.to_string()));
    claims.insert("events".into(), json!({ EVENT: {} }));
    claims
}

/// A signed logout token for `notice`, made at the time of sending.
pub async fn logout_token(state: &AppState, notice: &backchannel_logout::Model) -> Result<String> {
    let app = entity::app::Entity::find_by_id(notice.app_id)
        .one(&*state.db)
        .await?
        .ok_or_else(|| crate::error::Error::internal("the app of a logout notice is gone"))?;
    // The subject the client knows the user by (pairwise clients: their own).
    let subject =
        super::pairwise::subject_for_client_id(state, app.id, notice.client_id, notice.user_id)
            .await?;
    let claims = claims(
        &state.issuer(&app.name),
        notice,
        &subject,
        state.now().timestamp(),
    );
    state.signing.signer(app.id).await?.sign_typed(TYP, &claims)
}
