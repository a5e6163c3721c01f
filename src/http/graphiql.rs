//! GraphiQL on `GET /graphql`, from assets embedded in the binary (vendored at
//! pinned versions with their licences, `assets/graphiql/`): no third-party origin
//! is contacted, and the page's `Content-Security-Policy` names none.

use std::io::Read;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::extract::ApiPath;
use crate::{error::Error, state::AppState};

/// An embedded file: its bytes (gzip-compressed unless `gzipped` is false).
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    pub gzipped: bool,
}

const GRAPHIQL_JS: &str = "graphiql-3.8.3.min.js";
const GRAPHIQL_CSS: &str = "graphiql-3.8.3.min.css";
const REACT_JS: &str = "react-18.3.1.production.min.js";
const REACT_DOM_JS: &str = "react-dom-18.3.1.production.min.js";
const INIT_JS: &str = "graphiql-init.js";

const ASSETS: &[Asset] = &[
    Asset {
        name: GRAPHIQL_JS,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql-3.8.3.min.js.gz"),
        gzipped: true,
    },
    Asset {
        name: GRAPHIQL_CSS,
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql-3.8.3.min.css.gz"),
        gzipped: true,
    },
    Asset {
        name: REACT_JS,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js.gz"),
        gzipped: true,
    },
    Asset {
        name: REACT_DOM_JS,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js.gz"),
        gzipped: true,
    },
    Asset {
        name: INIT_JS,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql-init.js"),
        gzipped: false,
    },
];

/// Scripts and styles from this origin only. GraphiQL sets inline styles, and its
/// stylesheet carries its fonts and icons as `data:` URLs.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   font-src 'self' data:; img-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub async fn page(State(state): State<AppState>) -> Response {
    let base = &state.config.base_path;
    let endpoint = escape_attr(&format!("{base}/graphql"));
    let asset = |name: &str| escape_attr(&format!("{base}/graphql/assets/{name}"));
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Heimdall GraphiQL</title>
<link rel="stylesheet" href="{css}">
</head>
<body style="margin: 0; height: 100vh">
<div id="graphiql" style="height: 100vh" data-endpoint="{endpoint}">Loading GraphiQL…</div>
<script src="{react}"></script>
<script src="{react_dom}"></script>
<script src="{graphiql}"></script>
<script src="{init}"></script>
</body>
</html>"#,
        css = asset(GRAPHIQL_CSS),
        react = asset(REACT_JS),
        react_dom = asset(REACT_DOM_JS),
        graphiql = asset(GRAPHIQL_JS),
        init = asset(INIT_JS),
    );
    let mut response = axum::response::Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /graphql/assets/{file}`: gzip as stored when the client accepts it,
/// decompressed otherwise. File names carry versions, so they are cached for good.
pub async fn asset(ApiPath(file): ApiPath<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => serve_asset(asset, &headers),
        None => Error::not_found("no such asset").into_response(),
    }
}

/// An embedded asset: gzip as stored when the client accepts it, decompressed
/// otherwise. File names carry versions, so they are cached for good.
pub fn serve_asset(asset: &Asset, headers: &HeaderMap) -> Response {
    let file = asset.name;
    let accepts_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        });
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    if !asset.gzipped {
        return ([content_type, cache], asset.bytes).into_response();
    }
    if accepts_gzip {
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return ([content_type, cache, vary, encoding], asset.bytes).into_response();
    }
    let mut plain = Vec::new();
    match flate2::read::GzDecoder::new(asset.bytes).read_to_end(&mut plain) {
        Ok(_) => ([content_type, cache, vary], plain).into_response(),
        Err(error) => Error::internal(format!("embedded asset {file}: {error}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_asset_decompresses() {
        for asset in ASSETS.iter().filter(|a| a.gzipped) {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(asset.bytes)
                .read_to_end(&mut plain)
                .unwrap();
            assert!(plain.len() > asset.bytes.len(), "{}", asset.name);
        }
    }

    #[test]
    fn csp_names_no_other_origin() {
        assert!(!CSP.contains("http"), "{CSP}");
    }
}
