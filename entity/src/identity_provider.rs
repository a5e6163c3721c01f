//! Upstream identity providers of an app: Sign in with Apple and generic OpenID
//! Connect. The private key or client secret is sealed with the master key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// The provider's name in paths (`apple`, `google`, …); unique per app.
    pub name: String,
    /// `apple` or `oidc`.
    pub kind: String,
    pub enabled: bool,
    /// The public configuration (per kind; see `services::federation::providers`).
    pub config: Json,
    /// The Apple `.p8` private key or the OIDC client secret, sealed with the master
    /// key (`crypto::vault`, aad `provider:{app_id}:{id}`); never returned.
    pub secret: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
