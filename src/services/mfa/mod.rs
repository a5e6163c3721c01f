//! Multi-factor authentication (docs/src/mfa.md): users' second factors (TOTP,
//! RFC 6238, and WebAuthn credentials), recovery codes, the app's `mfa_policy`, how
//! a session was established (RFC 8176 `amr`, `auth_time`), and administration.
//!
//! - [`totp`]: enrolling and checking TOTP authenticators.
//! - [`webauthn`]: WebAuthn registration and assertions (webauthn-rs).
//! - [`signin`]: the two-step sign-in (`hm_mfa_` tokens) and passwordless passkeys.

pub mod signin;
pub mod totp;
pub mod webauthn;

use chrono::{DateTime, Duration, Utc};
use entity::{mfa_challenge, mfa_factor, mfa_recovery_code, session};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::{AppAccess, MfaSubject, MfaVia, Permission},
    crypto, db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        users,
    },
    state::AppState,
};

pub const KIND_TOTP: &str = "totp";
pub const KIND_WEBAUTHN: &str = "webauthn";
pub const STATUS_PENDING: &str = "pending";
pub const STATUS_ACTIVE: &str = "active";

/// Recovery codes handed out at once.
pub const RECOVERY_CODES: usize = 10;
/// Removing a factor needs a sign-in with a second factor this recent.
pub const REAUTHENTICATION_WINDOW: Duration = Duration::minutes(10);
/// Factors (active or pending) one user may have.
pub const MAX_FACTORS: u64 = 20;
/// A pending factor (enrolled, not confirmed) can be confirmed this long.
pub const PENDING_TTL: Duration = Duration::minutes(15);

/// The app setting `mfa_policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaPolicy {
    /// No second factor is asked for and none can be enrolled.
    Off,
    /// Users may enrol; those who did are asked at every sign-in.
    #[default]
    Optional,
    /// Every sign-in needs a second factor; users without one enrol first.
    Required,
}

/// RFC 8176 method references.
pub mod amr {
    pub const PWD: &str = "pwd";
    pub const OTP: &str = "otp";
    /// A WebAuthn credential: proof of possession of a key held by an authenticator.
    pub const HWK: &str = "hwk";
    /// User verification by the authenticator (PIN or biometrics).
    pub const USER: &str = "user";
    pub const MFA: &str = "mfa";
    pub const FED: &str = "fed";
}

/// How a session was established; sessions older than MFA signed in with a password.
pub fn session_amr(session: &session::Model) -> Vec<String> {
    session
        .amr
        .as_ref()
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| vec![amr::PWD.to_owned()])
}

/// When the session's user last authenticated.
pub fn session_auth_time(session: &session::Model) -> DateTime<Utc> {
    session.auth_time.unwrap_or(session.created_at)
}

/// Whether `amr` records a second factor.
pub fn has_mfa<S: AsRef<str>>(amr: &[S]) -> bool {
    amr.iter().any(|m| m.as_ref() == amr::MFA)
}

/// A user's factors and how many unused recovery codes they have.
#[derive(Debug, Clone)]
pub struct Overview {
    pub factors: Vec<mfa_factor::Model>,
    pub recovery_codes_remaining: u64,
}

