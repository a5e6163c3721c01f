//! Invites (`hm_inv_…`): an administrator invites an email into the app with a role,
//! optionally into a tenant; the invitee accepts with a password (a new account
//! whose email counts as verified) or, already signed in with that email, joins the
//! tenant.
//!
//! `role` is the app role of the new user; with `tenant_id` it is the role in that
//! tenant and the new user gets the app's `default_role`. Expired, revoked or used-up
//! invites answer 410 `gone`. Caller-narrowing: an end user invites only into roles
//! whose permissions they hold.

use chrono::{DateTime, Duration, Utc};
use entity::{app, invite, tenant_member, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Actor, AppAccess, EndUser, Permission},
    crypto::{self, prefix},
    db::{self, Page, PageRequest},
    error::{Error, Result, conflict_on_unique},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        lifecycle,
        mail::{self, MailKind},
        roles, sessions, tenants,
        tokens::IssuedTokens,
        users::{self, NewUser},
        validate,
    },
    state::AppState,
};

pub const DEFAULT_EXPIRES_IN_HOURS: i64 = 72;
pub const MAX_EXPIRES_IN_HOURS: i64 = 30 * 24;
pub const MAX_USES: i32 = 1000;

/// An invite request.
#[derive(Debug, Clone, Default)]
pub struct NewInvite {
    pub email: String,
    pub role: String,
    pub tenant_id: Option<Uuid>,
    pub expires_in_hours: Option<i64>,
    pub max_uses: Option<i32>,
    /// Heimdall mails the invite (SMTP must be configured).
    pub send_email: bool,
}

/// A created invite with its secret (shown once).
#[derive(Debug, Clone)]
pub struct CreatedInvite {
    pub invite: invite::Model,
    pub token: String,
    pub invite_url: String,
}

/// Where an invite stands.
pub fn status(invite: &invite::Model, now: DateTime<Utc>) -> &'static str {
    if invite.revoked_at.is_some() {
        "revoked"
    } else if invite.uses >= invite.max_uses {
        "accepted"
    } else if invite.expires_at <= now {
        "expired"
    } else {
        "pending"
    }
}

/// The invite link: the app's `invite_url_template`, else Heimdall's hosted page.
pub fn invite_url(state: &AppState, app: &app::Model, token: &str) -> String {
    match AppSettings::from_stored(&app.settings).invite_url_template {
        Some(template) => template.replace("{token}", token),
        None => format!(
            "{}/accept-invite?token={token}",
            lifecycle::hosted_base(state, app)
        ),
    }
}

pub async fn create(
    state: &AppState,
    admin: &AppAccess,
    input: NewInvite,
    meta: &RequestMeta,
) -> Result<CreatedInvite> {
    admin.require(&[Permission::USER_INVITE])?;
    let app = admin.app();
    let email = validate::email("email", &input.email)?;
    let hours = input.expires_in_hours.unwrap_or(DEFAULT_EXPIRES_IN_HOURS);
    if !(1..=MAX_EXPIRES_IN_HOURS).contains(&hours) {
        return Err(Error::invalid_field(
            "expires_in_hours",
            format!("must be between 1 and {MAX_EXPIRES_IN_HOURS}"),
        ));
    }
    let max_uses = input.max_uses.unwrap_or(1);
    if !(1..=MAX_USES).contains(&max_uses) {
        return Err(Error::invalid_field(
            "max_uses",
            format!("must be between 1 and {MAX_USES}"),
        ));
    }
    if input.send_email && !state.mail.enabled() {
        return Err(Error::invalid_field(
            "send_email",
            "this Heimdall does not send mail (HEIMDALL_SMTP_URL is not set)",
        ));
    }
    let permissions = roles::require_existing(&*state.db, app.id, "role", &input.role).await?;
    admin.check_can_grant(&permissions)?;
    let existing = users::find_by_email(&*state.db, app.id, &email).await?;
    match (input.tenant_id, &existing) {
        (None, Some(_)) => {
            return Err(Error::conflict(format!(
                "a user with email '{email}' already exists in this app"
            )));
        }
        (Some(tenant_id), existing) => {
            tenants::find(&*state.db, app.id, tenant_id)
                .await
                .map_err(|_| Error::invalid_field("tenant_id", "unknown tenant"))?;
            if let Some(user) = existing
                && tenants::find_member(&*state.db, app.id, tenant_id, user.id)
                    .await?
                    .is_some()
            {
                return Err(Error::conflict(
                    "the user is already a member of this tenant",
                ));
            }
        }
        (None, None) => {}
    }

    let token = crypto::generate_secret(prefix::INVITE)?;
    let now = state.now();
    let actor = admin.actor();
    let txn = state.db.begin_write().await?;
    let invite = invite::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app.id),
        token_hash: Set(state.hasher.hash(&token)),
        email: Set(email.clone()),
        role: Set(input.role.clone()),
        tenant_id: Set(input.tenant_id),
        expires_at: Set(now + Duration::hours(hours)),
        max_uses: Set(max_uses),
        uses: Set(0),
        revoked_at: Set(None),
        created_by_type: Set(actor.kind.to_owned()),
        created_by_id: Set(actor.id.clone()),
        created_at: Set(now),
        last_accepted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let invite_url = invite_url(state, app, &token);
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "invite.created", actor.clone())
            .target(Target::new("invite", invite.id))
            .metadata(json!({
                "email": invite.email,
                "role": invite.role,
                "tenant_id": invite.tenant_id,
                "expires_at": invite.expires_at,
                "max_uses": invite.max_uses,
                "send_email": input.send_email,
            })),
    )
    .await?;
    if input.send_email {
        let rendered = mail::render(app, MailKind::Invite, &email, None, &invite_url);
        mail::enqueue(&txn, state, app.id, MailKind::Invite, None, &rendered).await?;
    }
    txn.commit().await?;
    if input.send_email {
        state.mail.wake();
    }
    Ok(CreatedInvite {
        invite,
        token,
        invite_url,
    })
}

