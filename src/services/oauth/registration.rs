//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592),
//! and the initial access tokens that app administrators mint for it
//! (docs/src/oauth-extensions.md).
//!
//! The app setting `dynamic_registration` decides who may register: nobody (`off`),
//! anyone (`open`, throttled per IP), or holders of an initial access token
//! (`token`). Registered clients are ordinary third-party OAuth clients, never
//! first-party; their registration access token (shown once, stored as a keyed hash)
//! reads, replaces and deletes the registration.

use axum::http::StatusCode;
use entity::{oauth_client, oauth_client_settings, oauth_initial_access_token};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{OAuthError, clients, settings as client_settings};
use crate::{
    access::{Actor, AppAdmin},
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        throttle, validate,
    },
    state::AppState,
};

/// The app setting `dynamic_registration`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DynamicRegistration {
    /// No dynamic registration; the registration endpoint is not advertised.
    #[default]
    Off,
    /// Anyone may register (throttled per IP).
    Open,
    /// Registration needs an initial access token.
    Token,
}

/// Registrations per IP and app in `open` mode.
pub const OPEN_REGISTRATIONS_PER_IP: throttle::Limit = throttle::Limit {
    max_failures: 20,
    window: chrono::Duration::hours(1),
};

/// Grant types a registered client may use.
pub const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

fn invalid_metadata(description: impl Into<String>) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
        description,
    )
}

fn invalid_redirect(description: impl Into<String>) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_redirect_uri", description)
}

