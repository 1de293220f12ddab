//! What a page missed while its stream was down (issue 15): presence is
//! never replayed, so a page whose stream comes back reads who is here
//! afresh. Within the 5 s grace its own member never left, so no presence
//! change would ever tell it otherwise.

use std::time::Duration;

use super::people::{panel_reads, want};
use super::support::*;

/// Alice's network drops for a moment; meanwhile carol exits. Once alice's
/// stream is back (within her grace, so she never left), her panel no
/// longer lists carol, as bob's does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_back_from_a_short_drop_shows_who_left_meanwhile() {
    let Some(rig) = rig().await else { return };
    let mut gate = Gate::open_to(rig.server.socket).await;
    let alice = rig.browser_at(&gate.base(), Options::default()).await;
    let (bob, carol) = (rig.browser().await, rig.browser().await);
    alice.join("alice", "gap").await;
    bob.join("bob", "gap").await;
    carol.join("carol", "gap").await;
    let three = want(3, &[("alice", "here"), ("bob", "here"), ("carol", "here")]);
    panel_reads(&alice, "alice", PATIENCE, three.clone()).await;
    panel_reads(&bob, "bob", PATIENCE, three).await;
    alice.mark_page().await;

    gate.close().await;
    carol.exit().await;
    let two = want(2, &[("alice", "here"), ("bob", "here")]);
    panel_reads(&bob, "bob", PATIENCE, two.clone()).await;
    gate.open().await;
    panel_reads(&alice, "alice, back", Duration::from_secs(10), two).await;
    assert!(alice.same_page().await, "no reload");
    // Read again, not only corrected by a later change (which a reconnect
    // slower than the grace would bring by itself).
    let asked = alice
        .js(
            "return performance.getEntriesByType('resource')\
               .filter(e => new URL(e.name).pathname === '/rooms/gap/members').length",
            vec![],
        )
        .await;
    assert!(asked.as_i64() >= Some(1), "the panel was read: {asked}");
    alice.close().await;
    bob.close().await;
    carol.close().await;
}
