//! Database migrations, applied on start and by `heimdall migrate`. They are written
//! once for both SQLite and PostgreSQL: the same tables, constraints and indexes.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_foundation;
mod m20260102_000001_users_sessions;
mod m20260103_000001_roles_tenants;
mod m20260105_000001_m2m;
mod m20260107_000001_lifecycle;
mod m20260109_000001_federation;
mod m20260110_000001_oauth;
mod m20260111_000001_webhooks;
mod m20260112_000001_audit_log;
mod m20260113_000001_mfa;
mod m20260120_000001_console_sessions;
mod m20260120_000002_stats_indexes;
mod m20261201_000001_scale_indexes;
mod m20261201_000002_user_filter_indexes;
mod m20261202_000001_rp_logout;
mod m20261203_000001_oauth_extensions;
mod m20261203_000002_api_resources;
mod m20261203_000003_device_codes;
mod m20261204_000001_retained_hash_keys;
mod m20261205_000001_user_attributes_scim;
mod m20261206_000001_user_locale;
mod m20261207_000001_backchannel_logout;
mod m20261208_000001_dpop_resource_exchange;
mod m20261209_000001_webhook_event_traceparent;
mod m20261210_000001_pairwise_subjects;
mod m20261210_000002_webhook_event_tracestate;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_foundation::Migration),
            Box::new(m20260102_000001_users_sessions::Migration),
            Box::new(m20260103_000001_roles_tenants::Migration),
            Box::new(m20260105_000001_m2m::Migration),
            Box::new(m20260107_000001_lifecycle::Migration),
            Box::new(m20260109_000001_federation::Migration),
            Box::new(m20260110_000001_oauth::Migration),
            Box::new(m20260111_000001_webhooks::Migration),
            Box::new(m20260112_000001_audit_log::Migration),
            Box::new(m20260113_000001_mfa::Migration),
            Box::new(m20260120_000001_console_sessions::Migration),
            Box::new(m20260120_000002_stats_indexes::Migration),
            Box::new(m20261201_000001_scale_indexes::Migration),
            Box::new(m20261201_000002_user_filter_indexes::Migration),
            Box::new(m20261203_000001_oauth_extensions::Migration),
            Box::new(m20261203_000002_api_resources::Migration),
            Box::new(m20261203_000003_device_codes::Migration),
            Box::new(m20261204_000001_retained_hash_keys::Migration),
            Box::new(m20261202_000001_rp_logout::Migration),
            Box::new(m20261205_000001_user_attributes_scim::Migration),
            Box::new(m20261206_000001_user_locale::Migration),
            Box::new(m20261207_000001_backchannel_logout::Migration),
            Box::new(m20261208_000001_dpop_resource_exchange::Migration),
            Box::new(m20261209_000001_webhook_event_traceparent::Migration),
            Box::new(m20261210_000001_pairwise_subjects::Migration),
            Box::new(m20261210_000002_webhook_event_tracestate::Migration),
        ]
    }
}
