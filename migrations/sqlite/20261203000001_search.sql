-- Full-text search over message bodies (FTS5, compiled into the bundled
-- SQLite). The index holds no copy of the text: it reads bodies from
-- messages by rowid (external content), and triggers keep it in step in
-- the same transaction as every insert and edit. A delete empties the body
-- (and queries skip deleted_at), so a deleted message is never found.
-- unicode61 with diacritics removed: "cafe" finds "café", in any script.
-- messages has no INTEGER PRIMARY KEY, so a VACUUM may renumber its
-- rowids: after one, run INSERT INTO messages_fts(messages_fts) VALUES ('rebuild').
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- A deleted (or edited) body's words leave the index at once rather than
-- at its next merge: a delete is a delete.
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (rowid, body)
    SELECT rowid, body FROM messages WHERE deleted_at IS NULL;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

-- Only a change of body touches the index (reactions and cursors do not).
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN old.body IS NOT new.body BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
