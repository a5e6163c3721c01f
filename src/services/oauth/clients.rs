//! OAuth clients: registration (end users through the consumer lane, app
//! administrators through the admin lane), ownership, secrets.
//!
//! An end user manages the clients they own; others need `oauth_clients:read`,
//! `oauth_clients:update` or `oauth_clients:delete`. First-party clients (which skip
//! consent) are created and changed only through the admin lane.

use entity::oauth_client;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::{SCOPES, scopes_of};
use crate::{
    access::{AppAccess, Permission},
    crypto::{self, prefix},
    db::{self, Page, PageRequest},
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        permissions, validate,
    },
    state::AppState,
};

pub const CONFIDENTIAL: &str = "confidential";
pub const PUBLIC: &str = "public";
pub const MAX_REDIRECT_URIS: usize = 20;

/// Fields of a client as requested.
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub logo_url: Option<Option<String>>,
    pub homepage_url: Option<Option<String>>,
    pub privacy_policy_url: Option<Option<String>>,
    pub terms_of_service_url: Option<Option<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub client_type: Option<String>,
    pub is_active: Option<bool>,
    pub is_first_party: Option<bool>,
    pub id_token_signed_response_alg: Option<Option<String>>,
    /// RP-Initiated Logout targets (validated like `redirect_uris`).
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Token requests must carry a DPoP proof (RFC 9449).
    pub dpop_bound_access_tokens: Option<bool>,
    /// Token exchange policy (RFC 8693); `Some(None)` clears it.
    pub token_exchange: Option<Option<TokenExchangePolicy>>,
    /// OpenID Connect Back-Channel Logout: where logout tokens are POSTed
    /// (validated like a webhook URL); `Some(None)` removes it.
    pub backchannel_logout_uri: Option<Option<String>>,
    pub backchannel_logout_session_required: Option<bool>,
    /// `public` or `pairwise` (OIDC Core §8).
    pub subject_type: Option<String>,
    /// The pairwise sector's list of redirect URIs; `Some(None)` removes it.
    pub sector_identifier_uri: Option<Option<String>>,
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A registrable redirect URI: `https`, `http` only on loopback, or a custom scheme
/// for native apps; never a fragment, a wildcard, or a script scheme.
pub fn validate_redirect_uri(uri: &str) -> Result<String> {
    let field = "redirect_uris";
    if uri.len() > 2048 || uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid_field(
            field,
            format!("'{uri}' is not a valid redirect URI"),
        ));
    }
    if uri.contains('*') {
        return Err(Error::invalid_field(
            field,
            format!("'{uri}': wildcards are not allowed"),
        ));
    }
    let parsed = url::Url::parse(uri)
        .map_err(|_| Error::invalid_field(field, format!("'{uri}' is not an absolute URI")))?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(Error::invalid_field(
            field,
            format!("'{uri}': fragments are not allowed"),
        ));
    }
    match parsed.scheme() {
        "https" if parsed.host_str().is_none() => {
            return Err(Error::invalid_field(field, format!("'{uri}' has no host")));
        }
        "https" => {}
        "http" => {
            let loopback = parsed.host().is_some_and(|h| is_loopback(&h));
            if !loopback {
                return Err(Error::invalid_field(
                    field,
                    format!(
                        "'{uri}': http is only allowed for loopback (localhost, 127.0.0.1, [::1])"
                    ),
                ));
            }
        }
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" | "ftp" | "ws" | "wss" => {
            return Err(Error::invalid_field(
                field,
                format!("'{uri}': scheme not allowed"),
            ));
        }
        // A private-use scheme for native apps (RFC 8252 §7.1), e.g. com.example.app:/cb.
        _ => {}
    }
    Ok(uri.to_owned())
}

pub fn optional_url(field: &str, value: &Option<String>) -> Result<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(url) => {
            let parsed = validate::http_url(field, url)?;
            if parsed.scheme() != "https" && !parsed.host().is_some_and(|h| is_loopback(&h)) {
                return Err(Error::invalid_field(field, "must be an https URL"));
            }
            Ok(Some(url.to_owned()))
        }
    }
}

