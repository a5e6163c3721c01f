//! Console sessions: the admin console's cookie sessions, each standing for the root
//! key or app key it was opened with, or for an end user of an app signed in through
//! the app's hosted login (bound to a Heimdall session). Only keyed hashes of the
//! cookie secret and of the key are stored; the key itself is never kept.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .col(uuid(ConsoleSessions::Id).primary_key())
                    .col(string_len(ConsoleSessions::TokenHash, 64).unique_key())
                    .col(string_len(ConsoleSessions::PrincipalType, 16))
                    .col(uuid_null(ConsoleSessions::AppId))
                    .col(uuid_null(ConsoleSessions::KeyId))
                    .col(string_len_null(ConsoleSessions::KeyHash, 64))
                    .col(uuid_null(ConsoleSessions::UserId))
                    .col(uuid_null(ConsoleSessions::SessionId))
                    .col(timestamp_with_time_zone(ConsoleSessions::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::LastUsedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleSessions::Table, ConsoleSessions::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleSessions::Table, ConsoleSessions::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_console_sessions_expires")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    Id,
    TokenHash,
    PrincipalType,
    AppId,
    KeyId,
    KeyHash,
    UserId,
    SessionId,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
}
