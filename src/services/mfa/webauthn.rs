//! WebAuthn credentials (passkeys) through webauthn-rs: the relying party is the
//! host of the public URL, the allowed origin the public URL's origin. Heimdall
//! stores each credential's public key and sign count; an assertion whose counter
//! does not move forward (a cloned authenticator) is refused.
//!
//! Credentials are registered as webauthn-rs passkeys, which always require user
//! verification (PIN or biometrics): then a passkey alone counts as two factors for
//! passwordless sign-in. Registration asks for a discoverable credential
//! (`residentKey: preferred`), so that the passkey can sign in without an email.

use entity::{mfa_challenge, mfa_factor};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
    WebauthnError,
};

use super::{Activated, KIND_WEBAUTHN, STATUS_ACTIVE, STATUS_PENDING, activate, factor_name};
use crate::{
    access::MfaSubject,
    crypto, db,
    error::{Error, Result},
    request::RequestMeta,
    services::users,
    state::AppState,
};

/// Ceremonies (registration, sign-in) must finish within this.
pub const CEREMONY_TTL: chrono::Duration = chrono::Duration::minutes(5);
pub const KIND_REGISTRATION: &str = "webauthn_registration";

/// The relying party of an app: RP id = the public URL's host, origin = its origin.
/// Whether WebAuthn can run for `app` (the public URL has a domain name): the
/// hosted sign-in page shows its passkey button only then.
pub fn available(state: &AppState, app: &entity::app::Model) -> bool {
    relying_party(state, app).is_ok()
}

fn relying_party(state: &AppState, app: &entity::app::Model) -> Result<Webauthn> {
    let unavailable = || {
        Error::refused(
            "webauthn_unavailable",
            "WebAuthn needs a public URL with a domain name (HEIMDALL_PUBLIC_URL)",
        )
    };
    let public = Url::parse(&state.config.public_origin()).map_err(|_| unavailable())?;
    let origin = Url::parse(&public.origin().ascii_serialization()).map_err(|_| unavailable())?;
    let rp_id = origin.domain().ok_or_else(unavailable)?.to_owned();
    let name = if app.display_name.trim().is_empty() {
        app.name.clone()
    } else {
        app.display_name.clone()
    };
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|_| unavailable())?
        .rp_name(&name)
        .build()
        .map_err(|_| unavailable())
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("webauthn: {e}"))
}

/// A credential the client sent, parsed (400 naming the field when malformed).
fn parse<T: serde::de::DeserializeOwned>(credential: Value) -> Result<T> {
    serde_json::from_value(credential).map_err(|e| {
        Error::invalid_field(
            "credential",
            format!("is not a WebAuthn credential in JSON form: {e}"),
        )
    })
}

/// The stored passkey of a WebAuthn factor.
fn passkey_of(factor: &mfa_factor::Model) -> Result<Passkey> {
    let stored = factor
        .credential
        .as_deref()
        .ok_or_else(|| Error::internal("a WebAuthn factor without its credential"))?;
    serde_json::from_str(stored).map_err(internal)
}

