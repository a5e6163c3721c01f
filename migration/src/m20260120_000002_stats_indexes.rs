//! Indexes behind the `stats` query: audit entries counted per app, action and day
//! (an index range scan per action, however long the log), webhook deliveries per
//! app and time, and an app's live sessions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_app_action_created")
                    .table(AuditLog::Table)
                    .col(AuditLog::AppId)
                    .col(AuditLog::Action)
                    .col(AuditLog::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_app_created")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::AppId)
                    .col(WebhookDeliveries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_app_expires")
                    .table(Sessions::Table)
                    .col(Sessions::AppId)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (
                "idx_audit_log_app_action_created",
                AuditLog::Table.into_iden(),
            ),
            (
                "idx_webhook_deliveries_app_created",
                WebhookDeliveries::Table.into_iden(),
            ),
            ("idx_sessions_app_expires", Sessions::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    AppId,
    Action,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    AppId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    AppId,
    ExpiresAt,
}
