//! `heimdall dev seed`: fills a database with a realistic amount of data (by default
//! 10,000 apps, 1,000,000 users, 100,000 tenants and 5,000,000 audit entries) so that
//! hot queries can be checked at scale (`bench/scale.py`). One app, `busy`, gets a
//! large share of everything; the rest is spread over the other apps.
//!
//! Rows are inserted in batches straight through the entities (the API would
//! spend hours on password hashing and audit entries): every user shares one
//! precomputed password hash. Development and benchmarking only.

use std::time::Instant;

use chrono::{Duration, Utc};
use entity::{audit_entry, tenant, tenant_member, user};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::Principal,
    db,
    error::Result,
    request::RequestMeta,
    services::{apps, guard},
    state::AppState,
};

/// How much to create.
#[derive(Clone, Debug)]
pub struct Amounts {
    pub apps: usize,
    pub users: usize,
    pub tenants: usize,
    pub audit: usize,
    /// The share (0–1) of users, tenants and audit entries that go to `busy`.
    pub busy_share: f64,
}

impl Default for Amounts {
    fn default() -> Self {
        Self {
            apps: 10_000,
            users: 1_000_000,
            tenants: 100_000,
            audit: 5_000_000,
            busy_share: 0.2,
        }
    }
}

/// The password every seeded user has (`bench/scale.py` signs in with it).
pub const PASSWORD: &str = "correct horse battery";

/// Rows per insert statement: under SQLite's limit of bound parameters.
const ROWS: usize = 2_000;

fn progress(what: &str, done: usize, total: usize, started: Instant) {
    if done == total || done.is_multiple_of(100_000) {
        tracing::info!(
            what,
            done,
            total,
            seconds = started.elapsed().as_secs(),
            "seeding"
        );
    }
}

