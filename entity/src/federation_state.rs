//! The short-lived, single-use state of a web sign-in flow at an upstream provider:
//! the `state` and `nonce` sent upstream (stored as keyed hashes), the browser
//! binding and the sealed PKCE verifier.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub provider: String,
    /// Keyed SHA-256 of the `state` parameter, hex.
    #[sea_orm(unique)]
    pub state_hash: String,
    /// Keyed SHA-256 of the `nonce` sent upstream, hex.
    pub nonce_hash: String,
    /// Keyed SHA-256 of the browser-binding cookie, when the flow started in a browser.
    pub binding_hash: Option<String>,
    /// The PKCE `code_verifier`, sealed with the master key (generic OIDC only).
    pub code_verifier: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
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
