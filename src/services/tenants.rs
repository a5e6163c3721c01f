//! Tenants (the app's own customers), their members and tenant roles, and switching
//! a session's active tenant.

use entity::{refresh_token, session, tenant, tenant_member, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{AppAccess, Me, Permission, TenantAccess},
    db::{self, Page, PageRequest},
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        roles, sessions,
        tokens::{self, IssuedTokens},
        users, validate,
    },
    state::AppState,
};

fn slug_taken(slug: &str) -> String {
    format!("a tenant with slug '{slug}' already exists in this app")
}

/// A tenant of the app, or 404 (no permission check: for other services).
pub async fn find(conn: &impl ConnectionTrait, app_id: Uuid, id: Uuid) -> Result<tenant::Model> {
    tenant::Entity::find_by_id(id)
        .filter(tenant::Column::AppId.eq(app_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("tenant not found"))
}

/// The tenant of the capability (`tenant.manage`, in the app or in that tenant).
pub async fn get(state: &AppState, access: &TenantAccess) -> Result<tenant::Model> {
    access.require(&[Permission::TENANT_MANAGE])?;
    find(&*state.db, access.app().id, access.tenant_id()).await
}

pub async fn create(
    state: &AppState,
    admin: &AppAccess,
    slug: &str,
    name: &str,
    require_mfa: bool,
    meta: &RequestMeta,
) -> Result<tenant::Model> {
    admin.require(&[Permission::TENANT_MANAGE])?;
    if !validate::is_slug_shaped(slug) {
        return Err(Error::invalid_field(
            "slug",
            "must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        ));
    }
    let name = validate::display_text("name", name, 200)?;
    let app_id = admin.app().id;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let created = tenant::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        slug: Set(slug.to_owned()),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
        require_mfa: Set(require_mfa),
        external_id: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(slug_taken(slug)))?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "tenant.created", admin.actor().clone())
            .target(Target::new("tenant", created.id))
            .metadata(json!({ "slug": created.slug, "name": created.name })),
    )
    .await?;
    Ok(created)
}

/// The app's tenants, in creation order (`tenant.manage`).
pub async fn list(
    state: &AppState,
    access: &AppAccess,
    page: PageRequest,
) -> Result<Page<tenant::Model>> {
    access.require(&[Permission::TENANT_MANAGE])?;
    let app_id = access.app().id;
    let select = tenant::Entity::find().filter(tenant::Column::AppId.eq(app_id));
    db::paginate(&*state.db, select, tenant::Column::Id, page, |t| t.id).await
}

pub async fn update(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    slug: Option<&str>,
    name: Option<&str>,
    require_mfa: Option<bool>,
    meta: &RequestMeta,
) -> Result<tenant::Model> {
    admin.require(&[Permission::TENANT_MANAGE])?;
    if let Some(slug) = slug
        && !validate::is_slug_shaped(slug)
    {
        return Err(Error::invalid_field(
            "slug",
            "must be 2-63 characters of a-z, 0-9 and '-'",
        ));
    }
    let name = name
        .map(|n| validate::display_text("name", n, 200))
        .transpose()?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let current = find(&txn, app_id, id).await?;
    let mut model = current.into_active_model();
    if let Some(slug) = slug {
        model.slug = Set(slug.to_owned());
    }
    if let Some(name) = name {
        model.name = Set(name);
    }
    if let Some(require_mfa) = require_mfa {
        model.require_mfa = Set(require_mfa);
    }
    model.updated_at = Set(state.now());
    let updated = model
        .update(&txn)
        .await
        .map_err(conflict_on_unique(slug_taken(slug.unwrap_or_default())))?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "tenant.updated", admin.actor().clone())
            .target(Target::new("tenant", id)),
    )
    .await?;
    Ok(updated)
}

/// Clears a tenant from sessions that had it active; returns their ids.
async fn clear_from_sessions(
    conn: &impl ConnectionTrait,
    tenant_id: Uuid,
    user_id: Option<Uuid>,
) -> Result<Vec<Uuid>> {
    let mut select = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::TenantId.eq(tenant_id));
    if let Some(user_id) = user_id {
        select = select.filter(session::Column::UserId.eq(user_id));
    }
    let ids: Vec<Uuid> = select.into_tuple().all(conn).await?;
    if !ids.is_empty() {
        session::Entity::update_many()
            .col_expr(session::Column::TenantId, Expr::value(Option::<Uuid>::None))
            .filter(session::Column::Id.is_in(ids.clone()))
            .exec(conn)
            .await?;
    }
    Ok(ids)
}

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
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let current = find(&txn, app_id, id).await?;
    let cleared = clear_from_sessions(&txn, id, None).await?;
    tenant::Entity::delete_by_id(id).exec(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "tenant.deleted", admin.actor().clone())
            .target(Target::new("tenant", id))
            .metadata(match source {
                Some(source) => json!({ "slug": current.slug, "source": source }),
                None => json!({ "slug": current.slug }),
            }),
    )
    .await?;
    state.sessions.forget(&cleared).await;
    state.authz.bump(app_id);
    Ok(())
}

