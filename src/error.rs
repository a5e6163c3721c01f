//! The domain error. Each variant's doc names its HTTP status; REST maps it in one
//! `IntoResponse` (here), GraphQL gives it its `extensions.code` in one place
//! (`http::graphql`, from [`Error::graphql_code`]). Internal errors are logged with
//! their cause and answered with a generic message.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sea_orm::{DbErr, SqlErr};
use serde_json::{Value, json};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a DPoP token or proof was refused (RFC 9449 §7.1).
#[derive(Debug)]
pub struct DpopRefusal {
    /// `invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`.
    pub error: &'static str,
    pub nonce: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 `invalid_request`: validation failed; `details` names the fields.
    #[error("{message}")]
    InvalidRequest {
        message: String,
        details: Option<Value>,
    },
    /// 401 `unauthenticated`, with `WWW-Authenticate: Bearer`.
    #[error("{message}")]
    Unauthenticated {
        message: String,
        /// A token was presented and rejected (RFC 6750 `error="invalid_token"`).
        invalid_token: bool,
        /// A DPoP token or proof was refused: the challenge is `DPoP` (RFC 9449 §7.1).
        dpop: Option<Box<DpopRefusal>>,
    },
    /// 401 with a specific code, e.g. `invalid_identity_token` or `invalid_state`: a
    /// credential from an upstream identity provider, or a sign-in flow, was refused.
    #[error("{message}")]
    Rejected { code: &'static str, message: String },
    /// 403 `forbidden`; `missing` lists the permissions the caller lacks.
    #[error("{message}")]
    Forbidden {
        message: String,
        missing: Vec<String>,
    },
    /// 403 with a specific code, e.g. `email_not_verified`, `account_deactivated`.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `conflict`.
    #[error("{message}")]
    Conflict {
        message: String,
        details: Option<Value>,
    },
    /// 410 `gone`: expired, revoked or used up.
    #[error("{0}")]
    Gone(String),
    /// 413 `payload_too_large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415 `unsupported_media_type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429 `rate_limited`, with `Retry-After`.
    #[error("too many attempts; retry in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// 503 `unavailable`: a dependency (the database) is down.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `internal`: the cause is logged, never sent.
    #[error("internal server error")]
    Internal(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            details: None,
        }
    }

    /// A validation error naming one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::InvalidRequest {
            details: Some(json!({ "fields": { field: message } })),
            message: format!("{field}: {message}"),
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::Unauthenticated {
            message: message.into(),
            invalid_token: false,
            dpop: None,
        }
    }

    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::Unauthenticated {
            message: message.into(),
            invalid_token: true,
            dpop: None,
        }
    }

    /// A DPoP-bound token used without its proof, or a refused proof (401 with a
    /// `DPoP` challenge; `nonce` goes in `DPoP-Nonce`).
    pub fn dpop_refused(
        error: &'static str,
        message: impl Into<String>,
        nonce: Option<String>,
    ) -> Self {
        Self::Unauthenticated {
            message: message.into(),
            invalid_token: true,
            dpop: Some(Box::new(DpopRefusal { error, nonce })),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            message: message.into(),
            missing: Vec::new(),
        }
    }

    pub fn missing_permissions(missing: Vec<String>) -> Self {
        Self::Forbidden {
            message: format!("missing permissions: {}", missing.join(", ")),
            missing,
        }
    }

    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn rejected(code: &'static str, message: impl Into<String>) -> Self {
        Self::Rejected {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            details: None,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated { .. } | Self::Rejected { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The REST `error.code` (docs/src/api-conventions.md).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "invalid_request",
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::Refused { code, .. } | Self::Rejected { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict { .. } => "conflict",
            Self::Gone(_) => "gone",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The GraphQL `extensions.code` (docs/src/api-conventions.md).
    pub fn graphql_code(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. }
            | Self::PayloadTooLarge(_)
            | Self::UnsupportedMediaType(_)
            | Self::MethodNotAllowed => "BAD_USER_INPUT",
            Self::Unauthenticated { .. } | Self::Rejected { .. } => "UNAUTHENTICATED",
            Self::Forbidden { .. } | Self::Refused { .. } => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict { .. } => "CONFLICT",
            Self::Gone(_) => "GONE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable(_) | Self::Internal(_) => "INTERNAL",
        }
    }

    /// `details` of the REST body / GraphQL extensions, if any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Self::InvalidRequest { details, .. } | Self::Conflict { details, .. } => {
                details.clone()
            }
            Self::Forbidden { missing, .. } if !missing.is_empty() => {
                Some(json!({ "missing": missing }))
            }
            Self::RateLimited { retry_after } => Some(json!({ "retry_after": retry_after })),
            Self::Refused { code, .. } | Self::Rejected { code, .. } => {
                Some(json!({ "reason": code }))
            }
            _ => None,
        }
    }

    /// Logs the cause of server-side failures; called wherever an error leaves the process.
    pub fn log(&self) {
        match self {
            Self::Internal(cause) => tracing::error!(%cause, "internal error"),
            Self::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
    }

    /// The REST JSON error body.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code(), "message": self.to_string() });
        if let Some(details) = self.details() {
            error["details"] = details;
        }
        json!({ "error": error })
    }
}

/// Whether the database could not be reached (down, restarting, connection lost):
/// 503, and the request may be retried, rather than a 500.
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(sqlx) => {
            matches!(
                sqlx.as_ref(),
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Protocol(_)
            ) || sqlx
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| {
                    // PostgreSQL: admin shutdown, crash shutdown, cannot connect now.
                    matches!(
                        code.as_ref(),
                        "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006"
                    )
                })
        }
        _ => false,
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::conflict("a resource with the same unique value already exists")
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Self::conflict("the resource is referenced by, or refers to, another resource")
            }
            _ if is_invalid_text(&err) => {
                Self::invalid("text must be valid UTF-8 without NUL characters")
            }
            _ if is_unavailable(&err) => Self::Unavailable(err.to_string()),
            _ => Self::Internal(err.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Unauthenticated {
                dpop: Some(refusal),
                ..
            } => {
                let challenge = crate::services::oauth::dpop::challenge(refusal.error);
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
                if let Some(nonce) = &refusal.nonce
                    && let Ok(value) = HeaderValue::from_str(nonce)
                {
                    headers.insert("dpop-nonce", value);
                }
            }
            Self::Unauthenticated { invalid_token, .. } => {
                let value = if *invalid_token {
                    r#"Bearer realm="heimdall", error="invalid_token""#
                } else {
                    r#"Bearer realm="heimdall""#
                };
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
            }
            Self::Rejected { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="heimdall""#),
                );
            }
            Self::RateLimited { retry_after } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// PostgreSQL refuses NUL bytes and invalid UTF-8 in text (SQLSTATE 22021, 22P05);
/// SQLite stores them. Validation keeps such input out, and this keeps any that
/// slips through a 400 rather than a 500, the same on both databases.
fn is_invalid_text(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    match e.as_ref() {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("22021" | "22P05")),
        _ => false,
    }
}

/// Maps a unique violation to a specific conflict message; other errors convert as usual.
pub fn conflict_on_unique(message: impl Into<String>) -> impl FnOnce(DbErr) -> Error {
    let message = message.into();
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::conflict(message),
        _ => Error::from(err),
    }
}
