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

/// OTLP export (cargo feature `otlp`, on by default).
#[cfg(feature = "otlp")]
mod otlp {
    use serde_json::json;

    use super::{PW, fields};
    use crate::receiver::Receiver;

    /// An OTLP/HTTP collector on loopback: every body POSTed to `/v1/traces`.
    async fn collector() -> (
        String,
        std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>,
    ) {
        use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        let router = Router::new().route(
            "/v1/traces",
            post(move |headers: HeaderMap, body: Bytes| {
                let kept = kept.clone();
                async move {
                    let kind = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    kept.lock().unwrap().push((kind, body.to_vec()));
                    ""
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        (url, bodies)
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// With `HEIMDALL_OTLP_ENDPOINT`, the real binary exports a server span for a traced
    /// request (in the caller's trace, its parent the caller's span) and a client span for
    /// the webhook delivery it caused, whose id is the `traceparent` the receiver got.
    #[tokio::test]
    async fn spans_are_exported_over_otlp_in_the_callers_trace() {
        let (endpoint, bodies) = collector().await;
        let receiver = Receiver::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = heimdall::crypto::generate_secret(heimdall::crypto::prefix::ROOT_KEY).unwrap();
        let db = format!("sqlite://{}/h.db?mode=rwc", dir.path().display());
        let data = dir.path().display().to_string();
        let envs: Vec<(String, String)> = [
            ("HEIMDALL_DATABASE_URL", db.as_str()),
            ("HEIMDALL_DATA_DIR", data.as_str()),
            ("HEIMDALL_ROOT_KEY", root.as_str()),
            ("HEIMDALL_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("HEIMDALL_OTLP_ENDPOINT", endpoint.as_str()),
            ("HEIMDALL_OTLP_SERVICE_NAME", "heimdall-under-test"),
            // Spans are exported whatever the log level (the listening line is kept for
            // start_with to find the port).
            ("HEIMDALL_LOG", "error,heimdall::cli=info"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let dir_path = dir.path().to_path_buf();
        let (mut child, _, port) = tokio::task::spawn_blocking(move || {
            let envs: Vec<(&str, &str)> =
                envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            crate::cli::start_with(&dir_path, &envs)
        })
        .await
        .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let status = client
            .post(format!("{base}/v1/apps"))
            .bearer_auth(&root)
            .json(&json!({"name": "acme"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201);
        let hook = client
            .post(format!("{base}/v1/apps/acme/webhooks"))
            .bearer_auth(&root)
            .json(&json!({"url": receiver.url, "events": ["user.created"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(hook.status(), 201, "{}", hook.text().await.unwrap());

        let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
        let caller_span = "00f067aa0ba902b7";
        let signup = client
            .post(format!("{base}/acme/v1/auth/signup"))
            .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
            .json(&json!({"email": "otel@example.com", "password": PW}))
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 201);
        let delivered = receiver.wait_for(1).await;
        let sent = fields(delivered[0].header("traceparent"));
        assert_eq!(sent[1], trace_id);
        let delivery_span = sent[2].clone();

        // A graceful stop flushes the exporter.
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let exited = tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::time::Instant::now() < deadline {
                if let Some(status) = child.try_wait().unwrap() {
                    return Some(status);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = child.kill();
            None
        })
        .await
        .unwrap();
        assert!(exited.is_some_and(|s| s.success()), "{exited:?}");

        let bodies = bodies.lock().unwrap().clone();
        assert!(!bodies.is_empty(), "nothing was exported");
        for (kind, _) in &bodies {
            assert_eq!(kind, "application/x-protobuf");
        }
        let all: Vec<u8> = bodies.into_iter().flat_map(|(_, body)| body).collect();
        assert!(contains(&all, b"heimdall-under-test"), "service.name");
        // The caller's trace id, its span as a parent, and the delivery span whose id the
        // receiver was given (the protobuf carries ids as raw bytes).
        assert!(contains(&all, &unhex(trace_id)), "the caller's trace");
        assert!(
            contains(&all, &unhex(caller_span)),
            "the caller's span as parent"
        );
        assert!(contains(&all, &unhex(&delivery_span)), "the delivery span");
        assert!(contains(&all, b"webhook delivery"));
    }
}
