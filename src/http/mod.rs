//! The REST surface and the axum router that also mounts GraphQL and operations.

pub mod account;
pub mod api_docs;
pub mod api_keys;
pub mod api_resources;
pub mod apps;
pub mod audit_log;
pub mod authorize;
pub mod branding;
pub mod console;
pub mod consumer;
pub mod device;
pub mod envelope;
pub mod extract;
pub mod federation;
pub mod graphiql;
pub mod graphql;
pub mod hosted;
pub mod lane;
pub mod lifecycle;
pub mod login;
pub mod logout;
pub mod m2m;
pub mod metrics;
pub mod mfa;
pub mod oauth;
pub mod oauth_clients;
pub mod oauth_ext;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod principal;
pub mod response;
pub mod roles;
pub mod scim;
pub mod signing_keys;
pub mod signup;
pub mod tenants;
pub mod user_import;
pub mod users;
pub mod verify;
pub mod webhooks;
pub mod well_known;

use std::time::Duration;

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, State},
    http::{HeaderValue, Method, Request, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{error::Error, state::AppState};
use lane::{AdminLane as A, ConsumerLane as C};

use envelope::REQUEST_ID;

/// Builds the whole HTTP application, mounted under `HEIMDALL_BASE_PATH`.
pub fn router(state: AppState) -> Router {
    let admin = Router::new()
        .route("/v1/apps", post(apps::create).get(apps::list))
        .route(
            "/v1/apps/{app}",
            get(apps::get).patch(apps::update).delete(apps::delete),
        )
        .route(
            "/v1/apps/{app}/api-keys",
            post(api_keys::create).get(api_keys::list),
        )
        .route("/v1/apps/{app}/api-keys/{id}", delete(api_keys::revoke))
        .route("/v1/apps/{app}/signing-keys", get(signing_keys::list))
        .route(
            "/v1/apps/{app}/signing-keys/rotate",
            post(signing_keys::rotate),
        )
        .route(
            "/v1/apps/{app}/users",
            post(users::create::<A>).get(users::list::<A>),
        )
        // Bulk import and export (docs/src/importing-users-and-scim.md).
        .route("/v1/apps/{app}/users/import", post(user_import::import))
        .route("/v1/apps/{app}/users/export", get(user_import::export))
        .route(
            "/v1/apps/{app}/users/{id}",
            get(users::get::<A>)
                .patch(users::update::<A>)
                .delete(users::delete::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/deactivate",
            post(users::deactivate::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/reactivate",
            post(users::reactivate::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/sessions",
            get(users::list_sessions::<A>).delete(users::revoke_sessions::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/sessions/{session_id}",
            delete(users::revoke_session::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/mfa",
            get(mfa::user_factors::<A>).delete(mfa::reset_user::<A>),
        )
        .route(
            "/v1/apps/{app}/roles",
            get(roles::list::<A>)
                .post(roles::create::<A>)
                .put(roles::sync::<A>),
        )
        .route(
            "/v1/apps/{app}/roles/{name}",
            get(roles::get::<A>)
                .patch(roles::update::<A>)
                .delete(roles::delete::<A>),
        )
        .route("/v1/apps/{app}/permissions", get(roles::permissions::<A>))
        .route(
            "/v1/apps/{app}/tenants",
            post(tenants::create::<A>).get(tenants::list::<A>),
        )
        .route(
            "/v1/apps/{app}/tenants/{id}",
            get(tenants::get::<A>)
                .patch(tenants::update::<A>)
                .delete(tenants::delete::<A>),
        )
        .route(
            "/v1/apps/{app}/tenants/{id}/members",
            post(tenants::add_member::<A>).get(tenants::list_members::<A>),
        )
        .route(
            "/v1/apps/{app}/tenants/{id}/members/{user_id}",
            patch(tenants::update_member::<A>).delete(tenants::remove_member::<A>),
        )
        .route(
            "/v1/apps/{app}/m2m-clients",
            post(m2m::create).get(m2m::list),
        )
        .route(
            "/v1/apps/{app}/m2m-clients/{client_id}",
            get(m2m::get).patch(m2m::update).delete(m2m::delete),
        )
        .route(
            "/v1/apps/{app}/m2m-clients/{client_id}/rotate-secret",
            post(m2m::rotate_secret),
        )
        .route(
            "/v1/apps/{app}/oauth-clients",
            get(oauth_clients::list::<A>).post(oauth_clients::create::<A>),
        )
        .route(
            "/v1/apps/{app}/oauth-clients/{id}",
            get(oauth_clients::get::<A>)
                .patch(oauth_clients::update::<A>)
                .delete(oauth_clients::delete::<A>),
        )
        .route(
            "/v1/apps/{app}/oauth-clients/{id}/regenerate-secret",
            post(oauth_clients::regenerate_secret::<A>),
        )
        // Public: client credentials with a JSON body (docs/src/machine-clients.md).
        .route("/v1/apps/{app}/tokens", post(oauth::app_token))
        .route(
            "/v1/apps/{app}/api-resources",
            post(api_resources::create).get(api_resources::list),
        )
        .route(
            "/v1/apps/{app}/api-resources/{id}",
            get(api_resources::get)
                .patch(api_resources::update)
                .delete(api_resources::delete),
        )
        .route(
            "/v1/apps/{app}/oauth-initial-access-tokens",
            post(oauth_ext::mint_initial_token).get(oauth_ext::list_initial_tokens),
        )
        .route(
            "/v1/apps/{app}/oauth-initial-access-tokens/{id}",
            delete(oauth_ext::revoke_initial_token),
        )
        // Federated sign-in: provider configuration and users' identities.
        .route("/v1/apps/{app}/providers", get(federation::list_providers))
        .route(
            "/v1/apps/{app}/providers/apple",
            get(federation::get_apple)
                .put(federation::put_apple)
                .delete(federation::delete_apple),
        )
        .route(
            "/v1/apps/{app}/providers/{id}",
            get(federation::get_provider)
                .put(federation::put_provider)
                .delete(federation::delete_provider),
        )
        .route(
            "/v1/apps/{app}/users/{id}/identities",
            get(federation::list_user_identities::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/identities/{identity_id}",
            delete(federation::unlink_user_identity::<A>),
        )
        // Webhooks.
        .route(
            "/v1/apps/{app}/webhooks",
            post(webhooks::create).get(webhooks::list),
        )
        .route(
            "/v1/apps/{app}/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/v1/apps/{app}/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route(
            "/v1/apps/{app}/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/v1/apps/{app}/webhooks/{id}/deliveries/{delivery_id}",
            get(webhooks::webhook_delivery),
        )
        .route(
            "/v1/apps/{app}/webhooks/{id}/test",
            post(webhooks::send_test),
        )
        .route(
            "/v1/apps/{app}/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(webhooks::redeliver_webhook_delivery),
        )
        // Flat aliases: a delivery id names its webhook.
        .route(
            "/v1/apps/{app}/webhooks/deliveries/{id}",
            get(webhooks::delivery),
        )
        .route(
            "/v1/apps/{app}/webhooks/deliveries/{id}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/v1/apps/{app}/audit-log", get(audit_log::list::<A>))
        // SCIM provisioning tokens (docs/src/importing-users-and-scim.md).
        .route(
            "/v1/apps/{app}/scim-tokens",
            post(scim::create_token).get(scim::list_tokens),
        )
        .route(
            "/v1/apps/{app}/scim-tokens/{id}",
            delete(scim::revoke_token),
        )
        // Account lifecycle.
        .route(
            "/v1/apps/{app}/invites",
            post(lifecycle::create::<A>).get(lifecycle::list::<A>),
        )
        .route(
            "/v1/apps/{app}/invites/{id}",
            get(lifecycle::get::<A>).delete(lifecycle::revoke::<A>),
        )
        .route(
            "/v1/apps/{app}/users/{id}/email-verification",
            post(lifecycle::mint_email_verification),
        )
        .route(
            "/v1/apps/{app}/password-resets",
            post(lifecycle::mint_password_reset),
        )
        .method_not_allowed_fallback(method_not_allowed);

    let consumer = Router::new()
        .route("/{slug}/v1/auth/signup", post(consumer::signup))
        .route("/{slug}/v1/auth/signin", post(consumer::signin))
        .route("/{slug}/v1/auth/refresh", post(consumer::refresh))
        .route("/{slug}/v1/auth/signout", post(consumer::signout))
        // Multi-factor authentication (docs/src/mfa.md).
        .route("/{slug}/v1/auth/mfa/verify", post(mfa::verify))
        .route(
            "/{slug}/v1/auth/mfa/webauthn/start",
            post(mfa::webauthn_start),
        )
        .route("/{slug}/v1/auth/passkey/start", post(mfa::passkey_start))
        .route("/{slug}/v1/auth/passkey/finish", post(mfa::passkey_finish))
        .route("/{slug}/v1/me/mfa", get(mfa::my_factors))
        .route("/{slug}/v1/me/mfa/totp", post(mfa::enroll_totp))
        .route(
            "/{slug}/v1/me/mfa/totp/{id}/confirm",
            post(mfa::confirm_totp),
        )
        .route(
            "/{slug}/v1/me/mfa/webauthn/register/start",
            post(mfa::start_webauthn_registration),
        )
        .route(
            "/{slug}/v1/me/mfa/webauthn/register/finish",
            post(mfa::finish_webauthn_registration),
        )
        .route(
            "/{slug}/v1/me/mfa/recovery-codes",
            post(mfa::regenerate_recovery_codes),
        )
        .route("/{slug}/v1/me/mfa/{id}", delete(mfa::remove_factor))
        .route(
            "/{slug}/v1/users/{id}/mfa",
            get(mfa::user_factors::<C>).delete(mfa::reset_user::<C>),
        )
        .route(
            "/{slug}/v1/me",
            get(consumer::me).patch(consumer::update_me),
        )
        .route("/{slug}/v1/me/password", post(consumer::change_password))
        .route("/{slug}/v1/me/sessions", get(consumer::my_sessions))
        .route(
            "/{slug}/v1/me/sessions/{id}",
            delete(consumer::revoke_my_session),
        )
        .route("/{slug}/v1/me/permissions", get(consumer::my_permissions))
        .route("/{slug}/v1/audit-log", get(audit_log::list::<C>))
        .route("/{slug}/v1/me/tenants", get(consumer::my_tenants))
        .route(
            "/{slug}/v1/me/tenants/{id}/switch",
            post(consumer::switch_tenant),
        )
        // The consumer-API admin lane: end users, as far as their permissions go.
        .route(
            "/{slug}/v1/users",
            get(users::list::<C>).post(users::create::<C>),
        )
        .route(
            "/{slug}/v1/users/{id}",
            get(users::get::<C>).patch(users::update::<C>),
        )
        .route(
            "/{slug}/v1/users/{id}/deactivate",
            post(users::deactivate::<C>),
        )
        .route(
            "/{slug}/v1/users/{id}/reactivate",
            post(users::reactivate::<C>),
        )
        .route(
            "/{slug}/v1/users/{id}/sessions",
            get(users::list_sessions::<C>).delete(users::revoke_sessions::<C>),
        )
        .route(
            "/{slug}/v1/users/{id}/sessions/{session_id}",
            delete(users::revoke_session::<C>),
        )
        .route(
            "/{slug}/v1/roles",
            get(roles::list::<C>).post(roles::create::<C>),
        )
        .route(
            "/{slug}/v1/roles/{name}",
            get(roles::get::<C>)
                .patch(roles::update::<C>)
                .delete(roles::delete::<C>),
        )
        .route("/{slug}/v1/permissions", get(roles::permissions::<C>))
        .route(
            "/{slug}/v1/tenants/{id}/members",
            get(tenants::list_members::<C>).post(tenants::add_member::<C>),
        )
        .route(
            "/{slug}/v1/tenants/{id}/members/{user_id}",
            patch(tenants::update_member::<C>).delete(tenants::remove_member::<C>),
        )
        .route("/{slug}/v1/oauth/authorize", get(authorize::authorize))
        .route(
            "/{slug}/v1/oauth/authorize/consent",
            post(authorize::consent),
        )
        .route(
            "/{slug}/v1/oauth/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/{slug}/v1/oauth/revoke", post(oauth::revoke))
        .route(
            "/{slug}/v1/oauth/clients",
            get(oauth_clients::list::<C>).post(oauth_clients::create::<C>),
        )
        .route(
            "/{slug}/v1/oauth/clients/all",
            get(oauth_clients::list_all::<C>),
        )
        .route(
            "/{slug}/v1/oauth/clients/{id}",
            get(oauth_clients::get::<C>)
                .patch(oauth_clients::update::<C>)
                .delete(oauth_clients::delete::<C>),
        )
        .route(
            "/{slug}/v1/oauth/clients/{id}/regenerate-secret",
            post(oauth_clients::regenerate_secret::<C>),
        )
        .route("/{slug}/v1/oauth/token", post(oauth::token))
        .route("/{slug}/v1/oauth/introspect", post(oauth::introspect))
        // OAuth extensions (docs/src/oauth-extensions.md).
        .route("/{slug}/v1/oauth/register", post(oauth_ext::register))
        .route(
            "/{slug}/v1/oauth/register/{client_id}",
            get(oauth_ext::read_registration)
                .put(oauth_ext::replace_registration)
                .delete(oauth_ext::delete_registration),
        )
        .route(
            "/{slug}/v1/oauth/device_authorization",
            post(oauth_ext::device_authorization),
        )
        .route(
            "/{slug}/v1/oauth/par",
            post(oauth_ext::pushed_authorization_request),
        )
        .route("/{slug}/v1/verify", post(verify::verify))
        .route("/{slug}/v1/authorize", post(verify::authorize))
        .route("/{slug}/v1/authorize/batch", post(verify::authorize_batch))
        // Federated sign-in (Sign in with Apple, generic OIDC upstreams).
        .route("/{slug}/v1/auth/apple", post(federation::apple_native))
        .route("/{slug}/v1/auth/apple/start", get(federation::apple_start))
        .route(
            "/{slug}/v1/auth/apple/callback",
            post(federation::apple_callback),
        )
        .route(
            "/{slug}/v1/auth/{provider}/start",
            get(federation::oidc_start),
        )
        .route(
            "/{slug}/v1/auth/{provider}/callback",
            get(federation::oidc_callback).post(federation::oidc_callback),
        )
        .route("/{slug}/v1/me/identities", get(federation::my_identities))
        .route(
            "/{slug}/v1/me/identities/{id}",
            delete(federation::unlink_my_identity),
        )
        .route(
            "/{slug}/v1/users/{id}/identities",
            get(federation::list_user_identities::<C>),
        )
        .route(
            "/{slug}/v1/users/{id}/identities/{identity_id}",
            delete(federation::unlink_user_identity::<C>),
        )
        // Account lifecycle.
        .route(
            "/{slug}/v1/invites",
            get(lifecycle::list::<C>).post(lifecycle::create::<C>),
        )
        .route(
            "/{slug}/v1/invites/{id}",
            get(lifecycle::get::<C>).delete(lifecycle::revoke::<C>),
        )
        .route("/{slug}/v1/email/verify", post(lifecycle::verify_email))
        .route(
            "/{slug}/v1/email/verification/resend",
            post(lifecycle::resend_verification),
        )
        .route(
            "/{slug}/v1/password/forgot",
            post(lifecycle::forgot_password),
        )
        .route("/{slug}/v1/password/reset", post(lifecycle::reset_password))
        .route("/{slug}/v1/.well-known/jwks.json", get(well_known::jwks))
        .route(
            "/{slug}/v1/.well-known/openid-configuration",
            get(well_known::discovery),
        )
        .route(
            "/{slug}/.well-known/openid-configuration",
            get(well_known::discovery),
        )
        // RFC 8414 authorization-server metadata, at both forms of the path.
        .route(
            "/.well-known/oauth-authorization-server/{slug}",
            get(well_known::authorization_server),
        )
        .route(
            "/{slug}/.well-known/oauth-authorization-server",
            get(well_known::authorization_server),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(well_known::authorization_server_default),
        )
        // The default app (HEIMDALL_DEFAULT_APP) at the root paths.
        .route(
            "/.well-known/openid-configuration",
            get(well_known::discovery_default),
        )
        .route(
            "/v1/.well-known/openid-configuration",
            get(well_known::discovery_default),
        )
        .route("/v1/.well-known/jwks.json", get(well_known::jwks_default))
        // Before the CORS layer, so that preflights of GET-only routes reach it.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(cors_layer(state.clone()));

    // SCIM 2.0 (RFC 7644) per app; no CORS (directories call it server to server).
    let scim_routes = Router::new()
        .route(
            "/{slug}/scim/v2/ServiceProviderConfig",
            get(scim::service_provider_config),
        )
        .route("/{slug}/scim/v2/ResourceTypes", get(scim::resource_types))
        .route(
            "/{slug}/scim/v2/ResourceTypes/{name}",
            get(scim::resource_type),
        )
        .route("/{slug}/scim/v2/Schemas", get(scim::schemas))
        .route("/{slug}/scim/v2/Schemas/{id}", get(scim::schema))
        .route(
            "/{slug}/scim/v2/Users",
            get(scim::list_users).post(scim::create_user),
        )
        .route(
            "/{slug}/scim/v2/Users/{id}",
            get(scim::get_user)
                .put(scim::replace_user)
                .patch(scim::patch_user)
                .delete(scim::delete_user),
        )
        .route(
            "/{slug}/scim/v2/Groups",
            get(scim::list_groups).post(scim::create_group),
        )
        .route(
            "/{slug}/scim/v2/Groups/{id}",
            get(scim::get_group)
                .put(scim::replace_group)
                .patch(scim::patch_group)
                .delete(scim::delete_group),
        )
        .route("/{slug}/scim/v2/.search", post(scim::search_all))
        .route("/{slug}/scim/v2/{*rest}", axum::routing::any(scim::unknown))
        .method_not_allowed_fallback(method_not_allowed);

    let ops = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        // The OpenAPI document and its browsable reference (docs/src/api-conventions.md#openapi).
        .route("/openapi.json", get(api_docs::document))
        .route("/docs/api", get(api_docs::page))
        .route("/docs/api/assets/{file}", get(api_docs::asset))
        .method_not_allowed_fallback(method_not_allowed);

    // Routes of no one app that browsers call: an origin any app allows may.
    let schema = crate::graphql::build_schema(state.config.graphql_introspection);
    let shared = Router::new()
        .route(
            "/graphql",
            get(graphiql::page).post(
                move |State(state): State<AppState>, request: Request<axum::body::Body>| {
                    graphql::execute(state, schema.clone(), request)
                },
            ),
        )
        .route("/v1/invites/{token}/accept", post(lifecycle::accept))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(shared_cors_layer(state.clone()));

    // Hosted pages (HTML, same-origin forms; no CORS).
    let pages = Router::new()
        .route(
            "/{slug}/reset-password",
            get(hosted::reset_password_page).post(hosted::reset_password_submit),
        )
        .route(
            "/{slug}/verify-email",
            get(hosted::verify_email_page).post(hosted::verify_email_submit),
        )
        .route(
            "/{slug}/login",
            get(login::login_page).post(login::login_submit),
        )
        .route("/{slug}/login/mfa", post(login::mfa_submit))
        .route("/{slug}/login/mfa/enroll", post(login::enrol_submit))
        .route("/{slug}/login/with/{provider}", get(login::federated_start))
        .route(
            "/{slug}/signup",
            get(signup::signup_page).post(signup::signup_submit),
        )
        .route(
            "/{slug}/v1/oauth/logout",
            get(logout::logout).post(logout::logout),
        )
        .route("/{slug}/language", post(hosted::language_submit))
        .route("/{slug}/account", get(account::account_page))
        .route("/{slug}/account/profile", post(account::profile_submit))
        .route("/{slug}/account/password", post(account::password_submit))
        .route(
            "/{slug}/account/sessions/revoke",
            post(account::session_revoke),
        )
        .route(
            "/{slug}/account/identities/unlink",
            post(account::identity_unlink),
        )
        .route("/{slug}/account/mfa/remove", post(account::factor_remove))
        .route(
            "/{slug}/account/passkeys/start",
            post(account::passkey_start),
        )
        .route(
            "/{slug}/account/passkeys/finish",
            post(account::passkey_finish),
        )
        .route("/{slug}/account/passkey.js", get(account::passkey_script))
        .route("/{slug}/account/mfa/totp", post(account::totp_start))
        .route(
            "/{slug}/account/mfa/totp/confirm",
            post(account::totp_confirm),
        )
        .route(
            "/{slug}/account/mfa/recovery-codes",
            post(account::recovery_codes),
        )
        .route("/{slug}/account/apps/revoke", post(account::consent_revoke))
        .route("/{slug}/account/signout", post(account::signout))
        .route(
            "/{slug}/forgot-password",
            get(signup::forgot_page).post(signup::forgot_submit),
        )
        .route("/{slug}/login/webauthn.js", get(login::webauthn_script))
        .route("/{slug}/login/passkey", post(login::passkey_submit))
        .route("/{slug}/login/passkey.js", get(login::passkey_script))
        .route(
            "/{slug}/consent",
            get(login::consent_page).post(login::consent_submit),
        )
        .route(
            "/{slug}/device",
            get(device::device_page).post(device::device_submit),
        )
        .route(
            "/{slug}/accept-invite",
            get(hosted::accept_invite_page).post(hosted::accept_invite_submit),
        )
        .method_not_allowed_fallback(method_not_allowed);

    // The admin console (same-origin only; its session cookie is SameSite=Strict).
    let console = Router::new()
        .route("/console", get(console::root))
        .route("/console/", get(console::app))
        .route(
            "/console/session",
            post(console::sign_in)
                .get(console::current)
                .delete(console::sign_out),
        )
        .route("/console/session/oauth", post(console::start_oauth))
        .route("/console/{*path}", get(console::asset))
        .method_not_allowed_fallback(method_not_allowed);

    let app = Router::new()
        .merge(admin)
        .merge(console)
        .merge(consumer)
        .merge(scim_routes)
        .merge(pages)
        .merge(ops)
        .merge(shared)
        .merge(metrics::routes(&state));
    // Request series only where metrics are on (a layer less on every request).
    let app = if state.config.metrics_enabled() {
        app.route_layer(axum::middleware::from_fn(metrics::track))
    } else {
        app
    };
    // The access-log span, on each route (after routing, so that it names the
    // matched route).
    let app = app.fallback(not_found).layer(
        TraceLayer::new_for_http()
            .make_span_with(access_span)
            .on_request(())
            // Access logs are DEBUG: at tens of thousands of requests per second a line
            // each is the bottleneck. `HEIMDALL_LOG=info,tower_http=debug` shows them.
            .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
    );
    let app = app.with_state(state.clone());

    // The default app (HEIMDALL_DEFAULT_APP) also serves the OAuth endpoints at the
    // root paths (`/v1/oauth/token`, …): those requests are routed as if
    // they had the app's slug in front.
    let app = match state.config.default_app.clone() {
        Some(slug) => Router::new().fallback_service(tower::util::MapRequest::new(
            app,
            move |req: Request<axum::body::Body>| with_default_app(req, &slug),
        )),
        None => app,
    };

    let app = if state.config.base_path.is_empty() {
        app
    } else {
        Router::new()
            .nest(&state.config.base_path, app)
            .fallback(not_found)
    };

    // Around the whole router as one service: `Router::layer` wraps every route
    // again (a boxed service, and a boxed future per request, for each layer).
    let service = tower::ServiceBuilder::new()
        .layer(envelope::EnvelopeLayer)
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .service(app);
    Router::new().fallback_service(service)
}

/// The access-log span of a request: the matched route, never the raw URI (paths and
/// queries can carry tokens). Its fields are evaluated only if the span is enabled, so
/// at `HEIMDALL_LOG=warn` nothing is formatted.
fn access_span<B>(req: &Request<B>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("-");
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let trace_id = req
        .extensions()
        .get::<crate::trace::TraceContext>()
        .map(crate::trace::TraceContext::trace_id_display);
    tracing::info_span!(
        "request",
        method = %req.method(),
        route,
        request_id,
        trace_id = trace_id.as_ref().map(tracing::field::display)
    )
}

/// `/v1/oauth/…` → `/{slug}/v1/oauth/…` (query kept); other requests pass unchanged.
fn with_default_app(mut req: Request<axum::body::Body>, slug: &str) -> Request<axum::body::Body> {
    let uri = req.uri();
    if !uri.path().starts_with("/v1/oauth/") {
        return req;
    }
    let rewritten = match uri.query() {
        Some(query) => format!("/{slug}{}?{query}", uri.path()),
        None => format!("/{slug}{}", uri.path()),
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(path_and_query) = rewritten.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

async fn not_found() -> Response {
    Error::not_found("no such route").into_response()
}

async fn method_not_allowed() -> Response {
    Error::MethodNotAllowed.into_response()
}

/// CORS for the consumer lane: an origin is allowed when the app named by the
/// path's first segment lists it in `allowed_origins`.
fn cors_layer(state: AppState) -> CorsLayer {
    cors_rules(AllowOrigin::async_predicate(
        move |origin: HeaderValue, parts: &Parts| {
            let state = state.clone();
            let slug = parts
                .uri
                .path()
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            async move {
                let Ok(origin) = origin.to_str() else {
                    return false;
                };
                let slug = if slug == "v1" || slug == ".well-known" {
                    match &state.config.default_app {
                        Some(default) => default.clone(),
                        None => return false,
                    }
                } else {
                    slug
                };
                match state.apps.by_name(&slug).await {
                    Ok(Some(app)) => state
                        .apps
                        .settings(&app)
                        .await
                        .allowed_origins
                        .iter()
                        .any(|allowed| allowed == origin),
                    _ => false,
                }
            }
        },
    ))
}

/// CORS for routes that belong to no one app (`/graphql`, accepting an invite): an
/// origin is allowed when any app lists it in `allowed_origins`. Credentials stay
/// off: these routes authenticate with the `Authorization` header, never cookies.
fn shared_cors_layer(state: AppState) -> CorsLayer {
    cors_rules(AllowOrigin::async_predicate(
        move |origin: HeaderValue, _parts: &Parts| {
            let state = state.clone();
            async move {
                match origin.to_str() {
                    Ok(origin) => state
                        .apps
                        .origin_allowed_anywhere(origin)
                        .await
                        .unwrap_or(false),
                    Err(_) => false,
                }
            }
        },
    ))
}

fn cors_rules(origins: AllowOrigin) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            REQUEST_ID,
            header::WWW_AUTHENTICATE,
            header::RETRY_AFTER,
            header::LOCATION,
        ])
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_access_span_names_method_request_id_and_trace_id() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let context = crate::trace::TraceContext::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/acme/v1/authorize?token=secret")
            .header(&REQUEST_ID, "req-1")
            .body(())
            .unwrap();
        req.extensions_mut().insert(context);
        tracing::subscriber::with_default(subscriber, || {
            let span = access_span(&req);
            let _entered = span.enter();
            tracing::info!("inside");
        });
        let line = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(line.contains("method=POST"), "{line}");
        assert!(line.contains("request_id=\"req-1\""), "{line}");
        assert!(
            line.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"),
            "{line}"
        );
        assert!(!line.contains("secret"), "{line}");
    }
}
