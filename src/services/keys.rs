//! Root keys and app keys (PAK): high-entropy bearer secrets stored as keyed SHA-256
//! hashes, looked up by hash and compared in constant time.

use entity::{api_key, root_key};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use crate::{
    access::{AppAdmin, Principal, RootAccess},
    crypto::{self, prefix},
    db::{self, Page, PageRequest},
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        validate,
    },
    state::AppState,
};
use serde_json::json;

/// Creates a root key and returns the secret (shown once).
pub async fn create_root_key(state: &AppState, name: &str) -> Result<String> {
    let secret = crypto::generate_secret(prefix::ROOT_KEY)?;
    let txn = state.db.begin_write().await?;
    root_key::ActiveModel {
        id: Set(db::new_id()),
        name: Set(validate::display_text("name", name, 200)?),
        key_hash: Set(state.hasher.hash(&secret)),
        created_at: Set(state.now()),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// The stored root keys (never their secrets), oldest first.
pub async fn list_root_keys(state: &AppState, _root: &RootAccess) -> Result<Vec<root_key::Model>> {
    use sea_orm::QueryOrder;
    Ok(root_key::Entity::find()
        .order_by_asc(root_key::Column::CreatedAt)
        .order_by_asc(root_key::Column::Id)
        .all(&*state.db)
        .await?)
}

/// Creates a root key on behalf of a root holder; the secret is returned once.
/// Root keys belong to no app, so no app's audit log records them: the creation is
/// logged (id and name, never the secret).
pub async fn create_root_key_as(
    state: &AppState,
    root: &RootAccess,
    name: &str,
) -> Result<(Uuid, String)> {
    let secret = create_root_key(state, name).await?;
    let candidates = state.hasher.candidates(&secret);
    let id = root_key::Entity::find()
        .filter(root_key::Column::KeyHash.is_in(candidates))
        .one(&*state.db)
        .await?
        .map(|k| k.id)
        .ok_or_else(|| Error::internal("created root key vanished"))?;
    tracing::info!(root_key = %id, actor = ?root.actor(), "root key created");
    Ok((id, secret))
}

/// Revokes (deletes) a stored root key. `HEIMDALL_ROOT_KEY` is configuration, not a
/// row: it stops working when the variable is removed.
pub async fn revoke_root_key(state: &AppState, root: &RootAccess, id: Uuid) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let result = root_key::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    if result.rows_affected == 0 {
        return Err(Error::not_found("root key not found"));
    }
    tracing::info!(root_key = %id, actor = ?root.actor(), "root key revoked");
    Ok(())
}

/// On first start (no root key stored and none configured), creates one and returns
/// it so the caller can print it once.
pub async fn ensure_initial_root_key(state: &AppState) -> Result<Option<String>> {
    if state.config.root_key.is_some() {
        return Ok(None);
    }
    if root_key::Entity::find().count(&*state.db).await? > 0 {
        return Ok(None);
    }
    create_root_key(state, "initial").await.map(Some)
}

/// Validates a configured `HEIMDALL_ROOT_KEY`.
pub fn check_configured_root_key(key: &str) -> std::result::Result<(), String> {
    let random = key
        .strip_prefix(prefix::ROOT_KEY)
        .ok_or_else(|| format!("HEIMDALL_ROOT_KEY must start with {}", prefix::ROOT_KEY))?;
    if random.len() < 32
        || !random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("HEIMDALL_ROOT_KEY needs at least 32 random characters of [A-Za-z0-9_-] after the prefix \
                    (generate one with `heimdall bootstrap --print-only`)"
            .into());
    }
    Ok(())
}

/// Authenticates a `hm_root_…` secret.
pub async fn authenticate_root(state: &AppState, secret: &str) -> Result<Option<Principal>> {
    let candidates = state.hasher.candidates(secret);
    let configured = state.env_root_key_hashes.iter().any(|stored| {
        candidates
            .iter()
            .any(|c| crypto::ct_eq(c.as_bytes(), stored.as_bytes()))
    });
    if configured {
        return Ok(Some(Principal::Root { key_id: None }));
    }
    let found = root_key::Entity::find()
        .filter(root_key::Column::KeyHash.is_in(candidates))
        .one(&*state.db)
        .await?;
    let Some(key) = found else { return Ok(None) };
    if !state.hasher.verify(secret, &key.key_hash) {
        return Ok(None);
    }
    state
        .last_used
        .record_later::<root_key::Entity>(
            state,
            key.id,
            root_key::Column::Id,
            root_key::Column::LastUsedAt,
        )
        .await;
    Ok(Some(Principal::Root {
        key_id: Some(key.id),
    }))
}

