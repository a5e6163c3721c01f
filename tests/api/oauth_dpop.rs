//! OAuth for APIs and agents (docs/src/oauth-extensions.md): `resource` on the
//! authorization request (RFC 8707), DPoP-bound tokens (RFC 9449) and token exchange
//! (RFC 8693).

use heimdall::clock::Clock;
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{Jwk, ThumbprintHash},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{Resp, TestApp, read},
    oauth::{Client, REDIRECT, authorize, code_for, location_params, pkce, register, setup},
};

const INVOICES: &str = "https://api.example.com/invoices";

fn oauth_error(resp: &Resp, status: u16, error: &str) {
    assert_eq!(resp.status, status, "{}", resp.text);
    assert_eq!(resp.body["error"], error, "{}", resp.text);
}

/// A client's DPoP key pair.
struct DpopKey {
    jwk: Value,
    alg: Algorithm,
    kind: heimdall::crypto::keys::SigningAlg,
    pkcs8: Vec<u8>,
}

impl DpopKey {
    fn new(alg: heimdall::crypto::keys::SigningAlg) -> Self {
        let generated = heimdall::crypto::keys::generate(alg).unwrap();
        let jose = match alg {
            heimdall::crypto::keys::SigningAlg::ES256 => Algorithm::ES256,
            heimdall::crypto::keys::SigningAlg::EdDSA => Algorithm::EdDSA,
            _ => Algorithm::RS256,
        };
        Self {
            jwk: generated.public_jwk,
            alg: jose,
            kind: alg,
            pkcs8: generated.pkcs8,
        }
    }

    fn es256() -> Self {
        Self::new(heimdall::crypto::keys::SigningAlg::ES256)
    }

    /// RFC 7638, computed by the JOSE library (not the server's code).
    fn thumbprint(&self) -> String {
        let jwk: Jwk = serde_json::from_value(self.jwk.clone()).unwrap();
        jwk.thumbprint(ThumbprintHash::SHA256)
    }

    /// A proof with exactly this header `jwk` (the JOSE library's `Jwk` would drop
    /// private members, so the header is encoded here).
    fn proof_with(&self, header_jwk: Value, typ: &str, claims: Value) -> String {
        let alg = match self.alg {
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
            _ => "RS256",
        };
        let header = json!({"alg": alg, "typ": typ, "jwk": header_jwk});
        let b64 =
            |v: &Value| heimdall::crypto::b64url(serde_json::to_string(v).unwrap().as_bytes());
        let message = format!("{}.{}", b64(&header), b64(&claims));
        let key = heimdall::crypto::keys::PrivateKey::from_pkcs8(self.kind, &self.pkcs8).unwrap();
        let signature = heimdall::crypto::b64url(&key.sign(message.as_bytes()).unwrap());
        format!("{message}.{signature}")
    }

    fn proof(&self, app: &TestApp, htm: &str, htu: &str, token: Option<&str>) -> String {
        self.proof_nonce(app, htm, htu, token, None)
    }

