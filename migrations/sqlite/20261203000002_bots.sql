-- A bot is a member of its room: its name is held like a person's, its
-- messages carry its member id, and both are marked so the page can say
-- "bot". A join never releases a bot's name (see store::members).
ALTER TABLE members ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;

-- What only a bot has: its token (stored as a SHA-256 hash, never the
-- token), the key its webhooks are signed with, and how far its webhook
-- scan has read the room. member_id is the bot's member id; the member row
-- is deleted when the bot is revoked (its name is free again), this row
-- stays, marked revoked.
CREATE TABLE bots (
    member_id      INTEGER   PRIMARY KEY,
    room           TEXT NOT NULL,
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    secret         TEXT NOT NULL,
    webhook_url    TEXT,
    all_messages   INTEGER   NOT NULL DEFAULT 0,
    created_by     TEXT NOT NULL,
    created_at     INTEGER   NOT NULL,
    revoked_at     INTEGER,
    -- Webhooks: the messages up to this seq were considered.
    scanned_seq    INTEGER   NOT NULL DEFAULT 0,
    -- What the last delivery attempt came to, as a sentence, and when.
    last_status    TEXT,
    last_status_at INTEGER
);
CREATE INDEX bots_by_room ON bots (room, revoked_at);

-- Webhook deliveries waiting or done: queued in the database, so a
-- restart loses none. One per bot and message (the idempotency key).
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id      INTEGER   NOT NULL,
    room        TEXT NOT NULL,
    seq         INTEGER   NOT NULL,
    payload     TEXT NOT NULL,
    created_at  INTEGER   NOT NULL,
    attempts    INTEGER   NOT NULL DEFAULT 0,
    next_at     INTEGER   NOT NULL,
    -- An instance working on it holds it until then.
    lease_until INTEGER   NOT NULL DEFAULT 0,
    -- Delivered or given up.
    done_at     INTEGER,
    outcome     TEXT,
    UNIQUE (bot_id, seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (done_at, next_at);
