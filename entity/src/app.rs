//! An app: one customer product with its own users, roles, keys and settings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "apps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The slug (`^[a-z0-9][a-z0-9-]{1,62}$`); immutable, part of the issuer URL.
    #[sea_orm(unique)]
    pub name: String,
    pub display_name: String,
    /// App settings as a JSON object; the `heimdall` crate owns their shape and defaults.
    pub settings: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::api_key::Entity")]
    ApiKey,
    #[sea_orm(has_many = "super::signing_key::Entity")]
    SigningKey,
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl Related<super::signing_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SigningKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
