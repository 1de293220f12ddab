//! The tab as the page sees it: hidden or visible (headless Chromium hides
//! a page when its window is minimised, and shows it again, with a
//! `visibilitychange` each time), and the notification permission.

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::json;

use super::{eventually, Browser};

impl Browser {
    /// Minimises the window: the page becomes hidden, as a tab in the
    /// background does.
    pub async fn hide(&self) {
        self.client.minimize_window().await.expect("minimise");
        eventually("the page is hidden", || async {
            self.js("return document.visibilityState", vec![]).await == json!("hidden")
        })
        .await;
    }

    /// Brings the window back: the page is visible again.
    pub async fn show(&self) {
        self.client.maximize_window().await.expect("restore");
        eventually("the page is visible", || async {
            self.js("return document.visibilityState", vec![]).await == json!("visible")
        })
        .await;
    }

    /// Allows desktop notifications for the site of the page now open, as
    /// the person would in the browser's prompt (WebDriver's permissions
    /// extension).
    pub async fn allow_notifications(&self) {
        self.client
            .issue_cmd(SetPermission {
                name: "notifications",
                state: "granted",
            })
            .await
            .expect("notifications allowed");
    }
}

/// `POST /session/{id}/permissions` (W3C Permissions, WebDriver extension).
#[derive(Debug)]
struct SetPermission {
    name: &'static str,
    state: &'static str,
}

impl WebDriverCompatibleCommand for SetPermission {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base_url.join(&format!("session/{}/permissions", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "descriptor": { "name": self.name }, "state": self.state });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}
