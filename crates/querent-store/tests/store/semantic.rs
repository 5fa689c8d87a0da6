//! The `semantic_models` part of the store contract (`semantic_models_keep_every_version`):
//! versions are kept, the latest wins, a version can be saved only once (optimistic
//! locking), and deleting a connection or its model removes every version.

use querent_domain::ports::{MetadataStore, SemanticModelStore, StoreError};
use querent_domain::semantic::{
    JoinCardinality, JoinPath, JoinSource, Metric, SemanticColumn, SemanticModel, SemanticTable,
};
use querent_domain::{ConnectionId, now_millis};
use querent_store::Store;

fn model(connection: ConnectionId, version: u32, fingerprint: &str) -> SemanticModel {
    SemanticModel {
        connection_id: connection,
        version,
        schema_fingerprint: fingerprint.into(),
        description: Some(format!("version {version}")),
        tables: vec![SemanticTable {
            table: "orders".into(),
            display_name: Some("Orders".into()),
            description: None,
            synonyms: vec!["purchases".into()],
            columns: vec![SemanticColumn {
                column: "status".into(),
                data_type: Some("text".into()),
                display_name: Some("Status".into()),
                description: None,
                synonyms: vec![],
                values: vec!["open".into(), "shipped".into()],
                value_mappings: vec![],
            }],
        }],
        joins: vec![JoinPath {
            from_table: "orders".into(),
            from_columns: vec!["customer_id".into()],
            to_table: "customers".into(),
            to_columns: vec!["id".into()],
            cardinality: JoinCardinality::ManyToOne,
            source: JoinSource::ForeignKey,
        }],
        metrics: vec![Metric {
            name: "revenue".into(),
            description: None,
            expression: "SUM(orders.total)".into(),
            table: "orders".into(),
            synonyms: vec!["sales".into()],
        }],
        updated_at: now_millis() + i64::from(version),
    }
}

pub(crate) async fn suite(store: &Store) {
    let t = super::team("Semantic");
    store.insert_team(&t, None).await.unwrap();
    let c = super::connection(t.id, "semantic");
    store.insert_connection(&c).await.unwrap();

    // Nothing yet.
    assert!(store.latest_semantic_model(c.id).await.unwrap().is_none());
    assert!(
        store
            .latest_semantic_model_stamp(c.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_semantic_model_versions(c.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Versions are kept; the latest wins; each can be read back whole.
    let v1 = model(c.id, 1, "aaaa");
    store
        .insert_semantic_model(&v1, Some("user:x"))
        .await
        .unwrap();
    let v2 = model(c.id, 2, "bbbb");
    store.insert_semantic_model(&v2, None).await.unwrap();
    assert_eq!(
        store.latest_semantic_model(c.id).await.unwrap(),
        Some(v2.clone())
    );
    let stamp = store
        .latest_semantic_model_stamp(c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stamp.key.as_str(), stamp.at), ("2", v2.updated_at));
    assert!(stamp.len > 0);
    assert_eq!(
        store.semantic_model_version(c.id, 1).await.unwrap(),
        Some(v1.clone())
    );
    assert!(
        store
            .semantic_model_version(c.id, 3)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .semantic_model_version(c.id, u32::MAX)
            .await
            .unwrap()
            .is_none()
    );
    let versions = store.list_semantic_model_versions(c.id).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (
                v.version,
                v.schema_fingerprint.as_str(),
                v.created_by.as_deref()
            ))
            .collect::<Vec<_>>(),
        [(2, "bbbb", None), (1, "aaaa", Some("user:x"))]
    );
    assert_eq!(versions[1].created_at, v1.updated_at);

    // Saving a version that exists is a conflict (someone else saved first), and the
    // stored one is untouched.
    let again = store
        .insert_semantic_model(&model(c.id, 2, "cccc"), None)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.latest_semantic_model(c.id).await.unwrap(), Some(v2));

    // A model of a connection that does not exist is refused.
    let orphan = store
        .insert_semantic_model(&model(ConnectionId::new(), 1, "x"), None)
        .await;
    assert!(
        matches!(orphan, Err(StoreError::MissingReference(_))),
        "{orphan:?}"
    );

    // Deleting removes every version (and only this connection's).
    let other = super::connection(t.id, "semantic-other");
    store.insert_connection(&other).await.unwrap();
    store
        .insert_semantic_model(&model(other.id, 1, "dddd"), None)
        .await
        .unwrap();
    assert_eq!(store.delete_semantic_models(c.id).await.unwrap(), 2);
    assert!(store.latest_semantic_model(c.id).await.unwrap().is_none());
    assert_eq!(store.delete_semantic_models(c.id).await.unwrap(), 0);
    assert!(
        store
            .latest_semantic_model(other.id)
            .await
            .unwrap()
            .is_some()
    );

    // Deleting the connection cascades to its model.
    store.delete_connection(other.id).await.unwrap();
    assert!(
        store
            .list_semantic_model_versions(other.id)
            .await
            .unwrap()
            .is_empty()
    );
    store.delete_team(t.id).await.unwrap();
}
