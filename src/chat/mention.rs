//! Mentions: `@name` in a message calls that person.
//!
//! A mention is `@` at the start or after a character that is not part of
//! a word (so `bob@example.org` is no mention), then the name: letters,
//! digits, combining marks and `- _ .`, up to 32 characters, without a
//! trailing `.` or `-` (the end of a sentence). Names have spaces; a
//! mention has none, so a name with spaces is mentioned with `_` in their
//! place (`@Mary_Ann`), and a name ending in `.` or `-` without it (so
//! "Mary Ann" and "Mary_Ann", or "bob" and "bob.", share one mention).
//! Who is meant is decided as names are compared (case-insensitive,
//! look-alikes as one), and carried as a [`MentionId`]:
//! the message is rendered once for everyone, and each viewer's own style
//! sheet picks out the mentions of them.

use std::ops::Range;

use super::Username;

/// Who a mention calls, as an id safe in any HTML attribute or CSS
/// selector: the hex of the name's comparison key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MentionId(String);

impl MentionId {
    /// The id of a name's key.
    fn of_key(key: &str) -> Self {
        Self(key.bytes().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The id, as written into pages.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters a mentioned name is made of.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '-' | '_' | '.')
        || unicode_normalization::char::is_combining_mark(c)
}

/// Every mention in `text`: where it is (the `@` included) and whom it
/// calls.
pub fn mentions(text: &str) -> Vec<(Range<usize>, MentionId)> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts = c == '@' && !previous.is_some_and(|p| p.is_alphanumeric() || p == '_');
        previous = Some(c);
        if !starts {
            continue;
        }
        let start = at + 1;
        let mut end = start;
        let mut count = 0;
        while let Some(&(i, next)) = chars.peek() {
            if !is_name_char(next) || count == 32 {
                break;
            }
            end = i + next.len_utf8();
            count += 1;
            previous = Some(next);
            chars.next();
        }
        let name = text[start..end].trim_end_matches(['.', '-']);
        if name.is_empty() {
            continue;
        }
        if let Ok(username) = Username::parse(&name.replace('_', " ")) {
            found.push((at..start + name.len(), MentionId::of_key(username.key())));
        }
    }
    found
}

impl Username {
    /// The id that mentions of this name carry.
    pub fn mention_id(&self) -> MentionId {
        // `@Mary_Ann` is read as "Mary Ann": parse the spaced form again.
        // A mention ends before a trailing `.` or `-` (the end of a
        // sentence), so "bob." is called by `@bob.` as "bob" is.
        let spaced = self.as_str().trim_end_matches(['.', '-']).replace('_', " ");
        match Username::parse(&spaced) {
            Ok(name) => MentionId::of_key(name.key()),
            Err(_) => MentionId::of_key(self.key()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<(&str, MentionId)> {
        mentions(text)
            .into_iter()
            .map(|(range, id)| (&text[range], id))
            .collect()
    }

    fn id(name: &str) -> MentionId {
        Username::parse(name)
            .map(|n| n.mention_id())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn mentions_are_found_where_a_word_starts_and_end_before_punctuation() {
        let found = ids("@alice, hi @Bob. mail bob@example.org or @ nobody @Mary_Ann!");
        let spans: Vec<&str> = found.iter().map(|(span, _)| *span).collect();
        assert_eq!(spans, ["@alice", "@Bob", "@Mary_Ann"]);
        assert_eq!(found[0].1, id("ALICE"));
        assert_eq!(found[1].1, id("bob"));
        assert_eq!(found[2].1, id("Mary Ann"));
        assert_eq!(found[2].1, id("mary_ann"));
    }

    #[test]
    fn a_name_ending_in_a_dot_or_a_dash_is_called_all_the_same() {
        let found = ids("thanks @bob. and @ann-");
        assert_eq!(found[0].1, id("bob."));
        assert_eq!(found[1].1, id("ann-"));
        // Two names, one mention: "bob" and "bob." are both called by
        // `@bob.`, as "Mary Ann" and "Mary_Ann" are by `@Mary_Ann`.
        assert_eq!(id("bob."), id("bob"));
    }

    #[test]
    fn ids_are_plain_hex_whatever_the_name() {
        let found = ids("@Zoë <@x\"y>");
        assert_eq!(found.len(), 2);
        for (_, id) in found {
            assert!(id.as_str().chars().all(|c| c.is_ascii_hexdigit()), "{id:?}");
        }
    }
}
