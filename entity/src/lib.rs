//! Persistence types (sea-orm entities). These are storage shapes only: the REST
//! DTOs and GraphQL objects in the `heimdall` crate convert from them, so a column
//! change never silently changes the API.

pub mod account_token;
pub mod api_key;
pub mod app;
pub mod audit_entry;
pub mod auth_throttle;
pub mod invite;
pub mod mail_outbox;
pub mod refresh_token;
pub mod role;
pub mod root_key;
pub mod session;
pub mod signing_key;
pub mod tenant;
pub mod tenant_member;
pub mod user;
