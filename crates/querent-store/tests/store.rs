//! The metadata store's contract: one named test per area, each run on both backends —
//! `sqlite::<name>` on a fresh embedded store, `postgres::<name>` on a fresh PostgreSQL
//! database created for the test and dropped after it (skipped through querent-test-gate
//! when the server is absent, failed under `QUERENT_REQUIRE_SERVICES=1`). `cargo test -p
//! querent-store --test store users` runs one area on both.

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use querent_domain::chat::{ChatMessage, ChatSession};
use querent_domain::ports::{MetadataStore, Page, RefreshToken, StoreError};
use querent_domain::*;
use querent_store::Store;

#[path = "store/fixture.rs"]
mod fixture;

#[path = "store/aliases.rs"]
mod aliases;
use aliases::connection_aliases_are_stable_and_never_reused;

#[path = "store/semantic.rs"]
mod semantic;

#[path = "store/learning.rs"]
mod learning;

#[path = "store/workspace.rs"]
mod workspace;
use workspace::{
    a_workflow_slot_is_claimed_once, assistants_round_trip_update_and_page,
    dashboards_round_trip_update_and_page, query_runs_keep_the_newest,
    questions_are_claimed_once_each, questions_finish_and_recover_under_their_lease,
    saved_queries_filter_and_page, saved_queries_round_trip_update_and_delete,
    workflow_runs_are_written_under_their_lease, workflows_round_trip_update_and_due,
    workspace_rows_die_with_their_owners,
};

/// Declares each named test twice: `sqlite::NAME` and `postgres::NAME`, both calling
/// `NAME(store)` on a fresh store of that backend.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::fixture::Backend::Sqlite.run(super::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    crate::fixture::Backend::Postgres.run(super::$name).await;
                }
            )+
        }
    };
}

on_both_backends!(
    first_boot_setup_happens_once,
    users_are_unique_updatable_and_paged,
    teams_and_memberships,
    connections_round_trip_and_names_are_unique_per_team,
    refresh_tokens_rotate_once,
    a_token_issued_after_its_family_was_revoked_is_refused,
    the_bearer_check_reports_revoked_families,
    api_clients,
    audit_log,
    login_failures_count_per_account_and_address,
    requests_are_counted_per_caller_and_window,
    settings_are_upserted,
    schema_snapshots_are_replaced_and_need_a_connection,
    chat_sessions_and_messages,
    concurrent_chat_writes_each_land_or_fail_alone,
    interrupted_chats_and_overtaken_runs,
    providers,
    deleting_a_team_cascades,
    cache_entries_counters_and_examples,
    semantic_models_keep_every_version,
    health_and_idempotent_migrations,
    saved_queries_round_trip_update_and_delete,
    saved_queries_filter_and_page,
    query_runs_keep_the_newest,
    dashboards_round_trip_update_and_page,
    assistants_round_trip_update_and_page,
    workspace_rows_die_with_their_owners,
    workflows_round_trip_update_and_due,
    a_workflow_slot_is_claimed_once,
    workflow_runs_are_written_under_their_lease,
    questions_are_claimed_once_each,
    questions_finish_and_recover_under_their_lease,
    connection_aliases_are_stable_and_never_reused,
);

fn user(name: &str, role: Role) -> User {
    User {
        id: UserId::new(),
        username: name.into(),
        email: None,
        role,
        disabled: false,
        token_epoch: 0,
        created_at: now_millis(),
    }
}

fn team(name: &str) -> Team {
    Team {
        id: TeamId::new(),
        name: name.into(),
        created_at: now_millis(),
    }
}

fn connection(team: TeamId, name: &str) -> Connection {
    Connection {
        id: ConnectionId::new(),
        team_id: team,
        name: name.into(),
        target: ConnectionTarget {
            dialect: Dialect::Postgres,
            host: Some("db.internal".into()),
            port: Some(5432),
            database: Some("sales".into()),
            username: Some("reader".into()),
            path: None,
            ssl_mode: SslMode::VerifyFull,
            ca_certificate: Some(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            ),
        },
        encrypted_secret: Some("qv1:abc:xyz".into()),
        schemas: vec!["public".into()],
        description: Some("sales warehouse".into()),
        execution_mode: ExecutionMode::ReviewFirst,
        privacy: PrivacyPolicy {
            excluded_tables: vec!["salaries".into()],
            excluded_columns: vec!["users.ssn".into()],
            masked_column_patterns: vec!["*email*".into()],
            row_filters: Vec::new(),
        },
        limits: ConnectionLimits {
            statement_timeout_ms: 5000,
            max_rows: 200,
        },
        sample_values: true,
        row_filters: vec![RowFilterRule {
            table: "orders".into(),
            predicate: "region = 'EU'".into(),
            applies_to: RowFilterAudience::Role {
                role: TeamRole::Viewer,
            },
        }],
        created_by: None,
        created_at: now_millis(),
        updated_at: now_millis(),
    }
}

