//! A short-lived step of multi-factor authentication: the `hm_mfa_` token of a
//! two-step sign-in (stored hashed, single use, bound to app and user), or the state
//! of a WebAuthn ceremony between its start and finish.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_challenges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// The user; `None` for a passwordless passkey sign-in before it is finished.
    pub user_id: Option<Uuid>,
    /// `signin`, `enrollment` (a sign-in that must enrol a factor first),
    /// `webauthn_registration` or `passkey`.
    pub kind: String,
    /// Keyed hash of the `hm_mfa_` token (sign-ins only).
    #[sea_orm(unique)]
    pub token_hash: Option<String>,
    /// The tenant the sign-in asked for.
    pub tenant_id: Option<Uuid>,
    /// How the first step authenticated (RFC 8176 values).
    pub amr: Option<Json>,
    /// The WebAuthn ceremony state (webauthn-rs), between start and finish.
    pub state: Option<String>,
    /// The factor a WebAuthn registration creates.
    pub factor_id: Option<Uuid>,
    /// Wrong codes so far; five end the challenge.
    pub failures: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
