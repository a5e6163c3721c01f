//! Third-party OAuth clients ("Sign in with <App>"). The `id` is the `client_id`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub app_id: Uuid,
    /// The end user who registered it; `None` for clients made by app administrators.
    pub owner_id: Option<Uuid>,
    pub name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub homepage_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
    /// JSON array of exact redirect URIs.
    pub redirect_uris: Json,
    /// JSON array of scopes the client may request.
    pub allowed_scopes: Json,
    /// `confidential` or `public`.
    pub client_type: String,
    /// Keyed SHA-256 of the secret (confidential clients).
    pub secret_hash: Option<String>,
    /// The secret sealed with the master key, kept only for HS256 ID tokens.
    pub sealed_secret: Option<String>,
    /// `HS256` to sign ID tokens with the client secret; `None` for the app's key.
    pub id_token_signed_response_alg: Option<String>,
    pub is_active: bool,
    pub is_first_party: bool,
    /// JSON array of exact URIs the browser may be sent to after RP-Initiated
    /// Logout; `None` is none.
    pub post_logout_redirect_uris: Option<Json>,
    /// OpenID Connect Back-Channel Logout: where a signed `logout_token` is POSTed
    /// when a session the client signed in to ends.
    pub backchannel_logout_uri: Option<String>,
    /// Whether the client needs `sid` in logout tokens (they always carry it).
    pub backchannel_logout_session_required: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2).
    pub dpop_bound_access_tokens: bool,
    /// Token exchange policy (RFC 8693): `{"allowed": bool, "audiences": [...]}`;
    /// `None`: not allowed.
    pub token_exchange: Option<Json>,
    /// `public` (the user's id) or `pairwise` (OIDC Core §8).
    pub subject_type: String,
    /// Where the client lists its redirect URIs, for a pairwise sector spanning
    /// several hosts (OIDC Core §8.1).
    pub sector_identifier_uri: Option<String>,
    /// A pairwise client's sector (a host name), fixed at registration.
    pub sector_identifier: Option<String>,
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
