//! Sign-up, sign-in, refresh rotation with reuse detection, sign-out and session
//! management, plus the liveness check the guard runs for every end-user token.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use entity::{app, refresh_token, session, user};
use moka::future::Cache;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::services::bus::{Bus, Change};
use crate::{
    access::{Actor, AppAccess, EndUser, Me, Permission},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        throttle,
        tokens::{self, IssuedTokens},
        users::{self, NewUser, STATUS_ACTIVE},
        validate,
    },
    state::AppState,
};

/// What the guard needs to know about a session, cached briefly per instance.
#[derive(Debug, Clone)]
pub struct SessionLive {
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub revoked: bool,
    pub expires_at: DateTime<Utc>,
    pub user_active: bool,
}

/// Per-instance cache of [`SessionLive`]. Writes on this instance invalidate it at
/// once; another instance's revocation is seen within [`SESSION_CACHE_TTL`].
#[derive(Clone)]
pub struct SessionCache {
    cache: Cache<Uuid, Arc<SessionLive>>,
    bus: Bus,
}

/// How long a session's liveness is trusted without a change being heard (the
/// backstop: revocations reach every instance through `services::bus` at once).
pub const SESSION_CACHE_TTL: StdDuration = StdDuration::from_secs(30);

impl SessionCache {
    pub fn new(bus: Bus) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(SESSION_CACHE_TTL)
                .build(),
            bus,
        }
    }

    /// Drops the sessions here and on every other instance.
    pub async fn forget(&self, ids: &[Uuid]) {
        if ids.is_empty() {
            return;
        }
        self.apply(ids).await;
        self.bus.publish(Change::Sessions { ids: ids.to_vec() });
    }

    /// Another instance changed these sessions.
    pub async fn apply(&self, ids: &[Uuid]) {
        for id in ids {
            self.cache.invalidate(id).await;
        }
    }

    pub fn flush(&self) {
        self.cache.invalidate_all();
    }
}

/// The live state of a session and its user.
pub async fn live(state: &AppState, session_id: Uuid) -> Result<Option<Arc<SessionLive>>> {
    let cached = state.sessions.cache.get(&session_id).await;
    crate::services::observe::cache("sessions", cached.is_some());
    if let Some(live) = cached {
        return Ok(Some(live));
    }
    let Some((session, Some(user))) = session::Entity::find_by_id(session_id)
        .find_also_related(user::Entity)
        .one(&*state.db)
        .await?
    else {
        return Ok(None);
    };
    let live = Arc::new(SessionLive {
        app_id: session.app_id,
        user_id: session.user_id,
        tenant_id: session.tenant_id,
        revoked: session.revoked_at.is_some(),
        expires_at: session.expires_at,
        user_active: user.status == STATUS_ACTIVE,
    });
    state.sessions.cache.insert(session_id, live.clone()).await;
    Ok(Some(live))
}

/// Checks that an end-user token's session is usable right now.
pub async fn check_live(state: &AppState, principal: &EndUser) -> Result<()> {
    let live = live(state, principal.session_id)
        .await?
        .ok_or_else(|| Error::invalid_token("the session no longer exists"))?;
    if live.user_id != principal.user_id || live.app_id != principal.app_id {
        return Err(Error::invalid_token("the token does not match its session"));
    }
    if live.revoked {
        return Err(Error::invalid_token("the session has been revoked"));
    }
    if live.expires_at <= state.now() {
        return Err(Error::invalid_token("the session has expired"));
    }
    if !live.user_active {
        return Err(Error::invalid_token("the user is deactivated"));
    }
    state
        .last_used
        .record_later::<session::Entity>(
            state,
            principal.session_id,
            session::Column::Id,
            session::Column::LastUsedAt,
        )
        .await;
    Ok(())
}

fn actor_of(user: &user::Model) -> Actor {
    Actor {
        kind: "end_user",
        id: user.id.to_string(),
    }
}

/// Opens a session for `user` (signed in with a password) and stores its first
/// refresh token.
pub async fn open(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    tenant_id: Option<Uuid>,
    meta: &RequestMeta,
) -> Result<(session::Model, String)> {
    let amr = vec![crate::services::mfa::amr::PWD.to_owned()];
    open_with(conn, state, app, user, tenant_id, amr, meta).await
}

