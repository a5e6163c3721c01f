//! Webhooks: endpoints, the event outbox, deliveries and their attempts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_foundation::Apps;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn cascade<T: IntoIden + Copy + 'static, U: IntoIden + 'static>(
    table: T,
    col: T,
    to: U,
    to_col: U,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(uuid(WebhookEndpoints::Id).primary_key())
                    .col(uuid(WebhookEndpoints::AppId))
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(string_len_null(WebhookEndpoints::Description, 1000))
                    .col(json(WebhookEndpoints::Events))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(text(WebhookEndpoints::SealedSecret))
                    .col(text_null(WebhookEndpoints::PreviousSealedSecret))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::PreviousSecretExpiresAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .foreign_key(&mut cascade(
                        WebhookEndpoints::Table,
                        WebhookEndpoints::AppId,
                        Apps::Table,
                        Apps::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_endpoints_app")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::AppId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .col(uuid(WebhookEvents::Id).primary_key())
                    .col(uuid(WebhookEvents::AppId))
                    .col(string_len(WebhookEvents::EventType, 64))
                    .col(text(WebhookEvents::Body))
                    .col(timestamp_with_time_zone(WebhookEvents::CreatedAt))
                    .foreign_key(&mut cascade(
                        WebhookEvents::Table,
                        WebhookEvents::AppId,
                        Apps::Table,
                        Apps::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_events_app_created")
                    .table(WebhookEvents::Table)
                    .col(WebhookEvents::AppId)
                    .col(WebhookEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(uuid(WebhookDeliveries::AppId))
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(uuid(WebhookDeliveries::EventId))
                    .col(string_len(WebhookDeliveries::EventType, 64))
                    .col(integer(WebhookDeliveries::Attempt))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer_null(WebhookDeliveries::ResponseStatus))
                    .col(integer_null(WebhookDeliveries::LatencyMs))
                    .col(string_len_null(WebhookDeliveries::LastError, 500))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::NextAttemptAt,
                    ))
                    .foreign_key(&mut cascade(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::EndpointId,
                        WebhookEndpoints::Table,
                        WebhookEndpoints::Id,
                    ))
                    .foreign_key(&mut cascade(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::EventId,
                        WebhookEvents::Table,
                        WebhookEvents::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // The worker's claim: pending deliveries by due time.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // An endpoint's delivery log, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_event")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EventId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(uuid(WebhookAttempts::Id).primary_key())
                    .col(uuid(WebhookAttempts::DeliveryId))
                    .col(integer(WebhookAttempts::Attempt))
                    .col(integer_null(WebhookAttempts::ResponseStatus))
                    .col(integer(WebhookAttempts::LatencyMs))
                    .col(text_null(WebhookAttempts::ResponseExcerpt))
                    .col(string_len_null(WebhookAttempts::Error, 500))
                    .col(timestamp_with_time_zone(WebhookAttempts::CreatedAt))
                    .foreign_key(&mut cascade(
                        WebhookAttempts::Table,
                        WebhookAttempts::DeliveryId,
                        WebhookDeliveries::Table,
                        WebhookDeliveries::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEvents::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEndpoints {
    Table,
    Id,
    AppId,
    Url,
    Description,
    Events,
    Enabled,
    SealedSecret,
    PreviousSealedSecret,
    PreviousSecretExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookEvents {
    Table,
    Id,
    AppId,
    EventType,
    Body,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookDeliveries {
    Table,
    Id,
    AppId,
    EndpointId,
    EventId,
    EventType,
    Attempt,
    Status,
    ResponseStatus,
    LatencyMs,
    LastError,
    CreatedAt,
    UpdatedAt,
    NextAttemptAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    Attempt,
    ResponseStatus,
    LatencyMs,
    ResponseExcerpt,
    Error,
    CreatedAt,
}
