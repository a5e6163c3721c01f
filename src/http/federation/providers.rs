//! Identity-provider configuration on the admin lane (`/v1/apps/{app}/providers/…`:
//! root key or the app's key); secrets are write-only.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::{
    extract::{ApiJson, ApiPath},
    response::{List, Resource, no_content},
    users::nullable,
};
use crate::services::guard;
use crate::{
    access::Principal,
    db::Page,
    error::Result,
    request::RequestMeta,
    services::federation::providers::{
        self, APPLE, AppleInput, Config, OidcInput, Provider, SecretUpdate,
    },
    state::AppState,
};

/// A provider as the API shows it: public fields only; secrets as `has_…` flags.
pub fn provider_json(state: &AppState, slug: &str, provider: &Provider) -> Value {
    let m = &provider.model;
    let mut out = json!({
        "id": m.name,
        "kind": m.kind,
        "enabled": m.enabled,
        "callback_url": providers::callback_url(state, slug, &m.name),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    });
    let extra = match &provider.config {
        Config::Apple(c) => json!({
            "services_id": c.services_id,
            "bundle_ids": c.bundle_ids,
            "team_id": c.team_id,
            "key_id": c.key_id,
            "redirect_uri": c.redirect_uri,
            "has_private_key": provider.has_secret(),
        }),
        Config::Oidc(c) => json!({
            "issuer": c.issuer,
            "discovery_url": c.discovery_url,
            "client_id": c.client_id,
            "scopes": c.scopes,
            "redirect_uri": c.redirect_uri,
            "display_name": c.display_name,
            "has_client_secret": provider.has_secret(),
        }),
    };
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}

fn provider_link(state: &AppState, slug: &str, name: &str) -> String {
    format!("{}/v1/apps/{slug}/providers/{name}", state.config.base_path)
}

fn provider_resource(state: &AppState, slug: &str, provider: &Provider, created: bool) -> Response {
    let data = provider_json(state, slug, provider);
    let link = provider_link(state, slug, &provider.model.name);
    if created {
        Resource::created(data, link).into_response()
    } else {
        Resource::ok(data, link).into_response()
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppleBody {
    services_id: Option<String>,
    #[serde(default)]
    bundle_ids: Vec<String>,
    team_id: Option<String>,
    key_id: Option<String>,
    /// The `.p8` file's contents. Absent keeps the stored key; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    private_key: Option<Option<String>>,
    redirect_uri: Option<String>,
    enabled: Option<bool>,
}

pub async fn put_apple(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<AppleBody>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let input = AppleInput {
        services_id: body.services_id,
        bundle_ids: body.bundle_ids,
        team_id: body.team_id,
        key_id: body.key_id,
        private_key: SecretUpdate::from_nullable(body.private_key),
        redirect_uri: body.redirect_uri,
        enabled: body.enabled,
    };
    let (provider, created) = providers::put_apple(&state, &admin, input, &meta).await?;
    Ok(provider_resource(
        &state,
        &admin.app().name,
        &provider,
        created,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcBody {
    issuer: Option<String>,
    discovery_url: Option<String>,
    client_id: String,
    /// Absent keeps the stored secret; `null` removes it (a public client).
    #[serde(default, deserialize_with = "nullable")]
    client_secret: Option<Option<String>>,
    scopes: Option<Vec<String>>,
    redirect_uri: String,
    display_name: Option<String>,
    enabled: Option<bool>,
}

pub async fn put_provider(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<OidcBody>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let input = OidcInput {
        issuer: body.issuer,
        discovery_url: body.discovery_url,
        client_id: body.client_id,
        client_secret: SecretUpdate::from_nullable(body.client_secret),
        scopes: body.scopes,
        redirect_uri: body.redirect_uri,
        display_name: body.display_name,
        enabled: body.enabled,
    };
    let (provider, created) = providers::put_oidc(&state, &admin, &name, input, &meta).await?;
    Ok(provider_resource(
        &state,
        &admin.app().name,
        &provider,
        created,
    ))
}

pub async fn list_providers(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let items = providers::list(&state, &admin)
        .await?
        .iter()
        .map(|p| provider_json(&state, &admin.app().name, p))
        .collect();
    Ok(List(Page {
        items,
        next_cursor: None,
    })
    .into_response())
}

async fn get_named(
    state: AppState,
    principal: Principal,
    app: &str,
    name: &str,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(app)).await?;
    let provider = providers::get_admin(&state, &admin, name).await?;
    Ok(provider_resource(
        &state,
        &admin.app().name,
        &provider,
        false,
    ))
}

async fn delete_named(
    state: AppState,
    principal: Principal,
    meta: RequestMeta,
    app: &str,
    name: &str,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(app)).await?;
    providers::delete(&state, &admin, name, &meta).await?;
    Ok(no_content())
}

pub async fn get_apple(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    get_named(state, principal, &app, APPLE).await
}

pub async fn delete_apple(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    delete_named(state, principal, meta, &app, APPLE).await
}

pub async fn get_provider(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, name)): ApiPath<(String, String)>,
) -> Result<Response> {
    get_named(state, principal, &app, &name).await
}

pub async fn delete_provider(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, name)): ApiPath<(String, String)>,
) -> Result<Response> {
    delete_named(state, principal, meta, &app, &name).await
}
