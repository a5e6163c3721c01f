//! Resource indicators on the authorization request (RFC 8707), DPoP-bound tokens
//! (RFC 9449) and token exchange (RFC 8693); docs/src/oauth-extensions.md.
//!
//! Codes, pending requests and tokens remember the API resource they are for;
//! tokens remember the DPoP key thumbprint they are bound to and, for exchanged
//! tokens, the acting party (`act`). Clients get the `dpop_bound_access_tokens`
//! setting and their token-exchange policy. Every column is nullable or has a
//! default, so existing rows need no rewrite.

use sea_orm_migration::{
    prelude::*,
    schema::{boolean, json_null, string_null},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Resource,
}

#[derive(DeriveIden)]
enum OauthRequests {
    Table,
    Resource,
}

#[derive(DeriveIden)]
enum OauthTokens {
    Table,
    Resource,
    DpopJkt,
    Act,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    DpopBoundAccessTokens,
    TokenExchange,
}

/// One column per statement: SQLite alters one column at a time.
async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            OauthCodes::Table,
            string_null(OauthCodes::Resource),
        )
        .await?;
        add(
            manager,
            OauthRequests::Table,
            string_null(OauthRequests::Resource),
        )
        .await?;
        add(
            manager,
            OauthTokens::Table,
            string_null(OauthTokens::Resource),
        )
        .await?;
        add(
            manager,
            OauthTokens::Table,
            string_null(OauthTokens::DpopJkt),
        )
        .await?;
        add(manager, OauthTokens::Table, json_null(OauthTokens::Act)).await?;
        add(
            manager,
            OauthClients::Table,
            boolean(OauthClients::DpopBoundAccessTokens)
                .default(false)
                .to_owned(),
        )
        .await?;
        add(
            manager,
            OauthClients::Table,
            json_null(OauthClients::TokenExchange),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, OauthClients::Table, OauthClients::TokenExchange).await?;
        drop(
            manager,
            OauthClients::Table,
            OauthClients::DpopBoundAccessTokens,
        )
        .await?;
        drop(manager, OauthTokens::Table, OauthTokens::Act).await?;
        drop(manager, OauthTokens::Table, OauthTokens::DpopJkt).await?;
        drop(manager, OauthTokens::Table, OauthTokens::Resource).await?;
        drop(manager, OauthRequests::Table, OauthRequests::Resource).await?;
        drop(manager, OauthCodes::Table, OauthCodes::Resource).await
    }
}