/// A member with their user.
#[derive(Debug, Clone)]
pub struct Member {
    pub membership: tenant_member::Model,
    pub user: user::Model,
}

pub async fn find_member(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<Option<tenant_member::Model>> {
    Ok(tenant_member::Entity::find_by_id((tenant_id, user_id))
        .one(conn)
        .await?
        .filter(|m| m.app_id == app_id))
}

/// The membership, or 403 for someone who is not a member.
pub async fn require_member(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
) -> Result<tenant_member::Model> {
    find_member(conn, app_id, tenant_id, user_id)
        .await?
        .ok_or_else(|| Error::forbidden("the user is not a member of this tenant"))
}

pub async fn add_member(
    state: &AppState,
    admin: &TenantAccess,
    user_id: Uuid,
    role: &str,
    meta: &RequestMeta,
) -> Result<Member> {
    admin.require(&[Permission::TENANT_MANAGE])?;
    let (app_id, tenant_id) = (admin.app().id, admin.tenant_id());
    let role_permissions = roles::require_existing(&*state.db, app_id, "role", role).await?;
    admin.check_can_grant(&role_permissions)?;
    let txn = state.db.begin_write().await?;
    find(&txn, app_id, tenant_id).await?;
    let user = users::find(&txn, app_id, user_id).await?;
    let now = state.now();
    let membership = tenant_member::ActiveModel {
        tenant_id: Set(tenant_id),
        user_id: Set(user_id),
        app_id: Set(app_id),
        role: Set(role.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(
        "the user is already a member of this tenant",
    ))?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "tenant.member_added", admin.actor().clone())
            .target(Target::user(user_id))
            .metadata(json!({ "tenant_id": tenant_id, "user_id": user_id, "role": role })),
    )
    .await?;
    state.authz.bump(app_id);
    Ok(Member { membership, user })
}

/// Whether the capability may read the tenant's members (`tenant.manage`, in the
/// app or in that tenant), for callers that load them in batches themselves.
pub fn may_list_members(access: &TenantAccess) -> Result<()> {
    access.require(&[Permission::TENANT_MANAGE])
}

