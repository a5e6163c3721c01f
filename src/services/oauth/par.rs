//! Pushed authorization requests (RFC 9126; docs/src/oauth-extensions.md). An
//! authenticated client pushes its authorization parameters and gets a
//! `request_uri` that lives 60 seconds; the authorization endpoint then takes
//! `client_id` and `request_uri` only. Once a user agent brings the `request_uri`,
//! it lives as long as a pending authorization request (the user may sign in
//! first), and it leads to one code or consent prompt.

use entity::{oauth_client, oauth_par_request};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    OAuthError, REQUEST_TTL,
    authorize::{self, AuthorizeError, AuthorizeParams},
    settings as client_settings,
};
use crate::{
    crypto::{self, urn},
    db,
    error::Result,
    state::AppState,
};

/// How long a pushed request waits for the user agent (RFC 9126 §2.2).
pub const PAR_TTL_SECONDS: i64 = 60;

/// Validates and stores a pushed request of `client`; returns the `request_uri`.
pub async fn push(
    state: &AppState,
    app: &entity::app::Model,
    client: &oauth_client::Model,
    mut params: AuthorizeParams,
) -> std::result::Result<String, OAuthError> {
    if params
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.id.to_string())
    {
        return Err(OAuthError::invalid_request(
            "client_id differs from the authenticated client",
        ));
    }
    params.client_id = Some(client.id.to_string());
    // The same rules as at the authorization endpoint, answered here as JSON.
    match authorize::validate(state, app, &params).await {
        Ok(_) => {}
        Err(AuthorizeError::Page(message)) => return Err(OAuthError::invalid_request(message)),
        Err(AuthorizeError::Redirect(location)) => {
            let (error, description) = url::Url::parse(&location)
                .ok()
                .map(|url| {
                    let get = |name: &str| {
                        url.query_pairs()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.into_owned())
                    };
                    (get("error"), get("error_description"))
                })
                .unwrap_or_default();
            let error = match error.as_deref() {
                Some("invalid_scope") => "invalid_scope",
                Some("unsupported_response_type") => "unsupported_response_type",
                Some("invalid_target") => "invalid_target",
                _ => "invalid_request",
            };
            return Err(OAuthError::new(
                axum::http::StatusCode::BAD_REQUEST,
                error,
                description.unwrap_or_else(|| "the authorization request is invalid".into()),
            ));
        }
        Err(AuthorizeError::Other(e)) => return Err(e.into()),
    }
    let secret = crypto::generate_secret("")?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    oauth_par_request::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        client_id: Set(client.id),
        request_hash: Set(state.hasher.hash(&secret)),
        params: Set(serde_json::to_value(&params).map_err(crate::error::Error::internal)?),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::seconds(PAR_TTL_SECONDS)),
        opened_at: Set(None),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    // Expired requests of the app go as new ones come.
    oauth_par_request::Entity::delete_many()
        .filter(oauth_par_request::Column::AppId.eq(app.id))
        .filter(oauth_par_request::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(format!("{}{secret}", urn::REQUEST_URI))
}

/// An authorization request as the endpoint should handle it.
pub struct Resolved {
    pub params: AuthorizeParams,
    /// The pushed request it came from, to be spent with [`consume`].
    pub pushed: Option<Uuid>,
}

/// Whether `client_id` must push its requests (the app setting or the client's).
async fn required(state: &AppState, app: &entity::app::Model, client_id: &str) -> Result<bool> {
    if state
        .apps
        .settings(app)
        .await
        .require_pushed_authorization_requests
    {
        return Ok(true);
    }
    let Ok(id) = Uuid::parse_str(client_id) else {
        return Ok(false);
    };
    Ok(client_settings::of(state, id)
        .await?
        .is_some_and(|s| s.require_par))
}

/// Resolves `request_uri` (if any) into the pushed parameters. `Err` is a message
/// for the user (never a redirect: nothing here is verified yet).
pub async fn resolve(
    state: &AppState,
    app: &entity::app::Model,
    params: AuthorizeParams,
    request_uri: Option<&str>,
) -> std::result::Result<Resolved, AuthorizeError> {
    let page = |m: &str| AuthorizeError::Page(m.to_owned());
    let Some(request_uri) = request_uri else {
        if let Some(client_id) = params.client_id.as_deref()
            && required(state, app, client_id).await?
        {
            return Err(page(
                "This application must push its authorization requests first (PAR, RFC 9126).",
            ));
        }
        return Ok(Resolved {
            params,
            pushed: None,
        });
    };
    let unknown = || page("The request_uri is unknown, expired or already used.");
    let secret = request_uri
        .strip_prefix(urn::REQUEST_URI)
        .filter(|s| !s.is_empty() && s.len() <= 100)
        .ok_or_else(unknown)?;
    let client_id = params
        .client_id
        .as_deref()
        .ok_or_else(|| page("The request has no client_id."))?;
    let stored = oauth_par_request::Entity::find()
        .filter(oauth_par_request::Column::RequestHash.is_in(state.hasher.candidates(secret)))
        .one(&*state.db)
        .await?
        .filter(|r| r.app_id == app.id && r.client_id.to_string() == client_id)
        .ok_or_else(unknown)?;
    let now = state.now();
    if stored.used_at.is_some() || stored.expires_at <= now {
        return Err(unknown());
    }
    let mut pushed: AuthorizeParams =
        serde_json::from_value(stored.params.clone()).map_err(|_| unknown())?;
    if stored.opened_at.is_some() {
        // Back from the sign-in that `prompt=login` asked for: not again.
        pushed.prompt = pushed.prompt.map(|p| {
            p.split_ascii_whitespace()
                .filter(|v| *v != "login")
                .collect::<Vec<_>>()
                .join(" ")
        });
    } else {
        let mut model = stored.clone().into_active_model();
        model.opened_at = Set(Some(now));
        model.expires_at = Set(now + REQUEST_TTL);
        let txn = state.db.begin_write().await?;
        model.update(&txn).await?;
        txn.commit().await?;
    }
    Ok(Resolved {
        params: pushed,
        pushed: Some(stored.id),
    })
}

/// Spends a pushed request: `false` when it was spent already.
pub async fn consume(state: &AppState, id: Uuid) -> Result<bool> {
    let txn = state.db.begin_write().await?;
    let claimed = oauth_par_request::Entity::update_many()
        .col_expr(oauth_par_request::Column::UsedAt, Expr::value(state.now()))
        .filter(oauth_par_request::Column::Id.eq(id))
        .filter(oauth_par_request::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(claimed.rows_affected == 1)
}
