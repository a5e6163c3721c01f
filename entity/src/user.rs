//! End users of an app.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// Trimmed and lowercased; unique per app.
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    /// argon2id PHC string; `None` for users who only sign in through a provider.
    pub password_hash: Option<String>,
    /// The app-level role name.
    pub role: String,
    /// `active` or `deactivated`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_sign_in_at: Option<DateTimeUtc>,
    /// A JSON object the user may edit (`PATCH /me`); `None` is `{}`.
    pub user_metadata: Option<Json>,
    /// A JSON object only administrators write; `None` is `{}`.
    pub app_metadata: Option<Json>,
    /// The SCIM client's `externalId` of the user.
    pub external_id: Option<String>,
    /// SCIM attributes kept as the client sent them (`name`, `emails`, …).
    pub scim_attributes: Option<Json>,
    /// The language the user chose on the hosted pages (BCP 47, e.g. `de`); their
    /// mail goes out in it. `None`: the app's `default_locale`.
    pub locale: Option<String>,
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
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::app::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::App.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
