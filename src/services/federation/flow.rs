//! The short-lived state of a web sign-in: created at `start`, consumed once at the
//! callback. `state`, `nonce` and the browser binding are 256-bit random values
//! stored as keyed hashes; the PKCE verifier must be sent upstream later, so it is
//! sealed instead.

use chrono::Duration;
use entity::federation_state;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    crypto, db,
    error::{Error, Result},
    state::AppState,
};

/// How long a started sign-in may take.
pub const FLOW_TTL: Duration = Duration::minutes(10);
/// The error code of a callback whose state is unknown, expired, used or not this
/// browser's.
pub const INVALID_STATE: &str = "invalid_state";

/// What `start` hands out. `binding` goes into a cookie when the flow runs in a
/// browser; `code_verifier` exists for PKCE flows.
pub struct Started {
    pub state: String,
    pub nonce: String,
    pub binding: Option<String>,
    pub code_verifier: Option<String>,
}

impl Started {
    /// `code_challenge` for S256 (RFC 7636 §4.2).
    pub fn code_challenge(&self) -> Option<String> {
        self.code_verifier
            .as_deref()
            .map(|v| crypto::b64url(&crypto::sha256(v.as_bytes())))
    }
}

/// What the callback needs from the consumed state.
pub struct Consumed {
    pub nonce_hash: String,
    pub code_verifier: Option<String>,
}

fn random() -> Result<String> {
    Ok(crypto::b64url(&crypto::random_bytes(32)?))
}

pub fn verifier_aad(id: Uuid) -> String {
    format!("federation_state:{id}")
}

/// The name of the cookie binding a flow to the browser that started it: derived
/// from the state, so parallel sign-ins in several tabs do not overwrite each other.
pub fn binding_cookie(state_param: &str) -> String {
    format!(
        "hm_fed_{}",
        &crypto::sha256_hex(state_param.as_bytes())[..16]
    )
}

/// Records a new flow. Expired flows of the app are cleaned up on the way.
pub async fn begin(
    state: &AppState,
    app_id: Uuid,
    provider: &str,
    browser: bool,
    pkce: bool,
) -> Result<Started> {
    let started = Started {
        state: random()?,
        nonce: random()?,
        binding: browser.then(random).transpose()?,
        code_verifier: pkce.then(random).transpose()?,
    };
    let id = db::new_id();
    let now = state.now();
    let code_verifier = started
        .code_verifier
        .as_deref()
        .map(|v| state.vault.seal(v.as_bytes(), &verifier_aad(id)))
        .transpose()?;
    let txn = state.db.begin_write().await?;
    federation_state::Entity::delete_many()
        .filter(federation_state::Column::AppId.eq(app_id))
        .filter(federation_state::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    federation_state::ActiveModel {
        id: Set(id),
        app_id: Set(app_id),
        provider: Set(provider.to_owned()),
        state_hash: Set(state.hasher.hash(&started.state)),
        nonce_hash: Set(state.hasher.hash(&started.nonce)),
        binding_hash: Set(started.binding.as_deref().map(|b| state.hasher.hash(b))),
        code_verifier: Set(code_verifier),
        created_at: Set(now),
        expires_at: Set(now + FLOW_TTL),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(started)
}

fn invalid(message: &str) -> Error {
    Error::rejected(INVALID_STATE, message)
}

/// Consumes the flow named by `state_param` (once): it must belong to this app and
/// provider, be unexpired and unused, and — when it started in a browser — the
/// callback must come with that browser's binding cookie.
pub async fn consume(
    state: &AppState,
    app_id: Uuid,
    provider: &str,
    state_param: &str,
    binding: Option<&str>,
) -> Result<Consumed> {
    if state_param.is_empty() || state_param.len() > 128 {
        return Err(invalid("the sign-in state is missing or malformed"));
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let record = federation_state::Entity::find()
        .filter(federation_state::Column::StateHash.is_in(state.hasher.candidates(state_param)))
        .one(&txn)
        .await?
        .filter(|r| r.app_id == app_id && r.provider == provider)
        .ok_or_else(|| invalid("the sign-in state is unknown; start the sign-in again"))?;
    if record.used_at.is_some() {
        return Err(invalid("the sign-in state has already been used"));
    }
    if record.expires_at <= now {
        return Err(invalid(
            "the sign-in state has expired; start the sign-in again",
        ));
    }
    if let Some(expected) = &record.binding_hash
        && !binding.is_some_and(|b| state.hasher.verify(b, expected))
    {
        return Err(invalid(
            "this sign-in was started in another browser (the binding cookie is missing)",
        ));
    }
    let claimed = federation_state::Entity::update_many()
        .col_expr(federation_state::Column::UsedAt, Expr::value(now))
        .filter(federation_state::Column::Id.eq(record.id))
        .filter(federation_state::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid("the sign-in state has already been used"));
    }
    txn.commit().await?;
    let code_verifier = record
        .code_verifier
        .as_deref()
        .map(|sealed| {
            state
                .vault
                .open(sealed, &verifier_aad(record.id))
                .and_then(|v| String::from_utf8(v).map_err(Error::internal))
        })
        .transpose()?;
    Ok(Consumed {
        nonce_hash: record.nonce_hash,
        code_verifier,
    })
}
