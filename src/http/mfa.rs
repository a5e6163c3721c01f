//! Multi-factor authentication over REST (docs/src/mfa.md): the user's factors at
//! `/{slug}/v1/me/mfa…` (their access token, or the `hm_mfa_` token of a sign-in
//! that must enrol first), the second sign-in step at `/{slug}/v1/auth/mfa/*`,
//! passwordless passkeys at `/{slug}/v1/auth/passkey/*`, and administrators'
//! `/…/users/{id}/mfa`. Protocol shapes are bare (no `data` envelope).

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::mfa_factor;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    consumer::{app_of, token_response},
    extract::{ApiJson, ApiPath, OptionalJson, uuid_param},
    lane::Lane,
    response::no_content,
    users::UserDto,
};
use crate::{
    access::{MfaSubject, Principal},
    crypto::prefix,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        authenticate,
        guard::{self, Lane as GuardLane},
        mfa::{self, Activated, Overview, signin::Proof},
        sessions,
    },
    state::AppState,
};

/// A factor as the API shows it (never its secret).
#[derive(Serialize, utoipa::ToSchema)]
pub struct FactorDto {
    pub id: uuid::Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<mfa_factor::Model> for FactorDto {
    fn from(f: mfa_factor::Model) -> Self {
        Self {
            id: f.id,
            kind: f.kind,
            name: f.name,
            created_at: f.created_at,
            last_used_at: f.last_used_at,
        }
    }
}

fn overview_body(overview: Overview) -> Response {
    axum::Json(json!({
        "factors": overview.factors.into_iter().map(FactorDto::from).collect::<Vec<_>>(),
        "recovery_codes_remaining": overview.recovery_codes_remaining,
    }))
    .into_response()
}

/// Whose factors a `me/mfa` request manages: an `hm_mfa_` enrolment token, or the
/// user's own access token.
async fn subject(state: &AppState, headers: &HeaderMap, slug: &str) -> Result<MfaSubject> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::invalid_token("the Authorization header is not valid text"))
        })
        .transpose()?
        .map(authenticate::bearer_token)
        .transpose()?;
    match bearer {
        Some(token) if token.starts_with(prefix::MFA_TOKEN) => {
            guard::mfa_enrolment(state, slug, token).await
        }
        Some(_) => {
            let principal = super::principal::from_headers(state, headers)
                .await?
                .ok_or_else(|| Error::unauthenticated("a bearer token is required"))?;
            guard::mfa_subject(state, &principal, GuardLane::Consumer, Some(slug)).await
        }
        None => Err(Error::unauthenticated("a bearer token is required")),
    }
}

