//! The event outbox: one row per event, written in the transaction of the change it
//! describes, holding the exact JSON body every delivery sends.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub event_type: String,
    /// `{id, type, created_at, app_id, data}`, serialised once.
    pub body: String,
    pub created_at: DateTimeUtc,
    /// The W3C `traceparent` of the request that caused the event
    /// (docs/src/production.md#tracing); deliveries continue its trace.
    pub traceparent: Option<String>,
    /// The `tracestate` that came with it, passed on unchanged.
    pub tracestate: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
