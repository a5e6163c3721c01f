//! Settings of an OAuth client beyond seed 003's columns: client authentication
//! method and keys, PAR, dynamic registration (docs/src/oauth-extensions.md). A client
//! without a row has the defaults.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_client_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: Uuid,
    pub app_id: Uuid,
    /// `client_secret_basic`, `client_secret_post`, `client_secret_jwt`,
    /// `private_key_jwt` or `none`.
    pub token_endpoint_auth_method: String,
    /// The client's public keys (a JWK Set), for `private_key_jwt`.
    pub jwks: Option<Json>,
    pub jwks_uri: Option<String>,
    /// Authorization requests must be pushed (RFC 9126).
    pub require_par: bool,
    pub dynamically_registered: bool,
    /// Keyed hash of the RFC 7592 registration access token.
    pub registration_token_hash: Option<String>,
    /// The remaining RFC 7591 metadata as registered (grant_types, contacts, …).
    pub metadata: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::oauth_client::Entity",
        from = "Column::ClientId",
        to = "super::oauth_client::Column::Id",
        on_delete = "Cascade"
    )]
    Client,
}

impl Related<super::oauth_client::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
