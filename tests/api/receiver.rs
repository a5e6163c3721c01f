//! A real HTTP webhook receiver on loopback: records every request and answers as
//! told (a status, or no answer at all for a while).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, StatusCode},
};
use serde_json::Value;
use tokio::sync::Notify;

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// Waits this long, then answers 200 (longer than the webhook timeout: no answer).
    Hang(Duration),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    plan: VecDeque<Answer>,
    default: Option<Answer>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let arrived = Arc::new(Notify::new());
        let (i, a) = (inner.clone(), arrived.clone());
        let app = Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let (inner, arrived) = (i.clone(), a.clone());
                async move {
                    let answer = {
                        let mut inner = inner.lock().unwrap();
                        inner.received.push(Received {
                            path: uri.path().to_owned(),
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        inner
                            .plan
                            .pop_front()
                            .or(inner.default)
                            .unwrap_or(Answer::Status(200))
                    };
                    arrived.notify_waiters();
                    match answer {
                        Answer::Status(code) => (
                            StatusCode::from_u16(code).unwrap(),
                            format!("answered {code}"),
                        ),
                        Answer::Hang(wait) => {
                            tokio::time::sleep(wait).await;
                            (StatusCode::OK, "late".to_owned())
                        }
                    }
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}/hooks/heimdall"),
            inner,
            arrived,
        }
    }

    /// Answers the next requests in this order, then as by default.
    pub fn plan(&self, answers: &[Answer]) {
        self.inner
            .lock()
            .unwrap()
            .plan
            .extend(answers.iter().copied());
    }

    /// How to answer once the plan is used up (200 unless set).
    pub fn answer_by_default(&self, answer: Answer) {
        self.inner.lock().unwrap().default = Some(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits (at most 20 s) until at least `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let notified = self.arrived.notified();
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let received = self.received();
                assert!(
                    received.len() >= n,
                    "expected {n} webhook requests, got {}: {:?}",
                    received.len(),
                    received.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
                );
                return received;
            }
        }
    }
}
