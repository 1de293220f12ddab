//! Searching a room: `GET /rooms/{room}/search?q=…[&before={seq}]`, for
//! members. A page that needs no JavaScript (snippets with the words
//! marked, newest first, a link to older results), or JSON for scripts.
//! Whatever is typed gets results or a sentence: the query is parsed into
//! plain words before any database sees it (`chat::SearchQuery`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::answer::{self, Client, MessageJson};
use super::respond::{no_store, see_other};
use super::session::{self, room_from_path, Membership};
use super::views::{html, search_page::snippet_html, ResultView, SearchPage};
use super::{AppError, AppState};
use crate::chat::{RoomName, SearchQuery};
use crate::paths::{self, route};
use crate::store::Hit;

/// How many results a page shows.
const RESULTS: i64 = 20;

/// `/rooms/{room}/search`.
pub fn router() -> Router<AppState> {
    Router::new().route(route::SEARCH, get(search))
}

/// `?q=` the words; `?before=` the seq older results start below.
#[derive(Debug, Default, Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    before: Option<String>,
}

/// One result as JSON: the message as the API shapes it, its snippet as
/// HTML (escaped text, matches in `<mark>`) and its permalink.
#[derive(Serialize)]
struct HitJson<'a> {
    #[serde(flatten)]
    message: MessageJson<'a>,
    snippet: String,
    link: String,
}

/// A page of results as JSON.
#[derive(Serialize)]
struct ResultsJson<'a> {
    query: &'a str,
    results: Vec<HitJson<'a>>,
    /// The next page of older results, if there is one.
    older: Option<String>,
}

/// `GET /rooms/{room}/search`: the form and the results for members;
/// strangers go to join (and come back here).
#[tracing::instrument(skip_all)]
async fn search(
    State(state): State<AppState>,
    session: Session,
    Path(room): Path<String>,
    params: Result<Query<SearchParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let client = Client::of(&headers);
    // An unreadable query string is an empty one: the form, no error.
    let params = params.map(|Query(params)| params).unwrap_or_default();
    let mut response = match answer(&state, &session, &room, &params, client).await {
        Ok(response) => response,
        Err(error) => answer::error(client, error),
    };
    answer::vary(&mut response);
    response
}

async fn answer(
    state: &AppState,
    session: &Session,
    room: &str,
    params: &SearchParams,
    client: Client,
) -> Result<Response, AppError> {
    let room = room_from_path(room)?;
    match session::membership(state, session, &room).await? {
        Membership::Member(_) => {}
        _ if client == Client::Json => {
            return Err(AppError::Forbidden("Only members of a room can search it."))
        }
        _ => return Ok(see_other(&paths::join_then(&room, &paths::search(&room)))),
    }
    let before = params
        .before
        .as_deref()
        .and_then(|before| before.parse::<i64>().ok())
        .unwrap_or(i64::MAX);
    let query = match SearchQuery::parse(&params.q) {
        Ok(query) => query,
        Err(sentence) if client == Client::Json => return Err(AppError::invalid(sentence)),
        // Opening the form is no search yet: no sentence.
        Err(_) if params.q.trim().is_empty() => return page(&room, params, Vec::new(), None),
        Err(sentence) => return page(&room, params, Vec::new(), Some(sentence.into())),
    };
    let mut hits = state
        .store
        .search(&room, &query, before, RESULTS + 1)
        .await?;
    let older = (hits.len() as i64 > RESULTS).then(|| {
        hits.truncate(RESULTS as usize);
        let last = hits.last().map_or(0, |hit| hit.message.seq);
        paths::search_for(&room, &params.q, Some(last))
    });
    if client == Client::Json {
        let results = hits
            .iter()
            .map(|hit| HitJson {
                message: MessageJson::from(&hit.message),
                snippet: snippet_html(&hit.snippet),
                link: paths::message_link(&hit.message.room, hit.message.seq),
            })
            .collect();
        let json = ResultsJson {
            query: &params.q,
            results,
            older,
        };
        return Ok(no_store((StatusCode::OK, Json(json)).into_response()));
    }
    let sentence = hits
        .is_empty()
        .then(|| nothing_found(&room, &params.q, before));
    page_with(&room, params, &hits, sentence, older)
}

/// Why a search found nothing, in a sentence.
fn nothing_found(room: &RoomName, q: &str, before: i64) -> String {
    if before == i64::MAX {
        format!("Nothing in {room} matches “{}”.", q.trim())
    } else {
        format!("No older messages in {room} match “{}”.", q.trim())
    }
}

/// The page with no results, and maybe a sentence.
fn page(
    room: &RoomName,
    params: &SearchParams,
    hits: Vec<Hit>,
    sentence: Option<String>,
) -> Result<Response, AppError> {
    page_with(room, params, &hits, sentence, None)
}

/// The results page.
fn page_with(
    room: &RoomName,
    params: &SearchParams,
    hits: &[Hit],
    sentence: Option<String>,
    older: Option<String>,
) -> Result<Response, AppError> {
    let page = SearchPage {
        room: room.clone(),
        q: params.q.clone(),
        sentence,
        results: hits.iter().map(ResultView::from).collect(),
        older,
    };
    Ok(no_store(html(&page)?))
}
