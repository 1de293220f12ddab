//! End-to-end tests in headless Chromium, driven by chromedriver: each
//! person is a Chromium with a profile of its own (so its own cookies),
//! talking to the real server on a random port with a fresh database.
//! Without Chromium they print `SKIPPED:` and pass, except under `CI=true`.
//! Screenshots land in `target/screenshots/`. The server is the kit's
//! in-process launcher (`natter-kit`).

mod support;

mod access;
mod bots;
mod catchup;
mod changes;
mod changes_plain;
mod chat;
mod composer;
mod connection;
mod contrast;
mod converge;
mod forms;
mod history;
mod layout;
mod mentions;
mod people;
mod permalink;
mod resilience;
mod scale;
mod screens;
mod text;
mod unread;
