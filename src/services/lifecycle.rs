//! Email verification and password reset: one-time tokens (`hm_ev_…`, `hm_pr_…`)
//! minted by the app's backend (PAK or root) or mailed by Heimdall, and consumed on
//! the consumer lane or Heimdall's hosted pages.
//!
//! Tokens are single use, expire (app settings `email_verification_ttl`,
//! `password_reset_ttl`) and are stored as keyed hashes. Minting a password-reset
//! token revokes the user's older ones. An expired, used or revoked token answers
//! 410 `gone`; a string that was never a token is a 400 naming the field.

use chrono::{DateTime, Duration, Utc};
use entity::{account_token, app, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Actor, AppAdmin, Me},
    crypto::{self, prefix},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        mail::{self, MailKind},
        passwords, sessions, throttle, users, validate,
    },
    state::AppState,
};

/// The two kinds of one-time account token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    EmailVerification,
    PasswordReset,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::EmailVerification => prefix::EMAIL_VERIFICATION,
            Self::PasswordReset => prefix::PASSWORD_RESET,
        }
    }

    fn ttl(self, settings: &AppSettings) -> Duration {
        Duration::seconds(match self {
            Self::EmailVerification => settings.email_verification_ttl,
            Self::PasswordReset => settings.password_reset_ttl,
        })
    }
}

/// At most this many Heimdall-sent mails of one kind per user per hour.
const MAILS_PER_HOUR: u64 = 5;
/// Forgot-password requests per client IP and app within 15 minutes.
const FORGOT_IP: throttle::Limit = throttle::Limit {
    max_failures: 30,
    window: Duration::minutes(15),
};

/// A freshly minted token (the secret is shown once).
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: user::Model,
}

// ---------------------------------------------------------------------------------
// Links

/// Where Heimdall's hosted pages of an app live: `{PUBLIC_URL}{BASE_PATH}/{slug}`.
pub fn hosted_base(state: &AppState, app: &app::Model) -> String {
    state.issuer(&app.name)
}

/// The link of a mail: the app's URL template, else `{email_link_base}/{page}`
/// (Heimdall's hosted page by default), with the token in the query.
fn link(
    state: &AppState,
    app: &app::Model,
    template: Option<&str>,
    page: &str,
    token: &str,
) -> String {
    if let Some(template) = template {
        return template.replace("{token}", token);
    }
    let settings = AppSettings::from_stored(&app.settings);
    let base = settings
        .email_link_base
        .map(|b| b.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| hosted_base(state, app));
    format!("{base}/{page}?token={token}")
}

pub fn password_reset_link(state: &AppState, app: &app::Model, token: &str) -> String {
    let settings = AppSettings::from_stored(&app.settings);
    link(
        state,
        app,
        settings.password_reset_url_template.as_deref(),
        "reset-password",
        token,
    )
}

pub fn email_verification_link(state: &AppState, app: &app::Model, token: &str) -> String {
    let settings = AppSettings::from_stored(&app.settings);
    link(
        state,
        app,
        settings.email_verification_url_template.as_deref(),
        "verify-email",
        token,
    )
}

// ---------------------------------------------------------------------------------
// Minting

/// Stores a new token for `user`; a new password-reset token revokes older ones.
async fn insert_token(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    kind: TokenKind,
) -> Result<(String, DateTime<Utc>)> {
    let now = state.now();
    if kind == TokenKind::PasswordReset {
        revoke_unused(conn, state, user.id, kind).await?;
    }
    let token = crypto::generate_secret(kind.prefix())?;
    let expires_at = now + kind.ttl(&AppSettings::from_stored(&app.settings));
    account_token::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        user_id: Set(user.id),
        kind: Set(kind.as_str().to_owned()),
        token_hash: Set(state.hasher.hash(&token)),
        email: Set(user.email.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok((token, expires_at))
}

async fn revoke_unused(
    conn: &impl ConnectionTrait,
    state: &AppState,
    user_id: Uuid,
    kind: TokenKind,
) -> Result<()> {
    account_token::Entity::update_many()
        .col_expr(account_token::Column::RevokedAt, Expr::value(state.now()))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Kind.eq(kind.as_str()))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// `POST /v1/apps/{app}/users/{id}/email-verification` (root or the app's key).
pub async fn mint_email_verification(
    state: &AppState,
    admin: &AppAdmin,
    user_id: Uuid,
    meta: &RequestMeta,
) -> Result<Minted> {
    let app = admin.app();
    let txn = state.db.begin_write().await?;
    let user = users::find(&txn, app.id, user_id).await?;
    if user.email_verified {
        return Err(Error::conflict("the user's email is already verified"));
    }
    let (token, expires_at) =
        insert_token(&txn, state, app, &user, TokenKind::EmailVerification).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "email_verification.created", admin.actor().clone())
            .target(Target::user(user.id))
            .metadata(json!({ "expires_at": expires_at, "delivery": "caller" })),
    )
    .await?;
    Ok(Minted {
        token,
        expires_at,
        user,
    })
}

