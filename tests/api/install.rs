//! Installing natter on a phone: a favicon and a web app manifest whose
//! icons are served with the right types under the CSP (issue 12, 7).

use reqwest::StatusCode;

use natter_kit::{spawn_app, Backend};

natter_kit::on_both_backends!(pages_name_an_icon_and_a_manifest_that_are_served,);

/// The `href` of the first `<link rel="{rel}">` in a page.
fn link(page: &str, rel: &str) -> String {
    let at = page
        .find(&format!(r#"<link rel="{rel}" href=""#))
        .unwrap_or_else(|| panic!("no {rel} link"));
    let rest = &page[at + rel.len() + 19..];
    rest[..rest.find('"').expect("end of href")].replace("&#x3d;", "=")
}

/// The join page links an SVG icon, a touch icon and a manifest; each is
/// served with its content type, and the manifest's 192 and 512 px PNGs
/// are real PNGs of those sizes.
async fn pages_name_an_icon_and_a_manifest_that_are_served(backend: Backend) {
    let app = spawn_app(backend).await;
    let visitor = app.user();
    let (_, page) = visitor.text("/join-room").await;
    let fetch = |path: String| {
        let visitor = visitor.clone();
        async move {
            let response = visitor.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .to_owned();
            (kind, response.bytes().await.expect("body").to_vec())
        }
    };
    let (kind, svg) = fetch(link(&page, "icon")).await;
    assert_eq!(kind, "image/svg+xml");
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    let (kind, _) = fetch(link(&page, "apple-touch-icon")).await;
    assert_eq!(kind, "image/png");
    let (kind, _) = fetch("/favicon.ico".to_owned()).await;
    assert_eq!(kind, "image/svg+xml");

    let (kind, manifest) = fetch(link(&page, "manifest")).await;
    assert_eq!(kind, "application/manifest+json");
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).expect("json");
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/join-room");
    let icons = manifest["icons"].as_array().cloned().unwrap_or_default();
    for size in [192_u32, 512] {
        let icon = icons
            .iter()
            .find(|icon| icon["sizes"] == format!("{size}x{size}"))
            .unwrap_or_else(|| panic!("a {size} px icon"));
        assert_eq!(icon["type"], "image/png");
        let (kind, png) = fetch(icon["src"].as_str().unwrap_or("").to_owned()).await;
        assert_eq!(kind, "image/png");
        assert_eq!(&png[1..4], b"PNG");
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        assert_eq!((width, height), (size, size));
    }
}
