//! The web layer: routes, the membership lookup, the one error type, views.
//!
//! Each resource module exposes `router()`; [`router`] merges them and adds
//! the layers every request passes through: the request log, the body size
//! limit, the cross-site check, security headers and the cookie session.

mod answer;
pub mod assets;
mod bearer;
mod bots;
mod changes;
mod error;
mod events;
mod export;
mod extract;
mod guard;
mod hints;
mod join;
mod limit;
mod messages;
mod people;
mod permalink;
mod respond;
mod room_page;
mod rooms;
mod search;
mod session;
mod sessions;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderName;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tracing::Level;

pub use answer::message_json;
pub use error::AppError;
pub use limit::{ClientIp, Limits};
pub use sessions::Evicting;

use crate::config::Config;
use crate::live::Live;
use crate::paths::route;
use crate::store::Store;

/// The largest request body accepted. A form with a 2000-character message
/// of 4-byte characters, percent-encoded, is about 24 KB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Delivery to every screen.
    pub live: Live,
    /// How long an unused session lives; a name lives as long as its
    /// session.
    pub session_idle: Duration,
    /// Cancelled when the server shuts down: ends every event stream.
    pub shutdown: CancellationToken,
    /// Flood limits.
    pub limits: Arc<Limits>,
    /// The trusted proxy's client-address header, if any.
    pub client_ip_header: Option<HeaderName>,
    /// Where bots' webhooks may go.
    pub webhooks: Arc<crate::hooks::Policy>,
    /// `--public-url`, for the links natter hands out (a bot's curl line).
    pub public_url: Option<String>,
}

impl AppState {
    /// The session lifetime in milliseconds, as stored times are.
    pub fn session_idle_millis(&self) -> i64 {
        i64::try_from(self.session_idle.as_millis()).unwrap_or(i64::MAX)
    }
}

/// The whole application, over any session store.
pub fn router<S>(state: AppState, sessions: S, config: &Config) -> Router
where
    S: SessionStore + Clone,
{
    let sessions = SessionManagerLayer::new(sessions)
        .with_name("natter")
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(config.cookies_secure())
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::seconds(
                i64::try_from(config.session_idle().as_secs()).unwrap_or(i64::MAX),
            ),
        ));
    Router::new()
        .merge(join::router())
        .merge(rooms::router())
        .merge(messages::router())
        .merge(changes::router())
        .merge(search::router())
        .merge(export::router())
        .merge(people::router())
        .merge(bots::router())
        .merge(events::router())
        .route(route::ASSET, get(assets::serve))
        .route(route::FAVICON, get(assets::favicon))
        .route(route::HEALTH, get(health))
        .layer(sessions)
        .layer(axum::middleware::from_fn(guard::strict_forms))
        .layer(axum::middleware::from_fn(guard::cross_site))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
async fn health(State(state): State<AppState>) -> Result<&'static str, AppError> {
    match state.store.ping().await {
        Ok(()) => Ok("ok\n"),
        Err(error) => Err(AppError::Unhealthy(error.into())),
    }
}
