//! A lean client for load: a session cookie from a join, JSON posts over
//! one pooled HTTP client (or each over a connection of its own, for a
//! rolling restart), and the kit's SSE reader straight over `TcpStream`
//! (hundreds of them cost little: no HTTP client per stream), counting
//! messages only (events with an id).

use std::time::Duration;

use reqwest::{Client, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use natter_kit::chunked::{find, Chunked};
use natter_kit::cookie::session_pair;
use natter_kit::{Event, Sse};

/// One HTTP client for many members: no cookie store, no redirects.
pub fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build()
        .expect("client")
}

/// A member: a session cookie, valid for one room, on one server.
#[derive(Debug, Clone)]
pub struct Member {
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub room: String,
    /// `natter=…`.
    pub cookie: String,
}

/// Joins `room` as `name`; panics unless the server says 303.
pub async fn join(http: &Client, base: &str, name: &str, room: &str) -> Member {
    let response = http
        .post(format!("{base}/join-room"))
        .form(&[("username", name), ("room", room)])
        .send()
        .await
        .expect("join request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "join {name}");
    let set_cookies = response.headers().get_all("set-cookie");
    let cookie = session_pair(set_cookies.iter().filter_map(|v| v.to_str().ok()))
        .expect("session cookie")
        .to_owned();
    Member {
        base: base.to_owned(),
        room: room.to_owned(),
        cookie,
    }
}

/// What a post came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// 201: the server acknowledged the message with this seq.
    Acked(i64),
    /// Any other status, with the body.
    Refused(u16, String),
    /// No answer (connection refused, reset, timed out).
    NoAnswer(String),
}

