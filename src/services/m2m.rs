//! Machine clients (OAuth client credentials): creation, secret rotation with a grace
//! period, authentication, token issuance, and the liveness check of their tokens.
//!
//! Secrets are 256-bit and stored as keyed SHA-256, which costs a microsecond to
//! check (a slow password hash is what caps other servers at a few hundred grants per
//! second per core). Each rotation increments the client's secret generation; tokens
//! carry the generation in their `jti` (`g{n}.{uuid}`), so a token issued with a
//! rotated-out secret stops being accepted when the grace period ends.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Utc};
use entity::m2m_client;
use moka::future::Cache;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::services::bus::{Bus, Change};
use crate::{
    access::{AppAdmin, M2m},
    crypto::{self, prefix},
    db::{self, Page, PageRequest},
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        oauth::OAuthError,
        permissions, throttle, validate,
    },
    state::AppState,
};

pub const CLIENT_ID_PREFIX: &str = "m2m_";
pub const MAX_SCOPES: usize = 100;
/// How long a client record is trusted without a change being heard (the backstop:
/// writes invalidate every instance at once through `services::bus`).
pub const CLIENT_CACHE_TTL: StdDuration = StdDuration::from_secs(60);

/// Per-instance cache of client records by `client_id`.
#[derive(Clone)]
pub struct ClientCache {
    cache: Cache<String, Arc<m2m_client::Model>>,
    bus: Bus,
}

impl ClientCache {
    pub fn new(bus: Bus) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CLIENT_CACHE_TTL)
                .build(),
            bus,
        }
    }

    /// Another instance changed this client.
    pub async fn apply(&self, client_id: &str) {
        self.cache.invalidate(client_id).await;
    }

    pub fn flush(&self) {
        self.cache.invalidate_all();
    }
}

fn scopes_of(client: &m2m_client::Model) -> Vec<String> {
    permissions::of_json(&client.scopes)
}

/// A client by `client_id`, through the cache.
pub async fn find(state: &AppState, client_id: &str) -> Result<Option<Arc<m2m_client::Model>>> {
    if let Some(client) = state.m2m.cache.get(client_id).await {
        return Ok(Some(client));
    }
    if !client_id.starts_with(CLIENT_ID_PREFIX) || client_id.len() > 64 {
        return Ok(None);
    }
    let Some(client) = m2m_client::Entity::find()
        .filter(m2m_client::Column::ClientId.eq(client_id))
        .one(&*state.db)
        .await?
    else {
        return Ok(None);
    };
    let client = Arc::new(client);
    state
        .m2m
        .cache
        .insert(client_id.to_owned(), client.clone())
        .await;
    Ok(Some(client))
}

async fn forget(state: &AppState, client_id: &str) {
    state.m2m.apply(client_id).await;
    state.m2m.bus.publish(Change::M2mClient {
        client_id: client_id.to_owned(),
    });
}

/// A client of the admin's app, or 404 (read from the database, not the cache:
/// administrators see `last_used_at` and rotations as they are).
pub async fn get(state: &AppState, admin: &AppAdmin, client_id: &str) -> Result<m2m_client::Model> {
    m2m_client::Entity::find()
        .filter(m2m_client::Column::ClientId.eq(client_id))
        .filter(m2m_client::Column::AppId.eq(admin.app().id))
        .one(&*state.db)
        .await?
        .ok_or_else(|| Error::not_found("m2m client not found"))
}

fn validate_scopes(scopes: &[String]) -> Result<Vec<String>> {
    if scopes.len() > MAX_SCOPES {
        return Err(Error::invalid_field(
            "scopes",
            format!("at most {MAX_SCOPES} scopes"),
        ));
    }
    permissions::normalise(scopes).map_err(|e| match e {
        Error::InvalidRequest { message, .. } => Error::invalid_field("scopes", message),
        other => other,
    })
}

