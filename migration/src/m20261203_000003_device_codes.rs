//! The device authorization grant (RFC 8628; docs/src/oauth-extensions.md#device-authorization-grant):
//! codes a device polls with while its user approves on another screen. Only keyed
//! hashes of the device code and of the user code are stored.

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
                    .table(OauthDeviceCodes::Table)
                    .col(uuid(OauthDeviceCodes::Id).primary_key())
                    .col(uuid(OauthDeviceCodes::AppId))
                    .col(uuid(OauthDeviceCodes::ClientId))
                    .col(string_len(OauthDeviceCodes::DeviceCodeHash, 64).unique_key())
                    .col(string_len(OauthDeviceCodes::UserCodeHash, 64).unique_key())
                    .col(json(OauthDeviceCodes::Scopes))
                    .col(string_len(OauthDeviceCodes::Status, 16))
                    .col(uuid_null(OauthDeviceCodes::UserId))
                    .col(uuid_null(OauthDeviceCodes::SessionId))
                    .col(timestamp_with_time_zone_null(OauthDeviceCodes::AuthTime))
                    .col(integer(OauthDeviceCodes::Interval))
                    .col(timestamp_with_time_zone_null(
                        OauthDeviceCodes::LastPolledAt,
                    ))
                    .col(timestamp_with_time_zone(OauthDeviceCodes::CreatedAt))
                    .col(timestamp_with_time_zone(OauthDeviceCodes::ExpiresAt))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthDeviceCodes::Table, OauthDeviceCodes::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthDeviceCodes::Table, OauthDeviceCodes::ClientId)
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
                    .name("idx_oauth_device_codes_expires")
                    .table(OauthDeviceCodes::Table)
                    .col(OauthDeviceCodes::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthDeviceCodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthClients {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OauthDeviceCodes {
    Table,
    Id,
    AppId,
    ClientId,
    DeviceCodeHash,
    UserCodeHash,
    Scopes,
    Status,
    UserId,
    SessionId,
    AuthTime,
    Interval,
    LastPolledAt,
    CreatedAt,
    ExpiresAt,
}
