//! One person's browser (a Chromium with a profile of its own), and a bot
//! that posts over plain HTTP.

use std::path::{Path, PathBuf};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use super::{eventually, Key, Rig, MOBILE, PATIENCE};

/// How to open a browser session.
#[derive(Debug, Clone)]
pub struct Options {
    pub size: (u32, u32),
    pub javascript: bool,
    pub dark: bool,
    /// Reuse this profile directory (a browser restarted "later").
    pub profile: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            size: MOBILE,
            javascript: true,
            dark: false,
            profile: None,
        }
    }
}

/// One person's browser: a Chromium with a profile of its own.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub profile: PathBuf,
    _profile_dir: Option<tempfile::TempDir>,
}

impl Rig {
    /// A new browser with a fresh profile, phone-sized.
    pub async fn browser(&self) -> Browser {
        self.browser_with(Options::default()).await
    }

    /// A new phone-sized browser with JavaScript off.
    pub async fn browser_without_js(&self) -> Browser {
        self.browser_with(Options {
            javascript: false,
            ..Options::default()
        })
        .await
    }

    /// A new browser with these options.
    pub async fn browser_with(&self, options: Options) -> Browser {
        self.browser_at(&self.server.addr, options).await
    }

    /// A browser that talks to `base` (a proxy, say) instead of the server.
    pub async fn browser_at(&self, base: &str, options: Options) -> Browser {
        let (profile_dir, profile) = match options.profile.clone() {
            Some(path) => (None, path),
            None => {
                let dir = tempfile::tempdir().expect("profile dir");
                let path = dir.path().to_owned();
                (Some(dir), path)
            }
        };
        let (width, height) = options.size;
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-quic".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--lang=en-GB".to_owned(),
            "--window-size=1400,1000".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        if options.dark {
            args.push("--force-dark-mode".to_owned());
        }
        // Device metrics give an exact viewport (a headless window has a
        // minimum width), and phone sizes get a phone's viewport handling.
        let mut chrome = json!({
            "binary": self.driver.chromium,
            "args": args,
            "mobileEmulation": { "deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 1.0,
                "mobile": width < 700, "touch": false,
            }},
        });
        if !options.javascript {
            chrome["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), chrome);
        // chromedriver speaks plain HTTP on loopback: no TLS needed.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.driver.url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            base: base.to_owned(),
            profile,
            _profile_dir: profile_dir,
        }
    }

    /// A plain HTTP client (cookie jar, no redirects) joined to `room`: a
    /// bot that posts quickly.
    pub async fn bot(&self, name: &str, room: &str) -> Bot {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        let base = self.server.addr.clone();
        let response = http
            .post(format!("{base}/join-room"))
            .form(&[("username", name), ("room", room)])
            .send()
            .await
            .expect("join");
        assert_eq!(response.status(), 303, "{name} joins {room}");
        Bot {
            http,
            url: format!("{base}/rooms/{room}/messages"),
        }
    }
}

/// A scripted member posting over HTTP.
pub struct Bot {
    http: reqwest::Client,
    url: String,
}

impl Bot {
    pub async fn say(&self, body: &str) {
        let response = self
            .http
            .post(&self.url)
            .header("accept", "application/json")
            .form(&[("body", body)])
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 201, "posted {body:?}");
    }

    /// Toggles this member's `emoji` reaction on message `seq`.
    pub async fn react(&self, seq: i64, emoji: &str) {
        let response = self
            .http
            .post(format!("{}/{seq}/reactions", self.url))
            .header("accept", "application/json")
            .form(&[("emoji", emoji)])
            .send()
            .await
            .expect("react");
        assert_eq!(response.status(), 200, "reacted {emoji} to {seq}");
    }
}

impl Browser {
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Runs a script and returns what it returns.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.expect("script")
    }

    /// Fills in the join form and presses Enter (no waiting).
    pub async fn submit_join(&self, name: &str, room: &str) {
        self.goto("/join-room").await;
        let username = self.find("#username").await;
        username.clear().await.expect("clear");
        username.send_keys(name).await.expect("type name");
        let field = self.find("#room").await;
        field.clear().await.expect("clear");
        field
            .send_keys(&format!("{room}{}", char::from(Key::Enter)))
            .await
            .expect("type room");
    }

    /// Joins from the join page, as a person would, and waits for the room.
    pub async fn join(&self, name: &str, room: &str) {
        self.submit_join(name, room).await;
        let want = format!("/rooms/{room}");
        eventually("the room page opens", || async {
            self.path().await == want
        })
        .await;
        self.find("#body").await;
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{css} never showed: {error}"))
    }

    /// Types into the message box and presses Enter.
    pub async fn say(&self, text: &str) {
        self.find("#body")
            .await
            .send_keys(&format!("{text}{}", char::from(Key::Enter)))
            .await
            .expect("type message");
    }

    /// The messages shown, oldest first: (seq, author, body as text).
    pub async fn messages(&self) -> Vec<(i64, String, String)> {
        let rows = self
            .js(
                "return [...document.querySelectorAll('#messages .msg')].map(m => [\
                   Number(m.id.replace('message-', '')),\
                   m.querySelector('.author').textContent,\
                   m.querySelector('.bubble').textContent])",
                vec![],
            )
            .await;
        serde_json::from_value(rows).expect("rows")
    }

    /// The bodies shown, oldest first.
    pub async fn bodies(&self) -> Vec<String> {
        self.messages()
            .await
            .into_iter()
            .map(|(_, _, b)| b)
            .collect()
    }

    /// Waits until the last message shown has this body.
    pub async fn sees_last(&self, body: &str) {
        eventually(&format!("{body:?} shows last"), || async {
            self.bodies().await.last().map(String::as_str) == Some(body)
        })
        .await;
    }

    /// Saves a PNG of the viewport as `name.png` in the screenshot folder.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Ends the browser cleanly.
    pub async fn close(self) {
        self.quit().await;
    }

    /// Ends the browser cleanly and hands back its profile (saved to disk),
    /// to open it again later.
    pub async fn quit(self) -> Option<tempfile::TempDir> {
        self.client.close().await.expect("close browser");
        self._profile_dir
    }

    /// The text of the first element matching `css`, or "" if none.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Marks the page; [`Browser::same_page`] tells whether it was reloaded since.
    pub async fn mark_page(&self) {
        self.js("window.natterTestMark = true", vec![]).await;
    }

    pub async fn same_page(&self) -> bool {
        self.js("return window.natterTestMark === true", vec![])
            .await
            == json!(true)
    }
}

/// Where screenshots go: `$NATTER_SCREENSHOTS`, or `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("NATTER_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"))
}
