//! Sentences for a join form that was filled in wrongly: what is wrong and
//! how to fix it, not the rules again, with a corrected value wherever one
//! can be derived ("Spaces are not allowed in a room name — try team-chat").
//! The rules themselves stay in [`crate::chat::names`]: each sentence here
//! is only chosen after the parser has refused the input, and a suggestion
//! is only offered if the parser accepts it.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::chat::{RoomName, Username};

/// Why `input` is not a room name, or `None` if it is one.
pub fn room(input: &str) -> Option<String> {
    if RoomName::parse(input).is_ok() {
        return None;
    }
    let typed = input.trim();
    let suggestion = room_suggestion(typed);
    let try_it = |sentence: String| match &suggestion {
        Some(room) => format!("{sentence} — try {room}."),
        None => format!("{sentence}."),
    };
    let bad = refused(typed, |c| RoomName::parse(&format!("a{c}b")).is_err());
    let count = typed.chars().count();
    Some(if typed.is_empty() {
        "Enter a room name, such as team-chat.".to_owned()
    } else if typed.chars().any(char::is_whitespace) {
        try_it("Spaces are not allowed in a room name".to_owned())
    } else if !bad.is_empty() {
        try_it(format!(
            "A room name can only have letters a-z, digits, '-' and '_', not {}",
            list(&bad)
        ))
    } else {
        try_it(format!(
            "A room name can be at most 64 characters; this one has {count}"
        ))
    })
}

/// Why `input` is not a username, or `None` if it is one.
pub fn username(input: &str) -> Option<String> {
    if Username::parse(input).is_ok() {
        return None;
    }
    let typed = input.trim();
    let suggestion = username_suggestion(typed);
    let try_it = |sentence: String| match &suggestion {
        Some(name) => format!("{sentence} — try “{name}”."),
        None => format!("{sentence}."),
    };
    let bad = refused(typed, |c| Username::parse(&format!("a{c}b")).is_err());
    let count = typed.nfkc().count();
    Some(if !bad.is_empty() {
        try_it(format!(
            "A name can only have letters, digits, spaces, '-', '_' and '.', not {}",
            list(&bad)
        ))
    } else if typed.chars().all(|c| {
        // Nothing but characters a name drops (zero-width ones, say).
        Username::parse(&format!("a{c}b")).is_ok_and(|name| name.as_str() == "ab")
    }) {
        "Enter the name the others in the room will see you by.".to_owned()
    } else if typed.chars().next().is_some_and(is_combining_mark) {
        try_it("A name cannot start with an accent on its own".to_owned())
    } else {
        try_it(format!(
            "A name can be at most 32 characters; this one has {count}"
        ))
    })
}

/// The distinct characters of `typed` that `bad` refuses, in order.
fn refused(typed: &str, bad: impl Fn(char) -> bool) -> Vec<char> {
    let mut found: Vec<char> = Vec::new();
    for c in typed.chars().filter(|c| bad(*c)) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    found
}

/// "“!”, “/” or U+0007": invisible characters by their code point.
fn list(chars: &[char]) -> String {
    let shown: Vec<String> = chars
        .iter()
        .take(5)
        .map(|c| {
            if c.is_control() || c.is_whitespace() {
                format!("U+{:04X}", u32::from(*c))
            } else {
                format!("“{c}”")
            }
        })
        .collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A room name close to what was typed: accents dropped, lowercase, spaces
/// and dots as '-', anything else left out, at most 64 characters.
fn room_suggestion(typed: &str) -> Option<String> {
    let mut slug = String::new();
    for c in typed.nfkd().filter(|c| !is_combining_mark(*c)) {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            slug.push(c);
        } else if (c.is_whitespace() || c == '-' || c == '.') && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(64).collect();
    let slug = slug.trim_end_matches('-');
    RoomName::parse(slug).ok().map(|room| room.to_string())
}

/// A username close to what was typed: refused characters left out, no
/// leading accent, at most 32 characters.
fn username_suggestion(typed: &str) -> Option<String> {
    let kept: String = typed
        .chars()
        .filter(|c| Username::parse(&format!("a{c}b")).is_ok())
        .skip_while(|c| is_combining_mark(*c))
        .collect();
    let short: String = kept.nfkc().take(32).collect();
    let name = Username::parse(short.trim()).ok()?.to_string();
    (name != typed).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_input_has_nothing_to_say() {
        assert_eq!(room("Team-Chat"), None);
        assert_eq!(username("Zoë"), None);
    }

    #[test]
    fn room_sentences_say_what_is_wrong_and_suggest_a_name() {
        let cases = [
            ("team chat", "Spaces are not allowed in a room name — try team-chat."),
            ("", "Enter a room name, such as team-chat."),
            (
                "café!",
                "A room name can only have letters a-z, digits, '-' and '_', not “é” or “!” — try cafe.",
            ),
            ("../etc", "A room name can only have letters a-z, digits, '-' and '_', not “.” or “/” — try etc."),
        ];
        for (typed, sentence) in cases {
            assert_eq!(room(typed).as_deref(), Some(sentence), "{typed:?}");
        }
        let long = "r".repeat(70);
        let said = room(&long).unwrap_or_default();
        assert!(said.starts_with("A room name can be at most 64 characters; this one has 70"));
        assert!(said.ends_with(&format!("try {}.", "r".repeat(64))));
    }

    #[test]
    fn username_sentences_say_what_is_wrong_and_suggest_a_name() {
        assert_eq!(
            username("O'Brien").as_deref(),
            Some("A name can only have letters, digits, spaces, '-', '_' and '.', not “'” — try “OBrien”.")
        );
        assert_eq!(
            username("   ").as_deref(),
            Some("Enter the name the others in the room will see you by.")
        );
        assert_eq!(
            username("bad\u{7}name").as_deref(),
            Some("A name can only have letters, digits, spaces, '-', '_' and '.', not U+0007 — try “badname”.")
        );
        let forty = "n".repeat(40);
        assert_eq!(
            username(&forty),
            Some(format!(
                "A name can be at most 32 characters; this one has 40 — try “{}”.",
                "n".repeat(32)
            ))
        );
        assert!(username("<script>")
            .unwrap_or_default()
            .contains("not “<” or “>” — try “script”."));
    }
}
