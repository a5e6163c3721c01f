//! Apps and their settings.

use std::{sync::Arc, time::Duration};

use entity::app;
use moka::future::Cache;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    access::{AppAdmin, Principal, RootAccess},
    crypto::keys::SigningAlg,
    db::{self, Db, Page, PageRequest},
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        validate,
    },
    state::AppState,
};

/// App settings (docs/src/apps-and-keys.md). Stored as JSON; fields added later default on read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// Lifetime of end-user access tokens, seconds.
    pub access_token_ttl: i64,
    /// Lifetime of refresh tokens, seconds.
    pub refresh_token_ttl: i64,
    pub signup_enabled: bool,
    pub password_min_length: u32,
    pub require_verified_email: bool,
    /// Role given to new users.
    pub default_role: String,
    /// Origins allowed to call the consumer lane from a browser (CORS).
    pub allowed_origins: Vec<String>,
    /// A custom login page; unset means Heimdall's hosted page.
    pub login_url: Option<String>,
    /// e.g. `https://app.example.com/join?token={token}`.
    pub invite_url_template: Option<String>,
    /// Base URL of links in Heimdall-sent mail.
    pub email_link_base: Option<String>,
    /// Algorithm of the app's signing key; changing it rotates to a new key.
    pub signing_alg: SigningAlg,
    /// Add the flat effective `permissions` to end-user access tokens.
    pub embed_permissions: bool,
    /// Lifetime of email-verification tokens (`hm_ev_`), seconds.
    pub email_verification_ttl: i64,
    /// Lifetime of password-reset tokens (`hm_pr_`), seconds.
    pub password_reset_ttl: i64,
    /// Link of password-reset mail, e.g. `https://app.example.com/reset?token={token}`;
    /// unset: `{email_link_base}/reset-password?token=…`, by default Heimdall's page.
    pub password_reset_url_template: Option<String>,
    /// Link of verification mail, e.g. `https://app.example.com/verify?token={token}`;
    /// unset: `{email_link_base}/verify-email?token=…`, by default Heimdall's page.
    pub email_verification_url_template: Option<String>,
    /// Subject and bodies of Heimdall-sent mail (`{{link}}`, `{{app_name}}`,
    /// `{{display_name}}`); unset parts use the built-in defaults.
    pub mail_templates: crate::services::mail::MailTemplates,
    /// Days audit entries are kept; older ones are removed by the retention task.
    pub audit_retention_days: u32,
    /// `off`, `optional` (users may enrol a second factor) or `required` (every
    /// sign-in needs one); docs/src/mfa.md.
    pub mfa_policy: crate::services::mfa::MfaPolicy,
    /// Dynamic client registration (RFC 7591): `off`, `open` or `token`
    /// (docs/src/oauth-extensions.md).
    pub dynamic_registration: crate::services::oauth::registration::DynamicRegistration,
    /// Every authorization request must be pushed first (RFC 9126).
    pub require_pushed_authorization_requests: bool,
    /// Sign-up of an email that already has an account answers like a new one
    /// ("check your mail") and mails the owner instead (docs/src/hosted-pages.md).
    pub signup_conceals_existing: bool,
    /// Claims copied from metadata into end-user access tokens and ID tokens,
    /// e.g. `{"plan": "app_metadata.plan"}`; never a registered claim
    /// (docs/src/importing-users-and-scim.md).
    pub token_claims: std::collections::BTreeMap<String, String>,
    /// DPoP proofs must carry a server nonce (RFC 9449 §8, `DPoP-Nonce`;
    /// docs/src/oauth-extensions.md#dpop).
    pub dpop_nonce_required: bool,
    /// The look of the hosted pages (docs/src/hosted-pages.md#branding).
    pub branding: Branding,
    /// The language of the hosted pages and mail when neither the request nor the
    /// user names a supported one (BCP 47, e.g. `de`); unset: English.
    pub default_locale: Option<String>,
}

/// The app setting `branding`: every part optional (unset: Heimdall's default look).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Branding {
    /// An https URL or a path on Heimdall's origin (`/static/logo.svg`).
    pub logo_url: Option<String>,
    /// `#rrggbb`: buttons (their text black or white, whichever reads better).
    pub primary_color: Option<String>,
    /// `#rrggbb`: the page behind the card (light mode).
    pub background_color: Option<String>,
    /// Shown in titles, headings and mail instead of the app's display name.
    pub product_name: Option<String>,
    /// A style sheet loaded after Heimdall's (https or same-origin).
    pub custom_css_url: Option<String>,
}

