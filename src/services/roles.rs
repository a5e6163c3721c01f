//! The role catalogue: system roles, custom roles, the declarative sync and
//! deletion with reassignment. Every change bumps the app's permission cache.

use std::collections::{BTreeMap, BTreeSet};

use entity::{role, tenant_member, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, sea_query::Expr,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{AppAccess, Permission},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        permissions::{self, SYSTEM_ROLES},
        validate,
    },
    state::AppState,
};

/// A role as requested (create, or one entry of a sync).
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

/// A validated role definition.
#[derive(Debug, Clone, PartialEq)]
struct RoleDef {
    name: String,
    display_name: Option<String>,
    description: Option<String>,
    permissions: Vec<String>,
}

fn validate_input(input: &RoleInput) -> Result<RoleDef> {
    validate::role_name("name", &input.name)?;
    let text = |field: &str, value: &Option<String>, max: usize| -> Result<Option<String>> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => validate::display_text(field, v, max).map(Some),
        }
    };
    Ok(RoleDef {
        name: input.name.clone(),
        display_name: text("display_name", &input.display_name, 100)?,
        description: text("description", &input.description, 500)?,
        permissions: permissions::normalise(&input.permissions)?,
    })
}

/// Creates the system roles of a new app.
pub async fn create_system_roles(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
) -> Result<()> {
    let now = state.now();
    for system in SYSTEM_ROLES {
        role::ActiveModel {
            id: Set(db::new_id()),
            app_id: Set(app_id),
            name: Set(system.name.to_owned()),
            display_name: Set(Some(system.display_name.to_owned())),
            description: Set(Some(system.description.to_owned())),
            permissions: Set(json!(permissions::normalise(
                &system
                    .permissions
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect::<Vec<_>>()
            )?)),
            is_system: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Gives apps created before the role catalogue existed their system roles.
pub async fn ensure_system_roles(state: &AppState) -> Result<()> {
    let apps = entity::app::Entity::find().all(&*state.db).await?;
    for app in apps {
        let count = role::Entity::find()
            .filter(role::Column::AppId.eq(app.id))
            .filter(role::Column::IsSystem.eq(true))
            .count(&*state.db)
            .await?;
        if count == 0 {
            let txn = state.db.begin_write().await?;
            create_system_roles(&txn, state, app.id).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

/// Reading the catalogue takes `role.manage` or `role.assign` (whoever assigns roles
/// must see them).
const READERS: [Permission; 2] = [Permission::ROLE_MANAGE, Permission::ROLE_ASSIGN];

/// The app's catalogue: system roles first, then custom roles by name.
pub async fn list(state: &AppState, access: &AppAccess) -> Result<Vec<role::Model>> {
    access.require_any(&READERS)?;
    all(&*state.db, access.app().id).await
}

/// One role of the catalogue by name, or 404.
pub async fn get(state: &AppState, access: &AppAccess, name: &str) -> Result<role::Model> {
    access.require_any(&READERS)?;
    named(&*state.db, access.app().id, name).await
}

/// Every role of the app: system roles first, then custom roles by name.
async fn all(conn: &impl ConnectionTrait, app_id: Uuid) -> Result<Vec<role::Model>> {
    Ok(role::Entity::find()
        .filter(role::Column::AppId.eq(app_id))
        .order_by_desc(role::Column::IsSystem)
        .order_by_asc(role::Column::Name)
        .all(conn)
        .await?)
}

pub async fn find(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    name: &str,
) -> Result<Option<role::Model>> {
    if validate::role_name("role", name).is_err() {
        return Ok(None);
    }
    Ok(role::Entity::find()
        .filter(role::Column::AppId.eq(app_id))
        .filter(role::Column::Name.eq(name))
        .one(conn)
        .await?)
}

/// A role by name, or 404 (no permission check: for other services).
pub async fn named(conn: &impl ConnectionTrait, app_id: Uuid, name: &str) -> Result<role::Model> {
    find(conn, app_id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("role '{name}' not found")))
}

/// The permissions of an existing role; a 400 naming `field` when it does not exist.
pub async fn require_existing(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    field: &str,
    name: &str,
) -> Result<Vec<String>> {
    validate::role_name(field, name)?;
    match find(conn, app_id, name).await? {
        Some(role) => Ok(permissions::of_json(&role.permissions)),
        None => Err(Error::invalid_field(
            field,
            format!("unknown role '{name}'"),
        )),
    }
}

/// The permissions of a role; empty when it does not exist.
pub async fn permissions_of(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    name: &str,
) -> Result<Vec<String>> {
    Ok(find(conn, app_id, name)
        .await?
        .map(|r| permissions::of_json(&r.permissions))
        .unwrap_or_default())
}

fn system_refusal(name: &str) -> Error {
    Error::conflict(format!(
        "'{name}' is a system role: it cannot be changed or deleted"
    ))
}

pub async fn create(
    state: &AppState,
    admin: &AppAccess,
    input: RoleInput,
    meta: &RequestMeta,
) -> Result<role::Model> {
    admin.require(&[Permission::ROLE_MANAGE])?;
    let def = validate_input(&input)?;
    if permissions::system_role(&def.name).is_some() {
        return Err(system_refusal(&def.name));
    }
    admin.check_can_grant(&def.permissions)?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let now = state.now();
    let created = role::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        name: Set(def.name.clone()),
        display_name: Set(def.display_name.clone()),
        description: Set(def.description.clone()),
        permissions: Set(json!(def.permissions)),
        is_system: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(crate::error::conflict_on_unique(format!(
        "a role named '{}' already exists",
        def.name
    )))?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "role.created", admin.actor().clone())
            .target(Target::new("role", &def.name))
            .metadata(json!({ "permissions": def.permissions })),
    )
    .await?;
    state.authz.bump(app_id);
    Ok(created)
}

/// A partial update; `Some(None)` clears a text field.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub display_name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub permissions: Option<Vec<String>>,
}

pub async fn update(
    state: &AppState,
    admin: &AppAccess,
    name: &str,
    patch: RolePatch,
    meta: &RequestMeta,
) -> Result<role::Model> {
    admin.require(&[Permission::ROLE_MANAGE])?;
    let app_id = admin.app().id;
    let current = named(&*state.db, app_id, name).await?;
    if current.is_system {
        return Err(system_refusal(name));
    }
    let current_permissions = permissions::of_json(&current.permissions);
    let def = validate_input(&RoleInput {
        name: name.to_owned(),
        display_name: match &patch.display_name {
            Some(v) => v.clone(),
            None => current.display_name.clone(),
        },
        description: match &patch.description {
            Some(v) => v.clone(),
            None => current.description.clone(),
        },
        permissions: patch
            .permissions
            .clone()
            .unwrap_or_else(|| current_permissions.clone()),
    })?;
    let (added, removed) = diff(&current_permissions, &def.permissions);
    admin.check_can_grant(&added)?;
    let txn = state.db.begin_write().await?;
    let mut model = current.into_active_model();
    model.display_name = Set(def.display_name);
    model.description = Set(def.description);
    model.permissions = Set(json!(def.permissions));
    model.updated_at = Set(state.now());
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "role.updated", admin.actor().clone())
            .target(Target::new("role", name))
            .metadata(json!({ "added": added, "removed": removed })),
    )
    .await?;
    state.authz.bump(app_id);
    Ok(updated)
}

