//! The one integration-test binary (every extra binary costs a link). Each test gets
//! its own database and server through `helpers::spawn_app()`. The suite runs on
//! SQLite by default and on PostgreSQL when `HEIMDALL_TEST_POSTGRES_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_cli;
mod api_keys;
mod apps;
mod audit_log;
mod auth;
mod backchannel_logout;
mod backup;
mod cli;
mod console;
mod docs;
mod errors;
mod fake_idp;
mod faults;
mod federation;
mod graphql;
mod helpers;
mod hosted_pages;
mod hosted_passkeys;
mod instances;
mod languages;
mod lifecycle;
mod m2m;
mod metrics;
mod mfa;
mod oauth;
mod oauth_device;
mod oauth_dpop;
mod oauth_ext;
mod oauth_pages;
mod oauth_pairwise;
mod openapi;
mod ops;
mod packaging;
// Verbatim text of a docs chapter: rustfmt must not reflow it.
#[rustfmt::skip]
mod readme_verify;
mod plans;
mod receiver;
mod rekey;
mod retention;
mod roles;
mod scim;
mod signing_keys;
mod smtp_sink;
mod structure;
mod templates;
mod tenants;
mod tokens;
mod trace_context;
mod user_import;
mod users;
mod verify;
mod webhooks;
