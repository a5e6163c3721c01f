//! SCIM bearer tokens (`hm_scim_…`): minted by the app's administrators, shown once,
//! stored as keyed SHA-256 hashes, good for one app's `/{slug}/scim/v2/` only.

use entity::scim_token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::AppAdmin,
    crypto, db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        validate,
    },
    state::AppState,
};

/// The prefix of SCIM tokens.
pub const PREFIX: &str = "hm_scim_";

/// Mints a token; returns it with its secret (shown once).
pub async fn create(
    state: &AppState,
    admin: &AppAdmin,
    name: &str,
    meta: &RequestMeta,
) -> Result<(scim_token::Model, String)> {
    let name = validate::display_text("name", name, 200)?;
    let secret = crypto::generate_secret(PREFIX)?;
    // Secrets are ASCII (prefix and base64url).
    let hint = secret
        .get(secret.len().saturating_sub(4)..)
        .unwrap_or_default()
        .to_owned();
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let token = scim_token::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        name: Set(name),
        token_hash: Set(state.hasher.hash(&secret)),
        hint: Set(hint),
        created_at: Set(state.now()),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "scim_token.created", admin.actor().clone())
            .target(Target::new("scim_token", token.id))
            .metadata(json!({ "name": token.name })),
    )
    .await?;
    Ok((token, secret))
}

/// The app's tokens (never their secrets).
pub async fn list(state: &AppState, admin: &AppAdmin) -> Result<Vec<scim_token::Model>> {
    Ok(scim_token::Entity::find()
        .filter(scim_token::Column::AppId.eq(admin.app().id))
        .order_by_asc(scim_token::Column::Id)
        .all(&*state.db)
        .await?)
}

/// Revokes a token.
pub async fn revoke(
    state: &AppState,
    admin: &AppAdmin,
    id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let deleted = scim_token::Entity::delete_many()
        .filter(scim_token::Column::Id.eq(id))
        .filter(scim_token::Column::AppId.eq(app_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found("SCIM token not found"));
    }
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "scim_token.revoked", admin.actor().clone())
            .target(Target::new("scim_token", id)),
    )
    .await
}

/// The token of `app_id` that `secret` is, if any.
pub async fn authenticate(
    state: &AppState,
    app_id: Uuid,
    secret: &str,
) -> Result<Option<scim_token::Model>> {
    if !secret.starts_with(PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let found = scim_token::Entity::find()
        .filter(scim_token::Column::TokenHash.is_in(state.hasher.candidates(secret)))
        .one(&*state.db)
        .await?;
    let Some(token) = found else { return Ok(None) };
    if token.app_id != app_id || !state.hasher.verify(secret, &token.token_hash) {
        return Ok(None);
    }
    state
        .last_used
        .record_later::<scim_token::Entity>(
            state,
            token.id,
            scim_token::Column::Id,
            scim_token::Column::LastUsedAt,
        )
        .await;
    Ok(Some(token))
}
