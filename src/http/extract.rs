//! Extractors shared by several routes: what a request's body says,
//! whichever way a client sent it.

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::AppError;

/// A form (`application/x-www-form-urlencoded`) or a JSON object: scripts
/// send either. Unreadable input is a 422 (or 413, 415) with a sentence.
pub struct FormOrJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormOrJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if content_type(&request).starts_with("application/json") {
            let bytes = body_bytes(request, state).await?;
            return serde_json::from_slice(&bytes)
                .map(Self)
                .map_err(|_| AppError::invalid("The JSON could not be read."));
        }
        let axum::Form(value) = axum::Form::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// The body of a message as a bot sends it: a form field (`body=`), a JSON
/// object (`{"body": "…"}`) or, like Campfire's bots, the raw
/// `text/plain` body.
#[derive(Debug)]
pub struct PostedText(pub String);

/// The `body` field of a form or JSON post.
#[derive(Debug, Deserialize)]
struct BodyField {
    #[serde(default)]
    body: String,
}

impl<S: Send + Sync> FromRequest<S> for PostedText {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if content_type(&request).starts_with("text/plain") {
            let bytes = body_bytes(request, state).await?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| AppError::invalid("The text is not valid UTF-8."))?;
            return Ok(Self(text));
        }
        let FormOrJson(field) = FormOrJson::<BodyField>::from_request(request, state).await?;
        Ok(Self(field.body))
    }
}

/// The request's `Content-Type`, or "".
fn content_type(request: &Request) -> &str {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// The whole body, within the body limit (413 beyond it).
async fn body_bytes<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<axum::body::Bytes, AppError> {
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|_| {
            AppError::Invalid(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request is too large.".into(),
            )
        })
}
