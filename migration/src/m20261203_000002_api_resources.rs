//! API resources of an app (docs/src/oauth-extensions.md#api-resources-and-jwt-access-tokens):
//! the APIs that OAuth clients get access tokens for (RFC 8707 `resource`), and the
//! format of those tokens (RFC 9068 JWTs or opaque).

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
                    .table(ApiResources::Table)
                    .col(uuid(ApiResources::Id).primary_key())
                    .col(uuid(ApiResources::AppId))
                    .col(string_len(ApiResources::Identifier, 512))
                    .col(string_len(ApiResources::Name, 200))
                    .col(json(ApiResources::Scopes))
                    .col(string_len(ApiResources::AccessTokenFormat, 16))
                    .col(integer(ApiResources::TokenTtl))
                    .col(boolean(ApiResources::IncludePermissions))
                    .col(timestamp_with_time_zone(ApiResources::CreatedAt))
                    .col(timestamp_with_time_zone(ApiResources::UpdatedAt))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(ApiResources::Table, ApiResources::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_resources_identifier")
                    .table(ApiResources::Table)
                    .col(ApiResources::AppId)
                    .col(ApiResources::Identifier)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiResources::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiResources {
    Table,
    Id,
    AppId,
    Identifier,
    Name,
    Scopes,
    AccessTokenFormat,
    TokenTtl,
    IncludePermissions,
    CreatedAt,
    UpdatedAt,
}
