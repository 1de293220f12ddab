-- Search looks in one room, so the index that finds the words finds them
-- by room too. The GIN index on the words alone handed over every room's
-- matches and left the room to the heap: a search for a word that is rare
-- in its room but common elsewhere read every other room's matches first
-- (docs/BENCHMARKS.md, "Search in a room of 1,000,000 messages"). With
-- btree_gin the room is a key of the same GIN index, and the scan takes
-- only the room's entries. (btree_gin ships with PostgreSQL's contrib and
-- is a trusted extension: the database's owner may create it.)
--
-- fastupdate off: no pending list. With it on, new entries wait in an
-- unsorted list that every search reads from end to end (up to
-- gin_pending_list_limit, 4 MB by default) until a vacuum or the insert
-- that overflows it merges them; a post then pays for its own entries,
-- a few index pages, and searches cost the same whether or not
-- autovacuum has been by.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_room_search ON messages USING GIN (room, search)
    WITH (fastupdate = off);
DROP INDEX messages_search;
