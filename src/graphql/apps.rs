//! Apps, their settings, app keys and signing keys.

use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
    connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{api_key, app, signing_key};
use serde_json::{Map, Value, json};

use super::{
    ContextExt,
    guards::{Authenticated, RootOnly},
    relay,
};
use crate::services::guard::{self, Lane};
use crate::{
    crypto::keys::SigningAlg,
    db::PageRequest,
    error::Error,
    services::{
        apps::{self as app_service, AppPatch, AppSettings, NewApp},
        keys,
        mfa::MfaPolicy,
        signing,
    },
};

/// An app: one product with its own users, roles, keys and settings.
pub struct App(pub app::Model);

#[Object]
impl App {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The slug: unique, immutable, part of every URL and of the token issuer.
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// The `iss` of the app's tokens; its OpenID configuration lives below it.
    async fn issuer(&self, ctx: &Context<'_>) -> String {
        ctx.state().issuer(&self.0.name)
    }

    async fn settings(&self) -> AppSettingsObject {
        AppSettingsObject(AppSettings::from_stored(&self.0.settings))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The app's keys (PAK), without their secrets.
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ApiKey>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, Some(&self.0.id.to_string())).await?;
        let had_cursor = after.is_some();
        let page =
            keys::list_app_keys(state, &admin, PageRequest::from_graphql(first, after)?).await?;
        Ok(relay::connection(page, had_cursor, |k| k.id, ApiKey))
    }

    /// Signing keys, newest first: the active key and retired ones.
    async fn signing_keys(&self, ctx: &Context<'_>) -> Result<Vec<SigningKey>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, Some(&self.0.id.to_string())).await?;
        Ok(keys::list_signing_keys(state, &admin)
            .await?
            .into_iter()
            .map(SigningKey)
            .collect())
    }
}

/// JWS algorithms for app signing keys.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SigningAlgorithm {
    #[graphql(name = "RS256")]
    Rs256,
    #[graphql(name = "ES256")]
    Es256,
    #[graphql(name = "EdDSA")]
    EdDsa,
}

impl From<SigningAlg> for SigningAlgorithm {
    fn from(alg: SigningAlg) -> Self {
        match alg {
            SigningAlg::RS256 => Self::Rs256,
            SigningAlg::ES256 => Self::Es256,
            SigningAlg::EdDSA => Self::EdDsa,
        }
    }
}

impl From<SigningAlgorithm> for SigningAlg {
    fn from(alg: SigningAlgorithm) -> Self {
        match alg {
            SigningAlgorithm::Rs256 => Self::RS256,
            SigningAlgorithm::Es256 => Self::ES256,
            SigningAlgorithm::EdDsa => Self::EdDSA,
        }
    }
}

/// The app setting `mfa_policy` (docs/src/mfa.md).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "MfaPolicy")]
pub enum MfaPolicyValue {
    /// No second factor is asked for and none can be enrolled.
    Off,
    /// Users may enrol; those who did are asked at every sign-in.
    Optional,
    /// Every sign-in needs a second factor; users without one enrol first.
    Required,
}

impl From<MfaPolicy> for MfaPolicyValue {
    fn from(policy: MfaPolicy) -> Self {
        match policy {
            MfaPolicy::Off => Self::Off,
            MfaPolicy::Optional => Self::Optional,
            MfaPolicy::Required => Self::Required,
        }
    }
}

impl From<MfaPolicyValue> for MfaPolicy {
    fn from(policy: MfaPolicyValue) -> Self {
        match policy {
            MfaPolicyValue::Off => Self::Off,
            MfaPolicyValue::Optional => Self::Optional,
            MfaPolicyValue::Required => Self::Required,
        }
    }
}

/// App settings.
pub struct AppSettingsObject(AppSettings);

