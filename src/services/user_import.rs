//! Bulk import and export of users as JSON Lines
//! (docs/src/importing-users-and-scim.md).
//!
//! An import reads one user per line as the request body arrives: lines are parsed
//! and prepared (validated, plaintext passwords hashed) a batch at a time, and each
//! batch is written in one transaction, every line in a savepoint of its own, so a
//! failed line never takes the others with it. Memory holds one batch and the
//! report, never the whole file. An export pages through the users by id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{tenant, tenant_member, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::{AppAccess, Permission, RootAccess},
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        metadata, password_import, roles,
        users::{self, NewUser, UserExtras},
        validate,
    },
    state::AppState,
};

/// Where the changes an import makes come from, in audit entries and events.
pub const SOURCE: &str = "import";
/// Lines prepared and written together.
const BATCH: usize = 200;
/// Errors and warnings kept in the report (the counts stay exact).
const MAX_REPORTED: usize = 1000;
/// Longest accepted line, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// What to do with a line whose email already exists in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    #[default]
    Skip,
    Update,
    Fail,
}

impl OnConflict {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "skip" => Ok(Self::Skip),
            "update" => Ok(Self::Update),
            "fail" => Ok(Self::Fail),
            _ => Err(Error::invalid_field(
                "on_conflict",
                "must be skip, update or fail",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub on_conflict: OnConflict,
    pub dry_run: bool,
}

/// One line of an import (and of an export: `id`, `status`, `updated_at` and
/// `last_sign_in_at` are what exports carry; `id` and the times but `created_at`
/// are ignored).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    email: String,
    #[serde(default)]
    email_verified: bool,
    display_name: Option<String>,
    role: Option<String>,
    status: Option<String>,
    #[serde(default)]
    tenants: Vec<Membership>,
    password: Option<String>,
    password_hash: Option<String>,
    user_metadata: Option<Value>,
    app_metadata: Option<Value>,
    created_at: Option<DateTime<Utc>>,
    #[serde(rename = "id")]
    _id: Option<Value>,
    #[serde(rename = "updated_at")]
    _updated_at: Option<Value>,
    #[serde(rename = "last_sign_in_at")]
    _last_sign_in_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Membership {
    id: Option<Uuid>,
    slug: Option<String>,
    role: Option<String>,
}

/// A line that could not be imported.
#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// Something imported but worth knowing (a weak password hash).
#[derive(Debug, Clone, Serialize)]
pub struct LineWarning {
    pub line: u64,
    pub message: String,
}

/// The answer of an import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub processed: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    pub errors: Vec<LineError>,
    pub warnings: Vec<LineWarning>,
    /// More errors or warnings happened than the report lists.
    pub truncated: bool,
}

impl Report {
    fn error(&mut self, line: u64, error: Error) {
        self.failed += 1;
        if self.errors.len() >= MAX_REPORTED {
            self.truncated = true;
            return;
        }
        let (field, message) = describe(error);
        self.errors.push(LineError {
            line,
            field,
            message,
        });
    }

    fn warn(&mut self, line: u64, message: String) {
        if self.warnings.len() >= MAX_REPORTED {
            self.truncated = true;
            return;
        }
        self.warnings.push(LineWarning { line, message });
    }
}

/// The field an error names and its message (the field's own, without the prefix).
fn describe(error: Error) -> (Option<String>, String) {
    match &error {
        Error::InvalidRequest {
            details: Some(details),
            message,
        } => {
            if let Some((field, text)) = details["fields"]
                .as_object()
                .and_then(|fields| fields.iter().next())
            {
                return (
                    Some(field.clone()),
                    text.as_str().unwrap_or(message).to_owned(),
                );
            }
            (None, message.clone())
        }
        Error::Conflict { message, .. } => (Some("email".into()), message.clone()),
        Error::Internal(_) => (None, "the line could not be written".into()),
        other => (None, other.to_string()),
    }
}

/// Parses one line, naming the offending field as a request body's errors do.
fn parse_line(text: &[u8]) -> Result<Line> {
    let deserializer = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        if inner.is_syntax() || inner.is_eof() {
            return Error::invalid(format!("the line is not valid JSON: {message}"));
        }
        let quoted = |m: &str| m.split('`').nth(1).map(str::to_owned);
        let field = if path == "." {
            quoted(&message)
        } else {
            Some(path)
        };
        match field {
            Some(field) => Error::invalid_field(&field, message),
            None => Error::invalid(message),
        }
    })
}

/// A parsed and prepared line, ready to write.
struct Ready {
    line: u64,
    prepared: users::PreparedUser,
    /// The line as given, for updates (only fields present change).
    raw: Line,
    /// (tenant, role) resolved.
    memberships: Vec<(Uuid, String)>,
    deactivated: bool,
}

