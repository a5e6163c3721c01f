//! `POST /graphql`: the HTTP glue of the GraphQL API (GraphiQL on `GET /graphql`
//! is [`super::graphiql`]). The transport is handled here
//! (body limit, content type, JSON parsing, authentication) so that malformed
//! requests get clear 4xx answers; domain errors are given their `extensions.code`.

use async_graphql::{BatchRequest, BatchResponse, ErrorExtensionValues, Response as GqlResponse};
use axum::{
    Json,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    extract::{is_json, parse_json, read_body},
    principal::{from_console_cookie, principal_of},
};
use crate::{
    error::Error,
    graphql::{HeimdallSchema, MAX_BATCH, loaders::Loaders},
    state::AppState,
};

/// A transport-level error in the GraphQL response shape.
fn transport_error(status: StatusCode, error: &Error) -> Response {
    error.log();
    let body = json!({
        "data": null,
        "errors": [{ "message": error.to_string(), "extensions": { "code": error.graphql_code() } }]
    });
    let mut response = (status, Json(body)).into_response();
    if let Error::Unauthenticated { .. } = error {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="heimdall", error="invalid_token""#),
        );
    }
    response
}

pub async fn execute(state: AppState, schema: HeimdallSchema, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let meta = crate::request::RequestMeta::from_parts(&parts, state.config.trust_proxy);
    let principal = match principal_of(&mut parts, &state).await {
        Ok(None) => from_console_cookie(&state, &parts.headers).await,
        other => other,
    };
    let principal = match principal {
        Ok(principal) => principal,
        Err(error) => return transport_error(error.status(), &error),
    };
    if !is_json(&parts.headers) {
        let error = Error::UnsupportedMediaType(
            "GraphQL requests must be JSON (Content-Type: application/json)".into(),
        );
        return transport_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &error);
    }
    let bytes = match read_body(Request::from_parts(parts, body), &state).await {
        Ok(bytes) => bytes,
        Err(error) => return transport_error(error.status(), &error),
    };
    let batch: BatchRequest = match parse_json(&bytes) {
        Ok(batch) => batch,
        Err(error) => return transport_error(StatusCode::BAD_REQUEST, &error),
    };
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > MAX_BATCH
    {
        let error = Error::invalid(format!("at most {MAX_BATCH} operations per batch"));
        return transport_error(StatusCode::BAD_REQUEST, &error);
    }
    let loaders = std::sync::Arc::new(async_graphql::dataloader::DataLoader::new(
        Loaders::new(state.clone()),
        tokio::spawn,
    ));
    let batch = batch
        .data(principal)
        .data(meta)
        .data(loaders)
        .data(state.clone());
    let response = match schema.execute_batch(batch).await {
        BatchResponse::Single(response) => BatchResponse::Single(with_codes(response)),
        BatchResponse::Batch(responses) => {
            BatchResponse::Batch(responses.into_iter().map(with_codes).collect())
        }
    };
    Json(response).into_response()
}

/// Gives every error its `extensions.code` (docs/src/api-conventions.md): domain errors by their kind,
/// everything else (parse, validation, limits, bad arguments) as `BAD_USER_INPUT`.
fn with_codes(mut response: GqlResponse) -> GqlResponse {
    for error in &mut response.errors {
        // Domain errors arrive as the error itself, or shared (from DataLoaders).
        let source = error
            .source::<Error>()
            .or_else(|| error.source::<std::sync::Arc<Error>>().map(AsRef::as_ref));
        let domain = source.map(|e| {
            (
                e.graphql_code(),
                e.details(),
                matches!(e, Error::Internal(_)),
            )
        });
        if let Some(source) = source {
            source.log();
        }
        let extensions = error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        match domain {
            Some((code, details, internal)) => {
                extensions.set("code", code);
                if let Some(details) = details
                    && let Ok(async_graphql::Value::Object(map)) =
                        async_graphql::Value::from_json(details)
                {
                    for (key, value) in map {
                        extensions.set(key.as_str(), value);
                    }
                }
                if internal {
                    error.message = "internal server error".into();
                }
            }
            None => {
                if extensions.get("code").is_none() {
                    extensions.set("code", "BAD_USER_INPUT");
                }
            }
        }
    }
    response
}
