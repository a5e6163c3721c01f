//! The OAuth 2.0 / OpenID Connect provider of each app (docs/src/oauth-provider.md): clients,
//! the authorization endpoint with consent, codes with PKCE, token grants, ID tokens,
//! userinfo and revocation.

pub mod authorize;
pub mod backchannel;
pub mod client_auth;
pub mod clients;
pub mod device;
pub mod dpop;
pub mod error;
pub mod exchange;
pub mod grants;
pub mod introspection;
pub mod jti;
pub mod logout;
pub mod metadata;
pub mod pairwise;
pub mod par;
pub mod registration;
pub mod remote;
pub mod resources;
pub mod settings;
pub mod token;
pub mod web;

pub use error::OAuthError;

/// The scopes a client may request, with the text the consent screen shows.
pub const SCOPES: &[(&str, &str)] = &[
    ("openid", "Authenticate you and get your user ID"),
    ("profile", "See your profile information (name, avatar)"),
    ("email", "See your email address"),
    ("roles", "See your roles"),
    ("permissions", "See your permissions"),
    ("offline_access", "Stay connected when you are not using it"),
];

pub fn scope_description(scope: &str) -> Option<&'static str> {
    SCOPES
        .iter()
        .find(|(name, _)| *name == scope)
        .map(|(_, d)| *d)
}

/// Space-separated scopes, deduplicated, in the order of [`SCOPES`].
pub fn parse_scopes(text: &str) -> Vec<String> {
    let requested: Vec<&str> = text.split_ascii_whitespace().collect();
    let mut out: Vec<String> = SCOPES
        .iter()
        .filter(|(name, _)| requested.contains(name))
        .map(|(name, _)| (*name).to_owned())
        .collect();
    // Unknown scopes are kept (at the end) so that validation can name them.
    for r in requested {
        if scope_description(r).is_none() && !out.iter().any(|o| o == r) {
            out.push(r.to_owned());
        }
    }
    out
}

pub fn scopes_of(value: &serde_json::Value) -> Vec<String> {
    crate::services::permissions::of_json(value)
}

/// Access tokens of OAuth clients live an hour, refresh tokens thirty days.
pub const ACCESS_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(1);
pub const REFRESH_TOKEN_TTL: chrono::Duration = chrono::Duration::days(30);
pub const CODE_TTL: chrono::Duration = chrono::Duration::minutes(10);
pub const REQUEST_TTL: chrono::Duration = chrono::Duration::minutes(15);
pub const ID_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(1);
