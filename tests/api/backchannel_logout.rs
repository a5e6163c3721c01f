//! OpenID Connect Back-Channel Logout 1.0 (docs/src/hosted-pages.md#back-channel-logout):
//! a client's `backchannel_logout_uri` receives a signed `logout_token` when a
//! session it signed in to ends, through the webhook worker with its retries. The
//! tokens are checked with jsonwebtoken against the published JWKS.

use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde_json::{Value, json};
use url::form_urlencoded;

use crate::{
    helpers::{TestApp, spawn_app},
    hosted_pages::{PW, sign_in_and_consent},
    oauth_pages::{Browser, location},
    receiver::{Answer, Receiver},
};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// acme, alice, and a client "Planner" whose back-channel URI is the receiver.
async fn setup(receiver: &Receiver) -> (TestApp, crate::oauth::Client) {
    let app = spawn_app().await;
    app.create_app_with(json!({"name": "acme", "display_name": "Acme Cloud"}))
        .await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    app.signup("acme", "alice@example.com", PW).await;
    let client = crate::oauth::register(
        &app,
        &developer,
        json!({"name": "Planner", "redirect_uris": [crate::oauth::REDIRECT],
               "post_logout_redirect_uris": ["https://client.example.com/bye"],
               "backchannel_logout_uri": receiver.url,
               "backchannel_logout_session_required": true,
               "allowed_scopes": ["openid", "email"]}),
    )
    .await;
    (app, client)
}

/// The `logout_token` of a received request, verified with jsonwebtoken against
/// the app's JWKS (issuer and audience checked); returns header `typ` and claims.
async fn verified(app: &TestApp, body: &str, client_id: &str) -> (String, Value) {
    let token = form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no logout_token in {body}"));
    let jwks: JwkSet =
        serde_json::from_value(app.get("/acme/v1/.well-known/jwks.json", None).await.body).unwrap();
    let header = decode_header(&token).unwrap();
    let key = DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[app.issuer("acme")]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["iss", "aud", "exp", "iat"]);
    let claims = decode::<Value>(&token, &key, &validation)
        .unwrap_or_else(|e| panic!("the logout token does not verify: {e}"))
        .claims;
    (header.typ.unwrap_or_default(), claims)
}

fn id_token_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Moves the clock past a retry and lets the worker look.
fn advance(app: &TestApp, seconds: i64) {
    app.clock.advance(chrono::Duration::seconds(seconds));
    app.state.webhooks.wake();
}