#[Object(name = "AppSettings")]
impl AppSettingsObject {
    /// Lifetime of end-user access tokens, in seconds.
    async fn access_token_ttl(&self) -> i64 {
        self.0.access_token_ttl
    }
    /// Lifetime of refresh tokens, in seconds.
    async fn refresh_token_ttl(&self) -> i64 {
        self.0.refresh_token_ttl
    }
    async fn signup_enabled(&self) -> bool {
        self.0.signup_enabled
    }
    async fn password_min_length(&self) -> u32 {
        self.0.password_min_length
    }
    /// Refuse sign-in until the email address is verified.
    async fn require_verified_email(&self) -> bool {
        self.0.require_verified_email
    }
    /// The role given to new users.
    async fn default_role(&self) -> &str {
        &self.0.default_role
    }
    /// Browser origins allowed to call the consumer API (CORS).
    async fn allowed_origins(&self) -> &[String] {
        &self.0.allowed_origins
    }
    /// A custom login page used instead of Heimdall's hosted one.
    async fn login_url(&self) -> Option<&str> {
        self.0.login_url.as_deref()
    }
    /// Template of invite links, containing `{token}`.
    async fn invite_url_template(&self) -> Option<&str> {
        self.0.invite_url_template.as_deref()
    }
    /// Base URL of links in Heimdall-sent mail.
    async fn email_link_base(&self) -> Option<&str> {
        self.0.email_link_base.as_deref()
    }
    /// Algorithm of the signing key; changing it rotates the key.
    async fn signing_alg(&self) -> SigningAlgorithm {
        self.0.signing_alg.into()
    }
    /// Whether end-user access tokens carry the flat `permissions` claim.
    async fn embed_permissions(&self) -> bool {
        self.0.embed_permissions
    }
    /// Whether users may or must enrol a second factor.
    async fn mfa_policy(&self) -> MfaPolicyValue {
        self.0.mfa_policy.into()
    }
    /// The look of the hosted pages.
    async fn branding(&self) -> BrandingObject {
        self.0.branding.clone().into()
    }
    /// The language of the hosted pages and mail when neither the browser nor the
    /// user names a supported one (BCP 47, e.g. `de`); null: English.
    async fn default_locale(&self) -> Option<&str> {
        self.0.default_locale.as_deref()
    }
}

/// The look of an app's hosted pages; unset parts keep Heimdall's default.
#[derive(SimpleObject)]
#[graphql(name = "Branding")]
pub struct BrandingObject {
    /// An https URL or a path on Heimdall's origin.
    logo_url: Option<String>,
    /// `#rrggbb` of buttons; their text is black or white, whichever reads better.
    primary_color: Option<String>,
    /// `#rrggbb` behind the card.
    background_color: Option<String>,
    /// Shown in titles, headings and mail instead of the app's display name.
    product_name: Option<String>,
    /// A style sheet loaded after Heimdall's (https or same-origin).
    custom_css_url: Option<String>,
}

impl From<app_service::Branding> for BrandingObject {
    fn from(b: app_service::Branding) -> Self {
        Self {
            logo_url: b.logo_url,
            primary_color: b.primary_color,
            background_color: b.background_color,
            product_name: b.product_name,
            custom_css_url: b.custom_css_url,
        }
    }
}

/// Branding to change: omitted fields keep their value, `null` clears one.
#[derive(InputObject, Default)]
pub struct BrandingInput {
    pub logo_url: MaybeUndefined<String>,
    pub primary_color: MaybeUndefined<String>,
    pub background_color: MaybeUndefined<String>,
    pub product_name: MaybeUndefined<String>,
    pub custom_css_url: MaybeUndefined<String>,
}

impl BrandingInput {
    /// The JSON merge patch the REST API takes for `branding`.
    fn to_patch(&self) -> Value {
        let mut patch = Map::new();
        for (key, value) in [
            ("logo_url", &self.logo_url),
            ("primary_color", &self.primary_color),
            ("background_color", &self.background_color),
            ("product_name", &self.product_name),
            ("custom_css_url", &self.custom_css_url),
        ] {
            match value {
                MaybeUndefined::Undefined => {}
                MaybeUndefined::Null => {
                    patch.insert(key.to_owned(), Value::Null);
                }
                MaybeUndefined::Value(v) => {
                    patch.insert(key.to_owned(), json!(v));
                }
            }
        }
        Value::Object(patch)
    }
}

