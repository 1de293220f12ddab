//! Request guards every route gets: refusing cross-site writes, and the
//! security headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;

/// Refuses a state-changing request that a browser says comes from another
/// site. Browsers send `Sec-Fetch-Site`; older ones at least `Origin`,
/// which must then name this host. curl and other non-browser clients send
/// neither and carry no ambient cookies, so they pass. A request with an
/// `Authorization` header is a bot's: its identity is the token, never a
/// cookie (the cookie is dropped from it here), so a forged cross-site
/// request gains nothing, and a browser cannot send the header cross-site
/// without a CORS preflight natter never grants.
pub async fn cross_site(mut request: Request, next: Next) -> Response {
    if super::bearer::presented(request.headers()) {
        // A bot's request carries no person: the cookie is dropped here,
        // before the session layer, so no route can act on it.
        request.headers_mut().remove(header::COOKIE);
        return next.run(request).await;
    }
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
        return AppError::Forbidden("Requests from other sites are not allowed.").into_response();
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

/// Refuses a form whose percent-decoded text is not UTF-8 (422). axum's
/// form parser would decode it lossily into U+FFFD and accept it, storing
/// text the sender never typed.
pub async fn strict_forms(request: Request, next: Next) -> Response {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, super::BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let too_large = "The request is too large.".to_owned();
            return AppError::Invalid(StatusCode::PAYLOAD_TOO_LARGE, too_large).into_response();
        }
    };
    if !form_is_utf8(&bytes) {
        return AppError::invalid("The form could not be read: it is not valid UTF-8 text.")
            .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Whether every name and value of a urlencoded form decodes to UTF-8.
fn form_is_utf8(form: &[u8]) -> bool {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    form.split(|&b| b == b'&')
        .flat_map(|pair| pair.split(|&b| b == b'='))
        .all(|part| {
            let mut decoded = Vec::with_capacity(part.len());
            let mut i = 0;
            while i < part.len() {
                if part[i] == b'%' {
                    if let (Some(high), Some(low)) = (hex(part.get(i + 1)), hex(part.get(i + 2))) {
                        // Two hex digits make one byte: at most 255.
                        decoded.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                        i += 3;
                        continue;
                    }
                }
                decoded.push(part[i]);
                i += 1;
            }
            std::str::from_utf8(&decoded).is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::form_is_utf8;

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(form_is_utf8(b"body=hello+world&x=%C3%A9%F0%9F%98%80"));
        assert!(form_is_utf8(b"body=100%25&odd=%zz&end=%"));
        assert!(!form_is_utf8(b"body=%FF"));
        assert!(!form_is_utf8(b"body=ok&name=%C3"));
        assert!(!form_is_utf8(b"%FF=x"));
    }
}