/// The app's invites, oldest first (never their tokens).
pub async fn list(
    state: &AppState,
    admin: &AppAccess,
    page: PageRequest,
) -> Result<Page<invite::Model>> {
    admin.require(&[Permission::USER_INVITE])?;
    let select = invite::Entity::find().filter(invite::Column::AppId.eq(admin.app().id));
    db::paginate(&*state.db, select, invite::Column::Id, page, |i| i.id).await
}

/// One invite of the app (`user.invite`; never its token).
pub async fn get(state: &AppState, access: &AppAccess, id: Uuid) -> Result<invite::Model> {
    access.require(&[Permission::USER_INVITE])?;
    find(&*state.db, access.app().id, id).await
}

async fn find(conn: &impl ConnectionTrait, app_id: Uuid, id: Uuid) -> Result<invite::Model> {
    invite::Entity::find_by_id(id)
        .filter(invite::Column::AppId.eq(app_id))
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("invite not found"))
}

/// Revokes an invite (idempotent).
pub async fn revoke(
    state: &AppState,
    admin: &AppAccess,
    id: Uuid,
    meta: &RequestMeta,
) -> Result<invite::Model> {
    admin.require(&[Permission::USER_INVITE])?;
    let app_id = admin.app().id;
    let txn = state.db.begin_write().await?;
    let current = find(&txn, app_id, id).await?;
    if current.revoked_at.is_some() {
        return Ok(current);
    }
    let mut model: invite::ActiveModel = current.into();
    model.revoked_at = Set(Some(state.now()));
    let revoked = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "invite.revoked", admin.actor().clone())
            .target(Target::new("invite", id))
            .metadata(json!({ "email": revoked.email })),
    )
    .await?;
    Ok(revoked)
}

/// A usable invite of `app` by its token (the hosted page of that app): another
/// app's invite is not found there.
pub async fn usable_in(state: &AppState, app: &app::Model, token: &str) -> Result<invite::Model> {
    let invite = find_usable(&*state.db, state, token).await?;
    if invite.app_id != app.id {
        return Err(Error::not_found("invite not found"));
    }
    Ok(invite)
}

/// Finds a usable invite by its token: 404 when it never existed, 410 when it is
/// revoked, used up or expired.
pub async fn find_usable(
    conn: &impl ConnectionTrait,
    state: &AppState,
    token: &str,
) -> Result<invite::Model> {
    let not_found = || Error::not_found("invite not found");
    if !token.starts_with(prefix::INVITE) || token.len() > 200 {
        return Err(not_found());
    }
    let invite = invite::Entity::find()
        .filter(invite::Column::TokenHash.is_in(state.hasher.candidates(token)))
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    match status(&invite, state.now()) {
        "revoked" => Err(Error::Gone("this invite has been revoked".into())),
        "accepted" => Err(Error::Gone("this invite has been used".into())),
        "expired" => Err(Error::Gone("this invite has expired".into())),
        _ => Ok(invite),
    }
}

/// Uses up one use of the invite; 410 when a concurrent accept took the last one.
async fn claim(
    conn: &impl ConnectionTrait,
    state: &AppState,
    invite: &invite::Model,
) -> Result<()> {
    let now = state.now();
    let claimed = invite::Entity::update_many()
        .col_expr(invite::Column::Uses, Expr::col(invite::Column::Uses).add(1))
        .col_expr(invite::Column::LastAcceptedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(invite.id))
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(now))
        .filter(Expr::col(invite::Column::Uses).lt(Expr::col(invite::Column::MaxUses)))
        .exec(conn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(Error::Gone("this invite has been used".into()));
    }
    Ok(())
}

