//! The Rust webhook verification snippet of `docs/src/webhooks-and-audit-log.md`,
//! verbatim (a test checks that the chapter still holds exactly this text, between
//! its marker and the end of the code block) so that it is compiled and run.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `raw_body` exactly as received; `header` is `x-heimdall-signature`.
fn verify_signature(raw_body: &[u8], header: &str, secret: &str, now_unix: i64) -> bool {
    let (mut t, mut signatures) = (None, Vec::new());
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_unix - t).abs() > 300 {
        return false; // too old (or from the future): a replay
    }
    signatures.iter().any(|hex_sig| {
        let Ok(expected) = hex::decode(hex_sig) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{t}.").as_bytes());
        mac.update(raw_body);
        mac.verify_slice(&expected).is_ok()
    })
}

#[tokio::test]
async fn the_webhook_chapter_rust_snippet_verifies_a_real_delivery() {
    use serde_json::json;

    use crate::{helpers::spawn_app, receiver::Receiver};

    // The chapter holds this file's snippet verbatim.
    let chapter = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/src/webhooks-and-audit-log.md"
    ))
    .unwrap();
    let this = include_str!("readme_verify.rs");
    let snippet_start = this.find("use hmac").unwrap();
    let snippet_end = this.find("\n#[tokio::test]").unwrap();
    let marker = "<!-- webhook-verify-rust: tests/api/readme_verify.rs -->\n```rust\n";
    let in_chapter = chapter.find(marker).expect("snippet marker") + marker.len();
    let snippet = &this[snippet_start..snippet_end];
    assert!(snippet.contains("fn verify_signature("), "the snippet was found in this file");
    assert!(
        chapter[in_chapter..].starts_with(&format!("{snippet}```\n")),
        "the chapter's Rust snippet and tests/api/readme_verify.rs differ"
    );

    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let receiver = Receiver::start().await;
    let created = app
        .post(
            "/v1/apps/acme/webhooks",
            Some(&pak),
            json!({"url": receiver.url, "events": ["user.created"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_str().unwrap();
    let old = created.body["data"]["secret"].as_str().unwrap().to_owned();
    let rotated = app
        .post(
            &format!("/v1/apps/acme/webhooks/{id}/rotate-secret"),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new = rotated.body["data"]["secret"].as_str().unwrap().to_owned();
    app.post(
        "/v1/apps/acme/users",
        Some(&pak),
        json!({"email": "ünïcode@example.com"}),
    )
    .await;
    let hit = receiver.wait_for(1).await.remove(0);
    let header = hit.header("x-heimdall-signature").to_owned();
    let t: i64 = hit.header("x-heimdall-timestamp").parse().unwrap();
    let body = hit.body.as_bytes();
    assert!(verify_signature(body, &header, &new, t + 5));
    assert!(
        verify_signature(body, &header, &old, t),
        "the previous secret during the overlap"
    );
    assert!(!verify_signature(body, &header, "whsec_not_the_secret", t));
    let tampered = hit.body.replace("example.com", "example.org");
    assert!(!verify_signature(tampered.as_bytes(), &header, &new, t));
    assert!(
        !verify_signature(body, &header, &new, t + 301),
        "a replay after five minutes"
    );
}
