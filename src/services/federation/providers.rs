//! Provider configuration per app: Sign in with Apple (`apple`) and generic OpenID
//! Connect upstreams (any other name). The public fields are stored as JSON; the
//! Apple `.p8` private key and OIDC client secrets are sealed with the master key
//! (AES-256-GCM, bound to the row) and never leave the server again.

use base64::{Engine, engine::general_purpose::STANDARD};
use entity::identity_provider;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::outbound;
use crate::{
    access::AppAdmin,
    crypto::keys::{PrivateKey, SigningAlg},
    db,
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        validate,
    },
    state::AppState,
};

/// The name (and kind) of the Apple provider.
pub const APPLE: &str = "apple";
pub const KIND_APPLE: &str = "apple";
pub const KIND_OIDC: &str = "oidc";
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// Sign in with Apple, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppleConfig {
    /// The Services ID (web sign-in's `client_id`, and an accepted audience).
    pub services_id: Option<String>,
    /// The iOS/macOS bundle ids (native sign-in's audiences).
    pub bundle_ids: Vec<String>,
    pub team_id: Option<String>,
    pub key_id: Option<String>,
    /// Where the web flow finally sends the browser, tokens in the fragment.
    pub redirect_uri: Option<String>,
}

impl AppleConfig {
    /// Every `aud` an Apple identity token of this app may carry.
    pub fn audiences(&self) -> Vec<String> {
        let mut all = self.bundle_ids.clone();
        all.extend(self.services_id.clone());
        all
    }
}

/// A generic OpenID Connect upstream, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OidcConfig {
    /// The expected issuer; when unset, the discovery document's issuer is trusted.
    pub issuer: Option<String>,
    pub discovery_url: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub display_name: Option<String>,
}

/// A provider's configuration, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Config {
    Apple(AppleConfig),
    Oidc(OidcConfig),
}

/// A stored provider with its parsed configuration. The sealed secret stays in
/// `model` and is opened only where it is used.
#[derive(Clone, Debug)]
pub struct Provider {
    pub model: identity_provider::Model,
    pub config: Config,
}

impl Provider {
    fn parse(model: identity_provider::Model) -> Result<Self> {
        let config = match model.kind.as_str() {
            KIND_APPLE => Config::Apple(
                serde_json::from_value(model.config.clone()).map_err(Error::internal)?,
            ),
            KIND_OIDC => {
                Config::Oidc(serde_json::from_value(model.config.clone()).map_err(Error::internal)?)
            }
            other => return Err(Error::internal(format!("unknown provider kind {other}"))),
        };
        Ok(Self { model, config })
    }

    pub fn has_secret(&self) -> bool {
        self.model.secret.is_some()
    }

    /// The secret (Apple private key PEM, or client secret), opened.
    pub fn open_secret(&self, state: &AppState) -> Result<Option<String>> {
        let Some(sealed) = &self.model.secret else {
            return Ok(None);
        };
        let plain = state
            .vault
            .open(sealed, &aad(self.model.app_id, self.model.id))?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| Error::internal("a provider secret is not UTF-8"))
    }
}

/// Binds a sealed secret to its row, so ciphertexts cannot be moved between rows.
pub fn aad(app_id: Uuid, id: Uuid) -> String {
    format!("provider:{app_id}:{id}")
}

/// Heimdall's own callback URL for a provider: what must be registered upstream
/// (Apple: the Services ID's Return URL; OIDC: the client's redirect URI).
pub fn callback_url(state: &AppState, slug: &str, provider: &str) -> String {
    format!(
        "{}/{slug}/v1/auth/{provider}/callback",
        state.config.public_base()
    )
}

/// A write-only secret in a replace (`PUT`): absent keeps the stored one, `null`
/// removes it, a value replaces it.
#[derive(Clone, Debug, Default)]
pub enum SecretUpdate {
    #[default]
    Keep,
    Remove,
    Set(String),
}

impl SecretUpdate {
    pub fn from_nullable(value: Option<Option<String>>) -> Self {
        match value {
            None => Self::Keep,
            Some(None) => Self::Remove,
            Some(Some(v)) => Self::Set(v),
        }
    }
}

