//! Room names and usernames: parsed once at the edge, valid ever after.

use std::fmt;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

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

    /// A room name as the store kept it: parsed when it was first given,
    /// and not parsed again.
    pub fn stored(name: String) -> Self {
        Self(name)
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

/// A username: 1–32 characters of letters (any script, with their
/// combining marks), digits, spaces and `- _ .`, after normalisation; with
/// its comparison key, worked out once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    name: String,
    key: String,
}

/// The rule a username must follow, shown to whoever breaks it.
pub const USERNAME_RULE: &str =
    "Usernames are 1 to 32 characters: letters, digits, spaces, '-', '_' and '.'.";

/// Characters that change nothing visible: zero-width characters, bidi
/// controls, the soft hyphen. They are dropped from names, so that
/// `ali\u{200B}ce` cannot pose as `alice` or flip the text around it.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

impl Username {
    /// Parses what a person typed: NFKC-normalised (fullwidth letters,
    /// ligatures and decomposed accents take their usual form), invisible
    /// characters dropped, runs of spaces collapsed, trimmed; the case is
    /// kept for display.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let normal: String = input.nfkc().filter(|c| !is_invisible(*c)).collect();
        let name = normal
            .split(' ')
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let count = name.chars().count();
        let starts_with_mark = name.chars().next().is_some_and(is_combining_mark);
        let valid_chars = name.chars().all(|c| {
            c.is_alphanumeric() || is_combining_mark(c) || matches!(c, ' ' | '-' | '_' | '.')
        });
        if count == 0 || count > 32 || starts_with_mark || !valid_chars {
            return Err(USERNAME_RULE);
        }
        let key = skeleton(&name.to_lowercase())
            .collect::<String>()
            .to_lowercase();
        Ok(Self { name, key })
    }

    /// A name as the store kept it, with the key it was stored under: it
    /// was parsed when it was first given, and is not parsed again.
    pub fn stored(name: String, key: String) -> Self {
        Self { name, key }
    }

    /// The name as shown.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The key two names are compared by: within a room, names with the same
    /// key belong to one person at a time. Case-insensitive, and names that
    /// look alike (Latin `a` and Cyrillic `а`, `l` and `1`) share a key:
    /// the Unicode confusable skeleton (UTS #39) of the lowercased name.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
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
        assert_eq!(
            name.key(),
            Username::parse("zoë ab-c_d.e")
                .map(|n| n.key().to_owned())
                .unwrap_or_default()
        );
        assert!(Username::parse("Алиса").is_ok());
        assert!(Username::parse("مریم").is_ok());
        assert!(Username::parse(&"é".repeat(32)).is_ok());
        for bad in [
            "",
            "   ",
            "a\u{0}b",
            "tab\there",
            "<b>",
            "\u{301}a",
            &"é".repeat(33),
        ] {
            assert_eq!(Username::parse(bad), Err(USERNAME_RULE), "{bad:?}");
        }
    }

    #[test]
    fn invisible_and_lookalike_characters_make_no_new_name() {
        let key = |name: &str| {
            Username::parse(name)
                .map(|n| n.key().to_owned())
                .unwrap_or_default()
        };
        let alice = key("alice");
        for same in [
            "ALICE",
            "ａｌｉｃｅ",
            "ali\u{200B}ce",
            "\u{202E}alice",
            "al\u{AD}ice",
            "\u{430}lice",
        ] {
            assert_eq!(key(same), alice, "{same:?}");
        }
        assert_ne!(key("alicia"), alice);
        assert_eq!(
            Username::parse("ali\u{200B}ce").map(|n| n.name),
            Ok("alice".into())
        );
        assert_eq!(
            Username::parse("  ann   lee ").map(|n| n.name),
            Ok("ann lee".into())
        );
        assert_eq!(
            Username::parse("e\u{301}mile").map(|n| n.name),
            Ok("émile".into())
        );
        assert!(
            Username::parse("नमस्ते").is_ok(),
            "combining marks of a script are letters"
        );
        assert!(
            Username::parse("\u{200B}").is_err(),
            "nothing visible is no name"
        );
    }
}