/// Creates a client; the secret is returned once.
pub async fn create(
    state: &AppState,
    admin: &AppAdmin,
    name: &str,
    scopes: &[String],
    meta: &RequestMeta,
) -> Result<(m2m_client::Model, String)> {
    let name = validate::display_text("name", name, 200)?;
    let scopes = validate_scopes(scopes)?;
    let client_id = format!("{CLIENT_ID_PREFIX}{}", crypto::random_id()?);
    let secret = crypto::generate_secret(prefix::CLIENT_SECRET)?;
    let now = state.now();
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let client = m2m_client::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        client_id: Set(client_id.clone()),
        name: Set(name),
        scopes: Set(json!(scopes)),
        secret_hash: Set(state.hasher.hash(&secret)),
        secret_generation: Set(1),
        previous_secret_hash: Set(None),
        previous_secret_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "m2m_client.created", admin.actor().clone())
            .target(Target::new("m2m_client", &client_id))
            .metadata(json!({ "name": client.name, "scopes": scopes })),
    )
    .await?;
    Ok((client, secret))
}

pub async fn list(
    state: &AppState,
    admin: &AppAdmin,
    page: PageRequest,
) -> Result<Page<m2m_client::Model>> {
    let select = m2m_client::Entity::find().filter(m2m_client::Column::AppId.eq(admin.app().id));
    db::paginate(&*state.db, select, m2m_client::Column::Id, page, |c| c.id).await
}

pub async fn update(
    state: &AppState,
    admin: &AppAdmin,
    client_id: &str,
    name: Option<&str>,
    scopes: Option<&[String]>,
    meta: &RequestMeta,
) -> Result<m2m_client::Model> {
    let name = name
        .map(|n| validate::display_text("name", n, 200))
        .transpose()?;
    let scopes = scopes.map(validate_scopes).transpose()?;
    let current = get(state, admin, client_id).await?;
    let txn = state.db.begin_write().await?;
    let mut model = current.clone().into_active_model();
    if let Some(name) = name {
        model.name = Set(name);
    }
    if let Some(scopes) = &scopes {
        model.scopes = Set(json!(scopes));
    }
    model.updated_at = Set(state.now());
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(current.app_id, "m2m_client.updated", admin.actor().clone())
            .target(Target::new("m2m_client", client_id))
            .metadata(json!({ "scopes": scopes })),
    )
    .await?;
    forget(state, client_id).await;
    Ok(updated)
}

/// Issues a new secret. The previous one keeps working for `grace` (default 24 h,
/// at most 7 days; zero ends it at once). An earlier previous secret ends now.
pub async fn rotate_secret(
    state: &AppState,
    admin: &AppAdmin,
    client_id: &str,
    grace_seconds: Option<i64>,
    meta: &RequestMeta,
) -> Result<(m2m_client::Model, String)> {
    let grace = crate::services::validate::grace_period(grace_seconds)?;
    let current = get(state, admin, client_id).await?;
    let secret = crypto::generate_secret(prefix::CLIENT_SECRET)?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let mut model = current.clone().into_active_model();
    model.previous_secret_hash = Set(Some(current.secret_hash.clone()));
    model.previous_secret_expires_at = Set(Some(now + grace));
    model.secret_hash = Set(state.hasher.hash(&secret));
    model.secret_generation = Set(current.secret_generation + 1);
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            current.app_id,
            "m2m_client.secret_rotated",
            admin.actor().clone(),
        )
        .target(Target::new("m2m_client", client_id))
        .metadata(json!({ "grace_period_seconds": grace.num_seconds() })),
    )
    .await?;
    forget(state, client_id).await;
    Ok((updated, secret))
}

pub async fn delete(
    state: &AppState,
    admin: &AppAdmin,
    client_id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let current = get(state, admin, client_id).await?;
    let txn = state.db.begin_write().await?;
    m2m_client::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(current.app_id, "m2m_client.deleted", admin.actor().clone())
            .target(Target::new("m2m_client", client_id)),
    )
    .await?;
    forget(state, client_id).await;
    Ok(())
}

