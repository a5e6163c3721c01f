//! End users: creation (admin lane and sign-up), lookup, updates, deactivation,
//! deletion. Each write records its audit entry in the same transaction.
//!
//! Caller-narrowing applies to every administrative action on a user: nobody assigns
//! a role whose permissions they do not hold, and nobody changes, deactivates or
//! deletes a user who holds permissions they lack (an administrator must not be able
//! to reset the owner's password).

use chrono::{DateTime, Utc};
use entity::{session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::{AppAccess, Me, Permission},
    db::{self, Page, PageRequest},
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        metadata, password_import, passwords, roles, sessions, validate,
    },
    state::AppState,
};

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_DEACTIVATED: &str = "deactivated";

fn email_taken(email: &str) -> String {
    format!("a user with email '{email}' already exists in this app")
}

/// A new user as requested.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub email_verified: bool,
}

/// What a user may bring beyond [`NewUser`]: an existing password hash, custom
/// attributes, and (imports, SCIM) the original creation time and SCIM identity
/// (docs/src/importing-users-and-scim.md).
#[derive(Debug, Clone, Default)]
pub struct UserExtras {
    /// A hash exported by another system, instead of `password`.
    pub password_hash: Option<String>,
    pub user_metadata: Option<Value>,
    pub app_metadata: Option<Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub external_id: Option<String>,
    pub scim_attributes: Option<Value>,
}

/// A new user validated and with its password hashed: ready to insert without doing
/// slow work inside a write transaction.
#[derive(Debug, Clone)]
pub struct PreparedUser {
    email: String,
    display_name: Option<String>,
    password_hash: Option<String>,
    role: String,
    email_verified: bool,
    user_metadata: Option<Value>,
    app_metadata: Option<Value>,
    created_at: Option<DateTime<Utc>>,
    external_id: Option<String>,
    scim_attributes: Option<Value>,
    /// What is weak about an imported password hash (reported, not refused).
    pub warnings: Vec<String>,
}

impl PreparedUser {
    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    pub fn password_hash(&self) -> Option<&str> {
        self.password_hash.as_deref()
    }
}

/// Validates and hashes (no database access).
pub async fn prepare(
    state: &AppState,
    app: &entity::app::Model,
    input: NewUser,
) -> Result<PreparedUser> {
    prepare_with(state, app, input, UserExtras::default()).await
}

/// [`prepare`] with what [`UserExtras`] brings.
pub async fn prepare_with(
    state: &AppState,
    app: &entity::app::Model,
    input: NewUser,
    extras: UserExtras,
) -> Result<PreparedUser> {
    let settings = AppSettings::from_stored(&app.settings);
    let email = validate::email("email", &input.email)?;
    let display_name = validate::display_name("display_name", input.display_name.as_deref())?;
    let role = input.role.unwrap_or_else(|| settings.default_role.clone());
    validate::role_name("role", &role)?;
    let user_metadata = extras
        .user_metadata
        .as_ref()
        .map(|m| metadata::check("user_metadata", m))
        .transpose()?;
    let app_metadata = extras
        .app_metadata
        .as_ref()
        .map(|m| metadata::check("app_metadata", m))
        .transpose()?;
    let external_id = extras
        .external_id
        .as_deref()
        .map(|id| validate::display_text("externalId", id, 255))
        .transpose()?;
    let mut warnings = Vec::new();
    let password_hash = match (&input.password, &extras.password_hash) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_field(
                "password_hash",
                "give either password or password_hash, not both",
            ));
        }
        (Some(password), None) => {
            passwords::check_policy("password", password, settings.password_min_length)?;
            Some(state.passwords.hash(password).await?)
        }
        (None, Some(hash)) => {
            let imported = password_import::accept("password_hash", hash)?;
            warnings = imported.warnings;
            Some(imported.hash)
        }
        (None, None) => None,
    };
    Ok(PreparedUser {
        email,
        display_name,
        password_hash,
        role,
        email_verified: input.email_verified,
        user_metadata,
        app_metadata,
        created_at: extras.created_at,
        external_id,
        scim_attributes: extras.scim_attributes,
        warnings,
    })
}

