//! Integer aliases of connections (`connection_aliases`, Connecty's `dw_id`).

use querent_domain::aliases::ConnectionAliasStore;
use querent_domain::ports::MetadataStore;
use querent_domain::*;
use querent_store::Store;

/// One alias per connection, given once and kept; unknown connections get none; an alias
/// resolves back; it dies with its connection and is never given again.
pub async fn connection_aliases_are_stable_and_never_reused(store: Store) {
    let (seeded, c) = crate::seed_with_connection(&store).await;
    let d = crate::connection(seeded.team.id, "lake");
    store.insert_connection(&d).await.unwrap();
    let unknown = ConnectionId::new();

    let first = store.connection_aliases(&[c.id]).await.unwrap();
    assert_eq!(first.len(), 1);
    let c_alias = first[0].1;
    let both = store
        .connection_aliases(&[d.id, c.id, unknown])
        .await
        .unwrap();
    assert_eq!(both.len(), 2, "unknown connections get none: {both:?}");
    let get = |id: ConnectionId| both.iter().find(|(c, _)| *c == id).unwrap().1;
    assert_eq!(get(c.id), c_alias, "stable");
    let d_alias = get(d.id);
    assert_ne!(d_alias, c_alias);
    assert!(store.connection_aliases(&[]).await.unwrap().is_empty());

    assert_eq!(
        store.connection_by_alias(d_alias).await.unwrap(),
        Some(d.id)
    );
    assert_eq!(
        store.connection_by_alias(d_alias + 1000).await.unwrap(),
        None
    );

    // Gone with the connection, and never given to another.
    store.delete_connection(d.id).await.unwrap();
    assert_eq!(store.connection_by_alias(d_alias).await.unwrap(), None);
    let e = crate::connection(seeded.team.id, "lake");
    store.insert_connection(&e).await.unwrap();
    let e_alias = store.connection_aliases(&[e.id]).await.unwrap()[0].1;
    assert!(e_alias > d_alias, "{e_alias} after {d_alias}");
}
