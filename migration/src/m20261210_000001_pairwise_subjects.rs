//! Pairwise subject identifiers (OIDC Core §8; docs/src/oauth-extensions.md#pairwise-subject-identifiers).
//!
//! A client chooses `subject_type` `public` (the user's id, the default) or
//! `pairwise`; a pairwise client's sector (the host of its `sector_identifier_uri`, or
//! of its redirect URIs) is stored when it is registered, so that later changes to its
//! redirect URIs cannot change the identifiers its users already have. Each app has a
//! secret salt (sealed with the master key, re-sealed by `heimdall rekey`); the
//! identifiers issued are remembered, so that a pairwise `sub` coming back (an
//! `id_token_hint`, a JWT access token) finds its user.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20260101_000001_foundation::Apps, m20260102_000001_users_sessions::Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    SubjectType,
    SectorIdentifierUri,
    SectorIdentifier,
}

#[derive(DeriveIden)]
enum OauthPairwiseSalts {
    Table,
    Id,
    SealedSalt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthPairwiseSubjects {
    Table,
    AppId,
    Subject,
    UserId,
    Sector,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            string_len(OauthClients::SubjectType, 16)
                .default("public")
                .to_owned(),
            string_len_null(OauthClients::SectorIdentifierUri, 2048),
            string_len_null(OauthClients::SectorIdentifier, 255),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(OauthClients::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OauthPairwiseSalts::Table)
                    .col(uuid(OauthPairwiseSalts::Id).primary_key())
                    .col(text(OauthPairwiseSalts::SealedSalt))
                    .col(timestamp_with_time_zone(OauthPairwiseSalts::CreatedAt))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthPairwiseSalts::Table, OauthPairwiseSalts::Id)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthPairwiseSubjects::Table)
                    .col(uuid(OauthPairwiseSubjects::AppId))
                    .col(string_len(OauthPairwiseSubjects::Subject, 64))
                    .col(uuid(OauthPairwiseSubjects::UserId))
                    .col(string_len(OauthPairwiseSubjects::Sector, 255))
                    .col(timestamp_with_time_zone(OauthPairwiseSubjects::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(OauthPairwiseSubjects::AppId)
                            .col(OauthPairwiseSubjects::Subject),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthPairwiseSubjects::Table, OauthPairwiseSubjects::AppId)
                            .to(Apps::Table, Apps::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from(OauthPairwiseSubjects::Table, OauthPairwiseSubjects::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_pairwise_subjects_user")
                    .table(OauthPairwiseSubjects::Table)
                    .col(OauthPairwiseSubjects::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OauthPairwiseSubjects::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OauthPairwiseSalts::Table).to_owned())
            .await?;
        for column in [
            OauthClients::SectorIdentifier,
            OauthClients::SectorIdentifierUri,
            OauthClients::SubjectType,
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
