//! Prometheus metrics: `/metrics` on the main listener only with its own bearer, or
//! on a separate listener; the series move when what they count happens.

use std::time::Duration;

use heimdall::{clock::ManualClock, config::Secret, startup::Application};
use serde_json::json;

use crate::{
    helpers::{TestApp, TestDb, spawn_app_with, test_config},
    m2m::create_client,
};

const TOKEN: &str = "metrics-bearer-for-tests";

/// The sum of every sample of `name` whose labels include all of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| v.parse::<f64>().unwrap())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let resp = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    resp.text().await.unwrap()
}

#[tokio::test]
async fn series_move_when_what_they_count_happens() {
    let app = spawn_app_with(|c| c.metrics_token = Some(Secret::new(TOKEN.to_owned()))).await;
    app.get("/metrics", None)
        .await
        .error(401, "unauthenticated");
    app.get("/metrics", Some("wrong"))
        .await
        .error(401, "unauthenticated");
    let before = scrape(&app).await;

    let created = app.create_app("acme").await;
    let app_id = created["id"].as_str().unwrap().to_owned();
    let pak = app.create_pak("acme").await;
    let hook = app
        .post(
            "/v1/apps/acme/webhooks",
            Some(&pak),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["user.created"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);
    app.signup("acme", "ada@example.com", "correct horse 1")
        .await;
    assert_eq!(
        app.signin("acme", "ada@example.com", "correct horse 1")
            .await
            .status,
        200
    );
    assert_eq!(
        app.signin("acme", "ada@example.com", "wrong password 1")
            .await
            .status,
        401
    );
    let machine = create_client(&app, "acme", json!([])).await;
    let m2m = app
        .post(
            "/v1/apps/acme/tokens",
            None,
            json!({"grant_type": "client_credentials", "client_id": machine.id,
                   "client_secret": machine.secret}),
        )
        .await;
    assert_eq!(m2m.status, 200, "{}", m2m.text);

    // The webhook target refuses connections: the delivery is retried.
    let mut after = scrape(&app).await;
    for _ in 0..100 {
        if value(
            &after,
            "heimdall_webhook_deliveries_total",
            &[("outcome", "retrying")],
        ) > value(
            &before,
            "heimdall_webhook_deliveries_total",
            &[("outcome", "retrying")],
        ) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape(&app).await;
    }
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert!(
        moved("heimdall_signins_total", &[("outcome", "success")]) >= 1.0,
        "{after}"
    );
    assert!(
        moved("heimdall_signins_total", &[("outcome", "failure")]) >= 1.0,
        "{after}"
    );
    assert!(
        moved(
            "heimdall_tokens_issued_total",
            &[("grant_type", "sign_in"), ("app", &app_id)]
        ) >= 1.0,
        "{after}"
    );
    assert!(
        moved(
            "heimdall_tokens_issued_total",
            &[("grant_type", "client_credentials"), ("app", &app_id)]
        ) >= 1.0,
        "{after}"
    );
    let signin_route = [("route", "/{slug}/v1/auth/signin"), ("method", "POST")];
    assert!(
        moved(
            "heimdall_http_requests_total",
            &[signin_route[0], signin_route[1], ("status", "2xx")]
        ) >= 1.0,
        "{after}"
    );
    assert!(
        moved(
            "heimdall_http_requests_total",
            &[signin_route[0], signin_route[1], ("status", "4xx")]
        ) >= 1.0
    );
    assert!(
        moved(
            "heimdall_http_request_duration_seconds_count",
            &signin_route
        ) >= 2.0
    );
    assert!(
        value(
            &after,
            "heimdall_http_request_duration_seconds_bucket",
            &[signin_route[0], ("le", "+Inf")]
        ) >= 2.0,
        "latencies are histograms"
    );
    assert!(
        moved(
            "heimdall_webhook_deliveries_total",
            &[("outcome", "retrying")]
        ) >= 1.0,
        "{after}"
    );
    assert!(
        value(&after, "heimdall_webhook_queue_depth", &[]) >= 1.0,
        "{after}"
    );
    assert!(value(&after, "heimdall_webhook_oldest_pending_seconds", &[]) >= 0.0);
    assert!(after.contains("heimdall_mail_queue_depth"));
    assert!(after.contains("heimdall_argon2_queue_depth"));
    assert!(value(&after, "heimdall_db_pool_connections", &[("state", "idle")]) >= 0.0);
    assert!(after.contains("heimdall_db_pool_connections{state=\"in_use\"}"));
    assert!(moved("heimdall_db_query_duration_seconds_count", &[]) >= 10.0);
    assert!(
        moved(
            "heimdall_cache_requests_total",
            &[("cache", "apps"), ("result", "hit")]
        ) >= 1.0
    );
    assert!(!after.contains(&pak), "no secret in the metrics");
}

#[tokio::test]
async fn a_separate_listener_serves_metrics_and_the_public_one_does_not() {
    let data = tempfile::tempdir().unwrap();
    let (_db, url) = TestDb::create().await;
    let mut config = test_config(url, data.path());
    config.metrics_bind = Some("127.0.0.1:0".into());
    let app = Application::build_with_clock(config, ManualClock::new())
        .await
        .unwrap();
    let (port, metrics_port) = (app.port(), app.metrics_port().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let public = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "not on the public listener");
    client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    let private = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(private.status(), 200);
    let text = private.text().await.unwrap();
    assert!(
        value(
            &text,
            "heimdall_http_requests_total",
            &[("route", "/healthz"), ("status", "2xx")]
        ) >= 1.0,
        "{text}"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
