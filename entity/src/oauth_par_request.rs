//! Pushed authorization requests (RFC 9126): the parameters a client pushed, used
//! once through their `request_uri`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_par_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    pub client_id: Uuid,
    /// Keyed hash of the random part of the `request_uri`.
    pub request_hash: String,
    /// The authorization parameters, a JSON object of strings.
    pub params: Json,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When a user agent first brought the `request_uri` to the authorization
    /// endpoint; from then on it lives as long as a pending authorization request.
    pub opened_at: Option<DateTimeUtc>,
    /// When the authorization went on to a code or a consent prompt (once).
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
