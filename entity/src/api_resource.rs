//! An API of an app that OAuth clients get access tokens for (RFC 8707 `resource`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// The absolute URI clients name as `resource`; the `aud` of its tokens.
    pub identifier: String,
    pub name: String,
    /// JSON array of the API's own scopes.
    pub scopes: Json,
    /// `jwt` (RFC 9068) or `opaque`.
    pub access_token_format: String,
    /// Lifetime of its access tokens, seconds.
    pub token_ttl: i32,
    /// Its tokens carry the user's effective permissions.
    pub include_permissions: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
