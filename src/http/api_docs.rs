//! `GET /openapi.json` (the document of [`super::openapi`]) and the browsable API
//! reference at `GET /docs/api`: Swagger UI from assets embedded in the binary
//! (vendored at a pinned version with its licence, `assets/swagger-ui/`), so no
//! third-party origin is contacted and the page's `Content-Security-Policy` names none.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::{
    extract::ApiPath,
    graphiql::{Asset, serve_asset},
};
use crate::{error::Error, state::AppState};

const SWAGGER_JS: &str = "swagger-ui-bundle-5.35.0.js";
const SWAGGER_CSS: &str = "swagger-ui-5.35.0.css";
const INIT_JS: &str = "swagger-ui-init.js";

const ASSETS: &[Asset] = &[
    Asset {
        name: SWAGGER_JS,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-bundle-5.35.0.js.gz"),
        gzipped: true,
    },
    Asset {
        name: SWAGGER_CSS,
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-5.35.0.css.gz"),
        gzipped: true,
    },
    Asset {
        name: INIT_JS,
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-init.js"),
        gzipped: false,
    },
];

/// Scripts and styles from this origin only; Swagger UI sets inline styles and
/// draws its icons from `data:` URLs. "Try it out" calls this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /openapi.json`.
pub async fn document(State(state): State<AppState>) -> Response {
    Json(super::openapi::served(&state.config.base_path)).into_response()
}

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `GET /docs/api`.
pub async fn page(State(state): State<AppState>) -> Response {
    let base = &state.config.base_path;
    let asset = |name: &str| escape_attr(&format!("{base}/docs/api/assets/{name}"));
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Heimdall REST API</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-document="{document}">Loading the API reference…</div>
<script src="{js}"></script>
<script src="{init}"></script>
</body>
</html>"#,
        css = asset(SWAGGER_CSS),
        js = asset(SWAGGER_JS),
        init = asset(INIT_JS),
        document = escape_attr(&format!("{base}/openapi.json")),
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

/// `GET /docs/api/assets/{file}`.
pub async fn asset(ApiPath(file): ApiPath<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => serve_asset(asset, &headers),
        None => Error::not_found("no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

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
