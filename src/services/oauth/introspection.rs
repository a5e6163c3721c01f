//! What a token says about itself: introspection (RFC 7662) of the request's own
//! bearer, and userinfo (OIDC Core §5.3) for an OAuth access token.

use serde_json::{Map, Value, json};

use crate::{
    access::Principal,
    error::{Error, Result},
    services::{
        authenticate::{self, Presented},
        oauth::{grants, pairwise},
        users,
    },
    state::AppState,
};

/// The introspection answer for `bearer` (the request's own token) at `app`:
/// `{"active": false}` for anything that is not a live token of this app.
/// Internal and availability errors stay errors (they are not "inactive").
pub async fn introspect(
    state: &AppState,
    app: &entity::app::Model,
    presented: Option<Presented<'_>>,
) -> Result<Value> {
    let inactive = || Ok(json!({ "active": false }));
    let Some(presented) = presented else {
        return inactive();
    };
    let principal = match authenticate::authenticate_presented(state, presented).await {
        Ok(principal) => principal,
        Err(e) if keeps(&e) => return Err(e),
        Err(_) => return inactive(),
    };
    let issuer = state.issuer(&app.name);
    Ok(match principal {
        Principal::EndUser(user) if user.app_id == app.id => {
            let mut body = json!({
                "active": true,
                "token_type": "Bearer",
                "sub": user.user_id,
                "aid": user.app_id,
                "sid": user.session_id,
                "type": "end_user",
                "role": user.role,
                "iss": issuer,
                "exp": user.expires_at,
                "iat": user.issued_at,
                "jti": user.token_id,
                "amr": user.amr,
            });
            if let Some(auth_time) = user.auth_time {
                body["auth_time"] = json!(auth_time);
            }
            if let Some(org_id) = user.org_id {
                body["org_id"] = json!(org_id);
                body["org_role"] = json!(user.org_role);
            }
            body
        }
        Principal::M2m(client) if client.app_id == app.id => json!({
            "active": true,
            "token_type": "Bearer",
            "sub": client.client_id,
            "client_id": client.client_id,
            "aid": client.app_id,
            "type": "m2m",
            "scopes": client.scopes,
            "scope": client.scopes.join(" "),
            "iss": issuer,
            "exp": client.expires_at,
            "iat": client.issued_at,
            "jti": client.token_id,
        }),
        Principal::OAuth(access) if access.app_id == app.id => {
            let sub =
                pairwise::subject_for_client_id(state, app.id, access.client_id, access.user_id)
                    .await?;
            let mut body = json!({
                "active": true,
                "token_type": if access.dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
                "sub": sub,
                "client_id": access.client_id,
                "aid": access.app_id,
                "type": "oauth",
                "scope": access.scopes.join(" "),
                "iss": issuer,
                "exp": access.expires_at,
                "iat": access.issued_at,
            });
            // RFC 9449 §6.2, RFC 8707, RFC 8693 §4.1.
            if let Some(jkt) = &access.dpop_jkt {
                body["cnf"] = json!({ "jkt": jkt });
            }
            if let Some(resource) = &access.resource {
                body["aud"] = json!(resource);
            }
            if let Some(act) = &access.act {
                body["act"] = act.clone();
            }
            body
        }
        _ => return inactive(),
    })
}

/// Errors that stay errors rather than "inactive": the service's own, and DPoP
/// refusals (RFC 9449 §7.1: a `DPoP` challenge).
fn keeps(error: &Error) -> bool {
    matches!(
        error,
        Error::Internal(_) | Error::Unavailable(_) | Error::Unauthenticated { dpop: Some(_), .. }
    )
}

/// The user's claims for an OAuth access token's scopes, read live. `None` when
/// `token` is not a live OAuth access token of this app.
pub async fn userinfo(
    state: &AppState,
    app: &entity::app::Model,
    presented: Presented<'_>,
) -> Result<Option<Map<String, Value>>> {
    let access = match authenticate::authenticate_presented(state, presented).await {
        Ok(Principal::OAuth(access)) if access.app_id == app.id => access,
        Err(e) if keeps(&e) => return Err(e),
        _ => return Ok(None),
    };
    let user = users::find(&*state.db, app.id, access.user_id).await?;
    let mut claims = grants::profile_claims(state, &user, &access.scopes).await?;
    // The subject the client knows the user by (OIDC Core §5.3.2, §8).
    claims.insert(
        "sub".into(),
        json!(
            pairwise::subject_for_client_id(state, app.id, access.client_id, access.user_id)
                .await?
        ),
    );
    Ok(Some(claims))
}