const BRANDING_KEYS: [&str; 5] = [
    "logo_url",
    "primary_color",
    "background_color",
    "product_name",
    "custom_css_url",
];

impl Branding {
    fn validate(&mut self) -> Result<()> {
        for (field, url) in [
            ("logo_url", &mut self.logo_url),
            ("custom_css_url", &mut self.custom_css_url),
        ] {
            if let Some(value) = url.take() {
                *url = brand_url(&format!("settings.branding.{field}"), &value)?;
            }
        }
        for (field, color) in [
            ("primary_color", &mut self.primary_color),
            ("background_color", &mut self.background_color),
        ] {
            if let Some(value) = color.take() {
                let value = value.trim().to_ascii_lowercase();
                let ok = value.len() == 7
                    && value.starts_with('#')
                    && value[1..].bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return Err(Error::invalid_field(
                        &format!("settings.branding.{field}"),
                        "must be a colour #rrggbb",
                    ));
                }
                *color = Some(value);
            }
        }
        if let Some(name) = self.product_name.take() {
            self.product_name = Some(validate::display_text(
                "settings.branding.product_name",
                &name,
                100,
            )?);
        }
        Ok(())
    }
}

/// A branding URL: `https://…` (no credentials, no fragment) or a path on
/// Heimdall's own origin (`/…`, not `//…`); at most 2048 characters and nothing a
/// Content-Security-Policy source could not carry. Empty clears it.
fn brand_url(field: &str, value: &str) -> Result<Option<String>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid =
        || Error::invalid_field(field, "must be an https URL or a path on this server (/…)");
    if value.len() > 2048
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
        || value.contains([';', ',', '\'', '"', '\\'])
    {
        return Err(invalid());
    }
    if value.starts_with('/') {
        if value.starts_with("//") {
            return Err(invalid());
        }
        return Ok(Some(value.to_owned()));
    }
    let url = url::Url::parse(value).map_err(|_| invalid())?;
    if url.scheme() != "https"
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid());
    }
    Ok(Some(url.to_string()))
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            signup_enabled: true,
            password_min_length: 10,
            require_verified_email: false,
            default_role: "member".into(),
            allowed_origins: Vec::new(),
            login_url: None,
            invite_url_template: None,
            email_link_base: None,
            signing_alg: SigningAlg::RS256,
            embed_permissions: false,
            email_verification_ttl: 24 * 3600,
            password_reset_ttl: 3600,
            password_reset_url_template: None,
            email_verification_url_template: None,
            mail_templates: crate::services::mail::MailTemplates::default(),
            audit_retention_days: 365,
            mfa_policy: crate::services::mfa::MfaPolicy::Optional,
            dynamic_registration: Default::default(),
            require_pushed_authorization_requests: false,
            signup_conceals_existing: false,
            token_claims: std::collections::BTreeMap::new(),
            dpop_nonce_required: false,
            branding: Branding::default(),
            default_locale: None,
        }
    }
}

pub const ACCESS_TTL_RANGE: (i64, i64) = (60, 24 * 3600);
pub const REFRESH_TTL_RANGE: (i64, i64) = (300, 365 * 24 * 3600);
pub const PASSWORD_MIN_RANGE: (u32, u32) = (8, 128);
pub const EMAIL_VERIFICATION_TTL_RANGE: (i64, i64) = (300, 30 * 24 * 3600);
pub const PASSWORD_RESET_TTL_RANGE: (i64, i64) = (300, 7 * 24 * 3600);
pub const AUDIT_RETENTION_RANGE: (i64, i64) = (1, 3650);