impl Member {
    /// Posts `body` asking for JSON.
    pub async fn post(&self, http: &Client, body: &str) -> Posted {
        let sent = http
            .post(format!("{}/rooms/{}/messages", self.base, self.room))
            .header("cookie", &self.cookie)
            .header("accept", "application/json")
            .form(&[("body", body)])
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return Posted::NoAnswer(error.to_string()),
        };
        let status = response.status();
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => return Posted::NoAnswer(error.to_string()),
        };
        if status == StatusCode::CREATED {
            let json: serde_json::Value = serde_json::from_str(&text).expect("json");
            Posted::Acked(json["seq"].as_i64().expect("seq"))
        } else {
            Posted::Refused(status.as_u16(), text)
        }
    }

    /// Posts and insists on a 201. A 503 (the database was busy past its
    /// timeouts, e.g. a machine saturated by other work) is an honest
    /// refusal with nothing stored: retried, as a client would, for up to
    /// 30 s.
    pub async fn say(&self, http: &Client, body: &str) -> i64 {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match self.post(http, body).await {
                Posted::Acked(seq) => return seq,
                Posted::Refused(503, _) if std::time::Instant::now() < deadline => {
                    eprintln!("a post got 503; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => panic!("post {body:?} was not acknowledged: {other:?}"),
            }
        }
    }

    /// Reads `count` events from `stream`, each within `wait` of the
    /// last, and when the server ends the stream (it may, e.g. when a
    /// catch-up query cannot get a connection) reconnects with
    /// `Last-Event-ID` as a browser would. Returns the events, how many
    /// reconnects it took, and the stream (to check nothing more comes).
    pub async fn follow(
        &self,
        mut stream: Sse,
        count: usize,
        wait: Duration,
    ) -> (Vec<Event>, usize, Sse) {
        let mut events: Vec<Event> = Vec::with_capacity(count);
        let mut reconnects = 0;
        while events.len() < count {
            match stream.next_within(wait).await {
                Some(event) => events.push(event),
                None if stream.ended() && reconnects < 100 => {
                    reconnects += 1;
                    stream = self
                        .events(events.last().map(|e| e.seq()).or(Some(0)))
                        .await;
                }
                None => panic!("only {} of {count} events arrived", events.len()),
            }
        }
        (events, reconnects, stream)
    }

    /// Posts `body` asking for JSON over a connection of its own, closed
    /// after the answer (`Connection: close`), so no idle keep-alive
    /// connection can be closed under the request. `None` when the
    /// connection closed before any byte of an answer came back.
    pub async fn post_fresh(&self, body: &str) -> Option<Posted> {
        let form = serde_urlencoded::to_string([("body", body)]).expect("form");
        let request = format!(
            "POST /rooms/{}/messages HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\n\
             Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
            self.room,
            self.host(),
            self.cookie,
            form.len()
        );
        let mut socket = match TcpStream::connect(self.host()).await {
            Ok(socket) => socket,
            Err(error) => return Some(Posted::NoAnswer(format!("connect: {error}"))),
        };
        let _ = socket.set_nodelay(true);
        let mut answer = Vec::new();
        let exchange = async {
            socket.write_all(request.as_bytes()).await?;
            socket.read_to_end(&mut answer).await
        };
        match tokio::time::timeout(Duration::from_secs(60), exchange).await {
            Err(_) => return Some(Posted::NoAnswer("no answer within 60 s".into())),
            // A write or read error with nothing read is a closed connection too.
            Ok(_) if answer.is_empty() => return None,
            Ok(Err(error)) => {
                return Some(Posted::NoAnswer(format!(
                    "cut after {} bytes of the answer: {error}",
                    answer.len()
                )))
            }
            Ok(Ok(_)) => {}
        }
        Some(parse_answer(&answer))
    }

    fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// The raw request that opens this member's stream.
    fn events_request(&self, last_event_id: Option<i64>) -> String {
        let resume = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        format!(
            "GET /rooms/{}/events HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\n\
             Accept: text/event-stream\r\n{resume}\r\n",
            self.room,
            self.host(),
            self.cookie
        )
    }

    /// Opens the room's stream; panics unless it is a 200.
    pub async fn events(&self, last_event_id: Option<i64>) -> Sse {
        let stream = TcpStream::connect(self.host()).await.expect("connect");
        Sse::open(stream, &self.events_request(last_event_id)).await
    }

    /// Opens the room's stream, as a browser retries it: `Err` with the
    /// status of an answer that is not a 200, or 0 when the connection
    /// failed or closed before any byte of an answer.
    pub async fn try_events(&self, last_event_id: Option<i64>) -> Result<Sse, u16> {
        let Ok(mut socket) = TcpStream::connect(self.host()).await else {
            return Err(0);
        };
        let request = self.events_request(last_event_id);
        if socket.write_all(request.as_bytes()).await.is_err() {
            return Err(0);
        }
        // The status line is peeked at, not taken: the kit's reader reads
        // the whole head itself.
        let mut status = [0u8; 12];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, socket.peek(&mut status)).await {
                Err(_) => panic!("no answer to a stream request within 30 s"),
                Ok(Ok(0) | Err(_)) => return Err(0),
                Ok(Ok(n)) if n == status.len() => break,
                Ok(Ok(_)) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        match std::str::from_utf8(&status[9..]).map(str::parse::<u16>) {
            Ok(Ok(200)) => Ok(Sse::resume(socket).await),
            Ok(Ok(code)) => Err(code),
            _ => panic!("not an HTTP answer: {status:?}"),
        }
    }

    /// Sends the stream request over a socket with a tiny receive buffer
    /// and returns the socket unread: a subscriber that never reads.
    pub async fn stuck_events(&self, last_event_id: Option<i64>) -> TcpStream {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let addr = self.host().parse().expect("socket address");
        let mut stream = socket.connect(addr).await.expect("connect");
        stream
            .write_all(self.events_request(last_event_id).as_bytes())
            .await
            .expect("request");
        stream
    }
}

/// What a whole answer to a post, read to its end, came to.
fn parse_answer(answer: &[u8]) -> Posted {
    let Some(end) = find(answer, b"\r\n\r\n") else {
        return Posted::NoAnswer(format!("cut in the head, after {} bytes", answer.len()));
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let status: u16 = head
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let mut body = answer[end + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut raw = bytes::BytesMut::from(&body[..]);
        body.clear();
        if !Chunked::default()
            .feed(&mut raw, &mut body)
            .unwrap_or(false)
        {
            return Posted::NoAnswer("cut in a chunked body".into());
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if status != StatusCode::CREATED.as_u16() {
        return Posted::Refused(status, text);
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => Posted::Acked(json["seq"].as_i64().expect("seq")),
        Err(_) => Posted::NoAnswer(format!("cut in the body: {text:?}")),
    }
}

/// Asserts `seqs` is exactly `1..=count`: nothing lost, nothing twice, in
/// order.
pub fn assert_exactly_once(seqs: &[i64], count: i64, who: &str) {
    let mut expected = 1;
    for &seq in seqs {
        assert_eq!(
            seq, expected,
            "{who}: expected seq {expected} next, got {seq} (a gap, a duplicate or a reorder)"
        );
        expected += 1;
    }
    assert_eq!(expected - 1, count, "{who}: got {} of {count}", seqs.len());
}

/// A small deterministic random source (xorshift), seeded and printed so a
/// failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(label: &str) -> Self {
        let seed = std::env::var("RELIABILITY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
            | 1;
        eprintln!("{label}: RELIABILITY_SEED={seed}");
        Self(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}
