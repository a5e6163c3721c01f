//! What a request says about where it came from, for sessions, throttling and the
//! audit log. Never contains credentials.

use std::net::SocketAddr;

use axum::{
    extract::ConnectInfo,
    http::{HeaderMap, header, request::Parts},
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    pub fn from_parts(parts: &Parts, trust_proxy: bool) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let forwarded = trust_proxy.then(|| forwarded_for(&parts.headers)).flatten();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(512).collect());
        Self {
            ip: forwarded.or(peer),
            user_agent,
        }
    }
}

/// The client address a trusted proxy put first in `X-Forwarded-For`.
fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-forwarded-for")?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    first
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}
