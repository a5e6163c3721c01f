//! Multi-factor authentication (docs/src/mfa.md): users' second factors (TOTP seeds
//! sealed under the master key, WebAuthn public keys and sign counts), their hashed
//! recovery codes, the short-lived challenges of the two-step sign-in and of WebAuthn
//! ceremonies, how each session was established (`amr`, `auth_time`), and the
//! tenant rule `require_mfa`.

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
                    .table(MfaFactors::Table)
                    .col(uuid(MfaFactors::Id).primary_key())
                    .col(uuid(MfaFactors::AppId))
                    .col(uuid(MfaFactors::UserId))
                    .col(string_len(MfaFactors::Kind, 16))
                    .col(string_len(MfaFactors::Name, 100))
                    .col(string_len(MfaFactors::Status, 16))
                    .col(text_null(MfaFactors::Secret))
                    .col(big_integer_null(MfaFactors::LastStep))
                    .col(string_len_null(MfaFactors::CredentialId, 1400))
                    .col(text_null(MfaFactors::Credential))
                    .col(big_integer(MfaFactors::SignCount).default(0))
                    .col(timestamp_with_time_zone(MfaFactors::CreatedAt))
                    .col(timestamp_with_time_zone_null(MfaFactors::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(MfaFactors::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaFactors::Table, MfaFactors::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaFactors::Table, MfaFactors::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mfa_factors_user")
                    .table(MfaFactors::Table)
                    .col(MfaFactors::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_mfa_factors_credential")
                    .table(MfaFactors::Table)
                    .col(MfaFactors::AppId)
                    .col(MfaFactors::CredentialId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MfaRecoveryCodes::Table)
                    .col(uuid(MfaRecoveryCodes::Id).primary_key())
                    .col(uuid(MfaRecoveryCodes::AppId))
                    .col(uuid(MfaRecoveryCodes::UserId))
                    .col(string_len(MfaRecoveryCodes::CodeHash, 128))
                    .col(timestamp_with_time_zone(MfaRecoveryCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(MfaRecoveryCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaRecoveryCodes::Table, MfaRecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mfa_recovery_codes_user")
                    .table(MfaRecoveryCodes::Table)
                    .col(MfaRecoveryCodes::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MfaChallenges::Table)
                    .col(uuid(MfaChallenges::Id).primary_key())
                    .col(uuid(MfaChallenges::AppId))
                    .col(uuid_null(MfaChallenges::UserId))
                    .col(string_len(MfaChallenges::Kind, 32))
                    .col(string_len_null(MfaChallenges::TokenHash, 128).unique_key())
                    .col(uuid_null(MfaChallenges::TenantId))
                    .col(json_null(MfaChallenges::Amr))
                    .col(text_null(MfaChallenges::State))
                    .col(uuid_null(MfaChallenges::FactorId))
                    .col(integer(MfaChallenges::Failures).default(0))
                    .col(timestamp_with_time_zone(MfaChallenges::CreatedAt))
                    .col(timestamp_with_time_zone(MfaChallenges::ExpiresAt))
                    .col(timestamp_with_time_zone_null(MfaChallenges::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaChallenges::Table, MfaChallenges::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mfa_challenges_expires")
                    .table(MfaChallenges::Table)
                    .col(MfaChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(json_null(Sessions::Amr))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(timestamp_with_time_zone_null(Sessions::AuthTime))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(boolean(Tenants::RequireMfa).default(false))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::RequireMfa)
                    .to_owned(),
            )
            .await?;
        for column in [Sessions::AuthTime, Sessions::Amr] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            MfaChallenges::Table.into_iden(),
            MfaRecoveryCodes::Table.into_iden(),
            MfaFactors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MfaFactors {
    Table,
    Id,
    AppId,
    UserId,
    Kind,
    Name,
    Status,
    Secret,
    LastStep,
    CredentialId,
    Credential,
    SignCount,
    CreatedAt,
    ConfirmedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum MfaRecoveryCodes {
    Table,
    Id,
    AppId,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    Id,
    AppId,
    UserId,
    Kind,
    TokenHash,
    TenantId,
    Amr,
    State,
    FactorId,
    Failures,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Amr,
    AuthTime,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    RequireMfa,
}
