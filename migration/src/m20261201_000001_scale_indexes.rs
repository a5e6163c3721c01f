//! Indexes for apps with hundreds of thousands of users and millions of audit
//! entries (checked with `EXPLAIN` on a database filled by `heimdall dev seed`):
//! - users and tenants are listed per app in id order: `(app_id, id)`, instead of
//!   reading every row of the app and sorting;
//! - the audit log is read per app newest first, optionally for one action, actor
//!   or target: `(app_id, column, id)` serves each filter in id order. Time windows
//!   are id ranges (entry ids are v7 ids of their time) on `(app_id, id)`, so the
//!   `(app_id, created_at)` index and the per-column indexes without the id go.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    AppId,
    Id,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    AppId,
    Id,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    AppId,
    Id,
    Action,
    ActorId,
    TargetId,
    CreatedAt,
}

fn audit_by(name: &str, column: AuditLog) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(AuditLog::Table)
        .col(AuditLog::AppId)
        .col(column)
        .col(AuditLog::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_users_app_id_id")
                    .table(Users::Table)
                    .col(Users::AppId)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tenants_app_id_id")
                    .table(Tenants::Table)
                    .col(Tenants::AppId)
                    .col(Tenants::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(audit_by("idx_audit_log_app_action_id", AuditLog::Action))
            .await?;
        manager
            .create_index(audit_by("idx_audit_log_app_actor_id", AuditLog::ActorId))
            .await?;
        manager
            .create_index(audit_by("idx_audit_log_app_target_id", AuditLog::TargetId))
            .await?;
        for name in [
            "idx_audit_log_app_action",
            "idx_audit_log_app_actor",
            "idx_audit_log_app_target",
            "idx_audit_log_app_created",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(AuditLog::Table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [
            ("idx_audit_log_app_action", AuditLog::Action),
            ("idx_audit_log_app_actor", AuditLog::ActorId),
            ("idx_audit_log_app_target", AuditLog::TargetId),
            ("idx_audit_log_app_created", AuditLog::CreatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(AuditLog::AppId)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        for (name, table) in [
            ("idx_audit_log_app_action_id", "audit_log"),
            ("idx_audit_log_app_actor_id", "audit_log"),
            ("idx_audit_log_app_target_id", "audit_log"),
            ("idx_tenants_app_id_id", "tenants"),
            ("idx_users_app_id_id", "users"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
