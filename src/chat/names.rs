//! Room names and usernames: parsed once at the edge, valid ever after.

use std::fmt;

/// A room name: 1–64 characters of `a-z 0-9 - _`, lowercased from input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

/// The rule a room name must follow, shown to whoever breaks it.
pub const ROOM_RULE: &str = "Room names are 1 to 64 characters: letters a-z, digits, '-' and '_'.";

impl RoomName {
    /// Parses what a person typed: surrounding whitespace is dropped and
    /// letters are lowercased, so `Lobby` joins `lobby`.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = input.trim().to_ascii_lowercase();
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if name.is_empty() || name.len() > 64 || !valid_chars {
            return Err(ROOM_RULE);
        }
        Ok(Self(name))
    }

    /// The name as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username: trimmed, 1–32 characters of letters (any script), digits,
/// spaces and `- _ .`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

/// The rule a username must follow, shown to whoever breaks it.
pub const USERNAME_RULE: &str =
    "Usernames are 1 to 32 characters: letters, digits, spaces, '-', '_' and '.'.";

impl Username {
    /// Parses what a person typed, keeping their spelling and case.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let name = input.trim();
        let count = name.chars().count();
        let valid_chars = name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
        if count == 0 || count > 32 || !valid_chars {
            return Err(USERNAME_RULE);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key two names are compared by: within a room, names with the same
    /// key belong to one person at a time.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_are_lowercased_and_checked() {
        assert_eq!(RoomName::parse(" Lobby ").map(|r| r.0), Ok("lobby".into()));
        assert!(RoomName::parse("a-b_c9").is_ok());
        assert!(RoomName::parse(&"x".repeat(64)).is_ok());
        for bad in [
            "",
            "  ",
            "with space",
            "ümlaut",
            "a/b",
            "a.b",
            &"x".repeat(65),
        ] {
            assert_eq!(RoomName::parse(bad), Err(ROOM_RULE), "{bad:?}");
        }
    }

    #[test]
    fn usernames_allow_any_script_and_compare_case_insensitively() {
        let name = Username::parse("  Zoë O'x ").err();
        assert_eq!(name, Some(USERNAME_RULE), "apostrophe is not allowed");
        let name = Username::parse("  Zoë Ab-c_d.e ").expect("valid");
        assert_eq!(name.as_str(), "Zoë Ab-c_d.e");
        assert_eq!(name.key(), "zoë ab-c_d.e");
        assert!(Username::parse("Алиса").is_ok());
        assert!(Username::parse("مریم").is_ok());
        assert!(Username::parse(&"é".repeat(32)).is_ok());
        for bad in ["", "   ", "a\u{0}b", "tab\there", "<b>", &"é".repeat(33)] {
            assert_eq!(Username::parse(bad), Err(USERNAME_RULE), "{bad:?}");
        }
    }
}
