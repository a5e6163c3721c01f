//! Per-app token signing keys. The private half is encrypted at rest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// The JWK `kid`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub app_id: Uuid,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// `active` (signs new tokens) or `retired` (published until `publish_until`).
    pub status: String,
    /// PKCS#8 private key, sealed with the master key (see `crypto::vault`).
    pub private_key: String,
    /// Public key bytes, base64url: PKCS#1 DER (RSA), SEC1 point (EC), raw (Ed25519).
    pub public_key: String,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
    pub publish_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::app::Entity",
        from = "Column::AppId",
        to = "super::app::Column::Id",
        on_delete = "Cascade"
    )]
    App,
}

impl Related<super::app::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::App.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
