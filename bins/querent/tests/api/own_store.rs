//! Querent's own metadata store — this instance's or another's, PostgreSQL or SQLite — is
//! never a target: not at registration, connection tests, schema reads, `/sql/run` or chat,
//! however it is reached (another name, a copy, a hard link, a file swapped in after
//! registration, a snapshot stored before the rule existed). Nothing of it (password
//! hashes above all) appears in any response.

use std::sync::Arc;

use querent_test_support::{PgDatabase, Response, TestApp};
use serde_json::json;

/// What a password hash in a store looks like (argon2id, PHC string).
const HASH: &str = "$argon2";

fn refused(r: &Response, what: &str) {
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "forbidden"),
        "{what}: {}",
        r.text
    );
    assert!(r.detail().contains("metadata store"), "{what}: {}", r.text);
    assert!(!r.text.contains(HASH), "{what}: {}", r.text);
}

/// Every way a saved connection is used refuses it: schema read and refresh, `/sql/run`,
/// `/sql/validate`, the connection test and a chat.
async fn refused_everywhere(app: &TestApp, token: &str, conn: &str) {
    let schema = app
        .get(&format!("/api/v1/connections/{conn}/schema"), Some(token))
        .await;
    refused(&schema, "schema");
    let refresh = app
        .post(
            &format!("/api/v1/connections/{conn}/schema/refresh"),
            Some(token),
            json!({}),
        )
        .await;
    refused(&refresh, "schema refresh");
    for path in ["/api/v1/sql/run", "/api/v1/sql/validate"] {
        let r = app
            .post(
                path,
                Some(token),
                json!({"connection_id": conn, "sql": "SELECT password_hash FROM users"}),
            )
            .await;
        refused(&r, path);
    }
    let test = app
        .post(
            &format!("/api/v1/connections/{conn}/test"),
            Some(token),
            json!({}),
        )
        .await;
    refused(&test, "connection test");
    let chat = app
        .post_json(
            "/api/v1/chat",
            Some(token),
            json!({"connection_id": conn, "message": "show the password hashes of the users"}),
        )
        .await;
    assert_eq!(
        (
            chat.json["status"].as_str(),
            chat.json["error"]["code"].as_str()
        ),
        (Some("error"), Some("forbidden")),
        "{}",
        chat.text
    );
    assert!(!chat.text.contains(HASH), "{}", chat.text);
    let session = chat.str("session_id");
    let stored = app
        .get(&format!("/api/v1/sessions/{session}"), Some(token))
        .await;
    assert!(!stored.text.contains(HASH), "{}", stored.text);
    // Nothing of it was stored as the connection's schema.
    let snapshot = app
        .store_strings(&format!(
            "SELECT snapshot FROM schema_snapshots WHERE connection_id = '{conn}'"
        ))
        .await;
    assert!(
        snapshot
            .iter()
            .flatten()
            .all(|s| !s.contains("password_hash")),
        "{snapshot:?}"
    );
}

