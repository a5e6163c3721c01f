//! The OpenAPI 3.1 document of the REST surface (docs/src/api-conventions.md#openapi),
//! served at `GET /openapi.json` and committed as `openapi.json` (a test keeps the
//! two equal, and another fails on a route of the router this table does not name).
//!
//! The schemas come from the handlers' own request and response types
//! (`#[derive(utoipa::ToSchema)]` beside their `Serialize`/`Deserialize`), so a field
//! added to a DTO shows in the document; the operation table below says, per route,
//! which lane and credential it takes, which body it reads and what it answers.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use super::{
    api_keys, api_resources, apps, audit_log, authorize, consumer, federation, lifecycle, m2m, mfa,
    oauth_clients, oauth_ext, roles, scim, signing_keys, tenants, users, verify, webhooks,
};

/// The component schemas derived from the handlers' types (nested ones are collected
/// by utoipa).
#[derive(OpenApi)]
#[openapi(components(schemas(
    apps::AppDto,
    apps::CreateApp,
    apps::UpdateApp,
    api_keys::ApiKeyDto,
    api_keys::CreateApiKey,
    api_resources::ApiResourceDto,
    api_resources::ResourceBody,
    audit_log::AuditEntryDto,
    audit_log::PartyDto,
    authorize::ConsentBody,
    consumer::SignupBody,
    consumer::SigninBody,
    consumer::RefreshBody,
    consumer::MeDto,
    consumer::UpdateMe,
    consumer::ChangePassword,
    federation::IdentityDto,
    federation::AppleBody,
    federation::OidcBody,
    federation::NativeBody,
    federation::NativeUser,
    lifecycle::InviteDto,
    lifecycle::CreateInvite,
    lifecycle::AcceptInvite,
    lifecycle::EmailBody,
    lifecycle::TokenBody,
    lifecycle::ResetBody,
    m2m::M2mClientDto,
    m2m::CreateClient,
    m2m::UpdateClient,
    m2m::Rotate,
    mfa::FactorDto,
    mfa::NameBody,
    mfa::CodeBody,
    mfa::CeremonyBody,
    mfa::VerifyBody,
    mfa::TokenBody,
    oauth_clients::ClientDto,
    oauth_clients::ClientBody,
    oauth_ext::InitialTokenDto,
    oauth_ext::MintInitialToken,
    roles::RoleDto,
    roles::RoleBody,
    roles::UpdateRole,
    roles::SyncBody,
    scim::ScimTokenDto,
    scim::CreateScimToken,
    signing_keys::SigningKeyDto,
    signing_keys::Rotate,
    tenants::TenantDto,
    tenants::MemberDto,
    tenants::CreateTenant,
    tenants::UpdateTenant,
    tenants::AddMember,
    tenants::UpdateMember,
    users::UserDto,
    users::SessionDto,
    users::CreateUser,
    users::UpdateUser,
    verify::Check,
    verify::Batch,
    webhooks::WebhookDto,
    webhooks::AttemptDto,
    webhooks::DeliveryDto,
    webhooks::CreateWebhook,
    webhooks::UpdateWebhook,
    webhooks::Rotate,
)))]
struct DerivedSchemas;

/// Who may call an operation (the security requirement it lists).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// A root key only.
    Root,
    /// The admin lane: a root key or the app's key.
    Keys,
    /// The consumer-API admin lane: keys, or an end user's token with the permissions.
    AppAccess,
    /// An end user's access token (Bearer, or DPoP-bound).
    User,
    /// Any bearer of the app: end user, machine client, OAuth access token.
    Bearer,
    /// OAuth client authentication (Basic, or `client_id`/`client_secret` in the body).
    Client,
    /// An OAuth client's registration access token (RFC 7592).
    Registration,
    /// A SCIM provisioning token.
    Scim,
    /// No credential.
    Public,
    /// An end user's token when present (the API path of the authorization endpoint).
    OptionalUser,
}

/// The request body an operation reads.
#[derive(Clone, Copy)]
enum Body {
    None,
    /// JSON of a named schema.
    Json(&'static str),
    /// JSON of a named schema, or no body at all.
    OptionalJson(&'static str),
    /// OAuth parameters: `application/x-www-form-urlencoded`, or a JSON object.
    Params(&'static str),
    /// A SCIM resource (`application/scim+json` or JSON).
    Scim,
    /// JSON Lines, one user per line.
    JsonLines,
}

/// A success answer.
#[derive(Clone, Copy)]
enum Reply {
    /// `{"data": <schema>, "_links": {"self": …}}` with this status.
    Resource(u16, &'static str),
    /// `{"data": [<schema>], "next_cursor": …}`.
    List(&'static str),
    /// A bare JSON body of a named schema.
    Json(u16, &'static str),
    /// A JSON body whose shape the operation's description gives.
    AnyJson(u16),
    /// No body.
    Empty(u16),
    /// An HTML page.
    Html(u16),
    /// A redirect (`Location`).
    Redirect(u16),
    /// A SCIM resource or list.
    Scim(u16),
    /// JSON Lines.
    JsonLines,
    /// An embedded script or stylesheet.
    Asset,
}

/// Which error body the operation's 4xx answers carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Errors {
    /// `{"error": {"code", "message", "details"?}}` (docs/src/api-conventions.md).
    Rest,
    /// RFC 6749 `{"error", "error_description"}`.
    OAuth,
    /// Either: protocol endpoints that check a bearer before their OAuth parameters.
    Either,
    /// RFC 7644 §3.12.
    Scim,
    /// Browser flows: the REST or OAuth error as JSON, or an HTML error page.
    Page,
}

struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    body: Body,
    ok: &'static [Reply],
    errors: Errors,
    /// Query parameters other than pagination: (name, JSON type, description).
    query: &'static [(&'static str, &'static str, &'static str)],
}

// One line of the operation table per route: positional on purpose, so the table
// below stays one aligned row per route.
#[allow(clippy::too_many_arguments)]
const fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    body: Body,
    ok: &'static [Reply],
) -> Op {
    Op {
        method,
        path,
        id,
        tag,
        summary,
        auth,
        body,
        ok,
        errors: Errors::Rest,
        query: &[],
    }
}

impl Op {
    const fn errors(mut self, errors: Errors) -> Self {
        self.errors = errors;
        self
    }

