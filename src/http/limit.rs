//! Flood limits: token buckets for joins and posts (per member and per
//! client IP), and caps on open event streams (per member and in total).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::{AppError, AppState};
use crate::config::Config;

/// Buckets kept before idle (full) ones are swept out: bounds memory.
const MAX_BUCKETS: usize = 50_000;

/// A token bucket per key: `burst` requests at once, then `rate` per second.
#[derive(Debug)]
pub struct Limiter<K> {
    burst: f64,
    rate: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter allowing `burst` at once and `rate` per second after.
    pub fn new(burst: u32, rate: f64) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            rate: rate.max(0.001),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long until one is free.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        // A std mutex: held for a few arithmetic operations, never awaited.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            let (burst, rate) = (self.burst, self.rate);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(key.clone()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

/// All of natter's flood limits.
#[derive(Debug)]
pub struct Limits {
    posts_per_member: Limiter<i64>,
    posts_per_ip: Limiter<IpAddr>,
    joins_per_ip: Limiter<IpAddr>,
    typing_per_member: Limiter<i64>,
    streams_per_member: usize,
    max_streams: usize,
    open_streams: Arc<AtomicUsize>,
    per_member: Arc<Mutex<HashMap<i64, usize>>>,
}

/// An open stream's place under the caps; released on drop.
#[derive(Debug)]
pub struct StreamPermit {
    member_id: i64,
    open_streams: Arc<AtomicUsize>,
    per_member: Arc<Mutex<HashMap<i64, usize>>>,
}

impl Limits {
    /// The limits the configuration asks for. A client IP may do five
    /// times what one member may: several people can share an address.
    pub fn new(config: &Config) -> Self {
        Self {
            posts_per_member: Limiter::new(config.post_burst, config.post_rate),
            posts_per_ip: Limiter::new(config.post_burst * 5, config.post_rate * 5.0),
            joins_per_ip: Limiter::new(config.join_burst, config.join_rate),
            // One typing signal per member every two seconds: screens show
            // it for five, so nothing is lost by dropping the rest.
            typing_per_member: Limiter::new(1, 0.5),
            streams_per_member: config.max_streams_per_member,
            max_streams: config.max_streams,
            open_streams: Arc::default(),
            per_member: Arc::default(),
        }
    }

    /// May this member, from this address, post now?
    pub fn post(&self, member_id: i64, ip: IpAddr) -> Result<(), AppError> {
        self.posts_per_member
            .check(&member_id)
            .and_then(|()| self.posts_per_ip.check(&ip))
            .map_err(|wait| AppError::TooMany("messages", wait))
    }

    /// May this bot post now? Bots are held to a member's post limit; no
    /// address limit, since one CI machine may run many bots.
    pub fn bot_post(&self, member_id: i64) -> Result<(), AppError> {
        self.posts_per_member
            .check(&member_id)
            .map_err(|wait| AppError::TooMany("messages", wait))
    }

    /// Is this member's typing signal passed on (not one too many)?
    pub fn typing(&self, member_id: i64) -> bool {
        self.typing_per_member.check(&member_id).is_ok()
    }

    /// May this address join now?
    pub fn join(&self, ip: IpAddr) -> Result<(), AppError> {
        self.joins_per_ip
            .check(&ip)
            .map_err(|wait| AppError::TooMany("attempts to join", wait))
    }

    /// A place for one more event stream of this member, if there is one.
    pub fn open_stream(&self, member_id: i64) -> Result<StreamPermit, AppError> {
        let mut per_member = self.per_member.lock().unwrap_or_else(|p| p.into_inner());
        let mine = per_member.entry(member_id).or_default();
        if *mine >= self.streams_per_member {
            return Err(AppError::TooMany(
                "open streams in this room",
                Duration::from_secs(5),
            ));
        }
        if self.open_streams.fetch_add(1, Ordering::SeqCst) >= self.max_streams {
            self.open_streams.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Busy);
        }
        *mine += 1;
        Ok(StreamPermit {
            member_id,
            open_streams: self.open_streams.clone(),
            per_member: self.per_member.clone(),
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.open_streams.fetch_sub(1, Ordering::SeqCst);
        let mut per_member = self.per_member.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = per_member.get_mut(&self.member_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_member.remove(&self.member_id);
            }
        }
    }
}

/// The client's address: the peer, or, behind a trusted proxy named by
/// `--client-ip-header`, the last address that proxy recorded.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(name) = &state.client_ip_header {
            let forwarded = parts
                .headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
                .next_back();
            if let Some(ip) = forwarded {
                return Ok(Self(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no peer address")))?;
        Ok(Self(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_asks_to_wait() {
        let limiter = Limiter::new(3, 1.0);
        for _ in 0..3 {
            assert!(limiter.check(&1).is_ok());
        }
        let wait = limiter.check(&1).err().unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(limiter.check(&2).is_ok(), "keys are independent");
    }
}
