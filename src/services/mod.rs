//! Domain services: every rule lives here. Handlers and resolvers parse, call one
//! service function with a capability from the guard, and shape the answer.

pub mod apps;
pub mod keys;
pub mod signing;
pub mod validate;
