//! The admin console's cookie sessions: each stands for the root key or app key it
//! was opened with (its requests act as that key), or for an end user signed in
//! through the app's hosted login (bound to one of the user's sessions).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Keyed SHA-256 of the cookie secret, hex.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// `root`, `app_key` or `end_user`.
    pub principal_type: String,
    /// The app of an app key or of an end user.
    pub app_id: Option<Uuid>,
    /// The key's id (`None` for `HEIMDALL_ROOT_KEY` and end users).
    pub key_id: Option<Uuid>,
    /// Keyed SHA-256 of the key, hex: a changed `HEIMDALL_ROOT_KEY` ends its sessions.
    pub key_hash: Option<String>,
    /// The end user, and the session the sign-in opened (revoking it ends this one).
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// Moves with use; the idle timeout counts from here.
    pub last_used_at: DateTimeUtc,
    /// The absolute end, however active the session is.
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
