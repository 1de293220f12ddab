//! What an attempt means for its delivery: when a failure is tried again
//! (backoff, until the delivery is given up) and what a receiver's answer
//! asks natter to post.

use crate::chat::MessageBody;

use super::queue::{Delivery, Next, Record};
use super::send::Failure;

/// The first retry waits this long; each next one twice as long.
const FIRST_BACKOFF_MS: i64 = 1_000;

/// No retry waits longer than this.
const MAX_BACKOFF_MS: i64 = 300_000;

/// How long to wait after the `attempts`-th failed attempt: 1 s, 2 s,
/// 4 s, … up to 5 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_BACKOFF_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// The record of a failed attempt: tried again after the backoff, but not
/// after `give_up_ms` from queuing (the last try is at that moment), and
/// given up once that has passed.
pub fn after_failure(delivery: &Delivery, failure: &Failure, now: i64, give_up_ms: i64) -> Record {
    let deadline = delivery.created_at.saturating_add(give_up_ms);
    if now >= deadline {
        return Record {
            status: format!(
                "gave up after {} attempt{}: {}",
                delivery.attempts,
                if delivery.attempts == 1 { "" } else { "s" },
                failure.reason()
            ),
            next: Next::Done,
        };
    }
    let at = now
        .saturating_add(backoff_ms(delivery.attempts))
        .min(deadline);
    Record {
        status: format!("failed{}, retrying", failure.brief()),
        next: Next::RetryAt(at),
    }
}

/// What a 2xx answer asks to be posted as the bot.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Nothing: no body, another content type, blank text, or JSON
    /// without `body`.
    Nothing,
    /// This message.
    Post(MessageBody),
    /// A reply that cannot be posted, and why (a sentence).
    Bad(String),
}

/// The reply in an answer: `text/plain` (not blank) or JSON
/// `{"body": "…"}`. `body` is the answer, or why it could not be read.
pub fn reply(content_type: Option<&str>, body: Result<&[u8], &str>) -> Reply {
    let mime = content_type
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let text = mime == "text/plain";
    let json = mime == "application/json" || mime.ends_with("+json");
    if !text && !json {
        return Reply::Nothing;
    }
    let body = match body {
        Ok(body) => body,
        Err(why) => return Reply::Bad(why.into()),
    };
    let Ok(body) = std::str::from_utf8(body) else {
        return Reply::Bad("The answer is not UTF-8 text.".into());
    };
    let said = if text {
        if body.trim().is_empty() {
            return Reply::Nothing;
        }
        body.to_owned()
    } else {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(object)) => match object.get("body") {
                None | Some(serde_json::Value::Null) => return Reply::Nothing,
                Some(serde_json::Value::String(said)) => said.clone(),
                Some(_) => return Reply::Bad("The answer's body is not a string.".into()),
            },
            Ok(_) => return Reply::Nothing,
            Err(_) => return Reply::Bad("The answer is not valid JSON.".into()),
        }
    };
    match MessageBody::parse(&said) {
        Ok(body) => Reply::Post(body),
        Err(why) => Reply::Bad(why.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::RoomName;

    fn delivery(attempts: i64) -> Delivery {
        Delivery {
            id: 1,
            bot_id: 2,
            room: RoomName::parse("lobby").expect("a room"),
            seq: 3,
            payload: "{}".into(),
            created_at: 10_000,
            attempts,
        }
    }

    #[test]
    fn backoff_doubles_from_a_second_up_to_five_minutes() {
        let waits: Vec<i64> = (1..=11).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map(|s| s * 1000)
        );
        assert_eq!(backoff_ms(1_000_000), 300_000);
    }

    #[test]
    fn a_failure_is_retried_until_the_give_up_time_then_given_up() {
        let refused = Failure::Error("connection refused".into());
        let record = after_failure(&delivery(1), &Failure::Status(500), 10_000, 60_000);
        assert_eq!(record.status, "failed (500), retrying");
        assert_eq!(record.next, Next::RetryAt(11_000));
        let record = after_failure(&delivery(3), &refused, 65_000, 60_000);
        assert_eq!(record.status, "failed: connection refused, retrying");
        assert_eq!(record.next, Next::RetryAt(69_000));
        // The last try is at the deadline, not after it.
        let record = after_failure(&delivery(9), &refused, 65_000, 60_000);
        assert_eq!(record.next, Next::RetryAt(70_000));
        let record = after_failure(&delivery(12), &refused, 70_000, 60_000);
        assert_eq!(
            record.status,
            "gave up after 12 attempts: connection refused"
        );
        assert_eq!(record.next, Next::Done);
        let record = after_failure(&delivery(1), &Failure::Status(404), 99_000, 60_000);
        assert_eq!(record.status, "gave up after 1 attempt: answered 404");
    }

    #[test]
    fn plain_text_and_json_bodies_are_replies() {
        let post = |s: &str| Reply::Post(MessageBody::parse(s).expect("a body"));
        assert_eq!(
            reply(Some("text/plain; charset=utf-8"), Ok(b" pong \n")),
            post("pong")
        );
        assert_eq!(
            reply(Some("application/json"), Ok(br#"{"body":"ok"}"#)),
            post("ok")
        );
        assert_eq!(reply(Some("text/plain"), Ok(b"  \n")), Reply::Nothing);
        assert_eq!(reply(Some("text/html"), Ok(b"<p>hi</p>")), Reply::Nothing);
        assert_eq!(reply(None, Ok(b"hi")), Reply::Nothing);
        assert_eq!(reply(Some("application/json"), Ok(b"{}")), Reply::Nothing);
        assert_eq!(reply(Some("application/json"), Ok(b"[1]")), Reply::Nothing);
    }

    #[test]
    fn a_reply_that_cannot_be_posted_says_why() {
        let bad = |r: Reply| match r {
            Reply::Bad(why) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad(reply(Some("application/json"), Ok(br#"{"body":" "}"#))),
            "A message cannot be empty."
        );
        assert!(bad(reply(Some("application/json"), Ok(b"{nope"))).contains("JSON"));
        assert!(bad(reply(
            Some("text/plain"),
            Err("The answer is too long to post.")
        ))
        .contains("too long"));
        assert!(bad(reply(Some("text/plain"), Ok(&[0xff, 0xfe]))).contains("UTF-8"));
    }
}
