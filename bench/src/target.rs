//! What is measured: natter, or nginx+nchan serving the same fan-out.
//!
//! Both get the same raw requests apart from the paths: natter needs a
//! member's session cookie for everything, nchan needs nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use natter_kit::cookie::session_pair;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::http::{form_encode, request, Conn};

/// The server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// natter: join (cookie session), `/rooms/{room}/events`, posts.
    Natter,
    /// nginx+nchan (`bench/nchan.conf`): `/sub/{room}` and `/pub/{room}`.
    Nchan,
}

/// A server and the room the run uses.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub room: String,
}

/// A member of the room: the session cookie (`natter=…`), or nothing for nchan.
pub type Cookie = Option<Arc<str>>;

impl Target {
    /// Joins one user; returns the cookie to send with every request.
    pub async fn join(&self, conn: &mut Conn, name: &str) -> Result<Cookie> {
        if self.kind == Kind::Nchan {
            return Ok(None);
        }
        let body = format!("username={}&room={}", form_encode(name), self.room);
        let req = request(
            "POST",
            "/join-room",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        let (head, _) = conn.roundtrip(&req).await?;
        if head.status != 303 {
            bail!("join {name}: status {}", head.status);
        }
        let set_cookies = head
            .headers
            .iter()
            .filter(|(name, _)| name == "set-cookie")
            .map(|(_, value)| value.as_str());
        let cookie = session_pair(set_cookies).context("join: no natter session cookie")?;
        Ok(Some(cookie.into()))
    }

    /// Joins `count` users named `{prefix}{i}` over `parallel` connections.
    pub async fn join_many(
        &self,
        prefix: &str,
        count: usize,
        parallel: usize,
    ) -> Result<Vec<Cookie>> {
        if self.kind == Kind::Nchan {
            return Ok(vec![None; count]);
        }
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = JoinSet::new();
        for _ in 0..parallel.min(count).max(1) {
            let (target, next, prefix) = (self.clone(), next.clone(), prefix.to_owned());
            tasks.spawn(async move {
                let mut conn = Conn::connect(target.addr).await?;
                let mut got = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count {
                        return anyhow::Ok(got);
                    }
                    got.push((i, target.join(&mut conn, &format!("{prefix}{i}")).await?));
                }
            });
        }
        let mut cookies = vec![None; count];
        while let Some(done) = tasks.join_next().await {
            for (i, cookie) in done?? {
                cookies[i] = cookie;
            }
        }
        Ok(cookies)
    }

    /// The request that opens an event stream.
    pub fn subscribe_request(&self, cookie: &Cookie) -> Vec<u8> {
        let mut headers = vec![("Accept", "text/event-stream")];
        if let Some(cookie) = cookie {
            headers.push(("Cookie", cookie));
        }
        let path = match self.kind {
            Kind::Natter => format!("/rooms/{}/events", self.room),
            Kind::Nchan => format!("/sub/{}", self.room),
        };
        request("GET", &path, &headers, b"")
    }

    /// The request that replaces the body of message `seq` (natter only).
    pub fn edit_request(&self, cookie: &Cookie, seq: i64, text: &str) -> Vec<u8> {
        let body = format!("body={}", form_encode(text));
        let path = format!("/rooms/{}/messages/{seq}/edit", self.room);
        self.natter_form(cookie, &path, &body)
    }

    /// The request that toggles a reaction to message `seq` (natter only).
    pub fn react_request(&self, cookie: &Cookie, seq: i64, emoji: &str) -> Vec<u8> {
        let body = format!("emoji={}", form_encode(emoji));
        let path = format!("/rooms/{}/messages/{seq}/reactions", self.room);
        self.natter_form(cookie, &path, &body)
    }

    /// The request that says a member is typing (natter only).
    pub fn typing_request(&self, cookie: &Cookie) -> Vec<u8> {
        let path = format!("/rooms/{}/typing", self.room);
        self.natter_form(cookie, &path, "")
    }

    /// A form `POST` to natter asking for JSON.
    fn natter_form(&self, cookie: &Cookie, path: &str, body: &str) -> Vec<u8> {
        let mut headers = vec![
            ("Accept", "application/json"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        if let Some(cookie) = cookie {
            headers.push(("Cookie", cookie));
        }
        request("POST", path, &headers, body.as_bytes())
    }

    /// The request that posts `text` as a message.
    pub fn publish_request(&self, cookie: &Cookie, text: &str) -> Vec<u8> {
        match self.kind {
            Kind::Natter => {
                let mut headers = vec![
                    ("Accept", "application/json"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ];
                if let Some(cookie) = cookie {
                    headers.push(("Cookie", cookie));
                }
                let body = format!("body={}", form_encode(text));
                let path = format!("/rooms/{}/messages", self.room);
                request("POST", &path, &headers, body.as_bytes())
            }
            Kind::Nchan => {
                let path = format!("/pub/{}", self.room);
                let headers = [("Content-Type", "text/plain")];
                request("POST", &path, &headers, text.as_bytes())
            }
        }
    }

    /// Whether a publish was acknowledged (stored, for natter).
    pub fn published(&self, status: u16) -> bool {
        match self.kind {
            Kind::Natter => status == 201,
            Kind::Nchan => status == 201 || status == 202,
        }
    }

    /// The room page (natter), or the page nchan's config serves beside
    /// its channels (`/page`).
    pub fn page_request(&self, cookie: &Cookie) -> Vec<u8> {
        let mut headers = vec![];
        if let Some(cookie) = cookie {
            headers.push(("Cookie", &**cookie));
        }
        let path = match self.kind {
            Kind::Natter => format!("/rooms/{}", self.room),
            Kind::Nchan => "/page".to_owned(),
        };
        request("GET", &path, &headers, b"")
    }

    /// Waits until the server accepts connections.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            match Conn::connect(self.addr).await {
                Ok(_) => return Ok(()),
                Err(error) if start.elapsed() > timeout => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

/// Bounds how many connects or requests are in flight during setup, so
/// the listen backlog never overflows (an overflow costs a 1 s SYN retry).
pub fn setup_limit() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(64))
}
