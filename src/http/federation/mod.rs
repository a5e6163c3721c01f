//! Federated sign-in over REST, split along its seams: provider configuration
//! ([`providers`]), the sign-in endpoints ([`signin`]) and identities
//! ([`identities`]).

pub mod identities;
pub mod providers;
pub mod signin;

pub use identities::*;
pub use providers::*;
pub use signin::*;
