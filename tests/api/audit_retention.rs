//! The activity log's retention: events older than the cutoff are deleted, oldest first, and no
//! other.

use porteiro::domain::OrgId;
use porteiro::domain::{AuditEvent, AuditFilter};
use porteiro::store::Store;

use crate::helpers::store_with_org;

fn event(org: OrgId, at: i64) -> AuditEvent {
    AuditEvent {
        org_id: Some(org.get()),
        at,
        kind: "login_succeeded".to_owned(),
        actor: Some(format!("user-{at}@example.com")),
        subject: None,
        client_addr: Some("127.0.0.1".to_owned()),
        detail: None,
    }
}

async fn remaining(store: &Store, org: OrgId) -> Vec<i64> {
    let filter = AuditFilter {
        limit: 500,
        ..Default::default()
    };
    let mut at: Vec<i64> = store
        .audit_events(org, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.at)
        .collect();
    at.sort_unstable();
    at
}

#[tokio::test]
async fn pruning_deletes_the_events_older_than_the_cutoff_and_only_those() {
    let f = store_with_org().await;
    let (store, org) = (&f.store, f.org);
    let mut events: Vec<AuditEvent> = (100..110).map(|at| event(org, at)).collect();
    // Written last but stamped earliest, as an event of a slower instance can be.
    events.push(event(org, 50));
    store.insert_audit_events(&events).await.unwrap();

    assert_eq!(store.prune_audit_events(105).await.unwrap(), 6);
    assert_eq!(remaining(store, org).await, [105, 106, 107, 108, 109]);
    assert_eq!(store.prune_audit_events(105).await.unwrap(), 0);
    assert_eq!(store.prune_audit_events(110).await.unwrap(), 5);
    assert!(remaining(store, org).await.is_empty());
}

#[tokio::test]
async fn pruning_goes_on_past_one_statements_share() {
    let f = store_with_org().await;
    let (store, org) = (&f.store, f.org);
    // More than two statements' worth (5,000 each), then one young event.
    for chunk in 0..24 {
        let events: Vec<AuditEvent> = (0..500).map(|i| event(org, chunk * 500 + i)).collect();
        store.insert_audit_events(&events).await.unwrap();
    }
    store
        .insert_audit_events(&[event(org, 20_000)])
        .await
        .unwrap();

    assert_eq!(store.prune_audit_events(15_000).await.unwrap(), 12_000);
    assert_eq!(remaining(store, org).await, [20_000]);
}

#[tokio::test]
async fn pruning_keeps_up_with_a_log_that_grew_by_more_than_a_hundred_thousand_events() {
    let f = store_with_org().await;
    let (store, org) = (&f.store, f.org);
    // A busy minute's worth: more than any fixed number of statements per call would take.
    for chunk in 0..220 {
        let events: Vec<AuditEvent> = (0..500).map(|i| event(org, chunk * 500 + i)).collect();
        store.insert_audit_events(&events).await.unwrap();
    }
    store
        .insert_audit_events(&[event(org, 200_000)])
        .await
        .unwrap();

    assert_eq!(store.prune_audit_events(150_000).await.unwrap(), 110_000);
    assert_eq!(remaining(store, org).await, [200_000]);
}