fn token(family: TokenFamilyId, user: UserId, hash: &str) -> RefreshToken {
    RefreshToken {
        id: RefreshTokenId::new(),
        family_id: family,
        user_id: user,
        token_hash: hash.into(),
        expires_at: now_millis() + 60_000,
        used_at: None,
        revoked: false,
        created_at: now_millis(),
    }
}

/// The state after first-boot setup: the admin and their team.
struct Seeded {
    admin: User,
    team: Team,
}

/// First-boot setup: an admin and their team.
async fn seed(store: &Store) -> Seeded {
    let admin = user("admin", Role::Admin);
    let team = team("Default");
    store
        .create_first_admin(&admin, "hash", &team)
        .await
        .unwrap();
    Seeded { admin, team }
}

/// Setup, then the connection `warehouse` in the admin's team.
async fn seed_with_connection(store: &Store) -> (Seeded, Connection) {
    let seeded = seed(store).await;
    let c = connection(seeded.team.id, "warehouse");
    store.insert_connection(&c).await.unwrap();
    (seeded, c)
}

/// A session of `c` owned by `admin`, stored.
async fn session(store: &Store, admin: &User, c: &Connection) -> ChatSession {
    let session = ChatSession {
        id: SessionId::new(),
        team_id: c.team_id,
        connection_id: c.id,
        owner: format!("user:{}", admin.id),
        title: "how many?".into(),
        created_at: now_millis(),
        updated_at: now_millis(),
    };
    store.insert_session(&session).await.unwrap();
    session
}

/// A message of `session` asked by its owner, with every field set.
fn message(session: &ChatSession, q: &str, status: MessageStatus) -> ChatMessage {
    ChatMessage {
        id: MessageId::new(),
        session_id: session.id,
        question: q.into(),
        sql: Some("SELECT 1".into()),
        dialect: Dialect::Postgres,
        status,
        explanation: None,
        results: Some(querent_domain::chat::ResultSet {
            columns: vec![querent_domain::query::ColumnMeta {
                name: "n".into(),
                type_name: "int4".into(),
                masked: false,
            }],
            rows: vec![vec![serde_json::json!(1)]],
            row_count: 1,
            truncated: false,
            execution_time_ms: 3,
            ..Default::default()
        }),
        error_code: None,
        error_detail: None,
        provider: Some("offline".into()),
        prompt_tokens: 0,
        completion_tokens: 0,
        latency_ms: Some(5),
        options: Default::default(),
        attempts: vec![querent_domain::chat::Attempt {
            sql: Some("SELECT 1".into()),
            error: None,
            latency_ms: 4,
            prompt_tokens: 120,
            completion_tokens: 8,
        }],
        cost_usd: Some(0.0012),
        cache_entry_id: Some(CacheEntryId::new()),
        run_id: Some(RunId::new()),
        asked_by: session.owner.clone(),
        created_at: now_millis() + 1,
        updated_at: now_millis() + 1,
    }
}