    fn proof_nonce(
        &self,
        app: &TestApp,
        htm: &str,
        htu: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let mut claims = json!({
            "jti": heimdall::crypto::b64url(&heimdall::crypto::random_bytes(16).unwrap()),
            "htm": htm,
            "htu": htu,
            "iat": app.clock.now().timestamp(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(heimdall::crypto::b64url(&heimdall::crypto::sha256(
                token.as_bytes()
            )));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.proof_with(self.jwk.clone(), "dpop+jwt", claims)
    }
}

fn token_url(app: &TestApp) -> String {
    app.url("/acme/v1/oauth/token")
}

async fn token_post(app: &TestApp, form: &[(&str, &str)], dpop: Option<&str>) -> Resp {
    let mut request = app.client.post(token_url(app)).form(form);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    read(request.send().await.unwrap()).await
}

/// A request to a protected resource with `Authorization: {scheme} {token}`.
async fn protected(
    app: &TestApp,
    method: Method,
    path: &str,
    scheme: &str,
    token: &str,
    dpop: Option<&str>,
) -> Resp {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    if path.ends_with("/verify") || path.ends_with("/introspect") {
        request = request.json(&json!({}));
    }
    read(request.send().await.unwrap()).await
}

async fn create_resource(app: &TestApp, body: Value) {
    let resp = app
        .post("/v1/apps/acme/api-resources", Some(&app.root_key), body)
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
}

async fn set_settings(app: &TestApp, settings: Value) {
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({ "settings": settings }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
}

/// The claims of a JWT access token, verified with the app's published JWKS.
async fn verified_claims(app: &TestApp, token: &str, aud: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.body).unwrap();
    let key = DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[app.issuer("acme")]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

fn public_client_body(scopes: Value) -> Value {
    json!({"name": "Agent", "redirect_uris": [REDIRECT], "client_type": "public", "allowed_scopes": scopes})
}

#[tokio::test]
async fn resource_on_the_authorization_request_is_kept_by_the_code_and_refreshes() {
    let s = setup().await;
    let app = &s.app;
    create_resource(
        app,
        json!({"identifier": INVOICES, "scopes": ["invoices:read", "invoices:write"]}),
    )
    .await;
    let client = register(
        app,
        &s.developer,
        json!({"name": "Books", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "offline_access"]}),
    )
    .await;
    let secret = client.secret.clone().unwrap();
    let base = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", "s1"),
    ];
    // The resource's declared scopes only with the resource; unknown ones refused.
    for (scope, resource, error) in [
        ("openid invoices:read", None, "invalid_scope"),
        ("openid invoices:delete", Some(INVOICES), "invalid_scope"),
        (
            "openid",
            Some("https://api.example.com/unknown"),
            "invalid_target",
        ),
    ] {
        let mut query = base.to_vec();
        query.push(("scope", scope));
        if let Some(r) = resource {
            query.push(("resource", r));
        }
        let resp = authorize(app, Some(&s.user), &query).await;
        let params = location_params(&resp);
        assert_eq!(params["error"], error, "{scope} {resource:?}: {params:?}");
        assert_eq!(params["state"], "s1");
    }
    let mut query = base.to_vec();
    query.push(("scope", "openid offline_access invoices:read"));
    query.push(("resource", INVOICES));
    let resp = authorize(app, Some(&s.user), &query).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["resource"], INVOICES);
    let scopes: Vec<&str> = resp.body["requested_scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(scopes.contains(&"invoices:read"), "{scopes:?}");
    let pending = resp.body["pending_authorization_id"].as_str().unwrap();
    let resp = app
        .post(
            "/acme/v1/oauth/authorize/consent",
            Some(&s.user),
            json!({"pending_authorization_id": pending, "approved": true}),
        )
        .await;
    let code = location_params(&resp)["code"].clone();
    // Another resource at the token endpoint than at authorization: refused.
    create_resource(app, json!({"identifier": "https://api.example.com/other"})).await;
    let resp = token_post(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("client_secret", &secret),
            ("resource", "https://api.example.com/other"),
        ],
        None,
    )
    .await;
    oauth_error(&resp, 400, "invalid_target");
    // The token request need not repeat it.
    let resp = token_post(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("client_secret", &secret),
        ],
        None,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["token_type"], "Bearer");
    let claims = verified_claims(app, resp.body["access_token"].as_str().unwrap(), INVOICES).await;
    assert_eq!(claims["aud"], INVOICES);
    assert!(claims["scope"].as_str().unwrap().contains("invoices:read"));
    assert!(claims.get("cnf").is_none());
    let refresh = resp.body["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = |resource: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.clone()),
            ("client_id", client.id.clone()),
            ("client_secret", secret.clone()),
        ];
        if let Some(r) = resource {
            form.push(("resource", r.to_owned()));
        }
        form
    };
    let changed = refresh_form(Some("https://api.example.com/other"));
    let changed: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    oauth_error(
        &token_post(app, &changed, None).await,
        400,
        "invalid_target",
    );
    // Refreshes keep the resource.
    let kept = refresh_form(None);
    let kept: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = token_post(app, &kept, None).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let claims = verified_claims(app, resp.body["access_token"].as_str().unwrap(), INVOICES).await;
    assert_eq!(claims["aud"], INVOICES);
}

