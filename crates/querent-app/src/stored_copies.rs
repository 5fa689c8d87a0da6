//! Per-process copies of what every chat reads from the store and seldom changes: a
//! connection's schema snapshot and its semantic model, each deserialised and stripped
//! under the connection's privacy policy (issue 19: reading and parsing both was a large
//! part of a chat's CPU).
//!
//! A copy is used only while the stored document's [`DocumentStamp`] — fingerprint (or
//! version number), time and length, read without the document — equals the one it was
//! made from, and only under the same privacy policy; so a refresh, a model edit or a
//! sample strip by this instance or another one on the same PostgreSQL store is seen by
//! the next chat. The stamp is read before the document: a write between the two leaves a
//! newer document under an older stamp, which the next chat reads again.

use std::sync::{Arc, Mutex};

use querent_domain::ConnectionId;
use querent_domain::PrivacyPolicy;
use querent_domain::ports::DocumentStamp;
use querent_domain::schema::SchemaSnapshot;
use querent_domain::semantic::SemanticModel;

/// Copies kept of each kind (most recently used last); big snapshots are many MiB.
const KEPT: usize = 16;

/// One kept copy.
struct Copy<T> {
    connection: ConnectionId,
    stamp: DocumentStamp,
    policy: PrivacyPolicy,
    value: Arc<T>,
}

/// A small LRU of copies of one kind.
struct Copies<T>(Mutex<Vec<Copy<T>>>);

impl<T> Default for Copies<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T> Copies<T> {
    fn get(
        &self,
        connection: ConnectionId,
        stamp: &DocumentStamp,
        policy: &PrivacyPolicy,
    ) -> Option<Arc<T>> {
        let mut copies = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = copies.iter().position(|c| {
            c.connection == connection && c.stamp == *stamp && hides_the_same(&c.policy, policy)
        })?;
        let hit = copies.remove(i);
        let value = Arc::clone(&hit.value);
        copies.push(hit);
        Some(value)
    }

    fn put(
        &self,
        connection: ConnectionId,
        stamp: DocumentStamp,
        policy: &PrivacyPolicy,
        value: &Arc<T>,
    ) {
        let mut copies = self.0.lock().unwrap_or_else(|e| e.into_inner());
        copies.retain(|c| c.connection != connection);
        copies.push(Copy {
            connection,
            stamp,
            // What stripping looks at (the caller's row filters are not).
            policy: PrivacyPolicy {
                excluded_tables: policy.excluded_tables.clone(),
                excluded_columns: policy.excluded_columns.clone(),
                masked_column_patterns: policy.masked_column_patterns.clone(),
                row_filters: Vec::new(),
            },
            value: Arc::clone(value),
        });
        if copies.len() > KEPT {
            copies.remove(0);
        }
    }
}

/// Whether the two policies hide the same values (what stripping samples and model values
/// depends on: excluded tables and columns, masked columns).
fn hides_the_same(a: &PrivacyPolicy, b: &PrivacyPolicy) -> bool {
    a.excluded_tables == b.excluded_tables
        && a.excluded_columns == b.excluded_columns
        && a.masked_column_patterns == b.masked_column_patterns
}

/// The kept schema snapshots and semantic models.
#[derive(Default)]
pub(crate) struct StoredCopies {
    snapshots: Copies<SchemaSnapshot>,
    models: Copies<SemanticModel>,
}

impl StoredCopies {
    /// The snapshot copy made from `stamp` under `policy`, if kept.
    pub(crate) fn snapshot(
        &self,
        connection: ConnectionId,
        stamp: &DocumentStamp,
        policy: &PrivacyPolicy,
    ) -> Option<Arc<SchemaSnapshot>> {
        self.snapshots.get(connection, stamp, policy)
    }

    /// Keeps `snapshot`, read under `stamp` and stripped under `policy`.
    pub(crate) fn keep_snapshot(
        &self,
        connection: ConnectionId,
        stamp: DocumentStamp,
        policy: &PrivacyPolicy,
        snapshot: &Arc<SchemaSnapshot>,
    ) {
        self.snapshots.put(connection, stamp, policy, snapshot);
    }

    /// The model copy made from `stamp` under `policy`, if kept.
    pub(crate) fn model(
        &self,
        connection: ConnectionId,
        stamp: &DocumentStamp,
        policy: &PrivacyPolicy,
    ) -> Option<Arc<SemanticModel>> {
        self.models.get(connection, stamp, policy)
    }

    /// Keeps `model`, read under `stamp` and stripped under `policy`.
    pub(crate) fn keep_model(
        &self,
        connection: ConnectionId,
        stamp: DocumentStamp,
        policy: &PrivacyPolicy,
        model: &Arc<SemanticModel>,
    ) {
        self.models.put(connection, stamp, policy, model);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(key: &str, len: i64) -> DocumentStamp {
        DocumentStamp {
            key: key.to_owned(),
            at: 1,
            len,
        }
    }

    #[test]
    fn a_copy_serves_only_its_stamp_and_policy() {
        let copies: Copies<String> = Copies::default();
        let conn = ConnectionId::new();
        let open = PrivacyPolicy::default();
        let value = Arc::new("v1".to_owned());
        copies.put(conn, stamp("a", 10), &open, &value);
        assert!(copies.get(conn, &stamp("a", 10), &open).is_some());
        // Another fingerprint, a stripped document, another policy, another connection.
        assert!(copies.get(conn, &stamp("b", 10), &open).is_none());
        assert!(copies.get(conn, &stamp("a", 9), &open).is_none());
        let strict = PrivacyPolicy {
            excluded_tables: vec!["t".to_owned()],
            ..PrivacyPolicy::default()
        };
        assert!(copies.get(conn, &stamp("a", 10), &strict).is_none());
        assert!(
            copies
                .get(ConnectionId::new(), &stamp("a", 10), &open)
                .is_none()
        );
        // A newer copy of a connection replaces the older one.
        copies.put(conn, stamp("b", 10), &open, &Arc::new("v2".to_owned()));
        assert!(copies.get(conn, &stamp("a", 10), &open).is_none());
        assert_eq!(
            copies.get(conn, &stamp("b", 10), &open).as_deref(),
            Some(&"v2".to_owned())
        );
    }

    #[test]
    fn at_most_kept_copies() {
        let copies: Copies<u32> = Copies::default();
        let open = PrivacyPolicy::default();
        let first = ConnectionId::new();
        copies.put(first, stamp("a", 1), &open, &Arc::new(0));
        for i in 0..KEPT {
            copies.put(
                ConnectionId::new(),
                stamp("a", 1),
                &open,
                &Arc::new(i as u32),
            );
        }
        assert!(copies.get(first, &stamp("a", 1), &open).is_none());
    }
}
