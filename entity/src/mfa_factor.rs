//! A user's second factor: a TOTP authenticator (its seed sealed under the master
//! key) or a WebAuthn credential (its public key and sign count). A factor is
//! `pending` from enrolment until confirmed, then `active`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub user_id: Uuid,
    /// `totp` or `webauthn`.
    pub kind: String,
    pub name: String,
    /// `pending` or `active`.
    pub status: String,
    /// TOTP: the seed, sealed by the vault. Never returned after enrolment.
    pub secret: Option<String>,
    /// TOTP: the last time step accepted, so that no code is accepted twice.
    pub last_step: Option<i64>,
    /// WebAuthn: the credential id, base64url (unique per app).
    pub credential_id: Option<String>,
    /// WebAuthn: the stored credential (public key, counter), as webauthn-rs keeps it.
    pub credential: Option<String>,
    /// WebAuthn: the authenticator's last sign count.
    pub sign_count: i64,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
