//! W3C Trace Context (docs/src/production.md#tracing): the `traceparent` of a request
//! (the caller's, or a new trace), kept for the request's task so that outbound calls
//! made on its behalf (webhook events it causes, upstream identity providers it asks)
//! carry the same trace id, and the caller's `tracestate` (vendor data, passed on
//! unchanged when it is well-formed). Bottom layer: the HTTP layer sets it, services
//! read it.

use std::{future::Future, sync::Arc};

use crate::crypto::hex;

/// A position in a trace: the trace id, the id of this span, the flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub flags: u8,
}

/// The most `tracestate` Heimdall passes on (W3C Trace Context §3.3.1.5: at least
/// 512 characters must be propagated; longer lists may be dropped).
pub const MAX_TRACESTATE: usize = 512;
/// The most list members a `tracestate` may have (§3.3.1.1).
const MAX_MEMBERS: usize = 32;

#[derive(Clone)]
struct Current {
    context: TraceContext,
    state: Option<Arc<str>>,
}

tokio::task_local! {
    static CURRENT: Current;
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // uuid's v4 generator (a fast CSPRNG); ids only need to be unique, not secret.
    for chunk in out.chunks_mut(16) {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    out
}

/// Lower-case hex of an id, written when formatted.
struct Hex<const N: usize>([u8; N]);

impl<const N: usize> std::fmt::Display for Hex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2
        || !text
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

impl TraceContext {
    /// A new trace (no `traceparent` came with the request, or it was invalid).
    pub fn new_root() -> Self {
        let mut trace_id = random::<16>();
        trace_id[0] |= 1; // never all zero
        Self {
            trace_id,
            span_id: Self::new_span_id(),
            flags: 0x01,
        }
    }

    fn new_span_id() -> [u8; 8] {
        let mut id = random::<8>();
        id[7] |= 1;
        id
    }

    /// Parses a `traceparent` header (W3C Trace Context level 1 §3.2): version `00`
    /// exactly; a later version is read by its first four fields, as the spec asks.
    /// Returns the caller's context (its span id is the parent of ours).
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let mut parts = header.split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent_id = parts.next()?;
        let flags = parts.next()?;
        let [version] = unhex::<1>(version)?;
        if version == 0xff || (version == 0 && parts.next().is_some()) {
            return None;
        }
        let trace_id = unhex::<16>(trace_id)?;
        let span_id = unhex::<8>(parent_id)?;
        let [flags] = unhex::<1>(flags)?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags,
        })
    }

    /// A new span in the same trace (this request's, or an outbound call's).
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id,
            span_id: Self::new_span_id(),
            flags: self.flags,
        }
    }

    /// The `traceparent` header value naming this span.
    pub fn header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.span_id),
            self.flags
        )
    }

    pub fn trace_id(&self) -> String {
        hex(&self.trace_id)
    }

    /// The trace id, formatted only when displayed (a disabled span's fields are
    /// never formatted).
    pub fn trace_id_display(&self) -> impl std::fmt::Display + use<> {
        Hex(self.trace_id)
    }

    pub fn span_id(&self) -> String {
        hex(&self.span_id)
    }
}

/// Runs `future` with `context` (and the caller's `tracestate`) as the current trace
/// context.
pub async fn scope<F: Future>(
    context: TraceContext,
    state: Option<Arc<str>>,
    future: F,
) -> F::Output {
    CURRENT.scope(Current { context, state }, future).await
}

/// The current request's trace context, if this task serves a request.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|current| current.context).ok()
}

/// The caller's `tracestate`, if it sent a valid one with its `traceparent`.
pub fn current_state() -> Option<Arc<str>> {
    CURRENT
        .try_with(|current| current.state.clone())
        .ok()
        .flatten()
}

