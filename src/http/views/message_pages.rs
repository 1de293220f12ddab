//! The pages that change one message without JavaScript: its edit form,
//! and its actions (reactions, and for its author edit and delete).

use askama::Template;

use super::MessageView;
use crate::chat::{Emoji, Message, RoomName};

/// `GET …/edit`: the message and a form to edit its body.
#[derive(Template)]
#[template(path = "pages/edit.html")]
pub struct EditPage {
    room: RoomName,
    seq: i64,
    /// The body as it is now, in the box.
    body: String,
    m: MessageView,
}

impl EditPage {
    /// The edit page of `message`, which is not deleted.
    pub fn new(message: &Message) -> Self {
        Self {
            room: message.room.clone(),
            seq: message.seq,
            body: message.body.clone().unwrap_or_default(),
            m: message.into(),
        }
    }
}

/// `GET …/actions`: the message, a button per emoji, and for its author
/// links to edit and delete.
#[derive(Template)]
#[template(path = "pages/actions.html")]
pub struct ActionsPage {
    room: RoomName,
    seq: i64,
    emoji: Vec<&'static str>,
    /// Whether the viewer wrote it (and so may edit and delete it).
    own: bool,
    m: MessageView,
}

impl ActionsPage {
    /// The actions page of `message`, for its author or not.
    pub fn new(message: &Message, own: bool) -> Self {
        Self {
            room: message.room.clone(),
            seq: message.seq,
            emoji: Emoji::all().map(Emoji::as_str).collect(),
            own,
            m: message.into(),
        }
    }
}