/// `PUT …/providers/apple`.
#[derive(Clone, Debug, Default)]
pub struct AppleInput {
    pub services_id: Option<String>,
    pub bundle_ids: Vec<String>,
    pub team_id: Option<String>,
    pub key_id: Option<String>,
    pub private_key: SecretUpdate,
    pub redirect_uri: Option<String>,
    pub enabled: Option<bool>,
}

/// `PUT …/providers/{id}` for a generic OIDC upstream.
#[derive(Clone, Debug, Default)]
pub struct OidcInput {
    pub issuer: Option<String>,
    pub discovery_url: Option<String>,
    pub client_id: String,
    pub client_secret: SecretUpdate,
    pub scopes: Option<Vec<String>>,
    pub redirect_uri: String,
    pub display_name: Option<String>,
    pub enabled: Option<bool>,
}

/// An Apple identifier (Services ID, bundle id): reverse-DNS characters.
fn identifier(field: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let ok = (1..=255).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid_field(
            field,
            "must be 1-255 characters of A-Z, a-z, 0-9, '.', '-' and '_'",
        ))
    }
}

/// Apple's Team ID and Key ID: ten upper-case letters or digits.
fn apple_id(field: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.len() == 10
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid_field(
            field,
            "must be the 10-character identifier shown in Apple's developer console",
        ))
    }
}

/// Where a web sign-in finally sends the browser: `https`, `http` on a loopback
/// host, or an app's private-use scheme (`com.example.app:/callback`); no fragment
/// (the tokens go there).
pub fn redirect_uri(field: &str, value: &str) -> Result<String> {
    if value.len() > 2048 || value.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            "must be a URL of at most 2048 characters without control characters",
        ));
    }
    let url = url::Url::parse(value)
        .map_err(|_| Error::invalid_field(field, "must be an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(Error::invalid_field(
            field,
            "must not have a fragment (the tokens are put there)",
        ));
    }
    let ok = match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => outbound::is_loopback(&url),
        "javascript" | "data" | "file" | "vbscript" | "blob" => false,
        // Private-use schemes are reverse domain names (RFC 8252 §7.1).
        scheme => scheme.contains('.'),
    };
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid_field(
            field,
            "must be an https URL (http only on localhost) or an app scheme such as com.example.app:/callback",
        ))
    }
}

/// Decodes a PEM block to DER (Apple's `.p8` files are PKCS#8 PEM).
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let text = pem.trim();
    let body = text
        .strip_prefix("-----BEGIN PRIVATE KEY-----")?
        .trim_end()
        .strip_suffix("-----END PRIVATE KEY-----")?;
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// Parses an Apple `.p8` key (P-256, PKCS#8 PEM) for ES256 signing.
pub fn apple_signing_key(pem: &str) -> Result<PrivateKey> {
    let der = pem_to_der(pem).ok_or_else(|| {
        Error::invalid_field(
            "private_key",
            "must be the contents of Apple's .p8 file (-----BEGIN PRIVATE KEY----- …)",
        )
    })?;
    PrivateKey::from_pkcs8(SigningAlg::ES256, &der).map_err(|_| {
        Error::invalid_field(
            "private_key",
            "is not a P-256 (ES256) private key such as Apple's .p8 keys",
        )
    })
}

