//! End users: creation (admin lane and signup), lookup, updates, deactivation,
//! deletion. Each write records its audit entry in the same transaction.

use entity::{session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::{Actor, AppAdmin},
    db::{self, Page, PageRequest},
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        passwords, sessions, validate,
    },
    state::AppState,
};

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_DEACTIVATED: &str = "deactivated";

fn email_taken(email: &str) -> String {
    format!("a user with email '{email}' already exists in this app")
}

/// A validated new user.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub email_verified: bool,
}

/// Validates and inserts a user (no audit; callers record their own action).
pub async fn insert(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &entity::app::Model,
    input: NewUser,
) -> Result<user::Model> {
    let settings = AppSettings::from_stored(&app.settings);
    let email = validate::email("email", &input.email)?;
    let display_name = validate::display_name("display_name", input.display_name.as_deref())?;
    let role = input.role.unwrap_or_else(|| settings.default_role.clone());
    validate::role_name("role", &role)?;
    let password_hash = match &input.password {
        Some(password) => {
            passwords::check_policy("password", password, settings.password_min_length)?;
            Some(state.passwords.hash(password).await?)
        }
        None => None,
    };
    let now = state.now();
    user::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        email: Set(email.clone()),
        email_verified: Set(input.email_verified),
        display_name: Set(display_name),
        password_hash: Set(password_hash),
        role: Set(role),
        status: Set(STATUS_ACTIVE.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        last_sign_in_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(conflict_on_unique(email_taken(&email)))
}

/// Finds a user of the app by (normalised) email.
pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    email: &str,
) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::AppId.eq(app_id))
        .filter(user::Column::Email.eq(email))
        .one(conn)
        .await?)
}

/// A user of the app, or 404.
pub async fn get(conn: &impl ConnectionTrait, app_id: Uuid, id: Uuid) -> Result<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::AppId.eq(app_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("user not found"))
}

/// Creates a user through the admin lane.
pub async fn create(
    state: &AppState,
    admin: &AppAdmin,
    input: NewUser,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let txn = state.db.begin_write().await?;
    let user = insert(&txn, state, admin.app(), input).await?;
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(user.app_id, "user.created", admin.actor().clone())
            .target(Target::user(user.id))
            .metadata(json!({ "email": user.email, "role": user.role })),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// List filters of the admin lane.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub email: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
}

pub async fn list(
    state: &AppState,
    app_id: Uuid,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Page<user::Model>> {
    let mut select = user::Entity::find().filter(user::Column::AppId.eq(app_id));
    if let Some(email) = &filter.email {
        select = select.filter(user::Column::Email.eq(validate::email("email", email)?));
    }
    if let Some(role) = &filter.role {
        validate::role_name("role", role)?;
        select = select.filter(user::Column::Role.eq(role.as_str()));
    }
    if let Some(status) = &filter.status {
        if status != STATUS_ACTIVE && status != STATUS_DEACTIVATED {
            return Err(Error::invalid_field(
                "status",
                "must be active or deactivated",
            ));
        }
        select = select.filter(user::Column::Status.eq(status.as_str()));
    }
    db::paginate(&*state.db, select, user::Column::Id, page, |u| u.id).await
}

/// An admin update. `display_name: Some(None)` clears the name.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub display_name: Option<Option<String>>,
    pub role: Option<String>,
    pub email_verified: Option<bool>,
    pub password: Option<String>,
}

