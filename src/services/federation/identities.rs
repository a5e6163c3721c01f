//! Federated identities: signing in with a verified upstream identity, account
//! linking by verified email, listing and unlinking.
//!
//! Linking rules (where the issue leaves a choice):
//! - a known identity (`provider` + `sub`) signs its user in;
//! - a new identity whose **verified** email equals an existing user's **verified**
//!   email links to that user (an unverified local address could have been
//!   registered by someone else to pre-hijack the account, so it is never linked:
//!   409 `conflict`);
//! - an **unverified** upstream email never links: when a user has that email the
//!   sign-in is refused (409), otherwise a new user is created with
//!   `email_verified: false` — unless the app requires verified emails, in which
//!   case the sign-in is refused (403 `email_not_verified`) and nothing is created;
//! - a new user needs an email: without one the sign-in is refused (403
//!   `email_required`); with sign-up disabled no new user is created (403).

use entity::{app, federated_identity, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, SqlErr, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Actor, AppAccess, Me, Permission},
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        audit::{self, Entry, Target},
        roles, sessions,
        tokens::IssuedTokens,
        users::{self, NewUser, PreparedUser},
        validate,
    },
    state::AppState,
};

/// A verified identity asserted by an upstream provider.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// The provider's name (`apple`, `google`, …).
    pub provider: String,
    /// `apple` or `oidc`: the `method` of the `user.signed_in` audit entry.
    pub method: &'static str,
    /// `native` or `web`.
    pub flow: &'static str,
    pub subject: String,
    /// Normalised; `None` when the provider sent none (or an invalid one).
    pub email: Option<String>,
    pub email_verified: bool,
    /// For new users (Apple sends the name only on the first sign-in).
    pub display_name: Option<String>,
}

impl Upstream {
    /// Normalises an upstream email; an unusable one counts as none.
    pub fn email_from(raw: Option<&str>) -> Option<String> {
        raw.and_then(|e| validate::email("email", e).ok())
    }

    /// A display name as a provider sent it, if it is acceptable as one.
    pub fn name_from(raw: Option<String>) -> Option<String> {
        validate::display_name("display_name", raw.as_deref())
            .ok()
            .flatten()
    }
}

/// A completed federated sign-in.
pub struct SignedIn {
    pub outcome: Outcome,
    pub user: user::Model,
    /// Whether the sign-in created the user.
    pub created: bool,
}

/// What a federated sign-in ends with.
pub enum Outcome {
    Tokens(IssuedTokens),
    /// The user has a second factor (or the app requires one): the second step
    /// follows with this `hm_mfa_` token (docs/src/mfa.md).
    SecondFactor(crate::services::mfa::signin::Pending),
}