fn validated_apple(input: &AppleInput, has_key_after: bool) -> Result<AppleConfig> {
    let services_id = input
        .services_id
        .as_deref()
        .map(|v| identifier("services_id", v))
        .transpose()?;
    if input.bundle_ids.len() > 50 {
        return Err(Error::invalid_field("bundle_ids", "at most 50 bundle ids"));
    }
    let mut bundle_ids = Vec::new();
    for id in &input.bundle_ids {
        let id = identifier("bundle_ids", id)?;
        if !bundle_ids.contains(&id) {
            bundle_ids.push(id);
        }
    }
    if services_id.is_none() && bundle_ids.is_empty() {
        return Err(Error::invalid_field(
            "services_id",
            "a services_id (web) or at least one bundle id (native) is required",
        ));
    }
    let team_id = input
        .team_id
        .as_deref()
        .map(|v| apple_id("team_id", v))
        .transpose()?;
    let key_id = input
        .key_id
        .as_deref()
        .map(|v| apple_id("key_id", v))
        .transpose()?;
    if has_key_after && (team_id.is_none() || key_id.is_none()) {
        return Err(Error::invalid_field(
            if team_id.is_none() {
                "team_id"
            } else {
                "key_id"
            },
            "is required with a private key",
        ));
    }
    let redirect_uri = input
        .redirect_uri
        .as_deref()
        .map(|v| redirect_uri("redirect_uri", v))
        .transpose()?;
    Ok(AppleConfig {
        services_id,
        bundle_ids,
        team_id,
        key_id,
        redirect_uri,
    })
}

fn scope_token(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

fn validated_oidc(state: &AppState, input: &OidcInput) -> Result<OidcConfig> {
    let allow = state.config.federation_allow_loopback;
    let issuer = input
        .issuer
        .as_deref()
        .map(|v| outbound::upstream_url("issuer", v, allow).map(|_| v.to_owned()))
        .transpose()?;
    let discovery_url = match (&input.discovery_url, &issuer) {
        (Some(url), _) => outbound::upstream_url("discovery_url", url, allow)?.to_string(),
        (None, Some(issuer)) => format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ),
        (None, None) => {
            return Err(Error::invalid_field(
                "issuer",
                "an issuer or a discovery_url is required",
            ));
        }
    };
    let client_id = validate::display_text("client_id", &input.client_id, 255)?;
    let mut scopes: Vec<String> = Vec::new();
    let requested = input
        .scopes
        .clone()
        .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect());
    if requested.len() > 20 {
        return Err(Error::invalid_field("scopes", "at most 20 scopes"));
    }
    if !requested.iter().any(|s| s == "openid") {
        scopes.push("openid".into());
    }
    for scope in requested {
        if !scope_token(&scope) {
            return Err(Error::invalid_field(
                "scopes",
                format!("'{scope}' is not a valid scope"),
            ));
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    let redirect_uri = redirect_uri("redirect_uri", &input.redirect_uri)?;
    let display_name = input
        .display_name
        .as_deref()
        .map(|v| validate::display_text("display_name", v, 100))
        .transpose()?;
    Ok(OidcConfig {
        issuer,
        discovery_url,
        client_id,
        scopes,
        redirect_uri,
        display_name,
    })
}

async fn find(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    name: &str,
) -> Result<Option<identity_provider::Model>> {
    Ok(identity_provider::Entity::find()
        .filter(identity_provider::Column::AppId.eq(app_id))
        .filter(identity_provider::Column::Name.eq(name))
        .one(conn)
        .await?)
}

/// A configured provider, or 404.
pub async fn get(state: &AppState, app_id: Uuid, name: &str) -> Result<Provider> {
    find(&*state.db, app_id, name)
        .await?
        .map(Provider::parse)
        .transpose()?
        .ok_or_else(|| Error::not_found(format!("provider '{name}' is not configured")))
}

/// A provider usable for sign-in right now: configured, enabled and of `kind`.
pub async fn usable(state: &AppState, app_id: Uuid, name: &str, kind: &str) -> Result<Provider> {
    let provider = get(state, app_id, name).await?;
    if provider.model.kind != kind {
        return Err(Error::not_found(format!(
            "provider '{name}' is not configured"
        )));
    }
    if !provider.model.enabled {
        return Err(Error::refused(
            "provider_disabled",
            format!("sign-in with '{name}' is disabled for this app"),
        ));
    }
    Ok(provider)
}

/// A sign-in button of the hosted pages: an enabled provider a browser can use.
#[derive(Clone, Debug)]
pub struct Button {
    pub name: String,
    pub kind: &'static str,
    /// What the button says after "Continue with": the provider's display name.
    pub label: String,
}

/// The enabled providers of an app that a browser can sign in with (Apple once its
/// Services ID is set), Apple first, then by name. Public: the sign-in page shows them.
pub async fn buttons(state: &AppState, app_id: Uuid) -> Result<Vec<Button>> {
    let rows = identity_provider::Entity::find()
        .filter(identity_provider::Column::AppId.eq(app_id))
        .filter(identity_provider::Column::Enabled.eq(true))
        .order_by_asc(identity_provider::Column::Name)
        .all(&*state.db)
        .await?;
    let mut buttons: Vec<Button> = rows
        .into_iter()
        .filter_map(|model| Provider::parse(model).ok())
        .filter_map(|p| match &p.config {
            Config::Apple(c) if c.services_id.is_some() => Some(Button {
                name: p.model.name.clone(),
                kind: KIND_APPLE,
                label: "Apple".to_owned(),
            }),
            Config::Apple(_) => None,
            Config::Oidc(c) => Some(Button {
                name: p.model.name.clone(),
                kind: KIND_OIDC,
                label: c
                    .display_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| p.model.name.clone()),
            }),
        })
        .collect();
    buttons.sort_by_key(|b| b.kind != KIND_APPLE);
    Ok(buttons)
}

