//! SCIM 2.0 over HTTP at `/{slug}/scim/v2/…` (RFC 7644) and the admin lane's SCIM
//! tokens (`/v1/apps/{app}/scim-tokens`); docs/src/importing-users-and-scim.md.
//! Answers are `application/scim+json`; errors are SCIM error bodies with `scimType`.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    extract::{ApiJson, ApiPath, uuid_param},
    response::{Resource, no_content},
};
use crate::{
    access::{AppAccess, Principal},
    error::Result,
    request::RequestMeta,
    services::{
        authenticate, guard,
        scim::{self, ListQuery, ScimError, ScimResult, discovery},
    },
    state::AppState,
};

const SCIM_JSON: &str = "application/scim+json";

/// A SCIM answer.
pub struct Scim(pub StatusCode, pub Value);

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let mut response = (self.0, self.1.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let Some(location) = self.1["meta"]["location"].as_str()
            && self.0 == StatusCode::CREATED
            && let Ok(value) = HeaderValue::from_str(location)
        {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = Scim(status, self.body()).into_response();
        if self.status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        response
    }
}

type Answer = std::result::Result<Scim, ScimError>;

/// The SCIM client of the app, by its bearer token.
async fn client(state: &AppState, slug: &str, headers: &HeaderMap) -> ScimResult<AppAccess> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ScimError::new(401, None, "a SCIM bearer token is required"))?;
    let token = authenticate::bearer_token(value)
        .map_err(|_| ScimError::new(401, None, "a SCIM bearer token is required"))?;
    Ok(guard::scim(state, slug, token).await?)
}

