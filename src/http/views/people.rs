//! The people of a room as every screen shows them: the members panel
//! (who is here, who is away) and a typing signal. Rendered once per change
//! for all the room's streams, like messages.

use askama::Template;

use crate::chat::RoomName;
use crate::live::{PanelMember, RenderError};
use crate::paths;

/// At most this many names of each kind are listed; the rest are counted.
const LISTED: usize = 50;

/// The members panel: a count in the header and the list.
#[derive(Template)]
#[template(path = "partials/members.html")]
pub struct MembersPanel<'a> {
    /// The room.
    pub room: &'a RoomName,
    /// How many are here.
    pub here_count: usize,
    /// Those here, up to [`LISTED`].
    pub here: Vec<&'a PanelMember>,
    /// Those away (holding a name, no stream open), up to [`LISTED`].
    pub away: Vec<&'a PanelMember>,
    /// How many more are here and away than listed.
    pub more: usize,
}

impl<'a> MembersPanel<'a> {
    /// The panel of `members` (here first, as `Live::members` gives them).
    pub fn new(room: &'a RoomName, members: &'a [PanelMember]) -> Self {
        let here_count = members.iter().filter(|member| member.here).count();
        let here: Vec<&PanelMember> = members.iter().filter(|m| m.here).take(LISTED).collect();
        let away: Vec<&PanelMember> = members.iter().filter(|m| !m.here).take(LISTED).collect();
        let more = members.len() - here.len() - away.len();
        Self {
            room,
            here_count,
            here,
            away,
            more,
        }
    }
}

/// A member typing.
#[derive(Template)]
#[template(
    source = r#"<span class="typist" data-member="{{ id }}">{{ name }}</span>"#,
    ext = "html"
)]
struct Typist<'a> {
    id: i64,
    name: &'a str,
}

/// The members panel as HTML (the [`crate::live::Views`] entry).
pub fn members_html(room: &RoomName, members: &[PanelMember]) -> Result<String, RenderError> {
    Ok(MembersPanel::new(room, members).render()?)
}

/// A typing signal as HTML (the [`crate::live::Views`] entry).
pub fn typist_html(id: i64, name: &str) -> Result<String, RenderError> {
    Ok(Typist { id, name }.render()?)
}

/// One of the session's rooms, with its unread count.
#[derive(Debug, Clone)]
pub struct RoomUnread {
    /// The room (as the session holds it: always a parsed room name).
    pub room: String,
    /// The name held there.
    pub name: String,
    /// Unread messages, counted up to [`crate::store::UNREAD_CAP`].
    pub unread: i64,
}

/// A room of the list, ready to show.
pub struct RoomLink {
    room: String,
    name: String,
    link: String,
    unread: i64,
    /// "3", or "99+" beyond 99.
    unread_text: String,
}

/// The session's rooms: the sidebar of the room page, the join page's
/// list, and `GET /rooms`.
#[derive(Template)]
#[template(path = "partials/my_rooms.html")]
pub struct MyRooms {
    rooms: Vec<RoomLink>,
    /// The room the page shows, marked as current.
    current: Option<String>,
}

impl MyRooms {
    /// The list of `rooms`, marking `current`.
    pub fn new(rooms: Vec<RoomUnread>, current: Option<&RoomName>) -> Self {
        let rooms = rooms
            .into_iter()
            .filter_map(|room| {
                let link = paths::room(&RoomName::parse(&room.room).ok()?);
                Some(RoomLink {
                    unread_text: if room.unread > 99 {
                        "99+".to_owned()
                    } else {
                        room.unread.to_string()
                    },
                    link,
                    room: room.room,
                    name: room.name,
                    unread: room.unread,
                })
            })
            .collect();
        Self {
            rooms,
            current: current.map(|room| room.as_str().to_owned()),
        }
    }

    /// Whether the session is in no room.
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }
}