/// `POST /v1/apps/{app}/password-resets {email}` (root or the app's key); 404 for
/// an unknown email (this lane is trusted, so there is nothing to hide).
pub async fn mint_password_reset(
    state: &AppState,
    admin: &AppAdmin,
    email: &str,
    meta: &RequestMeta,
) -> Result<Minted> {
    let email = validate::email("email", email)?;
    let app = admin.app();
    let txn = state.db.begin_write().await?;
    let user = users::find_by_email(&txn, app.id, &email)
        .await?
        .ok_or_else(|| Error::not_found("no user with this email in this app"))?;
    let (token, expires_at) =
        insert_token(&txn, state, app, &user, TokenKind::PasswordReset).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "password_reset.created", admin.actor().clone())
            .target(Target::user(user.id))
            .metadata(json!({ "expires_at": expires_at, "delivery": "caller" })),
    )
    .await?;
    Ok(Minted {
        token,
        expires_at,
        user,
    })
}

/// Mints a verification token for `user` and queues its mail, in the caller's
/// transaction (sign-up). Returns whether a mail was queued: call
/// `state.mail.wake()` after the commit when it was. No SMTP: nothing happens.
pub async fn queue_verification_mail(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<bool> {
    if !state.mail.enabled() {
        return Ok(false);
    }
    let (token, expires_at) =
        insert_token(conn, state, app, user, TokenKind::EmailVerification).await?;
    let rendered = mail::render(
        app,
        MailKind::EmailVerification,
        &user.email,
        user.display_name.as_deref(),
        &email_verification_link(state, app, &token),
    )
    .in_language(user.locale.as_deref());
    mail::enqueue(
        conn,
        state,
        app.id,
        MailKind::EmailVerification,
        Some(user.id),
        &rendered,
    )
    .await?;
    audit::record(
        conn,
        state,
        meta,
        Entry::new(app.id, "email_verification.sent", actor.clone())
            .target(Target::user(user.id))
            .metadata(json!({ "expires_at": expires_at, "delivery": "mail" })),
    )
    .await?;
    Ok(true)
}

/// How many tokens of `kind` the user was given in the last hour. Call it inside
/// the write transaction that mints the next one: it locks the user's row first
/// (PostgreSQL; SQLite has one writer), so that concurrent requests count exactly.
async fn recent_tokens(
    conn: &impl ConnectionTrait,
    state: &AppState,
    user_id: Uuid,
    kind: TokenKind,
) -> Result<u64> {
    if !state.db.is_sqlite() {
        user::Entity::find_by_id(user_id)
            .lock_exclusive()
            .one(conn)
            .await?;
    }
    Ok(account_token::Entity::find()
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Kind.eq(kind.as_str()))
        .filter(account_token::Column::CreatedAt.gt(state.now() - Duration::hours(1)))
        .count(conn)
        .await?)
}

/// `POST /{slug}/v1/email/verification/resend` for the signed-in user.
pub async fn resend_verification(state: &AppState, me: &Me, meta: &RequestMeta) -> Result<()> {
    let app = me.app();
    if !state.mail.enabled() {
        return Err(Error::refused(
            "mail_not_configured",
            "this Heimdall does not send mail (HEIMDALL_SMTP_URL is not set)",
        ));
    }
    let user = users::find(&*state.db, app.id, me.user_id()).await?;
    if user.email_verified {
        return Err(Error::conflict("the email is already verified"));
    }
    let actor = Actor {
        kind: "end_user",
        id: user.id.to_string(),
    };
    let txn = state.db.begin_write().await?;
    if recent_tokens(&txn, state, user.id, TokenKind::EmailVerification).await? >= MAILS_PER_HOUR {
        return Err(Error::RateLimited { retry_after: 3600 });
    }
    queue_verification_mail(&txn, state, app, &user, &actor, meta).await?;
    txn.commit().await?;
    state.mail.wake();
    Ok(())
}

