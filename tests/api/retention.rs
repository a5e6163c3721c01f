//! The retention task: expired tokens, ended sessions, old invites and account
//! tokens are removed; everything still usable stays usable.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

const PW: &str = "correct horse battery";

async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    E::find().count(&*app.state.db).await.unwrap()
}

#[tokio::test]
async fn expired_artefacts_and_ended_sessions_are_removed_live_ones_kept() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let old = app.signup("acme", "old@example.com", PW).await;
    let old_refresh = old["refresh_token"].as_str().unwrap().to_owned();
    let failed = app
        .signin("acme", "old@example.com", "wrong password!")
        .await;
    assert_eq!(failed.status, 401);
    let invite = app
        .post(
            "/v1/apps/acme/invites",
            Some(&pak),
            json!({"email": "bob@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(invite.status, 201, "{}", invite.text);
    let reset = app
        .post(
            "/v1/apps/acme/password-resets",
            Some(&pak),
            json!({"email": "old@example.com"}),
        )
        .await;
    assert_eq!(reset.status, 201, "{}", reset.text);
    assert_eq!(count::<entity::session::Entity>(&app).await, 1);
    assert!(count::<entity::auth_throttle::Entity>(&app).await > 0);

    let purge = heimdall::services::retention::purge_expired_artifacts;
    assert_eq!(
        purge(&app.state).await.unwrap(),
        0,
        "nothing has expired yet"
    );
    let first = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": old_refresh}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let first_refresh = first.body["refresh_token"].as_str().unwrap().to_owned();

    // Two months on: the first session expired more than 30 days ago (30-day
    // refresh lifetime), the invite, reset token and throttle window long ago.
    app.clock.advance(chrono::Duration::days(61));
    let fresh = app.signin("acme", "old@example.com", PW).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let fresh_refresh = fresh.body["refresh_token"].as_str().unwrap().to_owned();
    let removed = purge(&app.state).await.unwrap();
    assert!(removed >= 5, "{removed}");
    assert_eq!(
        count::<entity::session::Entity>(&app).await,
        1,
        "the live one"
    );
    assert_eq!(count::<entity::refresh_token::Entity>(&app).await, 1);
    assert_eq!(count::<entity::invite::Entity>(&app).await, 0);
    assert_eq!(count::<entity::account_token::Entity>(&app).await, 0);
    assert_eq!(count::<entity::auth_throttle::Entity>(&app).await, 0);
    // The live session still refreshes; the purged one is simply unknown.
    let refreshed = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": fresh_refresh}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let gone = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": first_refresh}),
        )
        .await;
    gone.error(401, "unauthenticated");
    assert_eq!(purge(&app.state).await.unwrap(), 0, "idempotent");
}
