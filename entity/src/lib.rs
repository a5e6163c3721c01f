//! Persistence types (sea-orm entities). These are storage shapes only: the REST
//! DTOs and GraphQL objects in the `heimdall` crate convert from them, so a column
//! change never silently changes the API.

pub mod account_token;
pub mod api_key;
pub mod api_resource;
pub mod app;
pub mod audit_entry;
pub mod auth_throttle;
pub mod backchannel_logout;
pub mod console_session;
pub mod federated_identity;
pub mod federation_state;
pub mod identity_provider;
pub mod invite;
pub mod m2m_client;
pub mod mail_outbox;
pub mod mfa_challenge;
pub mod mfa_factor;
pub mod mfa_recovery_code;
pub mod oauth_client;
pub mod oauth_client_settings;
pub mod oauth_code;
pub mod oauth_consent;
pub mod oauth_device_code;
pub mod oauth_initial_access_token;
pub mod oauth_jti;
pub mod oauth_par_request;
pub mod oauth_request;
pub mod oauth_session_client;
pub mod oauth_token;
pub mod refresh_token;
pub mod retained_hash_key;
pub mod role;
pub mod root_key;
pub mod scim_token;
pub mod session;
pub mod signing_key;
pub mod tenant;
pub mod tenant_member;
pub mod user;
pub mod web_session;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