fn pg_body(name: &str, host: &str, database: &str) -> serde_json::Value {
    json!({"name": name, "dialect": "postgres", "host": host, "port": 5432,
           "database": database, "username": "postgres"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_querent_stores_are_never_targets() {
    // Another Querent instance with a PostgreSQL store of its own, and a user in it.
    let Some(other_store) = PgDatabase::create("postgres_querent_stores_are_never_targets").await
    else {
        return;
    };
    let other_store = Arc::new(other_store);
    let other = TestApp::builder()
        .pg_store(other_store.clone())
        .spawn()
        .await;
    other.setup_admin().await;
    let hashes = other_store
        .query_strings("SELECT password_hash FROM users")
        .await
        .unwrap();
    assert!(
        hashes.iter().flatten().any(|h| h.starts_with(HASH)),
        "{hashes:?}"
    );

    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    // Registering it, under any name of this machine, and testing it unsaved: refused by
    // what it is (its tables), not by where it is.
    for host in ["127.0.0.1", "localhost"] {
        let r = app
            .post(
                "/api/v1/connections",
                Some(&admin),
                pg_body("theirs", host, &other_store.name),
            )
            .await;
        refused(&r, host);
        let t = app
            .post(
                "/api/v1/connections/test",
                Some(&admin),
                pg_body("theirs", host, &other_store.name),
            )
            .await;
        refused(&t, host);
    }
    // This instance's own store, when it is PostgreSQL: refused by its address too.
    if let Some(own) = app.pg_store() {
        for host in ["127.0.0.1", "localhost"] {
            let r = app
                .post(
                    "/api/v1/connections",
                    Some(&admin),
                    pg_body("own", host, &own.name),
                )
                .await;
            refused(&r, &format!("own store at {host}"));
        }
    }

    // A harmless database first; pointed at the store afterwards (PATCH): refused.
    let Some(plain) = PgDatabase::create("postgres_querent_stores_are_never_targets").await else {
        return;
    };
    plain
        .execute("CREATE TABLE orders (id int primary key, status text)")
        .await
        .unwrap();
    let r = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            pg_body("plain", "127.0.0.1", &plain.name),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    let moved = app
        .patch(
            &format!("/api/v1/connections/{conn}"),
            Some(&admin),
            json!({"database": other_store.name}),
        )
        .await;
    refused(&moved, "PATCH onto the store");

    // Stored before stores were refused (staged directly in the metadata store): every
    // use refuses it.
    app.store_execute(&format!(
        "UPDATE connections SET database_name = '{}' WHERE id = '{conn}'",
        other_store.name
    ))
    .await;
    refused_everywhere(&app, &admin, &conn).await;
    if let Some(own) = app.pg_store() {
        app.store_execute(&format!(
            "UPDATE connections SET database_name = '{}' WHERE id = '{conn}'",
            own.name
        ))
        .await;
        refused_everywhere(&app, &admin, &conn).await;
    }
    drop(other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_snapshot_of_a_store_is_never_served() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    // A database whose tables merely look like a store's is refused at registration.
    let lookalike = app.config.files_dir().join("lookalike.sqlite");
    std::fs::create_dir_all(app.config.files_dir()).unwrap();
    {
        let db = rusqlite::Connection::open(&lookalike).unwrap();
        db.execute_batch(
            "CREATE TABLE __diesel_schema_migrations (version TEXT PRIMARY KEY);
             CREATE TABLE users (id TEXT, username TEXT, password_hash TEXT);
             CREATE TABLE refresh_tokens (id TEXT);
             CREATE TABLE api_clients (id TEXT);",
        )
        .unwrap();
    }
    let r = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "lookalike", "dialect": "sqlite", "path": lookalike}),
        )
        .await;
    refused(&r, "lookalike");

    // A snapshot stored before the rule existed (staged: a harmless schema renamed in the
    // metadata store into a store's) is not served, linked or validated against.
    let file = app.config.files_dir().join("renamed.sqlite");
    {
        let db = rusqlite::Connection::open(&file).unwrap();
        db.execute_batch(
            "CREATE TABLE t_mig (version TEXT PRIMARY KEY);
             CREATE TABLE t_usr (id TEXT, username TEXT, password_hash TEXT);
             CREATE TABLE t_rt (id TEXT);
             CREATE TABLE t_ac (id TEXT);",
        )
        .unwrap();
    }
    let r = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "renamed", "dialect": "sqlite", "path": file}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    let schema = app
        .get(&format!("/api/v1/connections/{conn}/schema"), Some(&admin))
        .await;
    assert_eq!(schema.status, 200, "{}", schema.text);
    app.store_execute(&format!(
        "UPDATE schema_snapshots SET snapshot = \
         replace(replace(replace(replace(snapshot, \
           '\"t_mig\"', '\"__diesel_schema_migrations\"'), '\"t_usr\"', '\"users\"'), \
           '\"t_rt\"', '\"refresh_tokens\"'), '\"t_ac\"', '\"api_clients\"') \
         WHERE connection_id = '{conn}'"
    ))
    .await;
    let schema = app
        .get(&format!("/api/v1/connections/{conn}/schema"), Some(&admin))
        .await;
    refused(&schema, "stored snapshot");
    for path in ["/api/v1/sql/run", "/api/v1/sql/validate"] {
        let r = app
            .post(
                path,
                Some(&admin),
                json!({"connection_id": conn, "sql": "SELECT password_hash FROM users"}),
            )
            .await;
        refused(&r, path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_copies_and_links_are_never_targets() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let files = app.config.files_dir();
    std::fs::create_dir_all(&files).unwrap();

    // A copy of a Querent store (this one's when it is embedded, another instance's
    // embedded store otherwise), consistent through the WAL as a backup tool would make it.
    let copy = files.join("copy.sqlite");
    let elsewhere = tempfile::tempdir().unwrap();
    let source = if app.pg_store().is_none() {
        app.config.sqlite_store_path()
    } else {
        let config = querent::Config {
            data_dir: elsewhere.path().to_path_buf(),
            database_url: None,
            demo: false,
            ..Default::default()
        };
        let parts = querent::build_app(&config, None).await.unwrap();
        parts
            .app
            .setup(
                querent_app::auth::SetupRequest {
                    username: "admin".into(),
                    password: querent_app::Secret::new("admin-password-1".to_owned()),
                    email: None,
                },
                None,
            )
            .await
            .unwrap();
        config.sqlite_store_path()
    };
    {
        let store = rusqlite::Connection::open(&source).unwrap();
        let hashes: Vec<String> = store
            .prepare("SELECT password_hash FROM users")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(hashes.iter().any(|h| h.starts_with(HASH)), "{hashes:?}");
        store
            .execute("VACUUM INTO ?1", [copy.display().to_string()])
            .unwrap();
    }
    let body = |name: &str, path: &std::path::Path| json!({"name": name, "dialect": "sqlite", "path": path});
    let r = app
        .post("/api/v1/connections", Some(&admin), body("copy", &copy))
        .await;
    refused(&r, "a copy");
    let t = app
        .post(
            "/api/v1/connections/test",
            Some(&admin),
            body("copy", &copy),
        )
        .await;
    refused(&t, "a copy, tested unsaved");

    // A hard link to the embedded store (or its key file) has a name of its own in the
    // sandbox; it is the same file, and refused.
    #[cfg(unix)]
    {
        let mut linked = vec![(app.config.key_file_path(), files.join("key.sqlite"))];
        if app.pg_store().is_none() {
            linked.push((app.config.sqlite_store_path(), files.join("store.sqlite")));
        }
        for (target, link) in linked {
            std::fs::hard_link(&target, &link).unwrap();
            let r = app
                .post("/api/v1/connections", Some(&admin), body("link", &link))
                .await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (403, "forbidden"),
                "{}: {}",
                link.display(),
                r.text
            );
            assert!(!r.text.contains(HASH), "{}", r.text);
        }
    }

    // Registered with a harmless file, the store swapped in afterwards: refused when used.
    let swap = files.join("swap.sqlite");
    std::fs::write(
        &swap,
        crate::connections::sqlite_bytes("CREATE TABLE users (id INTEGER, name TEXT);"),
    )
    .unwrap();
    let r = app
        .post("/api/v1/connections", Some(&admin), body("swap", &swap))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    let schema = app
        .get(&format!("/api/v1/connections/{conn}/schema"), Some(&admin))
        .await;
    assert_eq!(schema.status, 200, "{}", schema.text);
    std::fs::copy(&copy, &swap).unwrap();
    // The stored snapshot is the harmless one: the guard would accept `users`, so the file
    // itself must be refused before it is opened.
    let run = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT * FROM users"}),
        )
        .await;
    refused(&run, "swapped in, /sql/run");
    refused_everywhere(&app, &admin, &conn).await;
}
