-- Full-text search over message bodies: a tsvector column PostgreSQL keeps
-- in step with the body itself (a stored generated column, so inserts,
-- edits and deletes update it in their own transaction), and a GIN index
-- on it. The 'simple' configuration: no stemming and no stop words, the
-- same in every language (a chat has many), as SQLite's unicode61 does.
-- A delete empties the body (and queries skip deleted_at), so a deleted
-- message is never found.
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