/// What the invitee sends.
#[derive(Debug, Clone, Default)]
pub struct Acceptance {
    pub display_name: Option<String>,
    pub password: Option<String>,
}

/// The outcome of accepting.
pub struct Accepted {
    /// The new session's tokens; `None` when a second factor must be enrolled first
    /// (`second_factor`).
    pub tokens: Option<IssuedTokens>,
    /// The app requires a second factor (or the invited tenant does): the new
    /// account enrols one with this sign-in's `hm_mfa_` token (docs/src/mfa.md).
    pub second_factor: Option<crate::services::mfa::signin::Pending>,
    pub user: user::Model,
    /// A new account was created (otherwise an existing user joined the tenant).
    pub created: bool,
}

/// `POST /v1/invites/{token}/accept`. Without an end-user token (or with a
/// credential of something else), a new account is created with the invited email
/// (409 if it is taken). With an end-user access token of the invite's app whose
/// email is the invited one, that user joins the invite's tenant instead.
pub async fn accept(
    state: &AppState,
    token: &str,
    input: Acceptance,
    caller: Option<&EndUser>,
    meta: &RequestMeta,
) -> Result<Accepted> {
    let invite = find_usable(&*state.db, state, token).await?;
    let app = state
        .apps
        .by_id(invite.app_id)
        .await?
        .ok_or_else(|| Error::not_found("invite not found"))?;
    match caller.filter(|c| c.app_id == app.id) {
        Some(caller) => join(state, &app, &invite, caller, meta).await,
        None => create_account(state, &app, &invite, input, meta).await,
    }
}

async fn role_still_exists(conn: &impl ConnectionTrait, app_id: Uuid, role: &str) -> Result<()> {
    roles::find(conn, app_id, role)
        .await?
        .map(|_| ())
        .ok_or_else(|| Error::Gone(format!("the invited role '{role}' no longer exists")))
}

