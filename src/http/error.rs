//! The one error type of the web layer and how each case reaches the user.

use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// Everything a handler can fail with. Client errors carry a sentence for
/// the user; server errors are logged in full and shown as a short apology.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input breaks a rule; the sentence says which (422, or the
    /// status of the rejection, such as 413 for an oversized body).
    #[error("{1}")]
    Invalid(StatusCode, String),
    /// A bot token that is unknown, revoked or another room's (401, with
    /// `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The session is not a member of the room (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such page (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// Too many requests of this kind; try again after the duration (429).
    #[error("too many {0}")]
    TooMany(&'static str, std::time::Duration),
    /// The instance is at its connection limit (503).
    #[error("at the connection limit")]
    Busy,
    /// The database is unreachable, locked or restarting (503).
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// The health probe found the database unreachable (503, without
    /// `Retry-After`: a probe asks again on its own schedule).
    #[error("unhealthy")]
    Unhealthy(#[source] anyhow::Error),
    /// A bug or an unexpected failure (500).
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A 422 with this sentence.
    pub fn invalid(sentence: impl Into<String>) -> Self {
        Self::Invalid(StatusCode::UNPROCESSABLE_ENTITY, sentence.into())
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(status, _) => *status,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooMany(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable(_) | Self::Unhealthy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence shown to the user: never internal details.
    pub fn user_message(&self) -> String {
        match self {
            Self::Invalid(_, sentence) => sentence.clone(),
            Self::Unauthorized(sentence) | Self::Forbidden(sentence) | Self::NotFound(sentence) => {
                (*sentence).to_owned()
            }
            Self::TooMany(what, _) => match self.retry_after_secs() {
                1 => format!("Slow down: too many {what}. Please try again in 1 second."),
                secs => format!("Slow down: too many {what}. Please try again in {secs} seconds."),
            },
            Self::Busy => "natter is at its connection limit. Please try again shortly.".into(),
            Self::Unavailable(_) => {
                "natter cannot reach its database right now. Please try again in a moment.".into()
            }
            Self::Unhealthy(_) => "the database is unavailable".into(),
            Self::Internal(_) => "Something went wrong on our side. Please try again.".into(),
        }
    }

    /// Whole seconds to wait before trying again (for `Retry-After`).
    fn retry_after_secs(&self) -> u64 {
        match self {
            Self::TooMany(_, wait) => wait.as_secs_f64().ceil().max(1.0) as u64,
            _ => 2,
        }
    }

    /// Logs server-side failures with their whole cause chain.
    pub fn log(&self) {
        match self {
            Self::Unavailable(error) => tracing::warn!(error = format!("{error:#}"), "unavailable"),
            Self::Unhealthy(error) => {
                tracing::warn!(error = format!("{error:#}"), "health check failed")
            }
            Self::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error")
            }
            _ => {}
        }
    }
}

impl AppError {
    /// The error for a client that asked for JSON: `{"error": sentence}`,
    /// with the same status and `Retry-After` as the text answer.
    pub fn into_json_response(self) -> Response {
        self.log();
        let body = axum::Json(serde_json::json!({ "error": self.user_message() }));
        self.with_retry_after((self.status(), body).into_response())
    }

    /// Adds `Retry-After` when waiting helps (and `WWW-Authenticate` to a
    /// refused token).
    pub fn with_retry_after(&self, mut response: Response) -> Response {
        if matches!(self, Self::Unauthorized(_)) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if matches!(self, Self::Unavailable(_) | Self::Busy | Self::TooMany(..)) {
            response.headers_mut().insert(
                "retry-after",
                axum::http::HeaderValue::from(self.retry_after_secs()),
            );
        }
        response
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let response = (self.status(), format!("{}\n", self.user_message())).into_response();
        self.with_retry_after(response)
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            Self::Unavailable(error.into())
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<crate::live::LiveError> for AppError {
    fn from(error: crate::live::LiveError) -> Self {
        match error {
            crate::live::LiveError::Store(error) => error.into(),
            error @ crate::live::LiveError::Render(_) => Self::Internal(error.into()),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(error: tower_sessions::session::Error) -> Self {
        // Sessions live in the database: failing to load or save one almost
        // always means the database is out of reach.
        Self::Unavailable(error.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        let status = rejection.status();
        let sentence = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "The request is too large.".to_owned()
        } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            "Send the form as application/x-www-form-urlencoded.".to_owned()
        } else {
            format!("The form could not be read: {}.", rejection.body_text())
        };
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::Invalid(status, sentence)
    }
}
