//! API resources and their access tokens (RFC 8707 resource indicators, RFC 9068 JWT
//! access tokens; docs/src/oauth-extensions.md#api-resources-and-jwt-access-tokens).
//!
//! Administrators register the APIs of an app. A token request naming one of them as
//! `resource` gets an access token for it: an RFC 9068 JWT (`typ: at+jwt`, `aud` the
//! resource's identifier) signed with the app's key and verifiable with its JWKS, or
//! an opaque `hm_at_` token. Without `resource`, tokens stay opaque.

use chrono::{DateTime, Utc};
use entity::{api_resource, oauth_client};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{OAuthError, clients};
use crate::{
    access::{AppAdmin, OAuthAccess, Principal},
    db,
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        authz, users, validate,
    },
    state::AppState,
};

pub const FORMAT_JWT: &str = "jwt";
pub const FORMAT_OPAQUE: &str = "opaque";
/// The JOSE `typ` of RFC 9068 access tokens.
pub const AT_JWT: &str = "at+jwt";
pub const TTL_RANGE: (i32, i32) = (60, 24 * 3600);

/// Fields of a resource as requested (`None`: unchanged, or the default).
#[derive(Debug, Clone, Default)]
pub struct ResourceInput {
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub access_token_format: Option<String>,
    pub token_ttl: Option<i32>,
    pub include_permissions: Option<bool>,
}

/// An absolute URI without a fragment (RFC 8707 §2): `https`, `http` on loopback, or
/// a URN.
fn validate_identifier(text: &str) -> Result<String> {
    let field = "identifier";
    let text = text.trim();
    if text.is_empty()
        || text.len() > 512
        || text.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::invalid_field(
            field,
            "must be an absolute URI of at most 512 characters",
        ));
    }
    let url = url::Url::parse(text)
        .map_err(|_| Error::invalid_field(field, "must be an absolute URI"))?;
    if url.fragment().is_some() || text.contains('#') {
        return Err(Error::invalid_field(
            field,
            "must not have a fragment (RFC 8707)",
        ));
    }
    match url.scheme() {
        "https" | "urn" => {}
        "http" if matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) => {}
        _ => {
            return Err(Error::invalid_field(
                field,
                "must be an https URL (http only on loopback) or a URN",
            ));
        }
    }
    Ok(text.to_owned())
}

fn validate_scopes(scopes: &[String]) -> Result<Vec<String>> {
    if scopes.len() > 100 {
        return Err(Error::invalid_field("scopes", "at most 100 scopes"));
    }
    let mut out: Vec<String> = Vec::new();
    for scope in scopes {
        let ok = !scope.is_empty()
            && scope.len() <= 100
            && scope.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-' | b'/')
            });
        if !ok {
            return Err(Error::invalid_field(
                "scopes",
                format!(
                    "'{}' is not a scope (letters, digits, : . _ - /)",
                    scope.chars().take(100).collect::<String>()
                ),
            ));
        }
        if !out.contains(scope) {
            out.push(scope.clone());
        }
    }
    Ok(out)
}

fn validate_format(format: &str) -> Result<String> {
    match format {
        FORMAT_JWT | FORMAT_OPAQUE => Ok(format.to_owned()),
        _ => Err(Error::invalid_field(
            "access_token_format",
            "must be jwt or opaque",
        )),
    }
}

fn validate_ttl(ttl: i32) -> Result<i32> {
    if (TTL_RANGE.0..=TTL_RANGE.1).contains(&ttl) {
        Ok(ttl)
    } else {
        Err(Error::invalid_field(
            "token_ttl",
            format!(
                "must be between {} and {} seconds",
                TTL_RANGE.0, TTL_RANGE.1
            ),
        ))
    }
}

pub fn scopes(resource: &api_resource::Model) -> Vec<String> {
    crate::services::permissions::of_json(&resource.scopes)
}

/// `POST /v1/apps/{app}/api-resources`.
pub async fn create(
    state: &AppState,
    admin: &AppAdmin,
    input: ResourceInput,
    meta: &RequestMeta,
) -> Result<api_resource::Model> {
    let identifier = validate_identifier(
        input
            .identifier
            .as_deref()
            .ok_or_else(|| Error::invalid_field("identifier", "is required"))?,
    )?;
    let name = validate::display_text(
        "name",
        input.name.as_deref().unwrap_or(identifier.as_str()),
        200,
    )?;
    let scopes = validate_scopes(&input.scopes.clone().unwrap_or_default())?;
    let format = validate_format(input.access_token_format.as_deref().unwrap_or(FORMAT_JWT))?;
    let ttl = validate_ttl(input.token_ttl.unwrap_or(3600))?;
    let now = state.now();
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let model = api_resource::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        identifier: Set(identifier.clone()),
        name: Set(name),
        scopes: Set(json!(scopes)),
        access_token_format: Set(format),
        token_ttl: Set(ttl),
        include_permissions: Set(input.include_permissions.unwrap_or(false)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(format!(
        "an API resource with identifier '{identifier}' already exists"
    )))?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "api_resource.created", admin.actor().clone())
            .target(Target::new("api_resource", model.id))
            .metadata(json!({ "identifier": model.identifier })),
    )
    .await?;
    Ok(model)
}