/// The factors a user can sign in with.
pub async fn active_factors(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<mfa_factor::Model>> {
    Ok(mfa_factor::Entity::find()
        .filter(mfa_factor::Column::AppId.eq(app_id))
        .filter(mfa_factor::Column::UserId.eq(user_id))
        .filter(mfa_factor::Column::Status.eq(STATUS_ACTIVE))
        .order_by_asc(mfa_factor::Column::Id)
        .all(conn)
        .await?)
}

async fn recovery_codes_left(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<u64> {
    Ok(mfa_recovery_code::Entity::find()
        .filter(mfa_recovery_code::Column::AppId.eq(app_id))
        .filter(mfa_recovery_code::Column::UserId.eq(user_id))
        .filter(mfa_recovery_code::Column::UsedAt.is_null())
        .count(conn)
        .await?)
}

async fn overview(state: &AppState, app_id: Uuid, user_id: Uuid) -> Result<Overview> {
    Ok(Overview {
        factors: active_factors(&*state.db, app_id, user_id).await?,
        recovery_codes_remaining: recovery_codes_left(&*state.db, app_id, user_id).await?,
    })
}

/// The caller's own factors (the user, or a sign-in enrolling its first factor).
pub async fn mine(state: &AppState, subject: &MfaSubject) -> Result<Overview> {
    overview(state, subject.app().id, subject.user_id()).await
}

/// A user's factors, for administrators (`user.read`).
pub async fn of_user(state: &AppState, access: &AppAccess, user_id: Uuid) -> Result<Overview> {
    access.require(&[Permission::USER_READ])?;
    users::find(&*state.db, access.app().id, user_id).await?;
    overview(state, access.app().id, user_id).await
}

/// 403 `mfa_disabled` when the app's policy is `off`.
pub(crate) async fn require_enabled(state: &AppState, app: &entity::app::Model) -> Result<()> {
    if state.apps.settings(app).await.mfa_policy == MfaPolicy::Off {
        return Err(Error::refused(
            "mfa_disabled",
            "multi-factor authentication is off for this app (settings.mfa_policy)",
        ));
    }
    Ok(())
}

/// 409 when the user already has [`MAX_FACTORS`] factors.
pub(crate) async fn check_room(state: &AppState, app_id: Uuid, user_id: Uuid) -> Result<()> {
    let count = mfa_factor::Entity::find()
        .filter(mfa_factor::Column::AppId.eq(app_id))
        .filter(mfa_factor::Column::UserId.eq(user_id))
        .count(&*state.db)
        .await?;
    if count >= MAX_FACTORS {
        return Err(Error::conflict(format!(
            "at most {MAX_FACTORS} factors per user; remove one first"
        )));
    }
    Ok(())
}

/// 403 `reauthentication_required` unless the caller's session signed in with a
/// second factor within [`REAUTHENTICATION_WINDOW`].
async fn require_recent_mfa(state: &AppState, subject: &MfaSubject) -> Result<()> {
    let refused = || {
        Error::refused(
            "reauthentication_required",
            "sign in again with a second factor (within the last 10 minutes) to do this",
        )
    };
    let MfaVia::Session(session_id) = subject.via() else {
        return Err(refused());
    };
    let session = session::Entity::find_by_id(session_id)
        .one(&*state.db)
        .await?
        .ok_or_else(|| Error::invalid_token("the session no longer exists"))?;
    if has_mfa(&session_amr(&session))
        && session_auth_time(&session) + REAUTHENTICATION_WINDOW > state.now()
    {
        Ok(())
    } else {
        Err(refused())
    }
}

/// A factor of the subject's user (404 for anyone else's, in any app).
async fn own_factor(
    conn: &impl ConnectionTrait,
    subject: &MfaSubject,
    id: Uuid,
) -> Result<mfa_factor::Model> {
    mfa_factor::Entity::find_by_id(id)
        .filter(mfa_factor::Column::AppId.eq(subject.app().id))
        .filter(mfa_factor::Column::UserId.eq(subject.user_id()))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("factor not found"))
}

/// The audit metadata of a factor (never its secret).
fn factor_facts(factor: &mfa_factor::Model) -> Value {
    json!({ "factor_id": factor.id, "type": factor.kind, "name": factor.name })
}

/// Removes one of the caller's factors; needs a recent sign-in with MFA. With the
/// last factor gone the recovery codes go too.
pub async fn remove(
    state: &AppState,
    subject: &MfaSubject,
    id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    own_factor(&*state.db, subject, id).await?;
    require_recent_mfa(state, subject).await?;
    let (app_id, user_id) = (subject.app().id, subject.user_id());
    let txn = state.db.begin_write().await?;
    let factor = own_factor(&txn, subject, id).await?;
    mfa_factor::Entity::delete_by_id(factor.id)
        .exec(&txn)
        .await?;
    if active_factors(&txn, app_id, user_id).await?.is_empty() {
        delete_recovery_codes(&txn, app_id, user_id).await?;
    }
    if factor.status == STATUS_ACTIVE {
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app_id, "mfa.removed", subject.actor())
                .target(Target::user(user_id))
                .metadata(factor_facts(&factor)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Removes every factor and recovery code of a user (a lost device): `user.update`,
/// and only for users whose role the caller could grant. Returns how many factors
/// were removed.
pub async fn reset(
    state: &AppState,
    access: &AppAccess,
    user_id: Uuid,
    meta: &RequestMeta,
) -> Result<u64> {
    access.require(&[Permission::USER_UPDATE])?;
    let app_id = access.app().id;
    let txn = state.db.begin_write().await?;
    let target = users::find(&txn, app_id, user_id).await?;
    access.check_can_grant(
        &crate::services::roles::permissions_of(&txn, app_id, &target.role).await?,
    )?;
    let removed = mfa_factor::Entity::delete_many()
        .filter(mfa_factor::Column::AppId.eq(app_id))
        .filter(mfa_factor::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?
        .rows_affected;
    delete_recovery_codes(&txn, app_id, user_id).await?;
    mfa_challenge::Entity::delete_many()
        .filter(mfa_challenge::Column::AppId.eq(app_id))
        .filter(mfa_challenge::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "mfa.reset", access.actor().clone())
            .target(Target::user(user_id))
            .metadata(json!({ "factors_removed": removed })),
    )
    .await?;
    Ok(removed)
}

async fn delete_recovery_codes(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<()> {
    mfa_recovery_code::Entity::delete_many()
        .filter(mfa_recovery_code::Column::AppId.eq(app_id))
        .filter(mfa_recovery_code::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Recovery codes: 12 characters of an alphabet without look-alikes (60 bits),
/// shown as `xxxx-xxxx-xxxx`.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

fn new_recovery_code() -> Result<String> {
    let bytes = crypto::random_bytes(12)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// The stored form of a recovery code: case, spaces and dashes do not matter.
fn recovery_hash(state: &AppState, code: &str) -> String {
    state.hasher.hash(&recovery_normalised(code))
}

fn recovery_normalised(code: &str) -> String {
    let plain: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    format!("mfa-recovery:{plain}")
}

/// Replaces the user's recovery codes with [`RECOVERY_CODES`] new ones, returned
/// once (only their keyed hashes are stored).
async fn replace_recovery_codes(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<String>> {
    delete_recovery_codes(conn, app_id, user_id).await?;
    let now = state.now();
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = new_recovery_code()?;
        rows.push(mfa_recovery_code::ActiveModel {
            id: Set(db::new_id()),
            app_id: Set(app_id),
            user_id: Set(user_id),
            code_hash: Set(recovery_hash(state, &code)),
            created_at: Set(now),
            used_at: Set(None),
        });
        codes.push(code);
    }
    mfa_recovery_code::Entity::insert_many(rows)
        .exec(conn)
        .await?;
    Ok(codes)
}

/// New recovery codes for the caller (the old ones stop working); needs a recent
/// sign-in with MFA and at least one factor.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    subject: &MfaSubject,
    meta: &RequestMeta,
) -> Result<Vec<String>> {
    require_recent_mfa(state, subject).await?;
    let (app_id, user_id) = (subject.app().id, subject.user_id());
    if active_factors(&*state.db, app_id, user_id)
        .await?
        .is_empty()
    {
        return Err(Error::conflict(
            "recovery codes need a second factor: enrol one first",
        ));
    }
    let txn = state.db.begin_write().await?;
    let codes = replace_recovery_codes(&txn, state, app_id, user_id).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "mfa.recovery_codes_regenerated", subject.actor())
            .target(Target::user(user_id)),
    )
    .await?;
    Ok(codes)
}

/// Uses up one recovery code of the user; whether it was valid and unused.
pub(crate) async fn use_recovery_code(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    code: &str,
) -> Result<bool> {
    if code.len() > 64 {
        return Ok(false);
    }
    let candidates = state.hasher.candidates(&recovery_normalised(code));
    let Some(found) = mfa_recovery_code::Entity::find()
        .filter(mfa_recovery_code::Column::AppId.eq(app_id))
        .filter(mfa_recovery_code::Column::UserId.eq(user_id))
        .filter(mfa_recovery_code::Column::CodeHash.is_in(candidates))
        .filter(mfa_recovery_code::Column::UsedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    let claimed = mfa_recovery_code::Entity::update_many()
        .col_expr(mfa_recovery_code::Column::UsedAt, Expr::value(state.now()))
        .filter(mfa_recovery_code::Column::Id.eq(found.id))
        .filter(mfa_recovery_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// A factor just activated: the factor, the first factor's recovery codes, and,
/// when a sign-in enrolled it, that sign-in's session.
pub struct Activated {
    pub factor: mfa_factor::Model,
    pub recovery_codes: Option<Vec<String>>,
    pub signed_in: Option<signin::Completed>,
}

/// Marks `factor` active in `txn`, hands out recovery codes for a first factor,
/// audits `mfa.enrolled` (the `user.mfa_enrolled` webhook event), and completes
/// an enrolling sign-in. Commits.
async fn activate(
    txn: db::WriteTxn,
    state: &AppState,
    subject: &MfaSubject,
    factor: mfa_factor::ActiveModel,
    method: &'static str,
    meta: &RequestMeta,
) -> Result<Activated> {
    use sea_orm::ActiveModelTrait;
    let (app_id, user_id) = (subject.app().id, subject.user_id());
    let first = active_factors(&txn, app_id, user_id).await?.is_empty();
    let factor = factor.update(&txn).await?;
    let recovery_codes = if first {
        Some(replace_recovery_codes(&txn, state, app_id, user_id).await?)
    } else {
        None
    };
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app_id, "mfa.enrolled", subject.actor())
            .target(Target::user(user_id))
            .metadata(factor_facts(&factor)),
    )
    .await?;
    let signed_in = match subject.via() {
        MfaVia::Enrolment(challenge_id) => Some(
            signin::complete_enrolment(&txn, state, subject, challenge_id, method, meta).await?,
        ),
        MfaVia::Session(_) => None,
    };
    txn.commit().await?;
    Ok(Activated {
        factor,
        recovery_codes,
        signed_in,
    })
}

/// A factor name: trimmed, 1-100 characters, or `default`.
fn factor_name(name: Option<&str>, default: &str) -> Result<String> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(default.to_owned()),
        Some(name) => crate::services::validate::display_text("name", name, 100),
    }
}

/// Removes pending factors and challenges that can no longer be finished.
pub(crate) async fn forget_stale(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
    mfa_factor::Entity::delete_many()
        .filter(mfa_factor::Column::Status.eq(STATUS_PENDING))
        .filter(mfa_factor::Column::CreatedAt.lt(now - PENDING_TTL))
        .exec(conn)
        .await?;
    mfa_challenge::Entity::delete_many()
        .filter(mfa_challenge::Column::ExpiresAt.lt(now - Duration::hours(1)))
        .exec(conn)
        .await?;
    Ok(())
}