fn json_body(body: &Bytes) -> ScimResult<Value> {
    serde_json::from_slice(body).map_err(|e| {
        ScimError::new(
            400,
            Some("invalidSyntax"),
            format!("the body is not valid JSON: {e}"),
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawList {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

struct Listing {
    query: ListQuery,
    attributes: Option<String>,
    excluded: Option<String>,
}

fn listing(raw: Option<String>) -> ScimResult<Listing> {
    let raw: RawList = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ScimError::invalid_value(format!("invalid query string: {e}")))?;
    let number = |name: &str, v: &Option<String>| -> ScimResult<Option<i64>> {
        v.as_deref()
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer")))
            })
            .transpose()
    };
    Ok(Listing {
        query: ListQuery {
            filter: raw.filter,
            start_index: number("startIndex", &raw.start_index)?,
            count: number("count", &raw.count)?,
            sort_by: raw.sort_by,
            sort_order: raw.sort_order,
        },
        attributes: raw.attributes,
        excluded: raw.excluded_attributes,
    })
}

fn projected(mut value: Value, listing: &Listing) -> Value {
    let (a, e) = (listing.attributes.as_deref(), listing.excluded.as_deref());
    if let Some(Value::Array(items)) = value.get_mut("Resources") {
        for item in items {
            scim::project(item, a, e);
        }
    } else {
        scim::project(&mut value, a, e);
    }
    value
}

async fn app_exists(state: &AppState, slug: &str) -> ScimResult<()> {
    guard::find_app(state, guard::Lane::Consumer, slug)
        .await
        .map(|_| ())
        .map_err(|_| ScimError::not_found("no such app"))
}

pub async fn service_provider_config(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Answer {
    app_exists(&state, &slug).await?;
    Ok(Scim(
        StatusCode::OK,
        discovery::service_provider_config(&scim::base_url(&state, &slug)),
    ))
}

pub async fn resource_types(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Answer {
    app_exists(&state, &slug).await?;
    Ok(Scim(
        StatusCode::OK,
        discovery::resource_types(&scim::base_url(&state, &slug)),
    ))
}

pub async fn resource_type(
    State(state): State<AppState>,
    ApiPath((slug, name)): ApiPath<(String, String)>,
) -> Answer {
    app_exists(&state, &slug).await?;
    discovery::resource_type_by_name(&scim::base_url(&state, &slug), &name)
        .map(|v| Scim(StatusCode::OK, v))
        .ok_or_else(|| ScimError::not_found("no such resource type"))
}

pub async fn schemas(State(state): State<AppState>, ApiPath(slug): ApiPath<String>) -> Answer {
    app_exists(&state, &slug).await?;
    Ok(Scim(
        StatusCode::OK,
        discovery::schemas(&scim::base_url(&state, &slug)),
    ))
}

pub async fn schema(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Answer {
    app_exists(&state, &slug).await?;
    discovery::schema_by_id(&scim::base_url(&state, &slug), &id)
        .map(|v| Scim(StatusCode::OK, v))
        .ok_or_else(|| ScimError::not_found("no such schema"))
}

/// `POST /.search` across resource types is not offered (RFC 7644 §3.4.3 allows 501).
pub async fn search_all() -> ScimError {
    ScimError::new(
        501,
        None,
        "searching all resource types at once is not supported",
    )
}

/// Any other path below `/scim/v2/`.
pub async fn unknown() -> ScimError {
    ScimError::not_found("no such SCIM endpoint")
}

pub async fn list_users(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let listing = listing(query)?;
    let value = scim::list_users(&state, &access, &listing.query).await?;
    Ok(Scim(StatusCode::OK, projected(value, &listing)))
}

pub async fn create_user(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let body = json_body(&body)?;
    let value = scim::create_user(&state, &access, &body, &meta).await?;
    Ok(Scim(StatusCode::CREATED, value))
}

pub async fn get_user(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let listing = listing(query)?;
    let value = scim::get_user(&state, &access, &id).await?;
    Ok(Scim(StatusCode::OK, projected(value, &listing)))
}

pub async fn replace_user(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let body = json_body(&body)?;
    let value = scim::replace_user(&state, &access, &id, &body, &meta).await?;
    Ok(Scim(StatusCode::OK, value))
}

pub async fn patch_user(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let body = json_body(&body)?;
    let value = scim::patch_user(&state, &access, &id, &body, &meta).await?;
    Ok(Scim(StatusCode::OK, value))
}

pub async fn delete_user(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> std::result::Result<Response, ScimError> {
    let access = client(&state, &slug, &headers).await?;
    scim::delete_user(&state, &access, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_groups(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let listing = listing(query)?;
    let value = scim::list_groups(&state, &access, &listing.query).await?;
    Ok(Scim(StatusCode::OK, projected(value, &listing)))
}

pub async fn create_group(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let body = json_body(&body)?;
    let value = scim::create_group(&state, &access, &body, &meta).await?;
    Ok(Scim(StatusCode::CREATED, value))
}

pub async fn get_group(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let listing = listing(query)?;
    let value = scim::get_group(&state, &access, &id).await?;
    Ok(Scim(StatusCode::OK, projected(value, &listing)))
}

pub async fn replace_group(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let body = json_body(&body)?;
    let value = scim::replace_group(&state, &access, &id, &body, &meta).await?;
    Ok(Scim(StatusCode::OK, value))
}

pub async fn patch_group(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let access = client(&state, &slug, &headers).await?;
    let body = json_body(&body)?;
    let value = scim::patch_group(&state, &access, &id, &body, &meta).await?;
    Ok(Scim(StatusCode::OK, value))
}

pub async fn delete_group(
    State(state): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> std::result::Result<Response, ScimError> {
    let access = client(&state, &slug, &headers).await?;
    scim::delete_group(&state, &access, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- SCIM tokens on the admin lane -----

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimTokenDto {
    id: uuid::Uuid,
    name: String,
    hint: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    /// Only in the answer that mints the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// The SCIM base URL to configure in the directory.
    scim_base_url: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScimToken {
    name: String,
}

fn dto(
    state: &AppState,
    slug: &str,
    t: entity::scim_token::Model,
    token: Option<String>,
) -> ScimTokenDto {
    ScimTokenDto {
        id: t.id,
        name: t.name,
        hint: t.hint,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        token,
        scim_base_url: scim::base_url(state, slug),
    }
}

pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateScimToken>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let (token, secret) = scim::tokens::create(&state, &admin, &body.name, &meta).await?;
    let slug = admin.app().name.clone();
    let link = format!(
        "{}/v1/apps/{slug}/scim-tokens/{}",
        state.config.base_path, token.id
    );
    Ok(Resource::created(
        dto(&state, &slug, token, Some(secret)),
        link,
    ))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let slug = admin.app().name.clone();
    let items: Vec<ScimTokenDto> = scim::tokens::list(&state, &admin)
        .await?
        .into_iter()
        .map(|t| dto(&state, &slug, t, None))
        .collect();
    Ok(axum::Json(json!({ "data": items, "next_cursor": null })))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    scim::tokens::revoke(&state, &admin, uuid_param(&id, "SCIM token")?, &meta).await?;
    Ok(no_content())
}
