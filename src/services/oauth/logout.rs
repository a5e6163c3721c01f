//! OpenID Connect RP-Initiated Logout 1.0 (docs/src/hosted-pages.md#signing-out):
//! checks a logout request of an OAuth client — its `id_token_hint`, `client_id`
//! and `post_logout_redirect_uri` — and says where the browser goes afterwards.
//! Ending the browser's session is the ordinary sign-out.

use entity::{app, oauth_client};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    error::{Error, Result},
    services::oauth::clients,
    state::AppState,
};

/// The request's parameters (§2), as sent.
#[derive(Debug, Default, Clone)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// A checked request.
#[derive(Debug)]
pub struct Plan {
    pub client: Option<oauth_client::Model>,
    /// The `sub` of a valid `id_token_hint`: the RP vouches for which user signs out.
    pub hinted_user: Option<Uuid>,
    /// Where to send the browser afterwards (`state` appended), when registered.
    pub redirect: Option<String>,
}

fn empty_to_none(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Checks a logout request for `app`: 400 naming the parameter when the hint is
/// not an ID token of this app, names another client than `client_id`, or the
/// `post_logout_redirect_uri` is not registered on the client (a redirect needs a
/// known client: the hint's audience or `client_id`).
pub async fn check(state: &AppState, app: &app::Model, request: &LogoutRequest) -> Result<Plan> {
    let mut hinted_user = None;
    let mut hinted_client = None;
    if let Some(hint) = empty_to_none(&request.id_token_hint) {
        let invalid = || Error::invalid_field("id_token_hint", "is not an ID token of this app");
        let claims = state
            .signing
            .verify_hint(hint, app.id)
            .await?
            .map_err(|_| invalid())?;
        if !claims
            .get("iss")
            .and_then(Value::as_str)
            .is_some_and(|iss| state.is_issuer(&app.name, iss))
        {
            return Err(invalid());
        }
        let aud = match claims.get("aud") {
            Some(Value::String(aud)) => aud.clone(),
            Some(Value::Array(list)) if list.len() == 1 => {
                list[0].as_str().unwrap_or_default().to_owned()
            }
            _ => return Err(invalid()),
        };
        hinted_user = match claims.get("sub").and_then(Value::as_str) {
            // A user id, or the pairwise identifier of a pairwise client.
            Some(sub) => super::pairwise::resolve(state, app.id, sub).await?,
            None => None,
        };
        if hinted_user.is_none() {
            return Err(invalid());
        }
        hinted_client = Some(aud);
    }
    let client_id = match (empty_to_none(&request.client_id), hinted_client.as_deref()) {
        (Some(given), Some(hinted)) if given != hinted => {
            return Err(Error::invalid_field(
                "client_id",
                "is not the audience of the id_token_hint",
            ));
        }
        (Some(given), _) => Some(given.to_owned()),
        (None, hinted) => hinted.map(str::to_owned),
    };
    let client = match &client_id {
        Some(id) => Some(
            clients::find(state, app.id, id)
                .await?
                .ok_or_else(|| Error::invalid_field("client_id", "is not a client of this app"))?,
        ),
        None => None,
    };
    let redirect = match empty_to_none(&request.post_logout_redirect_uri) {
        None => None,
        Some(uri) => {
            let Some(client) = &client else {
                return Err(Error::invalid_field(
                    "post_logout_redirect_uri",
                    "needs client_id or id_token_hint to say whose URI it is",
                ));
            };
            if !clients::post_logout_redirect_uris(client)
                .iter()
                .any(|registered| registered == uri)
            {
                return Err(Error::invalid_field(
                    "post_logout_redirect_uri",
                    "is not registered on the client (post_logout_redirect_uris)",
                ));
            }
            let mut url = url::Url::parse(uri)
                .map_err(|_| Error::invalid_field("post_logout_redirect_uri", "is not a URI"))?;
            if let Some(value) = empty_to_none(&request.state) {
                url.query_pairs_mut().append_pair("state", value);
            }
            Some(url.to_string())
        }
    };
    Ok(Plan {
        client,
        hinted_user,
        redirect,
    })
}
