//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) per app at `/{slug}/scim/v2/`
//! (docs/src/importing-users-and-scim.md): Users are the app's users (`userName` and
//! the primary email are the user's email, `active` is the opposite of
//! deactivation), Groups are its tenants (members are tenant members). Attributes
//! Heimdall has no column for (`name`, `title`, the enterprise extension, …) are kept
//! verbatim and returned as sent.
//!
//! Lists are filtered, sorted and paged on the resources' JSON representation, with
//! the filter's `userName eq "…"` / `externalId eq "…"` served by the database.

pub mod discovery;
pub mod filter;
pub mod tokens;

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{tenant, tenant_member, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    access::AppAccess,
    db,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        roles, tenants,
        users::{self, NewUser, UserExtras, UserPatch},
        validate,
    },
    state::AppState,
};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Where SCIM's changes come from, in audit entries and events.
pub const SOURCE: &str = "scim";
/// Most resources one list answers.
pub const MAX_RESULTS: usize = 1000;
/// Most users a list filters in memory (beyond, a filter the database serves is needed).
const MAX_SCAN: u64 = 100_000;

/// A SCIM error (RFC 7644 §3.12): the HTTP status, `scimType` and `detail`.
#[derive(Debug, Clone)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        body
    }
}

impl From<Error> for ScimError {
    fn from(e: Error) -> Self {
        let status = e.status().as_u16();
        let scim_type = match &e {
            Error::InvalidRequest { .. } => Some("invalidValue"),
            Error::Conflict { .. } => Some("uniqueness"),
            _ => None,
        };
        let detail = match &e {
            Error::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        Self {
            status,
            scim_type,
            detail,
        }
    }
}

impl From<sea_orm::DbErr> for ScimError {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::from(e).into()
    }
}

pub type ScimResult<T> = std::result::Result<T, ScimError>;

fn base(state: &AppState, access: &AppAccess) -> String {
    base_url(state, &access.app().name)
}