/// [`open`], recording how the user authenticated (RFC 8176 `amr`).
pub async fn open_with(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    tenant_id: Option<Uuid>,
    amr: Vec<String>,
    meta: &RequestMeta,
) -> Result<(session::Model, String)> {
    let settings = AppSettings::from_stored(&app.settings);
    let now = state.now();
    let session = session::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        user_id: Set(user.id),
        tenant_id: Set(tenant_id),
        user_agent: Set(meta.user_agent.clone()),
        ip: Set(meta.ip.clone()),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + Duration::seconds(settings.refresh_token_ttl)),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        amr: Set(Some(serde_json::json!(amr))),
        auth_time: Set(Some(now)),
    }
    .insert(conn)
    .await?;
    let refresh =
        tokens::new_refresh_token(conn, state, session.id, settings.refresh_token_ttl).await?;
    Ok((session, refresh))
}

/// Signs the access token for an opened or refreshed session.
pub async fn issue(
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    session: &session::Model,
    refresh_token: String,
) -> Result<IssuedTokens> {
    let (org_role, permissions) =
        crate::services::authz::token_extras(state, app, user, session).await?;
    let (access_token, expires_in) =
        tokens::access_token(state, app, user, session, org_role.as_deref(), permissions).await?;
    Ok(IssuedTokens {
        access_token,
        expires_in,
        refresh_token,
        session_id: session.id,
    })
}

/// The outcome of a sign-up.
pub enum Signup {
    /// Signed in at once.
    SignedIn(IssuedTokens, user::Model),
    /// The app requires a verified email before any session.
    VerificationRequired(user::Model),
    /// The app requires a second factor: enrol one with this sign-in's
    /// `hm_mfa_` token first (docs/src/mfa.md).
    SecondFactor(crate::services::mfa::signin::Pending, user::Model),
    /// The app conceals existing accounts (`signup_conceals_existing`): the answer
    /// is "check your mail" whether the address was new (a verification mail) or
    /// already had an account (a mail to its owner).
    CheckMail,
}

pub async fn signup(
    state: &AppState,
    app: &app::Model,
    email: &str,
    password: &str,
    display_name: Option<String>,
    locale: Option<&str>,
    meta: &RequestMeta,
) -> Result<Signup> {
    let settings = AppSettings::from_stored(&app.settings);
    if !settings.signup_enabled {
        return Err(Error::forbidden("sign-up is disabled for this app"));
    }
    let prepared = users::prepare(
        state,
        app,
        NewUser {
            email: email.to_owned(),
            password: Some(password.to_owned()),
            display_name,
            role: None,
            email_verified: false,
        },
    )
    .await?;
    let conceal = settings.signup_conceals_existing;
    if conceal
        && let Some(owner) = users::find_by_email(&*state.db, app.id, prepared.email()).await?
    {
        crate::services::lifecycle::mail_account_exists(state, app, &owner, meta).await?;
        return Ok(Signup::CheckMail);
    }
    let txn = state.db.begin_write().await?;
    let user = match users::insert(&txn, state, app.id, prepared).await {
        // Signed up at the same moment by another request: concealed all the same.
        Err(Error::Conflict { .. }) if conceal => return Ok(Signup::CheckMail),
        other => other?,
    };
    // The language of the page signed up on: the verification mail below and later
    // mail go out in it.
    let user = match locale {
        Some(locale) => users::set_locale_in(&txn, user, Some(locale)).await?,
        None => user,
    };
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "user.created", actor_of(&user))
            .target(Target::user(user.id))
            .metadata(json!({ "email": user.email, "role": user.role, "via": "signup" })),
    )
    .await?;
    if settings.require_verified_email || conceal {
        // With SMTP configured, Heimdall mails the verification link.
        let queued = crate::services::lifecycle::queue_verification_mail(
            &txn,
            state,
            app,
            &user,
            &actor_of(&user),
            meta,
        )
        .await?;
        txn.commit().await?;
        if queued {
            state.mail.wake();
        }
        if conceal {
            return Ok(Signup::CheckMail);
        }
        return Ok(Signup::VerificationRequired(user));
    }
    if settings.mfa_policy == crate::services::mfa::MfaPolicy::Required {
        txn.commit().await?;
        let pending = crate::services::mfa::signin::after_first_factor(
            state,
            app,
            &user,
            None,
            &[crate::services::mfa::amr::PWD],
            true,
        )
        .await?
        .ok_or_else(|| Error::internal("mfa_policy required without a second step"))?;
        return Ok(Signup::SecondFactor(pending, user));
    }
    let (session, refresh) = open(&txn, state, app, &user, None, meta).await?;
    let user = mark_signed_in(&txn, state, user).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "user.signed_in", actor_of(&user))
            .target(Target::session(session.id))
            .metadata(json!({ "method": "password", "via": "signup" })),
    )
    .await?;
    let tokens = issue(state, app, &user, &session, refresh).await?;
    Ok(Signup::SignedIn(tokens, user))
}

