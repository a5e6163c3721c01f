//! End users: the admin family (`users`, `createUser`, …) and the caller's own
//! (`me`, `mySessions`, `updateMe`, `changePassword`, `revokeSession`).

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, Result, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{session, user};
use uuid::Uuid;

use super::{
    ContextExt,
    guards::Authenticated,
    loaders::{MembershipsOf, RoleKey},
    relay,
    roles::Role,
    tenants::TenantMembership,
};
use crate::{
    access::Principal,
    db::PageRequest,
    error::Error,
    services::{
        metadata, permissions, sessions,
        users::{self, NewUser, UserExtras, UserFilter, UserPatch},
    },
};

/// A placeholder for a role that no longer exists (deletion reassigns holders, so
/// this only shows in a race).
fn missing_role(user: &user::Model) -> entity::role::Model {
    entity::role::Model {
        id: Uuid::nil(),
        app_id: user.app_id,
        name: user.role.clone(),
        display_name: None,
        description: None,
        permissions: serde_json::json!([]),
        is_system: false,
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

fn parse_id(id: &ID, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::not_found(format!("{what} not found")))
}

/// An end user of an app.
pub struct User(pub user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Trimmed and lowercased; unique within the app.
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn email_verified(&self) -> bool {
        self.0.email_verified
    }
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }
    /// The app-level role.
    async fn role(&self, ctx: &Context<'_>) -> Result<Role> {
        let loaded = ctx
            .loader()
            .load_one(RoleKey(self.0.app_id, self.0.role.clone()))
            .await?;
        Ok(Role(loaded.unwrap_or_else(|| missing_role(&self.0))))
    }
    /// The permissions of the app-level role (tenant roles add theirs within a tenant).
    async fn permissions(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let loaded = ctx
            .loader()
            .load_one(RoleKey(self.0.app_id, self.0.role.clone()))
            .await?;
        Ok(loaded
            .map(|r| permissions::of_json(&r.permissions))
            .unwrap_or_default())
    }
    /// The tenants the user belongs to, with the tenant role in each.
    async fn tenants(&self, ctx: &Context<'_>) -> Result<Vec<TenantMembership>> {
        let loaded = ctx
            .loader()
            .load_one(MembershipsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(loaded
            .into_iter()
            .map(|(t, m)| TenantMembership(t, m))
            .collect())
    }
    /// `active` or `deactivated`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn last_sign_in_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sign_in_at
    }
    /// Custom attributes the user may edit (`updateMe`); a JSON object.
    async fn user_metadata(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(metadata::object_of(&self.0.user_metadata))
    }
    /// Custom attributes only administrators write; a JSON object.
    async fn app_metadata(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(metadata::object_of(&self.0.app_metadata))
    }
    /// Sessions that can still be used (admins and the user themselves).
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let app = self.0.app_id.to_string();
        let access = super::app_access(ctx, Some(&app)).await?;
        let current = match ctx.principal()? {
            Principal::EndUser(u) if u.user_id == self.0.id => Some(u.session_id),
            _ => None,
        };
        Ok(sessions::of_user(ctx.state(), &access, self.0.id)
            .await?
            .into_iter()
            .map(|s| Session(s, current))
            .collect())
    }
}

/// A signed-in session.
pub struct Session(pub session::Model, Option<Uuid>);

