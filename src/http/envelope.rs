//! What every request and response passes through, as one layer: a handler that
//! panics answers 500 `internal` instead of dropping the connection; the request id
//! (`X-Request-Id`: the caller's, or a new UUID; echoed on the response), the W3C
//! trace context the request runs in (docs/src/production.md#tracing), and the
//! headers every response carries unless its handler set them (`Cache-Control:
//! no-store`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`).
//!
//! One layer around the whole router instead of seven on each route (tower-http's
//! panic catcher, request-id pair and three header setters, and a `from_fn`
//! middleware): through `Router::layer` each was another boxed service and boxed
//! future on every request, on paths served tens of thousands of times a second.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{HeaderMap, HeaderName, HeaderValue, Request, header},
    response::{IntoResponse, Response},
};
use futures_util::FutureExt;

use crate::{error::Error, trace::TraceContext};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers set on every response that does not set them itself.
const DEFAULT_HEADERS: [(HeaderName, HeaderValue); 3] = [
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
];

#[derive(Clone, Copy, Debug, Default)]
pub struct EnvelopeLayer;

impl<S> tower::Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Envelope<S> {
        Envelope { inner }
    }
}

#[derive(Clone, Debug)]
pub struct Envelope<S> {
    inner: S,
}

impl<S> tower::Service<Request<Body>> for Envelope<S>
where
    S: tower::Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let request_id = match req.headers().get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = new_request_id();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let (parent, state) = caller_context(req.headers());
        // The service that was polled ready serves this request (tower's contract);
        // a clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let answer = AssertUnwindSafe(run(&mut inner, req, parent, state))
                .catch_unwind()
                .await;
            let mut response = match answer {
                Ok(response) => response?,
                Err(_) => Error::internal("a request handler panicked").into_response(),
            };
            let headers = response.headers_mut();
            if !headers.contains_key(&REQUEST_ID) {
                headers.insert(REQUEST_ID, request_id);
            }
            for (name, value) in DEFAULT_HEADERS {
                if !headers.contains_key(&name) {
                    headers.insert(name, value);
                }
            }
            Ok(response)
        })
    }
}

fn new_request_id() -> HeaderValue {
    let mut buffer = uuid::Uuid::encode_buffer();
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The caller's span, if it sent a valid `traceparent`, and its `tracestate`
/// (which belongs to that traceparent: without a valid one, it goes).
fn caller_context(headers: &HeaderMap) -> (Option<TraceContext>, Option<Arc<str>>) {
    let parent = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse);
    let state = parent.and_then(|_| {
        crate::trace::parse_state(
            headers
                .get_all("tracestate")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
        .map(Arc::<str>::from)
    });
    (parent, state)
}

/// Runs the request in its trace context: a new span of the caller's trace, or a
/// new trace. With OTLP export on, the request is a server span of the exported
/// trace (otlp.rs) and its ids are the request's context.
async fn run<S>(
    inner: &mut S,
    mut req: Request<Body>,
    parent: Option<TraceContext>,
    state: Option<Arc<str>>,
) -> Result<Response, S::Error>
where
    S: tower::Service<Request<Body>, Response = Response>,
{
    #[cfg(feature = "otlp")]
    if crate::otlp::enabled() {
        let span = tracing::info_span!(
            target: "heimdall::otlp",
            "server",
            otel.name = %req.method(),
            otel.kind = "server",
            http.request.method = %req.method(),
            url.path = %req.uri().path(),
            http.response.status_code = tracing::field::Empty,
        );
        let context = crate::otlp::start(&span, parent.as_ref(), state.as_deref());
        req.extensions_mut().insert(context);
        let response = tracing::Instrument::instrument(
            crate::trace::scope(context, state, inner.call(req)),
            span.clone(),
        )
        .await;
        if let Ok(response) = &response {
            span.record("http.response.status_code", response.status().as_u16());
        }
        return response;
    }
    let context = parent.map_or_else(TraceContext::new_root, |parent| parent.child());
    req.extensions_mut().insert(context);
    crate::trace::scope(context, state, inner.call(req)).await
}

#[cfg(test)]
mod tests {
    use tower::{Layer, ServiceExt};

    use super::*;

    async fn call<F>(handler: F, req: Request<Body>) -> Response
    where
        F: Fn(Request<Body>) -> Response + Clone + Send + 'static,
    {
        let service = tower::service_fn(move |req| {
            let handler = handler.clone();
            async move { Ok::<_, std::convert::Infallible>(handler(req)) }
        });
        EnvelopeLayer.layer(service).oneshot(req).await.unwrap()
    }

    fn get() -> Request<Body> {
        Request::new(Body::empty())
    }

    #[tokio::test]
    async fn a_response_gets_the_default_headers_and_a_new_request_id() {
        let response = call(|_| Response::new(Body::empty()), get()).await;
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
        let id = response.headers()[&REQUEST_ID].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }

    #[tokio::test]
    async fn the_callers_request_id_reaches_the_handler_and_comes_back() {
        let mut req = get();
        req.headers_mut()
            .insert(REQUEST_ID, HeaderValue::from_static("abc-123"));
        let response = call(
            |req: Request<Body>| {
                assert_eq!(req.headers()[&REQUEST_ID], "abc-123");
                Response::new(Body::empty())
            },
            req,
        )
        .await;
        // 200: the handler's assertion held (a panic there would answer 500).
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[&REQUEST_ID], "abc-123");
    }

    #[tokio::test]
    async fn headers_the_handler_set_are_kept() {
        let response = call(
            |_| {
                let mut response = Response::new(Body::empty());
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                );
                response
            },
            get(),
        )
        .await;
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=300"
        );
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_same_headers() {
        let response = call(|_| panic!("boom"), get()).await;
        assert_eq!(response.status(), 500);
        assert!(response.headers().contains_key(&REQUEST_ID));
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal", "{body}");
    }

    #[tokio::test]
    async fn the_handler_runs_in_the_callers_trace() {
        let mut req = get();
        req.headers_mut().insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let response = call(
            |_| {
                // A failed assertion here panics: the envelope answers 500.
                let context = crate::trace::current().expect("a trace context");
                assert_eq!(
                    context.trace_id().to_string(),
                    "4bf92f3577b34da6a3ce929d0e0e4736"
                );
                Response::new(Body::empty())
            },
            req,
        )
        .await;
        assert_eq!(response.status(), 200);
    }
}
