//! OAuth extensions (docs/src/oauth-extensions.md): per-client settings beyond seed
//! 003 (dynamic registration, client authentication with JWTs, PAR), initial access
//! tokens for dynamic registration, pushed authorization requests, and the `jti`
//! replay cache shared by every instance. Only keyed hashes of tokens are stored.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_foundation::Apps;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk_app<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Apps::Table, Apps::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn fk_client<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(OauthClients::Table, OauthClients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthClientSettings::Table)
                    .col(uuid(OauthClientSettings::ClientId).primary_key())
                    .col(uuid(OauthClientSettings::AppId))
                    .col(string_len(OauthClientSettings::TokenEndpointAuthMethod, 32))
                    .col(json_null(OauthClientSettings::Jwks))
                    .col(string_len_null(OauthClientSettings::JwksUri, 2048))
                    .col(boolean(OauthClientSettings::RequirePar))
                    .col(boolean(OauthClientSettings::DynamicallyRegistered))
                    .col(string_len_null(
                        OauthClientSettings::RegistrationTokenHash,
                        64,
                    ))
                    .col(json(OauthClientSettings::Metadata))
                    .col(timestamp_with_time_zone(OauthClientSettings::CreatedAt))
                    .col(timestamp_with_time_zone(OauthClientSettings::UpdatedAt))
                    .foreign_key(&mut fk_client(
                        OauthClientSettings::Table,
                        OauthClientSettings::ClientId,
                    ))
                    .foreign_key(&mut fk_app(
                        OauthClientSettings::Table,
                        OauthClientSettings::AppId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_client_settings_registration")
                    .table(OauthClientSettings::Table)
                    .col(OauthClientSettings::RegistrationTokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthInitialAccessTokens::Table)
                    .col(uuid(OauthInitialAccessTokens::Id).primary_key())
                    .col(uuid(OauthInitialAccessTokens::AppId))
                    .col(string_len(OauthInitialAccessTokens::TokenHash, 64).unique_key())
                    .col(string_len_null(OauthInitialAccessTokens::Name, 200))
                    .col(integer_null(OauthInitialAccessTokens::UsesLeft))
                    .col(timestamp_with_time_zone_null(
                        OauthInitialAccessTokens::ExpiresAt,
                    ))
                    .col(timestamp_with_time_zone(
                        OauthInitialAccessTokens::CreatedAt,
                    ))
                    .foreign_key(&mut fk_app(
                        OauthInitialAccessTokens::Table,
                        OauthInitialAccessTokens::AppId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_initial_access_tokens_app")
                    .table(OauthInitialAccessTokens::Table)
                    .col(OauthInitialAccessTokens::AppId)
                    .col(OauthInitialAccessTokens::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthParRequests::Table)
                    .col(uuid(OauthParRequests::Id).primary_key())
                    .col(uuid(OauthParRequests::AppId))
                    .col(uuid(OauthParRequests::ClientId))
                    .col(string_len(OauthParRequests::RequestHash, 64).unique_key())
                    .col(json(OauthParRequests::Params))
                    .col(timestamp_with_time_zone(OauthParRequests::CreatedAt))
                    .col(timestamp_with_time_zone(OauthParRequests::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthParRequests::OpenedAt))
                    .col(timestamp_with_time_zone_null(OauthParRequests::UsedAt))
                    .foreign_key(&mut fk_app(
                        OauthParRequests::Table,
                        OauthParRequests::AppId,
                    ))
                    .foreign_key(&mut fk_client(
                        OauthParRequests::Table,
                        OauthParRequests::ClientId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_par_requests_expires")
                    .table(OauthParRequests::Table)
                    .col(OauthParRequests::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthJtis::Table)
                    .col(string_len(OauthJtis::Key, 64).primary_key())
                    .col(timestamp_with_time_zone(OauthJtis::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_jtis_expires")
                    .table(OauthJtis::Table)
                    .col(OauthJtis::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OauthJtis::Table.into_iden(),
            OauthParRequests::Table.into_iden(),
            OauthInitialAccessTokens::Table.into_iden(),
            OauthClientSettings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthClients {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthClientSettings {
    Table,
    ClientId,
    AppId,
    TokenEndpointAuthMethod,
    Jwks,
    JwksUri,
    RequirePar,
    DynamicallyRegistered,
    RegistrationTokenHash,
    Metadata,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthInitialAccessTokens {
    Table,
    Id,
    AppId,
    TokenHash,
    Name,
    UsesLeft,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthParRequests {
    Table,
    Id,
    AppId,
    ClientId,
    RequestHash,
    Params,
    CreatedAt,
    ExpiresAt,
    OpenedAt,
    UsedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthJtis {
    Table,
    Key,
    ExpiresAt,
}