impl AppSettings {
    /// Reads stored settings leniently: unknown keys are ignored, missing ones default.
    pub fn from_stored(value: &Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    /// Applies a partial update (a JSON object of setting → value) and validates the
    /// result. Unknown settings and wrongly typed values are a 400 naming the field.
    pub fn merged(&self, patch: &Map<String, Value>) -> Result<Self> {
        let Value::Object(mut current) = serde_json::to_value(self).map_err(Error::internal)?
        else {
            return Err(Error::internal("settings are not an object"));
        };
        for (key, value) in patch {
            let Some(existing) = current.get(key) else {
                return Err(Error::invalid_field(
                    &format!("settings.{key}"),
                    "is not a known setting",
                ));
            };
            // Object-valued settings (mail templates) merge like a JSON merge patch.
            let value = &if value.is_null() && existing.is_object() {
                Value::Object(Map::new())
            } else {
                merge_patch(existing, value)
            };
            if key == "mail_templates" {
                crate::services::mail::check_template_keys("settings.mail_templates", value)?;
            }
            if key == "branding"
                && let Some(unknown) = value
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .find(|k| !BRANDING_KEYS.contains(&k.as_str()))
            {
                return Err(Error::invalid_field(
                    &format!("settings.branding.{unknown}"),
                    "is not a branding setting (logo_url, primary_color, background_color, \
                     product_name, custom_css_url)",
                ));
            }
            // Validate each value on its own so the error names the right field.
            let mut probe = current.clone();
            probe.insert(key.clone(), value.clone());
            if let Err(e) = serde_json::from_value::<AppSettings>(Value::Object(probe)) {
                let message = e.to_string();
                let message = message
                    .split(" at line")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                return Err(Error::invalid_field(&format!("settings.{key}"), message));
            }
            current.insert(key.clone(), value.clone());
        }
        let settings: AppSettings = serde_json::from_value(Value::Object(current))
            .map_err(|e| Error::invalid(e.to_string()))?;
        settings.validated()
    }

    fn validated(mut self) -> Result<Self> {
        let range = |field: &str, value: i64, (lo, hi): (i64, i64)| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(Error::invalid_field(
                    &format!("settings.{field}"),
                    format!("must be between {lo} and {hi}"),
                ))
            }
        };
        range("access_token_ttl", self.access_token_ttl, ACCESS_TTL_RANGE)?;
        range(
            "refresh_token_ttl",
            self.refresh_token_ttl,
            REFRESH_TTL_RANGE,
        )?;
        range(
            "password_min_length",
            i64::from(self.password_min_length),
            (
                i64::from(PASSWORD_MIN_RANGE.0),
                i64::from(PASSWORD_MIN_RANGE.1),
            ),
        )?;
        if self.allowed_origins.len() > 50 {
            return Err(Error::invalid_field(
                "settings.allowed_origins",
                "at most 50 origins",
            ));
        }
        self.allowed_origins = self
            .allowed_origins
            .iter()
            .map(|o| validate::origin("settings.allowed_origins", o))
            .collect::<Result<_>>()?;
        if let Some(url) = &self.login_url {
            validate::http_url("settings.login_url", url)?;
        }
        if let Some(url) = &self.email_link_base {
            validate::http_url("settings.email_link_base", url)?;
        }
        for (field, template) in [
            ("invite_url_template", &self.invite_url_template),
            (
                "password_reset_url_template",
                &self.password_reset_url_template,
            ),
            (
                "email_verification_url_template",
                &self.email_verification_url_template,
            ),
        ] {
            let Some(template) = template else { continue };
            let field = format!("settings.{field}");
            if !template.contains("{token}") {
                return Err(Error::invalid_field(&field, "must contain {token}"));
            }
            validate::http_url(&field, &template.replace("{token}", "t"))?;
        }
        range(
            "email_verification_ttl",
            self.email_verification_ttl,
            EMAIL_VERIFICATION_TTL_RANGE,
        )?;
        range(
            "password_reset_ttl",
            self.password_reset_ttl,
            PASSWORD_RESET_TTL_RANGE,
        )?;
        range(
            "audit_retention_days",
            i64::from(self.audit_retention_days),
            AUDIT_RETENTION_RANGE,
        )?;
        self.mail_templates.validate("settings.mail_templates")?;
        self.branding.validate()?;
        if let Some(locale) = self.default_locale.take() {
            let locale = locale.trim().to_owned();
            if !locale.is_empty() {
                if !crate::i18n::is_language_tag(&locale) {
                    return Err(Error::invalid_field(
                        "settings.default_locale",
                        "must be a language tag such as en, de, fr or es",
                    ));
                }
                self.default_locale = Some(locale);
            }
        }
        validate::role_name("settings.default_role", &self.default_role)?;
        crate::services::metadata::check_token_claims("settings.token_claims", &self.token_claims)?;
        Ok(self)
    }
}

/// RFC 7396 JSON merge patch of `patch` onto `current` when both are objects
/// (`null` removes a key); any other patch value replaces the current one.
fn merge_patch(current: &Value, patch: &Value) -> Value {
    match (current, patch) {
        (Value::Object(current), Value::Object(patch)) => {
            let mut merged = current.clone();
            for (key, value) in patch {
                if value.is_null() {
                    merged.remove(key);
                } else {
                    let next = merge_patch(merged.get(key).unwrap_or(&Value::Null), value);
                    merged.insert(key.clone(), next);
                }
            }
            Value::Object(merged)
        }
        _ => patch.clone(),
    }
}

