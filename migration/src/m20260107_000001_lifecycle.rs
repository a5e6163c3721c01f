//! Account lifecycle: invites, one-time account tokens (email verification and
//! password reset) and the outbox of Heimdall-sent mail.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    m20260101_000001_foundation::Apps, m20260102_000001_users_sessions::Users,
    m20260103_000001_roles_tenants::Tenants,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invites::Table)
                    .col(uuid(Invites::Id).primary_key())
                    .col(uuid(Invites::AppId))
                    .col(string_len(Invites::TokenHash, 64).unique_key())
                    .col(string_len(Invites::Email, 320))
                    .col(string_len(Invites::Role, 64))
                    .col(uuid_null(Invites::TenantId))
                    .col(timestamp_with_time_zone(Invites::ExpiresAt))
                    .col(integer(Invites::MaxUses))
                    .col(integer(Invites::Uses))
                    .col(timestamp_with_time_zone_null(Invites::RevokedAt))
                    .col(string_len(Invites::CreatedByType, 16))
                    .col(string_len(Invites::CreatedById, 64))
                    .col(timestamp_with_time_zone(Invites::CreatedAt))
                    .col(timestamp_with_time_zone_null(Invites::LastAcceptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invites::Table, Invites::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invites::Table, Invites::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invites_app")
                    .table(Invites::Table)
                    .col(Invites::AppId)
                    .col(Invites::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(uuid(AccountTokens::Id).primary_key())
                    .col(uuid(AccountTokens::AppId))
                    .col(uuid(AccountTokens::UserId))
                    .col(string_len(AccountTokens::Kind, 32))
                    .col(string_len(AccountTokens::TokenHash, 64).unique_key())
                    .col(string_len(AccountTokens::Email, 320))
                    .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccountTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(AccountTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountTokens::Table, AccountTokens::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountTokens::Table, AccountTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_account_tokens_user_kind")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::UserId)
                    .col(AccountTokens::Kind)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(uuid(MailOutbox::Id).primary_key())
                    .col(uuid(MailOutbox::AppId))
                    .col(string_len(MailOutbox::Kind, 32))
                    .col(uuid_null(MailOutbox::UserId))
                    .col(text(MailOutbox::Payload))
                    .col(string_len(MailOutbox::Status, 16))
                    .col(integer(MailOutbox::Attempts))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(text_null(MailOutbox::LastError))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MailOutbox::Table, MailOutbox::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::Status)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MailOutbox::Table.into_iden(),
            AccountTokens::Table.into_iden(),
            Invites::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    AppId,
    TokenHash,
    Email,
    Role,
    TenantId,
    ExpiresAt,
    MaxUses,
    Uses,
    RevokedAt,
    CreatedByType,
    CreatedById,
    CreatedAt,
    LastAcceptedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    AppId,
    UserId,
    Kind,
    TokenHash,
    Email,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    AppId,
    Kind,
    UserId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}
