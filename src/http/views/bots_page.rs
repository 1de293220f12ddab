//! The bots page: a room's bots, the form that makes one, and, once, a new
//! bot's token.

use askama::Template;

use super::times;
use crate::chat::RoomName;
use crate::store::Bot;

/// `GET /rooms/{room}/bots`, and the answer to a form that made a bot (or
/// could not).
#[derive(Template)]
#[template(path = "pages/bots.html")]
pub struct BotsPage {
    /// The room.
    pub room: RoomName,
    /// Its bots.
    pub bots: Vec<BotView>,
    /// A bot just made, with its token: shown this once.
    pub created: Option<Created>,
    /// Why the form was refused, if it was; the fields keep what was typed.
    pub error: Option<String>,
    /// The name as typed.
    pub name: String,
    /// The webhook URL as typed.
    pub webhook_url: String,
    /// Whether "every message" was ticked.
    pub all: bool,
}

impl BotsPage {
    /// The page of `room` listing `bots`, with an empty form.
    pub fn new(room: &RoomName, bots: &[Bot]) -> Self {
        Self {
            room: room.clone(),
            bots: bots.iter().map(BotView::from).collect(),
            created: None,
            error: None,
            name: String::new(),
            webhook_url: String::new(),
            all: false,
        }
    }
}

/// One bot in the list.
pub struct BotView {
    name: String,
    created_by: String,
    iso_time: String,
    short_time: String,
    webhook_url: Option<String>,
    all: bool,
    last_status: Option<String>,
}

impl From<&Bot> for BotView {
    fn from(bot: &Bot) -> Self {
        let (iso_time, short_time) = times(bot.created_at);
        Self {
            name: bot.member.name.as_str().to_owned(),
            created_by: bot.created_by.clone(),
            iso_time,
            short_time,
            webhook_url: bot.webhook_url.clone(),
            all: bot.all,
            last_status: bot
                .last_status
                .as_ref()
                .map(|(status, at)| format!("{status} ({})", times(*at).1)),
        }
    }
}

/// A bot just made: what its owner must copy now.
pub struct Created {
    /// Its name.
    pub name: String,
    /// Its token.
    pub token: String,
    /// Its webhook signing secret.
    pub secret: String,
    /// Whether it has a webhook (else the secret is not shown).
    pub webhook: bool,
    /// A curl line that posts as the bot.
    pub curl: String,
}
