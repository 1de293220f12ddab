//! The metrics' names, what each means (the `# HELP` line) and the
//! histograms' buckets: written once, for the handles, the scrape and
//! docs/OPERATIONS.md (which lists the same names).

/// Posts committed.
pub(super) const POSTS: &str = "natter_posts_committed_total";
/// Frames handed to event streams.
pub(super) const DELIVERIES: &str = "natter_deliveries_total";
/// Store reads made to deliver changes, by reader. Other work relies on
/// this name: keep it.
pub(super) const READS: &str = "natter_catch_up_reads_total";
/// Messages those reads returned.
pub(super) const ROWS: &str = "natter_catch_up_rows_total";
/// Subscribers that fell behind their room's channel.
pub(super) const LAGGED: &str = "natter_lagged_subscribers_total";
/// Requests refused by a flood limit, by kind.
pub(super) const RATE_LIMITED: &str = "natter_rate_limited_total";
/// A post's transaction, from its start to its commit.
pub(super) const COMMIT: &str = "natter_commit_seconds";
/// Another instance's notification, from receipt to handled.
pub(super) const RELAY_LAG: &str = "natter_relay_lag_seconds";

/// The `kind` labels of [`RATE_LIMITED`], in the order of `Limited`.
pub(super) const LIMIT_KINDS: [&str; 5] = [
    "post",
    "join",
    "typing",
    "member_streams",
    "instance_streams",
];

/// Commits: from a group commit's half millisecond on SQLite to a
/// PostgreSQL that stalls.
pub(super) const COMMIT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Relay lag: a healthy relay is well under a few milliseconds; seconds
/// mean the driver is far behind.
pub(super) const LAG_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Levels read at each scrape, with their `# HELP` lines.
pub(super) const OPEN_STREAMS: &str = "natter_open_streams";
pub(super) const OPEN_STREAMS_HELP: &str = "Event streams open on this instance.";
pub(super) const POOL_IN_USE: &str = "natter_db_connections_in_use";
pub(super) const POOL_IN_USE_HELP: &str = "Database pool connections in use.";
pub(super) const POOL_IDLE: &str = "natter_db_connections_idle";
pub(super) const POOL_IDLE_HELP: &str = "Database pool connections open and idle.";
pub(super) const LIVE_ROOMS: &str = "natter_live_rooms";
pub(super) const LIVE_ROOMS_HELP: &str = "Rooms with at least one stream open here.";

/// Gives every event and timing its `# HELP` line.
pub(super) fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(POSTS, "Posts committed.");
    describe_counter!(
        DELIVERIES,
        "Frames (changes and signals, not keep-alives) handed to event streams."
    );
    describe_counter!(
        READS,
        "Store reads made to deliver changes: by a subscriber's own feed, or once for every subscriber here (relay)."
    );
    describe_counter!(ROWS, "Messages read by those catch-up reads.");
    describe_counter!(
        LAGGED,
        "Times a subscriber fell behind its room's channel and caught up from the store."
    );
    describe_counter!(RATE_LIMITED, "Requests refused by a flood limit, by kind.");
    describe_histogram!(
        COMMIT,
        Unit::Seconds,
        "A post transaction's time from its start to its commit."
    );
    describe_histogram!(
        RELAY_LAG,
        Unit::Seconds,
        "Time from receiving another instance's notification to having handled it (published its changes here)."
    );
}
