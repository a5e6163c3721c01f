//! Invites (`hm_inv_…`): an email invited into the app with a role, optionally into
//! a tenant; expiring, limited to `max_uses`, revocable.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// Keyed SHA-256 of the token, hex.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Normalised; becomes the account's (verified) email.
    pub email: String,
    /// The app role of the new user, or the tenant role with `tenant_id`.
    pub role: String,
    pub tenant_id: Option<Uuid>,
    pub expires_at: DateTimeUtc,
    pub max_uses: i32,
    pub uses: i32,
    pub revoked_at: Option<DateTimeUtc>,
    /// The actor who created the invite (`root`, `api_key`, `end_user`, `m2m`).
    pub created_by_type: String,
    pub created_by_id: String,
    pub created_at: DateTimeUtc,
    pub last_accepted_at: Option<DateTimeUtc>,
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