pub async fn update(
    state: &AppState,
    app: &entity::app::Model,
    actor: &Actor,
    id: Uuid,
    patch: UserPatch,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let settings = AppSettings::from_stored(&app.settings);
    // Validate and hash before taking the write lock.
    let email = patch
        .email
        .as_deref()
        .map(|e| validate::email("email", e))
        .transpose()?;
    let display_name = match &patch.display_name {
        Some(name) => Some(validate::display_name("display_name", name.as_deref())?),
        None => None,
    };
    if let Some(role) = &patch.role {
        validate::role_name("role", role)?;
    }
    let password_hash = match &patch.password {
        Some(password) => {
            passwords::check_policy("password", password, settings.password_min_length)?;
            Some(state.passwords.hash(password).await?)
        }
        None => None,
    };

    let txn = state.db.begin_write().await?;
    let current = get(&txn, app.id, id).await?;
    let mut model = current.clone().into_active_model();
    let mut changed = Vec::new();
    if let Some(email) = &email
        && *email != current.email
    {
        model.email = Set(email.clone());
        // A new address is unverified until proven otherwise.
        model.email_verified = Set(patch.email_verified.unwrap_or(false));
        changed.push("email");
    }
    if let Some(verified) = patch.email_verified
        && (email.is_none() || email.as_deref() == Some(current.email.as_str()))
        && verified != current.email_verified
    {
        model.email_verified = Set(verified);
        changed.push("email_verified");
    }
    if let Some(name) = display_name
        && name != current.display_name
    {
        model.display_name = Set(name);
        changed.push("display_name");
    }
    let role_change = patch.role.as_ref().filter(|r| **r != current.role).cloned();
    if let Some(role) = &role_change {
        model.role = Set(role.clone());
        changed.push("role");
    }
    if let Some(hash) = password_hash {
        model.password_hash = Set(Some(hash));
        changed.push("password");
    }
    if changed.is_empty() {
        txn.commit().await?;
        return Ok(current);
    }
    model.updated_at = Set(state.now());
    let updated = model
        .update(&txn)
        .await
        .map_err(conflict_on_unique(email_taken(
            email.as_deref().unwrap_or_default(),
        )))?;
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "user.updated", actor.clone())
            .target(Target::user(id))
            .metadata(json!({ "changed": changed })),
    )
    .await?;
    if let Some(role) = &role_change {
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app.id, "role.assigned", actor.clone())
                .target(Target::user(id))
                .metadata(json!({ "user_id": id, "role": role, "previous_role": current.role })),
        )
        .await?;
    }
    // A password set by an administrator ends every session, like a reset.
    let revoked = if changed.contains(&"password") {
        sessions::revoke_all(
            &txn,
            state,
            app.id,
            id,
            None,
            "password_changed",
            actor,
            meta,
        )
        .await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(updated)
}

/// Deactivates (revoking every session) or reactivates a user.
pub async fn set_active(
    state: &AppState,
    app_id: Uuid,
    actor: &Actor,
    id: Uuid,
    active: bool,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let txn = state.db.begin_write().await?;
    let current = get(&txn, app_id, id).await?;
    let status = if active {
        STATUS_ACTIVE
    } else {
        STATUS_DEACTIVATED
    };
    if current.status == status {
        txn.commit().await?;
        return Ok(current);
    }
    let mut model = current.into_active_model();
    model.status = Set(status.to_owned());
    model.updated_at = Set(state.now());
    let updated = model.update(&txn).await?;
    let action = if active {
        "user.reactivated"
    } else {
        "user.deactivated"
    };
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app_id, action, actor.clone()).target(Target::user(id)),
    )
    .await?;
    let revoked = if active {
        Vec::new()
    } else {
        sessions::revoke_all(
            &txn,
            state,
            app_id,
            id,
            None,
            "user_deactivated",
            actor,
            meta,
        )
        .await?
    };
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(updated)
}

/// Deletes a user with their sessions.
pub async fn delete(
    state: &AppState,
    app_id: Uuid,
    actor: &Actor,
    id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let current = get(&txn, app_id, id).await?;
    let session_ids: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    user::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app_id, "user.deleted", actor.clone())
            .target(Target::user(id))
            .metadata(json!({ "email": current.email })),
    )
    .await?;
    txn.commit().await?;
    state.sessions.forget(&session_ids).await;
    Ok(())
}
