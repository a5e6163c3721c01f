//! Hash keys of retired master keys (`heimdall rekey`): a keyed hash cannot be
//! recomputed without the secret it hashes, so re-keying keeps the retired key's
//! hash sub-key (never the master key itself), sealed under the current master key,
//! and secrets issued before keep verifying once `HEIMDALL_MASTER_KEY_PREVIOUS` is
//! dropped.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetainedHashKeys {
    Table,
    Id,
    SealedKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetainedHashKeys::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RetainedHashKeys::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RetainedHashKeys::SealedKey)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RetainedHashKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RetainedHashKeys::Table).to_owned())
            .await
    }
}
