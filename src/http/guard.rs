//! Request guards every route gets: refusing cross-site writes, and the
//! security headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses a state-changing request that a browser says comes from another
/// site. Browsers send `Sec-Fetch-Site`; older ones at least `Origin`,
/// which must then name this host. curl and other non-browser clients send
/// neither and carry no ambient cookies, so they pass.
pub async fn cross_site(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let refused = match text("sec-fetch-site") {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (text("origin"), text("host")) {
            (Some("null"), _) => true,
            (Some(origin), Some(host)) => {
                let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
                !origin_host.eq_ignore_ascii_case(host)
            }
            (Some(_), None) => true,
            (None, _) => false,
        },
    };
    if refused {
        tracing::warn!(method = %request.method(), uri = %request.uri(), "cross-site request refused");
        return (
            StatusCode::FORBIDDEN,
            "Requests from other sites are not allowed.\n",
        )
            .into_response();
    }
    next.run(request).await
}

/// Adds the security headers to every response. The policy allows only
/// natter's own scripts and styles: htmx 4 runs without inline script or
/// `eval` as long as no `hx-on` or `js:` attributes are used (none are),
/// and its indicator style sheet is turned off in the page's config.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
