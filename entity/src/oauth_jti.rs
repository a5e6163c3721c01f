//! `jti` values seen recently (client assertions, DPoP proofs), shared by every
//! instance: a second use of one is a replay.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_jtis")]
pub struct Model {
    /// SHA-256 (hex) of the purpose, the issuer and the `jti`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
