//! Cache entries, counters and examples, on whichever backend the suite runs.

use querent_domain::learning::{CacheCounters, CacheOutcome, CacheRecord, Example, ExampleSource};
use querent_domain::ports::{MetadataStore, Page, StoreError};
use querent_domain::*;

fn entry(conn: ConnectionId, fp: &str, q: &str, now: i64, ttl: i64) -> CacheRecord {
    CacheRecord {
        id: CacheEntryId::new(),
        connection_id: conn,
        schema_fingerprint: fp.into(),
        semantic_version: 0,
        question: q.into(),
        normalized: q.to_lowercase(),
        guards: "{}".into(),
        embedder: "lexical-trigram-256".into(),
        embedding: vec![0.25, -0.5, 1.0e-3, 0.75],
        sql: format!("SELECT '{q}'"),
        source_message_id: None,
        hits: 0,
        last_used: now,
        created_at: now,
        expires_at: now + ttl,
    }
}

pub async fn suite(store: &dyn MetadataStore, team: TeamId, conn: ConnectionId) {
    let now = now_millis();
    // Round trip, including the embedding bytes.
    let a = entry(conn, "fp1", "How many orders", now, 60_000);
    store.put_cache_entry(&a, 100).await.unwrap();
    assert_eq!(store.cache_entry(a.id).await.unwrap(), a);
    // Same key replaces.
    let a2 = entry(conn, "fp1", "How many orders", now + 1, 60_000);
    store.put_cache_entry(&a2, 100).await.unwrap();
    assert!(matches!(
        store.cache_entry(a.id).await,
        Err(StoreError::NotFound)
    ));
    let found = store
        .find_cache_entry(conn, "fp1", 0, "how many orders", now + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, a2.id);
    assert!(
        store
            .find_cache_entry(conn, "fp2", 0, "how many orders", now + 2)
            .await
            .unwrap()
            .is_none(),
        "another fingerprint is another key"
    );
    assert!(
        store
            .find_cache_entry(conn, "fp1", 0, "how many orders", now + 60_002)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    // Touch counts hits; an expired entry cannot be touched.
    assert!(store.touch_cache_entry(a2.id, now + 5).await.unwrap());
    let got = store.cache_entry(a2.id).await.unwrap();
    assert_eq!((got.hits, got.last_used), (1, now + 5));
    assert!(!store.touch_cache_entry(a2.id, now + 70_000).await.unwrap());
    // LRU bound: the least recently used go first.
    let b = entry(conn, "fp1", "b", now + 10, 60_000);
    let c = entry(conn, "fp1", "c", now + 20, 60_000);
    store.put_cache_entry(&b, 100).await.unwrap();
    store.put_cache_entry(&c, 2).await.unwrap();
    let live = store.cache_entries_of(conn, now + 30, 10).await.unwrap();
    let ids: Vec<_> = live.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![c.id, b.id], "a2 (last used at now+5) was evicted");
    // Counters and stats.
    store.count_cache(conn, CacheOutcome::Miss).await.unwrap();
    store.count_cache(conn, CacheOutcome::Miss).await.unwrap();
    store
        .count_cache(conn, CacheOutcome::ExactHit)
        .await
        .unwrap();
    store
        .count_cache(conn, CacheOutcome::SimilarHit)
        .await
        .unwrap();
    let stats = store.cache_stats(&[conn], now + 30).await.unwrap();
    assert_eq!(stats.len(), 1);
    let (id, counters, size) = stats[0];
    assert_eq!(id, conn);
    assert_eq!(
        (
            counters.exact_hits,
            counters.similar_hits,
            counters.misses,
            size
        ),
        (1, 1, 2, 2)
    );
    // Listing, deleting by question, clearing.
    let page = store
        .list_cache_entries(&[conn], now + 30, &Page::first(1))
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let rest = store
        .list_cache_entries(
            &[conn],
            now + 30,
            &Page {
                after: Some(page[0].id.to_string()),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(
        store
            .list_cache_entries(&[conn], now + 70_000, &Page::first(10))
            .await
            .unwrap()
            .is_empty(),
        "expired entries are not listed"
    );
    assert_eq!(store.delete_cache_entries_for(conn, "b").await.unwrap(), 1);
    assert!(store.delete_cache_entry(c.id).await.unwrap());
    assert!(!store.delete_cache_entry(c.id).await.unwrap());
    store
        .put_cache_entry(&entry(conn, "old", "x", now, 60_000), 100)
        .await
        .unwrap();
    store
        .put_cache_entry(&entry(conn, "new", "y", now, 60_000), 100)
        .await
        .unwrap();
    assert_eq!(store.clear_cache(conn, Some("new")).await.unwrap(), 1);
    assert_eq!(store.clear_cache(conn, None).await.unwrap(), 1);

    // A batch (the cache's writer): a later entry of the same key replaces an earlier one,
    // the connection is trimmed once, least recently used first.
    let d = entry(conn, "fp1", "d", now + 1, 60_000);
    let e = entry(conn, "fp1", "e", now + 2, 60_000);
    let e2 = entry(conn, "fp1", "e", now + 3, 60_000);
    let f = entry(conn, "fp1", "f", now + 4, 60_000);
    store
        .put_cache_entries(&[d.clone(), e.clone(), e2.clone(), f.clone()], 2)
        .await
        .unwrap();
    let live = store.cache_entries_of(conn, now + 5, 10).await.unwrap();
    let ids: Vec<_> = live.iter().map(|x| x.id).collect();
    assert_eq!(ids, vec![f.id, e2.id], "e replaced by e2, d evicted");
    store.put_cache_entries(&[], 2).await.unwrap();
    // Liveness is a read; hits and counts are recorded in batches (a gone entry skipped).
    assert!(store.cache_entry_live(f.id, now + 5).await.unwrap());
    assert!(!store.cache_entry_live(f.id, now + 70_000).await.unwrap());
    assert!(!store.cache_entry_live(d.id, now + 5).await.unwrap());
    let before = store.cache_stats(&[conn], now + 5).await.unwrap()[0].1;
    store
        .record_cache_use(
            &[(
                conn,
                CacheCounters {
                    exact_hits: 3,
                    similar_hits: 1,
                    misses: 2,
                },
            )],
            &[(f.id, 3, now + 9), (e2.id, 1, now + 1), (d.id, 5, now + 9)],
        )
        .await
        .unwrap();
    store.record_cache_use(&[], &[]).await.unwrap();
    let after = store.cache_stats(&[conn], now + 5).await.unwrap()[0].1;
    assert_eq!(
        (
            after.exact_hits - before.exact_hits,
            after.similar_hits - before.similar_hits,
            after.misses - before.misses
        ),
        (3, 1, 2)
    );
    let got = store.cache_entry(f.id).await.unwrap();
    assert_eq!((got.hits, got.last_used), (3, now + 9));
    let got = store.cache_entry(e2.id).await.unwrap();
    assert_eq!(
        (got.hits, got.last_used),
        (1, now + 3),
        "last_used never goes back"
    );
    assert_eq!(store.clear_cache(conn, None).await.unwrap(), 2);

    // Examples.
    let message = MessageId::new();
    let ex = Example {
        id: ExampleId::new(),
        team_id: team,
        connection_id: conn,
        question: "How many orders?".into(),
        sql: "SELECT count(*) FROM orders".into(),
        source: ExampleSource::FeedbackUp,
        message_id: Some(message),
        verified_by: "user:x".into(),
        created_at: now,
        updated_at: now,
    };
    store.insert_example(&ex).await.unwrap();
    assert_eq!(store.get_example(ex.id).await.unwrap(), ex);
    assert_eq!(
        store.example_of_message(message).await.unwrap().unwrap().id,
        ex.id
    );
    let mut edited = ex.clone();
    edited.sql = "SELECT count(id) FROM orders".into();
    edited.source = ExampleSource::FeedbackCorrection;
    edited.updated_at = now + 1;
    store.update_example(&edited).await.unwrap();
    assert_eq!(store.get_example(ex.id).await.unwrap(), edited);
    let second = Example {
        id: ExampleId::new(),
        question: "List customers".into(),
        source: ExampleSource::Manual,
        message_id: None,
        created_at: now + 2,
        ..ex.clone()
    };
    store.insert_example(&second).await.unwrap();
    let newest: Vec<_> = store
        .examples_of(conn, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(newest, vec![second.id, ex.id]);
    assert_eq!(
        store
            .list_examples(&[team], Some(conn), &Page::first(10))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .list_examples(&[TeamId::new()], None, &Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    store.delete_example(second.id).await.unwrap();
    assert!(matches!(
        store.delete_example(second.id).await,
        Err(StoreError::NotFound)
    ));
}
