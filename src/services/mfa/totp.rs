//! TOTP authenticators (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step
//! of clock drift either way). Seeds are sealed under the master key; a code is
//! accepted once: a factor remembers the last step it accepted.

use entity::mfa_factor;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, sea_query::Expr,
};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::{
    Activated, KIND_TOTP, PENDING_TTL, STATUS_ACTIVE, STATUS_PENDING, activate, factor_name,
    own_factor, require_enabled,
};
use crate::{
    access::MfaSubject,
    crypto, db,
    error::{Error, Result},
    request::RequestMeta,
    services::users,
    state::AppState,
};

/// RFC 6238 parameters.
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u16 = 1;
/// 160-bit seeds (RFC 4226 §4 recommends 160 bits).
const SEED_BYTES: usize = 20;

/// What a new TOTP enrolment shows once: the seed in base32, the `otpauth://` URI
/// and a QR code of it.
pub struct Enrolment {
    pub factor: mfa_factor::Model,
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// The vault's associated data for a factor's seed: a sealed seed opens only as
/// the seed of that factor.
pub fn aad(factor_id: uuid::Uuid) -> String {
    format!("mfa-totp:{factor_id}")
}

/// A label part of an otpauth URI (no `:`, which separates issuer and account).
fn label(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c == ':' || c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "Heimdall".to_owned()
    } else {
        cleaned.to_owned()
    }
}

fn totp_of(seed: Vec<u8>, issuer: Option<&str>, account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::new(seed.into_boxed_slice()))
        .with_issuer(issuer.map(label))
        .with_account_name(label(account))
        .build()
        .map_err(|e| Error::internal(format!("building a TOTP: {e:?}")))
}

/// Starts a TOTP enrolment: a pending factor with a new sealed seed.
pub async fn enroll(
    state: &AppState,
    subject: &MfaSubject,
    name: Option<&str>,
) -> Result<Enrolment> {
    let app = subject.app();
    require_enabled(state, app).await?;
    let name = factor_name(name, "Authenticator app")?;
    let user = users::find(&*state.db, app.id, subject.user_id()).await?;
    super::check_room(state, app.id, user.id).await?;
    let seed = crypto::random_bytes(SEED_BYTES)?;
    let id = db::new_id();
    let sealed = state.vault.seal(&seed, &aad(id))?;
    let totp = totp_of(seed, Some(&app.display_name), &user.email)?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|e| Error::internal(format!("otpauth URI: {e:?}")))?;
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| Error::internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    let now = state.now();
    let txn = state.db.begin_write().await?;
    super::forget_stale(&txn, now).await?;
    let factor = mfa_factor::ActiveModel {
        id: Set(id),
        app_id: Set(app.id),
        user_id: Set(user.id),
        kind: Set(KIND_TOTP.to_owned()),
        name: Set(name),
        status: Set(STATUS_PENDING.to_owned()),
        secret: Set(Some(sealed)),
        last_step: Set(None),
        credential_id: Set(None),
        credential: Set(None),
        sign_count: Set(0),
        created_at: Set(now),
        confirmed_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Enrolment {
        factor,
        // Base32 of the seed, as authenticator apps take it.
        secret: totp.secret().to_base32(),
        otpauth_uri,
        qr_svg,
    })
}

/// The time step a code belongs to, if it is right for `factor` now (±1 step).
fn matching_step(state: &AppState, factor: &mfa_factor::Model, code: &str) -> Result<Option<i64>> {
    let code = code.trim();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let Some(sealed) = &factor.secret else {
        return Ok(None);
    };
    let seed = state.vault.open(sealed, &aad(factor.id))?;
    let totp = totp_of(seed, None, "")?;
    let now = u64::try_from(state.now().timestamp()).unwrap_or_default();
    Ok(totp
        .check(code, now)
        .and_then(|step| i64::try_from(step).ok()))
}

/// Accepts `code` for `factor` once: the factor's last accepted step moves forward
/// atomically, so a replayed code (or a racing second use) is refused.
async fn accept(
    conn: &impl ConnectionTrait,
    state: &AppState,
    factor: &mfa_factor::Model,
    code: &str,
) -> Result<bool> {
    let Some(step) = matching_step(state, factor, code)? else {
        return Ok(false);
    };
    let moved = mfa_factor::Entity::update_many()
        .col_expr(mfa_factor::Column::LastStep, Expr::value(step))
        .col_expr(mfa_factor::Column::LastUsedAt, Expr::value(state.now()))
        .filter(mfa_factor::Column::Id.eq(factor.id))
        .filter(
            Condition::any()
                .add(mfa_factor::Column::LastStep.is_null())
                .add(mfa_factor::Column::LastStep.lt(step)),
        )
        .exec(conn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Whether `code` is a fresh code of one of the user's active TOTP factors (and
/// uses it up); the factor it matched.
pub(crate) async fn check_any(
    conn: &impl ConnectionTrait,
    state: &AppState,
    factors: &[mfa_factor::Model],
    code: &str,
) -> Result<Option<uuid::Uuid>> {
    for factor in factors.iter().filter(|f| f.kind == KIND_TOTP) {
        if accept(conn, state, factor, code).await? {
            return Ok(Some(factor.id));
        }
    }
    Ok(None)
}

/// Confirms a pending TOTP factor with a current code, activating it.
pub async fn confirm(
    state: &AppState,
    subject: &MfaSubject,
    id: uuid::Uuid,
    code: &str,
    meta: &RequestMeta,
) -> Result<Activated> {
    require_enabled(state, subject.app()).await?;
    let txn = state.db.begin_write().await?;
    let factor = own_factor(&txn, subject, id).await?;
    if factor.kind != KIND_TOTP {
        return Err(Error::not_found("factor not found"));
    }
    if factor.status == STATUS_ACTIVE {
        return Err(Error::conflict("this factor is already confirmed"));
    }
    if factor.created_at + PENDING_TTL <= state.now() {
        return Err(Error::Gone(
            "this enrolment has expired; start again".into(),
        ));
    }
    if !accept(&txn, state, &factor, code).await? {
        return Err(Error::rejected(
            "invalid_code",
            "the code is not correct (or was already used)",
        ));
    }
    // Re-read: `accept` moved the step.
    let factor = own_factor(&txn, subject, id).await?;
    let mut model = factor.into_active_model();
    model.status = Set(STATUS_ACTIVE.to_owned());
    model.confirmed_at = Set(Some(state.now()));
    activate(txn, state, subject, model, super::amr::OTP, meta).await
}
