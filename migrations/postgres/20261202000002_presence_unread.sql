-- The cursor a message was posted at (its `cursor` moves with each later
-- change): a read position given as a cursor maps to the messages posted
-- up to it. Rows from before keep their seq, which was their cursor then.
ALTER TABLE messages ADD COLUMN posted_cursor BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET posted_cursor = seq;

-- How far each member has read: the cursor they said, and the newest seq
-- posted up to it (what unread counts start after). Never moves back.
ALTER TABLE members ADD COLUMN read_cursor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN read_seq BIGINT NOT NULL DEFAULT 0;

-- Who is here, per instance: a member with an open stream on an instance
-- has a row until its last stream there closes (or its instance stops
-- renewing it). Used with PostgreSQL, where instances share the answer;
-- one SQLite instance knows it in memory.
CREATE TABLE presence (
    member_id  BIGINT  NOT NULL,
    instance   TEXT    NOT NULL,
    room       TEXT    NOT NULL,
    here_until BIGINT  NOT NULL,
    PRIMARY KEY (member_id, instance)
);
CREATE INDEX presence_by_room ON presence (room, here_until);
