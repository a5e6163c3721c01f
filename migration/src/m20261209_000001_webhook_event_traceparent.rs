//! Tracing (docs/src/production.md#tracing): the W3C `traceparent` of the request
//! that caused a webhook event, so that its deliveries continue that trace.
//! Nullable: events written before, or outside a request, have none.

use sea_orm_migration::{prelude::*, schema::string_len_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Traceparent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEvents::Table)
                    .add_column(string_len_null(WebhookEvents::Traceparent, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEvents::Table)
                    .drop_column(WebhookEvents::Traceparent)
                    .to_owned(),
            )
            .await
    }
}
