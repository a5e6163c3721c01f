//! DataLoaders: nested lists are fetched once per request level, not once per
//! parent, so a page of N users costs a constant number of statements.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use entity::{role, tenant, tenant_member, user};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, Statement, Value};
use uuid::Uuid;

use crate::{error::Error, state::AppState};

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

fn db_err(e: sea_orm::DbErr) -> LoadError {
    Arc::new(Error::from(e))
}

/// A role by (app, name).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleKey(pub Uuid, pub String);

impl Loader<RoleKey> for Loaders {
    type Value = role::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[RoleKey]) -> Result<HashMap<RoleKey, role::Model>, LoadError> {
        let apps: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let names: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
        let rows = role::Entity::find()
            .filter(role::Column::AppId.is_in(apps))
            .filter(role::Column::Name.is_in(names))
            .all(&*self.state.db)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| (RoleKey(r.app_id, r.name.clone()), r))
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
        let rows = tenant_member::Entity::find()
            .filter(tenant_member::Column::UserId.is_in(users))
            .find_also_related(tenant::Entity)
            .all(&*self.state.db)
            .await
            .map_err(db_err)?;
        let mut out: HashMap<MembershipsOf, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (member, tenant) in rows {
            if let Some(tenant) = tenant {
                out.entry(MembershipsOf(member.user_id))
                    .or_default()
                    .push((tenant, member));
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|(t, _)| t.id);
        }
        Ok(out)
    }
}

/// The first `limit` ids (by id) of each group of rows, where the groups are the
/// combinations of the filter columns' values: one statement for any number of
/// groups. Table and column names are fixed identifiers from this module.
async fn top_ids_per_group(
    state: &AppState,
    table: &str,
    id: &str,
    filters: Vec<(&str, Vec<Value>)>,
    limit: usize,
) -> Result<Vec<Uuid>, LoadError> {
    #[derive(FromQueryResult)]
    struct Row {
        id: Uuid,
    }
    let backend = state.db.backend();
    let mut values = Vec::new();
    let mut conditions = Vec::new();
    for (column, column_values) in &filters {
        let placeholders: Vec<String> = column_values
            .iter()
            .map(|v| {
                values.push(v.clone());
                match backend {
                    sea_orm::DatabaseBackend::Postgres => format!("${}", values.len()),
                    _ => "?".to_owned(),
                }
            })
            .collect();
        conditions.push(format!("{column} IN ({})", placeholders.join(", ")));
    }
    let partition: Vec<&str> = filters.iter().map(|(column, _)| *column).collect();
    let sql = format!(
        "SELECT {id} AS id FROM (SELECT {id}, ROW_NUMBER() OVER (PARTITION BY {} ORDER BY {id}) AS rn \
         FROM {table} WHERE {}) ranked WHERE rn <= {limit}",
        partition.join(", "),
        conditions.join(" AND "),
    );
    let rows = Row::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .all(&*state.db)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
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
        let tenants: Vec<Value> = keys.iter().map(|k| Value::from(k.0)).collect();
        // Members have a composite key; rank by user id within each tenant.
        let user_ids = top_ids_per_group(
            &self.state,
            "tenant_members",
            "user_id",
            vec![("tenant_id", tenants)],
            MEMBERS_PER_TENANT,
        )
        .await?;
        let tenant_ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = tenant_member::Entity::find()
            .filter(tenant_member::Column::TenantId.is_in(tenant_ids))
            .filter(tenant_member::Column::UserId.is_in(user_ids))
            .find_also_related(user::Entity)
            .all(&*self.state.db)
            .await
            .map_err(db_err)?;
        let mut out: HashMap<MembersOf, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (member, user) in rows {
            if let Some(user) = user {
                out.entry(MembersOf(member.tenant_id))
                    .or_default()
                    .push((member, user));
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|(m, _)| m.user_id);
            list.truncate(MEMBERS_PER_TENANT);
        }
        Ok(out)
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
        let apps: Vec<Value> = keys.iter().map(|k| Value::from(k.0)).collect();
        let roles: Vec<Value> = keys.iter().map(|k| Value::from(k.1.clone())).collect();
        let ids = top_ids_per_group(
            &self.state,
            "users",
            "id",
            vec![("app_id", apps), ("role", roles)],
            USERS_PER_ROLE,
        )
        .await?;
        let users = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&*self.state.db)
            .await
            .map_err(db_err)?;
        let mut out: HashMap<UsersWithRole, Self::Value> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for user in users {
            if let Some(list) = out.get_mut(&UsersWithRole(user.app_id, user.role.clone())) {
                list.push(user);
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|u| u.id);
        }
        Ok(out)
    }
}
