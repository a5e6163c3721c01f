//! Domain services: every rule lives here. Handlers and resolvers parse, call one
//! service function with a capability from the guard, and shape the answer.

pub mod apps;
pub mod audit;
pub mod audit_log;
pub mod authenticate;
pub mod authz;
pub mod batch;
pub mod bus;
pub mod console;
pub mod decisions;
pub mod federation;
pub mod guard;
pub mod invites;
pub mod keys;
pub mod last_used;
pub mod lifecycle;
pub mod m2m;
pub mod mail;
pub mod mfa;
pub mod net;
pub mod oauth;
pub mod passwords;
pub mod permissions;
pub mod retention;
pub mod roles;
pub mod seed;
pub mod sessions;
pub mod signing;
pub mod stats;
pub mod tenants;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod webhooks;
pub mod worker;