/// Records the time of a successful sign-in on the user.
pub async fn mark_signed_in(
    conn: &impl ConnectionTrait,
    state: &AppState,
    user: user::Model,
) -> Result<user::Model> {
    let mut model = user.into_active_model();
    model.last_sign_in_at = Set(Some(state.now()));
    Ok(model.update(conn).await?)
}

fn account_key(app_id: Uuid, email: &str) -> String {
    format!("signin:account:{app_id}:{email}")
}

fn ip_key(app_id: Uuid, meta: &RequestMeta) -> String {
    format!(
        "signin:ip:{app_id}:{}",
        meta.ip.as_deref().unwrap_or("unknown")
    )
}

/// Checks a user's password, throttled per account and per IP. Every failure —
/// unknown email or wrong password — costs one argon2 verification and answers the
/// same; failures are counted and audited.
pub async fn verify_password(
    state: &AppState,
    app: &app::Model,
    email: &str,
    password: &str,
    meta: &RequestMeta,
) -> Result<user::Model> {
    let account = account_key(app.id, email);
    let ip = ip_key(app.id, meta);
    let account_failures = throttle::check(state, &account, throttle::SIGNIN_ACCOUNT).await?;
    throttle::check(state, &ip, throttle::SIGNIN_IP).await?;
    let found = users::find_by_email(&*state.db, app.id, email).await?;
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    if state.passwords.verify(password, stored.as_deref()).await?
        && let Some(user) = found
    {
        if account_failures {
            throttle::clear(state, &account).await?;
        }
        if state
            .passwords
            .needs_rehash(stored.as_deref().unwrap_or_default())
        {
            let hash = state.passwords.hash(password).await?;
            let txn = state.db.begin_write().await?;
            user::Entity::update_many()
                .col_expr(user::Column::PasswordHash, Expr::value(hash))
                .filter(user::Column::Id.eq(user.id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
        }
        return Ok(user);
    }
    throttle::fail(state, &account, throttle::SIGNIN_ACCOUNT).await?;
    throttle::fail(state, &ip, throttle::SIGNIN_IP).await?;
    let mut entry = Entry::new(
        app.id,
        "user.signin_failed",
        Actor {
            kind: "anonymous",
            id: String::new(),
        },
    )
    .metadata(json!({ "email": email }));
    if let Some(user) = &found {
        entry = entry.target(Target::user(user.id));
    }
    let txn = state.db.begin_write().await?;
    audit::commit(txn, state, meta, entry).await?;
    Err(Error::unauthenticated("invalid email or password"))
}

/// Refuses sign-in for accounts that may not have a session.
pub fn check_may_sign_in(app: &app::Model, user: &user::Model) -> Result<()> {
    if user.status != STATUS_ACTIVE {
        return Err(Error::refused(
            "account_deactivated",
            "this account is deactivated",
        ));
    }
    if AppSettings::from_stored(&app.settings).require_verified_email && !user.email_verified {
        return Err(Error::refused(
            "email_not_verified",
            "the email address must be verified before signing in",
        ));
    }
    Ok(())
}

/// The outcome of a password sign-in.
// Short-lived (one per sign-in, moved once): boxing the user would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Signin {
    SignedIn(IssuedTokens, user::Model),
    /// A second factor is needed (docs/src/mfa.md).
    SecondFactor(crate::services::mfa::signin::Pending),
}

pub async fn signin(
    state: &AppState,
    app: &app::Model,
    email: &str,
    password: &str,
    tenant_id: Option<Uuid>,
    meta: &RequestMeta,
) -> Result<Signin> {
    match password_session(state, app, email, password, tenant_id, false, meta).await? {
        PasswordStep::Session(session, refresh, user) => {
            let tokens = issue(state, app, &user, &session, refresh).await?;
            Ok(Signin::SignedIn(tokens, user))
        }
        PasswordStep::SecondFactor(pending) => Ok(Signin::SecondFactor(pending)),
    }
}

/// The outcome of a right password (short-lived: one per sign-in, so the variants'
/// sizes do not matter).
#[allow(clippy::large_enum_variant)]
pub enum PasswordStep {
    /// Signed in: the session, its first refresh token, the user.
    Session(session::Model, String, user::Model),
    /// A second factor is needed first.
    SecondFactor(crate::services::mfa::signin::Pending),
}

/// Checks the password and, unless a second factor is needed (by the app's
/// `mfa_policy`, the user's factors, or `demand_mfa`), opens a session (audited as
/// `user.signed_in`) without issuing tokens: the hosted sign-in page binds a
/// browser cookie to it instead.
pub async fn password_session(
    state: &AppState,
    app: &app::Model,
    email: &str,
    password: &str,
    tenant_id: Option<Uuid>,
    demand_mfa: bool,
    meta: &RequestMeta,
) -> Result<PasswordStep> {
    let email = validate::email("email", email)?;
    if password.len() > crate::services::passwords::MAX_PASSWORD_BYTES {
        return Err(Error::invalid_field("password", "is too long"));
    }
    let user = verify_password(state, app, &email, password, meta).await?;
    check_may_sign_in(app, &user)?;
    if let Some(tenant_id) = tenant_id {
        crate::services::tenants::require_member(&*state.db, app.id, tenant_id, user.id).await?;
    }
    if let Some(pending) = crate::services::mfa::signin::after_first_factor(
        state,
        app,
        &user,
        tenant_id,
        &[crate::services::mfa::amr::PWD],
        demand_mfa,
    )
    .await?
    {
        return Ok(PasswordStep::SecondFactor(pending));
    }
    let txn = state.db.begin_write().await?;
    let (session, refresh) = open(&txn, state, app, &user, tenant_id, meta).await?;
    let user = mark_signed_in(&txn, state, user).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "user.signed_in", actor_of(&user))
            .target(Target::session(session.id))
            .metadata(json!({ "method": "password" })),
    )
    .await?;
    Ok(PasswordStep::Session(session, refresh, user))
}