/// Starts registering a WebAuthn credential for the subject's user: the
/// `PublicKeyCredentialCreationOptions` (JSON form) and the id to finish with.
pub async fn start_registration(
    state: &AppState,
    subject: &MfaSubject,
    name: Option<&str>,
) -> Result<(Uuid, Value)> {
    let app = subject.app();
    super::require_enabled(state, app).await?;
    let name = factor_name(name, "Passkey")?;
    let rp = relying_party(state, app)?;
    let user = users::find(&*state.db, app.id, subject.user_id()).await?;
    super::check_room(state, app.id, user.id).await?;
    let existing: Vec<Vec<u8>> = super::active_factors(&*state.db, app.id, user.id)
        .await?
        .iter()
        .filter(|f| f.kind == KIND_WEBAUTHN)
        .filter_map(|f| passkey_of(f).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let display = user
        .display_name
        .clone()
        .unwrap_or_else(|| user.email.clone());
    let (options, registration) = rp
        .start_passkey_registration(
            user.id,
            &user.email,
            &display,
            (!existing.is_empty()).then_some(existing),
        )
        .map_err(internal)?;
    let mut options = serde_json::to_value(options).map_err(internal)?;
    // A discoverable credential when the authenticator can (passwordless sign-in).
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(Value::as_object_mut)
    {
        selection.insert("residentKey".into(), json!("preferred"));
    }
    let stored = json!({ "name": name, "registration": registration });
    let now = state.now();
    let txn = state.db.begin_write().await?;
    super::forget_stale(&txn, now).await?;
    let challenge = mfa_challenge::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        user_id: Set(Some(user.id)),
        kind: Set(KIND_REGISTRATION.to_owned()),
        token_hash: Set(None),
        tenant_id: Set(None),
        amr: Set(None),
        state: Set(Some(stored.to_string())),
        factor_id: Set(None),
        failures: Set(0),
        created_at: Set(now),
        expires_at: Set(now + CEREMONY_TTL),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let public_key = options.get("publicKey").cloned().unwrap_or(Value::Null);
    Ok((challenge.id, public_key))
}

/// Finishes a registration: checks the authenticator's answer against the stored
/// ceremony, stores the credential and activates it.
pub async fn finish_registration(
    state: &AppState,
    subject: &MfaSubject,
    id: Uuid,
    credential: Value,
    meta: &RequestMeta,
) -> Result<Activated> {
    let app = subject.app();
    super::require_enabled(state, app).await?;
    let credential: RegisterPublicKeyCredential = parse(credential)?;
    let rp = relying_party(state, app)?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let challenge = mfa_challenge::Entity::find_by_id(id)
        .filter(mfa_challenge::Column::AppId.eq(app.id))
        .filter(mfa_challenge::Column::UserId.eq(subject.user_id()))
        .filter(mfa_challenge::Column::Kind.eq(KIND_REGISTRATION))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("registration not found"))?;
    if challenge.used_at.is_some() || challenge.expires_at <= now {
        return Err(Error::Gone(
            "this registration has expired or was finished; start again".into(),
        ));
    }
    let stored: Value = challenge
        .state
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(internal)?
        .unwrap_or_default();
    let registration: PasskeyRegistration =
        serde_json::from_value(stored.get("registration").cloned().unwrap_or_default())
            .map_err(internal)?;
    let name = stored
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Passkey")
        .to_owned();
    let claimed = mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::UsedAt, Expr::value(now))
        .filter(mfa_challenge::Column::Id.eq(challenge.id))
        .filter(mfa_challenge::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(Error::Gone("this registration was already finished".into()));
    }
    let passkey = rp
        .finish_passkey_registration(&credential, &registration)
        .map_err(|e| {
            Error::invalid_field(
                "credential",
                format!("the authenticator's answer was refused: {e}"),
            )
        })?;
    let credential_id = crypto::b64url(passkey.cred_id());
    let taken = mfa_factor::Entity::find()
        .filter(mfa_factor::Column::AppId.eq(app.id))
        .filter(mfa_factor::Column::CredentialId.eq(credential_id.clone()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(Error::conflict("this credential is already registered"));
    }
    let factor = mfa_factor::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        user_id: Set(subject.user_id()),
        kind: Set(KIND_WEBAUTHN.to_owned()),
        name: Set(name),
        status: Set(STATUS_PENDING.to_owned()),
        secret: Set(None),
        last_step: Set(None),
        credential_id: Set(Some(credential_id)),
        credential: Set(Some(serde_json::to_string(&passkey).map_err(internal)?)),
        sign_count: Set(0),
        created_at: Set(now),
        confirmed_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let mut model = factor.into_active_model();
    model.status = Set(STATUS_ACTIVE.to_owned());
    model.confirmed_at = Set(Some(now));
    activate(txn, state, subject, model, super::amr::HWK, meta).await
}

/// Request options for an assertion by one of `factors` (a second factor), and
/// the ceremony state to keep until the answer comes.
pub(crate) fn start_assertion(
    state: &AppState,
    app: &entity::app::Model,
    factors: &[mfa_factor::Model],
) -> Result<(Value, String)> {
    let rp = relying_party(state, app)?;
    let passkeys: Vec<Passkey> = factors
        .iter()
        .filter(|f| f.kind == KIND_WEBAUTHN)
        .map(passkey_of)
        .collect::<Result<_>>()?;
    if passkeys.is_empty() {
        return Err(Error::invalid_field(
            "method",
            "this account has no WebAuthn credential",
        ));
    }
    let (options, authentication) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(internal)?;
    let options = serde_json::to_value(options).map_err(internal)?;
    let stored = serde_json::to_string(&authentication).map_err(internal)?;
    Ok((
        options.get("publicKey").cloned().unwrap_or(Value::Null),
        stored,
    ))
}

/// Why an assertion was refused.
pub(crate) enum Refusal {
    /// Not a valid answer to the challenge (or not one of the user's credentials).
    Invalid(String),
    /// The sign count did not move forward: possibly a cloned authenticator.
    CounterRegression(Uuid),
}