/// How many users and tenant members hold a role.
async fn assignments(conn: &impl ConnectionTrait, app_id: Uuid, name: &str) -> Result<(u64, u64)> {
    let users = user::Entity::find()
        .filter(user::Column::AppId.eq(app_id))
        .filter(user::Column::Role.eq(name))
        .count(conn)
        .await?;
    let members = tenant_member::Entity::find()
        .filter(tenant_member::Column::AppId.eq(app_id))
        .filter(tenant_member::Column::Role.eq(name))
        .count(conn)
        .await?;
    Ok((users, members))
}

async fn reassign(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    from: &str,
    to: &str,
) -> Result<()> {
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(to))
        .col_expr(user::Column::UpdatedAt, Expr::value(state.now()))
        .filter(user::Column::AppId.eq(app_id))
        .filter(user::Column::Role.eq(from))
        .exec(conn)
        .await?;
    tenant_member::Entity::update_many()
        .col_expr(tenant_member::Column::Role, Expr::value(to))
        .col_expr(tenant_member::Column::UpdatedAt, Expr::value(state.now()))
        .filter(tenant_member::Column::AppId.eq(app_id))
        .filter(tenant_member::Column::Role.eq(from))
        .exec(conn)
        .await?;
    Ok(())
}

fn still_assigned(name: &str, users: u64, members: u64) -> Error {
    Error::Conflict {
        message: format!(
            "role '{name}' is assigned to {users} user(s) and {members} tenant member(s); \
             say what to reassign them to with reassign_to"
        ),
        details: Some(json!({ "role": name, "users": users, "members": members })),
    }
}