/// Exchanges a refresh token for a new pair. The presented token is used up;
/// presenting a used token again (replay, or a lost race) revokes the session.
pub async fn refresh(
    state: &AppState,
    app: &app::Model,
    presented: &str,
    meta: &RequestMeta,
) -> Result<(IssuedTokens, user::Model)> {
    let invalid = || Error::invalid_token("the refresh token is invalid, expired or revoked");
    if !presented.starts_with(crate::crypto::prefix::REFRESH_TOKEN) || presented.len() > 200 {
        return Err(invalid());
    }
    let now = state.now();
    let candidates = state.hasher.candidates(presented);
    let txn = state.db.begin_write().await?;
    let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.is_in(candidates))
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    let Some(session) = session::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    if session.app_id != app.id {
        return Err(invalid());
    }
    let reuse = token.used_at.is_some() || {
        // Claim the token; a concurrent exchange of the same token loses here.
        let claimed = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(token.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        claimed.rows_affected == 0
    };
    if reuse {
        let revoked = if session.revoked_at.is_none() {
            let user_actor = Actor {
                kind: "end_user",
                id: session.user_id.to_string(),
            };
            revoke_all_of_session(
                &txn,
                state,
                &session,
                "refresh_token_reuse",
                &user_actor,
                meta,
            )
            .await?
        } else {
            Vec::new()
        };
        txn.commit().await?;
        state.sessions.forget(&revoked).await;
        return Err(invalid());
    }
    if token.expires_at <= now || session.revoked_at.is_some() || session.expires_at <= now {
        return Err(invalid());
    }
    let user = users::find(&txn, app.id, session.user_id)
        .await
        .map_err(|_| invalid())?;
    if user.status != STATUS_ACTIVE {
        return Err(invalid());
    }
    let settings = AppSettings::from_stored(&app.settings);
    let next =
        tokens::new_refresh_token(&txn, state, session.id, settings.refresh_token_ttl).await?;
    let mut model = session.into_active_model();
    model.last_used_at = Set(now);
    model.expires_at = Set(now + Duration::seconds(settings.refresh_token_ttl));
    let session = model.update(&txn).await?;
    txn.commit().await?;
    state.sessions.forget(&[session.id]).await;
    let tokens = issue(state, app, &user, &session, next).await?;
    // Group-committed like machine tokens' entries (refreshes are frequent); the
    // dashboard counts them.
    state
        .audit_buffer
        .push(
            state,
            meta,
            Entry::new(app.id, "session.refreshed", actor_of(&user))
                .target(Target::session(session.id)),
        )
        .await?;
    Ok((tokens, user))
}