/// Setup happens once, atomically.
async fn first_boot_setup_happens_once(store: Store) {
    assert_eq!(store.count_users().await.unwrap(), 0);
    let admin = user("admin", Role::Admin);
    let t = team("Default");
    store.create_first_admin(&admin, "hash", &t).await.unwrap();
    let again = store
        .create_first_admin(&user("other", Role::Admin), "h", &team("T2"))
        .await;
    assert!(
        matches!(again, Err(StoreError::AlreadyInitialized)),
        "{again:?}"
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(
        store.membership(t.id, admin.id).await.unwrap(),
        Some(TeamRole::Owner)
    );
}

/// Users: unique usernames, lookups, updates, a password change bumps the epoch; pages by id.
async fn users_are_unique_updatable_and_paged(store: Store) {
    seed(&store).await;
    let bob = user("bob", Role::Member);
    store.insert_user(&bob, "bobhash").await.unwrap();
    assert!(matches!(
        store.insert_user(&user("bob", Role::Member), "x").await,
        Err(StoreError::Conflict(_))
    ));
    let (found, hash) = store.find_user_by_username("bob").await.unwrap().unwrap();
    assert_eq!(found, bob);
    assert_eq!(hash, "bobhash");
    assert!(
        store
            .find_user_by_username("nobody")
            .await
            .unwrap()
            .is_none()
    );
    store.set_password(bob.id, "newhash").await.unwrap();
    let (after, hash) = store.get_user(bob.id).await.unwrap();
    assert_eq!((after.token_epoch, hash.as_str()), (1, "newhash"));
    let mut disabled = after.clone();
    disabled.disabled = true;
    store.update_user(&disabled).await.unwrap();
    assert!(store.get_user(bob.id).await.unwrap().0.disabled);
    assert_eq!(store.count_active_admins().await.unwrap(), 1);

    // Pagination by id.
    let first = store.list_users(&Page::first(1)).await.unwrap();
    assert_eq!(first.len(), 1);
    let rest = store
        .list_users(&Page {
            after: Some(first[0].id.to_string()),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_ne!(rest[0].id, first[0].id);
}

/// Teams and memberships: unique names, roles, owners, foreign keys enforced.
async fn teams_and_memberships(store: Store) {
    let Seeded { admin, .. } = seed(&store).await;
    let bob = user("bob", Role::Member);
    store.insert_user(&bob, "bobhash").await.unwrap();
    let t2 = team("Analytics");
    store.insert_team(&t2, Some(bob.id)).await.unwrap();
    assert!(matches!(
        store.insert_team(&team("Analytics"), None).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .upsert_member(t2.id, admin.id, TeamRole::Viewer)
        .await
        .unwrap();
    store
        .upsert_member(t2.id, admin.id, TeamRole::Editor)
        .await
        .unwrap();
    assert_eq!(
        store.membership(t2.id, admin.id).await.unwrap(),
        Some(TeamRole::Editor)
    );
    assert_eq!(store.members_of(t2.id).await.unwrap().len(), 2);
    assert_eq!(store.count_owners(t2.id).await.unwrap(), 1);
    assert_eq!(store.memberships_of(admin.id).await.unwrap().len(), 2);
    let missing = store
        .upsert_member(t2.id, UserId::new(), TeamRole::Viewer)
        .await;
    assert!(
        matches!(missing, Err(StoreError::MissingReference(_))),
        "foreign keys must be enforced: {missing:?}"
    );
    store.remove_member(t2.id, admin.id).await.unwrap();
    assert_eq!(store.membership(t2.id, admin.id).await.unwrap(), None);
    let only = store
        .list_teams(Some(&[t2.id]), &Page::first(10))
        .await
        .unwrap();
    assert_eq!(
        only.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        vec!["Analytics"]
    );
}

/// Connections round-trip every field; names are unique per team; secrets are replaced for key rotation.
async fn connections_round_trip_and_names_are_unique_per_team(store: Store) {
    let Seeded { team: t, .. } = seed(&store).await;
    let t2 = team("Analytics");
    store.insert_team(&t2, None).await.unwrap();
    let c = connection(t.id, "warehouse");
    store.insert_connection(&c).await.unwrap();
    assert_eq!(store.get_connection(c.id).await.unwrap(), c);
    assert!(matches!(
        store
            .insert_connection(&connection(t.id, "warehouse"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .insert_connection(&connection(t2.id, "warehouse"))
        .await
        .unwrap();
    assert_eq!(
        store
            .list_connections(&[t.id], &Page::first(10))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_connections(&[t.id, t2.id], &Page::first(10))
            .await
            .unwrap()
            .len(),
        2
    );
    let mut changed = c.clone();
    changed.execution_mode = ExecutionMode::GenerateOnly;
    changed.target.port = None;
    changed.description = None;
    store.update_connection(&changed).await.unwrap();
    assert_eq!(store.get_connection(c.id).await.unwrap(), changed);
    let secrets = store.connections_with_secrets().await.unwrap();
    assert_eq!(secrets.len(), 2);
    let n = store
        .replace_connection_secrets(&[
            (c.id, "qv1:abc:xyz".into(), "qv1:new:zzz".into()),
            (c.id, "stale".into(), "no".into()),
        ])
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        store
            .get_connection(c.id)
            .await
            .unwrap()
            .encrypted_secret
            .as_deref(),
        Some("qv1:new:zzz")
    );
}

/// Refresh-token rotation is single-use; revoking the family revokes its tokens.
async fn refresh_tokens_rotate_once(store: Store) {
    let Seeded { admin, .. } = seed(&store).await;
    let fam = TokenFamilyId::new();
    let t1 = token(fam, admin.id, "h1");
    store.insert_refresh_token(&t1).await.unwrap();
    assert!(
        store
            .rotate_refresh_token(t1.id, &token(fam, admin.id, "h2"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate_refresh_token(t1.id, &token(fam, admin.id, "h3"))
            .await
            .unwrap()
    );
    assert!(store.find_refresh_token("h3").await.unwrap().is_none());
    store.revoke_token_family(fam).await.unwrap();
    assert!(
        store
            .find_refresh_token("h2")
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
}

/// A revocation racing a rotation can miss the token the rotation inserts (its UPDATE did
/// not see the row yet): the family still counts as revoked, so that token is refused by
/// the next rotation and by the bearer check.
async fn a_token_issued_after_its_family_was_revoked_is_refused(store: Store) {
    let Seeded { admin, .. } = seed(&store).await;
    let raced = TokenFamilyId::new();
    let old = token(raced, admin.id, "r1");
    store.insert_refresh_token(&old).await.unwrap();
    let missed = token(raced, admin.id, "r2");
    store.insert_refresh_token(&missed).await.unwrap();
    store.revoke_token_family(raced).await.unwrap();
    store
        .insert_refresh_token(&token(raced, admin.id, "r3-after-revoke"))
        .await
        .unwrap();
    let late = store
        .find_refresh_token("r3-after-revoke")
        .await
        .unwrap()
        .unwrap();
    assert!(!late.revoked);
    assert!(
        !store
            .rotate_refresh_token(late.id, &token(raced, admin.id, "r4"))
            .await
            .unwrap(),
        "a token of a revoked family is never rotated"
    );
    assert!(store.find_refresh_token("r4").await.unwrap().is_none());
    assert!(store.user_for_token(admin.id, Some(raced)).await.unwrap().1);
}

/// The bearer-token check: the user, and whether the token's family is revoked.
async fn the_bearer_check_reports_revoked_families(store: Store) {
    let Seeded { admin, .. } = seed(&store).await;
    let fam = TokenFamilyId::new();
    store
        .insert_refresh_token(&token(fam, admin.id, "h1"))
        .await
        .unwrap();
    store.revoke_token_family(fam).await.unwrap();
    let (u, revoked) = store.user_for_token(admin.id, Some(fam)).await.unwrap();
    assert_eq!((u.id, revoked), (admin.id, true));
    let live = TokenFamilyId::new();
    store
        .insert_refresh_token(&token(live, admin.id, "h-live"))
        .await
        .unwrap();
    assert!(!store.user_for_token(admin.id, Some(live)).await.unwrap().1);
    assert!(!store.user_for_token(admin.id, None).await.unwrap().1);
    assert!(
        !store
            .user_for_token(admin.id, Some(TokenFamilyId::new()))
            .await
            .unwrap()
            .1
    );
    assert!(matches!(
        store.user_for_token(UserId::new(), None).await,
        Err(StoreError::NotFound)
    ));
}

/// API clients: secrets hashed, revocation, lists per team.
async fn api_clients(store: Store) {
    let Seeded { admin, team: t } = seed(&store).await;
    let client = ApiClient {
        id: ApiClientId::new(),
        name: "etl".into(),
        team_id: t.id,
        scopes: vec![Scope::QueryRead, Scope::Admin],
        revoked: false,
        created_by: Some(admin.id),
        created_at: now_millis(),
    };
    store
        .insert_api_client(&client, "secrethash")
        .await
        .unwrap();
    assert_eq!(
        store.get_api_client(client.id).await.unwrap(),
        (client.clone(), "secrethash".to_owned())
    );
    store.revoke_api_client(client.id).await.unwrap();
    assert!(store.get_api_client(client.id).await.unwrap().0.revoked);
    assert_eq!(store.list_api_clients(&[t.id]).await.unwrap().len(), 1);
}

/// The audit log keeps entries, newest first.
async fn audit_log(store: Store) {
    store
        .append_audit(&AuditEntry {
            actor: "system".into(),
            action: "test".into(),
            target: None,
            detail: Some("d".into()),
            ip: None,
            at: now_millis(),
        })
        .await
        .unwrap();
    assert_eq!(store.recent_audit(5).await.unwrap()[0].action, "test");
}

/// Login throttling counts failures per account and per client address; a success clears the account's.
async fn login_failures_count_per_account_and_address(store: Store) {
    for _ in 0..3 {
        store.record_login_failure("bob", "10.0.0.1").await.unwrap();
    }
    store.record_login_failure("eve", "10.0.0.1").await.unwrap();
    assert_eq!(
        store
            .count_login_failures("bob", "10.0.0.1", 0)
            .await
            .unwrap(),
        (3, 4)
    );
    store.clear_login_failures("bob", 0).await.unwrap();
    assert_eq!(
        store
            .count_login_failures("bob", "10.0.0.1", 0)
            .await
            .unwrap(),
        (0, 1)
    );
}

/// The rate limit's windows: each request of a caller adds one to its window on the
/// store's clock (callers apart, and concurrent requests never lose a count); pruning
/// keeps the current window.
async fn requests_are_counted_per_caller_and_window(store: Store) {
    let first = store.count_request("user:alice").await.unwrap();
    assert!(
        first.hits >= 1 && (0..=60_000).contains(&first.remaining_ms),
        "{first:?}"
    );
    let concurrent: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_request("user:bob").await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for task in concurrent {
        seen.push(task.await.unwrap().hits);
    }
    seen.sort_unstable();
    // Eight requests in one window count 1..=8; should a minute turn meanwhile, 1..=k in
    // one and 1..=8-k in the next: never a count lost or given twice.
    let split = (0..=8).any(|k| {
        let mut want: Vec<i64> = (1..=k).chain(1..=8 - k).collect();
        want.sort_unstable();
        want == seen
    });
    assert!(split, "{seen:?}");
    store.prune_request_windows().await.unwrap();
    let after = store.count_request("user:alice").await.unwrap();
    assert!(
        after.hits == first.hits + 1 || after.hits == 1,
        "pruning keeps the current window: {first:?} then {after:?}"
    );
}

/// Settings: a key written twice keeps the last value.
async fn settings_are_upserted(store: Store) {
    store
        .put_settings(&[("max_rows_limit".into(), "500".into())])
        .await
        .unwrap();
    store
        .put_settings(&[("max_rows_limit".into(), "600".into())])
        .await
        .unwrap();
    let all = store.all_settings().await.unwrap();
    assert!(all.contains(&("max_rows_limit".to_owned(), "600".to_owned())));
}

/// Schema snapshots: one per connection, replaced on refresh, refused without a connection.
async fn schema_snapshots_are_replaced_and_need_a_connection(store: Store) {
    let (_, c) = seed_with_connection(&store).await;
    assert!(store.schema_snapshot(c.id).await.unwrap().is_none());
    assert!(store.schema_snapshot_stamp(c.id).await.unwrap().is_none());
    let mut snap = querent_domain::schema::SchemaSnapshot {
        dialect: Dialect::Postgres,
        database: Some("sales".into()),
        fingerprint: "f1".into(),
        taken_at: now_millis(),
        tables: vec![],
    };
    store.save_schema_snapshot(c.id, &snap).await.unwrap();
    let first = store.schema_snapshot_stamp(c.id).await.unwrap().unwrap();
    assert_eq!((first.key.as_str(), first.at), ("f1", snap.taken_at));
    snap.fingerprint = "f2".into();
    store.save_schema_snapshot(c.id, &snap).await.unwrap();
    assert_eq!(
        store.schema_snapshot(c.id).await.unwrap(),
        Some(snap.clone())
    );
    let second = store.schema_snapshot_stamp(c.id).await.unwrap().unwrap();
    assert_eq!(second.key, "f2");
    // The same fingerprint and time with other content (samples stripped) is another stamp.
    snap.database = Some("sales-and-more".into());
    store.save_schema_snapshot(c.id, &snap).await.unwrap();
    let third = store.schema_snapshot_stamp(c.id).await.unwrap().unwrap();
    assert_eq!((third.key.as_str(), third.at), ("f2", snap.taken_at));
    assert!(third.len > second.len, "{third:?} {second:?}");
    assert!(matches!(
        store.save_schema_snapshot(ConnectionId::new(), &snap).await,
        Err(StoreError::MissingReference(_))
    ));
}

/// Chat: sessions, messages in order, atomic status transitions, usage, cascade on delete.
/// Many chats' question and answer written at once (on SQLite they are committed in groups,
/// group.rs): every write lands and returns its own result; a write that fails (a session
/// id already taken) fails alone, and the others written with it are committed.
async fn concurrent_chat_writes_each_land_or_fail_alone(store: Store) {
    let (Seeded { admin, .. }, c) = seed_with_connection(&store).await;
    let taken = session(&store, &admin, &c).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let mut session = taken.clone();
        if i % 10 != 3 {
            session.id = SessionId::new();
        }
        tasks.push(tokio::spawn(async move {
            let mut m = message(&session, &format!("question {i}"), MessageStatus::Running);
            m.run_id = Some(RunId::new());
            let inserted = store.insert_session_with_message(&session, &m).await;
            if inserted.is_err() {
                return (session.id, m.id, inserted, None);
            }
            let mut done = m.clone();
            done.status = MessageStatus::Executed;
            let finished = store.finish_message(&done, m.run_id).await;
            // Another run's id: never overwrites.
            let stale = store.finish_message(&done, Some(RunId::new())).await;
            assert!(!stale.unwrap(), "question {i}: a newer run's write won");
            (session.id, m.id, inserted, Some(finished))
        }));
    }
    let (mut landed, mut refused) = (0, 0);
    for t in tasks {
        let (session_id, message_id, inserted, finished) = t.await.unwrap();
        match inserted {
            Err(StoreError::Conflict(_)) => {
                assert_eq!(session_id, taken.id);
                assert!(
                    store.get_message(message_id).await.is_err(),
                    "a refused write leaves nothing"
                );
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
            Ok(()) => {
                assert!(finished.unwrap().unwrap(), "the run's own write lands");
                assert_eq!(
                    store.get_message(message_id).await.unwrap().status,
                    MessageStatus::Executed
                );
                assert_eq!(store.get_session(session_id).await.unwrap().id, session_id);
                landed += 1;
            }
        }
    }
    assert_eq!((landed, refused), (36, 4));
}

async fn chat_sessions_and_messages(store: Store) {
    let (Seeded { admin, .. }, c) = seed_with_connection(&store).await;
    let session = session(&store, &admin, &c).await;
    assert_eq!(store.get_session(session.id).await.unwrap(), session);
    let m1 = message(&session, "first", MessageStatus::Executed);
    let mut m2 = message(&session, "second", MessageStatus::PendingApproval);
    store.insert_message(&m1).await.unwrap();
    store.insert_message(&m2).await.unwrap();
    assert_eq!(
        store.get_session(session.id).await.unwrap().updated_at,
        m2.created_at,
        "a new message bumps the session"
    );
    let listed = store.list_messages(session.id).await.unwrap();
    assert_eq!(listed, vec![m1.clone(), m2.clone()]);
    let pending = store
        .messages_with_status(
            &[c.team_id],
            None,
            MessageStatus::PendingApproval,
            &Page::first(10),
        )
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].1.id, m2.id);
    assert!(
        store
            .messages_with_status(
                &[TeamId::new()],
                None,
                MessageStatus::PendingApproval,
                &Page::first(10)
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .transition_message(
                m2.id,
                MessageStatus::PendingApproval,
                MessageStatus::Running,
                None
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .transition_message(
                m2.id,
                MessageStatus::PendingApproval,
                MessageStatus::Running,
                None
            )
            .await
            .unwrap(),
        "only one approval wins"
    );
    m2.status = MessageStatus::Error;
    m2.error_code = Some(querent_domain::ErrorCode::QueryError);
    m2.results = None;
    store.update_message(&m2).await.unwrap();
    let back = store.get_message(m2.id).await.unwrap();
    assert_eq!(back.status, MessageStatus::Error);
    assert_eq!(back.results, None);
    assert_eq!(
        store
            .list_sessions(&session.owner, Some(c.id), &Page::first(10))
            .await
            .unwrap(),
        vec![store.get_session(session.id).await.unwrap()]
    );
    assert!(
        store
            .list_sessions("user:someone-else", None, &Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    let usage = store.usage_rows(c.team_id, 0, i64::MAX).await.unwrap();
    assert_eq!(usage.len(), 2);
    assert!(
        usage
            .iter()
            .all(|(p, _, _, _)| p.as_deref() == Some("offline"))
    );
    assert!(store.usage_rows(c.team_id, 0, 1).await.unwrap().is_empty());
    store.delete_session(session.id).await.unwrap();
    assert!(matches!(
        store.get_message(m1.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_session(session.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Recovery of interrupted chats, on the store's clock, and runs that were overtaken.
async fn interrupted_chats_and_overtaken_runs(store: Store) {
    let (Seeded { admin, .. }, c) = seed_with_connection(&store).await;
    let session = session(&store, &admin, &c).await;
    use std::time::Duration;
    let idle = Duration::from_millis(500);
    // `running` messages nobody touched for `idle` end as interrupted; fresher ones and
    // finished ones stay as they are.
    let stale = message(&session, "stale", MessageStatus::Running);
    store.insert_message(&stale).await.unwrap();
    let done = message(&session, "done", MessageStatus::Executed);
    store.insert_message(&done).await.unwrap();
    tokio::time::sleep(idle * 2).await;
    let fresh = message(&session, "fresh", MessageStatus::Running);
    store.insert_message(&fresh).await.unwrap();
    // Written by an instance whose clock is ten minutes behind the store's: its chat is
    // not stale for that (the store stamps running messages with its own clock).
    let mut skewed = message(&session, "skewed", MessageStatus::Running);
    skewed.created_at -= 600_000;
    skewed.updated_at -= 600_000;
    store.insert_message(&skewed).await.unwrap();
    assert_eq!(
        store
            .interrupt_running_messages(
                Some(idle),
                querent_domain::ErrorCode::Interrupted,
                "stopped"
            )
            .await
            .unwrap(),
        1
    );
    let back = store.get_message(stale.id).await.unwrap();
    assert_eq!(
        (
            back.status,
            back.error_code.map(|c| c.as_str()),
            back.error_detail.as_deref(),
            back.run_id
        ),
        (
            MessageStatus::Error,
            Some("interrupted"),
            Some("stopped"),
            stale.run_id
        ),
        "the mark leaves the run as it was"
    );
    for id in [fresh.id, skewed.id] {
        assert_eq!(
            store.get_message(id).await.unwrap().status,
            MessageStatus::Running
        );
    }
    assert_eq!(
        store.get_message(done.id).await.unwrap().status,
        MessageStatus::Executed
    );
    // Far in the past by the skewed writer's clock, five minutes is still not reached.
    assert_eq!(
        store
            .interrupt_running_messages(
                Some(Duration::from_secs(300)),
                querent_domain::ErrorCode::Interrupted,
                "stopped"
            )
            .await
            .unwrap(),
        0
    );
    // A heartbeat keeps a message fresh, only for the run that owns it.
    tokio::time::sleep(idle * 2).await;
    assert!(
        store
            .heartbeat_message(fresh.id, fresh.run_id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .heartbeat_message(fresh.id, Some(RunId::new()))
            .await
            .unwrap()
    );
    assert!(!store.heartbeat_message(done.id, done.run_id).await.unwrap());
    assert_eq!(
        store
            .interrupt_running_messages(
                Some(idle),
                querent_domain::ErrorCode::Interrupted,
                "stopped"
            )
            .await
            .unwrap(),
        1,
        "only the skewed one, which had no heartbeat"
    );
    assert_eq!(
        store.get_message(fresh.id).await.unwrap().status,
        MessageStatus::Running
    );
    assert_eq!(
        store
            .interrupt_running_messages(None, querent_domain::ErrorCode::Interrupted, "stopped")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.get_message(fresh.id).await.unwrap().status,
        MessageStatus::Error
    );

    // A run marked interrupted by mistake still writes its real outcome…
    let mut live = stale.clone();
    live.status = MessageStatus::Executed;
    live.error_code = None;
    live.error_detail = None;
    assert!(store.finish_message(&live, stale.run_id).await.unwrap());
    assert_eq!(
        store.get_message(stale.id).await.unwrap().status,
        MessageStatus::Executed
    );
    // …but once someone edited the message (a new run took it over), the old run's final
    // write lands nowhere, whatever it carries.
    let old = fresh.clone();
    let edit_run = RunId::new();
    assert!(
        store
            .transition_message(
                old.id,
                MessageStatus::Error,
                MessageStatus::PendingApproval,
                Some(edit_run)
            )
            .await
            .unwrap()
    );
    let mut edited = store.get_message(old.id).await.unwrap();
    assert_eq!(edited.run_id, Some(edit_run));
    edited.sql = Some("SELECT 2".into());
    edited.error_code = None;
    edited.error_detail = None;
    store.update_message(&edited).await.unwrap();
    let mut stale_write = old.clone();
    stale_write.status = MessageStatus::Executed;
    stale_write.sql = Some("SELECT 1".into());
    assert!(
        !store
            .finish_message(&stale_write, old.run_id)
            .await
            .unwrap()
    );
    let now = store.get_message(old.id).await.unwrap();
    assert_eq!(
        (now.status, now.sql.as_deref(), now.run_id),
        (
            MessageStatus::PendingApproval,
            Some("SELECT 2"),
            Some(edit_run)
        )
    );
    // The new run's own final write lands.
    let mut approved = now.clone();
    approved.status = MessageStatus::Executed;
    assert!(
        store
            .finish_message(&approved, Some(edit_run))
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_message(old.id).await.unwrap().status,
        MessageStatus::Executed
    );
    // Messages stored before runs existed have none; their writers match on that.
    let mut legacy = message(&session, "legacy", MessageStatus::Executed);
    legacy.run_id = None;
    store.insert_message(&legacy).await.unwrap();
    assert!(store.finish_message(&legacy, None).await.unwrap());
    assert!(
        !store
            .finish_message(&legacy, Some(RunId::new()))
            .await
            .unwrap()
    );
}

/// Providers: unique names per team, one default per team, keys for rotation.
async fn providers(store: Store) {
    let (Seeded { admin, .. }, c) = seed_with_connection(&store).await;
    let provider = |name: &str, default: bool| querent_domain::providers::ProviderConfig {
        id: ProviderId::new(),
        team_id: c.team_id,
        name: name.into(),
        kind: ProviderKind::Openai,
        base_url: Some("http://127.0.0.1:11434/v1".into()),
        model: Some("llama3".into()),
        encrypted_api_key: Some(format!("qv1:k:{name}")),
        options: Default::default(),
        is_default: default,
        created_by: Some(admin.id),
        created_at: now_millis(),
        updated_at: now_millis(),
    };
    let p1 = provider("local", true);
    let mut p2 = provider("groq", true);
    store.insert_provider(&p1).await.unwrap();
    store.insert_provider(&p2).await.unwrap();
    assert!(matches!(
        store.insert_provider(&provider("local", false)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.default_provider(c.team_id).await.unwrap().unwrap().id,
        p2.id
    );
    assert!(!store.get_provider(p1.id).await.unwrap().is_default);
    assert_eq!(
        store
            .find_provider(c.team_id, "local")
            .await
            .unwrap()
            .unwrap()
            .id,
        p1.id
    );
    assert!(
        store
            .find_provider(c.team_id, "nope")
            .await
            .unwrap()
            .is_none()
    );
    p2.is_default = false;
    p2.options.max_tokens = Some(77);
    store.update_provider(&p2).await.unwrap();
    assert_eq!(store.get_provider(p2.id).await.unwrap(), p2);
    assert!(store.default_provider(c.team_id).await.unwrap().is_none());
    assert_eq!(
        store
            .list_providers(&[c.team_id], &Page::first(10))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.provider_keys().await.unwrap().len(), 2);
    assert_eq!(
        store
            .replace_provider_keys(&[(p1.id, "qv1:k:local".into(), "qv1:k2:local".into())])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .get_provider(p1.id)
            .await
            .unwrap()
            .encrypted_api_key
            .as_deref(),
        Some("qv1:k2:local")
    );
    store.delete_provider(p1.id).await.unwrap();
    assert!(matches!(
        store.delete_provider(p1.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Deleting a team cascades to its connections and memberships; connections and users delete.
async fn deleting_a_team_cascades(store: Store) {
    let (_, c) = seed_with_connection(&store).await;
    let bob = user("bob", Role::Member);
    store.insert_user(&bob, "bobhash").await.unwrap();
    let t2 = team("Analytics");
    store.insert_team(&t2, Some(bob.id)).await.unwrap();
    store
        .insert_connection(&connection(t2.id, "warehouse"))
        .await
        .unwrap();
    store.delete_team(t2.id).await.unwrap();
    assert_eq!(
        store
            .list_connections(&[t2.id], &Page::first(10))
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(store.memberships_of(bob.id).await.unwrap().is_empty());
    store.delete_connection(c.id).await.unwrap();
    assert!(matches!(
        store.get_connection(c.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_user(bob.id).await.unwrap();
}

/// Cache entries, counters and verified examples (store/learning.rs).
async fn cache_entries_counters_and_examples(store: Store) {
    let (Seeded { team: t, .. }, c) = seed_with_connection(&store).await;
    learning::suite(&store, t.id, c.id).await;
}

/// Semantic models (store/semantic.rs).
async fn semantic_models_keep_every_version(store: Store) {
    semantic::suite(&store).await;
}

/// The store answers pings, reports its size, and migrating again runs nothing.
async fn health_and_idempotent_migrations(store: Store) {
    seed(&store).await;
    store.ping().await.unwrap();
    assert!(store.health().size > 0);
    assert_eq!(
        store.migrate().await.unwrap(),
        0,
        "migrations are idempotent"
    );
}

/// Several instances starting at once on one fresh PostgreSQL store migrate it once: the
/// migrations run under an advisory lock, so one instance applies every migration and the
/// others, waiting for the lock, find nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_starts_migrate_a_postgres_store_once() {
    fixture::on_empty_postgres_database(|url| async move {
        let starts = (0..6).map(|_| {
            let config = querent_store::StoreConfig::postgres(url.clone());
            tokio::spawn(async move { Store::connect(config).unwrap().migrate().await })
        });
        let mut ran = Vec::new();
        for start in futures_util::future::join_all(starts).await {
            ran.push(start.unwrap().expect("every simultaneous start succeeds"));
        }
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let applied: i64 = client
            .query_one("SELECT count(*) FROM __diesel_schema_migrations", &[])
            .await
            .unwrap()
            .get(0);
        assert!(applied > 0);
        assert_eq!(ran.iter().sum::<usize>() as i64, applied, "{ran:?}");
        assert_eq!(
            ran.iter().filter(|&&n| n > 0).count(),
            1,
            "one instance migrates, the others find nothing to do: {ran:?}"
        );
    })
    .await;
}

/// A pooled PostgreSQL connection is handed out without a test query; one whose backend
/// ended while it sat in the pool (`pg_terminate_backend`, as a restart or failover would)
/// costs no failed call: the unit of work runs again on a live connection. Every backend
/// of the store is ended three times, each time with the pool full of idle connections,
/// and each time reads, writes, a transaction and the rate limit's upsert, several at
/// once, all succeed. The runtime has one thread, blocked while the backends are ended,
/// so the pool's connections cannot have seen their end before they are handed out (the
/// case the test query used to catch).
#[tokio::test(flavor = "current_thread")]
async fn lost_postgres_connections_fail_no_call() {
    /// Ends every other backend of the database and waits until they are gone, on a
    /// thread of its own while the caller's runtime stands still.
    fn end_backends(url: &str) -> i64 {
        let url = url.to_owned();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                let others = "FROM pg_stat_activity \
                    WHERE datname = current_database() AND pid <> pg_backend_pid()";
                let ended: i64 = client
                    .query_one(
                        &format!(
                            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) {others}) AS t"
                        ),
                        &[],
                    )
                    .await
                    .unwrap()
                    .get(0);
                for _ in 0..500 {
                    let left: i64 = client
                        .query_one(&format!("SELECT count(*) {others}"), &[])
                        .await
                        .unwrap()
                        .get(0);
                    if left == 0 {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                ended
            })
        })
        .join()
        .unwrap()
    }

    fixture::on_empty_postgres_database(|url| async move {
        let mut config = querent_store::StoreConfig::postgres(url.clone());
        config.max_connections = 4;
        let store = Store::open(config).await.unwrap();
        let (Seeded { admin, .. }, c) = seed_with_connection(&store).await;
        for round in 0..3 {
            // Fill the pool: four units of work at once take four connections.
            let warm = (0..4).map(|_| store.get_user(admin.id));
            for r in futures_util::future::join_all(warm).await {
                r.unwrap();
            }
            assert!(
                end_backends(&url) >= 1,
                "round {round}: the pool's backends are ended"
            );
            let s = ChatSession {
                id: SessionId::new(),
                team_id: c.team_id,
                connection_id: c.id,
                owner: format!("user:{}", admin.id),
                title: format!("round {round}"),
                created_at: now_millis(),
                updated_at: now_millis(),
            };
            let mut m = message(&s, "how many?", MessageStatus::Running);
            m.run_id = Some(RunId::new());
            // (A caller of its own: a write runs once, so its first window counts one.)
            let caller = format!("user:round-{round}-{}", SessionId::new());
            let (user, window, inserted, read) = tokio::join!(
                store.user_for_token(admin.id, None),
                store.count_request(&caller),
                store.insert_session_with_message(&s, &m),
                store.get_connection(c.id),
            );
            assert_eq!(user.unwrap().0.id, admin.id, "round {round}");
            assert_eq!(window.unwrap().hits, 1, "round {round}: counted once");
            inserted.unwrap();
            assert_eq!(read.unwrap().id, c.id, "round {round}");
            m.status = MessageStatus::Executed;
            assert!(
                store.finish_message(&m, m.run_id).await.unwrap(),
                "round {round}"
            );
            assert_eq!(
                store.get_message(m.id).await.unwrap().status,
                MessageStatus::Executed,
                "round {round}: the writes landed once"
            );
        }
    })
    .await;
}

/// WAL mode is on for the embedded store.
#[tokio::test]
async fn sqlite_store_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("querent.db");
    let store = Store::open(querent_store::StoreConfig::sqlite(&path))
        .await
        .unwrap();
    seed(&store).await;
    assert!(dir.path().join("querent.db-wal").exists());
}
