//! Heimdall-sent mail waiting for (or done with) delivery. The message is sealed
//! with the master key because its link carries a secret token; it is wiped once
//! the mail is sent or abandoned.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// `password_reset`, `email_verification` or `invite`.
    pub kind: String,
    pub user_id: Option<Uuid>,
    /// The sealed message (recipient, subject, bodies); empty after delivery.
    pub payload: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// When a worker may (re)try; a claim pushes it forward as a lease.
    pub next_attempt_at: DateTimeUtc,
    /// The last delivery error (never the message).
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
