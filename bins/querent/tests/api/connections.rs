//! Connections against real targets: PostgreSQL, MariaDB and SQLite; secrets never leak.

use querent_test_support::{MysqlDatabase, PgDatabase, TestApp};
use serde_json::json;

use crate::isolation::sqlite_target;

const SECRET: &str = "s3cr3t-Hunter2-xyzzy";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_is_tested_for_real_and_its_password_never_leaks() {
    let Some(db) = PgDatabase::create("postgres_connection_test").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let body = json!({"name": "warehouse", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
        "database": db.name, "username": "postgres", "password": SECRET, "description": "sales"});

    let unsaved = app
        .post("/api/v1/connections/test", Some(&admin), body.clone())
        .await;
    assert_eq!(unsaved.status, 200, "{}", unsaved.text);
    assert_eq!(unsaved.json["ok"], true, "{}", unsaved.text);
    assert!(unsaved.str("server_version").contains("PostgreSQL"));

    let created = app.post("/api/v1/connections", Some(&admin), body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["has_password"], true);
    assert!(created.json.get("password").is_none());
    let id = created.str("id");
    let mut seen = vec![created.text.clone()];

    let tested = app
        .post(
            &format!("/api/v1/connections/{id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(tested.json["ok"], true, "{}", tested.text);
    seen.push(tested.text);
    seen.push(
        app.get(&format!("/api/v1/connections/{id}"), Some(&admin))
            .await
            .text,
    );
    seen.push(app.get("/api/v1/connections", Some(&admin)).await.text);
    let upd = app
        .patch(
            &format!("/api/v1/connections/{id}"),
            Some(&admin),
            json!({"description": "sales dw", "password": SECRET}),
        )
        .await;
    assert_eq!(upd.status, 200, "{}", upd.text);
    seen.push(upd.text);
    for (path, body) in [
        ("execution-mode", json!({"mode": "review_first"})),
        (
            "privacy",
            json!({"excluded_tables": ["salaries"], "excluded_columns": ["users.ssn"], "masked_column_patterns": ["*email*"]}),
        ),
        (
            "config",
            json!({"statement_timeout_ms": 5000, "max_rows": 250}),
        ),
    ] {
        let r = app
            .put(
                &format!("/api/v1/connections/{id}/{path}"),
                Some(&admin),
                body,
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        seen.push(r.text);
    }
    let after = app
        .get(&format!("/api/v1/connections/{id}"), Some(&admin))
        .await;
    assert_eq!(after.json["execution_mode"], "review_first");
    assert_eq!(after.json["privacy"]["excluded_tables"][0], "salaries");
    assert_eq!(after.json["config"]["max_rows"], 250);
    seen.push(app.get("/api/v1/audit", Some(&admin)).await.text);
    for text in &seen {
        assert!(
            !text.contains(SECRET),
            "password leaked in a response: {text}"
        );
    }

    // Not in plain text in the store either.
    if let Some(store) = app.pg_store() {
        let stored = store
            .query_strings("SELECT encrypted_secret FROM connections")
            .await
            .unwrap();
        assert!(
            stored
                .iter()
                .flatten()
                .all(|s| s.starts_with("qv1:") && !s.contains(SECRET))
        );
    } else {
        let files = app.store_files();
        assert!(!files.is_empty());
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "password in plain text in {}",
                f.display()
            );
        }
        let key = std::fs::read_to_string(app.config.key_file_path()).unwrap();
        assert!(!key.contains(SECRET));
    }

    // A wrong database name is a clear error, not a 500.
    let bad = app
        .patch(
            &format!("/api/v1/connections/{id}"),
            Some(&admin),
            json!({"database": "no_such_db_here"}),
        )
        .await;
    assert_eq!(bad.status, 200);
    let failed = app
        .post(
            &format!("/api/v1/connections/{id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.json["ok"], false);
    assert_eq!(failed.json["error"]["code"], "connection_error");
    assert!(
        failed.json["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("no_such_db_here"),
        "{}",
        failed.text
    );
    assert_eq!(
        app.delete(&format!("/api/v1/connections/{id}"), Some(&admin))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v1/connections/{id}"), Some(&admin))
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_and_unreachable_targets() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    if let Some(db) = MysqlDatabase::create("mariadb_connection_test").await {
        let r = app
            .post("/api/v1/connections/test", Some(&admin),
                json!({"dialect": "mysql", "host": "127.0.0.1", "database": db.name, "username": "root"}))
            .await;
        assert_eq!(r.json["ok"], true, "{}", r.text);
        assert!(!r.str("server_version").is_empty());
        let wrong = app
            .post("/api/v1/connections/test", Some(&admin),
                json!({"dialect": "mysql", "host": "127.0.0.1", "database": "no_such_db_x", "username": "root"}))
            .await;
        assert_eq!(wrong.json["ok"], false);
        assert_eq!(wrong.json["error"]["code"], "connection_error");
    }
    // A port nobody listens on: a clear error within the connect timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let down = app
        .post("/api/v1/connections/test", Some(&admin),
            json!({"dialect": "postgres", "host": "127.0.0.1", "port": port, "database": "x", "username": "y", "password": SECRET}))
        .await;
    assert_eq!(down.status, 200);
    assert_eq!(
        (
            down.json["ok"].as_bool(),
            down.json["error"]["code"].as_str()
        ),
        (Some(false), Some("connection_error"))
    );
    assert!(!down.text.contains(SECRET));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_are_checked_and_querents_own_files_refused() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite_target(dir.path());
    let r = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "local", "dialect": "sqlite", "path": path}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let t = app
        .post(
            &format!("/api/v1/connections/{}/test", r.str("id")),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(t.json["ok"], true, "{}", t.text);
    assert!(t.str("server_version").starts_with("SQLite"));

    let dup = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "local", "dialect": "sqlite", "path": path}),
        )
        .await;
    assert_eq!((dup.status, dup.code().as_str()), (409, "conflict"));
    let missing = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "m", "dialect": "sqlite", "path": "/no/such/file.db"}),
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.detail().starts_with("path"));
    let with_host = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "h", "dialect": "sqlite", "path": path, "host": "x"}),
        )
        .await;
    assert_eq!(with_host.status, 422);
    if app.pg_store().is_none() {
        let own = app.config.sqlite_store_path().display().to_string();
        let r = app
            .post(
                "/api/v1/connections",
                Some(&admin),
                json!({"name": "own", "dialect": "sqlite", "path": own}),
            )
            .await;
        assert_eq!(
            r.status, 403,
            "the metadata store must never become a target: {}",
            r.text
        );
    }
    let key = app.config.key_file_path().display().to_string();
    let r = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "key", "dialect": "sqlite", "path": key}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}
