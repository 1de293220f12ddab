//! The browser-test rig: natter on a random port with a fresh SQLite file
//! (the kit's launcher), chromedriver on a free loopback port, and
//! independent Chromium sessions (each its own profile, so its own
//! cookies): `support/person.rs`; a gate to cut one person's network:
//! `support/gate.rs`; what a screen shows of each message:
//! `support/shown.rs`.

use std::future::Future;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use natter_kit::{spawn_app, Backend, TestApp};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::sync::{Semaphore, SemaphorePermit};

pub use fantoccini::key::Key;
pub use gate::Gate;
pub use person::{Browser, Options};
pub use shown::{click, message, shown, shows, tombstone, Shown};

mod gate;
mod person;
mod shown;
mod tab;

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
    /// natter, in-process, on its own temp SQLite database; it restarts
    /// on the same port and database.
    pub server: TestApp,
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
    let server = spawn_app(Backend::Sqlite).await;
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

impl Browser {
    /// Leaves the room the way a person does: Exit, then the confirming
    /// Leave button (a `<details>`, so it works without JavaScript too).
    pub async fn exit(&self) {
        self.find(".exit summary")
            .await
            .click()
            .await
            .expect("Exit");
        self.find(".exit .leave")
            .await
            .click()
            .await
            .expect("Leave");
    }

    /// Types into the message box and clicks Send (Enter adds a line
    /// without JavaScript).
    pub async fn send_with_button(&self, text: &str) {
        self.find("#body")
            .await
            .send_keys(text)
            .await
            .expect("type");
        self.find(".send").await.click().await.expect("Send");
    }
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