/// Settings to change; omitted fields keep their value, `null` clears optional ones.
#[derive(InputObject, Default)]
pub struct AppSettingsInput {
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub signup_enabled: Option<bool>,
    pub password_min_length: Option<u32>,
    pub require_verified_email: Option<bool>,
    pub default_role: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub login_url: MaybeUndefined<String>,
    pub invite_url_template: MaybeUndefined<String>,
    pub email_link_base: MaybeUndefined<String>,
    pub signing_alg: Option<SigningAlgorithm>,
    pub embed_permissions: Option<bool>,
    pub mfa_policy: Option<MfaPolicyValue>,
    /// Merged into the current branding.
    pub branding: Option<BrandingInput>,
    pub default_locale: MaybeUndefined<String>,
}

impl AppSettingsInput {
    /// The same partial-update object the REST API takes.
    fn to_patch(&self) -> Map<String, Value> {
        let mut patch = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                patch.insert(key.to_owned(), value);
            }
        };
        put("access_token_ttl", self.access_token_ttl.map(|v| json!(v)));
        put(
            "refresh_token_ttl",
            self.refresh_token_ttl.map(|v| json!(v)),
        );
        put("signup_enabled", self.signup_enabled.map(|v| json!(v)));
        put(
            "password_min_length",
            self.password_min_length.map(|v| json!(v)),
        );
        put(
            "require_verified_email",
            self.require_verified_email.map(|v| json!(v)),
        );
        put("default_role", self.default_role.as_ref().map(|v| json!(v)));
        put(
            "allowed_origins",
            self.allowed_origins.as_ref().map(|v| json!(v)),
        );
        for (key, value) in [
            ("login_url", &self.login_url),
            ("invite_url_template", &self.invite_url_template),
            ("email_link_base", &self.email_link_base),
            ("default_locale", &self.default_locale),
        ] {
            match value {
                MaybeUndefined::Undefined => {}
                MaybeUndefined::Null => put(key, Some(Value::Null)),
                MaybeUndefined::Value(v) => put(key, Some(json!(v))),
            }
        }
        put(
            "signing_alg",
            self.signing_alg
                .map(|alg| json!(SigningAlg::from(alg).as_str())),
        );
        put(
            "embed_permissions",
            self.embed_permissions.map(|v| json!(v)),
        );
        put(
            "mfa_policy",
            self.mfa_policy.map(|v| json!(MfaPolicy::from(v))),
        );
        put(
            "branding",
            self.branding.as_ref().map(BrandingInput::to_patch),
        );
        patch
    }
}

#[derive(InputObject)]
pub struct CreateAppInput {
    /// The slug: `^[a-z0-9][a-z0-9-]{1,62}$`.
    pub name: String,
    pub display_name: Option<String>,
    pub settings: Option<AppSettingsInput>,
}

#[derive(InputObject, Default)]
pub struct UpdateAppInput {
    pub display_name: Option<String>,
    pub settings: Option<AppSettingsInput>,
}

/// An app key (PAK). The secret is only ever shown in `CreateApiKeyPayload`.
pub struct ApiKey(pub api_key::Model);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The last four characters of the key.
    async fn hint(&self) -> &str {
        &self.0.hint
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Updated at most once a minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: ApiKey,
    /// The key (`hm_pak_…`). Shown once: store it now.
    pub key: String,
}

/// A token signing key.
pub struct SigningKey(pub signing_key::Model);

