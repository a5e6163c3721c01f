//! The extension settings of a client (`oauth_client_settings`; docs/src/oauth-extensions.md).
//! Clients registered before them, or through the REST/GraphQL management, have no
//! row and the defaults: secret authentication, no JWT keys, PAR optional.

use entity::{oauth_client, oauth_client_settings};
use sea_orm::EntityTrait;

use super::clients;
use crate::{error::Result, state::AppState};

/// The settings row of a client, if it has one.
pub async fn of(
    state: &AppState,
    client_id: uuid::Uuid,
) -> Result<Option<oauth_client_settings::Model>> {
    Ok(oauth_client_settings::Entity::find_by_id(client_id)
        .one(&*state.db)
        .await?)
}

/// The client's `token_endpoint_auth_method`.
pub fn auth_method<'a>(
    client: &oauth_client::Model,
    settings: Option<&'a oauth_client_settings::Model>,
) -> &'a str {
    match settings {
        Some(s) => s.token_endpoint_auth_method.as_str(),
        None if client.client_type == clients::PUBLIC => "none",
        None => "client_secret_basic",
    }
}

/// Whether the client authenticates with a JWT assertion (RFC 7523) only.
pub fn requires_assertion(method: &str) -> bool {
    method == "private_key_jwt" || method == "client_secret_jwt"
}
