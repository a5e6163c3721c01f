//! Bulk import and export of users as JSON Lines:
//! `POST /v1/apps/{app}/users/import` and `GET /v1/apps/{app}/users/export`
//! (docs/src/importing-users-and-scim.md). Both stream: the import reads the body
//! line by line as it arrives, the export writes pages as they are read.

use std::{convert::Infallible, time::Instant};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::extract::{ApiPath, ApiQuery};
use crate::{
    access::Principal,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        guard,
        user_import::{self, ExportOptions, Importer, OnConflict, Options, Report},
    },
    state::AppState,
};

const NDJSON: &str = "application/x-ndjson";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    on_conflict: Option<String>,
    dry_run: Option<bool>,
}

fn is_json_lines(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            matches!(
                m.trim().to_ascii_lowercase().as_str(),
                "application/x-ndjson"
                    | "application/jsonl"
                    | "application/json-lines"
                    | "application/jsonlines"
                    | "application/x-jsonlines"
                    | "text/plain"
            )
        })
        .unwrap_or(false)
}

fn wants_progress(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(NDJSON))
}

/// Feeds the body to the importer line by line; `progress` is told after each
/// thousand lines or second.
async fn run(
    mut importer: Importer,
    body: Body,
    mut progress: impl FnMut(&Report),
) -> Result<Report> {
    let mut stream = body.into_data_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut number: u64 = 0;
    let mut skipping = false;
    let mut last_report = Instant::now();
    let mut last_count = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| Error::invalid(format!("the request body could not be read: {e}")))?;
        let mut rest: &[u8] = &chunk;
        while let Some(at) = rest.iter().position(|b| *b == b'\n') {
            number += 1;
            if skipping {
                skipping = false;
            } else {
                buffer.extend_from_slice(&rest[..at]);
                importer.line(number, std::mem::take(&mut buffer)).await?;
            }
            rest = &rest[at + 1..];
            let processed = importer.report().processed;
            if processed >= last_count + 1000 || last_report.elapsed().as_secs() >= 1 {
                if processed > last_count {
                    progress(importer.report());
                }
                last_count = processed;
                last_report = Instant::now();
            }
        }
        if !skipping {
            buffer.extend_from_slice(rest);
            if buffer.len() > user_import::MAX_LINE {
                importer.too_long(number + 1);
                buffer.clear();
                skipping = true;
            }
        }
    }
    if !skipping && !buffer.is_empty() {
        number += 1;
        importer.line(number, buffer).await?;
    }
    importer.finish().await
}

pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let access = guard::app_access(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let options = Options {
        on_conflict: query
            .on_conflict
            .as_deref()
            .map(OnConflict::parse)
            .transpose()?
            .unwrap_or_default(),
        dry_run: query.dry_run.unwrap_or(false),
    };
    if !is_json_lines(&headers) {
        return Err(Error::UnsupportedMediaType(
            "the body must be JSON Lines (Content-Type: application/x-ndjson)".into(),
        ));
    }
    let importer = Importer::start(&state, access, options, meta).await?;
    if !wants_progress(&headers) {
        let report = run(importer, body, |_| {}).await?;
        return Ok(axum::Json(json!({ "data": report })).into_response());
    }
    // Streamed progress: one JSON line per thousand lines (or second), then the report.
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(16);
    tokio::spawn(async move {
        let progress_tx = tx.clone();
        let outcome = run(importer, body, move |report| {
            let line = json!({
                "type": "progress",
                "processed": report.processed,
                "created": report.created,
                "updated": report.updated,
                "skipped": report.skipped,
                "failed": report.failed,
            });
            let _ = progress_tx.try_send(format!("{line}\n"));
        })
        .await;
        let last = match outcome {
            Ok(report) => {
                let mut value = json!(report);
                value["type"] = json!("report");
                value
            }
            Err(e) => {
                json!({ "type": "error", "error": { "code": e.code(), "message": e.to_string() } })
            }
        };
        let _ = tx.send(format!("{last}\n")).await;
    });
    Ok(ndjson(Body::from_stream(futures_util::stream::unfold(
        rx,
        |mut rx| async move {
            rx.recv()
                .await
                .map(|line| (Ok::<_, Infallible>(Bytes::from(line)), rx))
        },
    ))))
}

fn ndjson(body: Body) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    include_password_hashes: Option<bool>,
}

pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response> {
    let access = guard::app_access(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let root = guard::root(&principal).ok();
    let exporter = user_import::export(
        &state,
        &access,
        root.as_ref(),
        ExportOptions {
            include_password_hashes: query.include_password_hashes.unwrap_or(false),
        },
        &meta,
    )
    .await?;
    let stream = futures_util::stream::unfold(exporter, |mut exporter| async move {
        match exporter.next_block().await {
            Ok(Some(block)) => Some((Ok(Bytes::from(block)), exporter)),
            Ok(None) => None,
            // The status is sent; cutting the stream short tells the client.
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), exporter)),
        }
    });
    Ok(ndjson(Body::from_stream(stream)))
}
