//! OpenID Connect RP-Initiated Logout 1.0 (docs/src/hosted-pages.md#signing-out):
//! the URIs an OAuth client may have the browser sent back to after signing out.
//! Nullable, read as an empty list, so existing clients need no rewrite.

use sea_orm_migration::{prelude::*, schema::json_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    PostLogoutRedirectUris,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .add_column(json_null(OauthClients::PostLogoutRedirectUris))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthClients::Table)
                    .drop_column(OauthClients::PostLogoutRedirectUris)
                    .to_owned(),
            )
            .await
    }
}