/// A create request.
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub name: String,
    pub display_name: Option<String>,
    pub settings: Option<Map<String, Value>>,
}

/// An update request.
#[derive(Debug, Clone, Default)]
pub struct AppPatch {
    /// Never accepted (the slug is part of the issuer); present so that asking for
    /// it gets a clear error.
    pub name: Option<Value>,
    pub display_name: Option<String>,
    pub settings: Option<Map<String, Value>>,
}

/// An app's parsed settings, shared.
#[derive(Clone, Debug)]
pub struct ParsedSettings(Arc<(Value, AppSettings)>);

impl std::ops::Deref for ParsedSettings {
    type Target = AppSettings;

    fn deref(&self) -> &AppSettings {
        &self.0.1
    }
}

/// Short-lived per-instance cache of apps by id and by slug, invalidated on write.
#[derive(Clone)]
pub struct AppCache {
    db: Db,
    bus: crate::services::bus::Bus,
    by_id: Cache<Uuid, Arc<app::Model>>,
    by_name: Cache<String, Arc<app::Model>>,
    /// Every origin that some app lists in `allowed_origins` (one entry, `()`).
    origins: Cache<(), Arc<std::collections::HashSet<String>>>,
    /// Parsed settings by app, with the stored JSON they were parsed from: hot
    /// paths compare (cheap) instead of parsing per request.
    settings: Cache<Uuid, Arc<(Value, AppSettings)>>,
}

impl AppCache {
    pub fn new(db: Db, bus: crate::services::bus::Bus) -> Self {
        Self {
            db,
            bus,
            by_id: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(30))
                .build(),
            by_name: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(30))
                .build(),
            origins: Cache::builder()
                .max_capacity(1)
                .time_to_live(Duration::from_secs(30))
                .build(),
            settings: Cache::builder().max_capacity(10_000).build(),
        }
    }

    /// The app's settings, parsed once per stored version.
    pub async fn settings(&self, app: &app::Model) -> ParsedSettings {
        if let Some(hit) = self.settings.get(&app.id).await
            && hit.0 == app.settings
        {
            return ParsedSettings(hit);
        }
        let parsed = Arc::new((
            app.settings.clone(),
            AppSettings::from_stored(&app.settings),
        ));
        self.settings.insert(app.id, parsed.clone()).await;
        ParsedSettings(parsed)
    }

    /// Whether any app lists `origin` in `allowed_origins`: the CORS rule of routes
    /// that belong to no one app (`/graphql`, accepting an invite). The set is read
    /// in one query and cached, so that unknown origins cannot cost a query each.
    pub async fn origin_allowed_anywhere(&self, origin: &str) -> Result<bool> {
        let db = self.db.clone();
        let origins = self
            .origins
            .try_get_with((), async move {
                let settings: Vec<Value> = app::Entity::find()
                    .select_only()
                    .column(app::Column::Settings)
                    .into_tuple()
                    .all(&*db)
                    .await?;
                let all = settings
                    .iter()
                    .flat_map(|stored| AppSettings::from_stored(stored).allowed_origins)
                    .collect();
                Ok::<_, Error>(Arc::new(all))
            })
            .await
            .map_err(|e| Error::internal(format!("reading allowed origins: {e}")))?;
        Ok(origins.contains(origin))
    }

    pub async fn by_id(&self, id: Uuid) -> Result<Option<Arc<app::Model>>> {
        let cached = self.by_id.get(&id).await;
        crate::services::observe::cache("apps", cached.is_some());
        if let Some(app) = cached {
            return Ok(Some(app));
        }
        let found = app::Entity::find_by_id(id).one(&*self.db).await?;
        Ok(self.remember(found).await)
    }

    pub async fn by_name(&self, name: &str) -> Result<Option<Arc<app::Model>>> {
        let cached = self.by_name.get(name).await;
        crate::services::observe::cache("apps", cached.is_some());
        if let Some(app) = cached {
            return Ok(Some(app));
        }
        // A string that cannot be a slug names no app; it never reaches the database
        // (PostgreSQL would refuse NUL bytes, SQLite would not).
        if !validate::is_slug_shaped(name) {
            return Ok(None);
        }
        let found = app::Entity::find()
            .filter(app::Column::Name.eq(name))
            .one(&*self.db)
            .await?;
        Ok(self.remember(found).await)
    }

    /// An app by id (uuid form) or by slug.
    pub async fn resolve(&self, reference: &str) -> Result<Option<Arc<app::Model>>> {
        match Uuid::parse_str(reference) {
            Ok(id) => self.by_id(id).await,
            Err(_) => self.by_name(reference).await,
        }
    }

    async fn remember(&self, found: Option<app::Model>) -> Option<Arc<app::Model>> {
        let app = Arc::new(found?);
        self.by_id.insert(app.id, app.clone()).await;
        self.by_name.insert(app.name.clone(), app.clone()).await;
        Some(app)
    }

    /// Drops the app here and on every other instance.
    pub async fn invalidate(&self, app: &app::Model) {
        self.apply(app.id, &app.name).await;
        self.bus.publish(crate::services::bus::Change::App {
            id: app.id,
            name: app.name.clone(),
        });
    }

    /// Another instance changed this app.
    pub async fn apply(&self, id: Uuid, name: &str) {
        self.by_id.invalidate(&id).await;
        self.by_name.invalidate(name).await;
        self.origins.invalidate_all();
    }

    pub fn flush(&self) {
        self.by_id.invalidate_all();
        self.by_name.invalidate_all();
        self.origins.invalidate_all();
    }
}