pub async fn list(state: &AppState, admin: &AppAdmin) -> Result<Vec<Provider>> {
    identity_provider::Entity::find()
        .filter(identity_provider::Column::AppId.eq(admin.app().id))
        .order_by_asc(identity_provider::Column::Name)
        .all(&*state.db)
        .await?
        .into_iter()
        .map(Provider::parse)
        .collect()
}

pub async fn get_admin(state: &AppState, admin: &AppAdmin, name: &str) -> Result<Provider> {
    get(state, admin.app().id, name).await
}

/// A validated provider write.
struct Write<'a> {
    name: &'a str,
    kind: &'static str,
    config: serde_json::Value,
    secret: SecretUpdate,
    enabled: Option<bool>,
}

/// Writes a provider (create or replace). Returns it and whether it was created.
async fn put(
    state: &AppState,
    admin: &AppAdmin,
    write: Write<'_>,
    meta: &RequestMeta,
) -> Result<(Provider, bool)> {
    let Write {
        name,
        kind,
        config,
        secret,
        enabled,
    } = write;
    let app_id = admin.app().id;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let existing = find(&txn, app_id, name).await?;
    if let Some(existing) = &existing
        && existing.kind != kind
    {
        return Err(Error::conflict(format!(
            "provider '{name}' exists with another kind; delete it first"
        )));
    }
    let created = existing.is_none();
    let id = existing.as_ref().map_or_else(db::new_id, |m| m.id);
    let sealed = match &secret {
        SecretUpdate::Keep => existing.as_ref().and_then(|m| m.secret.clone()),
        SecretUpdate::Remove => None,
        SecretUpdate::Set(value) => Some(state.vault.seal(value.as_bytes(), &aad(app_id, id))?),
    };
    let model = match existing {
        Some(existing) => {
            let mut model = existing.into_active_model();
            model.config = Set(config);
            model.secret = Set(sealed);
            if let Some(enabled) = enabled {
                model.enabled = Set(enabled);
            }
            model.updated_at = Set(now);
            model.update(&txn).await?
        }
        None => identity_provider::ActiveModel {
            id: Set(id),
            app_id: Set(app_id),
            name: Set(name.to_owned()),
            kind: Set(kind.to_owned()),
            enabled: Set(enabled.unwrap_or(true)),
            config: Set(config),
            secret: Set(sealed),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(conflict_on_unique(format!(
            "provider '{name}' was just configured by another request"
        )))?,
    };
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app_id,
            if created {
                "identity_provider.created"
            } else {
                "identity_provider.updated"
            },
            admin.actor().clone(),
        )
        .target(Target::new("identity_provider", name))
        .metadata(json!({
            "provider": name,
            "kind": kind,
            "enabled": model.enabled,
            "secret_changed": !matches!(secret, SecretUpdate::Keep),
        })),
    )
    .await?;
    Ok((Provider::parse(model)?, created))
}