/// Where the app's SCIM service is.
pub fn base_url(state: &AppState, slug: &str) -> String {
    format!("{}/scim/v2", state.issuer(slug))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn version(t: DateTime<Utc>) -> String {
    format!("W/\"{}\"", t.timestamp_micros())
}

/// Looks up `key` in an object ignoring case.
fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn remove_ci(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let found = map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()?;
    map.remove(&found)
}

// ---------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------

/// Attributes Heimdall maps to its own columns (everything else is kept as sent).
const USER_MAPPED: &[&str] = &[
    "schemas",
    "id",
    "meta",
    "externalId",
    "displayName",
    "active",
    "password",
    "groups",
];

/// The SCIM representation of a user.
pub fn user_resource(
    base: &str,
    u: &user::Model,
    groups: &[(tenant::Model, tenant_member::Model)],
) -> Value {
    let mut r = match &u.scim_attributes {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    for key in USER_MAPPED {
        remove_ci(&mut r, key);
    }
    let user_name = remove_ci(&mut r, "userName")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| u.email.clone());
    let emails = remove_ci(&mut r, "emails")
        .and_then(|v| v.as_array().cloned())
        .filter(|items| {
            items
                .iter()
                .any(|e| e.get("value").and_then(Value::as_str) == Some(u.email.as_str()))
        })
        .unwrap_or_else(|| vec![json!({ "value": u.email, "primary": true })]);
    let mut out = Map::new();
    let mut schemas = vec![json!(USER_SCHEMA)];
    if r.keys().any(|k| k.eq_ignore_ascii_case(ENTERPRISE_SCHEMA)) {
        schemas.push(json!(ENTERPRISE_SCHEMA));
    }
    out.insert("schemas".into(), json!(schemas));
    out.insert("id".into(), json!(u.id));
    if let Some(external) = &u.external_id {
        out.insert("externalId".into(), json!(external));
    }
    out.insert("userName".into(), json!(user_name));
    if let Some(name) = &u.display_name {
        out.insert("displayName".into(), json!(name));
    }
    out.insert("emails".into(), json!(emails));
    out.insert("active".into(), json!(u.status == users::STATUS_ACTIVE));
    out.extend(r);
    if !groups.is_empty() {
        out.insert(
            "groups".into(),
            json!(
                groups
                    .iter()
                    .map(|(t, _)| json!({
                        "value": t.id,
                        "display": t.name,
                        "$ref": format!("{base}/Groups/{}", t.id),
                        "type": "direct",
                    }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": time(u.created_at),
            "lastModified": time(u.updated_at),
            "location": format!("{base}/Users/{}", u.id),
            "version": version(u.updated_at),
        }),
    );
    Value::Object(out)
}

/// What a SCIM user body says, in Heimdall's terms.
struct UserInput {
    email: String,
    display_name: Option<String>,
    external_id: Option<String>,
    active: bool,
    password: Option<String>,
    attributes: Value,
}

fn string_at(map: &Map<String, Value>, key: &str) -> ScimResult<Option<String>> {
    match get_ci(map, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::invalid_value(format!("{key} must be a string"))),
    }
}

fn user_input(body: &Value) -> ScimResult<UserInput> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_value("the body must be a JSON object"));
    };
    let user_name = string_at(map, "userName")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    let emails: Vec<&Value> = match get_ci(map, "emails") {
        Some(Value::Array(items)) => items.iter().collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(ScimError::invalid_value("emails must be an array")),
    };
    let email_of = |e: &&Value| e.get("value").and_then(Value::as_str).map(str::to_owned);
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .and_then(email_of);
    let candidates = [
        Some(user_name.clone()),
        primary,
        emails.first().and_then(email_of),
    ];
    let email = candidates
        .iter()
        .flatten()
        .find_map(|c| validate::email("userName", c).ok())
        .ok_or_else(|| {
            ScimError::invalid_value(
                "userName or an email address in emails must be a valid email address",
            )
        })?;
    let display_name = string_at(map, "displayName")?.or_else(|| {
        let name = get_ci(map, "name")?.as_object()?;
        string_at(name, "formatted").ok().flatten().or_else(|| {
            let parts: Vec<String> = ["givenName", "familyName"]
                .iter()
                .filter_map(|k| string_at(name, k).ok().flatten())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    });
    let active = match get_ci(map, "active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(ScimError::invalid_value("active must be a boolean")),
    };
    let mut attributes = map.clone();
    for key in USER_MAPPED {
        remove_ci(&mut attributes, key);
    }
    if user_name == email {
        remove_ci(&mut attributes, "userName");
    } else {
        remove_ci(&mut attributes, "userName");
        attributes.insert("userName".into(), json!(user_name));
    }
    let attributes = Value::Object(attributes);
    if attributes.to_string().len() > 64 * 1024 {
        return Err(ScimError::invalid_value(
            "the user's attributes are too large",
        ));
    }
    Ok(UserInput {
        email,
        display_name,
        external_id: string_at(map, "externalId")?,
        active,
        password: string_at(map, "password")?,
        attributes,
    })
}

async fn groups_of(
    state: &AppState,
    access: &AppAccess,
    user_id: Uuid,
) -> Result<Vec<(tenant::Model, tenant_member::Model)>> {
    tenants::of_user(&*state.db, access.app().id, user_id).await
}

async fn find_user(state: &AppState, access: &AppAccess, id: &str) -> ScimResult<user::Model> {
    let id = Uuid::parse_str(id).map_err(|_| ScimError::not_found("user not found"))?;
    users::get(state, access, id).await.map_err(|e| match e {
        Error::NotFound(_) => ScimError::not_found("user not found"),
        other => other.into(),
    })
}

pub async fn get_user(state: &AppState, access: &AppAccess, id: &str) -> ScimResult<Value> {
    let user = find_user(state, access, id).await?;
    let groups = groups_of(state, access, user.id).await?;
    Ok(user_resource(&base(state, access), &user, &groups))
}

/// Refuses a `userName` another user of the app has (kept in the SCIM attributes).
async fn check_unique(
    state: &AppState,
    access: &AppAccess,
    input: &UserInput,
    except: Option<Uuid>,
) -> ScimResult<()> {
    let taken = users::find_by_email(&*state.db, access.app().id, &input.email)
        .await?
        .filter(|u| Some(u.id) != except);
    if taken.is_some() {
        return Err(ScimError::new(
            409,
            Some("uniqueness"),
            "a user with this userName or email already exists",
        ));
    }
    Ok(())
}

pub async fn create_user(
    state: &AppState,
    access: &AppAccess,
    body: &Value,
    meta: &RequestMeta,
) -> ScimResult<Value> {
    let input = user_input(body)?;
    check_unique(state, access, &input, None).await?;
    let (mut user, _) = users::create_with(
        state,
        access,
        NewUser {
            email: input.email.clone(),
            password: input.password.clone(),
            display_name: input.display_name.clone(),
            role: None,
            email_verified: true,
        },
        UserExtras {
            external_id: input.external_id.clone(),
            scim_attributes: Some(input.attributes.clone()),
            ..UserExtras::default()
        },
        Some(SOURCE),
        meta,
    )
    .await?;
    if !input.active {
        user = users::set_active_from(state, access, user.id, false, Some(SOURCE), meta).await?;
    }
    Ok(user_resource(&base(state, access), &user, &[]))
}

/// PUT: the body replaces the user's attributes.
pub async fn replace_user(
    state: &AppState,
    access: &AppAccess,
    id: &str,
    body: &Value,
    meta: &RequestMeta,
) -> ScimResult<Value> {
    let current = find_user(state, access, id).await?;
    let input = user_input(body)?;
    check_unique(state, access, &input, Some(current.id)).await?;
    let app_id = access.app().id;
    // The plain columns go through the users service (audited, caller-narrowed).
    let patched = users::update(
        state,
        access,
        current.id,
        UserPatch {
            email: (input.email != current.email).then(|| input.email.clone()),
            display_name: (input.display_name != current.display_name)
                .then(|| input.display_name.clone()),
            email_verified: Some(true),
            password: input.password.clone(),
            source: Some(SOURCE),
            ..UserPatch::default()
        },
        meta,
    )
    .await?;
    if patched.external_id != input.external_id
        || patched.scim_attributes.as_ref() != Some(&input.attributes)
    {
        let txn = state.db.begin_write().await?;
        let mut model = patched.clone().into_active_model();
        model.external_id = Set(input.external_id.clone());
        model.scim_attributes = Set(Some(input.attributes.clone()));
        model.updated_at = Set(state.now());
        model.update(&txn).await?;
        audit::commit(
            txn,
            state,
            meta,
            Entry::new(app_id, "user.updated", access.actor().clone())
                .target(Target::user(current.id))
                .metadata(json!({ "changed": ["scim_attributes"], "source": SOURCE })),
        )
        .await?;
    }
    if (current.status == users::STATUS_ACTIVE) != input.active {
        users::set_active_from(state, access, current.id, input.active, Some(SOURCE), meta).await?;
    }
    get_user(state, access, id).await
}

/// PATCH (RFC 7644 §3.5.2): the operations apply to the user's representation,
/// which then replaces the user.
pub async fn patch_user(
    state: &AppState,
    access: &AppAccess,
    id: &str,
    body: &Value,
    meta: &RequestMeta,
) -> ScimResult<Value> {
    let mut resource = get_user(state, access, id).await?;
    apply_patch(&mut resource, body, &["id", "meta", "groups", "schemas"])?;
    replace_user(state, access, id, &resource, meta).await
}

pub async fn delete_user(
    state: &AppState,
    access: &AppAccess,
    id: &str,
    meta: &RequestMeta,
) -> ScimResult<()> {
    let user = find_user(state, access, id).await?;
    users::delete_from(state, access, user.id, Some(SOURCE), meta).await?;
    Ok(())
}

/// List parameters (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
}