async fn revoke_all_of_session(
    conn: &impl ConnectionTrait,
    state: &AppState,
    session: &session::Model,
    reason: &str,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<Vec<Uuid>> {
    revoke_where(
        conn,
        state,
        session.app_id,
        vec![session.id],
        reason,
        actor,
        meta,
    )
    .await
}

/// Marks the given sessions revoked (those not revoked yet) and audits each.
async fn revoke_where(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    ids: Vec<Uuid>,
    reason: &str,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(ids);
    }
    // Only sessions still live are revoked (and audited); their users name the event.
    let live: Vec<(Uuid, Uuid)> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .column(session::Column::UserId)
        .filter(session::Column::Id.is_in(ids))
        .filter(session::Column::RevokedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = live.iter().map(|(id, _)| *id).collect();
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(state.now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.is_in(ids.clone()))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    // Clients that signed in through these sessions and asked to be told
    // (OpenID Connect Back-Channel Logout).
    crate::services::oauth::backchannel::queue(conn, state, app_id, &live, actor, meta).await?;
    for (id, user_id) in &live {
        audit::record(
            conn,
            state,
            meta,
            Entry::new(app_id, "session.revoked", actor.clone())
                .target(Target::session(*id))
                .metadata(json!({ "reason": reason, "user_id": user_id })),
        )
        .await?;
    }
    Ok(ids)
}

/// Revokes every live session of a user (except `keep`); returns their ids so the
/// caller can drop them from the cache after commit.
#[allow(clippy::too_many_arguments)]
pub async fn revoke_all(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<Vec<Uuid>> {
    let mut select = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        select = select.filter(session::Column::Id.ne(keep));
    }
    let ids: Vec<Uuid> = select.into_tuple().all(conn).await?;
    revoke_where(conn, state, app_id, ids, reason, actor, meta).await
}

/// Revokes one session of a user (404 when it is not theirs).
async fn revoke_one(
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
    reason: &str,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let found = session::Entity::find_by_id(session_id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::AppId.eq(app_id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("session not found"))?;
    let revoked = if found.revoked_at.is_none() {
        revoke_where(&txn, state, app_id, vec![session_id], reason, actor, meta).await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(())
}

/// Revokes every session of a user (administrators).
pub async fn revoke_user_sessions(
    state: &AppState,
    admin: &AppAccess,
    user_id: Uuid,
    meta: &RequestMeta,
) -> Result<usize> {
    admin.require(&[Permission::USER_UPDATE])?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let target = users::find(&txn, app_id, user_id).await?;
    admin.check_can_grant(
        &crate::services::roles::permissions_of(&txn, app_id, &target.role).await?,
    )?;
    let revoked = revoke_all(
        &txn,
        state,
        app_id,
        user_id,
        None,
        "revoked_by_admin",
        admin.actor(),
        meta,
    )
    .await?;
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(revoked.len())
}

/// Revokes one session of a user (administrators, `user.update`, and only of a user
/// whose permissions the caller holds); 404 when the session is not that user's.
pub async fn revoke_user_session(
    state: &AppState,
    admin: &AppAccess,
    user_id: Uuid,
    session_id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    admin.require(&[Permission::USER_UPDATE])?;
    let app_id = admin.app().id;
    let target = users::find(&*state.db, app_id, user_id).await?;
    admin.check_can_grant(
        &crate::services::roles::permissions_of(&*state.db, app_id, &target.role).await?,
    )?;
    revoke_one(
        state,
        app_id,
        user_id,
        session_id,
        "revoked_by_admin",
        admin.actor(),
        meta,
    )
    .await
}

/// A user's sessions that can still be used, newest first: the user's own (their
/// token's session marked current), or anyone's with `user.read`.
pub async fn of_user(
    state: &AppState,
    access: &AppAccess,
    user_id: Uuid,
) -> Result<Vec<session::Model>> {
    if access.acting_user() != Some(user_id) {
        access.require(&[Permission::USER_READ])?;
        users::find(&*state.db, access.app().id, user_id).await?;
    }
    active_of(state, access.app().id, user_id).await
}

/// The caller's own sessions that can still be used, newest first.
pub async fn mine(state: &AppState, me: &Me) -> Result<Vec<session::Model>> {
    active_of(state, me.app().id, me.user_id()).await
}

/// Revokes one of the caller's own sessions (404 when it is not theirs).
pub async fn revoke_mine(
    state: &AppState,
    me: &Me,
    session_id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    revoke_one(
        state,
        me.app().id,
        me.user_id(),
        session_id,
        "revoked_by_user",
        &me.actor(),
        meta,
    )
    .await
}

async fn active_of(state: &AppState, app_id: Uuid, user_id: Uuid) -> Result<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::AppId.eq(app_id))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(state.now()))
        .order_by_desc(session::Column::Id)
        .all(&*state.db)
        .await?)
}

