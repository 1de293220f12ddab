//! A search query as people type it, parsed into words.
//!
//! The query is hostile input for the databases' own query languages
//! (FTS5's `AND`, `NEAR`, `"`, `*`, column filters; tsquery's operators), so
//! it never reaches them as typed: it is split into words (runs of letters
//! and digits), and each
//! backend gets only words (FTS5 each as a quoted string, PostgreSQL
//! through `plainto_tsquery`, which reads no operators). Every word must
//! be in the message, in any order.

use unicode_normalization::char::is_combining_mark;

/// The longest query read, in characters.
const MAX_CHARS: usize = 200;

/// The most words a query may have.
const MAX_WORDS: usize = 12;

/// Search words: at least one, each holding a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    /// The words of `typed`, or a sentence saying why there are none to
    /// search for.
    pub fn parse(typed: &str) -> Result<Self, &'static str> {
        if typed.chars().count() > MAX_CHARS {
            return Err("That search is too long: please use up to 200 characters.");
        }
        // Words as both databases' tokenizers read them: runs of letters
        // and digits (and the marks that combine with them). All else,
        // operators and quotes included, only separates words.
        let words: Vec<String> = typed
            .split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c)))
            .filter(|word| word.chars().any(char::is_alphanumeric))
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            return Err("Type a word to search for.");
        }
        if words.len() > MAX_WORDS {
            return Err("That search has too many words: please use up to 12.");
        }
        Ok(Self { words })
    }

    /// The words, separated by spaces (for `plainto_tsquery`).
    pub fn plain(&self) -> String {
        self.words.join(" ")
    }

    /// The words as an FTS5 query: each a quoted string, all of them
    /// required. (Words hold no `"`; one would be doubled.)
    pub fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::SearchQuery;

    #[test]
    fn words_are_quoted_for_fts5_and_plain_for_postgres() {
        let query = SearchQuery::parse(r#"  déploy "NEAR(a b)" col:x OR -y * "#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            query.fts5(),
            r#""déploy" "NEAR" "a" "b" "col" "x" "OR" "y""#
        );
        assert_eq!(query.plain(), "déploy NEAR a b col x OR y");
    }

    #[test]
    fn nothing_to_search_for_gets_a_sentence() {
        for typed in ["", "   ", "* \" ( ) :", "\u{0}\u{1}"] {
            assert!(SearchQuery::parse(typed).is_err(), "{typed:?}");
        }
        assert!(SearchQuery::parse(&"a ".repeat(13)).is_err());
        assert!(SearchQuery::parse(&"a".repeat(201)).is_err());
    }
}