/// The list response: `startIndex` is 1-based; a `count` of 0 answers the total only.
fn list_response(mut resources: Vec<Value>, query: &ListQuery) -> ScimResult<Value> {
    if let Some(sort_by) = &query.sort_by {
        let path = filter::attr_path(sort_by).map_err(ScimError::invalid_value)?;
        let key = |r: &Value| {
            filter::values_at(r, &path).first().map(|v| match v {
                Value::String(s) => s.to_lowercase(),
                other => other.to_string(),
            })
        };
        resources.sort_by_key(&key);
        // Resources without the attribute go last in ascending order (RFC 7644 §3.4.2.3).
        let (mut with, without): (Vec<Value>, Vec<Value>) =
            resources.into_iter().partition(|r| key(r).is_some());
        if query
            .sort_order
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("descending"))
        {
            with.reverse();
        }
        resources = with;
        resources.extend(without);
    }
    let total = resources.len();
    let start = query.start_index.unwrap_or(1).max(1);
    let count = query.count.unwrap_or(100).clamp(0, MAX_RESULTS as i64) as usize;
    let page: Vec<Value> = resources
        .into_iter()
        .skip(usize::try_from(start - 1).unwrap_or(usize::MAX))
        .take(count)
        .collect();
    Ok(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    }))
}