#[Object]
impl Session {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The active tenant of the session, if any.
    async fn tenant_id(&self) -> Option<ID> {
        self.0.tenant_id.map(|t| ID(t.to_string()))
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.0.last_used_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// Whether this is the session of the caller's token.
    async fn current(&self) -> bool {
        self.1 == Some(self.0.id)
    }
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    /// Optional: a user without a password signs in through a provider or sets one
    /// by password reset.
    pub password: Option<String>,
    pub display_name: Option<String>,
    /// Defaults to the app's `defaultRole`.
    pub role: Option<String>,
    #[graphql(default)]
    pub email_verified: bool,
    /// A password hash exported by another system, instead of `password`
    /// (argon2, bcrypt, scrypt or PBKDF2; replaced by argon2id at the first sign-in).
    pub password_hash: Option<String>,
    /// A JSON object of at most 16 KiB.
    pub user_metadata: Option<async_graphql::Json<serde_json::Value>>,
    /// A JSON object of at most 16 KiB.
    pub app_metadata: Option<async_graphql::Json<serde_json::Value>>,
}

#[derive(InputObject, Default)]
pub struct UpdateUserInput {
    /// Changing the email resets `emailVerified` unless it is set in the same update.
    pub email: Option<String>,
    pub display_name: MaybeUndefined<String>,
    pub role: Option<String>,
    pub email_verified: Option<bool>,
    /// Setting a password revokes every session of the user.
    pub password: Option<String>,
    /// A password hash exported by another system, instead of `password`.
    pub password_hash: Option<String>,
    /// Merged into the stored object (a JSON merge patch: `null` removes a key).
    pub user_metadata: Option<async_graphql::Json<serde_json::Value>>,
    /// Merged into the stored object (a JSON merge patch: `null` removes a key).
    pub app_metadata: Option<async_graphql::Json<serde_json::Value>>,
}

/// Users whose metadata object has `key` at its top level equal to `value`.
#[derive(InputObject)]
pub struct MetadataFilterInput {
    /// `user_metadata` or `app_metadata`.
    pub object: String,
    pub key: String,
    /// JSON when it parses as a JSON scalar (`5`, `true`, `"007"`), else the string.
    pub value: String,
}

#[derive(InputObject, Default)]
pub struct UserFilterInput {
    pub email: Option<String>,
    pub role: Option<String>,
    /// `active` or `deactivated`.
    pub status: Option<String>,
    /// Members of this tenant.
    pub tenant_id: Option<ID>,
    /// Top-level key equality on `userMetadata` / `appMetadata` (all must hold).
    #[graphql(default)]
    pub metadata: Vec<MetadataFilterInput>,
}

#[derive(InputObject, Default)]
pub struct UpdateMeInput {
    pub display_name: MaybeUndefined<String>,
    /// Merged into the stored object (a JSON merge patch: `null` removes a key).
    pub user_metadata: Option<async_graphql::Json<serde_json::Value>>,
}

fn maybe(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Users of an app, filtered, in creation order.
    #[graphql(guard = "Authenticated")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        filter: Option<UserFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, User>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let filter = filter.unwrap_or_default();
        let tenant_id = filter
            .tenant_id
            .as_ref()
            .map(|t| {
                Uuid::parse_str(t)
                    .map_err(|_| Error::invalid_field("tenantId", "must be a tenant id"))
            })
            .transpose()?;
        let mut conditions = Vec::new();
        for m in &filter.metadata {
            let which = metadata::Which::parse(&m.object).ok_or_else(|| {
                Error::invalid_field(
                    "filter.metadata.object",
                    "must be user_metadata or app_metadata",
                )
            })?;
            conditions.push(metadata::Filter::new(which, &m.key, &m.value)?);
        }
        let filter = UserFilter {
            email: filter.email,
            role: filter.role,
            status: filter.status,
            tenant_id,
            metadata: conditions,
        };
        let had_cursor = after.is_some();
        let page = users::list(
            state,
            &admin,
            &filter,
            PageRequest::from_graphql(first, after)?,
        )
        .await?;
        Ok(relay::connection(page, had_cursor, |u| u.id, User))
    }

