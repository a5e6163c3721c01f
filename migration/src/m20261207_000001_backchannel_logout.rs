//! OpenID Connect Back-Channel Logout 1.0 (docs/src/hosted-pages.md#back-channel-logout):
//! the client's `backchannel_logout_uri` (and `backchannel_logout_session_required`),
//! which clients a session signed in to (so its end can be told to them), and the
//! logout tokens waiting to be sent (retried like webhook deliveries, surviving
//! restarts).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_foundation::Apps;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(string_len_null(OauthClients::BackchannelLogoutUri, 2048))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(
                        boolean(OauthClients::BackchannelLogoutSessionRequired).default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthSessionClients::Table)
                    .col(uuid(OauthSessionClients::SessionId))
                    .col(uuid(OauthSessionClients::ClientId))
                    .col(uuid(OauthSessionClients::AppId))
                    .col(timestamp_with_time_zone(OauthSessionClients::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(OauthSessionClients::SessionId)
                            .col(OauthSessionClients::ClientId),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthSessionClients::Table, OauthSessionClients::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthSessionClients::Table, OauthSessionClients::ClientId)
                            .to(OauthClients::Table, OauthClients::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_session_clients_client")
                    .table(OauthSessionClients::Table)
                    .col(OauthSessionClients::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackchannelLogouts::Table)
                    .col(uuid(BackchannelLogouts::Id).primary_key())
                    .col(uuid(BackchannelLogouts::AppId))
                    .col(uuid(BackchannelLogouts::ClientId))
                    .col(uuid(BackchannelLogouts::UserId))
                    .col(uuid(BackchannelLogouts::SessionId))
                    .col(string_len(BackchannelLogouts::Status, 16))
                    .col(integer(BackchannelLogouts::Attempt))
                    .col(timestamp_with_time_zone_null(
                        BackchannelLogouts::NextAttemptAt,
                    ))
                    .col(integer_null(BackchannelLogouts::ResponseStatus))
                    .col(string_len_null(BackchannelLogouts::LastError, 500))
                    .col(timestamp_with_time_zone(BackchannelLogouts::CreatedAt))
                    .col(timestamp_with_time_zone(BackchannelLogouts::UpdatedAt))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(BackchannelLogouts::Table, BackchannelLogouts::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(BackchannelLogouts::Table, BackchannelLogouts::ClientId)
                            .to(OauthClients::Table, OauthClients::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_backchannel_logouts_due")
                    .table(BackchannelLogouts::Table)
                    .col(BackchannelLogouts::Status)
                    .col(BackchannelLogouts::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BackchannelLogouts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OauthSessionClients::Table).to_owned())
            .await?;
        for column in [
            OauthClients::BackchannelLogoutSessionRequired,
            OauthClients::BackchannelLogoutUri,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(OauthClients::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthClients {
    Table,
    Id,
    BackchannelLogoutUri,
    BackchannelLogoutSessionRequired,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthSessionClients {
    Table,
    SessionId,
    ClientId,
    AppId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum BackchannelLogouts {
    Table,
    Id,
    AppId,
    ClientId,
    UserId,
    SessionId,
    Status,
    Attempt,
    NextAttemptAt,
    ResponseStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
}