/// Why client authentication failed (all answer `invalid_client`).
#[derive(Debug)]
pub enum ClientAuthError {
    Invalid,
    RateLimited(u64),
    Other(Error),
}

impl From<Error> for ClientAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::RateLimited { retry_after } => ClientAuthError::RateLimited(retry_after),
            other => ClientAuthError::Other(other),
        }
    }
}

/// Authenticates `client_id` + `secret` for `app_id`; returns the client and the
/// secret generation that matched. Failures are throttled per client and per IP.
pub async fn authenticate(
    state: &AppState,
    app_id: Uuid,
    client_id: &str,
    secret: &str,
    meta: &RequestMeta,
) -> std::result::Result<(Arc<m2m_client::Model>, i32), ClientAuthError> {
    let client_key = format!("clientauth:client:{app_id}:{client_id}");
    let ip_key = format!(
        "clientauth:ip:{app_id}:{}",
        meta.ip.as_deref().unwrap_or("unknown")
    );
    throttle::check_hinted(state, &client_key, throttle::CLIENT_AUTH).await?;
    throttle::check_hinted(state, &ip_key, throttle::CLIENT_AUTH_IP).await?;
    let now = state.now();
    let found = find(state, client_id).await?.filter(|c| c.app_id == app_id);
    let generation = found.as_ref().and_then(|client| {
        if state.hasher.verify(secret, &client.secret_hash) {
            Some(client.secret_generation)
        } else if let (Some(previous), Some(until)) = (
            &client.previous_secret_hash,
            client.previous_secret_expires_at,
        ) && now < until
            && state.hasher.verify(secret, previous)
        {
            Some(client.secret_generation - 1)
        } else {
            None
        }
    });
    match (found, generation) {
        (Some(client), Some(generation)) => Ok((client, generation)),
        (found, _) => {
            throttle::fail_hinted(state, &client_key, throttle::CLIENT_AUTH).await?;
            throttle::fail_hinted(state, &ip_key, throttle::CLIENT_AUTH_IP).await?;
            let mut entry = Entry::new(
                app_id,
                "m2m.client_auth_failed",
                crate::access::Actor {
                    kind: "anonymous",
                    id: String::new(),
                },
            )
            .metadata(json!({ "client_id": client_id.chars().take(64).collect::<String>() }));
            if found.is_some() {
                entry = entry.target(Target::new("m2m_client", client_id));
            }
            state
                .audit_buffer
                .push(state, meta, entry)
                .await
                .map_err(ClientAuthError::Other)?;
            Err(ClientAuthError::Invalid)
        }
    }
}

/// The scopes a token request asks for: all of the client's when omitted; a subset
/// otherwise (`None` when a requested scope is outside the client's).
pub fn narrow_scopes(client: &m2m_client::Model, requested: Option<&str>) -> Option<Vec<String>> {
    let allowed = scopes_of(client);
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(allowed),
        Some(requested) => {
            let mut wanted: Vec<String> = requested
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect();
            wanted.sort();
            wanted.dedup();
            wanted.iter().all(|w| allowed.contains(w)).then_some(wanted)
        }
    }
}

/// Claims of an M2M access token (docs/src/machine-clients.md).
#[derive(Serialize)]
struct M2mClaims<'a> {
    sub: &'a str,
    aid: String,
    #[serde(rename = "type")]
    kind: &'static str,
    scopes: &'a [String],
    iat: i64,
    exp: i64,
    iss: String,
    jti: String,
}

/// A signed M2M access token and its lifetime.
pub struct IssuedM2mToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scopes: Vec<String>,
}

