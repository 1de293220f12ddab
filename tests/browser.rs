//! End-to-end tests in headless Chromium, driven by chromedriver: each
//! person is a Chromium with a profile of its own (so its own cookies),
//! talking to the real server on a random port with a fresh database.
//! Without Chromium they print `SKIPPED:` and pass, except under `CI=true`.
//! Screenshots land in `target/screenshots/`.

#[path = "browser/support.rs"]
mod support;

#[path = "browser/access.rs"]
mod access;
#[path = "browser/chat.rs"]
mod chat;
#[path = "browser/composer.rs"]
mod composer;
#[path = "browser/connection.rs"]
mod connection;
#[path = "browser/contrast.rs"]
mod contrast;
#[path = "browser/forms.rs"]
mod forms;
#[path = "browser/history.rs"]
mod history;
#[path = "browser/layout.rs"]
mod layout;
#[path = "browser/resilience.rs"]
mod resilience;
#[path = "browser/scale.rs"]
mod scale;
#[path = "browser/screens.rs"]
mod screens;
#[path = "browser/text.rs"]
mod text;
