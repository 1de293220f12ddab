//! Message bodies and the stored message record.

/// A message body: 1–2000 characters after trimming surrounding whitespace,
/// line breaks kept (and normalised to `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

/// The longest body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 2000;

impl MessageBody {
    /// Parses a posted body. The error is a sentence for the sender.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        // `\r` would end an SSE line early, and browsers send `\r\n`.
        let body = input.replace("\r\n", "\n").replace('\r', "\n");
        let body = body.trim();
        if body.is_empty() {
            return Err("A message cannot be empty.");
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err("A message can be at most 2000 characters long.");
        }
        if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("A message cannot contain control characters.");
        }
        Ok(Self(body.to_owned()))
    }

    /// The body text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored message, in its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The room the message belongs to.
    pub room: super::RoomName,
    /// Position in the room: 1, 2, 3, … with no gaps, in commit order.
    pub seq: i64,
    /// The room's cursor at this message's latest change (its post, edit,
    /// delete or reaction): what a stream's `id:` carries.
    pub cursor: i64,
    /// The member id of the author (keys the viewer's-own styling, and only
    /// this member may edit or delete it).
    pub author_id: i64,
    /// The author's name at the time of posting.
    pub author: String,
    /// The text, exactly as typed (trimmed); `None` once deleted.
    pub body: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When the body was last edited, if it was.
    pub edited_at: Option<i64>,
    /// Reactions, in the fixed set's order, only those with someone.
    pub reactions: Vec<super::Reaction>,
    /// Whether a bot posted it.
    pub bot: bool,
}

impl Message {
    /// Whether the message was deleted (a tombstone).
    pub fn is_deleted(&self) -> bool {
        self.body.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_keep_inner_newlines() {
        let body = MessageBody::parse("  hi\r\nthere\n ").expect("valid");
        assert_eq!(body.as_str(), "hi\nthere");
        assert!(MessageBody::parse(&"é".repeat(2000)).is_ok());
    }

    #[test]
    fn empty_long_and_control_bodies_are_refused() {
        assert!(MessageBody::parse("").is_err());
        assert!(MessageBody::parse(" \n\t ").is_err());
        assert!(MessageBody::parse(&"a".repeat(2001)).is_err());
        assert!(MessageBody::parse("bell\u{7}").is_err());
    }
}