/// Waits until the audit log has `n` entries of `action`.
async fn audited(app: &TestApp, action: &str, n: usize) -> Vec<entity::audit_entry::Model> {
    for _ in 0..100 {
        let entries = app.audit(action).await;
        if entries.len() >= n {
            return entries;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected {n} '{action}' audit entries");
}

#[tokio::test]
async fn rp_initiated_logout_posts_a_signed_logout_token_and_retries_after_a_500() {
    let receiver = Receiver::start().await;
    receiver.plan(&[Answer::Status(500)]);
    let (app, client) = setup(&receiver).await;

    let discovery = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(discovery.body["backchannel_logout_supported"], true);
    assert_eq!(discovery.body["backchannel_logout_session_supported"], true);
    let shown = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{}", client.id),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(shown.body["data"]["backchannel_logout_uri"], receiver.url);
    assert_eq!(
        shown.body["data"]["backchannel_logout_session_required"],
        true
    );

    let mut browser = Browser::new(&app);
    let tokens = sign_in_and_consent(&mut browser, &client).await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let id_claims = id_token_claims(&id_token);
    let sid = id_claims["sid"]
        .as_str()
        .expect("the ID token carries sid for a back-channel client")
        .to_owned();
    assert!(
        receiver.received().is_empty(),
        "nothing is sent before logout"
    );

    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", "https://client.example.com/bye")
        .append_pair("state", "s1")
        .finish();
    let (resp, _) = browser.get(&format!("/acme/v1/oauth/logout?{query}")).await;
    assert_eq!(location(&resp), "https://client.example.com/bye?state=s1");

    // The first attempt is answered 500 ...
    let first = receiver.wait_for(1).await.remove(0);
    assert_eq!(first.path, "/hooks/heimdall");
    assert_eq!(
        first.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let (typ, claims) = verified(&app, &first.body, &client.id).await;
    assert_eq!(typ, "logout+jwt");
    assert_eq!(claims["iss"], app.issuer("acme"));
    assert_eq!(claims["aud"], client.id);
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["events"], json!({ EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "a logout token has no nonce");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp > iat && exp - iat <= 300, "iat {iat}, exp {exp}");
    let queued = audited(&app, "oauth.backchannel_logout_queued", 1).await;
    assert_eq!(queued[0].target_id.as_deref(), Some(client.id.as_str()));
    assert_eq!(queued[0].metadata["session_id"], sid);
    assert!(app.audit("oauth.backchannel_logout_sent").await.is_empty());

    // ... so it is tried again on the webhook schedule (about 10 s later).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "no retry before it is due");
    advance(&app, 12);
    let second = receiver.wait_for(2).await.remove(1);
    let (_, again) = verified(&app, &second.body, &client.id).await;
    assert_eq!(again["sid"], sid);
    assert_ne!(again["jti"], claims["jti"], "every attempt is a new token");
    let sent = audited(&app, "oauth.backchannel_logout_sent", 1).await;
    assert_eq!(sent[0].metadata["attempts"], 2);
    // Acknowledged: nothing more is sent.
    advance(&app, 120);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn admin_revocation_and_deactivation_tell_the_clients_of_the_session() {
    let receiver = Receiver::start().await;
    let (app, client) = setup(&receiver).await;
    let developer = app
        .user_token("acme", "dev2@example.com", "developer")
        .await;
    // A client without a back-channel URI is never told.
    let quiet = crate::oauth::register(
        &app,
        &developer,
        json!({"name": "Quiet", "redirect_uris": [crate::oauth::REDIRECT],
               "allowed_scopes": ["openid", "email"]}),
    )
    .await;
    let mut browser = Browser::new(&app);
    let tokens = sign_in_and_consent(&mut browser, &client).await;
    let mut elsewhere = Browser::new(&app);
    let quiet_tokens = sign_in_and_consent(&mut elsewhere, &quiet).await;
    assert!(
        id_token_claims(quiet_tokens["id_token"].as_str().unwrap())
            .get("sid")
            .is_none(),
        "sid only for clients that registered back-channel logout"
    );
    let sub = id_token_claims(tokens["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();

    let resp = app
        .delete(
            &format!("/v1/apps/acme/users/{sub}/sessions"),
            Some(&app.root_key),
        )
        .await;
    assert!(resp.status < 300, "{} {}", resp.status, resp.text);
    let got = receiver.wait_for(1).await;
    let (_, claims) = verified(&app, &got[0].body, &client.id).await;
    assert_eq!(claims["sub"], sub);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1, "one notice, for Planner only");

    // Deactivation ends the sessions of a new sign-in too (with a client alice has
    // not allowed yet, so that the consent page comes).
    let later = crate::oauth::register(
        &app,
        &developer,
        json!({"name": "Later", "redirect_uris": [crate::oauth::REDIRECT],
               "backchannel_logout_uri": receiver.url,
               "allowed_scopes": ["openid", "email"]}),
    )
    .await;
    let mut browser = Browser::new(&app);
    sign_in_and_consent(&mut browser, &later).await;
    let resp = app
        .post(
            &format!("/v1/apps/acme/users/{sub}/deactivate"),
            Some(&app.root_key),
            json!({}),
        )
        .await;
    assert!(resp.status < 300, "{} {}", resp.status, resp.text);
    let got = receiver.wait_for(2).await;
    let (_, claims) = verified(&app, &got[1].body, &later.id).await;
    assert_eq!(claims["sub"], sub);
}

#[tokio::test]
async fn backchannel_logout_uris_are_validated_and_managed_over_rest_and_graphql() {
    let receiver = Receiver::start().await;
    let (app, client) = setup(&receiver).await;
    let path = format!("/v1/apps/acme/oauth-clients/{}", client.id);
    let resp = app
        .patch(
            &path,
            Some(&app.root_key),
            json!({"backchannel_logout_uri": "ftp://rp.example.com/logout"}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert!(
        resp.text.contains("backchannel_logout_uri"),
        "{}",
        resp.text
    );
    let resp = app
        .patch(
            &path,
            Some(&app.root_key),
            json!({"backchannel_logout_uri": "https://rp.example.com/logout#frag"}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    // null removes it.
    let resp = app
        .patch(
            &path,
            Some(&app.root_key),
            json!({"backchannel_logout_uri": null}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["backchannel_logout_uri"], Value::Null);

    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation($id: ID!, $uri: String) { updateOauthClient(app: \"acme\", id: $id, input: {backchannelLogoutUri: $uri, backchannelLogoutSessionRequired: false}) { backchannelLogoutUri backchannelLogoutSessionRequired } }",
            json!({"id": client.id, "uri": "https://rp.example.com/logout"}),
        )
        .await;
    assert!(resp.body.get("errors").is_none(), "{}", resp.text);
    assert_eq!(
        resp.body["data"]["updateOauthClient"],
        json!({"backchannelLogoutUri": "https://rp.example.com/logout",
               "backchannelLogoutSessionRequired": false})
    );
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation($id: ID!) { updateOauthClient(app: \"acme\", id: $id, input: {backchannelLogoutUri: \"javascript:alert(1)\"}) { id } }",
            json!({"id": client.id}),
        )
        .await;
    assert!(
        resp.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("backchannel_logout_uri")),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn dynamic_registration_takes_the_backchannel_logout_metadata() {
    let receiver = Receiver::start().await;
    let (app, _) = setup(&receiver).await;
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"dynamic_registration": "open"}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let resp = app
        .post(
            "/acme/v1/oauth/register",
            None,
            json!({"client_name": "Agent", "redirect_uris": [crate::oauth::REDIRECT],
                   "backchannel_logout_uri": receiver.url,
                   "backchannel_logout_session_required": true}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["backchannel_logout_uri"], receiver.url);
    assert_eq!(resp.body["backchannel_logout_session_required"], true);
    let resp = app
        .post(
            "/acme/v1/oauth/register",
            None,
            json!({"client_name": "Bad", "redirect_uris": [crate::oauth::REDIRECT],
                   "backchannel_logout_uri": "https://rp.example.com/logout#x"}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert_eq!(
        resp.body["error"], "invalid_client_metadata",
        "{}",
        resp.text
    );
    assert!(
        resp.body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("backchannel_logout_uri")),
        "{}",
        resp.text
    );
}
