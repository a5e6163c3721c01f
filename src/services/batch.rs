//! Batched reads for GraphQL's DataLoaders: nested lists (a page of users' roles,
//! tenants' members) are fetched once per request level, not once per parent.
//! No permission checks here: the resolvers that use them have checked, with the
//! parent object's capability, that the caller may see the field.

use std::collections::HashMap;

use entity::{role, tenant, tenant_member, user};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, Statement, Value};
use uuid::Uuid;

use crate::{error::Result, state::AppState};

/// Roles by (app, name).
pub async fn roles(
    state: &AppState,
    keys: &[(Uuid, String)],
) -> Result<HashMap<(Uuid, String), role::Model>> {
    let apps: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let names: Vec<String> = keys.iter().map(|k| k.1.clone()).collect();
    let rows = role::Entity::find()
        .filter(role::Column::AppId.is_in(apps))
        .filter(role::Column::Name.is_in(names))
        .all(&*state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.app_id, r.name.clone()), r))
        .collect())
}

/// Each user's tenants with the tenant role, by tenant id.
pub async fn memberships(
    state: &AppState,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Vec<(tenant::Model, tenant_member::Model)>>> {
    let rows = tenant_member::Entity::find()
        .filter(tenant_member::Column::UserId.is_in(users.to_vec()))
        .find_also_related(tenant::Entity)
        .all(&*state.db)
        .await?;
    let mut out: HashMap<Uuid, Vec<(tenant::Model, tenant_member::Model)>> =
        users.iter().map(|u| (*u, Vec::new())).collect();
    for (member, tenant) in rows {
        if let Some(tenant) = tenant {
            out.entry(member.user_id)
                .or_default()
                .push((tenant, member));
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|(t, _)| t.id);
    }
    Ok(out)
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
) -> Result<Vec<Uuid>> {
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
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Up to `limit` members of each tenant (by user id), with their users.
pub async fn members(
    state: &AppState,
    tenants: &[Uuid],
    limit: usize,
) -> Result<HashMap<Uuid, Vec<(tenant_member::Model, user::Model)>>> {
    let values: Vec<Value> = tenants.iter().map(|t| Value::from(*t)).collect();
    // Members have a composite key; rank by user id within each tenant.
    let user_ids = top_ids_per_group(
        state,
        "tenant_members",
        "user_id",
        vec![("tenant_id", values)],
        limit,
    )
    .await?;
    let rows = tenant_member::Entity::find()
        .filter(tenant_member::Column::TenantId.is_in(tenants.to_vec()))
        .filter(tenant_member::Column::UserId.is_in(user_ids))
        .find_also_related(user::Entity)
        .all(&*state.db)
        .await?;
    let mut out: HashMap<Uuid, Vec<(tenant_member::Model, user::Model)>> =
        tenants.iter().map(|t| (*t, Vec::new())).collect();
    for (member, user) in rows {
        if let Some(user) = user {
            out.entry(member.tenant_id)
                .or_default()
                .push((member, user));
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|(m, _)| m.user_id);
        list.truncate(limit);
    }
    Ok(out)
}

/// Up to `limit` users holding each (app, role) as their app role, by id.
pub async fn users_with_role(
    state: &AppState,
    keys: &[(Uuid, String)],
    limit: usize,
) -> Result<HashMap<(Uuid, String), Vec<user::Model>>> {
    let apps: Vec<Value> = keys.iter().map(|k| Value::from(k.0)).collect();
    let roles: Vec<Value> = keys.iter().map(|k| Value::from(k.1.clone())).collect();
    let ids = top_ids_per_group(
        state,
        "users",
        "id",
        vec![("app_id", apps), ("role", roles)],
        limit,
    )
    .await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(&*state.db)
        .await?;
    let mut out: HashMap<(Uuid, String), Vec<user::Model>> =
        keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for user in users {
        if let Some(list) = out.get_mut(&(user.app_id, user.role.clone())) {
            list.push(user);
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|u| u.id);
    }
    Ok(out)
}