/// An import in progress: feed it lines, then finish.
pub struct Importer {
    state: AppState,
    access: AppAccess,
    options: Options,
    meta: RequestMeta,
    report: Report,
    pending: Vec<(u64, Vec<u8>)>,
    tenants: HashMap<String, Uuid>,
    tenant_ids: std::collections::HashSet<Uuid>,
}

impl Importer {
    /// Starts an import (`user.update`, `role.assign` and `tenant.manage`).
    pub async fn start(
        state: &AppState,
        access: AppAccess,
        options: Options,
        meta: RequestMeta,
    ) -> Result<Self> {
        access.require(&[
            Permission::USER_UPDATE,
            Permission::ROLE_ASSIGN,
            Permission::TENANT_MANAGE,
        ])?;
        let rows: Vec<(Uuid, String)> = tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .column(tenant::Column::Slug)
            .filter(tenant::Column::AppId.eq(access.app().id))
            .into_tuple()
            .all(&*state.db)
            .await?;
        Ok(Self {
            state: state.clone(),
            options,
            meta,
            report: Report {
                dry_run: options.dry_run,
                ..Report::default()
            },
            tenant_ids: rows.iter().map(|(id, _)| *id).collect(),
            tenants: rows.into_iter().map(|(id, slug)| (slug, id)).collect(),
            access,
            pending: Vec::with_capacity(BATCH),
        })
    }

    /// The counts so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Takes one line (without its newline); blank lines are skipped silently.
    pub async fn line(&mut self, number: u64, text: Vec<u8>) -> Result<()> {
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(());
        }
        self.pending.push((number, text));
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// A line longer than [`MAX_LINE`]: reported, not read.
    pub fn too_long(&mut self, number: u64) {
        self.report.processed += 1;
        self.report.error(
            number,
            Error::invalid(format!("the line is longer than {MAX_LINE} bytes")),
        );
    }

    /// Writes what is pending and returns the report.
    pub async fn finish(mut self) -> Result<Report> {
        self.flush().await?;
        Ok(self.report)
    }

    async fn flush(&mut self) -> Result<()> {
        let lines = std::mem::take(&mut self.pending);
        if lines.is_empty() {
            return Ok(());
        }
        let app = self.access.app().clone();
        // Parse and prepare concurrently (hashing plaintext passwords is the slow part).
        let prepared = futures_util::future::join_all(lines.into_iter().map(|(n, text)| {
            let state = &self.state;
            let app = &app;
            let importer = &*self;
            async move { (n, importer.prepare(state, app, &text).await) }
        }))
        .await;
        let mut ready = Vec::with_capacity(prepared.len());
        for (n, outcome) in prepared {
            self.report.processed += 1;
            match outcome {
                Ok(mut r) => {
                    r.line = n;
                    ready.push(r);
                }
                Err(e) => self.report.error(n, e),
            }
        }
        if ready.is_empty() {
            return Ok(());
        }
        let txn = self.state.db.begin_write().await?;
        for item in ready {
            let line = item.line;
            let warnings = item.prepared.warnings.clone();
            txn.execute_unprepared("SAVEPOINT heimdall_import_line")
                .await?;
            match self.write(&txn, item).await {
                Ok(outcome) => {
                    txn.execute_unprepared("RELEASE SAVEPOINT heimdall_import_line")
                        .await?;
                    match outcome {
                        Outcome::Created => self.report.created += 1,
                        Outcome::Updated => self.report.updated += 1,
                        Outcome::Skipped => self.report.skipped += 1,
                    }
                    if outcome != Outcome::Skipped {
                        for w in warnings {
                            self.report.warn(line, w);
                        }
                    }
                }
                Err(e) => {
                    txn.execute_unprepared("ROLLBACK TO SAVEPOINT heimdall_import_line")
                        .await?;
                    txn.execute_unprepared("RELEASE SAVEPOINT heimdall_import_line")
                        .await?;
                    self.report.error(line, e);
                }
            }
        }
        if self.options.dry_run {
            // Dropped without commit: rolled back.
            drop(txn);
        } else {
            txn.commit().await?;
            self.state.authz.bump(app.id);
        }
        Ok(())
    }

