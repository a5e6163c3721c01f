//! W3C Trace Context (docs/src/production.md#tracing): a request's `traceparent` is
//! continued by the webhook deliveries of the events it causes; without one (or with
//! an invalid one) a new trace starts. A well-formed `tracestate` that came with the
//! `traceparent` is passed on unchanged.

use serde_json::json;

use crate::{helpers::spawn_app, receiver::Receiver};

const PW: &str = "correct horse battery";

fn fields(traceparent: &str) -> Vec<String> {
    traceparent.split('-').map(str::to_owned).collect()
}

#[tokio::test]
async fn webhook_deliveries_continue_the_trace_of_the_request_that_caused_them() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let receiver = Receiver::start().await;
    let resp = app
        .post(
            "/v1/apps/acme/webhooks",
            Some(&pak),
            json!({"url": receiver.url, "events": ["user.created"]}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);

    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let signup_with =
        |email: &'static str, traceparent: Option<&'static str>, tracestate: &[&'static str]| {
            let mut request = app
                .client
                .post(app.url("/acme/v1/auth/signup"))
                .json(&json!({"email": email, "password": PW}));
            if let Some(traceparent) = traceparent {
                request = request.header("traceparent", traceparent);
            }
            for line in tracestate {
                request = request.header("tracestate", *line);
            }
            request.send()
        };
    let signup = |email: &'static str, traceparent: Option<&'static str>| {
        signup_with(email, traceparent, &[])
    };
    assert_eq!(
        signup_with(
            "traced@example.com",
            Some(parent),
            &["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"]
        )
        .await
        .unwrap()
        .status(),
        201
    );
    let received = receiver.wait_for(1).await;
    let sent = fields(received[0].header("traceparent"));
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[0], "00");
    assert_eq!(sent[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(sent[2], "00f067aa0ba902b7", "a new span of the trace");
    assert_eq!(sent[3], "01");
    // Two header lines are one list, passed on as it came.
    assert_eq!(
        received[0].header("tracestate"),
        "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
    );

    // No traceparent, or a malformed one: each request starts a trace of its own.
    assert_eq!(
        signup("fresh@example.com", None).await.unwrap().status(),
        201
    );
    // A tracestate without a valid traceparent is dropped with it.
    assert_eq!(
        signup_with(
            "bad@example.com",
            Some("00-xyz-abc-01"),
            &["congo=t61rcWkgMzE"]
        )
        .await
        .unwrap()
        .status(),
        201
    );
    let received = receiver.wait_for(3).await;
    let mut traces: Vec<String> = received
        .iter()
        .map(|r| fields(r.header("traceparent"))[1].clone())
        .collect();
    for later in &received[1..] {
        assert!(later.headers.get("tracestate").is_none(), "no tracestate");
    }
    for trace in &traces {
        assert_eq!(trace.len(), 32);
        assert_ne!(trace, &"0".repeat(32));
    }
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 3, "three traces: {traces:?}");
}
