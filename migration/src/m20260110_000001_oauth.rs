//! The OAuth 2.0 / OpenID Connect provider: clients, pending requests, codes,
//! consents, tokens, and the hosted pages' browser sessions.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    m20260101_000001_foundation::Apps,
    m20260102_000001_users_sessions::{Sessions, Users},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk_app<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Apps::Table, Apps::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn fk_user<T: IntoIden + Copy + 'static>(table: T, col: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Users::Table, Users::Id)
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
                    .table(OauthClients::Table)
                    .col(uuid(OauthClients::Id).primary_key())
                    .col(uuid(OauthClients::AppId))
                    .col(uuid_null(OauthClients::OwnerId))
                    .col(string_len(OauthClients::Name, 200))
                    .col(string_len_null(OauthClients::Description, 1000))
                    .col(string_len_null(OauthClients::LogoUrl, 2048))
                    .col(string_len_null(OauthClients::HomepageUrl, 2048))
                    .col(string_len_null(OauthClients::PrivacyPolicyUrl, 2048))
                    .col(string_len_null(OauthClients::TermsOfServiceUrl, 2048))
                    .col(json(OauthClients::RedirectUris))
                    .col(json(OauthClients::AllowedScopes))
                    .col(string_len(OauthClients::ClientType, 16))
                    .col(string_len_null(OauthClients::SecretHash, 64))
                    .col(text_null(OauthClients::SealedSecret))
                    .col(string_len_null(OauthClients::IdTokenSignedResponseAlg, 16))
                    .col(boolean(OauthClients::IsActive))
                    .col(boolean(OauthClients::IsFirstParty))
                    .col(timestamp_with_time_zone(OauthClients::CreatedAt))
                    .col(timestamp_with_time_zone(OauthClients::UpdatedAt))
                    .foreign_key(&mut fk_app(OauthClients::Table, OauthClients::AppId))
                    .foreign_key(&mut fk_user(OauthClients::Table, OauthClients::OwnerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_clients_app_owner")
                    .table(OauthClients::Table)
                    .col(OauthClients::AppId)
                    .col(OauthClients::OwnerId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthRequests::Table)
                    .col(uuid(OauthRequests::Id).primary_key())
                    .col(uuid(OauthRequests::AppId))
                    .col(uuid(OauthRequests::ClientId))
                    .col(uuid(OauthRequests::UserId))
                    .col(uuid_null(OauthRequests::SessionId))
                    .col(string_len(OauthRequests::RedirectUri, 2048))
                    .col(json(OauthRequests::Scopes))
                    .col(string_len_null(OauthRequests::State, 1024))
                    .col(string_len_null(OauthRequests::Nonce, 1024))
                    .col(string_len_null(OauthRequests::CodeChallenge, 128))
                    .col(timestamp_with_time_zone(OauthRequests::AuthTime))
                    .col(timestamp_with_time_zone(OauthRequests::CreatedAt))
                    .col(timestamp_with_time_zone(OauthRequests::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthRequests::DecidedAt))
                    .foreign_key(&mut fk_client(
                        OauthRequests::Table,
                        OauthRequests::ClientId,
                    ))
                    .foreign_key(&mut fk_user(OauthRequests::Table, OauthRequests::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthCodes::Table)
                    .col(uuid(OauthCodes::Id).primary_key())
                    .col(uuid(OauthCodes::AppId))
                    .col(uuid(OauthCodes::ClientId))
                    .col(uuid(OauthCodes::UserId))
                    .col(uuid_null(OauthCodes::SessionId))
                    .col(string_len(OauthCodes::CodeHash, 64).unique_key())
                    .col(string_len(OauthCodes::RedirectUri, 2048))
                    .col(json(OauthCodes::Scopes))
                    .col(string_len_null(OauthCodes::Nonce, 1024))
                    .col(string_len_null(OauthCodes::CodeChallenge, 128))
                    .col(timestamp_with_time_zone(OauthCodes::AuthTime))
                    .col(timestamp_with_time_zone(OauthCodes::CreatedAt))
                    .col(timestamp_with_time_zone(OauthCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthCodes::UsedAt))
                    .col(uuid(OauthCodes::GrantId))
                    .foreign_key(&mut fk_client(OauthCodes::Table, OauthCodes::ClientId))
                    .foreign_key(&mut fk_user(OauthCodes::Table, OauthCodes::UserId))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthConsents::Table)
                    .col(uuid(OauthConsents::Id).primary_key())
                    .col(uuid(OauthConsents::AppId))
                    .col(uuid(OauthConsents::UserId))
                    .col(uuid(OauthConsents::ClientId))
                    .col(json(OauthConsents::Scopes))
                    .col(timestamp_with_time_zone(OauthConsents::CreatedAt))
                    .col(timestamp_with_time_zone(OauthConsents::UpdatedAt))
                    .foreign_key(&mut fk_client(
                        OauthConsents::Table,
                        OauthConsents::ClientId,
                    ))
                    .foreign_key(&mut fk_user(OauthConsents::Table, OauthConsents::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_oauth_consents_user_client")
                    .table(OauthConsents::Table)
                    .col(OauthConsents::UserId)
                    .col(OauthConsents::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthTokens::Table)
                    .col(uuid(OauthTokens::Id).primary_key())
                    .col(uuid(OauthTokens::AppId))
                    .col(uuid(OauthTokens::ClientId))
                    .col(uuid(OauthTokens::UserId))
                    .col(uuid(OauthTokens::GrantId))
                    .col(string_len(OauthTokens::Kind, 16))
                    .col(string_len(OauthTokens::TokenHash, 64).unique_key())
                    .col(json(OauthTokens::Scopes))
                    .col(timestamp_with_time_zone(OauthTokens::AuthTime))
                    .col(timestamp_with_time_zone(OauthTokens::CreatedAt))
                    .col(timestamp_with_time_zone(OauthTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(OauthTokens::RevokedAt))
                    .foreign_key(&mut fk_client(OauthTokens::Table, OauthTokens::ClientId))
                    .foreign_key(&mut fk_user(OauthTokens::Table, OauthTokens::UserId))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_oauth_tokens_grant", OauthTokens::GrantId),
            ("idx_oauth_tokens_user", OauthTokens::UserId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OauthTokens::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(WebSessions::Table)
                    .col(uuid(WebSessions::Id).primary_key())
                    .col(uuid(WebSessions::AppId))
                    .col(uuid(WebSessions::SessionId))
                    .col(uuid(WebSessions::UserId))
                    .col(string_len(WebSessions::TokenHash, 64).unique_key())
                    .col(timestamp_with_time_zone(WebSessions::CreatedAt))
                    .col(timestamp_with_time_zone(WebSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebSessions::Table, WebSessions::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebSessions::Table.into_iden(),
            OauthTokens::Table.into_iden(),
            OauthConsents::Table.into_iden(),
            OauthCodes::Table.into_iden(),
            OauthRequests::Table.into_iden(),
            OauthClients::Table.into_iden(),
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
    AppId,
    OwnerId,
    Name,
    Description,
    LogoUrl,
    HomepageUrl,
    PrivacyPolicyUrl,
    TermsOfServiceUrl,
    RedirectUris,
    AllowedScopes,
    ClientType,
    SecretHash,
    SealedSecret,
    IdTokenSignedResponseAlg,
    IsActive,
    IsFirstParty,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthRequests {
    Table,
    Id,
    AppId,
    ClientId,
    UserId,
    SessionId,
    RedirectUri,
    Scopes,
    State,
    Nonce,
    CodeChallenge,
    AuthTime,
    CreatedAt,
    ExpiresAt,
    DecidedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthCodes {
    Table,
    Id,
    AppId,
    ClientId,
    UserId,
    SessionId,
    CodeHash,
    RedirectUri,
    Scopes,
    Nonce,
    CodeChallenge,
    AuthTime,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    GrantId,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthConsents {
    Table,
    Id,
    AppId,
    UserId,
    ClientId,
    Scopes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthTokens {
    Table,
    Id,
    AppId,
    ClientId,
    UserId,
    GrantId,
    Kind,
    TokenHash,
    Scopes,
    AuthTime,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebSessions {
    Table,
    Id,
    AppId,
    SessionId,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
}
