//! The two-step sign-in (docs/src/mfa.md): after the first factor (a password),
//! a user with a second factor (or any user, under `mfa_policy: required`) gets an
//! `hm_mfa_` token instead of tokens: single use, bound to the app and the user,
//! 300 seconds, stored hashed; five wrong codes end it. The second step presents a
//! TOTP code, a recovery code or a WebAuthn assertion. Passwordless sign-in with a
//! passkey (user verification included) is one step and counts as two factors.

use chrono::Duration;
use entity::{mfa_challenge, session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    KIND_TOTP, KIND_WEBAUTHN, MfaPolicy, active_factors, amr, recovery_codes_left, totp,
    webauthn::{self, Refusal},
};
use crate::{
    access::{Actor, MfaSubject},
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        sessions, tenants, throttle, users,
    },
    state::AppState,
};

/// Lifetime of an `hm_mfa_` token.
pub const TOKEN_TTL: Duration = Duration::seconds(300);
/// Wrong codes that end an `hm_mfa_` token.
pub const MAX_FAILURES: i32 = 5;

const KIND_SIGNIN: &str = "signin";
const KIND_ENROLLMENT: &str = "enrollment";
const KIND_PASSKEY: &str = "passkey";

/// A sign-in waiting for its second factor.
#[derive(Debug, Clone)]
pub struct Pending {
    /// `hm_mfa_…`, shown once.
    pub token: String,
    /// What the user can present: `totp`, `webauthn`, `recovery_code`.
    pub methods: Vec<&'static str>,
    pub expires_in: i64,
    /// No factor yet: enrol one with the token as bearer (docs/src/mfa.md).
    pub enrollment_required: bool,
}

impl Pending {
    /// The answer of the first step (`auth/signin`).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "mfa_required": true,
            "mfa_token": self.token,
            "methods": self.methods,
            "expires_in": self.expires_in,
        });
        if self.enrollment_required {
            body["enrollment_required"] = json!(true);
        }
        body
    }
}

/// A finished sign-in: the session opened, its first refresh token, the user.
pub struct Completed {
    pub session: session::Model,
    pub refresh: String,
    pub user: user::Model,
}

/// What the second step presents.
pub enum Proof {
    Totp(String),
    RecoveryCode(String),
    Webauthn(Value),
}

impl Proof {
    fn method(&self) -> &'static str {
        match self {
            Proof::Totp(_) => "totp",
            Proof::RecoveryCode(_) => "recovery_code",
            Proof::Webauthn(_) => "webauthn",
        }
    }
}

fn invalid_token() -> Error {
    Error::rejected(
        "invalid_mfa_token",
        "the mfa_token is invalid, expired or already used; sign in again",
    )
}

fn invalid_code() -> Error {
    Error::rejected("invalid_code", "the second factor is not correct")
}

fn throttle_key(app_id: Uuid, user_id: Uuid) -> String {
    format!("mfa:account:{app_id}:{user_id}")
}

/// 403 `mfa_required` when the tenant admits only sessions with a second factor.
pub async fn check_tenant(
    state: &AppState,
    app_id: Uuid,
    tenant_id: Uuid,
    amr: &[String],
) -> Result<()> {
    let tenant = tenants::find(&*state.db, app_id, tenant_id).await?;
    if tenant.require_mfa && !super::has_mfa(amr) {
        return Err(Error::refused(
            "mfa_required",
            "this tenant requires a sign-in with a second factor",
        ));
    }
    Ok(())
}

/// Whether a sign-in of `user_id` needs a second step, by the app's policy and the
/// user's factors (`demand`: asked for regardless). Reads only, on `conn`: a caller
/// inside a transaction must not wait for a second connection.
pub async fn second_step_needed(
    conn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    app: &entity::app::Model,
    user_id: Uuid,
    demand: bool,
) -> Result<bool> {
    Ok(match state.apps.settings(app).await.mfa_policy {
        MfaPolicy::Off => false,
        MfaPolicy::Required => true,
        MfaPolicy::Optional => demand || !active_factors(conn, app.id, user_id).await?.is_empty(),
    })
}

