//! REST envelopes (docs/src/api-conventions.md): `{"data": …, "_links": {"self": …}}` for resources,
//! `{"data": […], "next_cursor": …}` for lists.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

use crate::db::Page;

/// A single resource with its canonical location.
pub struct Resource<T> {
    pub data: T,
    pub self_link: String,
    pub status: StatusCode,
}

impl<T: Serialize> Resource<T> {
    pub fn ok(data: T, self_link: String) -> Self {
        Self {
            data,
            self_link,
            status: StatusCode::OK,
        }
    }

    /// 201 with `Location`.
    pub fn created(data: T, self_link: String) -> Self {
        Self {
            data,
            self_link,
            status: StatusCode::CREATED,
        }
    }
}

impl<T: Serialize> IntoResponse for Resource<T> {
    fn into_response(self) -> Response {
        let body = json!({ "data": self.data, "_links": { "self": self.self_link } });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::CREATED
            && let Ok(location) = HeaderValue::from_str(&self.self_link)
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

/// A page of resources.
pub struct List<T>(pub Page<T>);

impl<T: Serialize> IntoResponse for List<T> {
    fn into_response(self) -> Response {
        Json(json!({ "data": self.0.items, "next_cursor": self.0.next_cursor })).into_response()
    }
}

/// 204 No Content.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
