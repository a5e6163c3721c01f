//! RFC 6749 §5.2 errors of the OAuth endpoints (the HTTP mapping is in
//! `http::oauth`).

use axum::http::StatusCode;

use crate::error::Error;

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub retry_after: Option<u64>,
    /// A `WWW-Authenticate` challenge other than the default one (DPoP).
    pub challenge: Option<String>,
    /// The `DPoP-Nonce` to send (RFC 9449 §8).
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            retry_after: None,
            challenge: None,
            dpop_nonce: None,
        }
    }

    /// A refused DPoP proof at the token endpoint (400, RFC 9449 §5).
    pub fn dpop(error: super::dpop::ProofError) -> Self {
        let mut out = Self::new(StatusCode::BAD_REQUEST, error.error, error.description);
        out.dpop_nonce = error.nonce;
        out
    }

    /// A refused token or proof at a protected resource (401 with a `DPoP`
    /// challenge, RFC 9449 §7.1).
    pub fn dpop_challenge(error: &'static str, description: impl Into<String>) -> Self {
        let mut out = Self::new(StatusCode::UNAUTHORIZED, error, description);
        out.challenge = Some(super::dpop::challenge(error));
        out
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            description,
        )
    }

    /// RFC 8707 §2: the `resource` is not one the client may ask for.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", description)
    }

    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", description)
    }
}

impl From<Error> for OAuthError {
    fn from(error: Error) -> Self {
        error.log();
        match &error {
            Error::RateLimited { retry_after } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                error: "rate_limited",
                description: error.to_string(),
                retry_after: Some(*retry_after),
                challenge: None,
                dpop_nonce: None,
            },
            Error::Unauthenticated {
                dpop: Some(refusal),
                message,
                ..
            } => {
                let mut out = Self::dpop_challenge(refusal.error, message.clone());
                out.dpop_nonce = refusal.nonce.clone();
                out
            }
            Error::PayloadTooLarge(message) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", message)
            }
            Error::NotFound(message) => {
                Self::new(StatusCode::NOT_FOUND, "invalid_request", message)
            }
            Error::Internal(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal server error",
            ),
            Error::Unavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the service is temporarily unavailable",
            ),
            _ => Self::invalid_request(error.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for OAuthError {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::from(e).into()
    }
}
