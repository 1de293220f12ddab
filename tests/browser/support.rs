//! The browser-test rig: natter on a random port with a fresh SQLite file,
//! chromedriver on a free loopback port, and independent Chromium sessions
//! (each its own profile, so its own cookies).

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use natter::config::Config;
use natter::startup::App;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use tokio::sync::{oneshot, Semaphore, SemaphorePermit};
use tokio::task::JoinHandle;

pub use fantoccini::key::Key;

/// Chromium is heavy: at most this many tests drive browsers at once.
static SLOTS: Semaphore = Semaphore::const_new(2);

/// How long any awaited condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The phone-sized window most tests use, and a desktop one.
pub const MOBILE: (u32, u32) = (390, 844);
pub const DESKTOP: (u32, u32) = (1280, 800);

/// Everything one test needs. Dropping it stops the server and kills
/// chromedriver (and the browsers it started).
pub struct Rig {
    pub server: Server,
    driver: Driver,
    _slot: SemaphorePermit<'static>,
}

/// Builds a rig, or returns `None` (after a `SKIPPED:` line) when Chromium
/// or chromedriver is not installed. Under `CI=true` a missing browser is a
/// failure, not a skip.
pub async fn rig() -> Option<Rig> {
    let (Some(chromium), Some(chromedriver)) = (find("chromium"), find("chromedriver")) else {
        let why = "chromium and chromedriver are needed (apt-get install chromium chromium-driver)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("browser tests under CI=true: {why}");
        }
        eprintln!("SKIPPED: browser test: {why}");
        return None;
    };
    let slot = SLOTS.acquire().await.expect("semaphore open");
    let driver = Driver::start(&chromedriver, chromium).await;
    let server = Server::start().await;
    Some(Rig {
        server,
        driver,
        _slot: slot,
    })
}

fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// chromedriver in a process group of its own, so that killing the group
/// also ends any Chromium a failed test left behind.
struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
}

impl Driver {
    async fn start(chromedriver: &Path, chromium: PathBuf) -> Self {
        use std::os::unix::process::CommandExt;
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("chromedriver starts");
            let url = format!("http://127.0.0.1:{port}");
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // The port was taken meanwhile: try another.
                }
                if reqwest::get(format!("{url}/status")).await.is_ok() {
                    return Self {
                        child,
                        url,
                        chromium,
                    };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("chromedriver did not come up");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// natter, in-process, on its own temp SQLite database. It can be restarted
/// on the same port and database.
pub struct Server {
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("natter.db").display());
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            _dir: dir,
            config: Config::for_tests(url),
            stop: None,
            task: None,
        };
        server.run().await;
        server
    }

    async fn run(&mut self) {
        let app = App::build(self.config.clone())
            .await
            .expect("natter starts");
        self.addr = app.addr();
        self.config.bind = self.addr;
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(app.run(async move {
            let _ = stopped.await;
        })));
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops gracefully (event streams end) and starts again on the same
    /// port and database.
    pub async fn restart(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("server stops within 10 s")
                .expect("server task")
                .expect("server ran cleanly");
        }
        self.run().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

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

    pub async fn browser_with(&self, options: Options) -> Browser {
        self.browser_at(&self.server.base(), options).await
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
        let base = self.server.base();
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

/// Polls `check` until it holds; fails the test after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_within(PATIENCE, what, check).await
}

/// Polls `check` until it holds; fails the test after `patience`.
pub async fn eventually_within<F, Fut>(patience: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + patience;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A loopback TCP relay in front of the server: closing it cuts every
/// connection through it and refuses new ones, as a dropped network would,
/// while the server itself stays up for everyone else.
pub struct Gate {
    pub port: u16,
    upstream: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Gate {
    pub async fn open_to(upstream: SocketAddr) -> Self {
        let mut gate = Self {
            port: free_port(),
            upstream,
            task: None,
        };
        gate.open().await;
        gate
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn open(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("gate port");
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            // Dropping the set (when the task is aborted) aborts every relay.
            let mut relays = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                relays.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    pub async fn close(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}