#[Object]
impl SigningKey {
    /// The JWK `kid`.
    async fn kid(&self) -> &str {
        &self.0.id
    }
    async fn alg(&self) -> &str {
        &self.0.alg
    }
    /// `active` signs new tokens; `retired` keys stay published until `publishUntil`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.0.retired_at
    }
    async fn publish_until(&self) -> Option<DateTime<Utc>> {
        self.0.publish_until
    }
    /// The public JWK as published in the JWKS.
    async fn public_jwk(&self) -> Option<async_graphql::Json<Value>> {
        signing::public_jwk(&self.0).map(async_graphql::Json)
    }
}

#[derive(Default)]
pub struct AppQuery;

#[Object]
impl AppQuery {
    /// Apps the caller administers: all of them for a root key, its own for an app key.
    #[graphql(guard = "Authenticated")]
    async fn apps(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, App>> {
        let had_cursor = after.is_some();
        let page = app_service::list(
            ctx.state(),
            ctx.principal()?,
            PageRequest::from_graphql(first, after)?,
        )
        .await?;
        Ok(relay::connection(page, had_cursor, |a| a.id, App))
    }

    /// One app, by slug or id; an app key's own app when omitted.
    #[graphql(guard = "Authenticated")]
    async fn app(&self, ctx: &Context<'_>, name: Option<String>) -> Result<Option<App>> {
        let admin = super::app_admin(ctx, name.as_deref()).await?;
        Ok(Some(App(admin.app().clone())))
    }
}

#[derive(Default)]
pub struct AppMutation;

#[Object]
impl AppMutation {
    /// Creates an app and its first signing key (root key only).
    #[graphql(guard = "RootOnly")]
    async fn create_app(&self, ctx: &Context<'_>, input: CreateAppInput) -> Result<App> {
        let root = guard::root(ctx.principal()?)?;
        let app = app_service::create(
            ctx.state(),
            &root,
            NewApp {
                name: input.name,
                display_name: input.display_name,
                settings: input.settings.as_ref().map(AppSettingsInput::to_patch),
            },
            ctx.meta(),
        )
        .await?;
        Ok(App(app))
    }

    /// Updates an app's display name and settings.
    #[graphql(guard = "Authenticated")]
    async fn update_app(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
        input: UpdateAppInput,
    ) -> Result<App> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, name.as_deref()).await?;
        let app = app_service::update(
            state,
            &admin,
            AppPatch {
                name: None,
                display_name: input.display_name,
                settings: input.settings.as_ref().map(AppSettingsInput::to_patch),
            },
            ctx.meta(),
        )
        .await?;
        Ok(App(app))
    }

    /// Deletes an app and everything in it (root key only).
    #[graphql(guard = "RootOnly")]
    async fn delete_app(&self, ctx: &Context<'_>, name: String) -> Result<bool> {
        let state = ctx.state();
        let principal = ctx.principal()?;
        let admin = guard::app_admin(state, principal, Lane::GraphQl, Some(&name)).await?;
        app_service::delete(state, &guard::root(principal)?, admin.app()).await?;
        Ok(true)
    }

    /// Creates an app key (PAK). The key is returned once.
    #[graphql(guard = "Authenticated")]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        name: Option<String>,
    ) -> Result<CreateApiKeyPayload> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let (model, key) = keys::create_app_key(
            state,
            &admin,
            name.as_deref().unwrap_or("default"),
            ctx.meta(),
        )
        .await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(model),
            key,
        })
    }

    /// Revokes an app key.
    #[graphql(guard = "Authenticated")]
    async fn revoke_api_key(&self, ctx: &Context<'_>, app: Option<String>, id: ID) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let id = uuid::Uuid::parse_str(&id).map_err(|_| Error::not_found("api key not found"))?;
        keys::revoke_app_key(state, &admin, id, ctx.meta()).await?;
        Ok(true)
    }

    /// Rotates the app's signing key; the previous key stays published for 7 days.
    #[graphql(guard = "Authenticated")]
    async fn rotate_signing_key(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
    ) -> Result<SigningKey> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(SigningKey(
            keys::rotate_signing_key(state, &admin, None, ctx.meta()).await?,
        ))
    }
}