/// A client span for a call made on behalf of `parent` (a webhook delivery, an
/// upstream identity provider), and the `traceparent` that names it: with OTLP export
/// on, a real span exported with the trace (see `otlp.rs`); otherwise a new span id
/// of the trace and a disabled span.
pub fn client_span(
    name: &'static str,
    parent: &TraceContext,
    state: Option<&str>,
) -> (tracing::Span, String) {
    #[cfg(feature = "otlp")]
    if crate::otlp::enabled() {
        let span = tracing::info_span!(
            target: "heimdall::otlp",
            "outbound",
            otel.name = name,
            otel.kind = "client"
        );
        let context = crate::otlp::start(&span, Some(parent), state);
        return (span, context.header());
    }
    let _ = (name, state);
    (tracing::Span::none(), parent.child().header())
}

/// [`client_span`] for a call the request being served makes now; `None` outside a
/// request.
pub fn outbound(name: &'static str) -> Option<(tracing::Span, String)> {
    let parent = current()?;
    Some(client_span(name, &parent, current_state().as_deref()))
}

/// A `tracestate` to pass on: the header lines joined (§3.3.1.1: several lines are one
/// list), or `None` when it is empty or not well-formed — too long, more than 32
/// members, a member without a valid key or value, a key twice — since a vendor's
/// state that cannot be parsed must not be propagated (§3.3.1.5).
pub fn parse_state<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let joined = lines
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    if joined.is_empty() || joined.len() > MAX_TRACESTATE {
        return None;
    }
    let members: Vec<&str> = joined
        .split(',')
        .map(|m| m.trim_matches([' ', '\t']))
        .filter(|m| !m.is_empty())
        .collect();
    if members.len() > MAX_MEMBERS {
        return None;
    }
    let mut keys = Vec::with_capacity(members.len());
    for member in &members {
        let (key, value) = member.split_once('=')?;
        if !valid_key(key) || !valid_value(value) || keys.contains(&key) {
            return None;
        }
        keys.push(key);
    }
    Some(members.join(","))
}

/// `key = simple-key / multi-tenant-key` (§3.3.1.3.1).
fn valid_key(key: &str) -> bool {
    let simple = |k: &str, max: usize| {
        let bytes = k.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= max
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/".contains(b))
    };
    match key.split_once('@') {
        None => simple(key, 256),
        Some((tenant, system)) => simple(tenant, 241) && simple(system, 14),
    }
}

/// `value = 0*255(chr) nblk-chr`, printable ASCII without `,` and `=` (§3.3.1.3.2).
fn valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 256
        && bytes.last() != Some(&b' ')
        && bytes
            .iter()
            .all(|b| (0x20..=0x7e).contains(b) && *b != b',' && *b != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_the_w3c_example() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = TraceContext::parse(header).unwrap();
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.span_id(), "00f067aa0ba902b7");
        assert_eq!(
            context.trace_id_display().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(context.header(), header);
        let child = context.child();
        assert_eq!(child.trace_id, context.trace_id);
        assert_ne!(child.span_id, context.span_id);
    }

    #[test]
    fn refuses_what_the_spec_refuses() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
        // A later version may add fields.
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more")
                .is_some()
        );
    }

    #[test]
    fn tracestate_is_passed_on_only_when_well_formed() {
        assert_eq!(
            parse_state(["congo=t61rcWkgMzE", " rojo=00f067aa0ba902b7 "]).as_deref(),
            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        );
        assert_eq!(
            parse_state(["tenant@vendor=a b,x=1"]).as_deref(),
            Some("tenant@vendor=a b,x=1")
        );
        for bad in [
            "",
            "novalue",
            "Upper=1",
            "k=1,k=2",
            "k=a,b",
            "k=tab\tinside",
            "k=has=equals",
        ] {
            assert_eq!(parse_state([bad]), None, "{bad}");
        }
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_state([many.join(",").as_str()]), None);
        let long = format!("k={}", "v".repeat(257));
        assert_eq!(parse_state([long.as_str()]), None);
    }

    #[test]
    fn new_roots_are_valid_and_distinct() {
        let a = TraceContext::new_root();
        let b = TraceContext::new_root();
        assert_ne!(a.trace_id, b.trace_id);
        assert_eq!(TraceContext::parse(&a.header()), Some(a));
    }
}