fn actor_of(user_id: Uuid) -> Actor {
    Actor {
        kind: "end_user",
        id: user_id.to_string(),
    }
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

async fn find(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    provider: &str,
    subject: &str,
) -> Result<Option<federated_identity::Model>> {
    Ok(federated_identity::Entity::find()
        .filter(federated_identity::Column::AppId.eq(app_id))
        .filter(federated_identity::Column::Provider.eq(provider))
        .filter(federated_identity::Column::Subject.eq(subject))
        .one(conn)
        .await?)
}

enum Plan {
    Existing(federated_identity::Model, user::Model),
    Link(user::Model),
    Create(Box<PreparedUser>),
}

fn linking_conflict(reason: &'static str, message: String) -> Error {
    Error::Conflict {
        message,
        details: Some(json!({ "reason": reason })),
    }
}

async fn plan(state: &AppState, app: &app::Model, upstream: &Upstream) -> Result<Plan> {
    if let Some(identity) = find(&*state.db, app.id, &upstream.provider, &upstream.subject).await? {
        let user = users::find(&*state.db, app.id, identity.user_id).await?;
        return Ok(Plan::Existing(identity, user));
    }
    let Some(email) = &upstream.email else {
        return Err(Error::refused(
            "email_required",
            format!(
                "{} did not share an email address, which a new account needs",
                upstream.provider
            ),
        ));
    };
    match users::find_by_email(&*state.db, app.id, email).await? {
        Some(user) if upstream.email_verified && user.email_verified => Ok(Plan::Link(user)),
        Some(_) if upstream.email_verified => Err(linking_conflict(
            "local_email_unverified",
            format!(
                "an account with this email exists but its address is not verified; sign in \
                 to it and verify the address before signing in with {}",
                upstream.provider
            ),
        )),
        Some(_) => Err(linking_conflict(
            "upstream_email_unverified",
            format!(
                "an account with this email exists, and {} did not verify the address, so \
                 the identity is not linked to it",
                upstream.provider
            ),
        )),
        None => {
            let settings = AppSettings::from_stored(&app.settings);
            if !settings.signup_enabled {
                return Err(Error::forbidden("sign-up is disabled for this app"));
            }
            if settings.require_verified_email && !upstream.email_verified {
                return Err(Error::refused(
                    "email_not_verified",
                    format!(
                        "{} did not verify the email address, and this app requires verified \
                         addresses",
                        upstream.provider
                    ),
                ));
            }
            let prepared = users::prepare(
                state,
                app,
                NewUser {
                    email: email.clone(),
                    password: None,
                    display_name: upstream.display_name.clone(),
                    role: None,
                    email_verified: upstream.email_verified,
                },
            )
            .await?;
            Ok(Plan::Create(Box::new(prepared)))
        }
    }
}

/// Signs in with an upstream identity, linking or creating the user as described
/// in the module documentation. Everything it writes, with its audit entries
/// (`user.created`, `user.identity_linked`, `user.signed_in`), is one transaction.
pub async fn sign_in(
    state: &AppState,
    app: &app::Model,
    upstream: &Upstream,
    meta: &RequestMeta,
) -> Result<SignedIn> {
    // A concurrent first sign-in with the same identity (or email) loses the insert
    // race; the second attempt then finds what the winner created.
    for _ in 0..2 {
        if let Some(done) = attempt(state, app, upstream, meta).await? {
            return Ok(done);
        }
    }
    Err(Error::conflict(
        "another sign-in with this identity is in progress; try again",
    ))
}

async fn attempt(
    state: &AppState,
    app: &app::Model,
    upstream: &Upstream,
    meta: &RequestMeta,
) -> Result<Option<SignedIn>> {
    let plan = plan(state, app, upstream).await?;
    if let Plan::Existing(_, user) | Plan::Link(user) = &plan {
        sessions::check_may_sign_in(app, user)?;
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let (user, created) = match plan {
        Plan::Existing(identity, user) => {
            federated_identity::Entity::update_many()
                .col_expr(federated_identity::Column::LastUsedAt, Expr::value(now))
                .filter(federated_identity::Column::Id.eq(identity.id))
                .exec(&txn)
                .await?;
            (user, false)
        }
        Plan::Link(user) => {
            if !link(&txn, state, app.id, &user, upstream, "email_match", meta).await? {
                return Ok(None);
            }
            (user, false)
        }
        Plan::Create(prepared) => {
            let user = match users::insert(&txn, state, app.id, *prepared).await {
                Ok(user) => user,
                Err(Error::Conflict { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            audit::record(
                &txn,
                state,
                meta,
                Entry::new(app.id, "user.created", actor_of(user.id))
                    .target(Target::user(user.id))
                    .metadata(json!({
                        "email": user.email,
                        "role": user.role,
                        "via": upstream.provider,
                    })),
            )
            .await?;
            if !link(&txn, state, app.id, &user, upstream, "new_user", meta).await? {
                return Ok(None);
            }
            (user, true)
        }
    };
    use crate::services::mfa::{amr, signin as mfa_signin};
    if mfa_signin::second_step_needed(&txn, state, app, user.id, false).await? {
        // The identity is linked (or the user created) either way; the session
        // opens after the second step.
        txn.commit().await?;
        let pending = mfa_signin::after_first_factor(state, app, &user, None, &[amr::FED], true)
            .await?
            .ok_or_else(|| Error::internal("a second step was needed but not started"))?;
        return Ok(Some(SignedIn {
            outcome: Outcome::SecondFactor(pending),
            user,
            created,
        }));
    }
    let (session, refresh) = sessions::open_with(
        &txn,
        state,
        app,
        &user,
        None,
        vec![amr::FED.to_owned()],
        meta,
    )
    .await?;
    let user = sessions::mark_signed_in(&txn, state, user).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app.id, "user.signed_in", actor_of(user.id))
            .target(Target::session(session.id))
            .metadata(json!({
                "method": upstream.method,
                "provider": upstream.provider,
                "flow": upstream.flow,
            })),
    )
    .await?;
    let tokens = sessions::issue(state, app, &user, &session, refresh).await?;
    Ok(Some(SignedIn {
        outcome: Outcome::Tokens(tokens),
        user,
        created,
    }))
}

/// Inserts the identity for `user` and audits it; `false` when a concurrent
/// sign-in inserted it first.
async fn link(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    user: &user::Model,
    upstream: &Upstream,
    reason: &str,
    meta: &RequestMeta,
) -> Result<bool> {
    let now = state.now();
    let inserted = federated_identity::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        user_id: Set(user.id),
        provider: Set(upstream.provider.clone()),
        subject: Set(upstream.subject.clone()),
        email: Set(upstream.email.clone()),
        email_verified: Set(upstream.email_verified),
        created_at: Set(now),
        last_used_at: Set(now),
    }
    .insert(conn)
    .await;
    let identity = match inserted {
        Ok(identity) => identity,
        Err(e) if is_unique_violation(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        conn,
        state,
        meta,
        Entry::new(app_id, "user.identity_linked", actor_of(user.id))
            .target(Target::user(user.id))
            .metadata(json!({
                "identity_id": identity.id,
                "provider": identity.provider,
                "email": identity.email,
                "reason": reason,
            })),
    )
    .await?;
    Ok(true)
}

/// A user's identities, oldest first.
pub async fn of_user(
    conn: &impl ConnectionTrait,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<federated_identity::Model>> {
    Ok(federated_identity::Entity::find()
        .filter(federated_identity::Column::AppId.eq(app_id))
        .filter(federated_identity::Column::UserId.eq(user_id))
        .order_by_asc(federated_identity::Column::Id)
        .all(conn)
        .await?)
}

/// The caller's own identities, oldest first.
pub async fn mine(state: &AppState, me: &Me) -> Result<Vec<federated_identity::Model>> {
    of_user(&*state.db, me.app().id, me.user_id()).await
}

/// Removes one of the caller's own identities (the last-way-to-sign-in rule
/// applies).
pub async fn unlink_mine(
    state: &AppState,
    me: &Me,
    identity_id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    unlink(
        state,
        me.app().id,
        me.user_id(),
        identity_id,
        &me.actor(),
        meta,
    )
    .await
}

/// Removes one identity of a user, unless it is the user's last way to sign in
/// (no password and no other identity): 409.
async fn unlink(
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    identity_id: Uuid,
    actor: &Actor,
    meta: &RequestMeta,
) -> Result<()> {
    let txn = state.db.begin_write().await?;
    let user = users::find(&txn, app_id, user_id).await?;
    let identity = federated_identity::Entity::find_by_id(identity_id)
        .filter(federated_identity::Column::AppId.eq(app_id))
        .filter(federated_identity::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::not_found("identity not found"))?;
    let others = federated_identity::Entity::find()
        .filter(federated_identity::Column::UserId.eq(user_id))
        .filter(federated_identity::Column::Id.ne(identity_id))
        .count(&txn)
        .await?;
    if user.password_hash.is_none() && others == 0 {
        return Err(linking_conflict(
            "last_sign_in_method",
            "this identity is the account's only way to sign in; set a password or link \
             another provider first"
                .into(),
        ));
    }
    federated_identity::Entity::delete_by_id(identity_id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "user.identity_unlinked", actor.clone())
            .target(Target::user(user_id))
            .metadata(json!({ "identity_id": identity_id, "provider": identity.provider })),
    )
    .await?;
    Ok(())
}

/// A user's identities (administrators, `user.read`).
pub async fn list_for_admin(
    state: &AppState,
    admin: &AppAccess,
    user_id: Uuid,
) -> Result<Vec<federated_identity::Model>> {
    admin.require(&[Permission::USER_READ])?;
    users::find(&*state.db, admin.app().id, user_id).await?;
    of_user(&*state.db, admin.app().id, user_id).await
}

/// Unlinks a user's identity (administrators, `user.update`, not of a user who
/// holds permissions the caller lacks). The last-way-to-sign-in rule applies too:
/// set a password or delete the user instead.
pub async fn unlink_for_admin(
    state: &AppState,
    admin: &AppAccess,
    user_id: Uuid,
    identity_id: Uuid,
    meta: &RequestMeta,
) -> Result<()> {
    admin.require(&[Permission::USER_UPDATE])?;
    let app_id = admin.app().id;
    let target = users::find(&*state.db, app_id, user_id).await?;
    admin.check_can_grant(&roles::permissions_of(&*state.db, app_id, &target.role).await?)?;
    unlink(state, app_id, user_id, identity_id, admin.actor(), meta).await
}