/// A public client's code flow with a DPoP proof at the token endpoint.
async fn dpop_tokens(s: &crate::oauth::Setup, key: &DpopKey) -> (Client, Resp) {
    let app = &s.app;
    let client = register(
        app,
        &s.developer,
        public_client_body(json!(["openid", "offline_access"])),
    )
    .await;
    let (verifier, challenge) = pkce();
    let code = code_for(
        app,
        &s.user,
        &client,
        "openid offline_access",
        Some(&challenge),
    )
    .await;
    let proof = key.proof(app, "POST", &token_url(app), None);
    let resp = token_post(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("code_verifier", &verifier),
        ],
        Some(&proof),
    )
    .await;
    (client, resp)
}

#[tokio::test]
async fn dpop_binds_tokens_and_protected_endpoints_need_the_proof() {
    let s = setup().await;
    let app = &s.app;
    let discovery = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(
        discovery.body["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "RS256"])
    );
    let key = DpopKey::es256();
    let (client, resp) = dpop_tokens(&s, &key).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["token_type"], "DPoP");
    let at = resp.body["access_token"].as_str().unwrap().to_owned();
    let rt = resp.body["refresh_token"].as_str().unwrap().to_owned();
    let userinfo = app.url("/acme/v1/oauth/userinfo");

    // As a Bearer: refused, with a DPoP challenge.
    let resp = protected(
        app,
        Method::GET,
        "/acme/v1/oauth/userinfo",
        "Bearer",
        &at,
        None,
    )
    .await;
    oauth_error(&resp, 401, "invalid_token");
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("DPoP "),
        "{:?}",
        resp.header("www-authenticate")
    );
    let resp = protected(app, Method::POST, "/acme/v1/verify", "Bearer", &at, None).await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("DPoP ")
    );

    // With the DPoP scheme and a proof of the key (ath = hash of the token).
    let proof = key.proof(app, "GET", &userinfo, Some(&at));
    let resp = protected(
        app,
        Method::GET,
        "/acme/v1/oauth/userinfo",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp.body["sub"].is_string());
    // The same proof twice: a replay.
    let resp = protected(
        app,
        Method::GET,
        "/acme/v1/oauth/userinfo",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    oauth_error(&resp, 401, "invalid_dpop_proof");
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("DPoP ")
    );
    // Without a proof, with a proof for another URL or method, without ath, or of
    // another key.
    let other = DpopKey::es256();
    for (proof, why) in [
        (None, "no proof"),
        (
            Some(key.proof(app, "GET", &token_url(app), Some(&at))),
            "htu",
        ),
        (Some(key.proof(app, "POST", &userinfo, Some(&at))), "htm"),
        (Some(key.proof(app, "GET", &userinfo, None)), "ath"),
        (
            Some(key.proof(app, "GET", &userinfo, Some("another token"))),
            "ath value",
        ),
        (
            Some(other.proof(app, "GET", &userinfo, Some(&at))),
            "other key",
        ),
    ] {
        let resp = protected(
            app,
            Method::GET,
            "/acme/v1/oauth/userinfo",
            "DPoP",
            &at,
            proof.as_deref(),
        )
        .await;
        assert_eq!(resp.status, 401, "{why}: {}", resp.text);
        assert_eq!(
            resp.body["error"], "invalid_dpop_proof",
            "{why}: {}",
            resp.text
        );
    }
    // The query is not part of htu.
    let proof = key.proof(app, "GET", &format!("{userinfo}?x=1"), Some(&at));
    let resp = protected(
        app,
        Method::GET,
        "/acme/v1/oauth/userinfo?x=1",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);

    // Introspection of the DPoP token reports its binding.
    let introspect = app.url("/acme/v1/oauth/introspect");
    let proof = key.proof(app, "POST", &introspect, Some(&at));
    let resp = protected(
        app,
        Method::POST,
        "/acme/v1/oauth/introspect",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["active"], true);
    assert_eq!(resp.body["token_type"], "DPoP");
    assert_eq!(resp.body["cnf"]["jkt"], key.thumbprint());
    // /verify accepts it too.
    let verify = app.url("/acme/v1/verify");
    let proof = key.proof(app, "POST", &verify, Some(&at));
    let resp = protected(
        app,
        Method::POST,
        "/acme/v1/verify",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["valid"], true);

    // The public client's refresh token is bound as well.
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("client_id", client.id.as_str()),
    ];
    oauth_error(&token_post(app, &refresh, None).await, 400, "invalid_grant");
    let foreign = other.proof(app, "POST", &token_url(app), None);
    oauth_error(
        &token_post(app, &refresh, Some(&foreign)).await,
        400,
        "invalid_grant",
    );
    let proof = key.proof(app, "POST", &token_url(app), None);
    let resp = token_post(app, &refresh, Some(&proof)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["token_type"], "DPoP");

    // A Bearer token is not accepted with the DPoP scheme.
    let plain = app.user_token("acme", "bob@example.com", "member").await;
    let proof = key.proof(app, "POST", &verify, Some(&plain));
    let resp = protected(
        app,
        Method::POST,
        "/acme/v1/verify",
        "DPoP",
        &plain,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 401, "{}", resp.text);
}