/// The app's resources, by identifier (at most 200).
pub async fn list(state: &AppState, admin: &AppAdmin) -> Result<Vec<api_resource::Model>> {
    Ok(api_resource::Entity::find()
        .filter(api_resource::Column::AppId.eq(admin.app().id))
        .order_by_asc(api_resource::Column::Identifier)
        .limit(200)
        .all(&*state.db)
        .await?)
}

pub async fn get(state: &AppState, admin: &AppAdmin, id: &str) -> Result<api_resource::Model> {
    let not_found = || Error::not_found("API resource not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    api_resource::Entity::find_by_id(id)
        .filter(api_resource::Column::AppId.eq(admin.app().id))
        .one(&*state.db)
        .await?
        .ok_or_else(not_found)
}

/// `PATCH /v1/apps/{app}/api-resources/{id}`; the identifier cannot change.
pub async fn update(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    input: ResourceInput,
    meta: &RequestMeta,
) -> Result<api_resource::Model> {
    let current = get(state, admin, id).await?;
    if input
        .identifier
        .as_deref()
        .is_some_and(|i| i.trim() != current.identifier)
    {
        return Err(Error::invalid_field(
            "identifier",
            "cannot be changed (tokens carry it as aud); register a new resource",
        ));
    }
    let mut model = current.clone().into_active_model();
    if let Some(name) = &input.name {
        model.name = Set(validate::display_text("name", name, 200)?);
    }
    if let Some(scopes) = &input.scopes {
        model.scopes = Set(json!(validate_scopes(scopes)?));
    }
    if let Some(format) = &input.access_token_format {
        model.access_token_format = Set(validate_format(format)?);
    }
    if let Some(ttl) = input.token_ttl {
        model.token_ttl = Set(validate_ttl(ttl)?);
    }
    if let Some(include) = input.include_permissions {
        model.include_permissions = Set(include);
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
            "api_resource.updated",
            admin.actor().clone(),
        )
        .target(Target::new("api_resource", current.id)),
    )
    .await?;
    Ok(updated)
}

pub async fn delete(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let current = get(state, admin, id).await?;
    let txn = state.db.begin_write().await?;
    api_resource::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            current.app_id,
            "api_resource.deleted",
            admin.actor().clone(),
        )
        .target(Target::new("api_resource", current.id))
        .metadata(json!({ "identifier": current.identifier })),
    )
    .await?;
    Ok(())
}

/// The resource a token request names; `invalid_target` (RFC 8707 §2) when it is not
/// one of the app's.
pub async fn resolve(
    state: &AppState,
    app_id: Uuid,
    identifier: &str,
) -> std::result::Result<api_resource::Model, OAuthError> {
    let invalid = || {
        OAuthError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_target",
            "resource is not an API registered with this app",
        )
    };
    if identifier.len() > 512 {
        return Err(invalid());
    }
    api_resource::Entity::find()
        .filter(api_resource::Column::AppId.eq(app_id))
        .filter(api_resource::Column::Identifier.eq(identifier))
        .one(&*state.db)
        .await?
        .ok_or_else(invalid)
}

/// What an access token for a resource is about.
pub struct Subject<'a> {
    pub user_id: Uuid,
    pub scopes: &'a [String],
    pub auth_time: DateTime<Utc>,
    pub amr: Option<Vec<String>>,
    /// RFC 9449 `cnf.jkt`.
    pub dpop_jkt: Option<&'a str>,
    /// RFC 8693 `act`.
    pub act: Option<&'a Value>,
    /// At most this lifetime, seconds (an exchanged token ends with its subject).
    pub max_ttl: Option<i64>,
}

/// An RFC 9068 access token for `resource`; returns the token and its lifetime.
pub async fn issue_jwt(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    resource: &api_resource::Model,
    subject: Subject<'_>,
) -> Result<(String, i64)> {
    let now = state.now().timestamp();
    let ttl = subject
        .max_ttl
        .map_or(i64::from(resource.token_ttl), |max| {
            max.min(i64::from(resource.token_ttl))
        });
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(state.issuer(&app.name)));
    claims.insert(
        "sub".into(),
        json!(super::pairwise::subject(state, client, subject.user_id).await?),
    );
    claims.insert("aud".into(), json!(resource.identifier));
    claims.insert("client_id".into(), json!(client.id.to_string()));
    claims.insert("scope".into(), json!(subject.scopes.join(" ")));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ttl));
    claims.insert("jti".into(), json!(db::new_id()));
    claims.insert("auth_time".into(), json!(subject.auth_time.timestamp()));
    if let Some(amr) = subject.amr {
        if amr.iter().any(|m| m == crate::services::mfa::amr::MFA) {
            claims.insert("acr".into(), json!("mfa"));
        }
        claims.insert("amr".into(), json!(amr));
    }
    if let Some(jkt) = subject.dpop_jkt {
        claims.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    if let Some(act) = subject.act {
        claims.insert("act".into(), act.clone());
    }
    if resource.include_permissions {
        let effective = authz::effective(state, app.id, subject.user_id, None).await?;
        claims.insert("permissions".into(), json!(effective.permissions));
    }
    let token = state
        .signing
        .signer(app.id)
        .await?
        .sign_typed(AT_JWT, &claims)?;
    Ok((token, ttl))
}

