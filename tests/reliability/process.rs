//! The real `natter` binary as a child process, on a SQLite file (or any
//! database URL): for crashes (SIGKILL), shutdown (SIGTERM), a rolling
//! restart on the same address, the soak's RSS readings, and instances
//! whose metrics are their own.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use natter_kit::presets::unlimited_args;

/// A running `natter` process.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// What it was started with, to start it again the same way.
    database_url: String,
    extra: Vec<String>,
}

impl Server {
    /// Starts the binary on `sqlite:{db}` and a free port; waits for its
    /// "natter listening on http://…" line.
    pub fn start(db: &Path) -> Self {
        Self::start_with(&format!("sqlite:{}", db.display()), &[])
    }

    /// Starts the binary on `database_url` and a free port with `extra`
    /// flags.
    pub fn start_with(database_url: &str, extra: &[String]) -> Self {
        Self::start_on("127.0.0.1:0", database_url, extra)
    }

    /// Starts the binary listening on `bind` (`127.0.0.1:0`: a free port).
    pub fn start_on(bind: &str, database_url: &str, extra: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
            .args(["--bind", bind, "--database-url", database_url])
            .args(unlimited_args())
            .args(extra)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "natter=info,warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("natter starts");
        let stdout = child.stdout.take().expect("stdout");
        let (found, address) = mpsc::channel();
        // Drain the log for the process's whole life so it never blocks.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("natter listening on http://") {
                    let url = line[at + "natter listening on ".len()..].trim().to_owned();
                    if let Some(found) = found.take() {
                        let _ = found.send(url);
                    }
                }
                if std::env::var_os("RELIABILITY_SERVER_LOG").is_some() {
                    eprintln!("server: {line}");
                }
            }
        });
        let base = address
            .recv_timeout(Duration::from_secs(30))
            .expect("natter says where it listens within 30 s");
        Self {
            child,
            base,
            database_url: database_url.to_owned(),
            extra: extra.to_vec(),
        }
    }

    /// Starts the binary again on the address it listened on, with the
    /// same database and flags, as a service manager restarts it; the
    /// process must have exited (see [`Server::exited_within`]). Waits for
    /// its "listening" line, which comes once it has bound the address.
    pub fn restart(&mut self) {
        assert!(
            matches!(self.child.try_wait(), Ok(Some(_))),
            "restarted only once it has exited"
        );
        let bind = self.addr().to_string();
        *self = Self::start_on(&bind, &self.database_url, &self.extra);
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("a socket address")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps it.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, as a service manager stops it.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM failed");
    }

    /// The exit status, if the process exits within `within`.
    pub async fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Waits until it answers `/healthz` with a 200 on its own address.
    pub async fn answers(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = http.get(format!("{}/healthz", self.base)).send().await;
            if health.is_ok_and(|answer| answer.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "{} did not answer", self.base);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }
}

/// Resident memory of `pid` in KiB (0 if unknown).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads a number straight from a SQLite file.
pub async fn sqlite_count(db: &Path, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
        .await
        .expect("sqlite");
    let n = sqlx::query_scalar(sql)
        .fetch_one(&mut connection)
        .await
        .expect("count");
    let _ = connection.close().await;
    n
}

/// Every stored message of a room as (seq, body), in seq order, from the
/// database at `url` (`sqlite:FILE` or `postgres://…`).
pub async fn stored_messages(url: &str, room: &str) -> Vec<(i64, String)> {
    use sqlx::Connection;
    macro_rules! read {
        ($connection:ty) => {{
            let mut connection = <$connection>::connect(url).await.expect("database");
            let rows =
                sqlx::query_as("SELECT seq, body FROM messages WHERE room = $1 ORDER BY seq")
                    .bind(room)
                    .fetch_all(&mut connection)
                    .await
                    .expect("messages");
            let _ = connection.close().await;
            rows
        }};
    }
    if url.starts_with("sqlite:") {
        read!(sqlx::SqliteConnection)
    } else {
        read!(sqlx::PgConnection)
    }
}
