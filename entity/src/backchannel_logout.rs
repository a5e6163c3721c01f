//! One OpenID Connect Back-Channel Logout notice for one client: a signed
//! `logout_token` POSTed to the client's `backchannel_logout_uri`, pending until
//! acknowledged (2xx) or given up, on the webhook delivery schedule.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backchannel_logouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub client_id: Uuid,
    /// The `sub` of the logout token.
    pub user_id: Uuid,
    /// The `sid` of the logout token: the session that ended.
    pub session_id: Uuid,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made (or started) so far.
    pub attempt: i32,
    /// When the next attempt is due (while pending; a claim pushes it out by a lease).
    pub next_attempt_at: Option<DateTimeUtc>,
    pub response_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::oauth_client::Entity",
        from = "Column::ClientId",
        to = "super::oauth_client::Column::Id",
        on_delete = "Cascade"
    )]
    Client,
}

impl Related<super::oauth_client::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
