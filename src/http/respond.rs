//! The few ways a handler answers besides a plain page, each written once:
//! a redirect, a private page that must not be cached, and a form shown
//! again with what is wrong. Error answers are [`AppError`]'s own (its
//! `IntoResponse`): every error a handler or guard returns goes through it,
//! so the status, the sentence and `Retry-After` are decided in one place.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::views::html;
use super::AppError;

/// A 303 See Other to `url`, a URL built by [`crate::paths`]: after a
/// form post the browser follows it with a `GET`.
pub fn see_other(url: &str) -> Response {
    Redirect::to(url).into_response()
}

/// Marks a response private to its session (a room's messages, the rooms
/// someone is in): no browser or proxy may keep a copy.
pub fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A form shown again with what is wrong: 422 for input that breaks a
/// rule, 409 for a conflict (a name taken).
pub fn form_with_errors(status: StatusCode, form: &impl Template) -> Result<Response, AppError> {
    Ok((status, html(form)?).into_response())
}