/// After a right first factor (`first`, RFC 8176 values): `Some` when the sign-in
/// needs a second step, by the app's policy and the user's factors; `demand` asks
/// for one regardless (an OAuth request that wants MFA). Without a second step, a
/// tenant that requires MFA is refused.
pub async fn after_first_factor(
    state: &AppState,
    app: &entity::app::Model,
    user: &user::Model,
    tenant_id: Option<Uuid>,
    first: &[&str],
    demand: bool,
) -> Result<Option<Pending>> {
    let policy = state.apps.settings(app).await.mfa_policy;
    let factors = active_factors(&*state.db, app.id, user.id).await?;
    let needed = match policy {
        MfaPolicy::Off => false,
        MfaPolicy::Optional => demand || !factors.is_empty(),
        MfaPolicy::Required => true,
    };
    if !needed {
        if let Some(tenant_id) = tenant_id {
            let first: Vec<String> = first.iter().map(|m| (*m).to_owned()).collect();
            check_tenant(state, app.id, tenant_id, &first).await?;
        }
        return Ok(None);
    }
    let methods = methods(state, app.id, user.id, &factors).await?;
    let enrollment_required = factors.is_empty();
    let token = crypto::generate_secret(prefix::MFA_TOKEN)?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    super::forget_stale(&txn, now).await?;
    mfa_challenge::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        user_id: Set(Some(user.id)),
        kind: Set(if enrollment_required {
            KIND_ENROLLMENT
        } else {
            KIND_SIGNIN
        }
        .to_owned()),
        token_hash: Set(Some(state.hasher.hash(&token))),
        tenant_id: Set(tenant_id),
        amr: Set(Some(json!(first))),
        state: Set(None),
        factor_id: Set(None),
        failures: Set(0),
        created_at: Set(now),
        expires_at: Set(now + TOKEN_TTL),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(Pending {
        token,
        methods,
        expires_in: TOKEN_TTL.num_seconds(),
        enrollment_required,
    }))
}

/// What a user with `factors` can present as a second factor.
async fn methods(
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    factors: &[entity::mfa_factor::Model],
) -> Result<Vec<&'static str>> {
    let mut methods = Vec::new();
    if factors.iter().any(|f| f.kind == KIND_TOTP) {
        methods.push("totp");
    }
    if factors.iter().any(|f| f.kind == KIND_WEBAUTHN) {
        methods.push("webauthn");
    }
    if !factors.is_empty() && recovery_codes_left(&*state.db, app_id, user_id).await? > 0 {
        methods.push("recovery_code");
    }
    Ok(methods)
}

/// The methods a live sign-in token can still use; empty when it is not live.
pub async fn methods_of(
    state: &AppState,
    app: &entity::app::Model,
    token: &str,
) -> Result<Vec<&'static str>> {
    let Ok(challenge) = challenge_of(&*state.db, state, app.id, token, KIND_SIGNIN).await else {
        return Ok(Vec::new());
    };
    let Some(user_id) = challenge.user_id else {
        return Ok(Vec::new());
    };
    let factors = active_factors(&*state.db, app.id, user_id).await?;
    methods(state, app.id, user_id, &factors).await
}

/// The live challenge of an `hm_mfa_` token of `app`, of one of `kinds`.
async fn challenge_of(
    conn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    token: &str,
    kind: &str,
) -> Result<mfa_challenge::Model> {
    if !token.starts_with(prefix::MFA_TOKEN) || token.len() > 200 {
        return Err(invalid_token());
    }
    let found = mfa_challenge::Entity::find()
        .filter(mfa_challenge::Column::TokenHash.is_in(state.hasher.candidates(token)))
        .filter(mfa_challenge::Column::AppId.eq(app_id))
        .filter(mfa_challenge::Column::Kind.eq(kind))
        .one(conn)
        .await?
        .ok_or_else(invalid_token)?;
    if found.used_at.is_some() || found.expires_at <= state.now() || found.user_id.is_none() {
        return Err(invalid_token());
    }
    Ok(found)
}

