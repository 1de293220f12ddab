//! A person in the API tests: a cookie jar (that does not follow
//! redirects) talking to one server, with helpers for joining, posting and
//! opening the room's event stream.

use natter::chat::RoomName;
use natter::paths;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, Response, StatusCode};

use crate::app::TestApp;
use crate::sse::Sse;

/// A person: a cookie jar talking to one server.
#[derive(Clone)]
pub struct User {
    /// The client holding this person's cookies.
    pub client: Client,
    /// The server's base URL.
    pub base: String,
}

impl User {
    /// A new person with an empty cookie jar, talking to `base`.
    pub fn new(base: &str) -> Self {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            client,
            base: base.to_owned(),
        }
    }

    /// The same person (same cookies) talking to another server.
    pub fn on(&self, app: &TestApp) -> User {
        User {
            client: self.client.clone(),
            base: app.addr.clone(),
        }
    }

    /// The full URL of `path` on this person's server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Posts a form.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form with one extra request header (e.g. `Sec-Fetch-Site`).
    pub async fn post_form_with(
        &self,
        path: &str,
        header: (&str, &str),
        form: &[(&str, &str)],
    ) -> Response {
        self.client
            .post(self.url(path))
            .header(header.0, header.1)
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// Sends `method path` as a JSON client (`Accept: application/json`),
    /// with `json` as the request body if there is one.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("accept", "application/json");
        if let Some(json) = json {
            request = request.json(json);
        }
        request.send().await.expect("request")
    }

    /// `GET path` as a JSON client: the status and the body parsed
    /// (`Null` when the body is not JSON).
    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let response = self.send_json(Method::GET, path, None).await;
        let status = response.status();
        let bytes = response.bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// `PATCH path` with a JSON body, as a JSON client.
    pub async fn patch_json(&self, path: &str, json: &serde_json::Value) -> Response {
        self.send_json(Method::PATCH, path, Some(json)).await
    }

    /// `DELETE path` as a plain client (no `Accept`, no htmx).
    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    /// Joins a room; asserts it worked.
    pub async fn join(&self, username: &str, room: &str) {
        let response = self.try_join(username, room).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "join {username} in {room}"
        );
    }

    /// Asks to join a room; returns the response.
    pub async fn try_join(&self, username: &str, room: &str) -> Response {
        self.post_form(paths::join(), &[("username", username), ("room", room)])
            .await
    }

    /// Posts a message as a plain client; returns the response.
    pub async fn say(&self, room: &str, body: &str) -> Response {
        self.post_form(&paths::messages(&room_name(room)), &[("body", body)])
            .await
    }

    /// Posts a message asking for JSON; asserts 201 and returns its seq.
    pub async fn say_json(&self, room: &str, body: &str) -> i64 {
        let response = self
            .client
            .post(self.url(&paths::messages(&room_name(room))))
            .header("accept", "application/json")
            .form(&[("body", body)])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::CREATED);
        let json: serde_json::Value = response.json().await.expect("json");
        json["seq"].as_i64().expect("seq")
    }

    /// Opens the room's event stream; asserts it is one.
    pub async fn events(&self, room: &str, headers: HeaderMap) -> Sse {
        let response = self
            .open_events(&paths::events(&room_name(room)), headers)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Sse::new(response)
    }

    /// Sends `GET path` for a stream and returns the response unread.
    pub async fn open_events(&self, path: &str, headers: HeaderMap) -> Response {
        // No overall timeout: a stream lives as long as the test wants.
        let client = self.client.clone();
        client
            .get(self.url(path))
            .headers(headers)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("GET events")
    }

    /// `GET path`: the status and the body.
    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }
}

/// A room the tests name, as the paths take it.
fn room_name(room: &str) -> RoomName {
    RoomName::parse(room).expect("a room name")
}