pub fn validate_scopes(scopes: &[String]) -> Result<Vec<String>> {
    for s in scopes {
        if !SCOPES.iter().any(|(name, _)| name == s) {
            return Err(Error::invalid_field(
                "allowed_scopes",
                format!(
                    "unknown scope '{s}' (known: {})",
                    SCOPES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(super::parse_scopes(&scopes.join(" ")))
}

fn uris(value: &serde_json::Value) -> Vec<String> {
    permissions::of_json(value)
}

/// A client's token exchange policy (RFC 8693; docs/src/oauth-extensions.md#token-exchange):
/// whether it may exchange access tokens, and for which API resources (`audiences`,
/// resource identifiers; empty: only tokens for no resource, i.e. opaque tokens of
/// this app with narrower scopes).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenExchangePolicy {
    pub allowed: bool,
    #[serde(default)]
    pub audiences: Vec<String>,
}

impl TokenExchangePolicy {
    /// The stored policy of a client (`None`: exchange not allowed).
    pub fn of(client: &oauth_client::Model) -> Option<Self> {
        client
            .token_exchange
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
    }
}

/// Validates a policy: only administrators grant it, only to confidential clients.
fn token_exchange_policy(
    admin: &AppAccess,
    client_type: &str,
    policy: Option<TokenExchangePolicy>,
) -> Result<Option<serde_json::Value>> {
    let Some(policy) = policy else {
        return Ok(None);
    };
    if !is_admin(admin) {
        return Err(Error::forbidden(
            "only a root key or the app's key sets token_exchange",
        ));
    }
    if policy.allowed && client_type != CONFIDENTIAL {
        return Err(Error::invalid_field(
            "token_exchange",
            "only confidential clients may exchange tokens",
        ));
    }
    if policy.audiences.len() > 20
        || policy
            .audiences
            .iter()
            .any(|a| a.is_empty() || a.len() > 512 || url::Url::parse(a).is_err())
    {
        return Err(Error::invalid_field(
            "token_exchange",
            "audiences: at most 20 absolute URIs (API resource identifiers)",
        ));
    }
    Ok(Some(json!(policy)))
}

/// Whether the capability is an administrator's (root or app key).
fn is_admin(admin: &AppAccess) -> bool {
    admin.is_key()
}

/// The end user acting, if the capability belongs to one.
fn acting_user(admin: &AppAccess) -> Option<Uuid> {
    admin.acting_user()
}

/// Owner, or holder of `permission`, or an administrator.
fn may(admin: &AppAccess, client: &oauth_client::Model, permission: Permission) -> bool {
    is_admin(admin)
        || (client.owner_id.is_some() && client.owner_id == acting_user(admin))
        || admin.require(&[permission]).is_ok()
}

/// A client of the app, visible to the caller, or 404.
pub async fn get(state: &AppState, admin: &AppAccess, id: &str) -> Result<oauth_client::Model> {
    let not_found = || Error::not_found("oauth client not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let client = oauth_client::Entity::find_by_id(id)
        .filter(oauth_client::Column::AppId.eq(admin.app().id))
        .one(&*state.db)
        .await?
        .ok_or_else(not_found)?;
    if may(admin, &client, Permission::OAUTH_CLIENTS_READ) {
        Ok(client)
    } else {
        Err(not_found())
    }
}

/// A client by id within an app, for the protocol endpoints.
pub async fn find(
    state: &AppState,
    app_id: Uuid,
    client_id: &str,
) -> Result<Option<oauth_client::Model>> {
    let Ok(id) = Uuid::parse_str(client_id) else {
        return Ok(None);
    };
    Ok(oauth_client::Entity::find_by_id(id)
        .filter(oauth_client::Column::AppId.eq(app_id))
        .one(&*state.db)
        .await?)
}

/// What binds a client's sealed secret to its row.
pub fn aad(id: Uuid) -> String {
    format!("oauth_client:{id}")
}

pub fn new_secret(
    state: &AppState,
    id: Uuid,
    hs256: bool,
) -> Result<(String, String, Option<String>)> {
    let secret = crypto::generate_secret(prefix::CLIENT_SECRET)?;
    let hash = state.hasher.hash(&secret);
    let sealed = if hs256 {
        Some(state.vault.seal(secret.as_bytes(), &aad(id))?)
    } else {
        None
    };
    Ok((secret, hash, sealed))
}

/// The client secret for HS256 ID tokens.
pub fn open_secret(state: &AppState, client: &oauth_client::Model) -> Result<Option<Vec<u8>>> {
    client
        .sealed_secret
        .as_deref()
        .map(|sealed| state.vault.open(sealed, &aad(client.id)))
        .transpose()
}

fn validate_alg(value: &Option<String>) -> Result<Option<String>> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some("HS256") => Ok(Some("HS256".into())),
        Some(other) => Err(Error::invalid_field(
            "id_token_signed_response_alg",
            format!(
                "'{other}': only HS256 (signed with the client secret) may be chosen; omit it for the app's key"
            ),
        )),
    }
}

/// Registers a client; the secret (confidential clients) is returned once.
pub async fn create(
    state: &AppState,
    admin: &AppAccess,
    input: ClientInput,
    meta: &RequestMeta,
) -> Result<(oauth_client::Model, Option<String>)> {
    let owner = acting_user(admin);
    if !is_admin(admin) && owner.is_none() {
        return Err(Error::forbidden(
            "OAuth clients are registered by end users or app administrators",
        ));
    }
    let first_party = input.is_first_party.unwrap_or(false);
    if first_party && !is_admin(admin) {
        return Err(Error::forbidden(
            "only a root key or the app's key can create first-party clients",
        ));
    }
    let name = validate::display_text("name", input.name.as_deref().unwrap_or_default(), 200)?;
    let client_type = input
        .client_type
        .clone()
        .unwrap_or_else(|| CONFIDENTIAL.to_owned());
    if client_type != CONFIDENTIAL && client_type != PUBLIC {
        return Err(Error::invalid_field(
            "client_type",
            "must be confidential or public",
        ));
    }
    let redirect_uris = input
        .redirect_uris
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::invalid_field("redirect_uris", "at least one redirect URI is required")
        })?;
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(Error::invalid_field(
            "redirect_uris",
            format!("at most {MAX_REDIRECT_URIS}"),
        ));
    }
    let redirect_uris: Vec<String> = redirect_uris
        .iter()
        .map(|u| validate_redirect_uri(u))
        .collect::<Result<_>>()?;
    let allowed_scopes = validate_scopes(
        &input
            .allowed_scopes
            .clone()
            .unwrap_or_else(|| vec!["openid".into(), "profile".into(), "email".into()]),
    )?;
    let alg = validate_alg(&input.id_token_signed_response_alg.clone().flatten())?;
    if alg.is_some() && client_type == PUBLIC {
        return Err(Error::invalid_field(
            "id_token_signed_response_alg",
            "public clients have no secret to sign with",
        ));
    }
    let text =
        |field: &str, value: &Option<Option<String>>, max: usize| -> Result<Option<String>> {
            match value.clone().flatten().as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => validate::display_text(field, v, max).map(Some),
            }
        };
    let token_exchange =
        token_exchange_policy(admin, &client_type, input.token_exchange.clone().flatten())?;
    let subject = super::pairwise::validate(
        state,
        input.subject_type.as_deref(),
        input.sector_identifier_uri.clone().flatten().as_deref(),
        &redirect_uris,
        None,
    )
    .await?;
    let id = db::new_id();
    let (secret, secret_hash, sealed) = if client_type == CONFIDENTIAL {
        let (secret, hash, sealed) = new_secret(state, id, alg.is_some())?;
        (Some(secret), Some(hash), sealed)
    } else {
        (None, None, None)
    };
    let now = state.now();
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let client = oauth_client::ActiveModel {
        id: Set(id),
        app_id: Set(app_id),
        owner_id: Set(owner),
        name: Set(name),
        description: Set(text("description", &input.description, 1000)?),
        logo_url: Set(optional_url("logo_url", &input.logo_url.clone().flatten())?),
        homepage_url: Set(optional_url(
            "homepage_url",
            &input.homepage_url.clone().flatten(),
        )?),
        privacy_policy_url: Set(optional_url(
            "privacy_policy_url",
            &input.privacy_policy_url.clone().flatten(),
        )?),
        terms_of_service_url: Set(optional_url(
            "terms_of_service_url",
            &input.terms_of_service_url.clone().flatten(),
        )?),
        redirect_uris: Set(json!(redirect_uris)),
        allowed_scopes: Set(json!(allowed_scopes)),
        client_type: Set(client_type),
        secret_hash: Set(secret_hash),
        sealed_secret: Set(sealed),
        id_token_signed_response_alg: Set(alg),
        is_active: Set(input.is_active.unwrap_or(true)),
        is_first_party: Set(first_party),
        post_logout_redirect_uris: Set(logout_uris(&input.post_logout_redirect_uris)?),
        backchannel_logout_uri: Set(backchannel_uri(state, &input.backchannel_logout_uri).await?),
        backchannel_logout_session_required: Set(input
            .backchannel_logout_session_required
            .unwrap_or(false)),
        created_at: Set(now),
        updated_at: Set(now),
        dpop_bound_access_tokens: Set(input.dpop_bound_access_tokens.unwrap_or(false)),
        token_exchange: Set(token_exchange),
        subject_type: Set(subject.subject_type),
        sector_identifier_uri: Set(subject.sector_identifier_uri),
        sector_identifier: Set(subject.sector),
    }
    .insert(&txn)
    .await?;
    audit::commit(txn, state, meta, Entry::new(app_id, "oauth_client.created", admin.actor().clone())
            .target(Target::new("oauth_client", id))
            .metadata(json!({ "name": client.name, "client_type": client.client_type, "is_first_party": first_party }))).await?;
    Ok((client, secret))
}

