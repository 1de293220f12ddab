-- Rooms exist from their first join; last_seq is the seq of the newest message.
CREATE TABLE rooms (
    name       TEXT    PRIMARY KEY NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A member is a session's hold on a name in a room. AUTOINCREMENT so that an
-- id is never reused: sessions and the viewer's-own styling refer to it.
CREATE TABLE members (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room       TEXT    NOT NULL REFERENCES rooms (name),
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    joined_at  INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    UNIQUE (room, name_key)
);

-- Messages are kept forever. author_id is not a foreign key: the member row
-- goes when the name is released, the message stays.
CREATE TABLE messages (
    room       TEXT    NOT NULL REFERENCES rooms (name),
    seq        INTEGER NOT NULL,
    author_id  INTEGER NOT NULL,
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room, seq)
);
