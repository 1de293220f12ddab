-- Every change to a room (a post, an edit, a delete, a reaction) takes the
-- room's next cursor; a message keeps the cursor of its latest change, so
-- "what changed after N" is one indexed read, each message once, in its
-- current state. In a room where people only post, cursor equals seq.
ALTER TABLE rooms ADD COLUMN last_cursor BIGINT NOT NULL DEFAULT 0;
UPDATE rooms SET last_cursor = last_seq;

ALTER TABLE messages ADD COLUMN cursor BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET cursor = seq;
-- NULL until edited / deleted. A deleted message keeps no body ('').
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
-- How many reactions the message has: reads skip the reactions table for
-- the (many) messages without any.
ALTER TABLE messages ADD COLUMN reactions BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX messages_by_cursor ON messages (room, cursor);

-- One row per member, emoji and message. member_id keys "your own"
-- highlighting; name is who reacted, as shown.
CREATE TABLE reactions (
    room       TEXT    NOT NULL,
    seq        BIGINT  NOT NULL,
    emoji      TEXT    NOT NULL,
    member_id  BIGINT  NOT NULL,
    name       TEXT    NOT NULL,
    reacted_at BIGINT  NOT NULL,
    PRIMARY KEY (room, seq, emoji, member_id),
    FOREIGN KEY (room, seq) REFERENCES messages (room, seq)
);
