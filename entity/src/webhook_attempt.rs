//! Every HTTP attempt of a delivery: status, latency, the start of the response.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub response_status: Option<i32>,
    pub latency_ms: i32,
    /// The first KiB of the response body.
    pub response_excerpt: Option<String>,
    /// Why no HTTP status was received (timeout, refused address, …).
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::webhook_delivery::Entity",
        from = "Column::DeliveryId",
        to = "super::webhook_delivery::Column::Id",
        on_delete = "Cascade"
    )]
    Delivery,
}

impl Related<super::webhook_delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Delivery.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
