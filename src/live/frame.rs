//! Frames: what a stream writes, encoded once and shared by every
//! subscriber of a room.

use bytes::Bytes;

/// What a frame is to a subscriber's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A change to the room (a post, an edit, a delete or a reaction) at
    /// `cursor`, carrying its message in its current state. It follows the
    /// change at `after`: a stream that has written everything up to any
    /// cursor from `after` to just below `cursor` writes it next, and has
    /// lost nothing. For a commit here `after` is `cursor - 1`; a read of
    /// "changed after N" (the relay's) skips cursors whose message changed
    /// again later, and chains its frames from N. Written once per stream,
    /// in cursor order, and replayed from the store after a disconnect.
    Change {
        /// The cursor this change follows.
        after: i64,
        /// The cursor of this change.
        cursor: i64,
    },
    /// Nothing to write: the room has changes up to this cursor, and a
    /// stream behind it reads them from the store.
    Nudge(i64),
    /// An ephemeral signal (typing, presence): no `id:`, written to whoever
    /// is live now, never replayed and never counted.
    Signal,
    /// A comment that keeps idle streams and proxies awake.
    KeepAlive,
}

/// One encoded SSE event (or comment), ready for any subscriber's socket.
#[derive(Debug, Clone)]
pub struct Frame {
    /// What it is.
    pub kind: Kind,
    /// The bytes to write, shared by all.
    pub bytes: Bytes,
    /// A change's event for `?format=json` streams (the message as JSON),
    /// encoded only when the room has such a stream here; empty otherwise,
    /// and then such a stream reads the change from the store.
    pub json: Bytes,
}

impl Frame {
    /// A change at `cursor`, following `after`, carrying `html`: `id:` the
    /// cursor, one `data:` line per line of HTML, no `event:` line (htmx 4
    /// swaps only unnamed events into the page).
    pub fn change(after: i64, cursor: i64, html: &str) -> Self {
        let mut event = String::with_capacity(html.len() + 32);
        event.push_str("id: ");
        event.push_str(&cursor.to_string());
        event.push('\n');
        push_data(&mut event, html);
        Self {
            kind: Kind::Change { after, cursor },
            bytes: Bytes::from(event),
            json: Bytes::new(),
        }
    }

    /// The same change for `?format=json` streams too: `json` is the
    /// message on one line.
    pub fn with_json(mut self, json: &str) -> Self {
        if let Kind::Change { cursor, .. } = self.kind {
            let mut event = String::with_capacity(json.len() + 32);
            event.push_str("id: ");
            event.push_str(&cursor.to_string());
            event.push('\n');
            push_data(&mut event, json);
            self.json = Bytes::from(event);
        }
        self
    }

    /// An ephemeral signal named `event` carrying `html`, with no `id:`:
    /// the client's last event id stays the last change it had.
    pub fn signal(event: &str, html: &str) -> Self {
        let mut encoded = String::with_capacity(html.len() + event.len() + 16);
        encoded.push_str("event: ");
        encoded.push_str(event);
        encoded.push('\n');
        push_data(&mut encoded, html);
        Self {
            kind: Kind::Signal,
            bytes: Bytes::from(encoded),
            json: Bytes::new(),
        }
    }

    /// See [`Kind::Nudge`].
    pub fn nudge(cursor: i64) -> Self {
        Self {
            kind: Kind::Nudge(cursor),
            bytes: Bytes::new(),
            json: Bytes::new(),
        }
    }

    /// See [`Kind::KeepAlive`].
    pub fn keep_alive() -> Self {
        Self {
            kind: Kind::KeepAlive,
            bytes: Bytes::from_static(b": keep-alive\n\n"),
            json: Bytes::new(),
        }
    }
}

/// `data:` lines for `text` and the blank line that ends the event.
fn push_data(event: &mut String, text: &str) {
    for line in text.lines() {
        event.push_str("data: ");
        event.push_str(line);
        event.push('\n');
    }
    event.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_carry_their_cursor_and_signals_none() {
        let change = Frame::change(6, 7, "<p>a</p>\n<p>b</p>");
        assert_eq!(
            change.kind,
            Kind::Change {
                after: 6,
                cursor: 7
            }
        );
        assert_eq!(change.bytes, "id: 7\ndata: <p>a</p>\ndata: <p>b</p>\n\n");
        let signal = Frame::signal("typing", "<i>alice</i>");
        assert_eq!(signal.kind, Kind::Signal);
        assert_eq!(signal.bytes, "event: typing\ndata: <i>alice</i>\n\n");
        assert!(Frame::nudge(3).bytes.is_empty());
        let both = Frame::change(6, 7, "<p>a</p>").with_json(r#"{"seq":7}"#);
        assert_eq!(both.json, "id: 7\ndata: {\"seq\":7}\n\n");
        assert!(change.json.is_empty());
    }
}