/// Inserts a prepared user (no audit; callers record their own action). The role
/// must exist in the catalogue.
pub async fn insert(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    prepared: PreparedUser,
) -> Result<user::Model> {
    roles::require_existing(conn, app_id, "role", &prepared.role).await?;
    let now = state.now();
    let created_at = prepared.created_at.filter(|c| *c <= now).unwrap_or(now);
    user::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        email: Set(prepared.email.clone()),
        email_verified: Set(prepared.email_verified),
        display_name: Set(prepared.display_name),
        password_hash: Set(prepared.password_hash),
        role: Set(prepared.role),
        status: Set(STATUS_ACTIVE.to_owned()),
        created_at: Set(created_at),
        updated_at: Set(now),
        last_sign_in_at: Set(None),
        user_metadata: Set(prepared.user_metadata),
        app_metadata: Set(prepared.app_metadata),
        external_id: Set(prepared.external_id),
        scim_attributes: Set(prepared.scim_attributes),
        locale: Set(None),
    }
    .insert(conn)
    .await
    .map_err(conflict_on_unique(email_taken(&prepared.email)))
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

/// A user of the app, or 404 (no permission check: for other services).
pub async fn find(conn: &impl ConnectionTrait, app_id: Uuid, id: Uuid) -> Result<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::AppId.eq(app_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("user not found"))
}

/// A user of the app (`user.read`).
pub async fn get(state: &AppState, access: &AppAccess, id: Uuid) -> Result<user::Model> {
    access.require(&[Permission::USER_READ])?;
    find(&*state.db, access.app().id, id).await
}

/// The caller's own user.
pub async fn me(state: &AppState, me: &Me) -> Result<user::Model> {
    find(&*state.db, me.app().id, me.user_id()).await
}

/// Refuses to act on a user who holds permissions the caller lacks.
async fn check_may_manage(
    conn: &impl ConnectionTrait,
    admin: &AppAccess,
    target: &user::Model,
) -> Result<()> {
    let held = roles::permissions_of(conn, admin.app().id, &target.role).await?;
    admin.check_can_grant(&held)
}

/// Creates a user (administrators).
pub async fn create(
    state: &AppState,
    admin: &AppAccess,
    input: NewUser,
    meta: &RequestMeta,
) -> Result<user::Model> {
    Ok(
        create_with(state, admin, input, UserExtras::default(), None, meta)
            .await?
            .0,
    )
}

/// Creates a user with [`UserExtras`]; also returns the warnings about an imported
/// password hash. `source` (`"scim"`, …) is recorded in the audit entry and event.
pub async fn create_with(
    state: &AppState,
    admin: &AppAccess,
    input: NewUser,
    extras: UserExtras,
    source: Option<&str>,
    meta: &RequestMeta,
) -> Result<(user::Model, Vec<String>)> {
    admin.require(&[Permission::USER_UPDATE])?;
    let explicit_role = input.role.is_some();
    let mut prepared = prepare_with(state, admin.app(), input, extras).await?;
    let warnings = std::mem::take(&mut prepared.warnings);
    let app_id = admin.app().id;
    let role_permissions =
        roles::require_existing(&*state.db, app_id, "role", prepared.role()).await?;
    if explicit_role {
        admin.require(&[Permission::ROLE_ASSIGN])?;
    }
    admin.check_can_grant(&role_permissions)?;
    let txn = state.db.begin_write().await?;
    let user = insert(&txn, state, app_id, prepared).await?;
    let facts = with_source(json!({ "email": user.email, "role": user.role }), source);
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "user.created", admin.actor().clone())
            .target(Target::user(user.id))
            .metadata(facts),
    )
    .await?;
    Ok((user, warnings))
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub email: Option<String>,
    pub role: Option<String>,
    pub status: Option<String>,
    pub tenant_id: Option<Uuid>,
    /// Top-level key equality on `user_metadata` / `app_metadata`.
    pub metadata: Vec<metadata::Filter>,
}

/// Whether the capability may list the app's users (`user.read`), for callers that
/// load them in batches themselves.
pub fn may_list(access: &AppAccess) -> Result<()> {
    access.require(&[Permission::USER_READ])
}