#[tokio::test]
async fn malformed_dpop_proofs_are_refused_at_the_token_endpoint() {
    let s = setup().await;
    let app = &s.app;
    let client = register(app, &s.developer, public_client_body(json!(["openid"]))).await;
    let key = DpopKey::es256();
    let now = app.clock.now().timestamp();
    let claims = |iat: i64| json!({"jti": format!("j{iat}"), "htm": "POST", "htu": token_url(app), "iat": iat});
    let mut private = key.jwk.clone();
    private["d"] = json!("AAAA");
    let cases = [
        (key.proof_with(key.jwk.clone(), "JWT", claims(now)), "typ"),
        (key.proof_with(private, "dpop+jwt", claims(now)), "private key"),
        (key.proof_with(key.jwk.clone(), "dpop+jwt", claims(now - 3600)), "old iat"),
        (key.proof_with(key.jwk.clone(), "dpop+jwt", claims(now + 3600)), "future iat"),
        (
            key.proof_with(
                DpopKey::es256().jwk,
                "dpop+jwt",
                claims(now),
            ),
            "signed by another key than its jwk",
        ),
        (
            key.proof_with(
                key.jwk.clone(),
                "dpop+jwt",
                json!({"jti": "x", "htm": "POST", "htu": "https://elsewhere.example.com/token", "iat": now}),
            ),
            "htu",
        ),
        ("not.a.jwt".to_owned(), "garbage"),
    ];
    for (proof, why) in cases {
        let (verifier, challenge) = pkce();
        let code = code_for(app, &s.user, &client, "openid", Some(&challenge)).await;
        let resp = token_post(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
            ],
            Some(&proof),
        )
        .await;
        assert_eq!(resp.status, 400, "{why}: {}", resp.text);
        assert_eq!(
            resp.body["error"], "invalid_dpop_proof",
            "{why}: {}",
            resp.text
        );
    }
    // EdDSA and RS256 keys work as well as ES256.
    for alg in [
        heimdall::crypto::keys::SigningAlg::EdDSA,
        heimdall::crypto::keys::SigningAlg::RS256,
    ] {
        let key = DpopKey::new(alg);
        let (verifier, challenge) = pkce();
        let code = code_for(app, &s.user, &client, "openid", Some(&challenge)).await;
        let proof = key.proof(app, "POST", &token_url(app), None);
        let resp = token_post(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
            ],
            Some(&proof),
        )
        .await;
        assert_eq!(resp.status, 200, "{alg:?}: {}", resp.text);
        assert_eq!(resp.body["token_type"], "DPoP");
    }
}

