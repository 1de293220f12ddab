//! Static assets, embedded in the binary (one file to deploy) and served
//! with long-lived cache headers: every URL the pages use carries a content
//! hash. The icons and the web app manifest make natter installable on a
//! phone's home screen and give it an icon in tabs and bookmarks; the
//! manifest names its icons without a hash, so those are revalidated daily.

use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppError;
use crate::paths;

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
        "actions.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/actions.js"),
    ),
    (
        "people.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/people.js"),
    ),
    (
        "mentions.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/mentions.js"),
    ),
    (
        "forms.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/forms.js"),
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
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/icon.svg"),
    ),
    (
        "icon-180.png",
        "image/png",
        include_bytes!("../../assets/icon-180.png"),
    ),
    (
        "icon-192.png",
        "image/png",
        include_bytes!("../../assets/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("../../assets/icon-512.png"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../../assets/manifest.webmanifest"),
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
    let version = FILES.iter().position(|(file, _, _)| *file == name);
    paths::asset(name, version.map(|index| HASHES[index].as_str()))
}

/// `GET /assets/{file}[?v=hash]`: for good with the hash of these bytes,
/// for a day without it (the manifest's icons), revalidated after a
/// deploy either way since a new hash is a new URL.
pub async fn serve(Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(index) = FILES.iter().position(|(name, _, _)| *name == file) else {
        return AppError::NotFound("There is no such file.").into_response();
    };
    let (_, content_type, bytes) = FILES[index];
    let versioned = query.is_some_and(|q| q == format!("v={}", HASHES[index]));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=86400"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /favicon.ico`: browsers ask for it whatever the page says.
pub async fn favicon() -> Response {
    serve(Path("icon.svg".to_owned()), RawQuery(None)).await
}