/// The app's users, filtered, in creation order (`user.read`).
pub async fn list(
    state: &AppState,
    access: &AppAccess,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Page<user::Model>> {
    access.require(&[Permission::USER_READ])?;
    let app_id = access.app().id;
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
    if let Some(tenant_id) = filter.tenant_id {
        let members: Vec<Uuid> = entity::tenant_member::Entity::find()
            .select_only()
            .column(entity::tenant_member::Column::UserId)
            .filter(entity::tenant_member::Column::TenantId.eq(tenant_id))
            .filter(entity::tenant_member::Column::AppId.eq(app_id))
            .into_tuple()
            .all(&*state.db)
            .await?;
        select = select.filter(user::Column::Id.is_in(members));
    }
    for condition in &filter.metadata {
        select = select.filter(condition.condition(state.db.backend()));
    }
    db::paginate(&*state.db, select, user::Column::Id, page, |u| u.id).await
}

/// An administrative update. `display_name: Some(None)` clears the name.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub display_name: Option<Option<String>>,
    pub role: Option<String>,
    pub email_verified: Option<bool>,
    pub password: Option<String>,
    /// Merged into the stored object (RFC 7396: `null` removes a key).
    pub user_metadata: Option<Value>,
    pub app_metadata: Option<Value>,
    /// A hash exported by another system, instead of `password`.
    pub password_hash: Option<String>,
    /// Where the change comes from (`"import"`, `"scim"`), for the audit entry and event.
    pub source: Option<&'static str>,
}

fn with_source(mut facts: Value, source: Option<&str>) -> Value {
    if let Some(source) = source {
        facts["source"] = json!(source);
    }
    facts
}

pub async fn update(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    patch: UserPatch,
    meta: &RequestMeta,
) -> Result<user::Model> {
    admin.require(&[Permission::USER_UPDATE])?;
    let app = admin.app();
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
    let password_hash = match (&patch.password, &patch.password_hash) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_field(
                "password_hash",
                "give either password or password_hash, not both",
            ));
        }
        (Some(password), None) => {
            passwords::check_policy("password", password, settings.password_min_length)?;
            Some(state.passwords.hash(password).await?)
        }
        (None, Some(hash)) => Some(password_import::accept("password_hash", hash)?.hash),
        (None, None) => None,
    };
    for (field, value) in [
        ("user_metadata", &patch.user_metadata),
        ("app_metadata", &patch.app_metadata),
    ] {
        if let Some(value) = value
            && !value.is_object()
        {
            return Err(Error::invalid_field(field, "must be a JSON object"));
        }
    }

    let txn = state.db.begin_write().await?;
    let current = find(&txn, app.id, id).await?;
    check_may_manage(&txn, admin, &current).await?;
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
        admin.require(&[Permission::ROLE_ASSIGN])?;
        let granted = roles::require_existing(&txn, app.id, "role", role).await?;
        admin.check_can_grant(&granted)?;
        model.role = Set(role.clone());
        changed.push("role");
    }
    if let Some(hash) = password_hash {
        model.password_hash = Set(Some(hash));
        changed.push("password");
    }
    if let Some(patch) = &patch.user_metadata {
        let merged = metadata::merged("user_metadata", &current.user_metadata, patch)?;
        if Some(&merged) != current.user_metadata.as_ref() {
            model.user_metadata = Set(Some(merged));
            changed.push("user_metadata");
        }
    }
    if let Some(patch) = &patch.app_metadata {
        let merged = metadata::merged("app_metadata", &current.app_metadata, patch)?;
        if Some(&merged) != current.app_metadata.as_ref() {
            model.app_metadata = Set(Some(merged));
            changed.push("app_metadata");
        }
    }
    if changed.is_empty() {
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
        Entry::new(app.id, "user.updated", admin.actor().clone())
            .target(Target::user(id))
            .metadata(with_source(json!({ "changed": changed }), patch.source)),
    )
    .await?;
    if let Some(role) = &role_change {
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app.id, "role.assigned", admin.actor().clone())
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
            admin.actor(),
            meta,
        )
        .await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    if role_change.is_some() {
        state.authz.bump(app.id);
    }
    Ok(updated)
}

/// The caller's own profile (`PATCH me`): only the display name.
pub async fn update_profile(
    state: &AppState,
    me: &Me,
    display_name: Option<Option<String>>,
    meta: &RequestMeta,
) -> Result<user::Model> {
    update_me(state, me, display_name, None, meta).await
}