/// Creates the apps (through the app service: system roles, a signing key each),
/// then bulk-inserts users, tenants with members, and audit entries.
pub async fn run(state: &AppState, amounts: &Amounts) -> Result<()> {
    let root = guard::root(&Principal::Root { key_id: None })?;
    let meta = RequestMeta::default();
    let started = Instant::now();
    let mut app_ids = Vec::with_capacity(amounts.apps);
    for i in 0..amounts.apps.max(1) {
        let name = if i == 0 {
            "busy".to_owned()
        } else {
            format!("app-{i:05}")
        };
        let created = apps::create(
            state,
            &root,
            apps::NewApp {
                name,
                display_name: None,
                settings: Some(
                    json!({"signing_alg": "EdDSA"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
            },
            &meta,
        )
        .await?;
        app_ids.push(created.id);
        progress("apps", i + 1, amounts.apps, started);
    }
    let hash = state.passwords.hash(PASSWORD).await?;
    // Index 0 is `busy`; `pick(n)` spreads n items as the busy share says.
    let pick = |n: usize, total: usize| -> Uuid {
        let busy = (total as f64 * amounts.busy_share) as usize;
        if n < busy || app_ids.len() == 1 {
            app_ids[0]
        } else {
            app_ids[1 + (n - busy) % (app_ids.len() - 1)]
        }
    };
    let now = Utc::now();
    let roles = ["member", "member", "member", "admin", "developer"];

    let started = Instant::now();
    let mut user_ids: Vec<(Uuid, Uuid)> = Vec::with_capacity(amounts.users);
    let mut batch = Vec::with_capacity(ROWS);
    for n in 0..amounts.users {
        let app_id = pick(n, amounts.users);
        let id = db::new_id();
        user_ids.push((app_id, id));
        batch.push(user::ActiveModel {
            id: Set(id),
            app_id: Set(app_id),
            email: Set(format!("user{n}@seed.example")),
            email_verified: Set(n % 3 != 0),
            display_name: Set(Some(format!("User {n}"))),
            password_hash: Set(Some(hash.clone())),
            role: Set(roles[n % roles.len()].to_owned()),
            status: Set(if n % 50 == 0 { "deactivated" } else { "active" }.to_owned()),
            created_at: Set(now - Duration::seconds((amounts.users - n) as i64)),
            updated_at: Set(now),
            last_sign_in_at: Set(None),
            ..Default::default()
        });
        if batch.len() == ROWS || n + 1 == amounts.users {
            let txn = state.db.begin_write().await?;
            user::Entity::insert_many(std::mem::take(&mut batch))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            progress("users", n + 1, amounts.users, started);
        }
    }

    let started = Instant::now();
    let mut tenants = Vec::with_capacity(ROWS);
    let mut members = Vec::with_capacity(ROWS);
    // Members: users of the tenant's app, walked in order.
    let mut by_app: std::collections::HashMap<Uuid, Vec<Uuid>> = std::collections::HashMap::new();
    for (app_id, id) in &user_ids {
        by_app.entry(*app_id).or_default().push(*id);
    }
    let mut cursor: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for n in 0..amounts.tenants {
        let app_id = pick(n, amounts.tenants);
        let id = db::new_id();
        tenants.push(tenant::ActiveModel {
            id: Set(id),
            app_id: Set(app_id),
            slug: Set(format!("tenant-{n}")),
            name: Set(format!("Tenant {n}")),
            require_mfa: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        if let Some(users) = by_app.get(&app_id).filter(|u| !u.is_empty()) {
            let at = cursor.entry(app_id).or_insert(0);
            for k in 0..3.min(users.len()) {
                let user_id = users[(*at + k) % users.len()];
                members.push(tenant_member::ActiveModel {
                    tenant_id: Set(id),
                    user_id: Set(user_id),
                    app_id: Set(app_id),
                    role: Set(if k == 0 { "admin" } else { "member" }.to_owned()),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
            }
            *at += 3;
        }
        if tenants.len() == ROWS || n + 1 == amounts.tenants {
            let txn = state.db.begin_write().await?;
            tenant::Entity::insert_many(std::mem::take(&mut tenants))
                .exec(&txn)
                .await?;
            for chunk in std::mem::take(&mut members).chunks(ROWS) {
                tenant_member::Entity::insert_many(chunk.to_vec())
                    .exec(&txn)
                    .await?;
            }
            txn.commit().await?;
            progress("tenants", n + 1, amounts.tenants, started);
        }
    }

    let started = Instant::now();
    let actions = [
        "user.signed_in",
        "user.signed_in",
        "user.signed_in",
        "m2m.token_issued",
        "user.signin_failed",
        "user.updated",
        "role.assigned",
        "session.revoked",
    ];
    let mut entries = Vec::with_capacity(ROWS);
    for n in 0..amounts.audit {
        let app_id = pick(n, amounts.audit);
        let user_id = user_ids
            .get(n % user_ids.len().max(1))
            .map(|(_, id)| *id)
            .unwrap_or_default();
        let at = now - Duration::seconds((amounts.audit - n) as i64 / 10);
        entries.push(audit_entry::ActiveModel {
            id: Set(db::new_id_at(at)),
            app_id: Set(app_id),
            action: Set(actions[n % actions.len()].to_owned()),
            actor_type: Set("end_user".to_owned()),
            actor_id: Set(Some(user_id.to_string())),
            target_type: Set(Some("user".to_owned())),
            target_id: Set(Some(user_id.to_string())),
            ip: Set(Some(format!("10.0.{}.{}", n % 250, n % 200))),
            user_agent: Set(Some("seed".to_owned())),
            metadata: Set(json!({ "n": n })),
            created_at: Set(at),
        });
        if entries.len() == ROWS || n + 1 == amounts.audit {
            let txn = state.db.begin_write().await?;
            audit_entry::Entity::insert_many(std::mem::take(&mut entries))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            progress("audit entries", n + 1, amounts.audit, started);
        }
    }
    analyze(state).await
}

/// Gathers the query planner's statistics for what was just bulk-loaded. Until
/// autovacuum gets to it, PostgreSQL plans a fresh table as if it were small: on a
/// seeded database without statistics the GraphQL `users` connection's tenant
/// memberships (`tenant_members` joined to `tenants`) were read by a scan: 112 ms a
/// request in `bench/scale.py`, where the same query with statistics reads the indexes.
pub async fn analyze(state: &AppState) -> Result<()> {
    use sea_orm::ConnectionTrait;
    let txn = state.db.begin_write().await?;
    txn.execute_unprepared("ANALYZE").await?;
    txn.commit().await?;
    Ok(())
}