/// `POST /{slug}/v1/password/forgot {email}`: 400 for an invalid email, otherwise
/// the same answer whether or not an account exists. The lookup, minting and
/// queueing run after the answer, so timing says nothing either; a mail goes out
/// only for an existing, active account, at most five per hour, and only when
/// SMTP is configured.
pub async fn forgot_password(
    state: &AppState,
    app: &app::Model,
    email: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let email = validate::email("email", email)?;
    let ip_key = format!(
        "forgot:ip:{}:{}",
        app.id,
        meta.ip.as_deref().unwrap_or("unknown")
    );
    throttle::check(state, &ip_key, FORGOT_IP).await?;
    throttle::fail(state, &ip_key, FORGOT_IP).await?;
    if !state.mail.enabled() {
        return Ok(());
    }
    let (state, app, meta) = (state.clone(), app.clone(), meta.clone());
    tokio::spawn(async move {
        if let Err(error) = send_reset_mail(&state, &app, &email, &meta).await {
            error.log();
            tracing::warn!(app = %app.name, "forgot-password: queueing the mail failed");
        }
    });
    Ok(())
}

async fn send_reset_mail(
    state: &AppState,
    app: &app::Model,
    email: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let Some(user) = users::find_by_email(&*state.db, app.id, email).await? else {
        return Ok(());
    };
    if user.status != users::STATUS_ACTIVE {
        return Ok(());
    }
    let txn = state.db.begin_write().await?;
    if recent_tokens(&txn, state, user.id, TokenKind::PasswordReset).await? >= MAILS_PER_HOUR {
        return Ok(());
    }
    let (token, expires_at) =
        insert_token(&txn, state, app, &user, TokenKind::PasswordReset).await?;
    let rendered = mail::render(
        app,
        MailKind::PasswordReset,
        &user.email,
        user.display_name.as_deref(),
        &password_reset_link(state, app, &token),
    )
    .in_language(user.locale.as_deref());
    mail::enqueue(
        &txn,
        state,
        app.id,
        MailKind::PasswordReset,
        Some(user.id),
        &rendered,
    )
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app.id,
            "password_reset.requested",
            Actor {
                kind: "anonymous",
                id: String::new(),
            },
        )
        .target(Target::user(user.id))
        .metadata(json!({ "expires_at": expires_at, "delivery": "mail" })),
    )
    .await?;
    state.mail.wake();
    Ok(())
}

/// Mails to the owner of an address someone tried to sign up with again, when the
/// app conceals existing accounts: at most three per hour per account, silently
/// (a refusal would tell the requester the account exists). Runs after the answer.
pub async fn mail_account_exists(
    state: &AppState,
    app: &app::Model,
    owner: &user::Model,
    meta: &RequestMeta,
) -> Result<()> {
    if !state.mail.enabled() || owner.status != users::STATUS_ACTIVE {
        return Ok(());
    }
    let (state, app, owner, meta) = (state.clone(), app.clone(), owner.clone(), meta.clone());
    tokio::spawn(async move {
        if let Err(error) = send_account_exists(&state, &app, &owner, &meta).await {
            error.log();
            tracing::warn!(app = %app.name, "sign-up of an existing address: queueing the mail failed");
        }
    });
    Ok(())
}

const ACCOUNT_EXISTS_MAILS: throttle::Limit = throttle::Limit {
    max_failures: 3,
    window: Duration::hours(1),
};

async fn send_account_exists(
    state: &AppState,
    app: &app::Model,
    owner: &user::Model,
    meta: &RequestMeta,
) -> Result<()> {
    let key = format!("signup-exists:{}", owner.id);
    if throttle::check(state, &key, ACCOUNT_EXISTS_MAILS)
        .await
        .is_err()
    {
        return Ok(());
    }
    throttle::fail(state, &key, ACCOUNT_EXISTS_MAILS).await?;
    let settings = AppSettings::from_stored(&app.settings);
    let link = settings
        .login_url
        .clone()
        .unwrap_or_else(|| format!("{}/login", hosted_base(state, app)));
    let rendered = mail::render(
        app,
        MailKind::AccountExists,
        &owner.email,
        owner.display_name.as_deref(),
        &link,
    )
    .in_language(owner.locale.as_deref());
    let txn = state.db.begin_write().await?;
    mail::enqueue(
        &txn,
        state,
        app.id,
        MailKind::AccountExists,
        Some(owner.id),
        &rendered,
    )
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            app.id,
            "user.signup_existing",
            Actor {
                kind: "anonymous",
                id: String::new(),
            },
        )
        .target(Target::user(owner.id))
        .metadata(json!({ "delivery": "mail" })),
    )
    .await?;
    state.mail.wake();
    Ok(())
}