/// A top-level `attr eq "value"` the database can serve.
fn simple_eq(filter: &filter::Filter, attr: &str) -> Option<String> {
    match filter {
        filter::Filter::Compare {
            path,
            op: filter::Op::Eq,
            value: Value::String(v),
        } if path.len() == 1 && path[0] == attr => Some(v.clone()),
        filter::Filter::And(a, b) => simple_eq(a, attr).or_else(|| simple_eq(b, attr)),
        _ => None,
    }
}

pub async fn list_users(
    state: &AppState,
    access: &AppAccess,
    query: &ListQuery,
) -> ScimResult<Value> {
    users::may_list(access)?;
    let parsed = query
        .filter
        .as_deref()
        .map(filter::parse)
        .transpose()
        .map_err(ScimError::invalid_filter)?;
    let app_id = access.app().id;
    let mut select = user::Entity::find()
        .filter(user::Column::AppId.eq(app_id))
        .order_by_asc(user::Column::Id);
    if let Some(f) = &parsed {
        if let Some(name) = simple_eq(f, "username")
            && let Ok(email) = validate::email("userName", &name)
        {
            // userName is the email, or kept verbatim beside it: both are candidates.
            select = select.filter(
                sea_orm::Condition::any()
                    .add(user::Column::Email.eq(email))
                    .add(user::Column::ScimAttributes.is_not_null()),
            );
        }
        if let Some(external) = simple_eq(f, "externalid") {
            select = select.filter(user::Column::ExternalId.eq(external));
        }
    }
    use sea_orm::QuerySelect;
    let found = select.limit(MAX_SCAN).all(&*state.db).await?;
    let ids: Vec<Uuid> = found.iter().map(|u| u.id).collect();
    let mut by_user: std::collections::HashMap<Uuid, Vec<(tenant::Model, tenant_member::Model)>> =
        std::collections::HashMap::new();
    for (t, m) in memberships_of(state, app_id, &ids).await? {
        by_user.entry(m.user_id).or_default().push((t, m));
    }
    let base = base(state, access);
    let resources: Vec<Value> = found
        .iter()
        .map(|u| {
            let groups = by_user.get(&u.id).map(Vec::as_slice).unwrap_or_default();
            user_resource(&base, u, groups)
        })
        .filter(|r| parsed.as_ref().is_none_or(|f| filter::matches(f, r)))
        .collect();
    list_response(resources, query)
}

async fn memberships_of(
    state: &AppState,
    app_id: Uuid,
    user_ids: &[Uuid],
) -> Result<Vec<(tenant::Model, tenant_member::Model)>> {
    let mut out = Vec::new();
    for chunk in user_ids.chunks(500) {
        let rows = tenant_member::Entity::find()
            .filter(tenant_member::Column::AppId.eq(app_id))
            .filter(tenant_member::Column::UserId.is_in(chunk.to_vec()))
            .find_also_related(tenant::Entity)
            .all(&*state.db)
            .await?;
        out.extend(rows.into_iter().filter_map(|(m, t)| t.map(|t| (t, m))));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Groups (tenants)
// ---------------------------------------------------------------------------

fn group_resource(
    base: &str,
    t: &tenant::Model,
    members: &[(tenant_member::Model, String)],
) -> Value {
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": t.id,
        "displayName": t.name,
        "members": members
            .iter()
            .map(|(m, _email)| json!({
                "value": m.user_id,
                "type": "User",
                "$ref": format!("{base}/Users/{}", m.user_id),
            }))
            .collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Group",
            "created": time(t.created_at),
            "lastModified": time(t.updated_at),
            "location": format!("{base}/Groups/{}", t.id),
            "version": version(t.updated_at),
        },
    });
    if let Some(external) = &t.external_id {
        out["externalId"] = json!(external);
    }
    if members.is_empty()
        && let Some(map) = out.as_object_mut()
    {
        map.remove("members");
    }
    out
}