/// `PUT …/providers/apple`: validates (the `.p8` key must parse) and stores.
pub async fn put_apple(
    state: &AppState,
    admin: &AppAdmin,
    input: AppleInput,
    meta: &RequestMeta,
) -> Result<(Provider, bool)> {
    if let SecretUpdate::Set(pem) = &input.private_key {
        if pem.len() > 4096 {
            return Err(Error::invalid_field("private_key", "is too long"));
        }
        apple_signing_key(pem)?;
    }
    let has_key_after = match &input.private_key {
        SecretUpdate::Set(_) => true,
        SecretUpdate::Remove => false,
        SecretUpdate::Keep => find(&*state.db, admin.app().id, APPLE)
            .await?
            .is_some_and(|m| m.secret.is_some()),
    };
    let config = validated_apple(&input, has_key_after)?;
    let config = serde_json::to_value(config).map_err(Error::internal)?;
    let write = Write {
        name: APPLE,
        kind: KIND_APPLE,
        config,
        secret: input.private_key,
        enabled: input.enabled,
    };
    put(state, admin, write, meta).await
}

/// `PUT …/providers/{name}` for a generic OIDC upstream.
pub async fn put_oidc(
    state: &AppState,
    admin: &AppAdmin,
    name: &str,
    input: OidcInput,
    meta: &RequestMeta,
) -> Result<(Provider, bool)> {
    if name == APPLE {
        return Err(Error::invalid(
            "'apple' is Sign in with Apple: configure it at /providers/apple",
        ));
    }
    if !validate::is_slug_shaped(name) {
        return Err(Error::invalid_field(
            "id",
            "must be 2-63 characters of a-z, 0-9 and '-', starting with a letter or digit",
        ));
    }
    if let SecretUpdate::Set(secret) = &input.client_secret
        && (secret.is_empty() || secret.len() > 1024 || secret.chars().any(char::is_control))
    {
        return Err(Error::invalid_field(
            "client_secret",
            "must be 1-1024 characters without control characters",
        ));
    }
    let config = validated_oidc(state, &input)?;
    let config = serde_json::to_value(config).map_err(Error::internal)?;
    let write = Write {
        name,
        kind: KIND_OIDC,
        config,
        secret: input.client_secret,
        enabled: input.enabled,
    };
    put(state, admin, write, meta).await
}

/// Deletes a provider. Identities linked through it stay (signing in through it is
/// impossible until it is configured again).
pub async fn delete(
    state: &AppState,
    admin: &AppAdmin,
    name: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let existing = find(&txn, app_id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("provider '{name}' is not configured")))?;
    identity_provider::Entity::delete_by_id(existing.id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "identity_provider.deleted", admin.actor().clone())
            .target(Target::new("identity_provider", name))
            .metadata(json!({ "provider": name, "kind": existing.kind })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        for ok in [
            "https://app.example.com/auth/done",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "com.example.app:/callback",
        ] {
            assert!(redirect_uri("r", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#x",
            "javascript:alert(1)",
            "data:text/html,x",
            "myapp:/cb",
            "/relative",
        ] {
            assert!(redirect_uri("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apple_ids() {
        assert!(apple_id("t", "ABCDE12345").is_ok());
        assert!(apple_id("t", "abcde12345").is_err());
        assert!(apple_id("t", "ABC").is_err());
        assert!(identifier("s", "com.example.app").is_ok());
        assert!(identifier("s", "com example").is_err());
    }

    #[test]
    fn p8_keys() {
        let generated = crate::crypto::keys::generate(SigningAlg::ES256).unwrap();
        let body = STANDARD.encode(&generated.pkcs8);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        assert!(apple_signing_key(&pem).is_ok());
        assert!(
            apple_signing_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
        assert!(apple_signing_key("garbage").is_err());
        let rsa = crate::crypto::keys::generate(SigningAlg::RS256).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            STANDARD.encode(&rsa.pkcs8)
        );
        assert!(apple_signing_key(&pem).is_err());
    }
}