/// A verified assertion: the factor, with its counter stored.
pub(crate) struct Asserted {
    pub factor_id: Uuid,
    pub user_id: Uuid,
}

fn refusal_of(e: &WebauthnError, factor_id: Uuid) -> Refusal {
    match e {
        WebauthnError::CredentialPossibleCompromise => Refusal::CounterRegression(factor_id),
        other => Refusal::Invalid(other.to_string()),
    }
}

/// Stores the credential's new counter after a verified assertion.
async fn record_use(
    conn: &impl ConnectionTrait,
    state: &AppState,
    factor: &mfa_factor::Model,
    mut passkey: Passkey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<()> {
    passkey.update_credential(result);
    let mut model = factor.clone().into_active_model();
    model.credential = Set(Some(serde_json::to_string(&passkey).map_err(internal)?));
    model.sign_count = Set(i64::from(result.counter()));
    model.last_used_at = Set(Some(state.now()));
    model.update(conn).await?;
    Ok(())
}

/// The factor a credential id names, among `factors`.
fn by_credential<'f>(
    factors: &'f [mfa_factor::Model],
    credential: &PublicKeyCredential,
) -> Option<&'f mfa_factor::Model> {
    let id = crypto::b64url(credential.get_credential_id());
    factors
        .iter()
        .find(|f| f.kind == KIND_WEBAUTHN && f.credential_id.as_deref() == Some(id.as_str()))
}

/// Verifies a second-factor assertion against the stored ceremony.
pub(crate) async fn finish_assertion(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &entity::app::Model,
    factors: &[mfa_factor::Model],
    stored: &str,
    credential: Value,
) -> Result<std::result::Result<Asserted, Refusal>> {
    let credential: PublicKeyCredential = parse(credential)?;
    let rp = relying_party(state, app)?;
    let authentication: PasskeyAuthentication = serde_json::from_str(stored).map_err(internal)?;
    let Some(factor) = by_credential(factors, &credential) else {
        return Ok(Err(Refusal::Invalid(
            "not a credential of this account".into(),
        )));
    };
    let passkey = passkey_of(factor)?;
    match rp.finish_passkey_authentication(&credential, &authentication) {
        Ok(result) => {
            record_use(conn, state, factor, passkey, &result).await?;
            Ok(Ok(Asserted {
                factor_id: factor.id,
                user_id: factor.user_id,
            }))
        }
        Err(e) => Ok(Err(refusal_of(&e, factor.id))),
    }
}

/// Request options for a passwordless sign-in with any discoverable credential.
pub(crate) fn start_discoverable(
    state: &AppState,
    app: &entity::app::Model,
) -> Result<(Value, String)> {
    let rp = relying_party(state, app)?;
    let (options, authentication) = rp.start_discoverable_authentication().map_err(internal)?;
    let options = serde_json::to_value(options).map_err(internal)?;
    let stored = serde_json::to_string(&authentication).map_err(internal)?;
    Ok((
        options.get("publicKey").cloned().unwrap_or(Value::Null),
        stored,
    ))
}

/// Verifies a passwordless assertion: the credential names its factor (and so the
/// user); a user handle, when the authenticator sends one, must be that user's.
pub(crate) async fn finish_discoverable(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &entity::app::Model,
    stored: &str,
    credential: Value,
) -> Result<std::result::Result<Asserted, Refusal>> {
    let credential: PublicKeyCredential = parse(credential)?;
    let rp = relying_party(state, app)?;
    let authentication: DiscoverableAuthentication =
        serde_json::from_str(stored).map_err(internal)?;
    let id = crypto::b64url(credential.get_credential_id());
    let Some(factor) = mfa_factor::Entity::find()
        .filter(mfa_factor::Column::AppId.eq(app.id))
        .filter(mfa_factor::Column::CredentialId.eq(id))
        .filter(mfa_factor::Column::Status.eq(STATUS_ACTIVE))
        .one(conn)
        .await?
    else {
        return Ok(Err(Refusal::Invalid("unknown credential".into())));
    };
    if let Some(handle) = credential.get_user_unique_id()
        && handle != factor.user_id.as_bytes()
    {
        return Ok(Err(Refusal::Invalid(
            "the user handle does not match the credential".into(),
        )));
    }
    let passkey = passkey_of(&factor)?;
    match rp.finish_discoverable_authentication_v2(&credential, authentication, &passkey) {
        Ok(result) => {
            record_use(conn, state, &factor, passkey, &result).await?;
            Ok(Ok(Asserted {
                factor_id: factor.id,
                user_id: factor.user_id,
            }))
        }
        Err(e) => Ok(Err(refusal_of(&e, factor.id))),
    }
}