/// Deletes a custom role. Holders are moved to `reassign_to`, or the request is a
/// 409 naming how many there are.
pub async fn delete(
    state: &AppState,
    admin: &AppAccess,
    name: &str,
    reassign_to: Option<&str>,
    meta: &RequestMeta,
) -> Result<()> {
    admin.require(&[Permission::ROLE_MANAGE])?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let current = named(&txn, app_id, name).await?;
    if current.is_system {
        return Err(system_refusal(name));
    }
    let (users, members) = assignments(&txn, app_id, name).await?;
    if users + members > 0 {
        let Some(target) = reassign_to else {
            return Err(still_assigned(name, users, members));
        };
        if target == name {
            return Err(Error::invalid_field("reassign_to", "must be another role"));
        }
        let target_permissions = require_existing(&txn, app_id, "reassign_to", target).await?;
        admin.check_can_grant(&target_permissions)?;
        reassign(&txn, state, app_id, name, target).await?;
    }
    role::Entity::delete_by_id(current.id).exec(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "role.deleted", admin.actor().clone())
            .target(Target::new("role", name))
            .metadata(json!({ "reassigned_to": reassign_to, "users": users, "members": members })),
    )
    .await?;
    state.authz.bump(app_id);
    Ok(())
}

/// One updated role of a sync.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleChange {
    pub name: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// The answer of a sync (docs/src/roles-permissions-tenants.md), dry run or applied.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SyncResult {
    pub dry_run: bool,
    pub created: Vec<String>,
    pub updated: Vec<RoleChange>,
    pub deleted: Vec<String>,
    pub unchanged: Vec<String>,
}

fn diff(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let old: BTreeSet<&String> = old.iter().collect();
    let new: BTreeSet<&String> = new.iter().collect();
    (
        new.difference(&old).map(|s| (*s).clone()).collect(),
        old.difference(&new).map(|s| (*s).clone()).collect(),
    )
}