/// The caller's own profile (`PATCH me`): the display name and `user_metadata`
/// (merged, RFC 7396). `app_metadata` is administrators' only.
pub async fn update_me(
    state: &AppState,
    me: &Me,
    display_name: Option<Option<String>>,
    user_metadata: Option<Value>,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let (app_id, user_id, actor) = (me.app().id, me.user_id(), me.actor());
    if display_name.is_none() && user_metadata.is_none() {
        return find(&*state.db, app_id, user_id).await;
    }
    let display_name = display_name
        .map(|name| validate::display_name("display_name", name.as_deref()))
        .transpose()?;
    let txn = state.db.begin_write().await?;
    let current = find(&txn, app_id, user_id).await?;
    let mut changed = Vec::new();
    let mut model = current.clone().into_active_model();
    if let Some(name) = display_name
        && name != current.display_name
    {
        model.display_name = Set(name);
        changed.push("display_name");
    }
    if let Some(patch) = &user_metadata {
        let merged = metadata::merged("user_metadata", &current.user_metadata, patch)?;
        if Some(&merged) != current.user_metadata.as_ref() {
            model.user_metadata = Set(Some(merged));
            changed.push("user_metadata");
        }
    }
    if changed.is_empty() {
        return Ok(current);
    }
    model.updated_at = Set(state.now());
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "user.updated", actor.clone())
            .target(Target::user(user_id))
            .metadata(json!({ "changed": changed })),
    )
    .await?;
    Ok(updated)
}

/// Deactivates (revoking every session) or reactivates a user.
pub async fn set_active(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    active: bool,
    meta: &RequestMeta,
) -> Result<user::Model> {
    set_active_from(state, admin, id, active, None, meta).await
}

/// [`set_active`], recording where the change comes from (`"scim"`).
pub async fn set_active_from(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    active: bool,
    source: Option<&'static str>,
    meta: &RequestMeta,
) -> Result<user::Model> {
    admin.require(&[Permission::USER_UPDATE])?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let current = find(&txn, app_id, id).await?;
    check_may_manage(&txn, admin, &current).await?;
    let status = if active {
        STATUS_ACTIVE
    } else {
        STATUS_DEACTIVATED
    };
    if current.status == status {
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
        Entry::new(app_id, action, admin.actor().clone())
            .target(Target::user(id))
            .metadata(with_source(json!({}), source)),
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
            admin.actor(),
            meta,
        )
        .await?
    };
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(updated)
}

/// Deletes a user with their sessions and memberships.
pub async fn delete(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    delete_from(state, admin, id, None, meta).await
}

/// [`delete`], recording where the change comes from (`"scim"`).
pub async fn delete_from(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    source: Option<&'static str>,
    meta: &RequestMeta,
) -> Result<()> {
    admin.require(&[Permission::USER_UPDATE])?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let current = find(&txn, app_id, id).await?;
    check_may_manage(&txn, admin, &current).await?;
    let session_ids: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    user::Entity::delete_by_id(id).exec(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "user.deleted", admin.actor().clone())
            .target(Target::user(id))
            .metadata(with_source(json!({ "email": current.email }), source)),
    )
    .await?;
    state.sessions.forget(&session_ids).await;
    state.authz.bump(app_id);
    Ok(())
}

/// Stores the language `user` chose (a BCP 47 tag, `None` to forget it): their
/// Heimdall-sent mail goes out in it (docs/src/hosted-pages.md#languages). A
/// preference, not an account change: no audit entry, no webhook.
pub async fn set_locale_in<C: ConnectionTrait>(
    conn: &C,
    user: user::Model,
    locale: Option<&str>,
) -> Result<user::Model> {
    if let Some(tag) = locale
        && !crate::i18n::is_language_tag(tag)
    {
        return Err(Error::invalid_field("locale", "is not a language tag"));
    }
    let locale = locale.map(str::to_owned);
    if user.locale == locale {
        return Ok(user);
    }
    let mut model = user.into_active_model();
    model.locale = Set(locale);
    Ok(model.update(conn).await?)
}

/// The signed-in user's language choice from the hosted pages' picker.
pub async fn set_my_locale(state: &AppState, me: &Me, locale: &str) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let current = find(&txn, me.app().id, me.user_id()).await?;
    set_locale_in(&txn, current, Some(locale)).await?;
    txn.commit().await?;
    Ok(())
}
