//! Configuration: clap flags, each falling back to an environment variable.

use std::net::SocketAddr;

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

    /// Seconds without an open event stream or a post after which a
    /// username may be taken by someone else.
    #[arg(long, env = "NATTER_NAME_IDLE_SECS", default_value_t = 600)]
    pub name_idle_secs: u64,

    /// Mark the session cookie `Secure` (serve natter behind HTTPS).
    #[arg(long, env = "NATTER_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

impl Config {
    /// A configuration for the given database with every other setting at
    /// its default and a random loopback port: what tests start from.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            name_idle_secs: 600,
            secure_cookies: false,
        }
    }
}