/// Replaces the custom-role catalogue with `desired`, atomically. System roles may
/// be listed only unchanged. Roles to delete that still have holders need
/// `reassign_to`. A dry run validates everything the same way and changes nothing.
pub async fn sync(
    state: &AppState,
    admin: &AppAccess,
    desired: Vec<RoleInput>,
    reassign_to: Option<String>,
    dry_run: bool,
    meta: &RequestMeta,
) -> Result<SyncResult> {
    admin.require(&[Permission::ROLE_MANAGE])?;
    let app_id = admin.app().id;
    let mut wanted: BTreeMap<String, RoleDef> = BTreeMap::new();
    for (i, input) in desired.iter().enumerate() {
        let def = validate_input(input).map_err(|e| match e {
            Error::InvalidRequest { message, details } => Error::InvalidRequest {
                message: format!("roles[{i}]: {message}"),
                details,
            },
            other => other,
        })?;
        if let Some(system) = permissions::system_role(&def.name) {
            let fixed: Vec<String> = system.permissions.iter().map(|p| (*p).to_owned()).collect();
            if def.permissions != permissions::normalise(&fixed)? {
                return Err(Error::invalid_field(
                    &format!("roles[{i}].permissions"),
                    format!(
                        "'{}' is a system role and cannot be changed by a sync; omit it",
                        def.name
                    ),
                ));
            }
            continue;
        }
        if wanted.insert(def.name.clone(), def).is_some() {
            return Err(Error::invalid_field(
                &format!("roles[{i}].name"),
                format!("'{}' is listed twice", input.name),
            ));
        }
    }

    let txn = state.db.begin_write().await?;
    let current: BTreeMap<String, role::Model> = all(&txn, app_id)
        .await?
        .into_iter()
        .filter(|r| !r.is_system)
        .map(|r| (r.name.clone(), r))
        .collect();

    let mut result = SyncResult {
        dry_run,
        created: Vec::new(),
        updated: Vec::new(),
        deleted: Vec::new(),
        unchanged: Vec::new(),
    };
    let mut to_grant = Vec::new();
    for (name, def) in &wanted {
        match current.get(name) {
            None => {
                result.created.push(name.clone());
                to_grant.extend(def.permissions.iter().cloned());
            }
            Some(existing) => {
                let (added, removed) = diff(
                    &permissions::of_json(&existing.permissions),
                    &def.permissions,
                );
                let text_changed = existing.display_name != def.display_name
                    || existing.description != def.description;
                if added.is_empty() && removed.is_empty() && !text_changed {
                    result.unchanged.push(name.clone());
                } else {
                    to_grant.extend(added.iter().cloned());
                    result.updated.push(RoleChange {
                        name: name.clone(),
                        added,
                        removed,
                    });
                }
            }
        }
    }
    let mut blocked = Vec::new();
    for name in current.keys().filter(|n| !wanted.contains_key(*n)) {
        let (users, members) = assignments(&txn, app_id, name).await?;
        if users + members > 0 && reassign_to.is_none() {
            blocked.push(json!({ "role": name, "users": users, "members": members }));
        }
        result.deleted.push(name.clone());
    }
    admin.check_can_grant(&to_grant)?;
    if !blocked.is_empty() {
        return Err(Error::Conflict {
            message: format!(
                "{} role(s) to delete still have holders; say what to reassign them to with reassign_to",
                blocked.len()
            ),
            details: Some(json!({ "roles": blocked })),
        });
    }
    if let Some(target) = &reassign_to
        && !result.deleted.is_empty()
    {
        if result.deleted.contains(target) {
            return Err(Error::invalid_field(
                "reassign_to",
                "names a role this sync deletes",
            ));
        }
        let target_permissions = match wanted.get(target) {
            Some(def) => def.permissions.clone(),
            None => require_existing(&txn, app_id, "reassign_to", target).await?,
        };
        admin.check_can_grant(&target_permissions)?;
    }
    if dry_run {
        return Ok(result);
    }

    let now = state.now();
    for name in &result.created {
        let def = &wanted[name];
        role::ActiveModel {
            id: Set(db::new_id()),
            app_id: Set(app_id),
            name: Set(name.clone()),
            display_name: Set(def.display_name.clone()),
            description: Set(def.description.clone()),
            permissions: Set(json!(def.permissions)),
            is_system: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app_id, "role.created", admin.actor().clone())
                .target(Target::new("role", name))
                .metadata(json!({ "permissions": def.permissions, "via": "sync" })),
        )
        .await?;
    }
    for change in &result.updated {
        let def = &wanted[&change.name];
        let mut model = current[&change.name].clone().into_active_model();
        model.display_name = Set(def.display_name.clone());
        model.description = Set(def.description.clone());
        model.permissions = Set(json!(def.permissions));
        model.updated_at = Set(now);
        model.update(&txn).await?;
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app_id, "role.updated", admin.actor().clone())
                .target(Target::new("role", &change.name))
                .metadata(
                    json!({ "added": change.added, "removed": change.removed, "via": "sync" }),
                ),
        )
        .await?;
    }
    for name in &result.deleted {
        if let Some(target) = &reassign_to {
            reassign(&txn, state, app_id, name, target).await?;
        }
        role::Entity::delete_by_id(current[name].id)
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app_id, "role.deleted", admin.actor().clone())
                .target(Target::new("role", name))
                .metadata(json!({ "reassigned_to": reassign_to, "via": "sync" })),
        )
        .await?;
    }
    txn.commit().await?;
    state.authz.bump(app_id);
    Ok(result)
}

/// Every permission named in the catalogue (plus Heimdall's built-in ones), with the
/// roles that grant it (wildcards included).
pub async fn catalogue(state: &AppState, access: &AppAccess) -> Result<Vec<(String, Vec<String>)>> {
    access.require_any(&READERS)?;
    let roles: Vec<(String, Vec<String>)> = all(&*state.db, access.app().id)
        .await?
        .into_iter()
        .map(|r| (r.name, permissions::of_json(&r.permissions)))
        .collect();
    let mut names: BTreeSet<String> = permissions::BUILTIN_ADMIN
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    for (_, held) in &roles {
        names.extend(held.iter().filter(|p| p.as_str() != "*").cloned());
    }
    Ok(names
        .into_iter()
        .map(|permission| {
            let mut holders: Vec<String> = roles
                .iter()
                .filter(|(_, held)| permissions::holds(held, &permission))
                .map(|(name, _)| name.clone())
                .collect();
            holders.sort();
            (permission, holders)
        })
        .collect())
}
