//! The hash sub-key of a retired master key, sealed under the current master key,
//! so that secrets hashed before a re-key keep verifying (`heimdall rekey`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retained_hash_keys")]
pub struct Model {
    /// The retired master key's public id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The sub-key, sealed (`crypto::vault`).
    pub sealed_key: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