    async fn prepare(
        &self,
        state: &AppState,
        app: &entity::app::Model,
        text: &[u8],
    ) -> Result<Ready> {
        let line: Line = parse_line(text)?;
        let mut memberships = Vec::with_capacity(line.tenants.len());
        for (i, m) in line.tenants.iter().enumerate() {
            let field = format!("tenants[{i}]");
            let id = match (&m.id, &m.slug) {
                (Some(id), _) => Some(*id).filter(|id| self.tenant_ids.contains(id)),
                (None, Some(slug)) => self.tenants.get(slug).copied(),
                (None, None) => {
                    return Err(Error::invalid_field(&field, "needs an id or a slug"));
                }
            }
            .ok_or_else(|| Error::invalid_field(&field, "no such tenant in this app"))?;
            let role = m.role.clone().unwrap_or_else(|| "member".to_owned());
            validate::role_name(&format!("{field}.role"), &role)?;
            memberships.push((id, role));
        }
        let deactivated = match line.status.as_deref() {
            None | Some(users::STATUS_ACTIVE) => false,
            Some(users::STATUS_DEACTIVATED) => true,
            Some(_) => {
                return Err(Error::invalid_field(
                    "status",
                    "must be active or deactivated",
                ));
            }
        };
        let prepared = users::prepare_with(
            state,
            app,
            NewUser {
                email: line.email.clone(),
                password: line.password.clone(),
                display_name: line.display_name.clone(),
                role: line.role.clone(),
                email_verified: line.email_verified,
            },
            UserExtras {
                password_hash: line.password_hash.clone(),
                user_metadata: line.user_metadata.clone(),
                app_metadata: line.app_metadata.clone(),
                created_at: line.created_at,
                ..UserExtras::default()
            },
        )
        .await?;
        Ok(Ready {
            line: 0,
            prepared,
            raw: line,
            memberships,
            deactivated,
        })
    }

