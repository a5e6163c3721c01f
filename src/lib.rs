//! Heimdall: a self-hostable, GraphQL-first identity platform.
//!
//! Layers, outermost first, each importing only those below it (a test checks):
//!
//! - [`http`]: the axum router, REST handlers, the GraphQL HTTP glue and the hosted
//!   pages. It authenticates the request into a [`access::Principal`].
//! - [`graphql`]: the schema and its resolvers.
//! - [`services`]: every rule. `services::guard` turns a principal and the app a
//!   request addresses into a capability; each service entry point takes the
//!   capability it needs and checks the permission its operation needs.
//! - [`access`] (principals, typed permissions, capabilities), [`db`], [`crypto`],
//!   [`error`] and the `entity` crate.
//!
//! Handlers and resolvers parse, ask the guard for a capability, call one service
//! and shape the answer; they name no permission, so REST and GraphQL agree.
//!
//! Pages and mail bodies are rendered from [`templates`], at the bottom with
//! [`config`] and [`crypto`].

pub mod access;
pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod i18n;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod request;
pub mod services;
pub mod startup;
pub mod state;
pub mod templates;
pub mod trace;