async fn members_of(
    state: &AppState,
    app_id: Uuid,
    tenant_id: Uuid,
) -> Result<Vec<(tenant_member::Model, String)>> {
    let rows = tenant_member::Entity::find()
        .filter(tenant_member::Column::AppId.eq(app_id))
        .filter(tenant_member::Column::TenantId.eq(tenant_id))
        .find_also_related(user::Entity)
        .order_by_asc(tenant_member::Column::UserId)
        .all(&*state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, u)| u.map(|u| (m, u.email)))
        .collect())
}

async fn find_group(state: &AppState, access: &AppAccess, id: &str) -> ScimResult<tenant::Model> {
    access.require(&[crate::access::Permission::TENANT_MANAGE])?;
    let id = Uuid::parse_str(id).map_err(|_| ScimError::not_found("group not found"))?;
    tenants::find(&*state.db, access.app().id, id)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => ScimError::not_found("group not found"),
            other => other.into(),
        })
}

pub async fn get_group(state: &AppState, access: &AppAccess, id: &str) -> ScimResult<Value> {
    let group = find_group(state, access, id).await?;
    let members = members_of(state, access.app().id, group.id).await?;
    Ok(group_resource(&base(state, access), &group, &members))
}

struct GroupInput {
    name: String,
    external_id: Option<String>,
    members: Vec<Uuid>,
}

fn group_input(body: &Value) -> ScimResult<GroupInput> {
    let Value::Object(map) = body else {
        return Err(ScimError::invalid_value("the body must be a JSON object"));
    };
    let name = string_at(map, "displayName")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
    let name = validate::display_text("displayName", &name, 200)?;
    let mut members = Vec::new();
    match get_ci(map, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let value = item
                    .get("value")
                    .and_then(Value::as_str)
                    .and_then(|v| Uuid::parse_str(v).ok())
                    .ok_or_else(|| ScimError::invalid_value("members[].value must be a user id"))?;
                if !members.contains(&value) {
                    members.push(value);
                }
            }
        }
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    }
    Ok(GroupInput {
        name,
        external_id: string_at(map, "externalId")?,
        members,
    })
}

/// A tenant slug from a group's name: lowercased, other characters as '-', with a
/// random suffix (group names need not be unique, slugs are).
fn slug_for(name: &str) -> String {
    let mut slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug = slug.trim_matches('-').chars().take(40).collect();
    let suffix: String = Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(8)
        .collect();
    if slug.is_empty() {
        format!("group-{suffix}")
    } else {
        format!("{slug}-{suffix}")
    }
}

