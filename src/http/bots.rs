//! A room's bots: listing them, making one (its token shown once), and
//! revoking one. Members only, with their session; the bots themselves
//! speak with their token (see `bearer` and `messages`).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::answer::{self, Client};
use super::bearer;
use super::extract::FormOrJson;
use super::respond::{no_store, see_other};
use super::session::{require_member, room_from_path};
use super::views::{html, BotsPage, Created};
use super::{AppError, AppState};
use crate::chat::{now_millis, Member, RoomName, Username};
use crate::paths::{self, route};
use crate::store::{Bot, NewBot};

/// The bot routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(route::BOTS, get(list).post(create))
        .route(route::BOT, delete(revoke))
        .route(route::BOT_REVOKE, post(revoke))
}

/// A new bot's fields.
#[derive(Debug, Default, Deserialize)]
struct NewBotForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    webhook_url: String,
    /// A checkbox (`on`, `true`, `1`) or a JSON boolean.
    #[serde(default)]
    all: Option<serde_json::Value>,
}

impl NewBotForm {
    fn all(&self) -> bool {
        match &self.all {
            Some(serde_json::Value::Bool(all)) => *all,
            Some(serde_json::Value::String(text)) => {
                matches!(text.as_str(), "on" | "true" | "1" | "yes")
            }
            _ => false,
        }
    }
}

/// A bot as JSON.
#[derive(Debug, Serialize)]
struct BotJson<'a> {
    name: &'a str,
    webhook_url: Option<&'a str>,
    all: bool,
    created_by: &'a str,
    created_at: String,
    last_delivery: Option<DeliveryJson<'a>>,
}

/// What the last webhook delivery came to.
#[derive(Debug, Serialize)]
struct DeliveryJson<'a> {
    at: String,
    status: &'a str,
}

impl<'a> From<&'a Bot> for BotJson<'a> {
    fn from(bot: &'a Bot) -> Self {
        Self {
            name: bot.member.name.as_str(),
            webhook_url: bot.webhook_url.as_deref(),
            all: bot.all,
            created_by: &bot.created_by,
            created_at: answer::rfc3339(bot.created_at),
            last_delivery: bot.last_status.as_ref().map(|(status, at)| DeliveryJson {
                at: answer::rfc3339(*at),
                status,
            }),
        }
    }
}

/// `GET /rooms/{room}/bots`: the page, or the list as JSON.
async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    let client = Client::of(&headers);
    let listed = async {
        let room = room_from_path(&room)?;
        require_member(&state, &session, &room).await?;
        let bots = state.store.bots(&room).await?;
        Ok::<_, AppError>(match client {
            Client::Json => {
                Json(bots.iter().map(BotJson::from).collect::<Vec<_>>()).into_response()
            }
            _ => html(&BotsPage::new(&room, &bots))?.into_response(),
        })
    }
    .await;
    let mut response = match listed {
        Ok(response) => no_store(response),
        Err(error) if client == Client::Json => error.into_json_response(),
        Err(error) => error.into_response(),
    };
    answer::vary(&mut response);
    response
}

/// `POST /rooms/{room}/bots`: makes a bot and shows its token, once.
async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    headers: HeaderMap,
    form: Result<FormOrJson<NewBotForm>, AppError>,
) -> Response {
    let client = Client::of(&headers);
    let typed = form.as_ref().map(|FormOrJson(f)| f).ok();
    let page_fields = typed.map(|f| (f.name.clone(), f.webhook_url.clone(), f.all()));
    let made = make(&state, &session, &room, &headers, form).await;
    let mut response = match (made, client) {
        (Ok(made), Client::Json) => (StatusCode::CREATED, Json(made.json())).into_response(),
        (Ok(made), _) => page(&state, &made.room, Some(made.created), None, None).await,
        (Err(error), Client::Json) => error.into_json_response(),
        // A form that cannot be taken shows the page again with the
        // sentence and what was typed; a stranger gets the plain 403.
        (Err(error @ (AppError::Invalid(..) | AppError::TooMany(..))), _) => {
            match RoomName::parse(&room) {
                Ok(room) => page(&state, &room, None, Some(error), page_fields).await,
                Err(_) => error.into_response(),
            }
        }
        (Err(error), _) => error.into_response(),
    };
    answer::vary(&mut response);
    no_store(response)
}