#[tokio::test]
async fn dpop_nonces_bound_clients_and_jwt_access_tokens() {
    let s = setup().await;
    let app = &s.app;
    create_resource(
        app,
        json!({"identifier": INVOICES, "scopes": ["invoices:read"]}),
    )
    .await;
    set_settings(app, json!({"dpop_nonce_required": true})).await;
    let client = register(
        app,
        &s.developer,
        json!({"name": "Bound", "redirect_uris": [REDIRECT], "client_type": "public", "allowed_scopes": ["openid"], "dpop_bound_access_tokens": true}),
    )
    .await;
    let shown = app
        .get(
            &format!("/acme/v1/oauth/clients/{}", client.id),
            Some(&s.developer),
        )
        .await;
    assert_eq!(
        shown.body["data"]["dpop_bound_access_tokens"], true,
        "{}",
        shown.text
    );
    let key = DpopKey::es256();
    let (verifier, challenge) = pkce();
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid invoices:read"),
        ("resource", INVOICES),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let resp = authorize(app, Some(&s.user), &query).await;
    let pending = resp.body["pending_authorization_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", resp.text))
        .to_owned();
    let resp = app
        .post(
            "/acme/v1/oauth/authorize/consent",
            Some(&s.user),
            json!({"pending_authorization_id": pending, "approved": true}),
        )
        .await;
    let code = location_params(&resp)["code"].clone();
    query.clear();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client.id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    // The client's tokens must be bound: no proof, no token (the code survives).
    oauth_error(
        &token_post(app, &form, None).await,
        400,
        "invalid_dpop_proof",
    );
    // The app wants nonces: the first proof gets one.
    let proof = key.proof(app, "POST", &token_url(app), None);
    let resp = token_post(app, &form, Some(&proof)).await;
    oauth_error(&resp, 400, "use_dpop_nonce");
    let nonce = resp.header("dpop-nonce").unwrap().to_owned();
    let proof = key.proof_nonce(app, "POST", &token_url(app), None, Some("wrong"));
    oauth_error(
        &token_post(app, &form, Some(&proof)).await,
        400,
        "use_dpop_nonce",
    );
    let proof = key.proof_nonce(app, "POST", &token_url(app), None, Some(&nonce));
    let resp = token_post(app, &form, Some(&proof)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["token_type"], "DPoP");
    // A JWT access token of the resource carries cnf.jkt.
    let at = resp.body["access_token"].as_str().unwrap().to_owned();
    let claims = verified_claims(app, &at, INVOICES).await;
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());
    // …and is refused as a Bearer, accepted with a proof (and the nonce).
    let resp = protected(app, Method::POST, "/acme/v1/verify", "Bearer", &at, None).await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    let verify = app.url("/acme/v1/verify");
    let proof = key.proof(app, "POST", &verify, Some(&at));
    let resp = protected(
        app,
        Method::POST,
        "/acme/v1/verify",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    assert!(resp.header("dpop-nonce").is_some());
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .contains("use_dpop_nonce")
    );
    let proof = key.proof_nonce(app, "POST", &verify, Some(&at), Some(&nonce));
    let resp = protected(
        app,
        Method::POST,
        "/acme/v1/verify",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    // Nonces age out after two five-minute windows.
    app.clock.advance(chrono::Duration::minutes(11));
    let proof = key.proof_nonce(app, "POST", &verify, Some(&at), Some(&nonce));
    let resp = protected(
        app,
        Method::POST,
        "/acme/v1/verify",
        "DPoP",
        &at,
        Some(&proof),
    )
    .await;
    assert_eq!(resp.status, 401, "{}", resp.text);
}

