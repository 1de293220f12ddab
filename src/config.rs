//! Configuration: clap flags, each falling back to an environment variable.

use std::net::SocketAddr;

pub use crate::telemetry::LogFormat;

/// How natter is configured. Every flag can also be set through the
/// environment variable named beside it.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "natter", version, about = "Real-time room chat for the web")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "NATTER_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Database URL: `sqlite:path` (the default, a file created on first
    /// start) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:natter.db")]
    pub database_url: String,

    /// Mark the session cookie `Secure` (serve natter behind HTTPS). On by
    /// default when `--public-url` is `https://…`.
    #[arg(long, env = "NATTER_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The URL people reach natter at, e.g. `https://chat.example.org`.
    #[arg(long, env = "NATTER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Days of inactivity after which a session expires (and is deleted).
    /// A name belongs to its session for as long as the session lives.
    #[arg(long, env = "NATTER_SESSION_IDLE_DAYS", default_value_t = 30)]
    pub session_idle_days: u32,

    /// The same in seconds, overriding the days (for tests).
    #[arg(long, env = "NATTER_SESSION_IDLE_SECS", hide = true)]
    pub session_idle_secs: Option<u64>,

    /// Messages one member may post at once before being slowed down.
    #[arg(long, env = "NATTER_POST_BURST", default_value_t = 10)]
    pub post_burst: u32,

    /// Messages per second one member may post after the burst (a client
    /// IP may do five times as much as one member).
    #[arg(long, env = "NATTER_POST_RATE", default_value_t = 2.0)]
    pub post_rate: f64,

    /// Joins one client IP may make at once before being slowed down.
    #[arg(long, env = "NATTER_JOIN_BURST", default_value_t = 20)]
    pub join_burst: u32,

    /// Joins per second one client IP may make after the burst.
    #[arg(long, env = "NATTER_JOIN_RATE", default_value_t = 1.0)]
    pub join_rate: f64,

    /// Header holding the client address set by a trusted reverse proxy
    /// (e.g. `X-Forwarded-For`; its last entry is used). Unset: the peer.
    #[arg(long, env = "NATTER_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,

    /// Event streams one member may hold open in a room.
    #[arg(long, env = "NATTER_MAX_STREAMS_PER_MEMBER", default_value_t = 8)]
    pub max_streams_per_member: usize,

    /// Event streams the instance holds open in total.
    #[arg(long, env = "NATTER_MAX_STREAMS", default_value_t = 16_000)]
    pub max_streams: usize,

    /// Seconds a client has to send a request's headers before the
    /// connection is closed (slow clients cannot hold connections).
    #[arg(long, env = "NATTER_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,

    /// Runtime worker threads (default: one per core). 1 runs natter on a
    /// single thread, e.g. pinned to one core for benchmarks.
    #[arg(long, env = "NATTER_WORKER_THREADS")]
    pub worker_threads: Option<usize>,

    /// Webhook targets allowed although they are loopback, private,
    /// link-local or metadata addresses (refused by default): hosts or
    /// CIDRs, comma-separated, e.g. `hooks.internal,10.1.0.0/16`.
    #[arg(long, env = "NATTER_WEBHOOK_ALLOW", value_delimiter = ',')]
    pub webhook_allow: Vec<String>,

    /// Seconds after which a webhook delivery that keeps failing is given
    /// up (it is retried with backoff until then).
    #[arg(long, env = "NATTER_WEBHOOK_GIVE_UP_SECS", default_value_t = 3600)]
    pub webhook_give_up_secs: u64,

    /// Address to serve Prometheus metrics on (`GET /metrics`), apart from
    /// the app's; unset (the default): no metrics. Keep it private.
    #[arg(long, env = "NATTER_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Log lines as `text` (for people) or `json` (one object per line).
    #[arg(long, env = "NATTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// A configuration for the given database with every other setting at
    /// its default and a random loopback port: what tests start from. Flood
    /// limits are lifted (tests post fast from one address); tests of the
    /// limits set them back.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            secure_cookies: false,
            public_url: None,
            session_idle_days: 30,
            session_idle_secs: None,
            post_burst: 1_000_000,
            post_rate: 1_000_000.0,
            join_burst: 1_000_000,
            join_rate: 1_000_000.0,
            client_ip_header: None,
            max_streams_per_member: 8,
            max_streams: 16_000,
            worker_threads: None,
            header_timeout_secs: 30,
            webhook_allow: Vec::new(),
            webhook_give_up_secs: 3600,
            metrics_bind: None,
            log_format: LogFormat::Text,
        }
    }

    /// How long an unused session lives.
    pub fn session_idle(&self) -> std::time::Duration {
        let secs = self
            .session_idle_secs
            .unwrap_or(u64::from(self.session_idle_days) * 24 * 60 * 60);
        std::time::Duration::from_secs(secs.max(1))
    }

    /// Whether the session cookie is marked `Secure`.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            || self
                .public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"))
    }
}