/// A tenant's members with their tenant role (`tenant.manage`, in the app or in
/// that tenant).
pub async fn list_members(
    state: &AppState,
    access: &TenantAccess,
    page: PageRequest,
) -> Result<Page<Member>> {
    may_list_members(access)?;
    let (app_id, tenant_id) = (access.app().id, access.tenant_id());
    find(&*state.db, app_id, tenant_id).await?;
    let select =
        tenant_member::Entity::find().filter(tenant_member::Column::TenantId.eq(tenant_id));
    let page = db::paginate(
        &*state.db,
        select,
        tenant_member::Column::UserId,
        page,
        |m| m.user_id,
    )
    .await?;
    let ids: Vec<Uuid> = page.items.iter().map(|m| m.user_id).collect();
    let users: std::collections::HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(&*state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let items = page
        .items
        .into_iter()
        .filter_map(|m| {
            users.get(&m.user_id).cloned().map(|user| Member {
                membership: m,
                user,
            })
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

pub async fn update_member(
    state: &AppState,
    admin: &TenantAccess,
    user_id: Uuid,
    role: &str,
    meta: &RequestMeta,
) -> Result<Member> {
    admin.require(&[Permission::TENANT_MANAGE])?;
    let (app_id, tenant_id) = (admin.app().id, admin.tenant_id());
    let new_permissions = roles::require_existing(&*state.db, app_id, "role", role).await?;
    admin.check_can_grant(&new_permissions)?;
    let txn = state.db.begin_write().await?;
    find(&txn, app_id, tenant_id).await?;
    let current = find_member(&txn, app_id, tenant_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("member not found"))?;
    // Nobody demotes someone who holds more than they do.
    admin.check_can_grant(&roles::permissions_of(&txn, app_id, &current.role).await?)?;
    let previous = current.role.clone();
    let mut model = current.into_active_model();
    model.role = Set(role.to_owned());
    model.updated_at = Set(state.now());
    let membership = model.update(&txn).await?;
    let user = users::find(&txn, app_id, user_id).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "tenant.member_updated", admin.actor().clone())
            .target(Target::user(user_id))
            .metadata(json!({ "tenant_id": tenant_id, "role": role, "previous_role": previous })),
    )
    .await?;
    state.authz.bump(app_id);
    Ok(Member { membership, user })
}

pub async fn remove_member(
    state: &AppState,
    admin: &TenantAccess,
    user_id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    admin.require(&[Permission::TENANT_MANAGE])?;
    let (app_id, tenant_id) = (admin.app().id, admin.tenant_id());
    let txn = state.db.begin_write().await?;
    find(&txn, app_id, tenant_id).await?;
    let current = find_member(&txn, app_id, tenant_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("member not found"))?;
    admin.check_can_grant(&roles::permissions_of(&txn, app_id, &current.role).await?)?;
    tenant_member::Entity::delete_by_id((tenant_id, user_id))
        .exec(&txn)
        .await?;
    let cleared = clear_from_sessions(&txn, tenant_id, Some(user_id)).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "tenant.member_removed", admin.actor().clone())
            .target(Target::user(user_id))
            .metadata(json!({ "tenant_id": tenant_id, "user_id": user_id, "role": current.role })),
    )
    .await?;
    state.sessions.forget(&cleared).await;
    state.authz.bump(app_id);
    Ok(())
}

/// The tenants the caller belongs to, with their tenant role.
pub async fn mine(state: &AppState, me: &Me) -> Result<Vec<(tenant::Model, tenant_member::Model)>> {
    of_user(&*state.db, me.app().id, me.user_id()).await
}

/// The tenants a user belongs to, with their tenant role.
pub async fn of_user(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<(tenant::Model, tenant_member::Model)>> {
    let rows = tenant_member::Entity::find()
        .filter(tenant_member::Column::AppId.eq(app_id))
        .filter(tenant_member::Column::UserId.eq(user_id))
        .find_also_related(tenant::Entity)
        .order_by_asc(tenant_member::Column::TenantId)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, t)| t.map(|t| (t, m)))
        .collect())
}

/// Makes `tenant_id` the session's active tenant and issues a new token pair whose
/// access token carries `org_id` and `org_role`. Earlier refresh tokens of the
/// session stop working (without counting as reuse).
pub async fn switch(
    state: &AppState,
    me: &Me,
    tenant_id: Uuid,
    meta: &RequestMeta,
) -> Result<(IssuedTokens, user::Model)> {
    let (app, caller) = (me.app(), me.user());
    let not_found = || Error::not_found("tenant not found");
    let tenant = find(&*state.db, app.id, tenant_id)
        .await
        .map_err(|_| not_found())?;
    find_member(&*state.db, app.id, tenant.id, caller.user_id)
        .await?
        .ok_or_else(not_found)?;
    if tenant.require_mfa {
        let current = session::Entity::find_by_id(caller.session_id)
            .one(&*state.db)
            .await?
            .ok_or_else(|| Error::invalid_token("the session no longer exists"))?;
        crate::services::mfa::signin::check_tenant(
            state,
            app.id,
            tenant.id,
            &crate::services::mfa::session_amr(&current),
        )
        .await?;
    }
    let settings = AppSettings::from_stored(&app.settings);
    let txn = state.db.begin_write().await?;
    let user = users::find(&txn, app.id, caller.user_id).await?;
    let current = session::Entity::find_by_id(caller.session_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::invalid_token("the session no longer exists"))?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SessionId.eq(current.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let mut model = current.into_active_model();
    model.tenant_id = Set(Some(tenant.id));
    model.last_used_at = Set(state.now());
    let session = model.update(&txn).await?;
    let refresh =
        tokens::new_refresh_token(&txn, state, session.id, settings.refresh_token_ttl).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "session.tenant_switched", me.actor())
            .target(Target::session(session.id))
            .metadata(json!({ "tenant_id": tenant.id })),
    )
    .await?;
    state.sessions.forget(&[session.id]).await;
    let tokens = sessions::issue(state, app, &user, &session, refresh).await?;
    Ok((tokens, user))
}