/// The clients the signed-in end user owns (at most `limit`).
pub async fn owned_by(
    state: &AppState,
    me: &crate::access::Me,
    limit: u64,
) -> Result<Vec<oauth_client::Model>> {
    Ok(oauth_client::Entity::find()
        .filter(oauth_client::Column::AppId.eq(me.app().id))
        .filter(oauth_client::Column::OwnerId.eq(me.user_id()))
        .order_by_asc(oauth_client::Column::Id)
        .limit(limit)
        .all(&*state.db)
        .await?)
}

/// The caller's own clients (`all` = every client of the app, with `oauth_clients:read`).
pub async fn list(
    state: &AppState,
    admin: &AppAccess,
    all: bool,
    page: PageRequest,
) -> Result<Page<oauth_client::Model>> {
    let mut select =
        oauth_client::Entity::find().filter(oauth_client::Column::AppId.eq(admin.app().id));
    if all {
        if !is_admin(admin) {
            admin.require(&[Permission::OAUTH_CLIENTS_READ])?;
        }
    } else {
        match acting_user(admin) {
            Some(user) => select = select.filter(oauth_client::Column::OwnerId.eq(user)),
            None if is_admin(admin) => {}
            None => return Err(Error::forbidden("only end users own OAuth clients")),
        }
    }
    db::paginate(&*state.db, select, oauth_client::Column::Id, page, |c| c.id).await
}