/// The client_credentials grant (RFC 6749 §4.4): only machine clients use it; the
/// client authenticates with its secret, the requested scopes are narrowed to what it
/// may hold, and a token is issued. Errors are the token endpoint's.
pub async fn client_credentials_grant(
    state: &AppState,
    app: &entity::app::Model,
    client_id: &str,
    secret: Option<&str>,
    scope: Option<&str>,
    meta: &RequestMeta,
) -> std::result::Result<IssuedM2mToken, OAuthError> {
    if !client_id.starts_with(CLIENT_ID_PREFIX) {
        return Err(OAuthError::unauthorized_client(
            "client_credentials is for machine clients; OAuth clients use authorization_code",
        ));
    }
    let Some(secret) = secret else {
        return Err(OAuthError::invalid_client(
            "machine clients authenticate with their secret",
        ));
    };
    let (client, generation) = match authenticate(state, app.id, client_id, secret, meta).await {
        Ok(found) => found,
        Err(ClientAuthError::Invalid) => {
            return Err(OAuthError::invalid_client("client authentication failed"));
        }
        Err(ClientAuthError::RateLimited(retry_after)) => {
            return Err(Error::RateLimited { retry_after }.into());
        }
        Err(ClientAuthError::Other(e)) => return Err(e.into()),
    };
    let scopes = narrow_scopes(&client, scope).ok_or_else(|| {
        OAuthError::invalid_scope("a requested scope is not allowed for this client")
    })?;
    Ok(issue(state, app, &client, generation, scopes, meta).await?)
}

pub async fn issue(
    state: &AppState,
    app: &entity::app::Model,
    client: &m2m_client::Model,
    generation: i32,
    scopes: Vec<String>,
    meta: &RequestMeta,
) -> Result<IssuedM2mToken> {
    let ttl = state.apps.settings(app).await.access_token_ttl;
    let now = state.now().timestamp();
    let jti = format!("g{generation}.{}", Uuid::new_v4());
    let claims = M2mClaims {
        sub: &client.client_id,
        aid: app.id.to_string(),
        kind: "m2m",
        scopes: &scopes,
        iat: now,
        exp: now + ttl,
        iss: state.issuer(&app.name),
        jti: jti.clone(),
    };
    let access_token = state.signing.sign(app.id, &claims).await?;
    touch(state, client).await?;
    state
        .audit_buffer
        .push(
            state,
            meta,
            Entry::new(
                app.id,
                "m2m.token_issued",
                crate::access::Actor {
                    kind: "m2m",
                    id: client.client_id.clone(),
                },
            )
            .target(Target::new("m2m_client", &client.client_id))
            .metadata(json!({ "scopes": scopes, "jti": jti })),
        )
        .await?;
    Ok(IssuedM2mToken {
        access_token,
        expires_in: ttl,
        scopes,
    })
}

/// `last_used_at`, at most once a minute per client per instance (so at most one
/// request a minute pays for the write).
async fn touch(state: &AppState, client: &m2m_client::Model) -> Result<()> {
    state
        .last_used
        .record::<m2m_client::Entity>(
            state,
            client.id,
            m2m_client::Column::Id,
            m2m_client::Column::LastUsedAt,
        )
        .await
}

/// Whether an M2M token is still good: the client exists in the token's app and the
/// secret generation that issued it has not been rotated out.
pub async fn check_live(state: &AppState, principal: &M2m) -> Result<()> {
    let client = find(state, &principal.client_id)
        .await?
        .filter(|c| c.app_id == principal.app_id)
        .ok_or_else(|| Error::invalid_token("the machine client no longer exists"))?;
    let generation = principal
        .token_id
        .strip_prefix('g')
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(g, _)| g.parse::<i32>().ok())
        .ok_or_else(|| Error::invalid_token("the token's claims are malformed"))?;
    let previous_valid = client
        .previous_secret_expires_at
        .is_some_and(|until: DateTime<Utc>| state.now() < until);
    if generation == client.secret_generation
        || (generation == client.secret_generation - 1 && previous_valid)
    {
        Ok(())
    } else {
        Err(Error::invalid_token(
            "the token was issued with a secret that has been rotated out",
        ))
    }
}