/// A user's opaque access token from a confidential client.
async fn user_access_token(s: &crate::oauth::Setup, scopes: &str) -> (Client, String) {
    let app = &s.app;
    let client = register(
        app,
        &s.developer,
        json!({"name": "Front", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "profile", "email"]}),
    )
    .await;
    let code = code_for(app, &s.user, &client, scopes, None).await;
    let resp = token_post(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("client_secret", client.secret.as_deref().unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    (
        client,
        resp.body["access_token"].as_str().unwrap().to_owned(),
    )
}

async fn admin_client(app: &TestApp, body: Value) -> Client {
    let resp = app
        .post("/v1/apps/acme/oauth-clients", Some(&app.root_key), body)
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    Client {
        id: resp.body["data"]["id"].as_str().unwrap().to_owned(),
        secret: resp.body["data"]["client_secret"]
            .as_str()
            .map(str::to_owned),
    }
}

async fn exchange(app: &TestApp, client: &Client, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("client_id", client.id.as_str()),
        ("client_secret", client.secret.as_deref().unwrap()),
    ];
    form.extend_from_slice(extra);
    token_post(app, &form, None).await
}

const AT_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

#[tokio::test]
async fn token_exchange_narrows_delegates_and_is_audited() {
    let s = setup().await;
    let app = &s.app;
    create_resource(app, json!({"identifier": INVOICES})).await;
    create_resource(
        app,
        json!({"identifier": "https://api.example.com/opaque", "access_token_format": "opaque"}),
    )
    .await;
    let (front, subject) = user_access_token(&s, "openid profile email").await;
    let discovery = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert!(
        discovery.body["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("urn:ietf:params:oauth:grant-type:token-exchange"))
    );

    // Only administrators grant the policy; public clients cannot have it.
    let resp = app
        .post(
            "/acme/v1/oauth/clients",
            Some(&s.developer),
            json!({"name": "Sneaky", "redirect_uris": [REDIRECT], "token_exchange": {"allowed": true, "audiences": []}}),
        )
        .await;
    assert_eq!(resp.status, 403, "{}", resp.text);
    let resp = app
        .post(
            "/v1/apps/acme/oauth-clients",
            Some(&app.root_key),
            json!({"name": "Pub", "redirect_uris": [REDIRECT], "client_type": "public", "token_exchange": {"allowed": true}}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.text);

    // Without a policy: unauthorized_client.
    oauth_error(
        &exchange(
            app,
            &front,
            &[("subject_token", &subject), ("subject_token_type", AT_TYPE)],
        )
        .await,
        400,
        "unauthorized_client",
    );
    let api = admin_client(
        app,
        json!({"name": "Invoices API", "redirect_uris": [REDIRECT], "token_exchange": {"allowed": true, "audiences": [INVOICES, "https://api.example.com/opaque"]}}),
    )
    .await;
    let shown = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{}", api.id),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(
        shown.body["data"]["token_exchange"],
        json!({"allowed": true, "audiences": [INVOICES, "https://api.example.com/opaque"]})
    );
    let subject_params = [
        ("subject_token", subject.as_str()),
        ("subject_token_type", AT_TYPE),
    ];

    // RFC error codes.
    for (extra, error) in [
        (
            vec![
                ("subject_token", "hm_at_nope"),
                ("subject_token_type", AT_TYPE),
            ],
            "invalid_grant",
        ),
        (
            vec![
                ("subject_token", subject.as_str()),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
            ],
            "invalid_request",
        ),
        (vec![("subject_token", subject.as_str())], "invalid_request"),
        (
            [&subject_params[..], &[("scope", "openid roles")]].concat(),
            "invalid_scope",
        ),
        (
            [
                &subject_params[..],
                &[("audience", "https://api.example.com/other")],
            ]
            .concat(),
            "invalid_target",
        ),
        (
            [
                &subject_params[..],
                &[(
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                )],
            ]
            .concat(),
            "invalid_request",
        ),
    ] {
        let resp = exchange(app, &api, &extra).await;
        oauth_error(&resp, 400, error);
    }

    // Narrower scopes, an opaque token of this app, acting for the user.
    let resp = exchange(
        app,
        &api,
        &[&subject_params[..], &[("scope", "profile")]].concat(),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.body["issued_token_type"], AT_TYPE);
    assert_eq!(resp.body["token_type"], "Bearer");
    assert_eq!(resp.body["scope"], "profile");
    assert!(resp.body.get("refresh_token").is_none());
    let narrowed = resp.body["access_token"].as_str().unwrap().to_owned();
    let resp = app
        .post("/acme/v1/oauth/introspect", Some(&narrowed), json!({}))
        .await;
    assert_eq!(resp.body["active"], true, "{}", resp.text);
    assert_eq!(resp.body["scope"], "profile");
    assert_eq!(resp.body["client_id"], api.id);
    assert_eq!(resp.body["act"], json!({"sub": api.id}));
    let userinfo = app.get("/acme/v1/oauth/userinfo", Some(&narrowed)).await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.text);
    assert!(userinfo.body.get("email").is_none());
    assert!(userinfo.body.get("name").is_some());

    // For an API resource: an RFC 9068 JWT with aud and act.
    let resp = exchange(
        app,
        &api,
        &[&subject_params[..], &[("resource", INVOICES)]].concat(),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let claims = verified_claims(app, resp.body["access_token"].as_str().unwrap(), INVOICES).await;
    assert_eq!(claims["act"], json!({"sub": api.id}));
    assert_eq!(claims["client_id"], api.id);
    assert_eq!(
        claims["sub"],
        s.app
            .get("/acme/v1/oauth/userinfo", Some(&subject))
            .await
            .body["sub"]
    );

    // An exchanged token exchanged again nests the previous actor.
    let again = admin_client(
        app,
        json!({"name": "Ledger API", "redirect_uris": [REDIRECT], "token_exchange": {"allowed": true, "audiences": []}}),
    )
    .await;
    let resp = exchange(
        app,
        &again,
        &[
            ("subject_token", &narrowed),
            ("subject_token_type", AT_TYPE),
        ],
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let twice = resp.body["access_token"].as_str().unwrap().to_owned();
    let resp = app
        .post("/acme/v1/oauth/introspect", Some(&twice), json!({}))
        .await;
    assert_eq!(
        resp.body["act"],
        json!({"sub": again.id, "act": {"sub": api.id}})
    );

    // Impersonation (no act) only for first-party clients.
    let first = admin_client(
        app,
        json!({"name": "Gateway", "redirect_uris": [REDIRECT], "is_first_party": true, "token_exchange": {"allowed": true, "audiences": []}}),
    )
    .await;
    let resp = exchange(app, &first, &subject_params).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let impersonating = resp.body["access_token"].as_str().unwrap().to_owned();
    let resp = app
        .post("/acme/v1/oauth/introspect", Some(&impersonating), json!({}))
        .await;
    assert_eq!(resp.body["active"], true);
    assert!(resp.body.get("act").is_none(), "{}", resp.text);

    let audited = app.audit("oauth.token_exchanged").await;
    assert_eq!(audited.len(), 4);
    let last = audited.last().unwrap();
    assert_eq!(last.metadata["impersonation"], true);
    // The subject token never appears in the audit log.
    for entry in &audited {
        let text = serde_json::to_string(&entry.metadata).unwrap();
        assert!(!text.contains(&subject));
    }

    // GraphQL shows (and sets at creation) the policy too.
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation($input: CreateOAuthClientInput!) { createOauthClient(app: \"acme\", input: $input) { client { id dpopBoundAccessTokens tokenExchange { allowed audiences } } } }",
            json!({"input": {"name": "GQL", "redirectUris": [REDIRECT], "allowedScopes": ["openid"], "dpopBoundAccessTokens": true, "tokenExchange": {"allowed": true, "audiences": [INVOICES]}}}),
        )
        .await;
    assert!(resp.body.get("errors").is_none(), "{}", resp.text);
    let created = &resp.body["data"]["createOauthClient"]["client"];
    assert_eq!(created["dpopBoundAccessTokens"], true);
    assert_eq!(
        created["tokenExchange"],
        json!({"allowed": true, "audiences": [INVOICES]})
    );
}
