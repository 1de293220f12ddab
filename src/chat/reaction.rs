//! Reactions: a small fixed set of emoji any member can put on a message.

/// The emoji people can react with, in the order a message shows them.
/// Small on purpose: one row of buttons, no picker to search, and every
/// one of them reads the same on every platform.
pub const EMOJI: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "👀"];

/// Short names accepted in place of each emoji of [`EMOJI`], for clients
/// that cannot type them (curl in a terminal without an emoji keyboard).
const NAMES: [&[&str]; 6] = [
    &["+1", "thumbsup"],
    &["heart"],
    &["joy"],
    &["tada"],
    &["open_mouth"],
    &["eyes"],
];

/// One emoji of the fixed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Emoji(usize);

impl Emoji {
    /// Parses an emoji of the set, or one of its short names. The error is
    /// a sentence for the sender.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let input = input.trim();
        // U+2764 alone (no variation selector) is the same heart.
        let input = if input == "\u{2764}" { "❤️" } else { input };
        EMOJI
            .iter()
            .position(|emoji| *emoji == input)
            .or_else(|| NAMES.iter().position(|names| names.contains(&input)))
            .map(Self)
            .ok_or("React with one of 👍 ❤️ 😂 🎉 😮 👀.")
    }

    /// The emoji, as stored and shown.
    pub fn as_str(self) -> &'static str {
        EMOJI[self.0]
    }

    /// Every emoji of the set, in order.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..EMOJI.len()).map(Self)
    }
}

impl std::fmt::Display for Emoji {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who reacted to a message with one emoji, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// The emoji.
    pub emoji: Emoji,
    /// (member id, name) of each member who reacted with it.
    pub by: Vec<(i64, String)>,
}

/// What a member can do to a message after it is posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Replace the body (the author only).
    Edit(super::MessageBody),
    /// Remove the body for good, leaving a tombstone (the author only).
    Delete,
    /// Add the member's reaction with this emoji, or take it back.
    React(Emoji),
}

/// Why a change was refused: nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No message has that seq in the room.
    NoSuchMessage,
    /// The message was deleted: nothing more can change it.
    Deleted,
    /// Only the author may edit or delete it.
    NotAuthor,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_and_its_names_parse_and_nothing_else() {
        for (i, emoji) in EMOJI.iter().enumerate() {
            assert_eq!(Emoji::parse(emoji).map(Emoji::as_str), Ok(EMOJI[i]));
        }
        assert_eq!(Emoji::parse("heart").map(Emoji::as_str), Ok("❤️"));
        assert_eq!(Emoji::parse("\u{2764}").map(Emoji::as_str), Ok("❤️"));
        assert_eq!(Emoji::parse("+1").map(Emoji::as_str), Ok("👍"));
        for bad in ["", "💩", "👍👍", "<b>", "HEART"] {
            assert!(Emoji::parse(bad).is_err(), "{bad}");
        }
    }
}