fn check_first_party(admin: &AppAccess, client: &oauth_client::Model) -> Result<()> {
    if client.is_first_party && !is_admin(admin) {
        return Err(Error::forbidden(
            "first-party clients change only through the admin lane",
        ));
    }
    Ok(())
}

/// Updates a client; returns a new secret when switching to HS256 ID tokens.
pub async fn update(
    state: &AppState,
    admin: &AppAccess,
    id: &str,
    input: ClientInput,
    meta: &RequestMeta,
) -> Result<(oauth_client::Model, Option<String>)> {
    let current = get(state, admin, id).await?;
    if !may(admin, &current, Permission::OAUTH_CLIENTS_UPDATE) {
        return Err(Error::missing_permissions(vec![
            Permission::OAUTH_CLIENTS_UPDATE.to_string(),
        ]));
    }
    check_first_party(admin, &current)?;
    if input
        .is_first_party
        .is_some_and(|f| f != current.is_first_party)
        && !is_admin(admin)
    {
        return Err(Error::forbidden(
            "only the admin lane changes is_first_party",
        ));
    }
    if input
        .client_type
        .as_deref()
        .is_some_and(|t| t != current.client_type)
    {
        return Err(Error::invalid_field(
            "client_type",
            "cannot be changed; register a new client",
        ));
    }
    let mut model = current.clone().into_active_model();
    if let Some(name) = &input.name {
        model.name = Set(validate::display_text("name", name, 200)?);
    }
    let text = |field: &str, value: &Option<String>, max: usize| -> Result<Option<String>> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => validate::display_text(field, v, max).map(Some),
        }
    };
    if let Some(v) = &input.description {
        model.description = Set(text("description", v, 1000)?);
    }
    for (field, value, column) in [
        ("logo_url", &input.logo_url, oauth_client::Column::LogoUrl),
        (
            "homepage_url",
            &input.homepage_url,
            oauth_client::Column::HomepageUrl,
        ),
        (
            "privacy_policy_url",
            &input.privacy_policy_url,
            oauth_client::Column::PrivacyPolicyUrl,
        ),
        (
            "terms_of_service_url",
            &input.terms_of_service_url,
            oauth_client::Column::TermsOfServiceUrl,
        ),
    ] {
        if let Some(v) = value {
            let v = optional_url(field, v)?;
            match column {
                oauth_client::Column::LogoUrl => model.logo_url = Set(v),
                oauth_client::Column::HomepageUrl => model.homepage_url = Set(v),
                oauth_client::Column::PrivacyPolicyUrl => model.privacy_policy_url = Set(v),
                _ => model.terms_of_service_url = Set(v),
            }
        }
    }
    if let Some(list) = &input.redirect_uris {
        if list.is_empty() || list.len() > MAX_REDIRECT_URIS {
            return Err(Error::invalid_field(
                "redirect_uris",
                format!("between 1 and {MAX_REDIRECT_URIS} URIs"),
            ));
        }
        let list: Vec<String> = list
            .iter()
            .map(|u| validate_redirect_uri(u))
            .collect::<Result<_>>()?;
        model.redirect_uris = Set(json!(list));
    }
    if input.subject_type.is_some()
        || input.sector_identifier_uri.is_some()
        || input.redirect_uris.is_some()
    {
        let redirect_uris: Vec<String> = match &model.redirect_uris {
            sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => {
                serde_json::from_value(v.clone()).unwrap_or_default()
            }
            sea_orm::ActiveValue::NotSet => redirect_uris(&current),
        };
        let sector_uri = match &input.sector_identifier_uri {
            Some(v) => v.clone(),
            None => current.sector_identifier_uri.clone(),
        };
        let subject = super::pairwise::validate(
            state,
            input.subject_type.as_deref(),
            sector_uri.as_deref(),
            &redirect_uris,
            Some(&current),
        )
        .await?;
        if subject != super::pairwise::SubjectSettings::of(&current) {
            model.subject_type = Set(subject.subject_type);
            model.sector_identifier_uri = Set(subject.sector_identifier_uri);
            model.sector_identifier = Set(subject.sector);
        }
    }
    if let Some(scopes) = &input.allowed_scopes {
        model.allowed_scopes = Set(json!(validate_scopes(scopes)?));
    }
    if input.post_logout_redirect_uris.is_some() {
        model.post_logout_redirect_uris = Set(logout_uris(&input.post_logout_redirect_uris)?);
    }
    if input.backchannel_logout_uri.is_some() {
        model.backchannel_logout_uri =
            Set(backchannel_uri(state, &input.backchannel_logout_uri).await?);
    }
    if let Some(required) = input.backchannel_logout_session_required {
        model.backchannel_logout_session_required = Set(required);
    }
    if let Some(active) = input.is_active {
        model.is_active = Set(active);
    }
    if let Some(bound) = input.dpop_bound_access_tokens {
        model.dpop_bound_access_tokens = Set(bound);
    }
    if let Some(policy) = &input.token_exchange {
        model.token_exchange = Set(token_exchange_policy(
            admin,
            &current.client_type,
            policy.clone(),
        )?);
    }
    if let Some(first) = input.is_first_party {
        model.is_first_party = Set(first);
    }
    // HS256 ID tokens are signed with the client secret, so Heimdall must keep a
    // usable (sealed) copy; it keeps one only while HS256 is chosen. Switching to it
    // issues a new secret, returned once.
    let mut new_secret_value = None;
    if let Some(alg) = &input.id_token_signed_response_alg {
        let alg = validate_alg(alg)?;
        match (&alg, current.id_token_signed_response_alg.is_some()) {
            (Some(_), false) => {
                if current.client_type == PUBLIC {
                    return Err(Error::invalid_field(
                        "id_token_signed_response_alg",
                        "public clients have no secret to sign with",
                    ));
                }
                let (secret, hash, sealed) = new_secret(state, current.id, true)?;
                model.secret_hash = Set(Some(hash));
                model.sealed_secret = Set(sealed);
                new_secret_value = Some(secret);
            }
            (None, true) => model.sealed_secret = Set(None),
            _ => {}
        }
        model.id_token_signed_response_alg = Set(alg);
    }
    model.updated_at = Set(state.now());
    let txn = state.db.begin_write().await?;
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            current.app_id,
            "oauth_client.updated",
            admin.actor().clone(),
        )
        .target(Target::new("oauth_client", current.id))
        .metadata(json!({ "secret_regenerated": new_secret_value.is_some() })),
    )
    .await?;
    Ok((updated, new_secret_value))
}

