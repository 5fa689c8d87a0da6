//! The `querent` command line: migrate, admin create-user, admin rotate-key.

use std::process::Command;

use querent_test_support::TestApp;

use crate::served::Served;
use serde_json::json;

fn querent(
    data_dir: &std::path::Path,
    args: &[&str],
    database_url: Option<&str>,
) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_querent"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("QUERENT_DATABASE_URL")
        .env_remove("QUERENT_MASTER_KEY");
    if let Some(url) = database_url {
        cmd.env("QUERENT_DATABASE_URL", url);
    }
    let out = cmd.output().expect("run querent");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_create_user_from_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = querent(dir.path(), &["migrate"], None);
    assert!(ok, "{out}");
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/sqlite"
    ))
    .unwrap()
    .count();
    assert!(
        out.contains(&format!("migrations applied: {migrations}")),
        "{out}"
    );
    let (ok, out) = querent(dir.path(), &["migrate"], None);
    assert!(ok && out.contains("migrations applied: 0"), "{out}");
    let (ok, out) = querent(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--username",
            "root-admin",
            "--password",
            "terminal-pass",
        ],
        None,
    );
    assert!(ok && out.contains("created admin"), "{out}");
    let (ok, out) = querent(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--username",
            "ann",
            "--password",
            "short",
        ],
        None,
    );
    assert!(!ok && out.contains("password"), "{out}");
    let (ok, out) = querent(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--username",
            "ann",
            "--password",
            "ann-password",
        ],
        None,
    );
    assert!(ok && out.contains("created member"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_reencrypts_stored_secrets() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let path = crate::isolation::sqlite_target(&app);
    // A postgres connection with a password (never reached: only its secret matters here).
    let pg = app
        .post("/api/v1/connections", Some(&admin),
            json!({"name": "pg", "dialect": "postgres", "host": "127.0.0.1", "database": "test", "username": "postgres", "password": "rotate-me-pw"}))
        .await;
    assert_eq!(pg.status, 201, "{}", pg.text);
    let lite = app
        .post(
            "/api/v1/connections",
            Some(&admin),
            json!({"name": "lite", "dialect": "sqlite", "path": path}),
        )
        .await;
    assert_eq!(lite.status, 201);
    let key_before = std::fs::read_to_string(app.config.key_file_path()).unwrap();
    app.stop().await;

    let db_url = app.config.database_url.clone();
    let (ok, out) = querent(&app.data_dir, &["admin", "rotate-key"], db_url.as_deref());
    assert!(ok, "{out}");
    assert!(out.contains("1 stored secrets re-encrypted"), "{out}");
    let key_after = std::fs::read_to_string(app.config.key_file_path()).unwrap();
    assert_ne!(key_before, key_after);
    assert_eq!(
        key_after.lines().filter(|l| !l.starts_with('#')).count(),
        1,
        "the old key is dropped once everything is re-encrypted"
    );

    // Restarted on the new key: stored secrets still decrypt, old tokens are refused.
    let app = app.restart().await;
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&admin)).await.status,
        401,
        "tokens signed with the old key are dead"
    );
    let admin = app
        .login("admin", "admin-password-1")
        .await
        .str("access_token");
    let t = app
        .post(
            &format!("/api/v1/connections/{}/test", pg.str("id")),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(t.status, 200);
    assert_ne!(
        t.json["error"]["detail"]
            .as_str()
            .map(|d| d.contains("internal")),
        Some(true),
        "{}",
        t.text
    );
    let patched = app
        .patch(
            &format!("/api/v1/connections/{}", pg.str("id")),
            Some(&admin),
            json!({"description": "after rotation"}),
        )
        .await;
    assert_eq!(patched.json["has_password"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_database_is_registered_at_setup_and_by_querent_demo() {
    // First boot with a generated demo database: setup registers it.
    let dir = tempfile::tempdir().unwrap();
    let anchor = time::OffsetDateTime::now_utc().date();
    querent::demo::generate(&dir.path().join("demo.sqlite"), anchor).unwrap();
    let app = TestApp::builder().data_dir(dir.path()).spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let list = app.get("/api/v1/connections", Some(&admin)).await;
    assert_eq!(list.json["items"][0]["name"], "demo", "{}", list.text);
    let id = list.json["items"][0]["id"].as_str().unwrap().to_owned();
    let t = app
        .post(
            &format!("/api/v1/connections/{id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(t.json["ok"], true, "{}", t.text);

    // Its schema: read on first use, stored, stable on refresh.
    let schema = app
        .get(&format!("/api/v1/connections/{id}/schema"), Some(&admin))
        .await;
    assert_eq!(schema.status, 200, "{}", schema.text);
    let tables: Vec<&str> = schema.json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for want in [
        "categories",
        "customers",
        "departments",
        "employees",
        "order_items",
        "orders",
        "products",
    ] {
        assert!(tables.contains(&want), "{want} missing from {tables:?}");
    }
    let orders = schema.json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .unwrap();
    assert!(
        orders["foreign_keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|fk| fk["referenced_table"] == "customers"),
        "{orders}"
    );
    let status = orders["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "status")
        .unwrap();
    assert!(
        status["sample_values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "delivered"),
        "{status}"
    );
    let refreshed = app
        .post(
            &format!("/api/v1/connections/{id}/schema/refresh"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_eq!(refreshed.json["fingerprint"], schema.json["fingerprint"]);
    drop(app);

    // `querent demo` on a server that has a team but no demo yet.
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = querent(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--username",
            "admin",
            "--password",
            "admin-password-1",
        ],
        None,
    );
    assert!(ok, "{out}");
    let (ok, out) = querent(dir.path(), &["demo"], None);
    assert!(
        ok && out.contains("registered as connection `demo`"),
        "{out}"
    );
    assert!(out.contains("orders"), "{out}");
    let (ok, out) = querent(dir.path(), &["demo"], None);
    assert!(
        ok && out.contains("already registered"),
        "registered once: {out}"
    );
}

/// Some requests (each logs a `request` line at INFO), then a pause for the log lines.
async fn some_requests(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let r = client.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_log_level_wins_over_the_stored_one_and_an_admin_changes_it_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let warn = [("QUERENT_LOG_LEVEL", "warn")];

    // A fresh data directory with QUERENT_LOG_LEVEL=warn: no INFO line, also after an
    // administrator changed another setting and after a restart.
    let s = Served::start(&data, &warn);
    let client = reqwest::Client::new();
    let setup: serde_json::Value = client
        .post(format!("{}/api/v1/auth/setup", s.base))
        .json(&json!({"username": "admin", "password": "a-long-enough-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = setup["access_token"].as_str().unwrap().to_owned();
    let patch = |base: &str, body: serde_json::Value| {
        client
            .patch(format!("{base}/api/v1/settings"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = patch(&s.base, json!({"rate_limit_per_minute": 1000}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    some_requests(&s.base).await;
    assert_eq!(s.info_lines(), 0, "{:?}", s.output());
    drop(s);
    let s = Served::start(&data, &warn);
    some_requests(&s.base).await;
    assert_eq!(s.info_lines(), 0, "{:?}", s.output());

    // The run-time layer: an administrator's PATCH changes the running level at once...
    let r = patch(&s.base, json!({"log_level": "info"})).await.unwrap();
    assert_eq!(r.status(), 200);
    some_requests(&s.base).await;
    assert!(s.info_lines() >= 3, "{:?}", s.output());
    drop(s);
    // ...and is what a server without a configured level starts with...
    let s = Served::start(&data, &[]);
    some_requests(&s.base).await;
    assert!(s.info_lines() >= 3, "{:?}", s.output());
    let r = patch(&s.base, json!({"log_level": "error"})).await.unwrap();
    assert_eq!(r.status(), 200);
    drop(s);
    let s = Served::start(&data, &[]);
    // The stored level applies once the store is open: lines of the start itself may
    // come before it.
    let started = s.info_lines();
    some_requests(&s.base).await;
    assert_eq!(s.info_lines(), started, "{:?}", s.output());
    drop(s);
    // ...while a configured level (the environment, or the flag over it) wins at start.
    let s = Served::start(&data, &[("QUERENT_LOG_LEVEL", "info")]);
    some_requests(&s.base).await;
    assert!(s.info_lines() >= 3, "{:?}", s.output());
}