/// The sign-in an enrolment token belongs to (the guard admits it on the
/// enrolment routes): its challenge and user.
pub async fn enrolment_of(
    state: &AppState,
    app: &entity::app::Model,
    token: &str,
) -> Result<Option<(Uuid, Uuid)>> {
    match challenge_of(&*state.db, state, app.id, token, KIND_ENROLLMENT).await {
        Ok(c) => Ok(c.user_id.map(|user_id| (c.id, user_id))),
        Err(Error::Rejected { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn amr_values(first: Option<&Value>, second: &[&str]) -> Vec<String> {
    let mut values: Vec<String> = first
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for m in second.iter().chain(std::iter::once(&amr::MFA)) {
        if !values.iter().any(|v| v == m) {
            values.push((*m).to_owned());
        }
    }
    values
}

fn user_actor(user_id: Uuid) -> Actor {
    Actor {
        kind: "end_user",
        id: user_id.to_string(),
    }
}

/// Opens the session of a finished sign-in in `txn` and audits `user.signed_in`.
#[allow(clippy::too_many_arguments)]
async fn open(
    txn: &db::WriteTxn,
    state: &AppState,
    app: &entity::app::Model,
    user: user::Model,
    tenant_id: Option<Uuid>,
    amr: Vec<String>,
    method: &str,
    meta: &RequestMeta,
) -> Result<Completed> {
    let (session, refresh) =
        sessions::open_with(txn, state, app, &user, tenant_id, amr.clone(), meta).await?;
    let user = sessions::mark_signed_in(txn, state, user).await?;
    audit::record(
        txn,
        state,
        meta,
        Entry::new(app.id, "user.signed_in", user_actor(user.id))
            .target(Target::session(session.id))
            .metadata(json!({ "method": method, "amr": amr })),
    )
    .await?;
    Ok(Completed {
        session,
        refresh,
        user,
    })
}

/// Uses up a challenge (single use; a concurrent use loses).
async fn claim(txn: &db::WriteTxn, state: &AppState, id: Uuid) -> Result<bool> {
    let claimed = mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::UsedAt, Expr::value(state.now()))
        .filter(mfa_challenge::Column::Id.eq(id))
        .filter(mfa_challenge::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Finishes a sign-in that enrolled its first factor (`method`) with its enrolment
/// token, in the enrolment's transaction.
pub(crate) async fn complete_enrolment(
    txn: &db::WriteTxn,
    state: &AppState,
    subject: &MfaSubject,
    challenge_id: Uuid,
    method: &'static str,
    meta: &RequestMeta,
) -> Result<Completed> {
    let app = subject.app();
    let challenge = mfa_challenge::Entity::find_by_id(challenge_id)
        .one(txn)
        .await?
        .ok_or_else(invalid_token)?;
    if !claim(txn, state, challenge.id).await? {
        return Err(invalid_token());
    }
    let user = users::find(txn, app.id, subject.user_id()).await?;
    sessions::check_may_sign_in(app, &user)?;
    let amr = amr_values(challenge.amr.as_ref(), &[method]);
    open(
        txn,
        state,
        app,
        user,
        challenge.tenant_id,
        amr,
        "enrollment",
        meta,
    )
    .await
}

/// Records a failed second step: counts it on the token (five end it) and on the
/// account's throttle, and audits `mfa.challenge_failed`.
#[allow(clippy::too_many_arguments)]
async fn failed(
    state: &AppState,
    app_id: Uuid,
    challenge: Option<&mfa_challenge::Model>,
    user_id: Option<Uuid>,
    method: &str,
    reason: &str,
    factor_id: Option<Uuid>,
    meta: &RequestMeta,
) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let mut failures = None;
    if let Some(challenge) = challenge {
        use sea_orm::sea_query::ExprTrait;
        // Counted in the database, so that concurrent wrong codes all count.
        mfa_challenge::Entity::update_many()
            .col_expr(
                mfa_challenge::Column::Failures,
                Expr::col(mfa_challenge::Column::Failures).add(1),
            )
            .filter(mfa_challenge::Column::Id.eq(challenge.id))
            .exec(&txn)
            .await?;
        mfa_challenge::Entity::update_many()
            .col_expr(mfa_challenge::Column::UsedAt, Expr::value(state.now()))
            .filter(mfa_challenge::Column::Id.eq(challenge.id))
            .filter(mfa_challenge::Column::Failures.gte(MAX_FAILURES))
            .filter(mfa_challenge::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        failures = mfa_challenge::Entity::find_by_id(challenge.id)
            .one(&txn)
            .await?
            .map(|c| c.failures);
    }
    let mut entry = Entry::new(
        app_id,
        "mfa.challenge_failed",
        Actor {
            kind: "anonymous",
            id: String::new(),
        },
    )
    .metadata(json!({
        "method": method,
        "reason": reason,
        "failures": failures,
        "factor_id": factor_id,
    }));
    if let Some(user_id) = user_id {
        entry = entry.target(Target::user(user_id));
    }
    audit::commit(txn, state, meta, entry).await?;
    if let Some(user_id) = user_id {
        throttle::fail(
            state,
            &throttle_key(app_id, user_id),
            throttle::SIGNIN_ACCOUNT,
        )
        .await?;
    }
    Ok(())
}

/// A second step's result: the `amr` value of the factor that matched (and the
/// factor), or why it failed (and the factor, when known).
type Outcome = std::result::Result<(&'static str, Option<Uuid>), (&'static str, Option<Uuid>)>;

/// The second step: checks the proof against the token's user and, when right,
/// opens the session (`amr`: the first factor, the second, `mfa`).
pub async fn verify(
    state: &AppState,
    app: &entity::app::Model,
    token: &str,
    proof: Proof,
    meta: &RequestMeta,
) -> Result<Completed> {
    let challenge = challenge_of(&*state.db, state, app.id, token, KIND_SIGNIN).await?;
    let user_id = challenge.user_id.ok_or_else(invalid_token)?;
    let key = throttle_key(app.id, user_id);
    let had_failures = throttle::check(state, &key, throttle::SIGNIN_ACCOUNT).await?;
    let user = users::find(&*state.db, app.id, user_id)
        .await
        .map_err(|_| invalid_token())?;
    sessions::check_may_sign_in(app, &user)?;
    let factors = active_factors(&*state.db, app.id, user_id).await?;
    let method = proof.method();
    let txn = state.db.begin_write().await?;
    let outcome: Outcome = match &proof {
        Proof::Totp(code) => match totp::check_any(&txn, state, &factors, code).await? {
            Some(id) => Ok((amr::OTP, Some(id))),
            None => Err(("wrong_code", None)),
        },
        Proof::RecoveryCode(code) => {
            if !factors.is_empty()
                && super::use_recovery_code(&txn, state, app.id, user_id, code).await?
            {
                audit::record(
                    &txn,
                    state,
                    meta,
                    Entry::new(app.id, "mfa.recovery_code_used", user_actor(user_id))
                        .target(Target::user(user_id))
                        .metadata(json!({
                            "remaining": recovery_codes_left(&txn, app.id, user_id).await?,
                        })),
                )
                .await?;
                Ok((amr::OTP, None))
            } else {
                Err(("wrong_code", None))
            }
        }
        Proof::Webauthn(credential) => {
            let Some(stored) = challenge.state.as_deref() else {
                return Err(Error::invalid_field(
                    "method",
                    "start the WebAuthn step first (auth/mfa/webauthn/start)",
                ));
            };
            match webauthn::finish_assertion(&txn, state, app, &factors, stored, credential.clone())
                .await?
            {
                Ok(asserted) if asserted.user_id == user_id => {
                    Ok((amr::HWK, Some(asserted.factor_id)))
                }
                Ok(_) => Err(("wrong_credential", None)),
                Err(Refusal::CounterRegression(id)) => Err(("counter_regression", Some(id))),
                Err(Refusal::Invalid(detail)) => {
                    tracing::debug!(%detail, "a WebAuthn assertion was refused");
                    Err(("wrong_credential", None))
                }
            }
        }
    };
    match outcome {
        Ok((second, _factor)) => {
            crate::services::observe::mfa_challenge("success");
            if !claim(&txn, state, challenge.id).await? {
                return Err(invalid_token());
            }
            let amr = amr_values(challenge.amr.as_ref(), &[second]);
            let completed = open(
                &txn,
                state,
                app,
                user,
                challenge.tenant_id,
                amr,
                method,
                meta,
            )
            .await?;
            txn.commit().await?;
            if had_failures {
                throttle::clear(state, &key).await?;
            }
            Ok(completed)
        }
        Err((reason, factor_id)) => {
            drop(txn);
            failed(
                state,
                app.id,
                Some(&challenge),
                Some(user_id),
                method,
                reason,
                factor_id,
                meta,
            )
            .await?;
            Err(invalid_code())
        }
    }
}

/// WebAuthn as the second step: request options for the user's credentials; the
/// ceremony is kept with the token until `verify`.
pub async fn webauthn_start(
    state: &AppState,
    app: &entity::app::Model,
    token: &str,
) -> Result<Value> {
    let challenge = challenge_of(&*state.db, state, app.id, token, KIND_SIGNIN).await?;
    let user_id = challenge.user_id.ok_or_else(invalid_token)?;
    let factors = active_factors(&*state.db, app.id, user_id).await?;
    let (options, stored) = webauthn::start_assertion(state, app, &factors)?;
    let txn = state.db.begin_write().await?;
    mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::State, Expr::value(stored))
        .filter(mfa_challenge::Column::Id.eq(challenge.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(options)
}

/// Passwordless sign-in, step one: request options for any discoverable
/// credential of the app, and the id to finish with.
pub async fn passkey_start(state: &AppState, app: &entity::app::Model) -> Result<(Uuid, Value)> {
    super::require_enabled(state, app).await?;
    let (options, stored) = webauthn::start_discoverable(state, app)?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    super::forget_stale(&txn, now).await?;
    let challenge = mfa_challenge::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        user_id: Set(None),
        kind: Set(KIND_PASSKEY.to_owned()),
        token_hash: Set(None),
        tenant_id: Set(None),
        amr: Set(None),
        state: Set(Some(stored)),
        factor_id: Set(None),
        failures: Set(0),
        created_at: Set(now),
        expires_at: Set(now + webauthn::CEREMONY_TTL),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((challenge.id, options))
}

/// Passwordless sign-in, step two: a verified assertion of a passkey (with user
/// verification) opens a session with `amr` `["hwk", "user", "mfa"]`.
pub async fn passkey_finish(
    state: &AppState,
    app: &entity::app::Model,
    id: Uuid,
    credential: Value,
    meta: &RequestMeta,
) -> Result<Completed> {
    super::require_enabled(state, app).await?;
    let now = state.now();
    let challenge = mfa_challenge::Entity::find_by_id(id)
        .filter(mfa_challenge::Column::AppId.eq(app.id))
        .filter(mfa_challenge::Column::Kind.eq(KIND_PASSKEY))
        .one(&*state.db)
        .await?
        .ok_or_else(|| Error::not_found("passkey sign-in not found"))?;
    if challenge.used_at.is_some() || challenge.expires_at <= now {
        return Err(Error::Gone(
            "this passkey sign-in has expired or was used; start again".into(),
        ));
    }
    let stored = challenge.state.clone().unwrap_or_default();
    // The claim and the credential's new counter commit first: a passkey sign-in is
    // single use, right or wrong.
    let txn = state.db.begin_write().await?;
    if !claim(&txn, state, challenge.id).await? {
        return Err(Error::Gone("this passkey sign-in was already used".into()));
    }
    let asserted = webauthn::finish_discoverable(&txn, state, app, &stored, credential).await?;
    txn.commit().await?;
    let asserted = match asserted {
        Ok(asserted) => asserted,
        Err(refusal) => {
            let (reason, factor_id) = match refusal {
                Refusal::CounterRegression(id) => ("counter_regression", Some(id)),
                Refusal::Invalid(detail) => {
                    tracing::debug!(%detail, "a passkey assertion was refused");
                    ("wrong_credential", None)
                }
            };
            let user_id = match factor_id {
                Some(id) => entity::mfa_factor::Entity::find_by_id(id)
                    .one(&*state.db)
                    .await?
                    .map(|f| f.user_id),
                None => None,
            };
            failed(
                state, app.id, None, user_id, "passkey", reason, factor_id, meta,
            )
            .await?;
            return Err(invalid_code());
        }
    };
    let key = throttle_key(app.id, asserted.user_id);
    throttle::check(state, &key, throttle::SIGNIN_ACCOUNT).await?;
    let user = users::find(&*state.db, app.id, asserted.user_id).await?;
    sessions::check_may_sign_in(app, &user)?;
    let amr = vec![
        amr::HWK.to_owned(),
        amr::USER.to_owned(),
        amr::MFA.to_owned(),
    ];
    let txn = state.db.begin_write().await?;
    let completed = open(&txn, state, app, user, None, amr, "passkey", meta).await?;
    txn.commit().await?;
    Ok(completed)
}
