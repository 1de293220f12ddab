-- Rooms exist from their first join; last_seq is the seq of the newest message.
CREATE TABLE rooms (
    name       TEXT   PRIMARY KEY,
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- A member is a session's hold on a name in a room; ids are never reused.
CREATE TABLE members (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room       TEXT   NOT NULL REFERENCES rooms (name),
    name       TEXT   NOT NULL,
    name_key   TEXT   NOT NULL,
    joined_at  BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    UNIQUE (room, name_key)
);

-- Messages are kept forever; author_id outlives the member row.
CREATE TABLE messages (
    room       TEXT   NOT NULL REFERENCES rooms (name),
    seq        BIGINT NOT NULL,
    author_id  BIGINT NOT NULL,
    author     TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room, seq)
);
