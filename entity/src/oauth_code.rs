//! Authorization codes (`hm_ac_…`): single use, 10 minutes, bound to client,
//! redirect URI and PKCE challenge.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub client_id: Uuid,
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    #[sea_orm(unique)]
    pub code_hash: String,
    pub redirect_uri: String,
    pub scopes: Json,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// The grant (token family) its redemption created, for replay revocation.
    pub grant_id: Uuid,
    /// The API resource (RFC 8707 `resource`) the authorization was for.
    pub resource: Option<String>,
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

impl ActiveModelBehavior for ActiveModel {}
