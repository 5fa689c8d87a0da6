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
}

/// The bytes of a SQLite database built by `ddl`.
pub fn sqlite_bytes(ddl: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(ddl).unwrap();
    drop(db);
    std::fs::read(&path).unwrap()
}

#[cfg(unix)]
fn mode_of(path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn register(
    app: &TestApp,
    token: &str,
    name: &str,
    path: &str,
) -> querent_test_support::Response {
    app.post(
        "/api/v1/connections",
        Some(token),
        json!({"name": name, "dialect": "sqlite", "path": path}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_are_checked_and_querents_own_files_refused() {
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let path = sqlite_target(&app);
    let r = register(&app, &admin, "local", &path).await;
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

    let dup = register(&app, &admin, "local", &path).await;
    assert_eq!((dup.status, dup.code().as_str()), (409, "conflict"));
    let missing = register(&app, &admin, "m", "/no/such/file.db").await;
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

    // Readable files outside the sandbox are refused, whatever the spelling.
    let outside = tempfile::tempdir().unwrap();
    let stray = outside.path().join("stray.sqlite");
    std::fs::write(&stray, b"").unwrap();
    let data = app.data_path().display().to_string();
    let mut refused = vec![
        stray.display().to_string(),
        format!("{data}/files/../files/../master.key"),
        app.config.key_file_path().display().to_string(),
        format!("{data}/./master.key"),
        "/etc/passwd".to_owned(),
    ];
    if app.pg_store().is_none() {
        // The embedded store, its WAL and shared memory, in any spelling.
        let store = app.config.sqlite_store_path().display().to_string();
        refused.extend([
            store.clone(),
            format!("{data}/./querent.db"),
            format!("{data}/files/../querent.db"),
            format!("{store}-wal"),
            format!("{store}-shm"),
        ]);
    }
    #[cfg(unix)]
    {
        // A link in the shared folder to a file Querent must not serve.
        let link = app.config.files_dir().join("innocent.sqlite");
        std::os::unix::fs::symlink(app.config.key_file_path(), &link).unwrap();
        refused.push(link.display().to_string());
    }
    for (i, p) in refused.iter().enumerate() {
        let r = register(&app, &admin, &format!("bad{i}"), p).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "forbidden"),
            "{p}: {}",
            r.text
        );
        // The unsaved test endpoint checks the same way.
        let t = app
            .post(
                "/api/v1/connections/test",
                Some(&admin),
                json!({"dialect": "sqlite", "path": p}),
            )
            .await;
        assert_eq!(t.status, 403, "{p}: {}", t.text);
    }
    let r = register(&app, &admin, "stray", &stray.display().to_string()).await;
    assert!(r.detail().contains("sqlite-files"), "{}", r.text);
    // Nothing refused was stored.
    let list = app.get("/api/v1/connections", Some(&admin)).await;
    assert_eq!(
        list.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_sqlite_dirs_are_shared_but_the_data_dir_stays_protected() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let shared = root.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("ok.sqlite"), b"").unwrap();
    let (d, s, r) = (data.clone(), shared.clone(), root.path().to_path_buf());
    // An operator who lists the data directory (and its parent) as SQLite directories.
    let app = TestApp::builder()
        .data_dir(&data)
        .config(move |c| c.sqlite_dirs = vec![s, d, r])
        .spawn()
        .await;
    let admin = app.setup_admin().await.str("access_token");
    let ok = register(
        &app,
        &admin,
        "ok",
        &shared.join("ok.sqlite").display().to_string(),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    std::fs::write(data.join("notes.sqlite"), b"").unwrap();
    let mut refused = vec![
        app.config.key_file_path(),
        data.join("notes.sqlite"),
        root.path().join("data/../data/master.key"),
    ];
    if app.pg_store().is_none() {
        refused.push(app.config.sqlite_store_path());
        refused.push(data.join("querent.db-wal"));
    }
    for (i, p) in refused.iter().enumerate() {
        let r = register(&app, &admin, &format!("bad{i}"), &p.display().to_string()).await;
        assert_eq!(r.status, 403, "{}: {}", p.display(), r.text);
    }
    // A copy of a Querent store (another instance's, say) is refused by what it is.
    if app.pg_store().is_none() {
        // A consistent copy (through the WAL), as a backup tool would make it.
        let store = rusqlite::Connection::open(app.config.sqlite_store_path()).unwrap();
        store
            .execute(
                "VACUUM INTO ?1",
                [shared.join("copy.sqlite").display().to_string()],
            )
            .unwrap();
        drop(store);
        let r = register(
            &app,
            &admin,
            "copy",
            &shared.join("copy.sqlite").display().to_string(),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(r.detail().contains("metadata store"), "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_land_in_the_team_folder_and_only_that_team_may_use_them() {
    let app = TestApp::builder()
        .config(|c| c.sqlite_upload_max_bytes = 64 * 1024)
        .spawn()
        .await;
    let admin = app.setup_admin().await.str("access_token");
    let team = app.get("/api/v1/auth/me", Some(&admin)).await.json["teams"][0]["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = sqlite_bytes(
        "CREATE TABLE planets (name TEXT, moons INTEGER);
         INSERT INTO planets VALUES ('Mars', 2), ('Jupiter', 95);",
    );
    let up = app
        .upload_sqlite(&admin, "filename=planets.sqlite", bytes.clone())
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let path = up.str("path");
    assert_eq!(up.json["size_bytes"], bytes.len() as u64);
    let team_dir = std::fs::canonicalize(app.config.files_dir().join(&team)).unwrap();
    assert_eq!(
        std::path::Path::new(&path),
        team_dir.join("planets.sqlite"),
        "{}",
        up.text
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    #[cfg(unix)]
    {
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(&team_dir.display().to_string()), 0o700);
    }

    // Ready for POST /connections, and it answers.
    let conn = register(&app, &admin, "planets", &path).await;
    assert_eq!(conn.status, 201, "{}", conn.text);
    let run = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn.str("id"), "sql": "SELECT sum(moons) AS m FROM planets"}),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    assert_eq!(run.json["rows"], json!([[97]]));

    // Never over an existing file; only plain names; only SQLite files; a size limit.
    let again = app
        .upload_sqlite(&admin, "filename=planets.sqlite", bytes.clone())
        .await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (409, "conflict"),
        "{}",
        again.text
    );
    for bad in [
        "filename=../planets2.sqlite",
        "filename=a%2Fb.sqlite",
        "filename=planets.txt",
        "filename=.hidden.sqlite",
        "filename=",
        "nofilename=x.sqlite",
    ] {
        let r = app.upload_sqlite(&admin, bad, bytes.clone()).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (422, "validation_error"),
            "{bad}: {}",
            r.text
        );
    }
    let mut fake = b"id,name\n1,not a database\n".to_vec();
    fake.resize(4096, b' ');
    let r = app
        .upload_sqlite(&admin, "filename=fake.sqlite", fake)
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("SQLite"), "{}", r.text);
    let mut big = bytes.clone();
    big.resize(65 * 1024, 0);
    let r = app.upload_sqlite(&admin, "filename=big.sqlite", big).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "payload_too_large"),
        "{}",
        r.text
    );
    // Refused uploads leave nothing behind (temporary files included).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let left: Vec<String> = std::fs::read_dir(&team_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["planets.sqlite".to_owned()]);

    // Another team's admin cannot register it, in any spelling, nor upload into its folder.
    let (bob_id, bob) = app.create_user(&admin, "bob").await;
    let other = app
        .post("/api/v1/teams", Some(&admin), json!({"name": "Other"}))
        .await
        .str("id");
    let added = app
        .post(
            &format!("/api/v1/teams/{other}/members/{bob_id}"),
            Some(&admin),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    // Their own upload is theirs: same name, another folder.
    let mine = app
        .upload_sqlite(
            &bob,
            &format!("filename=planets.sqlite&team_id={other}"),
            bytes.clone(),
        )
        .await;
    assert_eq!(mine.status, 201, "{}", mine.text);
    assert_ne!(mine.str("path"), path);
    let files = app.config.files_dir().display().to_string();
    for spelling in [
        path.clone(),
        format!("{files}/{other}/../{team}/planets.sqlite"),
        format!("{files}/./{team}/planets.sqlite"),
    ] {
        let r = app
            .post(
                "/api/v1/connections",
                Some(&bob),
                json!({"name": "stolen", "dialect": "sqlite", "path": spelling, "team_id": other}),
            )
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "forbidden"),
            "{spelling}: {}",
            r.text
        );
        assert!(r.detail().contains("another team"), "{}", r.text);
    }
    let r = app
        .upload_sqlite(
            &bob,
            &format!("filename=x.sqlite&team_id={team}"),
            bytes.clone(),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app
        .post(
            "/api/v1/connections",
            Some(&bob),
            json!({"name": "mine", "dialect": "sqlite", "path": mine.str("path"), "team_id": other}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Below team admin, no uploads.
    let editor = app.create_member(&admin, &team, "vera", "editor").await;
    let r = app.upload_sqlite(&editor, "filename=v.sqlite", bytes).await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_sqlite_path_outside_the_sandbox_is_refused_when_used() {
    let app = TestApp::builder().demo().spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let path = sqlite_target(&app);
    let conn = register(&app, &admin, "old", &path).await.str("id");
    // Registered before the sandbox existed: its stored path points at Querent's own key
    // file, or at a readable file elsewhere.
    let outside = tempfile::tempdir().unwrap();
    let stray = outside.path().join("stray.sqlite");
    std::fs::write(&stray, b"").unwrap();
    for target in [
        app.config.key_file_path().display().to_string(),
        stray.display().to_string(),
    ] {
        app.store_execute(&format!(
            "UPDATE connections SET path = '{target}' WHERE id = '{conn}'"
        ))
        .await;
        let run = app
            .post(
                "/api/v1/sql/run",
                Some(&admin),
                json!({"connection_id": conn, "sql": "SELECT 1 AS one"}),
            )
            .await;
        assert_eq!(
            (run.status, run.code().as_str()),
            (403, "forbidden"),
            "{}",
            run.text
        );
        assert!(run.detail().contains("cannot be used"), "{}", run.text);
        let refresh = app
            .post(
                &format!("/api/v1/connections/{conn}/schema/refresh"),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(refresh.status, 403, "{}", refresh.text);
        let test = app
            .post(
                &format!("/api/v1/connections/{conn}/test"),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(
            (
                test.json["ok"].as_bool(),
                test.json["error"]["code"].as_str()
            ),
            (Some(false), Some("forbidden")),
            "{}",
            test.text
        );
        let chat = app
            .post_json(
                "/api/v1/chat",
                Some(&admin),
                json!({"connection_id": conn, "message": "how many rows?"}),
            )
            .await;
        assert_eq!(chat.json["status"], "error", "{}", chat.text);
        assert_eq!(chat.json["error"]["code"], "forbidden", "{}", chat.text);
    }
    // It can still be seen, changed, fixed and used again.
    let seen = app
        .get(&format!("/api/v1/connections/{conn}"), Some(&admin))
        .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    let described = app
        .patch(
            &format!("/api/v1/connections/{conn}"),
            Some(&admin),
            json!({"description": "moved"}),
        )
        .await;
    assert_eq!(described.status, 200, "{}", described.text);
    let elsewhere = app
        .patch(
            &format!("/api/v1/connections/{conn}"),
            Some(&admin),
            json!({"path": app.config.key_file_path()}),
        )
        .await;
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.text);
    let fixed = app
        .patch(
            &format!("/api/v1/connections/{conn}"),
            Some(&admin),
            json!({"path": path}),
        )
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.text);
    let run = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": conn, "sql": "SELECT 1 AS one"}),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    // The demo database (in the data directory) stays usable.
    let demo = app.get("/api/v1/connections", Some(&admin)).await.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "demo")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = app
        .post(
            "/api/v1/sql/run",
            Some(&admin),
            json!({"connection_id": demo, "sql": "SELECT count(*) FROM departments"}),
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_follow_the_current_privacy_policy_everywhere() {
    use querent_test_support::fake_llm::{FakeLlm, Reply};
    const PROTECTED: &[&str] = &[
        "alice@hidden.example",
        "bob@hidden.example",
        "123-45-6789",
        "987-65-4321",
        "TOPSECRET-Orion",
        "TOPSECRET-Vega",
    ];
    let leaked = |text: &str| -> Vec<&str> {
        PROTECTED
            .iter()
            .copied()
            .filter(|v| text.contains(v))
            .collect()
    };
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql("SELECT count(*) AS n FROM customers"));
    let app = TestApp::spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    let bytes = sqlite_bytes(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, tier TEXT, ssn TEXT);
         INSERT INTO customers VALUES
           (1, 'Alice', 'alice@hidden.example', 'gold', '123-45-6789'),
           (2, 'Bob', 'bob@hidden.example', 'silver', '987-65-4321'),
           (3, 'Carol', 'alice@hidden.example', 'gold', '123-45-6789');
         CREATE TABLE secrets (id INTEGER PRIMARY KEY, label TEXT);
         INSERT INTO secrets VALUES (1, 'TOPSECRET-Orion'), (2, 'TOPSECRET-Vega');",
    );
    let file = app
        .upload_sqlite(&admin, "filename=crm.sqlite", bytes)
        .await
        .str("path");
    let conn = register(&app, &admin, "crm", &file).await.str("id");

    // Read while nothing is protected: the samples are there (the seeding works).
    let schema_path = format!("/api/v1/connections/{conn}/schema");
    let before = app.get(&schema_path, Some(&admin)).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(leaked(&before.text), PROTECTED, "{}", before.text);
    let stored_sql =
        format!("SELECT snapshot FROM schema_snapshots WHERE connection_id = '{conn}'");
    let stored_before = app.store_strings(&stored_sql).await[0].clone().unwrap();
    // A semantic model drafted now keeps value lists of those columns.
    let model_path = format!("/api/v1/connections/{conn}/semantic-model");
    let saved = app
        .post(
            &format!("{model_path}/generate?save=true"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(!leaked(&saved.text).is_empty(), "{}", saved.text);

    // Then a policy: emails masked, SSNs excluded, the secrets table excluded.
    let policy = app
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            Some(&admin),
            json!({"masked_column_patterns": ["*email*"], "excluded_columns": ["customers.ssn"],
                   "excluded_tables": ["secrets"]}),
        )
        .await;
    assert_eq!(policy.status, 200, "{}", policy.text);
    let after = app.get(&schema_path, Some(&admin)).await;
    assert_eq!(after.status, 200, "{}", after.text);
    assert!(leaked(&after.text).is_empty(), "{}", after.text);
    assert!(
        after.text.contains("silver"),
        "unprotected samples stay: {}",
        after.text
    );
    // The stored snapshot lost them too.
    let stored = app.store_strings(&stored_sql).await[0].clone().unwrap();
    assert!(leaked(&stored).is_empty(), "{stored}");
    assert!(stored.contains("silver"));

    // A snapshot written under the old policy (a refresh racing the change) is still
    // filtered when read.
    app.store_execute(&format!(
        "UPDATE schema_snapshots SET snapshot = '{}' WHERE connection_id = '{conn}'",
        stored_before.replace('\'', "''")
    ))
    .await;
    let raced = app.get(&schema_path, Some(&admin)).await;
    assert!(leaked(&raced.text).is_empty(), "{}", raced.text);
    // The saved model's value lists of protected columns are not served either.
    let model = app.get(&model_path, Some(&admin)).await;
    assert_eq!(model.status, 200, "{}", model.text);
    assert!(leaked(&model.text).is_empty(), "{}", model.text);
    assert!(model.text.contains("silver"), "{}", model.text);

    // Nothing protected reaches a provider: the chat prompt, nor a semantic draft's
    // descriptions (the provider is the team default, so the draft asks it too).
    let p = app
        .post(
            "/api/v1/providers",
            Some(&admin),
            json!({"name": "fake", "kind": "openai", "base_url": fake.base_url(), "model": "m",
                   "is_default": true}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    let chat = app
        .post_json(
            "/api/v1/chat",
            Some(&admin),
            json!({"connection_id": conn, "message": "how many gold customers are there?",
                   "options": {"use_cache": false}}),
        )
        .await;
    assert_eq!(chat.status, 200, "{}", chat.text);
    assert!(leaked(&chat.text).is_empty(), "{}", chat.text);
    let prompt = fake
        .last_request()
        .expect("the provider was asked")
        .prompt_text();
    assert!(prompt.contains("tier"), "{prompt}");
    assert!(
        prompt.contains("silver"),
        "samples are rendered at all: {prompt}"
    );
    let draft = app
        .post(
            &format!("/api/v1/connections/{conn}/semantic-model/generate"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    assert!(leaked(&draft.text).is_empty(), "{}", draft.text);
    let requests = fake.requests();
    assert!(requests.len() >= 2, "{} requests", requests.len());
    for r in requests {
        assert!(leaked(&r.raw_body).is_empty(), "{}", r.raw_body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_path_is_a_target_only_while_the_demo_is_on() {
    let app = TestApp::builder().config(|c| c.demo = false).spawn().await;
    let admin = app.setup_admin().await.str("access_token");
    // A database where the demo would be: with the demo off it is one more file of the
    // data directory.
    let demo = app.config.demo_database_path();
    std::fs::write(&demo, sqlite_bytes("CREATE TABLE t (a INTEGER);")).unwrap();
    let r = register(&app, &admin, "demo", &demo.display().to_string()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "forbidden"),
        "{}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_have_a_team_quota_and_unused_files_can_be_deleted() {
    let bytes = sqlite_bytes(
        "CREATE TABLE planets (name TEXT, moons INTEGER);
         INSERT INTO planets VALUES ('Mars', 2);",
    );
    let size = bytes.len() as u64;
    // Room for two files of this size, not three.
    let app = TestApp::builder()
        .config(move |c| c.sqlite_team_quota_bytes = size * 2 + size / 2)
        .spawn()
        .await;
    let admin = app.setup_admin().await.str("access_token");
    for name in ["a.sqlite", "b.sqlite"] {
        let r = app
            .upload_sqlite(&admin, &format!("filename={name}"), bytes.clone())
            .await;
        assert_eq!(r.status, 201, "{name}: {}", r.text);
    }
    let full = app
        .upload_sqlite(&admin, "filename=c.sqlite", bytes.clone())
        .await;
    assert_eq!(
        (full.status, full.code().as_str()),
        (413, "payload_too_large"),
        "{}",
        full.text
    );
    assert!(full.detail().contains("upload space"), "{}", full.text);
    assert!(full.detail().contains("DELETE"), "{}", full.text);

    // A file a connection uses cannot be deleted (409, naming the connection)…
    let team = app.get("/api/v1/auth/me", Some(&admin)).await.json["teams"][0]["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path_a = std::fs::canonicalize(app.config.files_dir().join(&team).join("a.sqlite"))
        .unwrap()
        .display()
        .to_string();
    let conn = register(&app, &admin, "planets", &path_a).await;
    assert_eq!(conn.status, 201, "{}", conn.text);
    let busy = app
        .delete(
            "/api/v1/connections/sqlite-files?filename=a.sqlite",
            Some(&admin),
        )
        .await;
    assert_eq!(
        (busy.status, busy.code().as_str()),
        (409, "conflict"),
        "{}",
        busy.text
    );
    assert!(busy.detail().contains("`planets`"), "{}", busy.text);
    // …an unused one can, and frees its space.
    let gone = app
        .delete(
            "/api/v1/connections/sqlite-files?filename=b.sqlite",
            Some(&admin),
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert!(!app.config.files_dir().join(&team).join("b.sqlite").exists());
    let again = app
        .upload_sqlite(&admin, "filename=c.sqlite", bytes.clone())
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    // Once its connection is gone, the used file can be deleted too.
    let id = conn.str("id");
    assert_eq!(
        app.delete(&format!("/api/v1/connections/{id}"), Some(&admin))
            .await
            .status,
        204
    );
    let freed = app
        .delete(
            "/api/v1/connections/sqlite-files?filename=a.sqlite",
            Some(&admin),
        )
        .await;
    assert_eq!(freed.status, 204, "{}", freed.text);

    // Only plain names of the team's own folder; missing files are 404.
    for (query, status) in [
        ("filename=a.sqlite", 404),
        ("filename=..%2Fquerent.db", 422),
        ("filename=nothing.txt", 422),
    ] {
        let r = app
            .delete(
                &format!("/api/v1/connections/sqlite-files?{query}"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, status, "{query}: {}", r.text);
    }
    // Another team's admin cannot reach this folder; an editor cannot delete.
    let (bob_id, bob) = app.create_user(&admin, "bob").await;
    let other = app
        .post("/api/v1/teams", Some(&admin), json!({"name": "Other"}))
        .await
        .str("id");
    app.post(
        &format!("/api/v1/teams/{other}/members/{bob_id}"),
        Some(&admin),
        json!({"role": "admin"}),
    )
    .await;
    let r = app
        .delete(
            &format!("/api/v1/connections/sqlite-files?filename=c.sqlite&team_id={team}"),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let editor = app.create_member(&admin, &team, "vera", "editor").await;
    let r = app
        .delete(
            "/api/v1/connections/sqlite-files?filename=c.sqlite",
            Some(&editor),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(app.config.files_dir().join(&team).join("c.sqlite").exists());
}
