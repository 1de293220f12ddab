//! Two natter instances on one PostgreSQL, two browsers on two ports: one
//! conversation (issue 5, tried as a new user would).

use natter_kit::{spawn_app, Backend};

use super::support::*;

/// Alice's browser talks to instance A, Bob's to instance B: each sees the
/// other's messages live, in the same order; Alice's session works on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_on_two_instances_share_one_conversation() {
    let Some(rig) = rig().await else { return };
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    // Both stop, and the database is dropped, when they go out of scope.
    let a = spawn_app(backend).await;
    let b = a.peer().await;
    let alice = rig.browser_at(&a.addr, Options::default()).await;
    let bob = rig.browser_at(&b.addr, Options::default()).await;
    alice.join("alice", "lobby").await;
    bob.join("bob", "lobby").await;
    for (who, text) in [
        (&alice, "Hello from instance A"),
        (&bob, "Hello from instance B"),
        (&alice, "One conversation"),
    ] {
        who.say(text).await;
        alice.sees_last(text).await;
        bob.sees_last(text).await;
    }
    assert_eq!(alice.messages().await, bob.messages().await);
    // Alice's cookie is good on B too: sessions live in PostgreSQL.
    let alice_on_b = format!("{}/rooms/lobby", b.addr);
    alice.client.goto(&alice_on_b).await.expect("open B");
    eventually("alice is in the room on B", || async {
        alice.bodies().await.last().map(String::as_str) == Some("One conversation")
    })
    .await;
    alice.close().await;
    bob.close().await;
}
