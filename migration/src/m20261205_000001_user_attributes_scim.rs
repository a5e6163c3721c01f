//! Custom attributes and SCIM provisioning (docs/src/importing-users-and-scim.md):
//! - users get `user_metadata` and `app_metadata` (JSON objects, null meaning `{}`),
//!   and the SCIM `externalId` with the SCIM attributes Heimdall keeps verbatim
//!   (`name`, …) in `scim_attributes`;
//! - tenants get the SCIM `externalId` of the group they stand for;
//! - `scim_tokens`: app-scoped bearer tokens of SCIM clients, stored as keyed hashes.
//!
//! SQLite alters one column per statement, so each column is its own ALTER.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            json_null(Users::UserMetadata),
            json_null(Users::AppMetadata),
            string_len_null(Users::ExternalId, 255),
            json_null(Users::ScimAttributes),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(string_len_null(Tenants::ExternalId, 255))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScimTokens::Table)
                    .col(uuid(ScimTokens::Id).primary_key())
                    .col(uuid(ScimTokens::AppId))
                    .col(string_len(ScimTokens::Name, 200))
                    .col(string_len(ScimTokens::TokenHash, 64).unique_key())
                    .col(string_len(ScimTokens::Hint, 8))
                    .col(timestamp_with_time_zone(ScimTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScimTokens::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimTokens::Table, ScimTokens::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_tokens_app_id")
                    .table(ScimTokens::Table)
                    .col(ScimTokens::AppId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_app_id_external_id")
                    .table(Users::Table)
                    .col(Users::AppId)
                    .col(Users::ExternalId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_app_id_external_id")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ScimTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::ExternalId)
                    .to_owned(),
            )
            .await?;
        for column in [
            Users::UserMetadata,
            Users::AppMetadata,
            Users::ExternalId,
            Users::ScimAttributes,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AppId,
    UserMetadata,
    AppMetadata,
    ExternalId,
    ScimAttributes,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    ExternalId,
}

#[derive(DeriveIden)]
enum ScimTokens {
    Table,
    Id,
    AppId,
    Name,
    TokenHash,
    Hint,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    Id,
}