    const fn query(mut self, query: &'static [(&'static str, &'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }
}

use Auth::*;
use Body::{Json as JsonBody, None as NoBody, OptionalJson, Params};
use Reply::{AnyJson, Empty, Html, List, Redirect, Resource};

const USER_FILTERS: &[(&str, &str, &str)] = &[
    ("email", "string", "Exact (normalised) email."),
    ("role", "string", "App-level role name."),
    ("status", "string", "`active` or `deactivated`."),
    ("tenant_id", "string", "Members of this tenant."),
];
const AUDIT_FILTERS: &[(&str, &str, &str)] = &[
    ("action", "string", "e.g. `user.created`."),
    ("actor_id", "string", "The actor's id."),
    ("target_id", "string", "The target's id."),
    ("since", "string", "RFC 3339 time, inclusive."),
    ("until", "string", "RFC 3339 time, exclusive."),
];
const REASSIGN: &[(&str, &str, &str)] = &[(
    "reassign_to",
    "string",
    "Role given to the role's holders before it is deleted.",
)];
const SYNC: &[(&str, &str, &str)] = &[
    (
        "dry_run",
        "string",
        "`true`: answer the diff without applying it.",
    ),
    (
        "reassign_to",
        "string",
        "Role given to holders of deleted roles.",
    ),
];
const DELIVERY_FILTER: &[(&str, &str, &str)] =
    &[("status", "string", "`pending`, `succeeded` or `failed`.")];
const IMPORT: &[(&str, &str, &str)] = &[
    ("on_conflict", "string", "`skip`, `update` or `fail`."),
    ("dry_run", "boolean", "Validate without writing."),
];
const EXPORT: &[(&str, &str, &str)] = &[(
    "include_password_hashes",
    "boolean",
    "Include the stored password hashes.",
)];
const AUTHORIZE_QUERY: &[(&str, &str, &str)] = &[
    ("response_type", "string", "`code`."),
    ("client_id", "string", "The OAuth client."),
    ("redirect_uri", "string", "Exactly as registered."),
    ("scope", "string", "Space-separated scopes."),
    ("state", "string", "Echoed in the redirect."),
    ("nonce", "string", "Copied into the ID token."),
    ("code_challenge", "string", "PKCE S256 challenge."),
    ("code_challenge_method", "string", "`S256`."),
    ("request_uri", "string", "A pushed request (RFC 9126)."),
    ("prompt", "string", "`none`, `login` or `consent`."),
];
const RETURN_TO: &[(&str, &str, &str)] = &[(
    "return_to",
    "string",
    "Same-origin location to return to afterwards.",
)];

/// Every REST and protocol route (the router's hosted HTML pages, the console and
/// `/graphql` are not REST; `tests/api/openapi.rs` lists them). One line each, as a
/// table reads.
#[rustfmt::skip]
static OPS: &[Op] = &[
    // Operations.
    op("get", "/healthz", "healthz", "operations", "Process up", Public, NoBody, &[Reply::Json(200, "Health")]),
    op("get", "/readyz", "readyz", "operations", "Database reachable (503 when not)", Public, NoBody, &[Reply::Json(200, "Health"), Reply::Json(503, "ErrorEnvelope")]),
    op("get", "/openapi.json", "openapi", "operations", "This document", Public, NoBody, &[AnyJson(200)]),
    op("get", "/docs/api", "apiReference", "operations", "The browsable API reference (Swagger UI)", Public, NoBody, &[Html(200)]),
    op("get", "/docs/api/assets/{file}", "apiReferenceAsset", "operations", "An embedded asset of the API reference", Public, NoBody, &[Reply::Asset]),
    // Apps.
    op("post", "/v1/apps", "createApp", "apps", "Create an app", Root, JsonBody("CreateApp"), &[Resource(201, "AppDto")]),
    op("get", "/v1/apps", "listApps", "apps", "List apps (a root key: all; an app key: its app)", Keys, NoBody, &[List("AppDto")]),
    op("get", "/v1/apps/{app}", "getApp", "apps", "Read an app", Keys, NoBody, &[Resource(200, "AppDto")]),
    op("patch", "/v1/apps/{app}", "updateApp", "apps", "Change an app (settings merge)", Keys, JsonBody("UpdateApp"), &[Resource(200, "AppDto")]),
    op("delete", "/v1/apps/{app}", "deleteApp", "apps", "Delete an app and everything in it", Root, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/api-keys", "createApiKey", "apps", "Create an app key (`hm_pak_…`, shown once)", Keys, JsonBody("CreateApiKey"), &[Resource(201, "ApiKeyDto")]),
    op("get", "/v1/apps/{app}/api-keys", "listApiKeys", "apps", "List app keys", Keys, NoBody, &[List("ApiKeyDto")]),
    op("delete", "/v1/apps/{app}/api-keys/{id}", "revokeApiKey", "apps", "Revoke an app key", Keys, NoBody, &[Empty(204)]),
    op("get", "/v1/apps/{app}/signing-keys", "listSigningKeys", "signing keys", "List signing keys (public parts)", Keys, NoBody, &[Reply::Json(200, "SigningKeyList")]),
    op("post", "/v1/apps/{app}/signing-keys/rotate", "rotateSigningKey", "signing keys", "Rotate to a new signing key", Keys, OptionalJson("RotateSigningKey"), &[Resource(201, "SigningKeyDto")]),
    // Users (admin lane).
    op("post", "/v1/apps/{app}/users", "createUser", "users", "Create a user", Keys, JsonBody("CreateUser"), &[Resource(201, "UserDto")]),
    op("get", "/v1/apps/{app}/users", "listUsers", "users", "List users", Keys, NoBody, &[List("UserDto")]).query(USER_FILTERS),
    op("post", "/v1/apps/{app}/users/import", "importUsers", "users", "Import users (JSON Lines)", Keys, Body::JsonLines, &[AnyJson(200)]).query(IMPORT),
    op("get", "/v1/apps/{app}/users/export", "exportUsers", "users", "Export users (JSON Lines)", Keys, NoBody, &[Reply::JsonLines]).query(EXPORT),
    op("get", "/v1/apps/{app}/users/{id}", "getUser", "users", "Read a user", Keys, NoBody, &[Resource(200, "UserDto")]),
    op("patch", "/v1/apps/{app}/users/{id}", "updateUser", "users", "Change a user", Keys, JsonBody("UpdateUser"), &[Resource(200, "UserDto")]),
    op("delete", "/v1/apps/{app}/users/{id}", "deleteUser", "users", "Delete a user", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/users/{id}/deactivate", "deactivateUser", "users", "Deactivate a user (revokes their sessions)", Keys, NoBody, &[Resource(200, "UserDto")]),
    op("post", "/v1/apps/{app}/users/{id}/reactivate", "reactivateUser", "users", "Reactivate a user", Keys, NoBody, &[Resource(200, "UserDto")]),
    op("get", "/v1/apps/{app}/users/{id}/sessions", "listUserSessions", "users", "List a user's sessions", Keys, NoBody, &[List("SessionDto")]),
    op("delete", "/v1/apps/{app}/users/{id}/sessions", "revokeUserSessions", "users", "Revoke every session of a user", Keys, NoBody, &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/users/{id}/sessions/{session_id}", "revokeUserSession", "users", "Revoke one session", Keys, NoBody, &[Empty(204)]),
    op("get", "/v1/apps/{app}/users/{id}/mfa", "listUserFactors", "mfa", "List a user's second factors", Keys, NoBody, &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/users/{id}/mfa", "resetUserFactors", "mfa", "Remove every second factor of a user", Keys, NoBody, &[Empty(204)]),
    op("get", "/v1/apps/{app}/users/{id}/identities", "listUserIdentities", "federation", "List a user's linked identities", Keys, NoBody, &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/users/{id}/identities/{identity_id}", "unlinkUserIdentity", "federation", "Unlink an identity", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/users/{id}/email-verification", "mintEmailVerification", "lifecycle", "Mint an email-verification token (`hm_ev_…`)", Keys, NoBody, &[Resource(201, "MintedToken")]),
    op("post", "/v1/apps/{app}/password-resets", "mintPasswordReset", "lifecycle", "Mint a password-reset token (`hm_pr_…`)", Keys, JsonBody("EmailBody"), &[Resource(201, "MintedToken")]),
    // Roles and permissions (admin lane).
    op("get", "/v1/apps/{app}/roles", "listRoles", "roles", "List roles", Keys, NoBody, &[List("RoleDto")]),
    op("post", "/v1/apps/{app}/roles", "createRole", "roles", "Create a custom role", Keys, JsonBody("RoleBody"), &[Resource(201, "RoleDto")]),
    op("put", "/v1/apps/{app}/roles", "syncRoles", "roles", "Replace the custom roles declaratively", Keys, JsonBody("SyncBody"), &[Reply::Json(200, "RoleSyncResult")]).query(SYNC),
    op("get", "/v1/apps/{app}/roles/{name}", "getRole", "roles", "Read a role", Keys, NoBody, &[Resource(200, "RoleDto")]),
    op("patch", "/v1/apps/{app}/roles/{name}", "updateRole", "roles", "Change a custom role", Keys, JsonBody("UpdateRole"), &[Resource(200, "RoleDto")]),
    op("delete", "/v1/apps/{app}/roles/{name}", "deleteRole", "roles", "Delete a custom role", Keys, NoBody, &[Empty(204)]).query(REASSIGN),
    op("get", "/v1/apps/{app}/permissions", "listPermissions", "roles", "List the permissions in use", Keys, NoBody, &[List("Permission")]),
    // Tenants (admin lane).
    op("post", "/v1/apps/{app}/tenants", "createTenant", "tenants", "Create a tenant", Keys, JsonBody("CreateTenant"), &[Resource(201, "TenantDto")]),
    op("get", "/v1/apps/{app}/tenants", "listTenants", "tenants", "List tenants", Keys, NoBody, &[List("TenantDto")]),
    op("get", "/v1/apps/{app}/tenants/{id}", "getTenant", "tenants", "Read a tenant", Keys, NoBody, &[Resource(200, "TenantDto")]),
    op("patch", "/v1/apps/{app}/tenants/{id}", "updateTenant", "tenants", "Change a tenant", Keys, JsonBody("UpdateTenant"), &[Resource(200, "TenantDto")]),
    op("delete", "/v1/apps/{app}/tenants/{id}", "deleteTenant", "tenants", "Delete a tenant", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/tenants/{id}/members", "addTenantMember", "tenants", "Add a member", Keys, JsonBody("AddMember"), &[Resource(201, "MemberDto")]),
    op("get", "/v1/apps/{app}/tenants/{id}/members", "listTenantMembers", "tenants", "List members", Keys, NoBody, &[List("MemberDto")]),
    op("patch", "/v1/apps/{app}/tenants/{id}/members/{user_id}", "updateTenantMember", "tenants", "Change a member's role", Keys, JsonBody("UpdateMember"), &[Resource(200, "MemberDto")]),
    op("delete", "/v1/apps/{app}/tenants/{id}/members/{user_id}", "removeTenantMember", "tenants", "Remove a member", Keys, NoBody, &[Empty(204)]),
    // Machine clients.
    op("post", "/v1/apps/{app}/m2m-clients", "createM2mClient", "machine clients", "Create a machine client (secret shown once)", Keys, JsonBody("CreateClient"), &[Resource(201, "M2mClientDto")]),
    op("get", "/v1/apps/{app}/m2m-clients", "listM2mClients", "machine clients", "List machine clients", Keys, NoBody, &[List("M2mClientDto")]),
    op("get", "/v1/apps/{app}/m2m-clients/{client_id}", "getM2mClient", "machine clients", "Read a machine client", Keys, NoBody, &[Resource(200, "M2mClientDto")]),
    op("patch", "/v1/apps/{app}/m2m-clients/{client_id}", "updateM2mClient", "machine clients", "Change a machine client", Keys, JsonBody("UpdateClient"), &[Resource(200, "M2mClientDto")]),
    op("delete", "/v1/apps/{app}/m2m-clients/{client_id}", "deleteM2mClient", "machine clients", "Delete a machine client", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/m2m-clients/{client_id}/rotate-secret", "rotateM2mSecret", "machine clients", "Rotate the secret (grace period: both work)", Keys, OptionalJson("RotateM2mSecret"), &[Resource(200, "M2mClientDto")]),
    op("post", "/v1/apps/{app}/tokens", "appToken", "machine clients", "client_credentials with a JSON body", Public, Params("TokenRequest"), &[Reply::Json(200, "TokenResponse")]).errors(Errors::OAuth),
    // OAuth clients (admin lane).
    op("get", "/v1/apps/{app}/oauth-clients", "listOauthClients", "oauth clients", "List OAuth clients", Keys, NoBody, &[List("ClientDto")]),
    op("post", "/v1/apps/{app}/oauth-clients", "createOauthClient", "oauth clients", "Register an OAuth client (may be first-party)", Keys, JsonBody("ClientBody"), &[Resource(201, "ClientDto")]),
    op("get", "/v1/apps/{app}/oauth-clients/{id}", "getOauthClient", "oauth clients", "Read an OAuth client", Keys, NoBody, &[Resource(200, "ClientDto")]),
    op("patch", "/v1/apps/{app}/oauth-clients/{id}", "updateOauthClient", "oauth clients", "Change an OAuth client", Keys, JsonBody("ClientBody"), &[Resource(200, "ClientDto")]),
    op("delete", "/v1/apps/{app}/oauth-clients/{id}", "deleteOauthClient", "oauth clients", "Delete an OAuth client", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/oauth-clients/{id}/regenerate-secret", "regenerateOauthClientSecret", "oauth clients", "Regenerate the client secret (shown once)", Keys, NoBody, &[AnyJson(200)]),
    op("post", "/v1/apps/{app}/api-resources", "createApiResource", "oauth clients", "Register an API resource (RFC 8707 audience)", Keys, JsonBody("ResourceBody"), &[Resource(201, "ApiResourceDto")]),
    op("get", "/v1/apps/{app}/api-resources", "listApiResources", "oauth clients", "List API resources", Keys, NoBody, &[AnyJson(200)]),
    op("get", "/v1/apps/{app}/api-resources/{id}", "getApiResource", "oauth clients", "Read an API resource", Keys, NoBody, &[Resource(200, "ApiResourceDto")]),
    op("patch", "/v1/apps/{app}/api-resources/{id}", "updateApiResource", "oauth clients", "Change an API resource", Keys, JsonBody("ResourceBody"), &[Resource(200, "ApiResourceDto")]),
    op("delete", "/v1/apps/{app}/api-resources/{id}", "deleteApiResource", "oauth clients", "Delete an API resource", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/oauth-initial-access-tokens", "mintInitialAccessToken", "oauth clients", "Mint an initial access token for dynamic registration", Keys, OptionalJson("MintInitialToken"), &[Resource(201, "InitialTokenDto")]),
    op("get", "/v1/apps/{app}/oauth-initial-access-tokens", "listInitialAccessTokens", "oauth clients", "List initial access tokens", Keys, NoBody, &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/oauth-initial-access-tokens/{id}", "revokeInitialAccessToken", "oauth clients", "Revoke an initial access token", Keys, NoBody, &[Empty(204)]),
    // Federation (provider configuration).
    op("get", "/v1/apps/{app}/providers", "listProviders", "federation", "List upstream identity providers", Keys, NoBody, &[List("Provider")]),
    op("get", "/v1/apps/{app}/providers/apple", "getAppleProvider", "federation", "Read Sign in with Apple (private key never shown)", Keys, NoBody, &[AnyJson(200)]),
    op("put", "/v1/apps/{app}/providers/apple", "putAppleProvider", "federation", "Configure Sign in with Apple", Keys, JsonBody("AppleBody"), &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/providers/apple", "deleteAppleProvider", "federation", "Remove Sign in with Apple", Keys, NoBody, &[Empty(204)]),
    op("get", "/v1/apps/{app}/providers/{id}", "getProvider", "federation", "Read an OIDC upstream (secret never shown)", Keys, NoBody, &[AnyJson(200)]),
    op("put", "/v1/apps/{app}/providers/{id}", "putProvider", "federation", "Configure an OIDC upstream", Keys, JsonBody("OidcBody"), &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/providers/{id}", "deleteProvider", "federation", "Remove an OIDC upstream", Keys, NoBody, &[Empty(204)]),
    // Webhooks.
    op("post", "/v1/apps/{app}/webhooks", "createWebhook", "webhooks", "Register a webhook (`whsec_…` shown once)", Keys, JsonBody("CreateWebhook"), &[Resource(201, "WebhookDto")]),
    op("get", "/v1/apps/{app}/webhooks", "listWebhooks", "webhooks", "List webhooks", Keys, NoBody, &[List("WebhookDto")]),
    op("get", "/v1/apps/{app}/webhooks/{id}", "getWebhook", "webhooks", "Read a webhook", Keys, NoBody, &[Resource(200, "WebhookDto")]),
    op("patch", "/v1/apps/{app}/webhooks/{id}", "updateWebhook", "webhooks", "Change a webhook", Keys, JsonBody("UpdateWebhook"), &[Resource(200, "WebhookDto")]),
    op("delete", "/v1/apps/{app}/webhooks/{id}", "deleteWebhook", "webhooks", "Delete a webhook", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/webhooks/{id}/rotate-secret", "rotateWebhookSecret", "webhooks", "Rotate the signing secret (both sign during the overlap)", Keys, OptionalJson("RotateWebhookSecret"), &[Resource(200, "WebhookDto")]),
    op("get", "/v1/apps/{app}/webhooks/{id}/deliveries", "listWebhookDeliveries", "webhooks", "List a webhook's deliveries", Keys, NoBody, &[List("DeliveryDto")]).query(DELIVERY_FILTER),
    op("get", "/v1/apps/{app}/webhooks/{id}/deliveries/{delivery_id}", "getWebhookDelivery", "webhooks", "Read a delivery with its attempts", Keys, NoBody, &[Resource(200, "DeliveryDto")]),
    op("post", "/v1/apps/{app}/webhooks/{id}/deliveries/{delivery_id}/redeliver", "redeliverWebhookDelivery", "webhooks", "Send a delivery again", Keys, NoBody, &[Resource(201, "DeliveryDto")]),
    op("post", "/v1/apps/{app}/webhooks/{id}/test", "testWebhook", "webhooks", "Send a test event", Keys, NoBody, &[Resource(201, "DeliveryDto")]),
    op("get", "/v1/apps/{app}/webhooks/deliveries/{id}", "getDelivery", "webhooks", "Read a delivery by its id", Keys, NoBody, &[Resource(200, "DeliveryDto")]),
    op("post", "/v1/apps/{app}/webhooks/deliveries/{id}/redeliver", "redeliver", "webhooks", "Send a delivery again, by its id", Keys, NoBody, &[Resource(201, "DeliveryDto")]),
    // Audit log, SCIM tokens, invites (admin lane).
    op("get", "/v1/apps/{app}/audit-log", "listAuditLog", "audit log", "Query the audit log", Keys, NoBody, &[List("AuditEntryDto")]).query(AUDIT_FILTERS),
    op("post", "/v1/apps/{app}/scim-tokens", "createScimToken", "scim", "Create a SCIM provisioning token (shown once)", Keys, JsonBody("CreateScimToken"), &[Resource(201, "ScimTokenDto")]),
    op("get", "/v1/apps/{app}/scim-tokens", "listScimTokens", "scim", "List SCIM tokens", Keys, NoBody, &[AnyJson(200)]),
    op("delete", "/v1/apps/{app}/scim-tokens/{id}", "revokeScimToken", "scim", "Revoke a SCIM token", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/apps/{app}/invites", "createInvite", "lifecycle", "Invite someone (`hm_inv_…`, shown once)", Keys, JsonBody("CreateInvite"), &[Resource(201, "InviteDto")]),
    op("get", "/v1/apps/{app}/invites", "listInvites", "lifecycle", "List invites", Keys, NoBody, &[List("InviteDto")]),
    op("get", "/v1/apps/{app}/invites/{id}", "getInvite", "lifecycle", "Read an invite", Keys, NoBody, &[Resource(200, "InviteDto")]),
    op("delete", "/v1/apps/{app}/invites/{id}", "revokeInvite", "lifecycle", "Revoke an invite", Keys, NoBody, &[Empty(204)]),
    op("post", "/v1/invites/{token}/accept", "acceptInvite", "lifecycle", "Accept an invite (signs up or joins)", Public, JsonBody("AcceptInvite"), &[Reply::Json(201, "TokenResponse"), Reply::Json(200, "TokenResponse")]),
    // Consumer lane: authentication.
    op("post", "/{slug}/v1/auth/signup", "signup", "authentication", "Sign up", Public, JsonBody("SignupBody"), &[Reply::Json(201, "TokenResponse")]),
    op("post", "/{slug}/v1/auth/signin", "signin", "authentication", "Sign in (or a second-factor challenge)", Public, JsonBody("SigninBody"), &[Reply::Json(200, "TokenResponse")]),
    op("post", "/{slug}/v1/auth/refresh", "refresh", "authentication", "Rotate a refresh token", Public, JsonBody("RefreshBody"), &[Reply::Json(200, "TokenResponse")]),
    op("post", "/{slug}/v1/auth/signout", "signout", "authentication", "Revoke the session of the bearer", User, NoBody, &[Empty(204)]),
    op("post", "/{slug}/v1/auth/mfa/verify", "mfaVerify", "mfa", "Finish a two-step sign-in", Public, JsonBody("VerifyBody"), &[Reply::Json(200, "TokenResponse")]),
    op("post", "/{slug}/v1/auth/mfa/webauthn/start", "mfaWebauthnStart", "mfa", "WebAuthn options for a two-step sign-in", Public, JsonBody("MfaTokenBody"), &[AnyJson(200)]),
    op("post", "/{slug}/v1/auth/passkey/start", "passkeyStart", "mfa", "Start a passwordless passkey sign-in", Public, NoBody, &[AnyJson(200)]),
    op("post", "/{slug}/v1/auth/passkey/finish", "passkeyFinish", "mfa", "Finish a passkey sign-in", Public, JsonBody("CeremonyBody"), &[Reply::Json(200, "TokenResponse")]),
    op("post", "/{slug}/v1/auth/apple", "appleNative", "federation", "Sign in with an Apple identity token", Public, JsonBody("NativeBody"), &[Reply::Json(200, "TokenResponse"), Reply::Json(201, "TokenResponse")]),
    op("get", "/{slug}/v1/auth/apple/start", "appleStart", "federation", "Start the Apple web flow", Public, NoBody, &[Redirect(302), Redirect(303)]).errors(Errors::Page).query(RETURN_TO),
    op("post", "/{slug}/v1/auth/apple/callback", "appleCallback", "federation", "Apple's form_post callback", Public, Params("CallbackParams"), &[Redirect(302), Redirect(303), AnyJson(200)]).errors(Errors::Page),
    op("get", "/{slug}/v1/auth/{provider}/start", "oidcStart", "federation", "Start an OIDC upstream sign-in", Public, NoBody, &[Redirect(302), Redirect(303), AnyJson(200)]).errors(Errors::Page).query(RETURN_TO),
    op("get", "/{slug}/v1/auth/{provider}/callback", "oidcCallback", "federation", "An OIDC upstream's callback", Public, NoBody, &[Redirect(302), Redirect(303), AnyJson(200)]).errors(Errors::Page),
    op("post", "/{slug}/v1/auth/{provider}/callback", "oidcCallbackPost", "federation", "An OIDC upstream's form_post callback", Public, Params("CallbackParams"), &[Redirect(302), Redirect(303), AnyJson(200)]).errors(Errors::Page),
    // Consumer lane: the signed-in user.
    op("get", "/{slug}/v1/me", "me", "me", "The user of the token", User, NoBody, &[Resource(200, "MeDto")]),
    op("patch", "/{slug}/v1/me", "updateMe", "me", "Change one's profile", User, JsonBody("UpdateMe"), &[Resource(200, "UserDto")]),
    op("post", "/{slug}/v1/me/password", "changePassword", "me", "Change one's password", User, JsonBody("ChangePassword"), &[Empty(204)]),
    op("get", "/{slug}/v1/me/sessions", "mySessions", "me", "List one's sessions", User, NoBody, &[List("SessionDto")]),
    op("delete", "/{slug}/v1/me/sessions/{id}", "revokeMySession", "me", "Revoke one of one's sessions", User, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/me/permissions", "myPermissions", "me", "Role, tenant role and effective permissions", User, NoBody, &[Reply::Json(200, "MyPermissions")]),
    op("get", "/{slug}/v1/me/tenants", "myTenants", "me", "List one's tenants", User, NoBody, &[List("TenantDto")]),
    op("post", "/{slug}/v1/me/tenants/{id}/switch", "switchTenant", "me", "Make a tenant active (new tokens with org_id)", User, NoBody, &[Reply::Json(200, "TokenResponse")]),
    op("get", "/{slug}/v1/me/identities", "myIdentities", "me", "List one's linked identities", User, NoBody, &[AnyJson(200)]),
    op("delete", "/{slug}/v1/me/identities/{id}", "unlinkMyIdentity", "me", "Unlink one of one's identities", User, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/me/mfa", "myFactors", "mfa", "List one's second factors", User, NoBody, &[AnyJson(200)]),
    op("post", "/{slug}/v1/me/mfa/totp", "enrollTotp", "mfa", "Start TOTP enrolment", User, OptionalJson("NameBody"), &[AnyJson(201)]),
    op("post", "/{slug}/v1/me/mfa/totp/{id}/confirm", "confirmTotp", "mfa", "Confirm TOTP enrolment with a code", User, JsonBody("CodeBody"), &[AnyJson(200)]),
    op("post", "/{slug}/v1/me/mfa/webauthn/register/start", "startWebauthnRegistration", "mfa", "Start registering a security key or passkey", User, OptionalJson("NameBody"), &[AnyJson(200)]),
    op("post", "/{slug}/v1/me/mfa/webauthn/register/finish", "finishWebauthnRegistration", "mfa", "Finish registering a security key or passkey", User, JsonBody("CeremonyBody"), &[AnyJson(201)]),
    op("post", "/{slug}/v1/me/mfa/recovery-codes", "regenerateRecoveryCodes", "mfa", "New recovery codes (shown once)", User, NoBody, &[AnyJson(200)]),
    op("delete", "/{slug}/v1/me/mfa/{id}", "removeFactor", "mfa", "Remove one of one's factors", User, NoBody, &[Empty(204)]),
    // Consumer lane: account lifecycle.
    op("post", "/{slug}/v1/email/verify", "verifyEmail", "lifecycle", "Verify an email with an `hm_ev_` token", Public, JsonBody("TokenBody"), &[Resource(200, "UserDto")]),
    op("post", "/{slug}/v1/email/verification/resend", "resendVerification", "lifecycle", "Send the verification mail again", User, NoBody, &[AnyJson(202)]),
    op("post", "/{slug}/v1/password/forgot", "forgotPassword", "lifecycle", "Request a reset mail (always 202)", Public, JsonBody("EmailBody"), &[AnyJson(202)]),
    op("post", "/{slug}/v1/password/reset", "resetPassword", "lifecycle", "Set a new password with an `hm_pr_` token", Public, JsonBody("ResetBody"), &[Empty(204)]),
    // Consumer lane: decisions.
    op("post", "/{slug}/v1/verify", "verifyToken", "decisions", "Is the bearer valid, and whose is it", Bearer, NoBody, &[AnyJson(200)]),
    op("post", "/{slug}/v1/authorize", "authorizePermission", "decisions", "Does the bearer hold a permission", Bearer, JsonBody("PermissionCheck"), &[AnyJson(200)]),
    op("post", "/{slug}/v1/authorize/batch", "authorizeBatch", "decisions", "Several permission checks at once", Bearer, JsonBody("Batch"), &[AnyJson(200)]),
    // Consumer-API admin lane (end users, as far as their permissions go).
    op("get", "/{slug}/v1/users", "consumerListUsers", "consumer admin", "List users (`user.read`)", AppAccess, NoBody, &[List("UserDto")]).query(USER_FILTERS),
    op("post", "/{slug}/v1/users", "consumerCreateUser", "consumer admin", "Create a user", AppAccess, JsonBody("CreateUser"), &[Resource(201, "UserDto")]),
    op("get", "/{slug}/v1/users/{id}", "consumerGetUser", "consumer admin", "Read a user (`user.read`)", AppAccess, NoBody, &[Resource(200, "UserDto")]),
    op("patch", "/{slug}/v1/users/{id}", "consumerUpdateUser", "consumer admin", "Change a user (`user.update`)", AppAccess, JsonBody("UpdateUser"), &[Resource(200, "UserDto")]),
    op("post", "/{slug}/v1/users/{id}/deactivate", "consumerDeactivateUser", "consumer admin", "Deactivate a user", AppAccess, NoBody, &[Resource(200, "UserDto")]),
    op("post", "/{slug}/v1/users/{id}/reactivate", "consumerReactivateUser", "consumer admin", "Reactivate a user", AppAccess, NoBody, &[Resource(200, "UserDto")]),
    op("get", "/{slug}/v1/users/{id}/sessions", "consumerListUserSessions", "consumer admin", "List a user's sessions", AppAccess, NoBody, &[List("SessionDto")]),
    op("delete", "/{slug}/v1/users/{id}/sessions", "consumerRevokeUserSessions", "consumer admin", "Revoke a user's sessions", AppAccess, NoBody, &[AnyJson(200)]),
    op("delete", "/{slug}/v1/users/{id}/sessions/{session_id}", "consumerRevokeUserSession", "consumer admin", "Revoke one session", AppAccess, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/users/{id}/mfa", "consumerListUserFactors", "consumer admin", "List a user's factors", AppAccess, NoBody, &[AnyJson(200)]),
    op("delete", "/{slug}/v1/users/{id}/mfa", "consumerResetUserFactors", "consumer admin", "Remove a user's factors", AppAccess, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/users/{id}/identities", "consumerListUserIdentities", "consumer admin", "List a user's identities", AppAccess, NoBody, &[AnyJson(200)]),
    op("delete", "/{slug}/v1/users/{id}/identities/{identity_id}", "consumerUnlinkUserIdentity", "consumer admin", "Unlink a user's identity", AppAccess, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/roles", "consumerListRoles", "consumer admin", "List roles", AppAccess, NoBody, &[List("RoleDto")]),
    op("post", "/{slug}/v1/roles", "consumerCreateRole", "consumer admin", "Create a role (`role.manage`; only permissions one holds)", AppAccess, JsonBody("RoleBody"), &[Resource(201, "RoleDto")]),
    op("get", "/{slug}/v1/roles/{name}", "consumerGetRole", "consumer admin", "Read a role", AppAccess, NoBody, &[Resource(200, "RoleDto")]),
    op("patch", "/{slug}/v1/roles/{name}", "consumerUpdateRole", "consumer admin", "Change a role", AppAccess, JsonBody("UpdateRole"), &[Resource(200, "RoleDto")]),
    op("delete", "/{slug}/v1/roles/{name}", "consumerDeleteRole", "consumer admin", "Delete a role", AppAccess, NoBody, &[Empty(204)]).query(REASSIGN),
    op("get", "/{slug}/v1/permissions", "consumerListPermissions", "consumer admin", "List the permissions in use", AppAccess, NoBody, &[List("Permission")]),
    op("get", "/{slug}/v1/tenants/{id}/members", "consumerListTenantMembers", "consumer admin", "List a tenant's members", AppAccess, NoBody, &[List("MemberDto")]),
    op("post", "/{slug}/v1/tenants/{id}/members", "consumerAddTenantMember", "consumer admin", "Add a member (`tenant.manage`)", AppAccess, JsonBody("AddMember"), &[Resource(201, "MemberDto")]),
    op("patch", "/{slug}/v1/tenants/{id}/members/{user_id}", "consumerUpdateTenantMember", "consumer admin", "Change a member's role", AppAccess, JsonBody("UpdateMember"), &[Resource(200, "MemberDto")]),
    op("delete", "/{slug}/v1/tenants/{id}/members/{user_id}", "consumerRemoveTenantMember", "consumer admin", "Remove a member", AppAccess, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/invites", "consumerListInvites", "consumer admin", "List invites", AppAccess, NoBody, &[List("InviteDto")]),
    op("post", "/{slug}/v1/invites", "consumerCreateInvite", "consumer admin", "Invite someone (`user.invite`)", AppAccess, JsonBody("CreateInvite"), &[Resource(201, "InviteDto")]),
    op("get", "/{slug}/v1/invites/{id}", "consumerGetInvite", "consumer admin", "Read an invite", AppAccess, NoBody, &[Resource(200, "InviteDto")]),
    op("delete", "/{slug}/v1/invites/{id}", "consumerRevokeInvite", "consumer admin", "Revoke an invite", AppAccess, NoBody, &[Empty(204)]),
    op("get", "/{slug}/v1/audit-log", "consumerListAuditLog", "consumer admin", "Query the audit log (`audit.read`)", AppAccess, NoBody, &[List("AuditEntryDto")]).query(AUDIT_FILTERS),
    op("get", "/{slug}/v1/oauth/clients", "consumerListOauthClients", "oauth clients", "List one's OAuth clients", AppAccess, NoBody, &[List("ClientDto")]),
    op("post", "/{slug}/v1/oauth/clients", "consumerCreateOauthClient", "oauth clients", "Register an OAuth client (secret shown once)", AppAccess, JsonBody("ClientBody"), &[Resource(201, "ClientDto")]),
    op("get", "/{slug}/v1/oauth/clients/all", "consumerListAllOauthClients", "oauth clients", "List every OAuth client (`oauth_clients:read`)", AppAccess, NoBody, &[List("ClientDto")]),
    op("get", "/{slug}/v1/oauth/clients/{id}", "consumerGetOauthClient", "oauth clients", "Read an OAuth client", AppAccess, NoBody, &[Resource(200, "ClientDto")]),
    op("patch", "/{slug}/v1/oauth/clients/{id}", "consumerUpdateOauthClient", "oauth clients", "Change an OAuth client", AppAccess, JsonBody("ClientBody"), &[Resource(200, "ClientDto")]),
    op("delete", "/{slug}/v1/oauth/clients/{id}", "consumerDeleteOauthClient", "oauth clients", "Delete an OAuth client", AppAccess, NoBody, &[Empty(204)]),
    op("post", "/{slug}/v1/oauth/clients/{id}/regenerate-secret", "consumerRegenerateOauthClientSecret", "oauth clients", "Regenerate the client secret (shown once)", AppAccess, NoBody, &[AnyJson(200)]),
    // OAuth 2.0 / OpenID Connect provider.
    op("get", "/{slug}/v1/oauth/authorize", "authorize", "oauth", "Authorization endpoint (redirect, or the consent payload as JSON)", OptionalUser, NoBody, &[Redirect(302), Redirect(303), AnyJson(200), Html(200)]).errors(Errors::Page).query(AUTHORIZE_QUERY),
    op("post", "/{slug}/v1/oauth/authorize/consent", "authorizeConsent", "oauth", "Approve or deny a pending authorization", User, JsonBody("ConsentBody"), &[AnyJson(200)]).errors(Errors::Either),
    op("post", "/{slug}/v1/oauth/token", "token", "oauth", "Token endpoint (authorization_code, refresh_token, client_credentials, device_code, token exchange)", Client, Params("TokenRequest"), &[Reply::Json(200, "TokenResponse")]).errors(Errors::OAuth),
    op("post", "/{slug}/v1/oauth/introspect", "introspect", "oauth", "RFC 7662 introspection of the bearer itself", Bearer, NoBody, &[Reply::Json(200, "Introspection")]).errors(Errors::Either),
    op("post", "/{slug}/v1/oauth/revoke", "revoke", "oauth", "RFC 7009 revocation (always 200)", Client, Params("RevocationRequest"), &[Empty(200)]).errors(Errors::OAuth),
    op("get", "/{slug}/v1/oauth/userinfo", "userinfo", "oauth", "OIDC userinfo", Bearer, NoBody, &[AnyJson(200)]).errors(Errors::Either),
    op("post", "/{slug}/v1/oauth/userinfo", "userinfoPost", "oauth", "OIDC userinfo (POST)", Bearer, NoBody, &[AnyJson(200)]).errors(Errors::Either),
    op("post", "/{slug}/v1/oauth/register", "registerClient", "oauth", "RFC 7591 dynamic client registration", OptionalUser, JsonBody("ClientMetadata"), &[AnyJson(201)]).errors(Errors::OAuth),
    op("get", "/{slug}/v1/oauth/register/{client_id}", "readRegistration", "oauth", "RFC 7592: read a registration", Registration, NoBody, &[AnyJson(200)]).errors(Errors::OAuth),
    op("put", "/{slug}/v1/oauth/register/{client_id}", "replaceRegistration", "oauth", "RFC 7592: replace a registration", Registration, JsonBody("ClientMetadata"), &[AnyJson(200)]).errors(Errors::OAuth),
    op("delete", "/{slug}/v1/oauth/register/{client_id}", "deleteRegistration", "oauth", "RFC 7592: delete a registration", Registration, NoBody, &[Empty(204)]).errors(Errors::OAuth),
    op("post", "/{slug}/v1/oauth/par", "pushedAuthorizationRequest", "oauth", "RFC 9126 pushed authorization request", Client, Params("AuthorizationParams"), &[AnyJson(201)]).errors(Errors::OAuth),
    op("post", "/{slug}/v1/oauth/device_authorization", "deviceAuthorization", "oauth", "RFC 8628 device authorization", Client, Params("DeviceAuthorizationRequest"), &[AnyJson(200)]).errors(Errors::OAuth),
    op("get", "/{slug}/v1/oauth/logout", "logout", "oauth", "OIDC RP-initiated logout", Public, NoBody, &[Redirect(302), Redirect(303), Html(200)]).errors(Errors::Page),
    op("post", "/{slug}/v1/oauth/logout", "logoutPost", "oauth", "OIDC RP-initiated logout (form)", Public, Params("LogoutParams"), &[Redirect(302), Redirect(303), Html(200)]).errors(Errors::Page),
    // Discovery and keys.
    op("get", "/{slug}/v1/.well-known/jwks.json", "jwks", "discovery", "The app's public signing keys", Public, NoBody, &[Reply::Json(200, "Jwks")]),
    op("get", "/{slug}/v1/.well-known/openid-configuration", "discovery", "discovery", "OpenID Connect discovery", Public, NoBody, &[AnyJson(200)]),
    op("get", "/{slug}/.well-known/openid-configuration", "discoveryIssuer", "discovery", "OpenID Connect discovery at the issuer-relative location", Public, NoBody, &[AnyJson(200)]),
    op("get", "/.well-known/oauth-authorization-server/{slug}", "authorizationServerMetadata", "discovery", "RFC 8414 metadata", Public, NoBody, &[AnyJson(200)]),
    op("get", "/{slug}/.well-known/oauth-authorization-server", "authorizationServerMetadataIssuer", "discovery", "RFC 8414 metadata at the issuer-relative location", Public, NoBody, &[AnyJson(200)]),
    op("get", "/.well-known/oauth-authorization-server", "authorizationServerMetadataDefault", "discovery", "RFC 8414 metadata of the default app (HEIMDALL_DEFAULT_APP)", Public, NoBody, &[AnyJson(200)]),
    op("get", "/.well-known/openid-configuration", "discoveryDefault", "discovery", "Discovery of the default app (HEIMDALL_DEFAULT_APP)", Public, NoBody, &[AnyJson(200)]),
    op("get", "/v1/.well-known/openid-configuration", "discoveryDefaultV1", "discovery", "Discovery of the default app (HEIMDALL_DEFAULT_APP)", Public, NoBody, &[AnyJson(200)]),
    op("get", "/v1/.well-known/jwks.json", "jwksDefault", "discovery", "Keys of the default app (HEIMDALL_DEFAULT_APP)", Public, NoBody, &[Reply::Json(200, "Jwks")]),
    // SCIM 2.0.
    op("get", "/{slug}/scim/v2/ServiceProviderConfig", "scimServiceProviderConfig", "scim", "RFC 7643 service provider configuration", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/ResourceTypes", "scimResourceTypes", "scim", "Resource types", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/ResourceTypes/{name}", "scimResourceType", "scim", "A resource type", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/Schemas", "scimSchemas", "scim", "Schemas", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/Schemas/{id}", "scimSchema", "scim", "A schema", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/Users", "scimListUsers", "scim", "List or filter users", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim).query(SCIM_LIST),
    op("post", "/{slug}/scim/v2/Users", "scimCreateUser", "scim", "Provision a user", Scim, Body::Scim, &[Reply::Scim(201)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/Users/{id}", "scimGetUser", "scim", "Read a user", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("put", "/{slug}/scim/v2/Users/{id}", "scimReplaceUser", "scim", "Replace a user", Scim, Body::Scim, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("patch", "/{slug}/scim/v2/Users/{id}", "scimPatchUser", "scim", "Patch a user", Scim, Body::Scim, &[Reply::Scim(200), Empty(204)]).errors(Errors::Scim),
    op("delete", "/{slug}/scim/v2/Users/{id}", "scimDeleteUser", "scim", "Deprovision a user", Scim, NoBody, &[Empty(204)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/Groups", "scimListGroups", "scim", "List or filter groups (tenants)", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim).query(SCIM_LIST),
    op("post", "/{slug}/scim/v2/Groups", "scimCreateGroup", "scim", "Create a group", Scim, Body::Scim, &[Reply::Scim(201)]).errors(Errors::Scim),
    op("get", "/{slug}/scim/v2/Groups/{id}", "scimGetGroup", "scim", "Read a group", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("put", "/{slug}/scim/v2/Groups/{id}", "scimReplaceGroup", "scim", "Replace a group", Scim, Body::Scim, &[Reply::Scim(200)]).errors(Errors::Scim),
    op("patch", "/{slug}/scim/v2/Groups/{id}", "scimPatchGroup", "scim", "Patch a group", Scim, Body::Scim, &[Reply::Scim(200), Empty(204)]).errors(Errors::Scim),
    op("delete", "/{slug}/scim/v2/Groups/{id}", "scimDeleteGroup", "scim", "Delete a group", Scim, NoBody, &[Empty(204)]).errors(Errors::Scim),
    op("post", "/{slug}/scim/v2/.search", "scimSearch", "scim", "Root search (not supported: answers 501-free SCIM error)", Scim, NoBody, &[Reply::Scim(200)]).errors(Errors::Scim),
];

const SCIM_LIST: &[(&str, &str, &str)] = &[
    ("filter", "string", "RFC 7644 filter (`userName eq \"…\"`)."),
    (
        "startIndex",
        "integer",
        "1-based index of the first result.",
    ),
    ("count", "integer", "Results per page."),
];

/// The document, built once.
static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The OpenAPI document (the committed `openapi.json`), as JSON.
pub fn document() -> &'static Value {
    &DOCUMENT
}

/// `openapi.json` as committed: pretty-printed, one trailing newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(document()).unwrap_or_default();
    text.push('\n');
    text
}

/// The document as served under `HEIMDALL_BASE_PATH`: the base path is its server.
pub fn served(base_path: &str) -> Value {
    let mut doc = document().clone();
    if !base_path.is_empty()
        && let Some(object) = doc.as_object_mut()
    {
        object.insert("servers".into(), json!([{ "url": base_path }]));
    }
    doc
}

/// Every (method, path) the document describes, for the router walk.
pub fn operations() -> impl Iterator<Item = (&'static str, &'static str)> {
    OPS.iter().map(|op| (op.method, op.path))
}

fn build() -> Value {
    let derived = serde_json::to_value(DerivedSchemas::openapi()).unwrap_or_default();
    let mut schemas = derived
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, schema) in protocol_schemas() {
        schemas.insert(name.into(), schema);
    }

    let mut paths = Map::new();
    for op in OPS {
        let item = paths
            .entry(op.path)
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(item) = item {
            item.insert(op.method.into(), operation(op));
        }
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Heimdall REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The admin lane (`/v1/apps/{app}/…`, a root key or the app's key), the consumer lane \
                (`/{slug}/v1/…`, end users and the consumer-API admin lane), and the protocol endpoints \
                (OAuth 2.0, OpenID Connect, SCIM 2.0). Resources are `{\"data\", \"_links\"}`, lists \
                `{\"data\", \"next_cursor\"}` with `?limit=` (1–200, default 50) and `?cursor=`; errors are \
                `{\"error\": {\"code\", \"message\", \"details\"?}}`, OAuth endpoints answer RFC 6749 errors. \
                See docs/src/api-conventions.md. GraphQL (`/graphql`) has its own schema, `schema.graphql`.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "tags": tags(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": security_schemes(),
        },
    })
}

fn tags() -> Value {
    let mut seen: Vec<&str> = Vec::new();
    for op in OPS {
        if !seen.contains(&op.tag) {
            seen.push(op.tag);
        }
    }
    Value::Array(
        seen.into_iter()
            .map(|name| json!({ "name": name }))
            .collect(),
    )
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn operation(op: &Op) -> Value {
    let mut out = Map::new();
    out.insert("operationId".into(), json!(op.id));
    out.insert("tags".into(), json!([op.tag]));
    out.insert("summary".into(), json!(op.summary));

    let mut parameters: Vec<Value> = path_params(op.path)
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": path_param_description(name),
                "schema": { "type": "string" },
            })
        })
        .collect();
    if op.ok.iter().any(|ok| matches!(ok, Reply::List(_))) {
        parameters.push(json!({
            "name": "limit", "in": "query", "required": false,
            "description": "Page size, 1–200 (default 50).",
            "schema": { "type": "integer", "minimum": 1, "maximum": 200 },
        }));
        parameters.push(json!({
            "name": "cursor", "in": "query", "required": false,
            "description": "The `next_cursor` of the previous page.",
            "schema": { "type": "string" },
        }));
    }
    for (name, kind, description) in op.query {
        parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "description": description,
            "schema": { "type": kind },
        }));
    }
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }

    if let Some(body) = request_body(op.body) {
        out.insert("requestBody".into(), body);
    }

    let mut responses = Map::new();
    for ok in op.ok {
        let (status, response) = success(*ok);
        // Two answers with one status (e.g. JSON or HTML): their content merges.
        match responses.get_mut(&status) {
            Some(existing) => {
                if let (Some(into), Some(from)) = (
                    existing.get_mut("content").and_then(Value::as_object_mut),
                    response.get("content").and_then(Value::as_object),
                ) {
                    for (k, v) in from {
                        into.insert(k.clone(), v.clone());
                    }
                }
            }
            None => {
                responses.insert(status, response);
            }
        }
    }
    responses.insert("4XX".into(), error_response(op.errors));
    out.insert("responses".into(), Value::Object(responses));

    if let Some(security) = security(op.auth) {
        out.insert("security".into(), security);
    }
    Value::Object(out)
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn path_param_description(name: &str) -> &'static str {
    match name {
        "app" => "The app's name (slug).",
        "slug" => "The app's name (slug).",
        "id" => "The resource's id.",
        "user_id" => "The user's id.",
        "client_id" => "The client's `client_id`.",
        "session_id" => "The session's id.",
        "identity_id" => "The identity's id.",
        "delivery_id" => "The delivery's id.",
        "name" => "The role's (or resource type's) name.",
        "provider" => "The upstream provider's id.",
        "token" => "The invite token (`hm_inv_…`).",
        "file" => "The asset's file name.",
        _ => "Path parameter.",
    }
}

fn request_body(body: Body) -> Option<Value> {
    let (required, content) = match body {
        Body::None => return None,
        Body::Json(name) => (
            true,
            json!({ "application/json": { "schema": schema_ref(name) } }),
        ),
        Body::OptionalJson(name) => (
            false,
            json!({ "application/json": { "schema": schema_ref(name) } }),
        ),
        Body::Params(name) => (
            true,
            json!({
                "application/x-www-form-urlencoded": { "schema": schema_ref(name) },
                "application/json": { "schema": schema_ref(name) },
            }),
        ),
        Body::Scim => (
            true,
            json!({
                "application/scim+json": { "schema": schema_ref("ScimResource") },
                "application/json": { "schema": schema_ref("ScimResource") },
            }),
        ),
        Body::JsonLines => (
            true,
            json!({ "application/x-ndjson": { "schema": { "type": "string" } } }),
        ),
    };
    Some(json!({ "required": required, "content": content }))
}

fn success(ok: Reply) -> (String, Value) {
    let json_content = |schema: Value| json!({ "application/json": { "schema": schema } });
    match ok {
        Reply::Resource(status, name) => (
            status.to_string(),
            json!({
                "description": "The resource.",
                "content": json_content(json!({
                    "type": "object",
                    "required": ["data", "_links"],
                    "properties": {
                        "data": schema_ref(name),
                        "_links": schema_ref("Links"),
                    },
                })),
            }),
        ),
        Reply::List(name) => (
            "200".into(),
            json!({
                "description": "A page of resources.",
                "content": json_content(json!({
                    "type": "object",
                    "required": ["data", "next_cursor"],
                    "properties": {
                        "data": { "type": "array", "items": schema_ref(name) },
                        "next_cursor": {
                            "type": ["string", "null"],
                            "description": "Pass as `?cursor=` for the next page; null on the last.",
                        },
                    },
                })),
            }),
        ),
        Reply::Json(status, name) => (
            status.to_string(),
            json!({ "description": "The answer.", "content": json_content(schema_ref(name)) }),
        ),
        Reply::AnyJson(status) => (
            status.to_string(),
            json!({ "description": "The answer (a JSON object).", "content": json_content(json!({ "type": "object" })) }),
        ),
        Reply::Empty(status) => (status.to_string(), json!({ "description": "No content." })),
        Reply::Html(status) => (
            status.to_string(),
            json!({ "description": "An HTML page.", "content": { "text/html": { "schema": { "type": "string" } } } }),
        ),
        Reply::Redirect(status) => (
            status.to_string(),
            json!({
                "description": "A redirect.",
                "headers": { "Location": { "schema": { "type": "string" }, "required": true } },
            }),
        ),
        Reply::Scim(status) => (
            status.to_string(),
            json!({
                "description": "A SCIM resource or list response.",
                "content": {
                    "application/scim+json": { "schema": schema_ref("ScimResource") },
                },
            }),
        ),
        Reply::Asset => (
            "200".into(),
            json!({
                "description": "The file (gzip-encoded when accepted).",
                "content": {
                    "text/javascript": { "schema": { "type": "string" } },
                    "text/css": { "schema": { "type": "string" } },
                },
            }),
        ),
        Reply::JsonLines => (
            "200".into(),
            json!({
                "description": "One JSON object per line.",
                "content": { "application/x-ndjson": { "schema": { "type": "string" } } },
            }),
        ),
    }
}

fn error_response(errors: Errors) -> Value {
    let schema = match errors {
        Errors::Rest => schema_ref("ErrorEnvelope"),
        Errors::OAuth => schema_ref("OAuthError"),
        Errors::Either => {
            json!({ "anyOf": [schema_ref("ErrorEnvelope"), schema_ref("OAuthError")] })
        }
        Errors::Scim => json!({ "anyOf": [schema_ref("ScimError"), schema_ref("ErrorEnvelope")] }),
        Errors::Page => json!({ "anyOf": [schema_ref("ErrorEnvelope"), schema_ref("OAuthError")] }),
    };
    let mut content = Map::new();
    content.insert("application/json".into(), json!({ "schema": schema }));
    if errors == Errors::Page {
        content.insert(
            "text/html".into(),
            json!({ "schema": { "type": "string" } }),
        );
    }
    if errors == Errors::Scim {
        content.insert(
            "application/scim+json".into(),
            json!({ "schema": schema_ref("ScimError") }),
        );
    }
    json!({
        "description": "A client error: 400 invalid input, 401 no or a bad credential (`WWW-Authenticate`), \
            403 missing permissions, 404, 405, 409, 410 gone, 413 too large, 415 wrong content type, \
            429 rate limited (`Retry-After`).",
        "content": content,
    })
}

fn security(auth: Auth) -> Option<Value> {
    let requirement = |names: &[&str]| -> Value {
        Value::Array(names.iter().map(|name| json!({ *name: [] })).collect())
    };
    Some(match auth {
        Auth::Root => requirement(&["root_key"]),
        Auth::Keys => requirement(&["root_key", "app_key"]),
        Auth::AppAccess => requirement(&["root_key", "app_key", "end_user", "dpop"]),
        Auth::User => requirement(&["end_user", "dpop"]),
        Auth::Bearer => requirement(&["end_user", "dpop"]),
        Auth::Client => json!([{ "client_basic": [] }, {}]),
        Auth::Registration => requirement(&["registration_token"]),
        Auth::Scim => requirement(&["scim_token"]),
        Auth::OptionalUser => json!([{ "end_user": [] }, {}]),
        Auth::Public => return None,
    })
}

fn security_schemes() -> Value {
    json!({
        "root_key": {
            "type": "http", "scheme": "bearer",
            "description": "A root key (`hm_root_…`, `heimdall bootstrap`): every app, creating and deleting apps.",
        },
        "app_key": {
            "type": "http", "scheme": "bearer",
            "description": "An app key (PAK, `hm_pak_…`): everything inside its one app on the admin lane.",
        },
        "end_user": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "An access token of the app: an end user's or a machine client's JWT, or an OAuth \
                access token (`hm_at_…`).",
        },
        "dpop": {
            "type": "apiKey", "in": "header", "name": "DPoP",
            "description": "RFC 9449: a DPoP-bound access token is sent as `Authorization: DPoP <token>` \
                together with a `DPoP` proof JWT for the request (docs/src/oauth-extensions.md).",
        },
        "client_basic": {
            "type": "http", "scheme": "basic",
            "description": "OAuth client authentication, `client_secret_basic` (RFC 6749 §2.3.1: id and secret \
                form-urlencoded inside the credentials). Alternatively `client_secret_post` (`client_id` and \
                `client_secret` in the body), `private_key_jwt`/`client_secret_jwt` (`client_assertion`), or \
                `none` for public clients with PKCE.",
        },
        "registration_token": {
            "type": "http", "scheme": "bearer",
            "description": "The registration access token returned by dynamic client registration (RFC 7592).",
        },
        "scim_token": {
            "type": "http", "scheme": "bearer",
            "description": "A SCIM provisioning token (`POST /v1/apps/{app}/scim-tokens`).",
        },
    })
}

/// Shapes built by the services rather than one DTO: the envelopes of docs/src/api-conventions.md and
/// the protocol bodies.
fn protocol_schemas() -> Vec<(&'static str, Value)> {
    let string = json!({ "type": "string" });
    let nullable_string = json!({ "type": ["string", "null"] });
    vec![
        (
            "ErrorEnvelope",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": { "type": "string", "description": "`invalid_request`, `unauthenticated`, `forbidden`, `not_found`, `conflict`, `gone`, `payload_too_large`, `unsupported_media_type`, `rate_limited`, …" },
                            "message": string,
                            "details": { "type": "object", "description": "`fields` (validation) or `missing` (permissions)." },
                        },
                    },
                },
            }),
        ),
        (
            "OAuthError",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": { "type": "string", "description": "RFC 6749 §5.2 code, e.g. `invalid_grant`." },
                    "error_description": string,
                },
            }),
        ),
        (
            "ScimError",
            json!({
                "type": "object",
                "required": ["schemas", "status"],
                "properties": {
                    "schemas": { "type": "array", "items": string },
                    "status": string,
                    "scimType": string,
                    "detail": string,
                },
            }),
        ),
        (
            "ScimResource",
            json!({ "type": "object", "description": "An RFC 7643 resource or RFC 7644 message." }),
        ),
        (
            "Links",
            json!({
                "type": "object",
                "required": ["self"],
                "properties": { "self": { "type": "string", "description": "The resource's canonical path." } },
            }),
        ),
        (
            "Health",
            json!({ "type": "object", "required": ["status"], "properties": { "status": string } }),
        ),
        (
            "TokenResponse",
            json!({
                "type": "object",
                "description": "A token response (RFC 6749 §5.1); `Cache-Control: no-store`. A sign-in that \
                    needs a second factor answers `{mfa_required, mfa_token, …}` instead.",
                "properties": {
                    "access_token": string,
                    "token_type": { "type": "string", "description": "`Bearer` or `DPoP`." },
                    "expires_in": { "type": "integer" },
                    "refresh_token": string,
                    "scope": string,
                    "id_token": string,
                    "issued_token_type": string,
                    "user": schema_ref("UserDto"),
                    "mfa_required": { "type": "boolean" },
                    "mfa_token": string,
                },
            }),
        ),
        (
            "TokenRequest",
            json!({
                "type": "object",
                "description": "RFC 6749 §4 token request parameters (form or JSON).",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": { "type": "string", "description": "`authorization_code`, `refresh_token`, `client_credentials`, `urn:ietf:params:oauth:grant-type:device_code`, `urn:ietf:params:oauth:grant-type:token-exchange`." },
                    "code": string, "redirect_uri": string, "code_verifier": string,
                    "refresh_token": string, "scope": string, "resource": string,
                    "device_code": string, "subject_token": string, "subject_token_type": string,
                    "client_id": string, "client_secret": string,
                    "client_assertion": string, "client_assertion_type": string,
                },
            }),
        ),
        (
            "RevocationRequest",
            json!({
                "type": "object",
                "required": ["token"],
                "properties": {
                    "token": string, "token_type_hint": string,
                    "client_id": string, "client_secret": string,
                },
            }),
        ),
        (
            "AuthorizationParams",
            json!({
                "type": "object",
                "description": "Authorization request parameters (RFC 6749 §4.1.1, PKCE) plus client authentication.",
                "properties": {
                    "response_type": string, "client_id": string, "redirect_uri": string,
                    "scope": string, "state": string, "nonce": string,
                    "code_challenge": string, "code_challenge_method": string,
                    "client_secret": string,
                },
            }),
        ),
        (
            "DeviceAuthorizationRequest",
            json!({
                "type": "object",
                "properties": { "client_id": string, "client_secret": string, "scope": string },
            }),
        ),
        (
            "ClientMetadata",
            json!({
                "type": "object",
                "description": "RFC 7591 client metadata (`redirect_uris`, `client_name`, `grant_types`, \
                    `token_endpoint_auth_method`, `scope`, `jwks`, …).",
            }),
        ),
        (
            "CallbackParams",
            json!({
                "type": "object",
                "properties": { "code": string, "state": string, "id_token": string, "user": string, "error": string },
            }),
        ),
        (
            "LogoutParams",
            json!({
                "type": "object",
                "properties": { "id_token_hint": string, "post_logout_redirect_uri": string, "state": string, "client_id": string },
            }),
        ),
        (
            "Introspection",
            json!({
                "type": "object",
                "required": ["active"],
                "properties": {
                    "active": { "type": "boolean" },
                    "sub": string, "client_id": string, "scope": string,
                    "exp": { "type": "integer" }, "iat": { "type": "integer" },
                    "iss": string, "token_type": string,
                },
            }),
        ),
        (
            "Jwks",
            json!({
                "type": "object",
                "required": ["keys"],
                "properties": { "keys": { "type": "array", "items": { "type": "object" } } },
            }),
        ),
        (
            "SigningKeyList",
            json!({
                "type": "object",
                "required": ["data"],
                "properties": { "data": { "type": "array", "items": schema_ref("SigningKeyDto") } },
            }),
        ),
        (
            "MintedToken",
            json!({ "type": "object", "description": "`{token, expires_at, …}`: the token is shown once." }),
        ),
        (
            "RoleSyncResult",
            json!({
                "type": "object",
                "required": ["dry_run", "created", "updated", "deleted", "unchanged"],
                "properties": {
                    "dry_run": { "type": "boolean" },
                    "created": { "type": "array", "items": string },
                    "updated": { "type": "array", "items": { "type": "object" } },
                    "deleted": { "type": "array", "items": string },
                    "unchanged": { "type": "array", "items": string },
                },
            }),
        ),
        (
            "Permission",
            json!({ "description": "A permission in use (its name and where it comes from)." }),
        ),
        (
            "Provider",
            json!({ "type": "object", "description": "An upstream identity provider (never its secret)." }),
        ),
        (
            "MyPermissions",
            json!({
                "type": "object",
                "required": ["role", "org_role", "permissions"],
                "properties": {
                    "role": string,
                    "org_role": nullable_string,
                    "permissions": { "type": "array", "items": string },
                },
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referenced_schema_exists() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "no schema {name}");
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let mut ids: Vec<&str> = OPS.iter().map(|op| op.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len());
    }
}