    /// One user of an app.
    #[graphql(guard = "Authenticated")]
    async fn user(&self, ctx: &Context<'_>, app: Option<String>, id: ID) -> Result<Option<User>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        Ok(Some(User(
            users::get(state, &admin, parse_id(&id, "user")?).await?,
        )))
    }

    /// The signed-in end user.
    #[graphql(guard = "Authenticated")]
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let me = super::me(ctx).await?;
        Ok(User(users::me(ctx.state(), &me).await?))
    }

    /// The signed-in end user's sessions.
    #[graphql(guard = "Authenticated")]
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let me = super::me(ctx).await?;
        Ok(sessions::mine(ctx.state(), &me)
            .await?
            .into_iter()
            .map(|s| Session(s, Some(me.session_id())))
            .collect())
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates a user (admin).
    #[graphql(guard = "Authenticated")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: CreateUserInput,
    ) -> Result<User> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let (user, _warnings) = users::create_with(
            state,
            &admin,
            NewUser {
                email: input.email,
                password: input.password,
                display_name: input.display_name,
                role: input.role,
                email_verified: input.email_verified,
            },
            UserExtras {
                password_hash: input.password_hash,
                user_metadata: input.user_metadata.map(|j| j.0),
                app_metadata: input.app_metadata.map(|j| j.0),
                ..UserExtras::default()
            },
            None,
            ctx.meta(),
        )
        .await?;
        Ok(User(user))
    }

    /// Updates a user (admin).
    #[graphql(guard = "Authenticated")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
        input: UpdateUserInput,
    ) -> Result<User> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let patch = UserPatch {
            email: input.email,
            display_name: maybe(input.display_name),
            role: input.role,
            email_verified: input.email_verified,
            password: input.password,
            password_hash: input.password_hash,
            user_metadata: input.user_metadata.map(|j| j.0),
            app_metadata: input.app_metadata.map(|j| j.0),
            source: None,
        };
        let user = users::update(state, &admin, parse_id(&id, "user")?, patch, ctx.meta()).await?;
        Ok(User(user))
    }

    /// Deactivates a user and revokes every session.
    #[graphql(guard = "Authenticated")]
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<User> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let user =
            users::set_active(state, &admin, parse_id(&id, "user")?, false, ctx.meta()).await?;
        Ok(User(user))
    }

    /// Reactivates a user.
    #[graphql(guard = "Authenticated")]
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<User> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let user =
            users::set_active(state, &admin, parse_id(&id, "user")?, true, ctx.meta()).await?;
        Ok(User(user))
    }

    /// Deletes a user and their sessions.
    #[graphql(guard = "Authenticated")]
    async fn delete_user(&self, ctx: &Context<'_>, app: Option<String>, id: ID) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        users::delete(state, &admin, parse_id(&id, "user")?, ctx.meta()).await?;
        Ok(true)
    }

    /// Revokes every session of a user (admin); returns how many were revoked.
    #[graphql(guard = "Authenticated")]
    async fn revoke_user_sessions(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<i32> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let count =
            sessions::revoke_user_sessions(state, &admin, parse_id(&id, "user")?, ctx.meta())
                .await?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// Revokes one session of a user (admin, `user.update`).
    #[graphql(guard = "Authenticated")]
    async fn revoke_user_session(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        user_id: ID,
        id: ID,
    ) -> Result<bool> {
        let admin = super::app_access(ctx, app.as_deref()).await?;
        sessions::revoke_user_session(
            ctx.state(),
            &admin,
            parse_id(&user_id, "user")?,
            parse_id(&id, "session")?,
            ctx.meta(),
        )
        .await?;
        Ok(true)
    }

    /// Revokes one of the caller's own sessions.
    #[graphql(guard = "Authenticated")]
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let me = super::me(ctx).await?;
        sessions::revoke_mine(ctx.state(), &me, parse_id(&id, "session")?, ctx.meta()).await?;
        Ok(true)
    }

    /// Updates the caller's own profile.
    #[graphql(guard = "Authenticated")]
    async fn update_me(&self, ctx: &Context<'_>, input: UpdateMeInput) -> Result<User> {
        let state = ctx.state();
        let me = super::me(ctx).await?;
        let user = users::update_me(
            state,
            &me,
            maybe(input.display_name),
            input.user_metadata.map(|j| j.0),
            ctx.meta(),
        )
        .await?;
        Ok(User(user))
    }

    /// Changes the caller's password; every other session is revoked.
    #[graphql(guard = "Authenticated")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<bool> {
        let state = ctx.state();
        let me = super::me(ctx).await?;
        sessions::change_password(state, &me, &current_password, &new_password, ctx.meta()).await?;
        Ok(true)
    }
}
