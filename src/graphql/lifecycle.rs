//! Account lifecycle over GraphQL: `invites`, `createInvite`, `revokeInvite`,
//! `acceptInvite`, the mint mutations for keys (`createEmailVerificationToken`,
//! `createPasswordResetToken`) and the public consume mutations (`verifyEmail`,
//! `resetPassword`, `requestPasswordReset`, `resendEmailVerification`).

use async_graphql::{
    Context, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::invite;
use uuid::Uuid;

use super::{ContextExt, guards::Authenticated, relay, tenants::TokenPayload, users::User};
use crate::services::guard::{self, Lane};
use crate::{
    access::Principal,
    db::PageRequest,
    error::Error,
    services::{
        invites::{self, Acceptance, NewInvite},
        lifecycle,
    },
};

fn parse_id(id: &ID, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::not_found(format!("{what} not found")))
}

/// An invitation of an email into the app (its token is shown only at creation).
pub struct Invite(pub invite::Model, DateTime<Utc>);

#[Object]
impl Invite {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The invited email; it becomes the account's (verified) email.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The new user's app role, or with `tenantId` the role in that tenant.
    async fn role(&self) -> &str {
        &self.0.role
    }
    async fn tenant_id(&self) -> Option<ID> {
        self.0.tenant_id.map(|t| ID(t.to_string()))
    }
    /// `pending`, `accepted`, `expired` or `revoked`.
    async fn status(&self) -> &'static str {
        invites::status(&self.0, self.1)
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn max_uses(&self) -> i32 {
        self.0.max_uses
    }
    async fn uses(&self) -> i32 {
        self.0.uses
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A new invite with its secret token and link (shown once).
#[derive(SimpleObject)]
pub struct CreatedInvite {
    pub invite: Invite,
    /// `hm_inv_…`: shown only here.
    pub token: String,
    pub invite_url: String,
}

/// A minted one-time token (shown once).
#[derive(SimpleObject)]
pub struct MintedToken {
    /// `hm_ev_…` or `hm_pr_…`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(InputObject)]
pub struct CreateInviteInput {
    pub email: String,
    /// The app role of the new user, or with `tenantId` the role in that tenant.
    pub role: String,
    pub tenant_id: Option<ID>,
    /// Default 72, at most 720.
    pub expires_in_hours: Option<i64>,
    /// Default 1.
    pub max_uses: Option<i32>,
    /// Heimdall mails the invite (SMTP must be configured).
    #[graphql(default)]
    pub send_email: bool,
}

#[derive(Default)]
pub struct LifecycleQuery;

#[Object]
impl LifecycleQuery {
    /// Invites of an app, oldest first (keys, or end users with `user.invite`).
    #[graphql(guard = "Authenticated")]
    async fn invites(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Invite>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let had_cursor = after.is_some();
        let page = invites::list(state, &admin, PageRequest::from_graphql(first, after)?).await?;
        let now = state.now();
        Ok(relay::connection(
            page,
            had_cursor,
            |i| i.id,
            |i| Invite(i, now),
        ))
    }
}

#[derive(Default)]
pub struct LifecycleMutation;

#[Object]
impl LifecycleMutation {
    /// Invites an email into the app (keys, or end users with `user.invite` who
    /// hold every permission of the role).
    #[graphql(guard = "Authenticated")]
    async fn create_invite(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: CreateInviteInput,
    ) -> Result<CreatedInvite> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let tenant_id = input
            .tenant_id
            .as_ref()
            .map(|t| {
                Uuid::parse_str(t).map_err(|_| Error::invalid_field("tenantId", "unknown tenant"))
            })
            .transpose()?;
        let created = invites::create(
            state,
            &admin,
            NewInvite {
                email: input.email,
                role: input.role,
                tenant_id,
                expires_in_hours: input.expires_in_hours,
                max_uses: input.max_uses,
                send_email: input.send_email,
            },
            ctx.meta(),
        )
        .await?;
        Ok(CreatedInvite {
            invite: Invite(created.invite, state.now()),
            token: created.token,
            invite_url: created.invite_url,
        })
    }

    /// Revokes an invite; accepting it then answers `GONE`.
    #[graphql(guard = "Authenticated")]
    async fn revoke_invite(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<Invite> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let invite = invites::revoke(state, &admin, parse_id(&id, "invite")?, ctx.meta()).await?;
        Ok(Invite(invite, state.now()))
    }

    /// Accepts an invite (no credential needed): creates the account with the
    /// invited email and signs it in. With an end user's access token of the invited
    /// email, that user joins the invite's tenant instead.
    async fn accept_invite(
        &self,
        ctx: &Context<'_>,
        token: String,
        display_name: Option<String>,
        password: Option<String>,
    ) -> Result<TokenPayload> {
        let caller = match ctx.principal() {
            Ok(Principal::EndUser(user)) => Some(user),
            _ => None,
        };
        let accepted = invites::accept(
            ctx.state(),
            &token,
            Acceptance {
                display_name,
                password,
            },
            caller,
            ctx.meta(),
        )
        .await?;
        let Some(tokens) = accepted.tokens else {
            // The account exists; the two-step sign-in is REST only (docs/src/mfa.md).
            return Err(Error::refused(
                "mfa_enrollment_required",
                "the invite was accepted; this app requires a second factor: sign in over \
                 REST (auth/signin) to enrol one",
            )
            .into());
        };
        Ok(TokenPayload {
            access_token: tokens.access_token,
            token_type: "Bearer".into(),
            expires_in: tokens.expires_in,
            refresh_token: tokens.refresh_token,
            user: User(accepted.user),
        })
    }

    /// Mints an email-verification token for your own delivery (root or app key).
    #[graphql(guard = "Authenticated")]
    async fn create_email_verification_token(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        user_id: ID,
    ) -> Result<MintedToken> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let minted = lifecycle::mint_email_verification(
            state,
            &admin,
            parse_id(&user_id, "user")?,
            ctx.meta(),
        )
        .await?;
        Ok(MintedToken {
            token: minted.token,
            expires_at: minted.expires_at,
            user: User(minted.user),
        })
    }

    /// Mints a password-reset token for your own delivery (root or app key); older
    /// reset tokens of the user stop working.
    #[graphql(guard = "Authenticated")]
    async fn create_password_reset_token(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        email: String,
    ) -> Result<MintedToken> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let minted = lifecycle::mint_password_reset(state, &admin, &email, ctx.meta()).await?;
        Ok(MintedToken {
            token: minted.token,
            expires_at: minted.expires_at,
            user: User(minted.user),
        })
    }