/// Creates an app and its first signing key (root only).
pub async fn create(
    state: &AppState,
    root: &RootAccess,
    input: NewApp,
    meta: &RequestMeta,
) -> Result<app::Model> {
    validate::slug("name", &input.name)?;
    let display_name = match &input.display_name {
        Some(d) => validate::display_text("display_name", d, 200)?,
        None => input.name.clone(),
    };
    let settings = match &input.settings {
        Some(patch) => AppSettings::default().merged(patch)?,
        None => AppSettings::default(),
    };
    // A new app's catalogue holds only the system roles.
    if crate::services::permissions::system_role(&settings.default_role).is_none() {
        return Err(Error::invalid_field(
            "settings.default_role",
            format!(
                "unknown role '{}': a new app has only the system roles (owner, admin, developer, member)",
                settings.default_role
            ),
        ));
    }
    let generated = state.signing.generate(settings.signing_alg).await?;
    let now = state.now();
    let id = db::new_id();
    let txn = state.db.begin_write().await?;
    let app = app::ActiveModel {
        id: Set(id),
        name: Set(input.name.clone()),
        display_name: Set(display_name),
        settings: Set(serde_json::to_value(&settings).map_err(Error::internal)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(format!(
        "an app named '{}' already exists",
        input.name
    )))?;
    state.signing.insert_active(&txn, id, generated).await?;
    crate::services::roles::create_system_roles(&txn, state, id).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(id, "app.created", root.actor().clone())
            .target(Target::new("app", id))
            .metadata(serde_json::json!({ "name": app.name })),
    )
    .await?;
    state.apps.invalidate(&app).await;
    Ok(app)
}

/// Lists the apps the principal may administer: every app for root, its own for a PAK.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    page: PageRequest,
) -> Result<Page<app::Model>> {
    match principal {
        Principal::Root { .. } => {
            db::paginate(
                &*state.db,
                app::Entity::find(),
                app::Column::Id,
                page,
                |m| m.id,
            )
            .await
        }
        Principal::AppKey { app_id, .. } => {
            let select = app::Entity::find().filter(app::Column::Id.eq(*app_id));
            db::paginate(&*state.db, select, app::Column::Id, page, |m| m.id).await
        }
        _ => Err(Error::forbidden(
            "listing apps requires a root key or an app key",
        )),
    }
}

/// Every app, one page at a time (root: the admin command line).
pub async fn list_all(
    state: &AppState,
    _root: &RootAccess,
    page: PageRequest,
) -> Result<Page<app::Model>> {
    db::paginate(
        &*state.db,
        app::Entity::find(),
        app::Column::Id,
        page,
        |m| m.id,
    )
    .await
}