/// A bot just made.
struct Made {
    room: RoomName,
    created: Created,
    webhook_url: Option<String>,
    all: bool,
    post_url: String,
}

impl Made {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.created.name,
            "token": self.created.token,
            "webhook_secret": self.created.secret,
            "webhook_url": self.webhook_url,
            "all": self.all,
            "post_url": self.post_url,
            "curl": self.created.curl,
        })
    }
}

async fn make(
    state: &AppState,
    session: &Session,
    room: &str,
    headers: &HeaderMap,
    form: Result<FormOrJson<NewBotForm>, AppError>,
) -> Result<Made, AppError> {
    let room = room_from_path(room)?;
    let member: Member = require_member(state, session, &room).await?;
    let FormOrJson(form) = form?;
    let name = Username::parse(&form.name).map_err(AppError::invalid)?;
    let webhook_url = match form.webhook_url.trim() {
        "" => None,
        url => Some(
            state
                .webhooks
                .check_url(url)
                .await
                .map_err(|why| {
                    AppError::invalid(format!("The webhook address is not allowed: {why}."))
                })?
                .to_string(),
        ),
    };
    let (token, secret) = bearer::new_credentials()?;
    let new = NewBot {
        token_hash: &bearer::token_hash(&token),
        secret: &secret,
        webhook_url: webhook_url.as_deref(),
        all: form.all(),
        created_by: member.name.as_str(),
    };
    let Some(bot) = state
        .store
        .create_bot(&room, &name, new, now_millis())
        .await?
    else {
        return Err(AppError::Invalid(
            StatusCode::CONFLICT,
            format!("Someone in {room} is already called {name}. Please pick another name."),
        ));
    };
    state.live.room_changed(&room);
    let post_url = format!("{}{}", base_url(state, headers), paths::messages(&room));
    let curl = format!("curl -H 'Authorization: Bearer {token}' -d 'body=Deployed!' {post_url}");
    Ok(Made {
        room,
        created: Created {
            name: bot.name.as_str().to_owned(),
            token,
            secret,
            webhook: webhook_url.is_some(),
            curl,
        },
        all: form.all(),
        webhook_url,
        post_url,
    })
}

/// Where people reach natter: `--public-url`, else the host they asked.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1:3000");
    format!("http://{host}")
}

/// The bots page, with a new bot's token or a refused form's sentence.
async fn page(
    state: &AppState,
    room: &RoomName,
    created: Option<Created>,
    error: Option<AppError>,
    typed: Option<(String, String, bool)>,
) -> Response {
    let bots = match state.store.bots(room).await {
        Ok(bots) => bots,
        Err(error) => return AppError::from(error).into_response(),
    };
    let mut page = BotsPage::new(room, &bots);
    let status = match (&created, &error) {
        (Some(_), _) => StatusCode::CREATED,
        (None, Some(error)) => error.status(),
        (None, None) => StatusCode::OK,
    };
    page.created = created;
    page.error = error.map(|error| error.user_message());
    if let Some((name, webhook_url, all)) = typed {
        if page.error.is_some() {
            (page.name, page.webhook_url, page.all) = (name, webhook_url, all);
        }
    }
    match html(&page) {
        Ok(page) => (status, page).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /rooms/{room}/bots/{name}/revoke` and `DELETE …/bots/{name}`:
/// the token stops working, the name is free, its streams end.
async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path((room, name)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let client = Client::of(&headers);
    let done = async {
        let room = room_from_path(&room)?;
        require_member(&state, &session, &room).await?;
        let name = Username::parse(&name).map_err(|_| AppError::NotFound(NO_SUCH_BOT))?;
        let id = state
            .store
            .revoke_bot(&room, &name, now_millis())
            .await?
            .ok_or(AppError::NotFound(NO_SUCH_BOT))?;
        state.live.evict(id);
        state.live.room_changed(&room);
        Ok::<_, AppError>(room)
    }
    .await;
    match done {
        // A form's revoke goes back to the list; a script's is done.
        Ok(room) if method == Method::POST && client != Client::Json => {
            see_other(&paths::bots(&room))
        }
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(error) if client == Client::Json => error.into_json_response(),
        Err(error) => error.into_response(),
    }
}

/// The sentence for a revoke of a bot the room does not have.
const NO_SUCH_BOT: &str = "There is no such bot.";
