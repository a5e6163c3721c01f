//! Opaque OAuth tokens issued to clients: access (`hm_at_…`) and refresh
//! (`hm_rt_…`), stored hashed, grouped by grant.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub client_id: Uuid,
    pub user_id: Uuid,
    /// All tokens from one code redemption and its refreshes.
    pub grant_id: Uuid,
    /// `access` or `refresh`.
    pub kind: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub scopes: Json,
    pub auth_time: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Refresh tokens: set when exchanged (single use).
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The API resource (RFC 8707) the grant is for; refreshes keep it.
    pub resource: Option<String>,
    /// RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449).
    pub dpop_jkt: Option<String>,
    /// The acting party of an exchanged token (RFC 8693 `act`).
    pub act: Option<Json>,
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
