//! Tracing (docs/src/production.md#tracing): the W3C `tracestate` that came with the
//! `traceparent` of the request that caused a webhook event, passed on to its
//! deliveries. Nullable: most requests carry none.

use sea_orm_migration::{prelude::*, schema::string_len_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    Tracestate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEvents::Table)
                    .add_column(string_len_null(WebhookEvents::Tracestate, 512))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEvents::Table)
                    .drop_column(WebhookEvents::Tracestate)
                    .to_owned(),
            )
            .await
    }
}