async fn add_member(
    conn: &impl ConnectionTrait,
    state: &AppState,
    invite: &invite::Model,
    tenant_id: Uuid,
    user_id: Uuid,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<()> {
    let now = state.now();
    tenant_member::ActiveModel {
        tenant_id: Set(tenant_id),
        user_id: Set(user_id),
        app_id: Set(invite.app_id),
        role: Set(invite.role.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(conflict_on_unique(
        "the user is already a member of this tenant",
    ))?;
    audit::record(
        conn,
        state,
        meta,
        Entry::new(invite.app_id, "tenant.member_added", actor.clone())
            .target(Target::user(user_id))
            .metadata(json!({
                "tenant_id": tenant_id, "user_id": user_id, "role": invite.role,
                "via": "invite", "invite_id": invite.id,
            })),
    )
    .await
}

async fn record_accepted(
    conn: &impl ConnectionTrait,
    state: &AppState,
    invite: &invite::Model,
    user: &user::Model,
    created: bool,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<()> {
    audit::record(
        conn,
        state,
        meta,
        Entry::new(invite.app_id, "invite.accepted", actor.clone())
            .target(Target::new("invite", invite.id))
            .metadata(json!({
                "invite_id": invite.id,
                "user_id": user.id,
                "email": user.email,
                "role": invite.role,
                "tenant_id": invite.tenant_id,
                "new_user": created,
            })),
    )
    .await
}

async fn create_account(
    state: &AppState,
    app: &app::Model,
    invite: &invite::Model,
    input: Acceptance,
    meta: &RequestMeta,
) -> Result<Accepted> {
    let Some(password) = input.password else {
        return Err(Error::invalid_field("password", "is required"));
    };
    if users::find_by_email(&*state.db, app.id, &invite.email)
        .await?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "a user with email '{}' already exists in this app: sign in and accept the invite with your access token",
            invite.email
        )));
    }
    let settings = AppSettings::from_stored(&app.settings);
    let app_role = match invite.tenant_id {
        Some(_) => settings.default_role.clone(),
        None => invite.role.clone(),
    };
    let prepared = users::prepare(
        state,
        app,
        NewUser {
            email: invite.email.clone(),
            password: Some(password),
            display_name: input.display_name,
            role: Some(app_role.clone()),
            email_verified: true,
        },
    )
    .await?;
    let txn = state.db.begin_write().await?;
    claim(&txn, state, invite).await?;
    role_still_exists(&txn, app.id, &invite.role).await?;
    role_still_exists(&txn, app.id, &app_role).await?;
    let user = users::insert(&txn, state, app.id, prepared).await?;
    let actor = Actor {
        kind: "end_user",
        id: user.id.to_string(),
    };
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app.id, "user.created", actor.clone())
            .target(Target::user(user.id))
            .metadata(json!({ "email": user.email, "role": user.role, "via": "invite" })),
    )
    .await?;
    if let Some(tenant_id) = invite.tenant_id {
        tenants::find(&txn, app.id, tenant_id)
            .await
            .map_err(|_| Error::Gone("the invited tenant no longer exists".into()))?;
        add_member(&txn, state, invite, tenant_id, user.id, &actor, meta).await?;
    }
    record_accepted(&txn, state, invite, &user, true, &actor, meta).await?;
    // A new account has no second factor: where one is required (by the app or by
    // the invited tenant), the account enrols one before it gets a session.
    let tenant_requires_mfa = match invite.tenant_id {
        Some(tenant_id) => tenants::find(&txn, app.id, tenant_id).await?.require_mfa,
        None => false,
    };
    let mfa_off = state.apps.settings(app).await.mfa_policy == crate::services::mfa::MfaPolicy::Off;
    if (tenant_requires_mfa && !mfa_off)
        || crate::services::mfa::signin::second_step_needed(&txn, state, app, user.id, false)
            .await?
    {
        txn.commit().await?;
        if invite.tenant_id.is_some() {
            state.authz.bump(app.id);
        }
        let pending = crate::services::mfa::signin::after_first_factor(
            state,
            app,
            &user,
            invite.tenant_id,
            &[crate::services::mfa::amr::PWD],
            true,
        )
        .await?;
        return Ok(Accepted {
            tokens: None,
            second_factor: pending,
            user,
            created: true,
        });
    }
    // (A tenant that requires MFA, in an app where MFA is off, is never active.)
    let active_tenant = invite.tenant_id.filter(|_| !tenant_requires_mfa);
    let (session, refresh) = sessions::open(&txn, state, app, &user, active_tenant, meta).await?;
    let mut model: user::ActiveModel = user.into();
    model.last_sign_in_at = Set(Some(state.now()));
    let user = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "user.signed_in", actor)
            .target(Target::session(session.id))
            .metadata(json!({ "method": "password", "via": "invite" })),
    )
    .await?;
    if invite.tenant_id.is_some() {
        state.authz.bump(app.id);
    }
    let tokens = sessions::issue(state, app, &user, &session, refresh).await?;
    Ok(Accepted {
        tokens: Some(tokens),
        second_factor: None,
        user,
        created: true,
    })
}

async fn join(
    state: &AppState,
    app: &app::Model,
    invite: &invite::Model,
    caller: &EndUser,
    meta: &RequestMeta,
) -> Result<Accepted> {
    let user = users::find(&*state.db, app.id, caller.user_id).await?;
    if user.email != invite.email {
        return Err(Error::forbidden("this invite is for another email address"));
    }
    let Some(tenant_id) = invite.tenant_id else {
        return Err(Error::conflict(
            "you already have an account in this app; this invite does not add you to a tenant",
        ));
    };
    sessions::check_may_sign_in(app, &user)?;
    // The new session is as strong as the caller's (RFC 8176 `amr`).
    let amr = if caller.amr.is_empty() {
        vec![crate::services::mfa::amr::PWD.to_owned()]
    } else {
        caller.amr.clone()
    };
    crate::services::mfa::signin::check_tenant(state, app.id, tenant_id, &amr).await?;
    let actor = Actor {
        kind: "end_user",
        id: user.id.to_string(),
    };
    let txn = state.db.begin_write().await?;
    claim(&txn, state, invite).await?;
    role_still_exists(&txn, app.id, &invite.role).await?;
    tenants::find(&txn, app.id, tenant_id)
        .await
        .map_err(|_| Error::Gone("the invited tenant no longer exists".into()))?;
    add_member(&txn, state, invite, tenant_id, user.id, &actor, meta).await?;
    record_accepted(&txn, state, invite, &user, false, &actor, meta).await?;
    // A fresh session in the tenant: its tokens carry org_id and org_role.
    let (session, refresh) =
        sessions::open_with(&txn, state, app, &user, Some(tenant_id), amr, meta).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "user.signed_in", actor)
            .target(Target::session(session.id))
            .metadata(json!({ "method": "access_token", "via": "invite" })),
    )
    .await?;
    state.authz.bump(app.id);
    let tokens = sessions::issue(state, app, &user, &session, refresh).await?;
    Ok(Accepted {
        tokens: Some(tokens),
        second_factor: None,
        user,
        created: false,
    })
}