    /// Consumes an email-verification token of the app (no credential needed).
    async fn verify_email(&self, ctx: &Context<'_>, app: String, token: String) -> Result<User> {
        let state = ctx.state();
        let app = guard::find_app(state, Lane::Consumer, &app).await?;
        Ok(User(
            lifecycle::verify_email(state, &app, &token, ctx.meta()).await?,
        ))
    }

    /// Sets a new password with a reset token (no credential needed); every session
    /// of the user is revoked.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        app: String,
        token: String,
        new_password: String,
    ) -> Result<bool> {
        let state = ctx.state();
        let app = guard::find_app(state, Lane::Consumer, &app).await?;
        lifecycle::reset_password(state, &app, &token, &new_password, ctx.meta()).await?;
        Ok(true)
    }

    /// Mails a reset link when an account exists (always `true` for a valid email,
    /// so that nobody learns who has an account; nothing is sent without SMTP).
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        app: String,
        email: String,
    ) -> Result<bool> {
        let state = ctx.state();
        let app = guard::find_app(state, Lane::Consumer, &app).await?;
        lifecycle::forgot_password(state, &app, &email, ctx.meta()).await?;
        Ok(true)
    }

    /// Mails the signed-in end user a new verification link (SMTP required).
    #[graphql(guard = "Authenticated")]
    async fn resend_email_verification(&self, ctx: &Context<'_>) -> Result<bool> {
        let me = super::me(ctx).await?;
        lifecycle::resend_verification(ctx.state(), &me, ctx.meta()).await?;
        Ok(true)
    }
}
