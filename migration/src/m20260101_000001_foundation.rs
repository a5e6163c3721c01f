//! Apps, root keys, app keys (PAK) and signing keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Apps::Table)
                    .col(uuid(Apps::Id).primary_key())
                    .col(string_len(Apps::Name, 63).unique_key())
                    .col(string_len(Apps::DisplayName, 200))
                    .col(json(Apps::Settings))
                    .col(timestamp_with_time_zone(Apps::CreatedAt))
                    .col(timestamp_with_time_zone(Apps::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RootKeys::Table)
                    .col(uuid(RootKeys::Id).primary_key())
                    .col(string_len(RootKeys::Name, 200))
                    .col(string_len(RootKeys::KeyHash, 64).unique_key())
                    .col(timestamp_with_time_zone(RootKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(RootKeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(uuid(ApiKeys::Id).primary_key())
                    .col(uuid(ApiKeys::AppId))
                    .col(string_len(ApiKeys::Name, 200))
                    .col(string_len(ApiKeys::KeyHash, 64).unique_key())
                    .col(string_len(ApiKeys::Hint, 8))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_app")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::AppId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string_len(SigningKeys::Id, 64).primary_key())
                    .col(uuid(SigningKeys::AppId))
                    .col(string_len(SigningKeys::Alg, 16))
                    .col(string_len(SigningKeys::Status, 16))
                    .col(text(SigningKeys::PrivateKey))
                    .col(text(SigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::PublishUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SigningKeys::Table, SigningKeys::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signing_keys_app")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::AppId)
                    .to_owned(),
            )
            .await?;
        // At most one active key per app, even under concurrent rotations. Partial
        // indexes are spelled the same on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_signing_keys_active ON signing_keys (app_id) \
                 WHERE status = 'active'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            RootKeys::Table.into_iden(),
            Apps::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Apps {
    Table,
    Id,
    Name,
    DisplayName,
    Settings,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RootKeys {
    Table,
    Id,
    Name,
    KeyHash,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    AppId,
    Name,
    KeyHash,
    Hint,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    AppId,
    Alg,
    Status,
    PrivateKey,
    PublicKey,
    CreatedAt,
    RetiredAt,
    PublishUntil,
}