/// Sets the group's members to exactly `wanted` (added as `member`), audited.
async fn set_members(
    state: &AppState,
    access: &AppAccess,
    txn: &db::WriteTxn,
    tenant_id: Uuid,
    wanted: &[Uuid],
    meta: &RequestMeta,
) -> ScimResult<()> {
    let app_id = access.app().id;
    let current: HashSet<Uuid> = tenant_member::Entity::find()
        .filter(tenant_member::Column::TenantId.eq(tenant_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let wanted_set: HashSet<Uuid> = wanted.iter().copied().collect();
    let now = state.now();
    for user_id in wanted.iter().filter(|u| !current.contains(u)) {
        users::find(txn, app_id, *user_id)
            .await
            .map_err(|_| ScimError::invalid_value(format!("member {user_id} is not a user")))?;
        tenant_member::ActiveModel {
            tenant_id: Set(tenant_id),
            user_id: Set(*user_id),
            app_id: Set(app_id),
            role: Set("member".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(txn)
        .await?;
        audit::record(
            txn,
            state,
            meta,
            Entry::new(app_id, "tenant.member_added", access.actor().clone())
                .target(Target::user(*user_id))
                .metadata(json!({ "tenant_id": tenant_id, "user_id": user_id, "role": "member", "source": SOURCE })),
        )
        .await?;
    }
    for user_id in current.iter().filter(|u| !wanted_set.contains(u)) {
        let membership = tenant_member::Entity::find_by_id((tenant_id, *user_id))
            .one(txn)
            .await?;
        if let Some(m) = membership {
            access.check_can_grant(&roles::permissions_of(txn, app_id, &m.role).await?)?;
        }
        tenant_member::Entity::delete_by_id((tenant_id, *user_id))
            .exec(txn)
            .await?;
        entity::session::Entity::update_many()
            .col_expr(
                entity::session::Column::TenantId,
                sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
            )
            .filter(entity::session::Column::TenantId.eq(tenant_id))
            .filter(entity::session::Column::UserId.eq(*user_id))
            .exec(txn)
            .await?;
        audit::record(
            txn,
            state,
            meta,
            Entry::new(app_id, "tenant.member_removed", access.actor().clone())
                .target(Target::user(*user_id))
                .metadata(json!({ "tenant_id": tenant_id, "user_id": user_id, "source": SOURCE })),
        )
        .await?;
    }
    Ok(())
}

pub async fn create_group(
    state: &AppState,
    access: &AppAccess,
    body: &Value,
    meta: &RequestMeta,
) -> ScimResult<Value> {
    access.require(&[crate::access::Permission::TENANT_MANAGE])?;
    let input = group_input(body)?;
    let app_id = access.app().id;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let created = tenant::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(app_id),
        slug: Set(slug_for(&input.name)),
        name: Set(input.name.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        require_mfa: Set(false),
        external_id: Set(input.external_id.clone()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        state,
        meta,
        Entry::new(app_id, "tenant.created", access.actor().clone())
            .target(Target::new("tenant", created.id))
            .metadata(json!({ "slug": created.slug, "name": created.name, "source": SOURCE })),
    )
    .await?;
    set_members(state, access, &txn, created.id, &input.members, meta).await?;
    txn.commit().await?;
    state.authz.bump(app_id);
    get_group(state, access, &created.id.to_string()).await
}

pub async fn replace_group(
    state: &AppState,
    access: &AppAccess,
    id: &str,
    body: &Value,
    meta: &RequestMeta,
) -> ScimResult<Value> {
    let current = find_group(state, access, id).await?;
    let input = group_input(body)?;
    let app_id = access.app().id;
    let txn = state.db.begin_write().await?;
    if current.name != input.name || current.external_id != input.external_id {
        let mut model = current.clone().into_active_model();
        model.name = Set(input.name.clone());
        model.external_id = Set(input.external_id.clone());
        model.updated_at = Set(state.now());
        model.update(&txn).await?;
        audit::record(
            &txn,
            state,
            meta,
            Entry::new(app_id, "tenant.updated", access.actor().clone())
                .target(Target::new("tenant", current.id))
                .metadata(json!({ "name": input.name, "source": SOURCE })),
        )
        .await?;
    }
    set_members(state, access, &txn, current.id, &input.members, meta).await?;
    txn.commit().await?;
    state.authz.bump(app_id);
    get_group(state, access, id).await
}

pub async fn patch_group(
    state: &AppState,
    access: &AppAccess,
    id: &str,
    body: &Value,
    meta: &RequestMeta,
) -> ScimResult<Value> {
    let mut resource = get_group(state, access, id).await?;
    apply_patch(&mut resource, body, &["id", "meta", "schemas"])?;
    replace_group(state, access, id, &resource, meta).await
}

pub async fn delete_group(
    state: &AppState,
    access: &AppAccess,
    id: &str,
    meta: &RequestMeta,
) -> ScimResult<()> {
    let group = find_group(state, access, id).await?;
    tenants::delete_from(state, access, group.id, Some(SOURCE), meta).await?;
    Ok(())
}

pub async fn list_groups(
    state: &AppState,
    access: &AppAccess,
    query: &ListQuery,
) -> ScimResult<Value> {
    access.require(&[crate::access::Permission::TENANT_MANAGE])?;
    let parsed = query
        .filter
        .as_deref()
        .map(filter::parse)
        .transpose()
        .map_err(ScimError::invalid_filter)?;
    let app_id = access.app().id;
    use sea_orm::QuerySelect;
    let groups = tenant::Entity::find()
        .filter(tenant::Column::AppId.eq(app_id))
        .order_by_asc(tenant::Column::Id)
        .limit(MAX_SCAN)
        .all(&*state.db)
        .await?;
    let base = base(state, access);
    let mut resources = Vec::new();
    for g in &groups {
        let members = members_of(state, app_id, g.id).await?;
        let r = group_resource(&base, g, &members);
        if parsed.as_ref().is_none_or(|f| filter::matches(f, &r)) {
            resources.push(r);
        }
    }
    list_response(resources, query)
}

// ---------------------------------------------------------------------------
// PATCH operations on a representation
// ---------------------------------------------------------------------------

/// Applies a PatchOp body to `resource`; attributes in `read_only` cannot be targeted.
pub fn apply_patch(resource: &mut Value, body: &Value, read_only: &[&str]) -> ScimResult<()> {
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_value("Operations must be an array"))?;
    if operations.len() > 1000 {
        return Err(ScimError::invalid_value("too many operations"));
    }
    for operation in operations {
        let op = operation
            .get("op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| ScimError::invalid_value("each operation needs an op"))?;
        let path = operation.get("path").and_then(Value::as_str);
        let value = operation.get("value").cloned();
        match (op.as_str(), path) {
            ("add" | "replace", None) => {
                let Some(Value::Object(map)) = value else {
                    return Err(ScimError::invalid_value(
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, v) in map {
                    set_path(resource, &key, Some(v), op == "add", read_only)?;
                }
            }
            ("add" | "replace", Some(path)) => {
                let value =
                    value.ok_or_else(|| ScimError::invalid_value("the operation needs a value"))?;
                set_path(resource, path, Some(value), op == "add", read_only)?;
            }
            ("remove", Some(path)) => set_path(resource, path, None, false, read_only)?,
            ("remove", None) => {
                return Err(ScimError::new(400, Some("noTarget"), "remove needs a path"));
            }
            (other, _) => {
                return Err(ScimError::invalid_value(format!("unknown op '{other}'")));
            }
        }
    }
    Ok(())
}

/// Splits an extension URN off a path: `urn:…:User:employeeNumber` →
/// (`Some(urn)`, `employeeNumber`).
fn split_urn(path: &str) -> (Option<String>, String) {
    let lower = path.to_ascii_lowercase();
    for urn in [USER_SCHEMA, GROUP_SCHEMA] {
        if let Some(rest) = lower.strip_prefix(&format!("{}:", urn.to_ascii_lowercase())) {
            return (None, path[path.len() - rest.len()..].to_owned());
        }
    }
    if lower.starts_with(&ENTERPRISE_SCHEMA.to_ascii_lowercase()) {
        let rest = &path[ENTERPRISE_SCHEMA.len()..];
        return (
            Some(ENTERPRISE_SCHEMA.to_owned()),
            rest.trim_start_matches(':').to_owned(),
        );
    }
    (None, path.to_owned())
}

fn object_mut<'a>(value: &'a mut Value, key: &str) -> &'a mut Value {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => {
            let existing = map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
            map.entry(existing.unwrap_or_else(|| key.to_owned()))
                .or_insert(Value::Null)
        }
        // Made an object just above.
        other => other,
    }
}

fn set_path(
    resource: &mut Value,
    path: &str,
    value: Option<Value>,
    add: bool,
    read_only: &[&str],
) -> ScimResult<()> {
    let (urn, rest) = split_urn(path);
    let target: &mut Value = match &urn {
        Some(urn) => object_mut(resource, urn),
        None => resource,
    };
    if urn.is_some() && rest.is_empty() {
        // The extension object itself.
        return match value {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    set_path(target, &k, Some(v), add, &[])?;
                }
                Ok(())
            }
            Some(_) => Err(ScimError::invalid_value(
                "an extension's value must be an object",
            )),
            None => {
                *target = Value::Null;
                Ok(())
            }
        };
    }
    let parsed = filter::parse_patch_path(&rest).map_err(ScimError::invalid_path)?;
    match parsed {
        filter::Filter::Present(parts) => {
            if urn.is_none() && read_only.iter().any(|r| r.eq_ignore_ascii_case(&parts[0])) {
                return Err(ScimError::new(
                    400,
                    Some("mutability"),
                    format!("{} cannot be changed", parts[0]),
                ));
            }
            let original: Vec<&str> = rest.split('.').collect();
            let mut at = &mut *target;
            for part in &original[..original.len() - 1] {
                at = object_mut(at, part);
            }
            let last = original[original.len() - 1];
            let slot = object_mut(at, last);
            match value {
                None => *slot = Value::Null,
                Some(Value::Array(items)) if add => match slot {
                    Value::Array(existing) => {
                        for item in items {
                            if !existing.contains(&item) {
                                existing.push(item);
                            }
                        }
                    }
                    other => *other = Value::Array(items),
                },
                Some(Value::Object(map)) if slot.is_object() => {
                    for (k, v) in map {
                        *object_mut(slot, &k) = v;
                    }
                }
                Some(v) => *slot = v,
            }
            prune_nulls(target);
            Ok(())
        }
        filter::Filter::ValuePath { path, inner, sub } => {
            let key = path.join(".");
            if read_only.iter().any(|r| r.eq_ignore_ascii_case(&key)) {
                return Err(ScimError::new(
                    400,
                    Some("mutability"),
                    format!("{key} cannot be changed"),
                ));
            }
            let slot = object_mut(target, &key);
            let Value::Array(items) = slot else {
                return Err(ScimError::new(
                    400,
                    Some("noTarget"),
                    format!("{key} has no values"),
                ));
            };
            let mut matched = false;
            let mut kept = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                if !filter::matches(&inner, &item) {
                    kept.push(item);
                    continue;
                }
                matched = true;
                match (&sub, &value) {
                    (None, None) => {}
                    (Some(sub), None) => {
                        if let Value::Object(map) = &mut item {
                            remove_ci(map, sub);
                        }
                        kept.push(item);
                    }
                    (None, Some(v)) => kept.push(v.clone()),
                    (Some(sub), Some(v)) => {
                        *object_mut(&mut item, sub) = v.clone();
                        kept.push(item);
                    }
                }
            }
            *items = kept;
            if !matched && value.is_some() {
                return Err(ScimError::new(
                    400,
                    Some("noTarget"),
                    "no value matches the path's filter",
                ));
            }
            Ok(())
        }
        _ => Err(ScimError::invalid_path("unsupported path")),
    }
}