/// Authenticates a `hm_pak_…` secret.
pub async fn authenticate_app_key(state: &AppState, secret: &str) -> Result<Option<Principal>> {
    let candidates = state.hasher.candidates(secret);
    let found = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.is_in(candidates))
        .one(&*state.db)
        .await?;
    let Some(key) = found else { return Ok(None) };
    if !state.hasher.verify(secret, &key.key_hash) {
        return Ok(None);
    }
    state
        .last_used
        .record_later::<api_key::Entity>(
            state,
            key.id,
            api_key::Column::Id,
            api_key::Column::LastUsedAt,
        )
        .await;
    Ok(Some(Principal::AppKey {
        app_id: key.app_id,
        key_id: key.id,
    }))
}

/// Creates an app key; the secret is returned once.
pub async fn create_app_key(
    state: &AppState,
    admin: &AppAdmin,
    name: &str,
    meta: &RequestMeta,
) -> Result<(api_key::Model, String)> {
    let name = validate::display_text("name", name, 200)?;
    let secret = crypto::generate_secret(prefix::APP_KEY)?;
    let hint = secret[secret.len() - 4..].to_owned();
    let txn = state.db.begin_write().await?;
    let model = api_key::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(admin.app().id),
        name: Set(name),
        key_hash: Set(state.hasher.hash(&secret)),
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
        Entry::new(admin.app().id, "api_key.created", admin.actor().clone())
            .target(Target::new("api_key", model.id))
            .metadata(json!({ "name": model.name })),
    )
    .await?;
    Ok((model, secret))
}

pub async fn list_app_keys(
    state: &AppState,
    admin: &AppAdmin,
    page: PageRequest,
) -> Result<Page<api_key::Model>> {
    let select = api_key::Entity::find().filter(api_key::Column::AppId.eq(admin.app().id));
    db::paginate(&*state.db, select, api_key::Column::Id, page, |m| m.id).await
}

/// Revokes (deletes) an app key of the admin's app.
pub async fn revoke_app_key(
    state: &AppState,
    admin: &AppAdmin,
    id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let result = api_key::Entity::delete_many()
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::AppId.eq(admin.app().id))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::not_found("api key not found"));
    }
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(admin.app().id, "api_key.revoked", admin.actor().clone())
            .target(Target::new("api_key", id)),
    )
    .await?;
    Ok(())
}

/// Rotates the app's signing key to a new key of its configured algorithm, audited
/// as `signing_key.rotated`; the previous key stays published for its overlap.
/// The app's signing keys: the active one, and retired ones still published.
pub async fn list_signing_keys(
    state: &AppState,
    admin: &AppAdmin,
) -> Result<Vec<entity::signing_key::Model>> {
    state.signing.list(admin.app().id).await
}

/// Rotates to a new key of the app's configured algorithm. `requested`, when
/// given, must be that algorithm: the `signing_alg` setting is what changes it.
pub async fn rotate_signing_key(
    state: &AppState,
    admin: &AppAdmin,
    requested: Option<&str>,
    meta: &RequestMeta,
) -> Result<entity::signing_key::Model> {
    let app_id = admin.app().id;
    let alg = crate::services::apps::AppSettings::from_stored(&admin.app().settings).signing_alg;
    if let Some(requested) = requested {
        let requested = crate::crypto::keys::SigningAlg::parse(requested)
            .ok_or_else(|| Error::invalid_field("alg", "must be RS256, ES256 or EdDSA"))?;
        if requested != alg {
            return Err(Error::invalid_field(
                "alg",
                "differs from the app's signing_alg setting; change the setting instead (it rotates the key)",
            ));
        }
    }
    let generated = state.signing.generate(alg).await?;
    let kid = generated.kid.clone();
    let txn = state.db.begin_write().await?;
    let retired = state.signing.rotate_in(&txn, app_id, generated).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "signing_key.rotated", admin.actor().clone())
            .target(Target::new("signing_key", &kid))
            .metadata(json!({ "alg": alg, "retired": retired })),
    )
    .await?;
    state.signing.forget(app_id, &retired).await;
    entity::signing_key::Entity::find_by_id(kid)
        .one(&*state.db)
        .await?
        .ok_or_else(|| Error::internal("rotated key vanished"))
}
