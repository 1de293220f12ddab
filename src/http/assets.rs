//! Static assets, embedded in the binary (one file to deploy) and served
//! with long-lived cache headers: every URL carries a content hash.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (file name, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "natter.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/natter.css"),
    ),
    (
        "natter.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/natter.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/htmx.min.js"),
    ),
    (
        "hx-sse.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/hx-sse.js"),
    ),
];

/// FNV-1a of each file, computed once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, _, bytes)| {
            let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
            });
            format!("{:08x}", hash >> 32)
        })
        .collect()
});

/// The URL of an asset, versioned by its content.
pub fn url(name: &str) -> String {
    match FILES.iter().position(|(file, _, _)| *file == name) {
        Some(index) => format!("/assets/{name}?v={}", HASHES[index]),
        None => format!("/assets/{name}"),
    }
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "There is no such file.\n").into_response(),
    }
}
