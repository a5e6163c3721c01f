//! Tenants and memberships: `tenants`, `tenant`, the tenant and member mutations,
//! and the caller's `myTenants`, `myPermissions`, `switchTenant`.

use async_graphql::{
    Context, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{tenant, tenant_member, user};
use uuid::Uuid;

use super::{ContextExt, guards::Authenticated, loaders::MembersOf, relay, users::User};
use crate::{
    db::PageRequest,
    error::Error,
    services::{authz, tenants},
};

fn parse_id(id: &ID, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::not_found(format!("{what} not found")))
}

/// A tenant: one of the app's own customers.
pub struct Tenant(pub tenant::Model);

#[Object]
impl Tenant {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Only sessions established with a second factor may make this tenant active.
    async fn require_mfa(&self) -> bool {
        self.0.require_mfa
    }
    /// Members and their tenant role (the first 100).
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<TenantMember>> {
        let app = self.0.app_id.to_string();
        let access = super::tenant_access(ctx, Some(&app), self.0.id).await?;
        tenants::may_list_members(&access)?;
        let members = ctx
            .loader()
            .load_one(MembersOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(members
            .into_iter()
            .map(|(m, u)| TenantMember(m, u))
            .collect())
    }
}

/// A user's membership in a tenant.
pub struct TenantMember(pub tenant_member::Model, pub user::Model);

#[Object]
impl TenantMember {
    async fn user(&self) -> User {
        User(self.1.clone())
    }
    /// The tenant role (`org_role` in tokens).
    async fn role(&self) -> &str {
        &self.0.role
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A tenant the user belongs to, and their role there.
pub struct TenantMembership(pub tenant::Model, pub tenant_member::Model);

#[Object]
impl TenantMembership {
    async fn tenant(&self) -> Tenant {
        Tenant(self.0.clone())
    }
    async fn role(&self) -> &str {
        &self.1.role
    }
}

/// The caller's live permissions.
#[derive(SimpleObject)]
pub struct Permissions {
    /// The app role.
    pub role: String,
    /// The role in the token's tenant; null without one.
    pub org_role: Option<String>,
    /// App role ∪ tenant role, flat and sorted.
    pub permissions: Vec<String>,
}

/// A token response.
#[derive(SimpleObject)]
pub struct TokenPayload {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: User,
}

#[derive(InputObject)]
pub struct TenantInput {
    pub slug: String,
    pub name: String,
    /// Only sessions established with a second factor may make it active.
    pub require_mfa: Option<bool>,
}

#[derive(InputObject, Default)]
pub struct UpdateTenantInput {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub require_mfa: Option<bool>,
}

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// The app's tenants, in creation order (`tenant.manage`).
    #[graphql(guard = "Authenticated")]
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Tenant>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let had_cursor = after.is_some();
        let page = tenants::list(state, &admin, PageRequest::from_graphql(first, after)?).await?;
        Ok(relay::connection(page, had_cursor, |t| t.id, Tenant))
    }

    /// One tenant.
    #[graphql(guard = "Authenticated")]
    async fn tenant(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<Option<Tenant>> {
        let state = ctx.state();
        let id = parse_id(&id, "tenant")?;
        let admin = super::tenant_access(ctx, app.as_deref(), id).await?;
        Ok(Some(Tenant(tenants::get(state, &admin).await?)))
    }

    /// The caller's role, tenant role and effective permissions.
    #[graphql(guard = "Authenticated")]
    async fn my_permissions(&self, ctx: &Context<'_>) -> Result<Permissions> {
        let me = super::me(ctx).await?;
        let effective = authz::mine(ctx.state(), &me).await?;
        Ok(Permissions {
            role: effective.role.clone(),
            org_role: effective.org_role.clone(),
            permissions: effective.permissions.clone(),
        })
    }

    /// The tenants the caller belongs to.
    #[graphql(guard = "Authenticated")]
    async fn my_tenants(&self, ctx: &Context<'_>) -> Result<Vec<TenantMembership>> {
        let me = super::me(ctx).await?;
        Ok(tenants::mine(ctx.state(), &me)
            .await?
            .into_iter()
            .map(|(t, m)| TenantMembership(t, m))
            .collect())
    }
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    #[graphql(guard = "Authenticated")]
    async fn create_tenant(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: TenantInput,
    ) -> Result<Tenant> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        Ok(Tenant(
            tenants::create(
                state,
                &admin,
                &input.slug,
                &input.name,
                input.require_mfa.unwrap_or(false),
                ctx.meta(),
            )
            .await?,
        ))
    }

