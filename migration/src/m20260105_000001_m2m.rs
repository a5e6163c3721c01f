//! Machine clients.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_foundation::Apps;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(M2mClients::Table)
                    .col(uuid(M2mClients::Id).primary_key())
                    .col(uuid(M2mClients::AppId))
                    .col(string_len(M2mClients::ClientId, 64).unique_key())
                    .col(string_len(M2mClients::Name, 200))
                    .col(json(M2mClients::Scopes))
                    .col(string_len(M2mClients::SecretHash, 64))
                    .col(integer(M2mClients::SecretGeneration))
                    .col(string_len_null(M2mClients::PreviousSecretHash, 64))
                    .col(timestamp_with_time_zone_null(
                        M2mClients::PreviousSecretExpiresAt,
                    ))
                    .col(timestamp_with_time_zone(M2mClients::CreatedAt))
                    .col(timestamp_with_time_zone(M2mClients::UpdatedAt))
                    .col(timestamp_with_time_zone_null(M2mClients::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(M2mClients::Table, M2mClients::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_m2m_clients_app")
                    .table(M2mClients::Table)
                    .col(M2mClients::AppId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(M2mClients::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum M2mClients {
    Table,
    Id,
    AppId,
    ClientId,
    Name,
    Scopes,
    SecretHash,
    SecretGeneration,
    PreviousSecretHash,
    PreviousSecretExpiresAt,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
}