pub async fn delete(
    state: &AppState,
    admin: &AppAccess,
    id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let current = get(state, admin, id).await?;
    if !may(admin, &current, Permission::OAUTH_CLIENTS_DELETE) {
        return Err(Error::missing_permissions(vec![
            Permission::OAUTH_CLIENTS_DELETE.to_string(),
        ]));
    }
    check_first_party(admin, &current)?;
    let txn = state.db.begin_write().await?;
    oauth_client::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            current.app_id,
            "oauth_client.deleted",
            admin.actor().clone(),
        )
        .target(Target::new("oauth_client", current.id)),
    )
    .await?;
    Ok(())
}

/// A new secret for a confidential client; the old one stops working at once.
pub async fn regenerate_secret(
    state: &AppState,
    admin: &AppAccess,
    id: &str,
    meta: &RequestMeta,
) -> Result<(oauth_client::Model, String)> {
    let current = get(state, admin, id).await?;
    if !may(admin, &current, Permission::OAUTH_CLIENTS_UPDATE) {
        return Err(Error::missing_permissions(vec![
            Permission::OAUTH_CLIENTS_UPDATE.to_string(),
        ]));
    }
    check_first_party(admin, &current)?;
    if current.client_type != CONFIDENTIAL {
        return Err(Error::invalid("public clients have no secret"));
    }
    let (secret, hash, sealed) = new_secret(
        state,
        current.id,
        current.id_token_signed_response_alg.is_some(),
    )?;
    let mut model = current.clone().into_active_model();
    model.secret_hash = Set(Some(hash));
    model.sealed_secret = Set(sealed);
    model.updated_at = Set(state.now());
    let txn = state.db.begin_write().await?;
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            current.app_id,
            "oauth_client.secret_regenerated",
            admin.actor().clone(),
        )
        .target(Target::new("oauth_client", current.id)),
    )
    .await?;
    Ok((updated, secret))
}