/// Removes `null` members of objects (a removed attribute is absent).
fn prune_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        for v in map.values_mut() {
            prune_nulls(v);
        }
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) on one resource: `id` and
/// `schemas` are always returned.
pub fn project(resource: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    let Value::Object(map) = resource else { return };
    let names = |text: &str| -> Vec<String> {
        text.split(',')
            .map(|a| {
                let (_, rest) = split_urn(a.trim());
                rest.split('.')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            })
            .filter(|a| !a.is_empty())
            .collect()
    };
    if let Some(attributes) = attributes.filter(|a| !a.trim().is_empty()) {
        let keep = names(attributes);
        map.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            k == "id" || k == "schemas" || keep.contains(&k)
        });
    } else if let Some(excluded) = excluded {
        let drop = names(excluded);
        map.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            k == "id" || k == "schemas" || !drop.contains(&k)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_apply_to_the_representation() {
        let mut user = json!({
            "userName": "a@example.com",
            "emails": [{"value": "a@example.com", "type": "work", "primary": true}],
            "name": {"givenName": "A"},
            "active": true,
        });
        apply_patch(
            &mut user,
            &json!({"Operations": [
                {"op": "replace", "path": "active", "value": false},
                {"op": "add", "path": "name.familyName", "value": "B"},
                {"op": "replace", "value": {"displayName": "A B"}},
                {"op": "add", "path": "emails", "value": [{"value": "x@example.com", "type": "home"}]},
                {"op": "remove", "path": "emails[type eq \"home\"]"},
                {"op": "replace", "path": "emails[type eq \"work\"].display", "value": "Work"},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
            ]}),
            &["id"],
        )
        .unwrap();
        assert_eq!(user["active"], false);
        assert_eq!(user["name"], json!({"givenName": "A", "familyName": "B"}));
        assert_eq!(user["displayName"], "A B");
        assert_eq!(user["emails"].as_array().unwrap().len(), 1);
        assert_eq!(user["emails"][0]["display"], "Work");
        assert_eq!(user[ENTERPRISE_SCHEMA]["department"], "R&D");
        assert!(apply_patch(&mut user, &json!({"Operations": [{"op": "remove"}]}), &[]).is_err());
        assert!(
            apply_patch(
                &mut user,
                &json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}),
                &["id"]
            )
            .is_err()
        );
    }
}
