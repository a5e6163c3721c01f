//! Heimdall: a self-hostable, GraphQL-first identity platform.
//!
//! Layers, outermost first: [`http`] (REST handlers and the router) and [`graphql`]
//! (schema and resolvers) both authenticate through [`auth`] (the principal
//! extractor and the one guard) and call [`services`], which hold every rule and talk
//! to the database through [`db`] and the `entity` crate. Pages and mail bodies
//! are rendered from [`templates`], at the bottom with [`config`] and [`crypto`].

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod request;
pub mod services;
pub mod startup;
pub mod state;
pub mod templates;