/// Validates `post_logout_redirect_uris` (as redirect URIs, at most
/// [`MAX_REDIRECT_URIS`]); an empty list is stored as none.
fn logout_uris(list: &Option<Vec<String>>) -> Result<Option<serde_json::Value>> {
    let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if list.len() > MAX_REDIRECT_URIS {
        return Err(Error::invalid_field(
            "post_logout_redirect_uris",
            format!("at most {MAX_REDIRECT_URIS}"),
        ));
    }
    let list: Vec<String> = list
        .iter()
        .map(|u| {
            validate_redirect_uri(u).map_err(|e| match e {
                Error::InvalidRequest { message, .. } => Error::invalid_field(
                    "post_logout_redirect_uris",
                    message.trim_start_matches("redirect_uris: ").to_owned(),
                ),
                other => other,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Some(json!(list)))
}

/// Validates a `backchannel_logout_uri`: Heimdall POSTs to it from the server, so
/// it is held to the webhook URL rules (https, no private or loopback address unless
/// `HEIMDALL_WEBHOOK_ALLOW_PRIVATE`, no fragment). Empty or `null` is none.
pub async fn backchannel_uri(
    state: &AppState,
    value: &Option<Option<String>>,
) -> Result<Option<String>> {
    let Some(raw) = value.clone().flatten().filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    crate::services::webhooks::validate_url(state, &raw)
        .await
        .map(Some)
        .map_err(|e| match e {
            Error::InvalidRequest { message, .. } => Error::invalid_field(
                "backchannel_logout_uri",
                message.trim_start_matches("url: ").to_owned(),
            ),
            other => other,
        })
}

/// The client's registered RP-Initiated Logout targets.
pub fn post_logout_redirect_uris(client: &oauth_client::Model) -> Vec<String> {
    client
        .post_logout_redirect_uris
        .as_ref()
        .map(uris)
        .unwrap_or_default()
}

pub fn redirect_uris(client: &oauth_client::Model) -> Vec<String> {
    uris(&client.redirect_uris)
}

pub fn allowed_scopes(client: &oauth_client::Model) -> Vec<String> {
    scopes_of(&client.allowed_scopes)
}