// ---------------------------------------------------------------------------------
// Consuming

/// Finds a usable token of `kind` in `app`: 400 for something that is not one,
/// 410 when it expired, was used or was replaced.
pub async fn check(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &app::Model,
    kind: TokenKind,
    token: &str,
) -> Result<account_token::Model> {
    let invalid = || Error::invalid_field("token", "is not a valid token");
    if !token.starts_with(kind.prefix()) || token.len() > 200 {
        return Err(invalid());
    }
    let found = account_token::Entity::find()
        .filter(account_token::Column::TokenHash.is_in(state.hasher.candidates(token)))
        .filter(account_token::Column::Kind.eq(kind.as_str()))
        .filter(account_token::Column::AppId.eq(app.id))
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    if found.used_at.is_some() {
        return Err(Error::Gone("this token has already been used".into()));
    }
    if found.revoked_at.is_some() {
        return Err(Error::Gone(
            "this token has been replaced by a newer one".into(),
        ));
    }
    if found.expires_at <= state.now() {
        return Err(Error::Gone("this token has expired".into()));
    }
    Ok(found)
}

/// Marks a token used; 410 when another request used it first.
async fn claim(
    conn: &impl ConnectionTrait,
    state: &AppState,
    token: &account_token::Model,
) -> Result<()> {
    let claimed = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(state.now()))
        .filter(account_token::Column::Id.eq(token.id))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(Error::Gone("this token has already been used".into()));
    }
    Ok(())
}

/// `POST /{slug}/v1/email/verify {token}`: marks the email verified.
pub async fn verify_email(
    state: &AppState,
    app: &app::Model,
    token: &str,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let txn = state.db.begin_write().await?;
    let found = check(&txn, state, app, TokenKind::EmailVerification, token).await?;
    let user = users::find(&txn, app.id, found.user_id).await?;
    if user.email != found.email {
        return Err(Error::Gone(
            "the account's email address has changed since this token was issued".into(),
        ));
    }
    claim(&txn, state, &found).await?;
    let user = if user.email_verified {
        user
    } else {
        let mut model: user::ActiveModel = user.into();
        model.email_verified = Set(true);
        model.updated_at = Set(state.now());
        let user = model.update(&txn).await?;
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(
                app.id,
                "user.email_verified",
                Actor {
                    kind: "end_user",
                    id: user.id.to_string(),
                },
            )
            .target(Target::user(user.id))
            .metadata(json!({ "email": user.email })),
        )
        .await?;
        user
    };
    txn.commit().await?;
    Ok(user)
}

/// `POST /{slug}/v1/password/reset {token, new_password}`: sets the password and
/// revokes every session of the user (and the user's other reset tokens).
pub async fn reset_password(
    state: &AppState,
    app: &app::Model,
    token: &str,
    new_password: &str,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let settings = AppSettings::from_stored(&app.settings);
    passwords::check_policy("new_password", new_password, settings.password_min_length)?;
    // Refuse bad tokens before paying for a hash; re-checked under the write lock.
    check(&*state.db, state, app, TokenKind::PasswordReset, token).await?;
    let hash = state.passwords.hash(new_password).await?;
    let txn = state.db.begin_write().await?;
    let found = check(&txn, state, app, TokenKind::PasswordReset, token).await?;
    let user = users::find(&txn, app.id, found.user_id).await?;
    claim(&txn, state, &found).await?;
    revoke_unused(&txn, state, user.id, TokenKind::PasswordReset).await?;
    let mut model: user::ActiveModel = user.into();
    model.password_hash = Set(Some(hash));
    model.updated_at = Set(state.now());
    let user = model.update(&txn).await?;
    let actor = Actor {
        kind: "end_user",
        id: user.id.to_string(),
    };
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "user.password_reset", actor.clone()).target(Target::user(user.id)),
    )
    .await?;
    let revoked = sessions::revoke_all(
        &txn,
        state,
        app.id,
        user.id,
        None,
        "password_reset",
        &actor,
        meta,
    )
    .await?;
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(user)
}
