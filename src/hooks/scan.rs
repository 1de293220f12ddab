//! Which posts call a bot, and the exact bytes its webhook is sent.
//!
//! A post calls a bot when it mentions `@botname` by the rules every
//! mention follows ([`crate::chat::mentions`]), or always when the bot
//! wants every post; never when the bot wrote it, so a bot that answers
//! is not called by its own answer. Another bot's post calls a bot only by
//! naming it: two bots that want every post would otherwise answer each
//! other for ever. The payload is built once, when the
//! delivery is queued, and stored: every attempt sends the same bytes, so
//! the signature and the receiver's view stay the same.

use crate::chat::{mentions, Message, RoomName};

use super::queue::Watcher;

/// Whether `message` calls the bot `watcher` watches for.
pub fn calls(watcher: &Watcher, message: &Message) -> bool {
    if message.author_id == watcher.bot.id {
        return false;
    }
    let Some(body) = message.body.as_deref() else {
        // Deleted before the scan came to it: there is nothing to say.
        return false;
    };
    if watcher.all && !message.bot {
        return true;
    }
    let called = watcher.bot.name.mention_id();
    mentions(body).iter().any(|(_, id)| *id == called)
}

/// The JSON body of a delivery: `{"room","message","reply_url"}`, with
/// `message_json` (the message as the read API shows it) as it is.
pub fn payload(
    room: &RoomName,
    message_json: &str,
    reply_url: &str,
) -> Result<String, serde_json::Error> {
    Ok(format!(
        r#"{{"room":{},"message":{},"reply_url":{}}}"#,
        serde_json::to_string(room.as_str())?,
        message_json,
        serde_json::to_string(reply_url)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Member, Username};

    fn watcher(name: &str, all: bool) -> Watcher {
        Watcher {
            bot: Member {
                id: 7,
                room: RoomName::parse("lobby").expect("a room"),
                name: Username::parse(name).expect("a name"),
                bot: true,
            },
            scanned_seq: 0,
            all,
        }
    }

    fn post(author_id: i64, body: Option<&str>) -> Message {
        by_bot(author_id, body, false)
    }

    fn by_bot(author_id: i64, body: Option<&str>, bot: bool) -> Message {
        Message {
            room: RoomName::parse("lobby").expect("a room"),
            seq: 1,
            cursor: 1,
            author_id,
            author: "alice".into(),
            body: body.map(str::to_owned),
            created_at: 0,
            edited_at: None,
            reactions: Vec::new(),
            bot,
        }
    }

    #[test]
    fn a_mention_calls_the_bot_by_the_usual_rules() {
        let deploy = watcher("Deploy Bot", false);
        assert!(calls(&deploy, &post(1, Some("@deploy_bot ship it"))));
        assert!(calls(&deploy, &post(1, Some("hey @Deploy_Bot."))));
        assert!(!calls(&deploy, &post(1, Some("ship it"))));
        assert!(!calls(
            &deploy,
            &post(1, Some("mail deploy_bot@example.org"))
        ));
        assert!(!calls(&deploy, &post(1, Some("@deploy_botx"))));
        assert!(!calls(&deploy, &post(1, None)));
    }

    #[test]
    fn a_bot_that_wants_everything_gets_every_post_but_its_own() {
        let all = watcher("echo", true);
        assert!(calls(&all, &post(1, Some("anything"))));
        assert!(!calls(&all, &post(7, Some("my own @echo"))));
        assert!(!calls(&watcher("echo", false), &post(7, Some("@echo"))));
        // Another bot's post reaches it only by name: no endless echo.
        assert!(!calls(&all, &by_bot(3, Some("deployed"), true)));
        assert!(calls(&all, &by_bot(3, Some("@echo deployed"), true)));
    }

    #[test]
    fn the_payload_carries_the_message_json_as_it_is() {
        let room = RoomName::parse("lobby").expect("a room");
        let body = payload(
            &room,
            r#"{"seq":3,"body":"hi \"x\""}"#,
            "http://h/rooms/lobby/messages",
        )
        .expect("json");
        let json: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(json["room"], "lobby");
        assert_eq!(json["message"]["seq"], 3);
        assert_eq!(json["message"]["body"], "hi \"x\"");
        assert_eq!(json["reply_url"], "http://h/rooms/lobby/messages");
    }
}
