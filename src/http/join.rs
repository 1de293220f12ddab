//! Joining: the join form, and claiming a name in a room.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::hints;
use super::people::rooms_of;
use super::respond::{form_with_errors, no_store, see_other};
use super::session::{self, Membership};
use super::views::{html, JoinPage, MyRooms};
use super::{AppError, AppState, ClientIp};
use crate::chat::{now_millis, RoomName, Username};
use crate::paths::{self, route};
use crate::store::JoinOutcome;

/// `/` and `/join-room`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(route::HOME, get(|| async { see_other(paths::join()) }))
        .route(route::JOIN, get(form).post(join))
}

/// `?room=` and `?name=` pre-fill the form; `?why=` says why the user is
/// back here (`left`, `lost`, or `taken`, which reads as `lost`); `?next=`
/// is the page of the room to go on to once joined (a permalink).
#[derive(Debug, Deserialize)]
struct FormQuery {
    room: Option<String>,
    name: Option<String>,
    why: Option<String>,
    next: Option<String>,
}

/// The join form's fields. Missing fields are empty, and get the rule.
#[derive(Debug, Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    room: String,
    /// Where to go on to in the room once joined (see `paths::next_in_room`).
    #[serde(default)]
    next: String,
}

/// `GET /join-room`: the form, and links to the rooms this session is in.
#[tracing::instrument(skip_all)]
async fn form(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<FormQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let query = query.map(|Query(query)| query).ok();
    let query = query.as_ref();
    // Both come from the URL, so anyone can write them: only a valid room
    // and a valid name are used, and askama escapes them as text.
    let room = query
        .and_then(|q| q.room.as_deref())
        .filter(|room| room.len() <= 64)
        .and_then(|room| RoomName::parse(room).ok())
        .map(|room| room.to_string())
        .unwrap_or_default();
    let name = query
        .and_then(|q| q.name.as_deref())
        .filter(|name| name.len() <= 128)
        .and_then(|name| Username::parse(name).ok())
        .map(|name| name.to_string());
    let notice = query
        .and_then(|q| q.why.as_deref())
        .and_then(|why| why_sentence(why, &room, name.as_deref()));
    // Only a page of the room itself is kept (never another site).
    let next = RoomName::parse(&room).ok().and_then(|parsed| {
        let next = query.and_then(|q| q.next.as_deref())?;
        paths::next_in_room(&parsed, next)
    });
    let page = JoinPage {
        username: name.unwrap_or_default(),
        room,
        next,
        username_error: None,
        room_error: None,
        notice,
        rooms: MyRooms::new(rooms_of(&state, &session).await?, None),
    };
    Ok(no_store(html(&page)?))
}

/// Why the person is on the join page, in a sentence; `None` without a room.
fn why_sentence(why: &str, room: &str, name: Option<&str>) -> Option<String> {
    if room.is_empty() {
        return None;
    }
    match (why, name) {
        ("left", _) => Some(format!("You left {room}.")),
        ("lost" | "taken", Some(name)) => Some(format!(
            "Your place in {room} has ended (your session expired or someone else now \
             holds {name}). Join again to continue."
        )),
        ("lost" | "taken", None) => Some(format!(
            "Your place in {room} has ended (your session expired or someone else now \
             holds your name). Join again to continue."
        )),
        _ => None,
    }
}

/// `POST /join-room`: claims the name and goes to the room (303), or shows
/// the form again with what is wrong (422, or 409 for a taken name).
#[tracing::instrument(skip_all)]
async fn join(
    State(state): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    form: Result<Form<JoinForm>, FormRejection>,
) -> Result<Response, AppError> {
    state.limits.join(ip)?;
    let Form(form) = form?;
    let username = Username::parse(&form.username);
    let room = RoomName::parse(&form.room);
    let (username, room) = match (username, room) {
        (Ok(username), Ok(room)) => (username, room),
        (username, room) => {
            let page = JoinPage {
                username_error: username.err().and(hints::username(&form.username)),
                room_error: room.err().and(hints::room(&form.room)),
                ..form_again(&state, &session, form).await?
            };
            return form_with_errors(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };

    // Already in this room: under the same name, just go back in; under
    // another name, let that one go first.
    if let Membership::Member(member) = session::membership(&state, &session, &room).await? {
        if member.name.key() == username.key() {
            return Ok(see_other(&room_url(&room, &form.room, &form.next)));
        }
        session::release(&state, member.id).await?;
        session::forget(&session, &room).await?;
    }

    let now = now_millis();
    // Only a holder whose session has expired loses the name.
    let idle_cutoff = now.saturating_sub(state.session_idle_millis());
    let returning = session::returning(&session, &room, &username).await?;
    match (state.store)
        .join(&room, &username, now, idle_cutoff, returning)
        .await?
    {
        JoinOutcome::Joined { member, released } => {
            released.iter().for_each(|id| state.live.evict(*id));
            session::remember(&session, &room, &member).await?;
            // A new name in the room's members panel.
            state.live.room_changed(&room);
            tracing::info!(room = %room, member = member.id, "joined");
            Ok(see_other(&room_url(&room, &form.room, &form.next)))
        }
        JoinOutcome::NameTaken => {
            let page = JoinPage {
                username_error: Some(format!(
                    "Someone in {room} is already called {username}. Please pick another name."
                )),
                ..form_again(&state, &session, form).await?
            };
            form_with_errors(StatusCode::CONFLICT, &page)
        }
    }
}

/// Where a join goes: `next` when it is a page of the room (a permalink
/// the person was sent to join from), else the room's page; `?from=` the
/// room as typed when that differs, so the page can say once that
/// "Team-Chat" is team-chat.
fn room_url(room: &RoomName, typed: &str, next: &str) -> String {
    if let Some(next) = paths::next_in_room(room, next) {
        return next;
    }
    let typed = typed.trim();
    if typed == room.as_str() {
        paths::room(room)
    } else {
        paths::room_from(room, typed)
    }
}

/// The join page again, keeping what the user typed.
async fn form_again(
    state: &AppState,
    session: &Session,
    form: JoinForm,
) -> Result<JoinPage, AppError> {
    let next = RoomName::parse(&form.room)
        .ok()
        .and_then(|room| paths::next_in_room(&room, &form.next));
    Ok(JoinPage {
        username: form.username,
        room: form.room,
        next,
        username_error: None,
        room_error: None,
        notice: None,
        rooms: MyRooms::new(rooms_of(state, session).await?, None),
    })
}
