//! OpenTelemetry export over OTLP/HTTP (docs/src/production.md#tracing), in the cargo
//! feature `otlp` (on by default; `--no-default-features` builds without it).
//!
//! Off unless `HEIMDALL_OTLP_ENDPOINT` is set. Then every HTTP request is a server span
//! (a child of the caller's `traceparent`, whose sampled flag it follows) and every
//! webhook delivery and call to an upstream identity provider is a client span of the
//! request that caused it, so that the `traceparent` Heimdall sends names a span that
//! is in the exported trace. Spans are batched and sent to `{endpoint}/v1/traces` as
//! protobuf from a background thread; a collector that is down costs a dropped batch,
//! never a slower request. Shutdown flushes what is left.

use std::sync::OnceLock;

use opentelemetry::{
    Context, KeyValue,
    trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
        TracerProvider as _,
    },
};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{config::Config, trace::TraceContext};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether spans are exported (an endpoint is configured and the exporter started).
pub fn enabled() -> bool {
    PROVIDER.get().is_some()
}

/// The tracing layer that turns spans into OpenTelemetry spans, when
/// `HEIMDALL_OTLP_ENDPOINT` is set. Errors (an endpoint that is not a URL) are
/// returned for the caller to report.
pub fn layer<S>(config: &Config) -> Result<Option<impl tracing_subscriber::Layer<S>>, String>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let Some(endpoint) = config
        .otlp_endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return Ok(None);
    };
    let url = url::Url::parse(endpoint)
        .ok()
        .filter(|u| u.scheme() == "http" || u.scheme() == "https")
        .ok_or_else(|| format!("HEIMDALL_OTLP_ENDPOINT is not an http(s) URL: {endpoint}"))?;
    let traces = format!("{}/v1/traces", url.as_str().trim_end_matches('/'));
    let service = config.otlp_service_name.clone();
    // The exporter's blocking HTTP client must not be built (or dropped) on a thread
    // that runs async tasks.
    let provider = std::thread::spawn(move || -> Result<SdkTracerProvider, String> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(traces)
            .build()
            .map_err(|e| format!("cannot start the OTLP exporter: {e}"))?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service)
                    .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                    .build(),
            )
            .build())
    })
    .join()
    .map_err(|_| "the OTLP exporter failed to start".to_owned())??;
    let tracer = provider.tracer("heimdall");
    let _ = PROVIDER.set(provider);
    Ok(Some(tracing_opentelemetry::layer().with_tracer(tracer)))
}

/// Sends the spans still buffered and stops the exporter (at the end of `serve`).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let provider = provider.clone();
        // Blocking: off the async threads, like the start.
        let _ = std::thread::spawn(move || provider.shutdown()).join();
    }
}

fn remote(parent: &TraceContext, state: Option<&str>) -> Context {
    let state = state
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.span_id),
        TraceFlags::new(parent.flags),
        true,
        state,
    ))
}

/// Starts `span` as a child of `parent` (or as a new trace) and returns its position,
/// which is what the request's own context and outbound `traceparent`s then name.
pub fn start(
    span: &tracing::Span,
    parent: Option<&TraceContext>,
    state: Option<&str>,
) -> TraceContext {
    if let Some(parent) = parent {
        let _ = span.set_parent(remote(parent, state));
    }
    let context = span.context();
    let started = context.span().span_context().clone();
    if !started.is_valid() {
        // The span is disabled (filtered out): keep a context of our own.
        return parent.map_or_else(TraceContext::new_root, TraceContext::child);
    }
    TraceContext {
        trace_id: started.trace_id().to_bytes(),
        span_id: started.span_id().to_bytes(),
        flags: started.trace_flags().to_u8(),
    }
}
