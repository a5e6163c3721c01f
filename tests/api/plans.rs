//! The plans of the queries that must stay fast at scale (docs/src/benchmarks.md):
//! each reads through an index in the order it answers in, with no full scan of a
//! table and no sort, on SQLite (`EXPLAIN QUERY PLAN`) and on PostgreSQL (`EXPLAIN`
//! with sequential scans priced out, so an empty table shows an index plan when one
//! exists), and some index leads with every column the query filters by. The SQL is
//! what the services issue, values inlined.

use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

use crate::helpers::spawn_app;

const APP: &str = "0193a5f0-0000-7000-8000-000000000001";
const AFTER: &str = "0193a5f0-0000-7000-8000-0000000000ff";
const USER: &str = "0193a5f0-0000-7000-8000-000000000002";
const TENANT: &str = "0193a5f0-0000-7000-8000-000000000003";

/// The hot queries, with `{uuid:…}` and `{time:…}` placeholders for literals, and
/// the columns the index must be searched by.
const QUERIES: &[(&str, &str, &[&str])] = &[
    (
        "users, first page",
        "SELECT * FROM users WHERE app_id = {uuid:APP} ORDER BY id LIMIT 51",
        &["app_id"],
    ),
    (
        "users, a later page",
        "SELECT * FROM users WHERE app_id = {uuid:APP} AND id > {uuid:AFTER} ORDER BY id LIMIT 51",
        &["app_id", "id"],
    ),
    (
        "users by email",
        "SELECT * FROM users WHERE app_id = {uuid:APP} AND email = 'a@example.com'",
        &["app_id", "email"],
    ),
    (
        "users by role, a later page",
        "SELECT * FROM users WHERE app_id = {uuid:APP} AND role = 'support' AND id > {uuid:AFTER} ORDER BY id LIMIT 51",
        &["app_id", "role", "id"],
    ),
    (
        "users by status, a later page",
        "SELECT * FROM users WHERE app_id = {uuid:APP} AND status = 'deactivated' AND id > {uuid:AFTER} ORDER BY id LIMIT 51",
        &["app_id", "status", "id"],
    ),
    (
        "a user's sessions",
        "SELECT * FROM sessions WHERE user_id = {uuid:USER}",
        &["user_id"],
    ),
    (
        "a user's tenants",
        "SELECT * FROM tenant_members WHERE user_id = {uuid:USER}",
        &["user_id"],
    ),
    (
        "a tenant's members",
        "SELECT * FROM tenant_members WHERE tenant_id = {uuid:TENANT}",
        &["tenant_id"],
    ),
    (
        "tenants, a later page",
        "SELECT * FROM tenants WHERE app_id = {uuid:APP} AND id > {uuid:AFTER} ORDER BY id LIMIT 51",
        &["app_id", "id"],
    ),
    (
        "audit log, newest first",
        "SELECT * FROM audit_log WHERE app_id = {uuid:APP} AND id < {uuid:AFTER} ORDER BY id DESC LIMIT 51",
        &["app_id", "id"],
    ),
    (
        "audit log by action",
        "SELECT * FROM audit_log WHERE app_id = {uuid:APP} AND action = 'user.signed_in' AND id < {uuid:AFTER} ORDER BY id DESC LIMIT 51",
        &["app_id", "action", "id"],
    ),
    (
        "audit log by actor",
        "SELECT * FROM audit_log WHERE app_id = {uuid:APP} AND actor_id = 'x' ORDER BY id DESC LIMIT 51",
        &["app_id", "actor_id"],
    ),
    (
        "audit log by target",
        "SELECT * FROM audit_log WHERE app_id = {uuid:APP} AND target_id = 'x' ORDER BY id DESC LIMIT 51",
        &["app_id", "target_id"],
    ),
    (
        "audit log in a time window (an id range)",
        "SELECT * FROM audit_log WHERE app_id = {uuid:APP} AND id >= {uuid:APP} AND id < {uuid:AFTER} ORDER BY id DESC LIMIT 51",
        &["app_id", "id"],
    ),
    (
        "dashboard: sign-ins per day",
        "SELECT created_at FROM audit_log WHERE app_id = {uuid:APP} AND action = 'user.signed_in' AND created_at >= {time:2026-11-01T00:00:00Z} AND created_at < {time:2026-12-01T00:00:00Z}",
        &["app_id", "action", "created_at"],
    ),
    (
        "webhook deliveries due",
        "SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= {time:2026-12-01T00:00:00Z} ORDER BY next_attempt_at LIMIT 16",
        &["status", "next_attempt_at"],
    ),
    (
        "mail due",
        "SELECT * FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= {time:2026-12-01T00:00:00Z} ORDER BY next_attempt_at LIMIT 16",
        &["status", "next_attempt_at"],
    ),
];

fn render(sql: &str, postgres: bool) -> String {
    let mut out = sql.to_owned();
    for (name, value) in [
        ("APP", APP),
        ("AFTER", AFTER),
        ("USER", USER),
        ("TENANT", TENANT),
    ] {
        let literal = if postgres {
            format!("'{value}'::uuid")
        } else {
            format!("'{value}'")
        };
        out = out.replace(&format!("{{uuid:{name}}}"), &literal);
    }
    while let Some(start) = out.find("{time:") {
        let end = start + out[start..].find('}').unwrap();
        let value = &out[start + 6..end];
        let literal = if postgres {
            format!("'{value}'::timestamptz")
        } else {
            format!("'{value}'")
        };
        out.replace_range(start..=end, &literal);
    }
    out
}