/// A presented token refused: the challenge names the error (RFC 6750 §3).
fn invalid_token(description: impl Into<String>) -> OAuthError {
    let mut out = OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", description);
    out.challenge = Some(r#"Bearer realm="heimdall", error="invalid_token""#.to_owned());
    out
}

/// No token at all: a challenge without an error code (RFC 6750 §3.1).
fn token_required(description: impl Into<String>) -> OAuthError {
    let mut out = OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", description);
    out.challenge = Some(r#"Bearer realm="heimdall""#.to_owned());
    out
}

/// A field error of the shared validators, as `invalid_client_metadata`.
fn metadata_error(error: Error) -> OAuthError {
    match error {
        Error::InvalidRequest { message, .. } => invalid_metadata(message),
        other => other.into(),
    }
}

/// Validated client metadata.
#[derive(Debug, Clone)]
struct Parsed {
    name: String,
    redirect_uris: Vec<String>,
    auth_method: String,
    grant_types: Vec<String>,
    scopes: Vec<String>,
    logo_url: Option<String>,
    homepage_url: Option<String>,
    privacy_policy_url: Option<String>,
    terms_of_service_url: Option<String>,
    jwks: Option<Value>,
    /// Where the client publishes its keys instead (checked and fetched on use).
    jwks_uri: Option<String>,
    /// OIDC Core §8: `public` or `pairwise`, and the sector's list of redirect URIs
    /// (validated, and fetched, by `pairwise::validate`).
    subject_type: Option<String>,
    sector_identifier_uri: Option<String>,
    id_token_alg: Option<String>,
    require_par: bool,
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`.
    dpop_bound: bool,
    /// OpenID Connect Back-Channel Logout (checked like a webhook URL on use).
    backchannel_uri: Option<String>,
    backchannel_session_required: bool,
    /// Kept as registered and returned in the representation.
    extra: Map<String, Value>,
}

fn string_field(
    body: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<String>, OAuthError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(invalid_metadata(format!("{name} must be a string"))),
    }
}

fn string_list(
    body: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<Vec<String>>, OAuthError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid_metadata(format!("{name} must be an array of strings")))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid_metadata(format!(
            "{name} must be an array of strings"
        ))),
    }
}

/// Validates a JWK Set: an object with `keys`, each a public key Heimdall can use.
pub fn validate_jwks(jwks: &Value) -> std::result::Result<Value, String> {
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| format!("jwks is not a JWK Set: {e}"))?;
    if set.keys.is_empty() || set.keys.len() > 10 {
        return Err("jwks must hold between 1 and 10 keys".into());
    }
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for key in &keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            if key.get(private).is_some() {
                return Err(
                    "jwks must hold public keys only (no private or symmetric key material)".into(),
                );
            }
        }
    }
    for key in &set.keys {
        jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| format!("a key of jwks cannot be used: {e}"))?;
    }
    Ok(json!({ "keys": keys }))
}

fn parse(body: &Map<String, Value>) -> std::result::Result<Parsed, OAuthError> {
    let auth_method = string_field(body, "token_endpoint_auth_method")?
        .unwrap_or_else(|| "client_secret_basic".to_owned());
    if !super::metadata::AUTH_METHODS.contains(&auth_method.as_str()) {
        return Err(invalid_metadata(format!(
            "token_endpoint_auth_method must be one of {}",
            super::metadata::AUTH_METHODS.join(", ")
        )));
    }
    let grant_types =
        string_list(body, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types.is_empty() {
        return Err(invalid_metadata("grant_types must not be empty"));
    }
    if let Some(bad) = grant_types
        .iter()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(invalid_metadata(format!(
            "grant type '{}' is not available to registered clients (supported: {})",
            bad.chars().take(80).collect::<String>(),
            GRANT_TYPES.join(", ")
        )));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(invalid_metadata(
            "grant_types must include authorization_code",
        ));
    }
    let response_types =
        string_list(body, "response_types")?.unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|r| r != "code") || response_types.is_empty() {
        return Err(invalid_metadata("response_types must be [\"code\"]"));
    }
    let redirect_uris = string_list(body, "redirect_uris")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid_redirect("redirect_uris is required (at least one URI)"))?;
    if redirect_uris.len() > clients::MAX_REDIRECT_URIS {
        return Err(invalid_redirect(format!(
            "at most {} redirect URIs",
            clients::MAX_REDIRECT_URIS
        )));
    }
    for uri in &redirect_uris {
        clients::validate_redirect_uri(uri).map_err(|e| invalid_redirect(e.to_string()))?;
    }
    let mut extra = Map::new();
    if let Some(post_logout) = string_list(body, "post_logout_redirect_uris")? {
        if post_logout.len() > clients::MAX_REDIRECT_URIS {
            return Err(invalid_metadata("too many post_logout_redirect_uris"));
        }
        for uri in &post_logout {
            clients::validate_redirect_uri(uri)
                .map_err(|e| invalid_metadata(format!("post_logout_redirect_uris: {e}")))?;
        }
        extra.insert("post_logout_redirect_uris".into(), json!(post_logout));
    }
    let scope = string_field(body, "scope")?;
    let scopes = match scope {
        Some(scope) => {
            let requested: Vec<String> =
                scope.split_ascii_whitespace().map(str::to_owned).collect();
            clients::validate_scopes(&requested).map_err(metadata_error)?
        }
        None => {
            let mut scopes = vec!["openid".to_owned(), "profile".into(), "email".into()];
            if grant_types.iter().any(|g| g == "refresh_token") {
                scopes.push("offline_access".into());
            }
            scopes
        }
    };
    let name = match string_field(body, "client_name")? {
        Some(name) => validate::display_text("client_name", &name, 200).map_err(metadata_error)?,
        None => "Unnamed client".to_owned(),
    };
    let url = |field: &str| -> std::result::Result<Option<String>, OAuthError> {
        clients::optional_url(field, &string_field(body, field)?).map_err(metadata_error)
    };
    let logo_url = url("logo_uri")?;
    let homepage_url = url("client_uri")?;
    let privacy_policy_url = url("policy_uri")?;
    let terms_of_service_url = url("tos_uri")?;
    let jwks = match body.get("jwks") {
        None | Some(Value::Null) => None,
        Some(jwks) => Some(validate_jwks(jwks).map_err(invalid_metadata)?),
    };
    let jwks_uri = string_field(body, "jwks_uri")?;
    if jwks.is_some() && jwks_uri.is_some() {
        return Err(invalid_metadata(
            "jwks and jwks_uri must not both be present (RFC 7591 §2)",
        ));
    }
    if auth_method == "private_key_jwt" && jwks.is_none() && jwks_uri.is_none() {
        return Err(invalid_metadata(
            "private_key_jwt needs the client's public keys (jwks or jwks_uri)",
        ));
    }
    let subject_type = string_field(body, "subject_type")?;
    let sector_identifier_uri = string_field(body, "sector_identifier_uri")?;
    let id_token_alg = match string_field(body, "id_token_signed_response_alg")?.as_deref() {
        None => None,
        Some("HS256") if auth_method != "none" => Some("HS256".to_owned()),
        Some(alg) if alg == "RS256" || alg == "ES256" || alg == "EdDSA" => None,
        Some(other) => {
            return Err(invalid_metadata(format!(
                "id_token_signed_response_alg '{}' is not supported",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    let require_par = match body.get("require_pushed_authorization_requests") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(invalid_metadata(
                "require_pushed_authorization_requests must be a boolean",
            ));
        }
    };
    let dpop_bound = match body.get("dpop_bound_access_tokens") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(invalid_metadata(
                "dpop_bound_access_tokens must be a boolean",
            ));
        }
    };
    let backchannel_uri = string_field(body, "backchannel_logout_uri")?;
    let backchannel_session_required = match body.get("backchannel_logout_session_required") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(invalid_metadata(
                "backchannel_logout_session_required must be a boolean",
            ));
        }
    };
    for key in ["contacts"] {
        if let Some(list) = string_list(body, key)? {
            if list.len() > 10 || list.iter().any(|c| c.len() > 320) {
                return Err(invalid_metadata(format!("{key}: at most 10 short entries")));
            }
            extra.insert(key.into(), json!(list));
        }
    }
    for key in ["software_id", "software_version"] {
        if let Some(value) = string_field(body, key)? {
            if value.len() > 200 {
                return Err(invalid_metadata(format!("{key} is too long")));
            }
            extra.insert(key.into(), json!(value));
        }
    }
    extra.insert("grant_types".into(), json!(grant_types));
    extra.insert("response_types".into(), json!(response_types));
    Ok(Parsed {
        name,
        redirect_uris,
        auth_method,
        grant_types,
        scopes,
        logo_url,
        homepage_url,
        privacy_policy_url,
        terms_of_service_url,
        jwks,
        jwks_uri,
        subject_type,
        sector_identifier_uri,
        id_token_alg,
        require_par,
        dpop_bound,
        backchannel_uri,
        backchannel_session_required,
        extra,
    })
}

/// The registered `backchannel_logout_uri`, held to the webhook URL rules.
async fn backchannel_uri(
    state: &AppState,
    parsed: &Parsed,
) -> std::result::Result<Option<String>, OAuthError> {
    clients::backchannel_uri(state, &Some(parsed.backchannel_uri.clone()))
        .await
        .map_err(|e| match e {
            Error::InvalidRequest { message, .. } => invalid_metadata(message),
            other => OAuthError::from(other),
        })
}

/// The registered `jwks_uri`, held to the webhook URL rules and fetched once to check
/// that it answers a usable JWK Set (so a typo fails the registration, not every
/// later token request).
async fn jwks_uri(
    state: &AppState,
    parsed: &Parsed,
) -> std::result::Result<Option<String>, OAuthError> {
    let Some(raw) = &parsed.jwks_uri else {
        return Ok(None);
    };
    let uri = super::remote::validate_document_url(state, "jwks_uri", raw)
        .await
        .map_err(metadata_error)?;
    state
        .client_documents
        .jwks(&uri, None, state.now())
        .await
        .map_err(|why| invalid_metadata(format!("jwks_uri: {why}")))?;
    Ok(Some(uri))
}

/// The client's subject type and pairwise sector (OIDC Core §8).
async fn subject(
    state: &AppState,
    parsed: &Parsed,
    current: Option<&oauth_client::Model>,
) -> std::result::Result<super::pairwise::SubjectSettings, OAuthError> {
    super::pairwise::validate(
        state,
        Some(
            parsed
                .subject_type
                .as_deref()
                .unwrap_or(super::pairwise::PUBLIC),
        ),
        parsed.sector_identifier_uri.as_deref(),
        &parsed.redirect_uris,
        current,
    )
    .await
    .map_err(metadata_error)
}

fn uses_secret(auth_method: &str) -> bool {
    auth_method != "none" && auth_method != "private_key_jwt"
}

/// The registration as RFC 7591 §3.2.1 returns it.
fn representation(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    settings: &oauth_client_settings::Model,
) -> Value {
    let mut out = Map::new();
    out.insert("client_id".into(), json!(client.id.to_string()));
    out.insert(
        "client_id_issued_at".into(),
        json!(client.created_at.timestamp()),
    );
    if client.client_type == clients::CONFIDENTIAL && client.secret_hash.is_some() {
        out.insert("client_secret_expires_at".into(), json!(0));
    }
    out.insert("client_name".into(), json!(client.name));
    out.insert(
        "redirect_uris".into(),
        json!(clients::redirect_uris(client)),
    );
    out.insert(
        "token_endpoint_auth_method".into(),
        json!(settings.token_endpoint_auth_method),
    );
    out.insert(
        "scope".into(),
        json!(clients::allowed_scopes(client).join(" ")),
    );
    for (key, value) in [
        ("logo_uri", &client.logo_url),
        ("client_uri", &client.homepage_url),
        ("policy_uri", &client.privacy_policy_url),
        ("tos_uri", &client.terms_of_service_url),
    ] {
        if let Some(v) = value {
            out.insert(key.into(), json!(v));
        }
    }
    if let Some(jwks) = &settings.jwks {
        out.insert("jwks".into(), jwks.clone());
    }
    if let Some(uri) = &settings.jwks_uri {
        out.insert("jwks_uri".into(), json!(uri));
    }
    out.insert("subject_type".into(), json!(client.subject_type));
    if let Some(uri) = &client.sector_identifier_uri {
        out.insert("sector_identifier_uri".into(), json!(uri));
    }
    if let Some(alg) = &client.id_token_signed_response_alg {
        out.insert("id_token_signed_response_alg".into(), json!(alg));
    }
    out.insert(
        "require_pushed_authorization_requests".into(),
        json!(settings.require_par),
    );
    out.insert(
        "dpop_bound_access_tokens".into(),
        json!(client.dpop_bound_access_tokens),
    );
    if let Some(uri) = &client.backchannel_logout_uri {
        out.insert("backchannel_logout_uri".into(), json!(uri));
        out.insert(
            "backchannel_logout_session_required".into(),
            json!(client.backchannel_logout_session_required),
        );
    }
    if let Some(extra) = settings.metadata.as_object() {
        for (k, v) in extra {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert(
        "registration_client_uri".into(),
        json!(format!(
            "{}/v1/oauth/register/{}",
            state.issuer(&app.name),
            client.id
        )),
    );
    Value::Object(out)
}

/// Verifies and spends an initial access token; returns its id.
async fn spend_initial_token(
    state: &AppState,
    app_id: Uuid,
    presented: &str,
) -> std::result::Result<Uuid, OAuthError> {
    let invalid = || invalid_token("the initial access token is invalid, expired or used up");
    if !presented.starts_with(prefix::INITIAL_ACCESS_TOKEN) || presented.len() > 200 {
        return Err(invalid());
    }
    let now = state.now();
    let found = oauth_initial_access_token::Entity::find()
        .filter(oauth_initial_access_token::Column::AppId.eq(app_id))
        .filter(
            oauth_initial_access_token::Column::TokenHash.is_in(state.hasher.candidates(presented)),
        )
        .one(&*state.db)
        .await?
        .ok_or_else(invalid)?;
    if found.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    if found.uses_left.is_some() {
        // One registration per use, claimed atomically.
        let txn = state.db.begin_write().await?;
        let claimed = oauth_initial_access_token::Entity::update_many()
            .col_expr(
                oauth_initial_access_token::Column::UsesLeft,
                Expr::col(oauth_initial_access_token::Column::UsesLeft).sub(1),
            )
            .filter(oauth_initial_access_token::Column::Id.eq(found.id))
            .filter(oauth_initial_access_token::Column::UsesLeft.gt(0))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if claimed.rows_affected == 0 {
            return Err(invalid());
        }
    }
    Ok(found.id)
}

/// `POST /{slug}/v1/oauth/register`: registers a client; the answer carries the
/// secret and the registration access token, once.
pub async fn register(
    state: &AppState,
    app: &entity::app::Model,
    bearer: Option<&str>,
    body: &Map<String, Value>,
    meta: &RequestMeta,
) -> std::result::Result<Value, OAuthError> {
    let mode = state.apps.settings(app).await.dynamic_registration;
    let actor = match mode {
        DynamicRegistration::Off => {
            return Err(OAuthError::new(
                StatusCode::FORBIDDEN,
                "access_denied",
                "dynamic client registration is off for this app",
            ));
        }
        DynamicRegistration::Token => {
            let token = bearer.ok_or_else(|| {
                token_required("registration needs an initial access token (Authorization: Bearer)")
            })?;
            // Validate the metadata before a use of the token is spent.
            parse(body)?;
            let id = spend_initial_token(state, app.id, token).await?;
            // The registrant is unknown but for the token it holds.
            Actor {
                kind: "anonymous",
                id: format!("initial_access_token:{id}"),
            }
        }
        DynamicRegistration::Open => {
            let key = format!(
                "dcr:ip:{}:{}",
                app.id,
                meta.ip.as_deref().unwrap_or("unknown")
            );
            throttle::check(state, &key, OPEN_REGISTRATIONS_PER_IP).await?;
            parse(body)?;
            throttle::fail(state, &key, OPEN_REGISTRATIONS_PER_IP).await?;
            Actor {
                kind: "anonymous",
                id: meta.ip.clone().unwrap_or_else(|| "unknown".into()),
            }
        }
    };
    let parsed = parse(body)?;
    let backchannel_uri = backchannel_uri(state, &parsed).await?;
    let jwks_uri = jwks_uri(state, &parsed).await?;
    let subject = subject(state, &parsed, None).await?;
    let id = db::new_id();
    let (secret, secret_hash, sealed) = if uses_secret(&parsed.auth_method) {
        // client_secret_jwt and HS256 ID tokens need the secret itself: sealed.
        let keep = parsed.auth_method == "client_secret_jwt" || parsed.id_token_alg.is_some();
        let (secret, hash, sealed) = clients::new_secret(state, id, keep)?;
        (Some(secret), Some(hash), sealed)
    } else {
        (None, None, None)
    };
    let registration_token = crypto::generate_secret(prefix::REGISTRATION_TOKEN)?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let client = oauth_client::ActiveModel {
        id: Set(id),
        app_id: Set(app.id),
        owner_id: Set(None),
        name: Set(parsed.name.clone()),
        description: Set(None),
        logo_url: Set(parsed.logo_url.clone()),
        homepage_url: Set(parsed.homepage_url.clone()),
        privacy_policy_url: Set(parsed.privacy_policy_url.clone()),
        terms_of_service_url: Set(parsed.terms_of_service_url.clone()),
        redirect_uris: Set(json!(parsed.redirect_uris)),
        // RP-initiated logout reads the client's own column (docs/src/hosted-pages.md).
        post_logout_redirect_uris: Set(parsed.extra.get("post_logout_redirect_uris").cloned()),
        backchannel_logout_uri: Set(backchannel_uri.clone()),
        backchannel_logout_session_required: Set(parsed.backchannel_session_required),
        allowed_scopes: Set(json!(parsed.scopes)),
        client_type: Set(if parsed.auth_method == "none" {
            clients::PUBLIC.to_owned()
        } else {
            clients::CONFIDENTIAL.to_owned()
        }),
        secret_hash: Set(secret_hash),
        sealed_secret: Set(sealed),
        id_token_signed_response_alg: Set(parsed.id_token_alg.clone()),
        is_active: Set(true),
        is_first_party: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        dpop_bound_access_tokens: Set(parsed.dpop_bound),
        // Token exchange is an administrator's decision (REST or GraphQL), never
        // the registrant's.
        token_exchange: Set(None),
        subject_type: Set(subject.subject_type),
        sector_identifier_uri: Set(subject.sector_identifier_uri),
        sector_identifier: Set(subject.sector),
    }
    .insert(&txn)
    .await?;
    let settings = oauth_client_settings::ActiveModel {
        client_id: Set(id),
        app_id: Set(app.id),
        token_endpoint_auth_method: Set(parsed.auth_method.clone()),
        jwks: Set(parsed.jwks.clone()),
        jwks_uri: Set(jwks_uri),
        require_par: Set(parsed.require_par),
        dynamically_registered: Set(true),
        registration_token_hash: Set(Some(state.hasher.hash(&registration_token))),
        metadata: Set(Value::Object(parsed.extra.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "oauth.client_registered", actor)
            .target(Target::new("oauth_client", id))
            .metadata(json!({
                "client_name": client.name,
                "token_endpoint_auth_method": parsed.auth_method,
                "grant_types": parsed.grant_types,
            })),
    )
    .await?;
    let mut out = representation(state, app, &client, &settings);
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
    }
    out["registration_access_token"] = json!(registration_token);
    Ok(out)
}

/// The registration a registration access token manages (RFC 7592 §2).
async fn managed(
    state: &AppState,
    app: &entity::app::Model,
    client_id: &str,
    bearer: Option<&str>,
) -> std::result::Result<(oauth_client::Model, oauth_client_settings::Model), OAuthError> {
    let invalid = || invalid_token("the registration access token is invalid for this client");
    let token = bearer.ok_or_else(|| {
        token_required("the registration access token is required (Authorization: Bearer)")
    })?;
    if !token.starts_with(prefix::REGISTRATION_TOKEN) || token.len() > 200 {
        return Err(invalid());
    }
    let settings = oauth_client_settings::Entity::find()
        .filter(oauth_client_settings::Column::AppId.eq(app.id))
        .filter(
            oauth_client_settings::Column::RegistrationTokenHash
                .is_in(state.hasher.candidates(token)),
        )
        .one(&*state.db)
        .await?
        .ok_or_else(invalid)?;
    if settings.client_id.to_string() != client_id {
        return Err(invalid());
    }
    let client = clients::find(state, app.id, client_id)
        .await?
        .ok_or_else(invalid)?;
    Ok((client, settings))
}

fn client_actor(client: &oauth_client::Model) -> Actor {
    Actor {
        kind: "oauth_client",
        id: client.id.to_string(),
    }
}

/// `GET /{slug}/v1/oauth/register/{client_id}` (RFC 7592 §2.1). The answer carries
/// the `registration_access_token` (§3 requires it); Heimdall keeps only a hash of
/// the token, so it is a new one and the one presented stops working (as in
/// Keycloak). The swap is conditional on the presented token's hash, so two
/// concurrent uses of one token cannot both get a successor.
pub async fn read(
    state: &AppState,
    app: &entity::app::Model,
    client_id: &str,
    bearer: Option<&str>,
) -> std::result::Result<Value, OAuthError> {
    let (client, settings) = managed(state, app, client_id, bearer).await?;
    let token = crypto::generate_secret(prefix::REGISTRATION_TOKEN)?;
    let txn = state.db.begin_write().await?;
    let swapped = oauth_client_settings::Entity::update_many()
        .col_expr(
            oauth_client_settings::Column::RegistrationTokenHash,
            Expr::value(state.hasher.hash(&token)),
        )
        .filter(oauth_client_settings::Column::ClientId.eq(settings.client_id))
        .filter(
            oauth_client_settings::Column::RegistrationTokenHash
                .eq(settings.registration_token_hash.clone()),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    if swapped.rows_affected != 1 {
        return Err(invalid_token(
            "the registration access token is invalid for this client",
        ));
    }
    let mut out = representation(state, app, &client, &settings);
    out["registration_access_token"] = json!(token);
    Ok(out)
}

/// `PUT /{slug}/v1/oauth/register/{client_id}` (RFC 7592 §2.2): the new metadata
/// replaces the old; the secret stays, the registration token is succeeded (§3).
pub async fn replace(
    state: &AppState,
    app: &entity::app::Model,
    client_id: &str,
    bearer: Option<&str>,
    body: &Map<String, Value>,
    meta: &RequestMeta,
) -> std::result::Result<Value, OAuthError> {
    let (client, settings) = managed(state, app, client_id, bearer).await?;
    match body.get("client_id") {
        Some(Value::String(id)) if *id == client.id.to_string() => {}
        _ => {
            return Err(invalid_metadata(
                "client_id must be present and equal the registered client's",
            ));
        }
    }
    if let Some(secret) = body.get("client_secret") {
        let matches = secret.as_str().is_some_and(|s| {
            client
                .secret_hash
                .as_deref()
                .is_some_and(|hash| state.hasher.verify(s, hash))
        });
        if !matches {
            return Err(invalid_metadata(
                "client_secret, when sent, must equal the current secret",
            ));
        }
    }
    let parsed = parse(body)?;
    let was_public = client.client_type == clients::PUBLIC;
    if was_public != (parsed.auth_method == "none") {
        return Err(invalid_metadata(
            "a public client cannot become confidential (or the reverse): register a new client",
        ));
    }
    let needs_sealed = parsed.auth_method == "client_secret_jwt" || parsed.id_token_alg.is_some();
    if needs_sealed && client.sealed_secret.is_none() && !was_public {
        return Err(invalid_metadata(
            "client_secret_jwt and HS256 ID tokens need a secret kept for signing: register a new client",
        ));
    }
    if !uses_secret(&parsed.auth_method) && !was_public && parsed.auth_method != "private_key_jwt" {
        return Err(invalid_metadata(
            "this authentication method is not available for this client",
        ));
    }
    let now = state.now();
    let mut model = client.clone().into_active_model();
    model.name = Set(parsed.name.clone());
    model.logo_url = Set(parsed.logo_url.clone());
    model.homepage_url = Set(parsed.homepage_url.clone());
    model.privacy_policy_url = Set(parsed.privacy_policy_url.clone());
    model.terms_of_service_url = Set(parsed.terms_of_service_url.clone());
    model.redirect_uris = Set(json!(parsed.redirect_uris));
    model.post_logout_redirect_uris = Set(parsed.extra.get("post_logout_redirect_uris").cloned());
    model.backchannel_logout_uri = Set(backchannel_uri(state, &parsed).await?);
    model.backchannel_logout_session_required = Set(parsed.backchannel_session_required);
    model.allowed_scopes = Set(json!(parsed.scopes));
    model.id_token_signed_response_alg = Set(parsed.id_token_alg.clone());
    model.dpop_bound_access_tokens = Set(parsed.dpop_bound);
    let subject = subject(state, &parsed, Some(&client)).await?;
    model.subject_type = Set(subject.subject_type);
    model.sector_identifier_uri = Set(subject.sector_identifier_uri);
    model.sector_identifier = Set(subject.sector);
    model.updated_at = Set(now);
    let mut settings_model = settings.into_active_model();
    settings_model.token_endpoint_auth_method = Set(parsed.auth_method.clone());
    settings_model.jwks = Set(parsed.jwks.clone());
    settings_model.jwks_uri = Set(jwks_uri(state, &parsed).await?);
    settings_model.require_par = Set(parsed.require_par);
    settings_model.metadata = Set(Value::Object(parsed.extra.clone()));
    settings_model.updated_at = Set(now);
    // A successor token, as on a read (RFC 7592 §3).
    let token = crypto::generate_secret(prefix::REGISTRATION_TOKEN)?;
    settings_model.registration_token_hash = Set(Some(state.hasher.hash(&token)));
    let txn = state.db.begin_write().await?;
    let client = model.update(&txn).await?;
    let settings = settings_model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app.id,
            "oauth.client_registration_updated",
            client_actor(&client),
        )
        .target(Target::new("oauth_client", client.id)),
    )
    .await?;
    let mut out = representation(state, app, &client, &settings);
    out["registration_access_token"] = json!(token);
    Ok(out)
}

/// `DELETE /{slug}/v1/oauth/register/{client_id}` (RFC 7592 §2.3): the client and
/// its tokens are gone.
pub async fn delete(
    state: &AppState,
    app: &entity::app::Model,
    client_id: &str,
    bearer: Option<&str>,
    meta: &RequestMeta,
) -> std::result::Result<(), OAuthError> {
    let (client, _) = managed(state, app, client_id, bearer).await?;
    let txn = state.db.begin_write().await?;
    oauth_client::Entity::delete_by_id(client.id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "oauth.client_unregistered", client_actor(&client))
            .target(Target::new("oauth_client", client.id)),
    )
    .await?;
    Ok(())
}

/// An initial access token as administrators see it (never the token itself, except
/// once at creation).
#[derive(Debug, Clone)]
pub struct InitialToken {
    pub model: oauth_initial_access_token::Model,
    pub token: Option<String>,
}

/// `POST /v1/apps/{app}/oauth-initial-access-tokens`.
pub async fn mint_initial_token(
    state: &AppState,
    admin: &AppAdmin,
    name: Option<String>,
    expires_in: Option<i64>,
    max_uses: Option<i32>,
    meta: &RequestMeta,
) -> Result<InitialToken> {
    let name = match name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(validate::display_text("name", n, 200)?),
    };
    if let Some(seconds) = expires_in
        && !(60..=365 * 24 * 3600).contains(&seconds)
    {
        return Err(Error::invalid_field(
            "expires_in",
            "must be between 60 seconds and a year",
        ));
    }
    if let Some(uses) = max_uses
        && !(1..=100_000).contains(&uses)
    {
        return Err(Error::invalid_field(
            "max_uses",
            "must be between 1 and 100000",
        ));
    }
    let token = crypto::generate_secret(prefix::INITIAL_ACCESS_TOKEN)?;
    let now = state.now();
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let model = oauth_initial_access_token::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        token_hash: Set(state.hasher.hash(&token)),
        name: Set(name),
        uses_left: Set(max_uses),
        expires_at: Set(expires_in.map(|s| now + chrono::Duration::seconds(s))),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app_id,
            "oauth.initial_access_token_created",
            admin.actor().clone(),
        )
        .target(Target::new("oauth_initial_access_token", model.id))
        .metadata(json!({ "max_uses": max_uses, "expires_at": model.expires_at })),
    )
    .await?;
    Ok(InitialToken {
        model,
        token: Some(token),
    })
}

/// The app's initial access tokens, newest first (at most 100).
pub async fn list_initial_tokens(
    state: &AppState,
    admin: &AppAdmin,
) -> Result<Vec<oauth_initial_access_token::Model>> {
    Ok(oauth_initial_access_token::Entity::find()
        .filter(oauth_initial_access_token::Column::AppId.eq(admin.app().id))
        .order_by_desc(oauth_initial_access_token::Column::Id)
        .limit(100)
        .all(&*state.db)
        .await?)
}

/// Revokes an initial access token.
pub async fn revoke_initial_token(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let not_found = || Error::not_found("initial access token not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let deleted = oauth_initial_access_token::Entity::delete_many()
        .filter(oauth_initial_access_token::Column::AppId.eq(app_id))
        .filter(oauth_initial_access_token::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(not_found());
    }
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app_id,
            "oauth.initial_access_token_revoked",
            admin.actor().clone(),
        )
        .target(Target::new("oauth_initial_access_token", id)),
    )
    .await?;
    Ok(())
}

/// The settings row of a client, if it has one (re-exported for the token endpoint).
pub use client_settings::of as settings_of;