    async fn write(&self, txn: &crate::db::WriteTxn, item: Ready) -> Result<Outcome> {
        let app_id = self.access.app().id;
        let actor = self.access.actor().clone();
        let granted = roles::require_existing(txn, app_id, "role", item.prepared.role()).await?;
        self.access.check_can_grant(&granted)?;
        for (_, role) in &item.memberships {
            let granted = roles::require_existing(txn, app_id, "tenants.role", role).await?;
            self.access.check_can_grant(&granted)?;
        }
        let existing = users::find_by_email(txn, app_id, item.prepared.email()).await?;
        let (user, outcome) = match existing {
            Some(current) => match self.options.on_conflict {
                OnConflict::Skip => return Ok(Outcome::Skipped),
                OnConflict::Fail => {
                    return Err(Error::invalid_field(
                        "email",
                        "a user with this email already exists in this app",
                    ));
                }
                OnConflict::Update => (self.update(txn, current, &item).await?, Outcome::Updated),
            },
            None => {
                let mut user = users::insert(txn, &self.state, app_id, item.prepared).await?;
                if item.deactivated {
                    let mut model = user.into_active_model();
                    model.status = Set(users::STATUS_DEACTIVATED.to_owned());
                    user = model.update(txn).await?;
                }
                audit::record(
                    txn,
                    &self.state,
                    &self.meta,
                    Entry::new(app_id, "user.created", actor.clone())
                        .target(Target::user(user.id))
                        .metadata(
                            json!({ "email": user.email, "role": user.role, "source": SOURCE }),
                        ),
                )
                .await?;
                (user, Outcome::Created)
            }
        };
        for (tenant_id, role) in &item.memberships {
            let now = self.state.now();
            let exists = tenant_member::Entity::find_by_id((*tenant_id, user.id))
                .one(txn)
                .await?;
            if let Some(current) = exists {
                if current.role != *role {
                    let previous = current.role.clone();
                    let mut model = current.into_active_model();
                    model.role = Set(role.clone());
                    model.updated_at = Set(now);
                    model.update(txn).await?;
                    audit::record(
                        txn,
                        &self.state,
                        &self.meta,
                        Entry::new(app_id, "tenant.member_updated", actor.clone())
                            .target(Target::user(user.id))
                            .metadata(json!({ "tenant_id": tenant_id, "user_id": user.id, "role": role, "previous_role": previous, "source": SOURCE })),
                    )
                    .await?;
                }
                continue;
            }
            tenant_member::ActiveModel {
                tenant_id: Set(*tenant_id),
                user_id: Set(user.id),
                app_id: Set(app_id),
                role: Set(role.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            audit::record(
                txn,
                &self.state,
                &self.meta,
                Entry::new(app_id, "tenant.member_added", actor.clone())
                    .target(Target::user(user.id))
                    .metadata(json!({ "tenant_id": tenant_id, "user_id": user.id, "role": role, "source": SOURCE })),
            )
            .await?;
        }
        Ok(outcome)
    }

    /// `on_conflict=update`: the fields the line has replace the stored ones.
    async fn update(
        &self,
        txn: &crate::db::WriteTxn,
        current: user::Model,
        item: &Ready,
    ) -> Result<user::Model> {
        let raw = &item.raw;
        let mut model = current.clone().into_active_model();
        let mut changed = Vec::new();
        if raw.display_name.is_some() && raw.display_name != current.display_name {
            model.display_name = Set(raw.display_name.clone());
            changed.push("display_name");
        }
        if raw.email_verified != current.email_verified {
            model.email_verified = Set(raw.email_verified);
            changed.push("email_verified");
        }
        if raw.role.is_some() && item.prepared.role() != current.role {
            model.role = Set(item.prepared.role().to_owned());
            changed.push("role");
        }
        if let Some(hash) = &raw.password_hash {
            model.password_hash = Set(Some(password_import::accept("password_hash", hash)?.hash));
            changed.push("password");
        } else if raw.password.is_some() {
            model.password_hash = Set(item.prepared.password_hash().map(str::to_owned));
            changed.push("password");
        }
        if let Some(m) = &raw.user_metadata {
            model.user_metadata = Set(Some(metadata::check("user_metadata", m)?));
            changed.push("user_metadata");
        }
        if let Some(m) = &raw.app_metadata {
            model.app_metadata = Set(Some(metadata::check("app_metadata", m)?));
            changed.push("app_metadata");
        }
        if raw.status.is_some() {
            let status = if item.deactivated {
                users::STATUS_DEACTIVATED
            } else {
                users::STATUS_ACTIVE
            };
            if status != current.status {
                model.status = Set(status.to_owned());
                changed.push("status");
            }
        }
        if changed.is_empty() {
            return Ok(current);
        }
        model.updated_at = Set(self.state.now());
        let updated = model.update(txn).await?;
        audit::record(
            txn,
            &self.state,
            &self.meta,
            Entry::new(
                self.access.app().id,
                "user.updated",
                self.access.actor().clone(),
            )
            .target(Target::user(updated.id))
            .metadata(json!({ "changed": changed, "source": SOURCE })),
        )
        .await?;
        Ok(updated)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Skipped,
}

/// What an export includes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    pub include_password_hashes: bool,
}

/// A running export: pages of users, each a block of JSON Lines.
pub struct Exporter {
    state: AppState,
    app_id: Uuid,
    after: Option<Uuid>,
    hashes: bool,
    done: bool,
}

/// Starts an export (`user.read`). Password hashes need the root key
/// ([`RootAccess`]) as well; the export is audited either way.
pub async fn export(
    state: &AppState,
    access: &AppAccess,
    root: Option<&RootAccess>,
    options: ExportOptions,
    meta: &RequestMeta,
) -> Result<Exporter> {
    access.require(&[Permission::USER_READ])?;
    if options.include_password_hashes && root.is_none() {
        return Err(Error::forbidden(
            "include_password_hashes=true requires a root key",
        ));
    }
    let app_id = access.app().id;
    let txn = state.db.begin_write().await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(app_id, "user.exported", access.actor().clone())
            .metadata(json!({ "include_password_hashes": options.include_password_hashes })),
    )
    .await?;
    Ok(Exporter {
        state: state.clone(),
        app_id,
        after: None,
        hashes: options.include_password_hashes,
        done: false,
    })
}

impl Exporter {
    /// The next block of lines, `None` at the end.
    pub async fn next_block(&mut self) -> Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        let mut select = user::Entity::find()
            .filter(user::Column::AppId.eq(self.app_id))
            .order_by_asc(user::Column::Id)
            .limit(500);
        if let Some(after) = self.after {
            select = select.filter(user::Column::Id.gt(after));
        }
        let page = select.all(&*self.state.db).await?;
        if page.len() < 500 {
            self.done = true;
        }
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some(last.id);
        let ids: Vec<Uuid> = page.iter().map(|u| u.id).collect();
        let memberships = tenant_member::Entity::find()
            .filter(tenant_member::Column::AppId.eq(self.app_id))
            .filter(tenant_member::Column::UserId.is_in(ids))
            .find_also_related(tenant::Entity)
            .all(&*self.state.db)
            .await?;
        let mut by_user: HashMap<Uuid, Vec<Value>> = HashMap::new();
        for (m, t) in memberships {
            if let Some(t) = t {
                by_user
                    .entry(m.user_id)
                    .or_default()
                    .push(json!({ "id": t.id, "slug": t.slug, "role": m.role }));
            }
        }
        let mut out = String::new();
        for u in page {
            let mut line = json!({
                "id": u.id,
                "email": u.email,
                "email_verified": u.email_verified,
                "display_name": u.display_name,
                "role": u.role,
                "status": u.status,
                "tenants": by_user.remove(&u.id).unwrap_or_default(),
                "user_metadata": metadata::object_of(&u.user_metadata),
                "app_metadata": metadata::object_of(&u.app_metadata),
                "created_at": u.created_at,
                "updated_at": u.updated_at,
                "last_sign_in_at": u.last_sign_in_at,
            });
            if self.hashes
                && let Some(hash) = &u.password_hash
            {
                line["password_hash"] = json!(hash);
            }
            out.push_str(&line.to_string());
            out.push('\n');
        }
        Ok(Some(out))
    }
}