/// Signs the caller out: revokes the token's session.
pub async fn signout(state: &AppState, me: &Me, meta: &RequestMeta) -> Result<()> {
    revoke_one(
        state,
        me.app().id,
        me.user_id(),
        me.session_id(),
        "signed_out",
        &me.actor(),
        meta,
    )
    .await
}

/// Changes the caller's own password; every other session is revoked.
pub async fn change_password(
    state: &AppState,
    me: &Me,
    current: &str,
    new: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let (app, principal) = (me.app(), me.user());
    let settings = AppSettings::from_stored(&app.settings);
    crate::services::passwords::check_policy("new_password", new, settings.password_min_length)?;
    let user = users::find(&*state.db, app.id, principal.user_id).await?;
    if user.password_hash.is_none() {
        return Err(Error::invalid_field(
            "current_password",
            "this account has no password; use password reset to set one",
        ));
    }
    verify_password(state, app, &user.email, current, meta)
        .await
        .map_err(|e| match e {
            Error::Unauthenticated { .. } => {
                Error::invalid_field("current_password", "is incorrect")
            }
            other => other,
        })?;
    let hash = state.passwords.hash(new).await?;
    let actor = actor_of(&user);
    let txn = state.db.begin_write().await?;
    let mut model = user.into_active_model();
    model.password_hash = Set(Some(hash));
    model.updated_at = Set(state.now());
    model.update(&txn).await?;
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "user.updated", actor.clone())
            .target(Target::user(principal.user_id))
            .metadata(json!({ "changed": ["password"] })),
    )
    .await?;
    let revoked = revoke_all(
        &txn,
        state,
        app.id,
        principal.user_id,
        Some(principal.session_id),
        "password_changed",
        &actor,
        meta,
    )
    .await?;
    txn.commit().await?;
    state.sessions.forget(&revoked).await;
    Ok(())
}
