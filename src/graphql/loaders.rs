//! DataLoaders: nested lists are fetched once per request level, not once per
//! parent, so a page of N users costs a constant number of statements. The reads
//! are `services::batch`'s.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use entity::{role, tenant, tenant_member, user};
use uuid::Uuid;

use crate::{error::Error, services::batch, state::AppState};

/// Loader errors must be `Clone`.
pub type LoadError = Arc<Error>;

pub struct Loaders {
    state: AppState,
}

impl Loaders {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// A role by (app, name).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleKey(pub Uuid, pub String);

impl Loader<RoleKey> for Loaders {
    type Value = role::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RoleKey]) -> Result<HashMap<RoleKey, role::Model>, LoadError> {
        let keys: Vec<(Uuid, String)> = keys.iter().map(|k| (k.0, k.1.clone())).collect();
        let found = batch::roles(&self.state, &keys).await.map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|((app, name), role)| (RoleKey(app, name), role))
            .collect())
    }
}

/// The tenants a user belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MembershipsOf(pub Uuid);

impl Loader<MembershipsOf> for Loaders {
    type Value = Vec<(tenant::Model, tenant_member::Model)>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembershipsOf],
    ) -> Result<HashMap<MembershipsOf, Self::Value>, LoadError> {
        let users: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = batch::memberships(&self.state, &users)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(user, list)| (MembershipsOf(user), list))
            .collect())
    }
}

/// Up to [`MEMBERS_PER_TENANT`] members of a tenant, with their users.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MembersOf(pub Uuid);

pub const MEMBERS_PER_TENANT: usize = 100;
pub const USERS_PER_ROLE: usize = 100;

impl Loader<MembersOf> for Loaders {
    type Value = Vec<(tenant_member::Model, user::Model)>;
    type Error = LoadError;

    async fn load(&self, keys: &[MembersOf]) -> Result<HashMap<MembersOf, Self::Value>, LoadError> {
        let tenants: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = batch::members(&self.state, &tenants, MEMBERS_PER_TENANT)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|(tenant, list)| (MembersOf(tenant), list))
            .collect())
    }
}

/// Up to [`USERS_PER_ROLE`] users holding a role (app role), by (app, role).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UsersWithRole(pub Uuid, pub String);

impl Loader<UsersWithRole> for Loaders {
    type Value = Vec<user::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[UsersWithRole],
    ) -> Result<HashMap<UsersWithRole, Self::Value>, LoadError> {
        let keys: Vec<(Uuid, String)> = keys.iter().map(|k| (k.0, k.1.clone())).collect();
        let found = batch::users_with_role(&self.state, &keys, USERS_PER_ROLE)
            .await
            .map_err(Arc::new)?;
        Ok(found
            .into_iter()
            .map(|((app, role), users)| (UsersWithRole(app, role), users))
            .collect())
    }
}
