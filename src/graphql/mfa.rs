//! Multi-factor authentication over GraphQL (docs/src/mfa.md): the caller's own
//! factors (`myMfaFactors`, `enrollTotp`, `confirmTotp`, `startWebauthnRegistration`,
//! `finishWebauthnRegistration`, `removeMfaFactor`, `regenerateRecoveryCodes`) and
//! administrators' `userMfaFactors` and `resetUserMfa`. The two-step sign-in itself
//! is REST only.

use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::mfa_factor;
use uuid::Uuid;

use super::{ContextExt, guards::Authenticated};
use crate::{
    access::MfaSubject,
    error::Error,
    services::{
        guard::{self, Lane},
        mfa::{self, Activated, Overview},
    },
};

fn parse_id(id: &ID, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::not_found(format!("{what} not found")))
}

async fn subject(ctx: &Context<'_>) -> Result<MfaSubject, Error> {
    guard::mfa_subject(ctx.state(), ctx.principal()?, Lane::GraphQl, None).await
}

/// A second factor of a user (its secret is never shown after enrolment).
pub struct MfaFactor(pub mfa_factor::Model);

#[Object]
impl MfaFactor {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `totp` or `webauthn`.
    #[graphql(name = "type")]
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

/// A user's active factors and how many unused recovery codes remain.
#[derive(SimpleObject)]
pub struct MfaFactors {
    pub factors: Vec<MfaFactor>,
    pub recovery_codes_remaining: i64,
}

impl From<Overview> for MfaFactors {
    fn from(o: Overview) -> Self {
        Self {
            factors: o.factors.into_iter().map(MfaFactor).collect(),
            recovery_codes_remaining: i64::try_from(o.recovery_codes_remaining).unwrap_or(0),
        }
    }
}

/// A pending TOTP factor with its seed, shown once: confirm it with a code.
#[derive(SimpleObject)]
pub struct TotpEnrollment {
    pub id: ID,
    /// The seed, base32.
    pub secret: String,
    pub otpauth_uri: String,
    /// A QR code of `otpauthUri`, as SVG.
    pub qr_svg: String,
}

/// A factor just activated; the first factor also gets the recovery codes (shown once).
#[derive(SimpleObject)]
pub struct ActivatedFactor {
    pub factor: MfaFactor,
    pub recovery_codes: Option<Vec<String>>,
}

impl From<Activated> for ActivatedFactor {
    fn from(a: Activated) -> Self {
        Self {
            factor: MfaFactor(a.factor),
            recovery_codes: a.recovery_codes,
        }
    }
}

/// A WebAuthn registration in progress.
#[derive(SimpleObject)]
pub struct WebauthnRegistration {
    /// Pass it to `finishWebauthnRegistration`.
    pub id: ID,
    /// `PublicKeyCredentialCreationOptions` in JSON form (binary fields base64url).
    pub public_key: Json<serde_json::Value>,
}

#[derive(Default)]
pub struct MfaQuery;

#[Object]
impl MfaQuery {
    /// The caller's own second factors (an end user's token).
    #[graphql(guard = "Authenticated")]
    async fn my_mfa_factors(&self, ctx: &Context<'_>) -> Result<MfaFactors> {
        let subject = subject(ctx).await?;
        Ok(mfa::mine(ctx.state(), &subject).await?.into())
    }

    /// A user's second factors (keys, or end users with `user.read`).
    #[graphql(guard = "Authenticated")]
    async fn user_mfa_factors(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        user_id: ID,
    ) -> Result<MfaFactors> {
        let access = super::app_access(ctx, app.as_deref()).await?;
        let overview = mfa::of_user(ctx.state(), &access, parse_id(&user_id, "user")?).await?;
        Ok(overview.into())
    }
}

#[derive(Default)]
pub struct MfaMutation;

#[Object]
impl MfaMutation {
    /// Starts enrolling a TOTP authenticator app; confirm it with `confirmTotp`.
    #[graphql(guard = "Authenticated")]
    async fn enroll_totp(&self, ctx: &Context<'_>, name: Option<String>) -> Result<TotpEnrollment> {
        let subject = subject(ctx).await?;
        let e = mfa::totp::enroll(ctx.state(), &subject, name.as_deref()).await?;
        Ok(TotpEnrollment {
            id: ID(e.factor.id.to_string()),
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_svg: e.qr_svg,
        })
    }

    /// Activates a pending TOTP factor with a current code.
    #[graphql(guard = "Authenticated")]
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        id: ID,
        code: String,
    ) -> Result<ActivatedFactor> {
        let subject = subject(ctx).await?;
        let id = parse_id(&id, "factor")?;
        let done = mfa::totp::confirm(ctx.state(), &subject, id, &code, ctx.meta()).await?;
        Ok(done.into())
    }

    /// Starts registering a passkey or security key.
    #[graphql(guard = "Authenticated")]
    async fn start_webauthn_registration(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
    ) -> Result<WebauthnRegistration> {
        let subject = subject(ctx).await?;
        let (id, public_key) =
            mfa::webauthn::start_registration(ctx.state(), &subject, name.as_deref()).await?;
        Ok(WebauthnRegistration {
            id: ID(id.to_string()),
            public_key: Json(public_key),
        })
    }

    /// Finishes a registration with the authenticator's answer (the
    /// `PublicKeyCredential` in JSON form).
    #[graphql(guard = "Authenticated")]
    async fn finish_webauthn_registration(
        &self,
        ctx: &Context<'_>,
        id: ID,
        credential: Json<serde_json::Value>,
    ) -> Result<ActivatedFactor> {
        let subject = subject(ctx).await?;
        let id = parse_id(&id, "registration")?;
        let done =
            mfa::webauthn::finish_registration(ctx.state(), &subject, id, credential.0, ctx.meta())
                .await?;
        Ok(done.into())
    }

    /// Removes one of the caller's factors (needs a sign-in with a second factor
    /// within the last 10 minutes).
    #[graphql(guard = "Authenticated")]
    async fn remove_mfa_factor(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let subject = subject(ctx).await?;
        mfa::remove(ctx.state(), &subject, parse_id(&id, "factor")?, ctx.meta()).await?;
        Ok(true)
    }

    /// Replaces the caller's recovery codes (shown once; the old ones stop working).
    #[graphql(guard = "Authenticated")]
    async fn regenerate_recovery_codes(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let subject = subject(ctx).await?;
        Ok(mfa::regenerate_recovery_codes(ctx.state(), &subject, ctx.meta()).await?)
    }

    /// Removes every factor and recovery code of a user, e.g. after a lost device
    /// (keys, or end users with `user.update`); how many factors were removed.
    #[graphql(guard = "Authenticated")]
    async fn reset_user_mfa(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        user_id: ID,
    ) -> Result<i64> {
        let access = super::app_access(ctx, app.as_deref()).await?;
        let removed = mfa::reset(
            ctx.state(),
            &access,
            parse_id(&user_id, "user")?,
            ctx.meta(),
        )
        .await?;
        Ok(i64::try_from(removed).unwrap_or(i64::MAX))
    }
}