/// What is wrong with a plan, if anything: a full scan or a sort.
fn fault(plan: &str, postgres: bool) -> Option<&'static str> {
    if postgres {
        if plan.contains("Seq Scan") {
            return Some("a sequential scan");
        }
        let node = |l: &str| {
            let l = l.trim_start();
            l.strip_prefix("->").unwrap_or(l).trim_start().to_owned()
        };
        if plan
            .lines()
            .any(|l| node(l).starts_with("Sort") || node(l).starts_with("Incremental Sort"))
        {
            return Some("a sort");
        }
    } else {
        if plan
            .lines()
            .any(|l| l.contains("SCAN ") && !l.contains(" INDEX "))
        {
            return Some("a full scan");
        }
        if plan.contains("TEMP B-TREE") {
            return Some("a sort");
        }
    }
    None
}

/// The columns of each index of `table` (primary and unique keys included), in order.
async fn indexes(
    db: &sea_orm::DatabaseConnection,
    postgres: bool,
    table: &str,
) -> Vec<Vec<String>> {
    let sql = if postgres {
        format!(
            "SELECT i.relname AS idx, a.attname::text AS col FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE t.relname = '{table}' AND t.relnamespace = current_schema()::regnamespace \
             ORDER BY i.relname, k.ord"
        )
    } else {
        format!(
            "SELECT il.name AS idx, ii.name AS col FROM pragma_index_list('{table}') il \
             JOIN pragma_index_info(il.name) ii ORDER BY il.name, ii.seqno"
        )
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows {
        let idx: String = row.try_get("", "idx").unwrap();
        let col: String = row.try_get("", "col").unwrap();
        match out.last_mut() {
            Some((name, cols)) if *name == idx => cols.push(col),
            _ => out.push((idx, vec![col])),
        }
    }
    out.into_iter().map(|(_, cols)| cols).collect()
}

#[tokio::test]
async fn hot_queries_read_through_indexes_without_sorting() {
    let app = spawn_app().await;
    let db = &*app.state.db;
    let postgres = !app.state.db.is_sqlite();
    let mut faults = Vec::new();
    for (name, sql, columns) in QUERIES {
        let sql = render(sql, postgres);
        let plan = if postgres {
            let txn = db.begin().await.unwrap();
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            let rows = txn
                .query_all_raw(Statement::from_string(
                    txn.get_database_backend(),
                    format!("EXPLAIN {sql}"),
                ))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
            txn.rollback().await.unwrap();
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let rows = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("EXPLAIN QUERY PLAN {sql}"),
                ))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
            rows.iter()
                .map(|r| r.try_get::<String>("", "detail").unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        };
        if let Some(fault) = fault(&plan, postgres) {
            faults.push(format!("{name}: {fault}\n{sql}\n{plan}"));
        }
        // Which index a planner picks depends on statistics an empty table lacks:
        // what must hold is that one index leads with every column filtered by, so
        // the big table's plan can search by all of them.
        let table = sql
            .split_whitespace()
            .skip_while(|w| *w != "FROM")
            .nth(1)
            .unwrap();
        let indexes = indexes(db, postgres, table).await;
        if !indexes
            .iter()
            .any(|index| index.len() >= columns.len() && index[..columns.len()] == columns[..])
        {
            faults.push(format!(
                "{name}: no index of {table} leads with {columns:?}; it has {indexes:?}"
            ));
        }
    }
    assert!(faults.is_empty(), "\n\n{}", faults.join("\n\n"));
}

#[test]
fn the_plan_check_sees_scans_and_sorts() {
    assert_eq!(fault("SCAN users", false), Some("a full scan"));
    assert_eq!(
        fault(
            "SEARCH users USING INDEX x (app_id=?)\nUSE TEMP B-TREE FOR ORDER BY",
            false
        ),
        Some("a sort")
    );
    assert_eq!(
        fault("SEARCH users USING INDEX x (app_id=? AND id>?)", false),
        None
    );
    assert_eq!(fault("SCAN users USING INDEX x", false), None);
    assert_eq!(
        fault("Seq Scan on users  (cost=1)", true),
        Some("a sequential scan")
    );
    assert_eq!(
        fault(
            "Limit\n  ->  Sort  (cost=1)\n        ->  Index Scan using x on users",
            true
        ),
        Some("a sort")
    );
    assert_eq!(
        fault("Limit\n  ->  Index Scan using x on users", true),
        None
    );
}

/// `heimdall dev seed` leaves the planner's statistics behind: on PostgreSQL a
/// bulk-loaded table without them was planned as if it were small, and the GraphQL
/// users connection's tenant memberships were read by a scan (112 ms) on a seeded
/// database (docs/src/benchmarks.md, at scale).
#[tokio::test]
async fn seeding_gathers_planner_statistics() {
    let app = spawn_app().await;
    heimdall::services::seed::run(
        &app.state,
        &heimdall::services::seed::Amounts {
            apps: 2,
            users: 40,
            tenants: 5,
            audit: 20,
            busy_share: 0.5,
        },
    )
    .await
    .unwrap();
    let db = &*app.state.db;
    let sql = if app.state.db.is_sqlite() {
        "SELECT count(DISTINCT tbl) FROM sqlite_stat1 WHERE tbl IN ('users', 'tenant_members', 'tenants', 'audit_log')"
    } else {
        "SELECT count(DISTINCT tablename) FROM pg_stats WHERE schemaname = current_schema() AND tablename IN ('users', 'tenant_members', 'tenants', 'audit_log')"
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let tables: i64 = row.try_get_by_index(0).unwrap();
    assert_eq!(tables, 4, "tables with planner statistics");
}