/// A newly active factor: the factor, the first factor's recovery codes (shown
/// once) and, for a sign-in that enrolled it, the token response as `tokens`.
async fn activated(state: &AppState, status: StatusCode, done: Activated) -> Result<Response> {
    let mut body = serde_json::to_value(FactorDto::from(done.factor)).map_err(Error::internal)?;
    if let Some(codes) = done.recovery_codes {
        body["recovery_codes"] = json!(codes);
    }
    if let Some(signed_in) = done.signed_in {
        let app = state
            .apps
            .by_id(signed_in.session.app_id)
            .await?
            .ok_or_else(|| Error::not_found("app not found"))?;
        let tokens = sessions::issue(
            state,
            &app,
            &signed_in.user,
            &signed_in.session,
            signed_in.refresh,
        )
        .await?;
        body["tokens"] =
            crate::services::tokens::response(&tokens, json!(UserDto::from(signed_in.user)));
    }
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `GET /{slug}/v1/me/mfa`.
pub async fn my_factors(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    Ok(overview_body(mfa::mine(&state, &subject).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    name: Option<String>,
}

/// `POST /{slug}/v1/me/mfa/totp` → 201 `{id, secret, otpauth_uri, qr_svg}`.
pub async fn enroll_totp(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    OptionalJson(body): OptionalJson<NameBody>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    let body = body.unwrap_or_default();
    let enrolment = mfa::totp::enroll(&state, &subject, body.name.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": enrolment.factor.id,
            "type": enrolment.factor.kind,
            "name": enrolment.factor.name,
            "secret": enrolment.secret,
            "otpauth_uri": enrolment.otpauth_uri,
            "qr_svg": enrolment.qr_svg,
        })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /{slug}/v1/me/mfa/totp/{id}/confirm {code}`.
pub async fn confirm_totp(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath((slug, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    let id = uuid_param(&id, "factor")?;
    let done = mfa::totp::confirm(&state, &subject, id, &body.code, &meta).await?;
    activated(&state, StatusCode::OK, done).await
}

/// `POST /{slug}/v1/me/mfa/webauthn/register/start {name?}` → `{id, publicKey}`.
pub async fn start_webauthn_registration(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    OptionalJson(body): OptionalJson<NameBody>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    let body = body.unwrap_or_default();
    let (id, public_key) =
        mfa::webauthn::start_registration(&state, &subject, body.name.as_deref()).await?;
    Ok(axum::Json(json!({ "id": id, "publicKey": public_key })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CeremonyBody {
    id: String,
    credential: Value,
}

/// `POST /{slug}/v1/me/mfa/webauthn/register/finish {id, credential}` → 201.
pub async fn finish_webauthn_registration(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<CeremonyBody>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    let id = uuid_param(&body.id, "registration")?;
    let done =
        mfa::webauthn::finish_registration(&state, &subject, id, body.credential, &meta).await?;
    activated(&state, StatusCode::CREATED, done).await
}

/// `POST /{slug}/v1/me/mfa/recovery-codes` → `{recovery_codes}` (replacing the old).
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    let codes = mfa::regenerate_recovery_codes(&state, &subject, &meta).await?;
    Ok(axum::Json(json!({ "recovery_codes": codes })).into_response())
}

/// `DELETE /{slug}/v1/me/mfa/{id}`.
pub async fn remove_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let subject = subject(&state, &headers, &slug).await?;
    mfa::remove(&state, &subject, uuid_param(&id, "factor")?, &meta).await?;
    Ok(no_content())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    mfa_token: String,
    method: String,
    code: Option<String>,
    credential: Option<Value>,
}

/// `POST /{slug}/v1/auth/mfa/verify` → the token response.
pub async fn verify(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let code = || {
        body.code
            .clone()
            .ok_or_else(|| Error::invalid_field("code", "is required for this method"))
    };
    let proof = match body.method.as_str() {
        "totp" => Proof::Totp(code()?),
        "recovery_code" => Proof::RecoveryCode(code()?),
        "webauthn" => Proof::Webauthn(body.credential.clone().ok_or_else(|| {
            Error::invalid_field("credential", "is required for method webauthn")
        })?),
        _ => {
            return Err(Error::invalid_field(
                "method",
                "must be totp, recovery_code or webauthn",
            ));
        }
    };
    let done = mfa::signin::verify(&state, &app, &body.mfa_token, proof, &meta).await?;
    let tokens = sessions::issue(&state, &app, &done.user, &done.session, done.refresh).await?;
    Ok(token_response(StatusCode::OK, &tokens, done.user))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MfaTokenBody)]
pub struct TokenBody {
    mfa_token: String,
}

/// `POST /{slug}/v1/auth/mfa/webauthn/start {mfa_token}` → `{publicKey}`.
pub async fn webauthn_start(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let public_key = mfa::signin::webauthn_start(&state, &app, &body.mfa_token).await?;
    Ok(axum::Json(json!({ "publicKey": public_key })).into_response())
}

/// `POST /{slug}/v1/auth/passkey/start` → `{id, publicKey}`.
pub async fn passkey_start(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let (id, public_key) = mfa::signin::passkey_start(&state, &app).await?;
    Ok(axum::Json(json!({ "id": id, "publicKey": public_key })).into_response())
}

/// `POST /{slug}/v1/auth/passkey/finish {id, credential}` → the token response.
pub async fn passkey_finish(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<CeremonyBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let id = uuid_param(&body.id, "passkey sign-in")?;
    let done = mfa::signin::passkey_finish(&state, &app, id, body.credential, &meta).await?;
    let tokens = sessions::issue(&state, &app, &done.user, &done.session, done.refresh).await?;
    Ok(token_response(StatusCode::OK, &tokens, done.user))
}

/// `GET /…/users/{id}/mfa`: a user's factors (`user.read`).
pub async fn user_factors<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let access = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let overview = mfa::of_user(&state, &access, uuid_param(&id, "user")?).await?;
    Ok(overview_body(overview))
}

/// `DELETE /…/users/{id}/mfa`: removes every factor and recovery code
/// (`user.update`).
pub async fn reset_user<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let access = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    mfa::reset(&state, &access, uuid_param(&id, "user")?, &meta).await?;
    Ok(no_content())
}