    #[graphql(guard = "Authenticated")]
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
        input: UpdateTenantInput,
    ) -> Result<Tenant> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let tenant = tenants::update(
            state,
            &admin,
            parse_id(&id, "tenant")?,
            input.slug.as_deref(),
            input.name.as_deref(),
            input.require_mfa,
            ctx.meta(),
        )
        .await?;
        Ok(Tenant(tenant))
    }

    /// Deletes a tenant and its memberships.
    #[graphql(guard = "Authenticated")]
    async fn delete_tenant(&self, ctx: &Context<'_>, app: Option<String>, id: ID) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        tenants::delete(state, &admin, parse_id(&id, "tenant")?, ctx.meta()).await?;
        Ok(true)
    }

    /// Adds a member with a tenant role (you can only grant roles whose permissions you hold).
    #[graphql(guard = "Authenticated")]
    async fn add_tenant_member(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        tenant_id: ID,
        user_id: ID,
        role: String,
    ) -> Result<TenantMember> {
        let state = ctx.state();
        let tenant_id = parse_id(&tenant_id, "tenant")?;
        let admin = super::tenant_access(ctx, app.as_deref(), tenant_id).await?;
        let member = tenants::add_member(
            state,
            &admin,
            parse_id(&user_id, "user")?,
            &role,
            ctx.meta(),
        )
        .await?;
        Ok(TenantMember(member.membership, member.user))
    }

    /// Changes a member's tenant role.
    #[graphql(guard = "Authenticated")]
    async fn update_tenant_member(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        tenant_id: ID,
        user_id: ID,
        role: String,
    ) -> Result<TenantMember> {
        let state = ctx.state();
        let tenant_id = parse_id(&tenant_id, "tenant")?;
        let admin = super::tenant_access(ctx, app.as_deref(), tenant_id).await?;
        let member = tenants::update_member(
            state,
            &admin,
            parse_id(&user_id, "member")?,
            &role,
            ctx.meta(),
        )
        .await?;
        Ok(TenantMember(member.membership, member.user))
    }

    /// Removes a member; it takes effect on their next use of a token.
    #[graphql(guard = "Authenticated")]
    async fn remove_tenant_member(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        tenant_id: ID,
        user_id: ID,
    ) -> Result<bool> {
        let state = ctx.state();
        let tenant_id = parse_id(&tenant_id, "tenant")?;
        let admin = super::tenant_access(ctx, app.as_deref(), tenant_id).await?;
        tenants::remove_member(state, &admin, parse_id(&user_id, "member")?, ctx.meta()).await?;
        Ok(true)
    }

    /// Makes a tenant the caller's active one; returns a new token pair with `org_id`.
    #[graphql(guard = "Authenticated")]
    async fn switch_tenant(&self, ctx: &Context<'_>, tenant_id: ID) -> Result<TokenPayload> {
        let state = ctx.state();
        let me = super::me(ctx).await?;
        let (tokens, user) =
            tenants::switch(state, &me, parse_id(&tenant_id, "tenant")?, ctx.meta()).await?;
        Ok(TokenPayload {
            access_token: tokens.access_token,
            token_type: "Bearer".into(),
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            user: User(user),
        })
    }
}
