//! The role catalogue: `roles`, `role`, `createRole`, `updateRole`, `deleteRole`,
//! `syncRoles`; `Role.users` is batched.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::role;

use super::{
    ContextExt,
    guards::Authenticated,
    loaders::{USERS_PER_ROLE, UsersWithRole},
    users::User,
};
use crate::services::{
    permissions,
    roles::{self, RoleInput, RolePatch, SyncResult},
};

/// A role of the app's catalogue.
pub struct Role(pub role::Model);

#[Object]
impl Role {
    /// Unique within the app; users and tenant members refer to it by name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Permission strings (`resource.action`, `resource:*`, `*`), sorted.
    async fn permissions(&self) -> Vec<String> {
        permissions::of_json(&self.0.permissions)
    }
    /// System roles are created with the app and cannot be changed or deleted.
    async fn is_system(&self) -> bool {
        self.0.is_system
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Users whose app role this is (the first 100, in creation order; `user.read`).
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        let app = self.0.app_id.to_string();
        crate::services::users::may_list(&super::app_access(ctx, Some(&app)).await?)?;
        let loaded = ctx
            .loader()
            .load_one(UsersWithRole(self.0.app_id, self.0.name.clone()))
            .await?
            .unwrap_or_default();
        Ok(loaded.into_iter().take(USERS_PER_ROLE).map(User).collect())
    }
}

#[derive(InputObject)]
pub struct RoleInputObject {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    #[graphql(default)]
    pub permissions: Vec<String>,
}

impl From<RoleInputObject> for RoleInput {
    fn from(r: RoleInputObject) -> Self {
        Self {
            name: r.name,
            display_name: r.display_name,
            description: r.description,
            permissions: r.permissions,
        }
    }
}

#[derive(InputObject, Default)]
pub struct UpdateRoleInput {
    pub display_name: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub permissions: Option<Vec<String>>,
}

fn maybe(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(InputObject)]
pub struct SyncRolesInput {
    /// The complete set of custom roles; system roles may be omitted.
    pub roles: Vec<RoleInputObject>,
    /// Where holders of deleted roles go.
    pub reassign_to: Option<String>,
}

#[derive(SimpleObject)]
pub struct RoleChange {
    pub name: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// What a sync did (or, as a dry run, would do).
#[derive(SimpleObject)]
pub struct RoleSyncResult {
    pub dry_run: bool,
    pub created: Vec<String>,
    pub updated: Vec<RoleChange>,
    pub deleted: Vec<String>,
    pub unchanged: Vec<String>,
}

impl From<SyncResult> for RoleSyncResult {
    fn from(r: SyncResult) -> Self {
        Self {
            dry_run: r.dry_run,
            created: r.created,
            updated: r
                .updated
                .into_iter()
                .map(|c| RoleChange {
                    name: c.name,
                    added: c.added,
                    removed: c.removed,
                })
                .collect(),
            deleted: r.deleted,
            unchanged: r.unchanged,
        }
    }
}

#[derive(Default)]
pub struct RoleQuery;

#[Object]
impl RoleQuery {
    /// The app's role catalogue: system roles first, then custom roles by name.
    #[graphql(guard = "Authenticated")]
    async fn roles(&self, ctx: &Context<'_>, app: Option<String>) -> Result<Vec<Role>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        Ok(roles::list(state, &admin)
            .await?
            .into_iter()
            .map(Role)
            .collect())
    }

    /// One role by name.
    #[graphql(guard = "Authenticated")]
    async fn role(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        name: String,
    ) -> Result<Option<Role>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        Ok(Some(Role(roles::get(state, &admin, &name).await?)))
    }
}

#[derive(Default)]
pub struct RoleMutation;

#[Object]
impl RoleMutation {
    /// Creates a custom role (`role.manage`; you can only put in it permissions you hold).
    #[graphql(guard = "Authenticated")]
    async fn create_role(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: RoleInputObject,
    ) -> Result<Role> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        Ok(Role(
            roles::create(state, &admin, input.into(), ctx.meta()).await?,
        ))
    }

    /// Updates a custom role.
    #[graphql(guard = "Authenticated")]
    async fn update_role(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        name: String,
        input: UpdateRoleInput,
    ) -> Result<Role> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let patch = RolePatch {
            display_name: maybe(input.display_name),
            description: maybe(input.description),
            permissions: input.permissions,
        };
        Ok(Role(
            roles::update(state, &admin, &name, patch, ctx.meta()).await?,
        ))
    }

    /// Deletes a custom role; holders move to `reassignTo` (required when there are any).
    #[graphql(guard = "Authenticated")]
    async fn delete_role(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        name: String,
        reassign_to: Option<String>,
    ) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        roles::delete(state, &admin, &name, reassign_to.as_deref(), ctx.meta()).await?;
        Ok(true)
    }

    /// Replaces the custom-role catalogue with `input.roles` atomically; with
    /// `dryRun` reports the diff and changes nothing.
    #[graphql(guard = "Authenticated")]
    async fn sync_roles(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: SyncRolesInput,
        dry_run: Option<bool>,
    ) -> Result<RoleSyncResult> {
        let dry_run = dry_run.unwrap_or(false);
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let desired = input.roles.into_iter().map(RoleInput::from).collect();
        let result = roles::sync(
            state,
            &admin,
            desired,
            input.reassign_to,
            dry_run,
            ctx.meta(),
        )
        .await?;
        Ok(result.into())
    }
}