/// Whether a bearer is an RFC 9068 access token, by its header's `typ` alone: this runs
/// for every JWT bearer, ahead of the verified-token cache, and either way the token
/// is verified next.
pub fn is_at_jwt(token: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Typ<'a> {
        #[serde(borrow)]
        typ: Option<std::borrow::Cow<'a, str>>,
    }
    let Some(header) = token
        .split_once('.')
        .and_then(|(header, _)| crate::crypto::b64url_decode(header))
    else {
        return false;
    };
    serde_json::from_slice::<Typ>(&header)
        .ok()
        .and_then(|h| h.typ)
        .is_some_and(|t| {
            t.eq_ignore_ascii_case(AT_JWT) || t.eq_ignore_ascii_case("application/at+jwt")
        })
}

#[derive(serde::Deserialize)]
struct AtClaims {
    sub: String,
    aud: Value,
    client_id: String,
    scope: Option<String>,
    exp: i64,
    iat: Option<i64>,
    jti: Option<String>,
    cnf: Option<Value>,
    act: Option<Value>,
}

/// Verifies an RFC 9068 access token as a resource server would, with the app's
/// published JWKS: signature, `iss`, `exp`, an `aud` registered with the app; then
/// that the client and the user are still active.
pub async fn authenticate_at_jwt(state: &AppState, token: &str) -> Result<Principal> {
    let invalid = |why: &str| Error::invalid_token(format!("the access token is invalid: {why}"));
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
    ) {
        return Err(invalid("algorithm not accepted"));
    }
    let kid = header.kid.ok_or_else(|| invalid("no kid"))?;
    let key = entity::signing_key::Entity::find_by_id(kid.clone())
        .one(&*state.db)
        .await?
        .ok_or_else(|| invalid("unknown key"))?;
    let app = state
        .apps
        .by_id(key.app_id)
        .await?
        .ok_or_else(|| invalid("unknown app"))?;
    let jwks: JwkSet =
        serde_json::from_slice(&state.signing.jwks(app.id).await?).map_err(Error::internal)?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| invalid("the key is no longer published"))?;
    let decoding = DecodingKey::from_jwk(jwk).map_err(|_| invalid("unusable key"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[state.issuer(&app.name)]);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 30;
    let claims = jsonwebtoken::decode::<AtClaims>(token, &decoding, &validation)
        .map_err(|e| invalid(&e.to_string()))?
        .claims;
    let audiences: Vec<String> = match &claims.aud {
        Value::String(a) => vec![a.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let registered = api_resource::Entity::find()
        .filter(api_resource::Column::AppId.eq(app.id))
        .filter(api_resource::Column::Identifier.is_in(audiences))
        .one(&*state.db)
        .await?;
    let Some(registered) = registered else {
        return Err(invalid("aud is not an API of this app"));
    };
    let user_id = super::pairwise::resolve(state, app.id, &claims.sub)
        .await?
        .ok_or_else(|| invalid("sub"))?;
    let client = clients::find(state, app.id, &claims.client_id)
        .await?
        .filter(|c| c.is_active)
        .ok_or_else(|| invalid("the client is no longer active"))?;
    let user_ok = users::find(&*state.db, app.id, user_id)
        .await
        .is_ok_and(|u| u.status == users::STATUS_ACTIVE);
    if !user_ok {
        return Err(invalid("the user is no longer active"));
    }
    Ok(Principal::OAuth(OAuthAccess {
        app_id: app.id,
        user_id,
        client_id: client.id,
        scopes: claims
            .scope
            .unwrap_or_default()
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect(),
        token_id: claims
            .jti
            .and_then(|j| Uuid::parse_str(&j).ok())
            .unwrap_or_default(),
        expires_at: claims.exp,
        issued_at: claims.iat.unwrap_or_default(),
        dpop_jkt: claims
            .cnf
            .as_ref()
            .and_then(|c| c.get("jkt"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        resource: Some(registered.identifier),
        act: claims.act,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(header: &str) -> String {
        format!("{}.e30.c2ln", crate::crypto::b64url(header.as_bytes()))
    }

    #[test]
    fn at_jwt_is_told_by_the_header_typ() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
            let header = format!(r#"{{"alg":"ES256","kid":"k","typ":"{typ}"}}"#);
            assert!(is_at_jwt(&with_header(&header)), "{typ}");
        }
        for header in [
            r#"{"alg":"ES256","typ":"JWT"}"#,
            r#"{"alg":"ES256"}"#,
            r#"{"alg":"ES256","typ":7}"#,
            r#"{"typ":"at+jwt","typ":"at+jwt"}"#,
            "not json",
        ] {
            assert!(!is_at_jwt(&with_header(header)), "{header}");
        }
        assert!(!is_at_jwt("no-dots-at-all"));
        assert!(!is_at_jwt("!!!.e30.c2ln"));
    }
}
