//! Federated sign-in: upstream identity providers per app (Sign in with Apple and
//! generic OpenID Connect), the identities users have at them, and the short-lived
//! state of web sign-in flows.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20260101_000001_foundation::Apps, m20260102_000001_users_sessions::Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityProviders::Table)
                    .col(uuid(IdentityProviders::Id).primary_key())
                    .col(uuid(IdentityProviders::AppId))
                    .col(string_len(IdentityProviders::Name, 63))
                    .col(string_len(IdentityProviders::Kind, 16))
                    .col(boolean(IdentityProviders::Enabled))
                    .col(json(IdentityProviders::Config))
                    .col(text_null(IdentityProviders::Secret))
                    .col(timestamp_with_time_zone(IdentityProviders::CreatedAt))
                    .col(timestamp_with_time_zone(IdentityProviders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdentityProviders::Table, IdentityProviders::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_identity_providers_app_name")
                    .table(IdentityProviders::Table)
                    .col(IdentityProviders::AppId)
                    .col(IdentityProviders::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FederatedIdentities::Table)
                    .col(uuid(FederatedIdentities::Id).primary_key())
                    .col(uuid(FederatedIdentities::AppId))
                    .col(uuid(FederatedIdentities::UserId))
                    .col(string_len(FederatedIdentities::Provider, 63))
                    .col(string_len(FederatedIdentities::Subject, 255))
                    .col(string_len_null(FederatedIdentities::Email, 320))
                    .col(boolean(FederatedIdentities::EmailVerified))
                    .col(timestamp_with_time_zone(FederatedIdentities::CreatedAt))
                    .col(timestamp_with_time_zone(FederatedIdentities::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FederatedIdentities::Table, FederatedIdentities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(FederatedIdentities::Table, FederatedIdentities::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_federated_identities_subject")
                    .table(FederatedIdentities::Table)
                    .col(FederatedIdentities::AppId)
                    .col(FederatedIdentities::Provider)
                    .col(FederatedIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_federated_identities_user")
                    .table(FederatedIdentities::Table)
                    .col(FederatedIdentities::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FederationStates::Table)
                    .col(uuid(FederationStates::Id).primary_key())
                    .col(uuid(FederationStates::AppId))
                    .col(string_len(FederationStates::Provider, 63))
                    .col(string_len(FederationStates::StateHash, 64).unique_key())
                    .col(string_len(FederationStates::NonceHash, 64))
                    .col(string_len_null(FederationStates::BindingHash, 64))
                    .col(text_null(FederationStates::CodeVerifier))
                    .col(timestamp_with_time_zone(FederationStates::CreatedAt))
                    .col(timestamp_with_time_zone(FederationStates::ExpiresAt))
                    .col(timestamp_with_time_zone_null(FederationStates::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FederationStates::Table, FederationStates::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_federation_states_expiry")
                    .table(FederationStates::Table)
                    .col(FederationStates::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            FederationStates::Table.into_iden(),
            FederatedIdentities::Table.into_iden(),
            IdentityProviders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    AppId,
    Name,
    Kind,
    Enabled,
    Config,
    Secret,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FederatedIdentities {
    Table,
    Id,
    AppId,
    UserId,
    Provider,
    Subject,
    Email,
    EmailVerified,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum FederationStates {
    Table,
    Id,
    AppId,
    Provider,
    StateHash,
    NonceHash,
    BindingHash,
    CodeVerifier,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
