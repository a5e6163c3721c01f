//! Webhook endpoints of an app: where events are POSTed, which ones, and the
//! signing secret (sealed with the master key: it is needed again to sign).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event types, or `["*"]`.
    pub events: Json,
    pub enabled: bool,
    /// The current `whsec_…` secret, sealed (AES-256-GCM).
    pub sealed_secret: String,
    /// The secret before the last rotation, still signing until it expires.
    pub previous_sealed_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
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
