//! A device authorization (RFC 8628): the device polls with its device code while
//! the user approves with the user code on another screen.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_device_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub client_id: Uuid,
    pub device_code_hash: String,
    /// Keyed hash of the normalised user code (upper case, no dash).
    pub user_code_hash: String,
    pub scopes: Json,
    /// `pending`, `approved`, `denied` or `used`.
    pub status: String,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub auth_time: Option<DateTimeUtc>,
    /// Seconds between polls; grows by 5 at each `slow_down`.
    pub interval: i32,
    pub last_polled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