/// Updates the display name and/or merges settings. Changing `signing_alg` rotates
/// the signing key in the same transaction.
pub async fn update(
    state: &AppState,
    admin: &AppAdmin,
    patch: AppPatch,
    meta: &RequestMeta,
) -> Result<app::Model> {
    if patch.name.is_some() {
        return Err(Error::invalid_field(
            "name",
            "cannot be changed: it is part of the app's token issuer",
        ));
    }
    let current = admin.app();
    let mut changed: Vec<String> = Vec::new();
    let old_settings = AppSettings::from_stored(&current.settings);
    let mut model: app::ActiveModel = current.clone().into();
    if let Some(display_name) = &patch.display_name {
        let display_name = validate::display_text("display_name", display_name, 200)?;
        if display_name != current.display_name {
            changed.push("display_name".into());
        }
        model.display_name = Set(display_name);
    }
    let mut rotate_to = None;
    if let Some(settings_patch) = &patch.settings {
        let settings = old_settings.merged(settings_patch)?;
        if settings.default_role != old_settings.default_role {
            crate::services::roles::require_existing(
                &*state.db,
                current.id,
                "settings.default_role",
                &settings.default_role,
            )
            .await?;
        }
        if settings.signing_alg != old_settings.signing_alg {
            rotate_to = Some(settings.signing_alg);
        }
        let new_value = serde_json::to_value(&settings).map_err(Error::internal)?;
        let old_value = serde_json::to_value(&old_settings).map_err(Error::internal)?;
        if let (Value::Object(new), Value::Object(old)) = (&new_value, &old_value) {
            changed.extend(
                new.iter()
                    .filter(|(k, v)| old.get(*k) != Some(*v))
                    .map(|(k, _)| format!("settings.{k}")),
            );
        }
        model.settings = Set(new_value);
    }
    model.updated_at = Set(state.now());
    let generated = match rotate_to {
        Some(alg) => Some(state.signing.generate(alg).await?),
        None => None,
    };
    let txn = state.db.begin_write().await?;
    let updated = model.update(&txn).await?;
    let new_kid = generated.as_ref().map(|g| g.kid.clone());
    let rotated = match generated {
        Some(generated) => Some(state.signing.rotate_in(&txn, current.id, generated).await?),
        None => None,
    };
    if !changed.is_empty() {
        // Names of what changed only: values can be long (mail templates).
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(current.id, "app.updated", admin.actor().clone())
                .target(Target::new("app", current.id))
                .metadata(serde_json::json!({ "changed": changed })),
        )
        .await?;
    }
    if let (Some(kid), Some(retired)) = (&new_kid, &rotated) {
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(current.id, "signing_key.rotated", admin.actor().clone())
                .target(Target::new("signing_key", kid))
                .metadata(serde_json::json!({ "alg": rotate_to, "retired": retired })),
        )
        .await?;
    }
    txn.commit().await?;
    if let Some(retired) = rotated {
        state.signing.forget(current.id, &retired).await;
    }
    state.apps.invalidate(current).await;
    Ok(updated)
}

/// Deletes an app and everything in it (root only).
pub async fn delete(state: &AppState, _root: &RootAccess, app: &app::Model) -> Result<()> {
    let kids = state.signing.kids_of(app.id).await?;
    let txn = state.db.begin_write().await?;
    let result = app::Entity::delete_by_id(app.id).exec(&txn).await?;
    txn.commit().await?;
    if result.rows_affected == 0 {
        return Err(Error::not_found("app not found"));
    }
    state.signing.forget(app.id, &kids).await;
    state.apps.invalidate(app).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn settings_merge_validates_and_names_fields() {
        let base = AppSettings::default();
        let merged = base
            .merged(&patch(
                json!({"access_token_ttl": 600, "signup_enabled": false}),
            ))
            .unwrap();
        assert_eq!(merged.access_token_ttl, 600);
        assert!(!merged.signup_enabled);
        assert_eq!(merged.refresh_token_ttl, base.refresh_token_ttl);

        let err = base.merged(&patch(json!({"nope": 1}))).unwrap_err();
        assert!(err.to_string().contains("settings.nope"));
        let err = base
            .merged(&patch(json!({"access_token_ttl": "x"})))
            .unwrap_err();
        assert!(err.to_string().contains("settings.access_token_ttl"));
        let err = base
            .merged(&patch(json!({"access_token_ttl": 5})))
            .unwrap_err();
        assert!(err.to_string().contains("between"));
        assert!(
            base.merged(&patch(json!({"signing_alg": "HS256"})))
                .is_err()
        );
        assert!(
            base.merged(&patch(json!({"invite_url_template": "https://x/join"})))
                .is_err()
        );
        assert_eq!(
            base.merged(&patch(json!({"signing_alg": "EdDSA"})))
                .unwrap()
                .signing_alg,
            SigningAlg::EdDSA
        );
    }

    #[test]
    fn stored_settings_tolerate_unknown_and_missing_keys() {
        let s = AppSettings::from_stored(&json!({"access_token_ttl": 120, "legacy": true}));
        assert_eq!(s.access_token_ttl, 120);
        assert_eq!(s.password_min_length, 10);
    }
}
