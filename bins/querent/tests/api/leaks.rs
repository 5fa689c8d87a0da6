//! The five leaks an outside review found (issue 12), reproduced through HTTP against real
//! PostgreSQL, MariaDB and SQLite targets seeded with protected values — an excluded table,
//! an excluded column and a masked column — through `/sql/run`, `/sql/validate` and a chat
//! whose provider returns the hostile SQL, and — on PostgreSQL and MariaDB — through a
//! hand edit of a `review_first` chat and its approval (`/chat/edit` then
//! `/chat/execute`). No protected value may appear in any response, stored message, error,
//! or prompt sent to the provider, and the databases stay as they were.

use querent_test_support::fake_llm::{FakeLlm, Reply};
use querent_test_support::{MysqlDatabase, PgDatabase, TestApp};
use serde_json::json;

/// Values that must never come out.
const PROTECTED: &[&str] = &[
    "SSN-",
    "alice@secret",
    "bob@secret",
    "secret.example",
    "TOPSECRET",
    "root:x:0:0",
];

const SEED: &[&str] = &[
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(50), email VARCHAR(80), ssn VARCHAR(20))",
    "CREATE TABLE secrets (id INTEGER PRIMARY KEY, secret_value VARCHAR(50))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, status VARCHAR(20))",
    "INSERT INTO customers VALUES (1, 'Alice', 'alice@secret.example', 'SSN-111-22-3333')",
    "INSERT INTO customers VALUES (2, 'Bob', 'bob@secret.example', 'SSN-444-55-6666')",
    "INSERT INTO secrets VALUES (1, 'TOPSECRET-42')",
    "INSERT INTO orders VALUES (1, 1, 'paid')",
];

/// The leaks of issue 12 that every dialect can express, plus their neighbours.
const COMMON: &[&str] = &[
    // 3. correlated names
    "SELECT (SELECT ssn AS ssn FROM orders LIMIT 1) FROM customers",
    "SELECT (SELECT ssn FROM orders LIMIT 1) AS x FROM customers",
    // 4. masking beyond the select list
    "SELECT (SELECT max(x.e) FROM (SELECT c.email AS e) x) FROM customers c",
    "SELECT name FROM customers WHERE email LIKE 'alice%'",
    "SELECT upper(email) FROM customers",
    "SELECT email, count(*) FROM customers GROUP BY email",
    // excluded objects
    "SELECT * FROM secrets",
    "SELECT name FROM customers UNION SELECT secret_value FROM secrets",
    "SELECT * FROM customers",
];

const POSTGRES: &[&str] = &[
    // 1. SQL inside strings
    "SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')",
    "SELECT word FROM pg_catalog.ts_stat('SELECT to_tsvector(''simple'', secret_value) FROM secrets')",
    "SELECT word FROM \"ts_stat\"('SELECT to_tsvector(''simple'', email) FROM customers')",
    "SELECT word FROM TS_STAT($$SELECT to_tsvector('simple', ssn) FROM customers$$)",
    "SELECT ts_rewrite('a'::tsquery, 'SELECT to_tsquery(''simple'', secret_value), ''a''::tsquery FROM secrets')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT passwd FROM pg_shadow",
    "SELECT pg_sleep(5)",
    // 3. correlated names
    "SELECT (SELECT ssn FROM generate_series(1,1) g) AS x FROM customers",
    // 4. masking beyond the select list, and errors that echo values
    "SELECT s FROM customers c, unnest(ARRAY[c.email]) s",
    "SELECT x FROM customers c, regexp_split_to_table(c.email, '@') x",
    "SELECT value FROM customers c, jsonb_array_elements_text(jsonb_build_array(c.email))",
    "SELECT e FROM customers c, LATERAL (VALUES (email)) v(e)",
    "SELECT (SELECT v.column1 FROM (VALUES (c.email)) v) FROM customers c",
    "SELECT name FROM customers WHERE email::int = 1",
    "SELECT row_to_json(c) FROM customers c",
    // smaller ones
    "SELECT current_setting('data_directory')",
];

const MARIADB: &[&str] = &[
    // 2. what runs is what the guard read
    "SELECT 'a\\\\', ' UNION SELECT secret_value FROM secrets -- '",
    "SELECT 'a\\\\', ' UNION SELECT ssn FROM customers -- '",
    "SELECT 'a\\\\', ' UNION SELECT authentication_string FROM mysql.user -- '",
    "SELECT 'a\\\\', ' UNION SELECT load_file(''/etc/passwd'') -- '",
    "SELECT \"a\\\\\", \" UNION SELECT secret_value FROM secrets -- \"",
    "SELECT N'a\\\\', N' UNION SELECT secret_value FROM secrets -- '",
    "SELECT _utf8mb4'a\\\\', _utf8mb4' UNION SELECT secret_value FROM secrets -- '",
    "SELECT 1 /*M! UNION SELECT secret_value FROM secrets */",
    "SELECT 1 /*!50000 UNION SELECT secret_value FROM secrets */",
    "SELECT 'it''s', 'a''''b'",
    // 3. correlated names
    "SELECT (SELECT ssn FROM JSON_TABLE('[1]', '$[*]' COLUMNS (x INT PATH '$')) jt) FROM customers",
    // 4.
    "SELECT jt.e FROM customers c, JSON_TABLE(JSON_ARRAY(c.email), '$[*]' COLUMNS (e TEXT PATH '$')) jt",
    "SELECT CAST(email AS SIGNED) FROM customers",
    // smaller ones
    "SELECT LAST_INSERT_ID(42)",
    "SELECT @@datadir",
];

const SQLITE: &[&str] = &[
    "SELECT (SELECT ssn FROM json_each('[1]')) FROM customers",
    "SELECT value FROM customers c, json_each(json_array(c.email))",
    "SELECT * FROM pragma_table_info('secrets')",
    "SELECT sql FROM sqlite_master",
    "SELECT readfile('/etc/passwd')",
];

/// Benign statements the same connections must keep answering.
const BENIGN: &[&str] = &[
    "SELECT count(*) FROM customers",
    "SELECT name FROM customers ORDER BY name",
    "SELECT c.name, o.status FROM customers c JOIN orders o ON o.customer_id = c.id",
    "SELECT 'it''s'",
];

fn leaked(text: &str, asked: &str) -> Option<&'static str> {
    PROTECTED
        .iter()
        .copied()
        .find(|p| text.contains(p) && !asked.contains(p))
}

async fn admin(app: &TestApp) -> String {
    app.setup_admin().await.str("access_token")
}

async fn protect(app: &TestApp, token: &str, conn: &str) {
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            Some(token),
            json!({"excluded_tables": ["secrets"],
                   "excluded_columns": ["customers.ssn"],
                   "masked_column_patterns": ["*email*"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Runs every statement through /sql/validate, /sql/run and a chat whose provider answers
/// with it; checks every response, the stored session and the provider's prompts.
async fn probe(app: &TestApp, token: &str, conn: &str, fake: &FakeLlm, statements: &[&str]) {
    let mut leaks = Vec::new();
    for sql in statements {
        for path in ["/api/v1/sql/validate", "/api/v1/sql/run"] {
            let r = app
                .post(
                    path,
                    Some(token),
                    json!({"connection_id": conn, "sql": sql}),
                )
                .await;
            assert!(r.status < 500, "{path} {sql}: {} {}", r.status, r.text);
            if let Some(p) = leaked(&r.text, sql) {
                leaks.push(format!("{path} {sql} -> {p}: {}", r.text));
            }
        }
        // The provider answers with the statement, and again for each self-correction.
        fake.set_default_reply(Reply::sql(sql));
        let r = app
            .post_json(
                "/api/v1/chat",
                Some(token),
                json!({"connection_id": conn, "message": "show me the data",
                       "provider": "hostile", "options": {"use_cache": false}}),
            )
            .await;
        // The fake provider never fails: a 5xx here (502 `provider_error` included) would be
        // a bug, not an expected refusal.
        assert!(r.status < 500, "chat {sql}: {} {}", r.status, r.text);
        if let Some(p) = leaked(&r.text, sql) {
            leaks.push(format!("chat {sql} -> {p}: {}", r.text));
        }
        if let Some(session) = r.json["session_id"].as_str() {
            let s = app
                .get(&format!("/api/v1/sessions/{session}"), Some(token))
                .await;
            if let Some(p) = leaked(&s.text, sql) {
                leaks.push(format!("stored session {sql} -> {p}: {}", s.text));
            }
        }
    }
    for request in fake.completion_requests() {
        let prompt = request.prompt_text();
        if let Some(p) = PROTECTED.iter().find(|p| prompt.contains(*p)) {
            leaks.push(format!("prompt to the provider -> {p}: {prompt}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    for sql in BENIGN {
        let r = app
            .post(
                "/api/v1/sql/run",
                Some(token),
                json!({"connection_id": conn, "sql": sql}),
            )
            .await;
        assert_eq!(r.status, 200, "{sql}: {}", r.text);
    }
    // Masked values come back masked; excluded ones are refused by name.
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(token),
            json!({"connection_id": conn, "sql": "SELECT email FROM customers ORDER BY id"}),
        )
        .await;
    assert_eq!(r.json["rows"], json!([["****"], ["****"]]), "{}", r.text);
    let r = app
        .post(
            "/api/v1/sql/run",
            Some(token),
            json!({"connection_id": conn, "sql": "SELECT ssn FROM customers"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "policy_violation");
}

/// Hostile statements sent as a hand edit of a `review_first` chat, then approved.
const EDIT_POSTGRES: &[&str] = &[
    "SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')",
    "SELECT s FROM customers c, unnest(ARRAY[c.email]) s",
    "SELECT (SELECT ssn FROM generate_series(1,1) g) AS x FROM customers",
    "SELECT name FROM customers WHERE email::int = 1",
    "SELECT name FROM customers UNION SELECT secret_value FROM secrets",
];

/// The MariaDB ones, the backslash and executable-comment classes first.
const EDIT_MARIADB: &[&str] = &[
    "SELECT 'a\\\\', ' UNION SELECT secret_value FROM secrets -- '",
    "SELECT \"a\\\\\", \" UNION SELECT ssn FROM customers -- \"",
    "SELECT 1 /*M! UNION SELECT secret_value FROM secrets */",
    "SELECT CAST(email AS SIGNED) FROM customers",
    "SELECT jt.e FROM customers c, JSON_TABLE(JSON_ARRAY(c.email), '$[*]' COLUMNS (e TEXT PATH '$')) jt",
];

async fn set_mode(app: &TestApp, token: &str, conn: &str, mode: &str) {
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/execution-mode"),
            Some(token),
            json!({ "mode": mode }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Asks on a `review_first` connection (the provider writes a harmless query), replaces the
/// pending query by hand with each hostile statement (`/chat/edit`) and approves what the
/// guard accepted (`/chat/execute`): every response and the stored session are checked.
/// Then a harmless edit runs through the same path, with the masked column masked.
async fn probe_edits(app: &TestApp, token: &str, conn: &str, fake: &FakeLlm, statements: &[&str]) {
    set_mode(app, token, conn, "review_first").await;
    let mut leaks = Vec::new();
    let mut approved = 0;
    let ask = || {
        fake.set_default_reply(Reply::sql("SELECT name FROM customers"));
        app.post_json(
            "/api/v1/chat",
            Some(token),
            json!({"connection_id": conn, "message": "list the customers",
                   "provider": "hostile", "options": {"use_cache": false}}),
        )
    };
    for sql in statements {
        let asked = ask().await;
        assert_eq!(asked.status, 200, "{}", asked.text);
        assert_eq!(asked.json["status"], "pending_approval", "{}", asked.text);
        let (id, session) = (asked.str("message_id"), asked.str("session_id"));
        let edited = app
            .post_json(
                &format!("/api/v1/chat/edit/{id}"),
                Some(token),
                json!({ "sql": sql }),
            )
            .await;
        assert!(
            edited.status < 500,
            "edit {sql}: {} {}",
            edited.status,
            edited.text
        );
        if let Some(p) = leaked(&edited.text, sql) {
            leaks.push(format!("edit {sql} -> {p}: {}", edited.text));
        }
        if edited.status == 200 {
            // Accepted (neutralised by the guard's rendering and substitution): it waits
            // for approval, and approving it runs it.
            assert_eq!(edited.json["status"], "pending_approval", "{}", edited.text);
            let ran = app
                .post_json(
                    &format!("/api/v1/chat/execute/{id}"),
                    Some(token),
                    json!({}),
                )
                .await;
            assert!(
                ran.status < 500,
                "execute {sql}: {} {}",
                ran.status,
                ran.text
            );
            approved += 1;
            if let Some(p) = leaked(&ran.text, sql) {
                leaks.push(format!("execute {sql} -> {p}: {}", ran.text));
            }
        }
        let stored = app
            .get(&format!("/api/v1/sessions/{session}"), Some(token))
            .await;
        if let Some(p) = leaked(&stored.text, sql) {
            leaks.push(format!(
                "stored session after edit {sql} -> {p}: {}",
                stored.text
            ));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    // The path itself works: a harmless edit is approved and runs, masked.
    let asked = ask().await;
    let id = asked.str("message_id");
    let edited = app
        .post_json(
            &format!("/api/v1/chat/edit/{id}"),
            Some(token),
            json!({"sql": "SELECT email FROM customers ORDER BY id"}),
        )
        .await;
    assert_eq!(edited.json["status"], "pending_approval", "{}", edited.text);
    let ran = app
        .post_json(
            &format!("/api/v1/chat/execute/{id}"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(ran.status, 200, "{}", ran.text);
    assert_eq!(ran.json["status"], "executed", "{}", ran.text);
    assert_eq!(
        ran.json["results"]["rows"],
        json!([["****"], ["****"]]),
        "{}",
        ran.text
    );
    eprintln!(
        "{approved} of {} hostile edits were accepted (neutralised) and approved",
        statements.len()
    );
    set_mode(app, token, conn, "auto_execute").await;
}

async fn hostile_provider(app: &TestApp, token: &str, fake: &FakeLlm) {
    let r = app
        .post(
            "/api/v1/providers",
            Some(token),
            json!({"name": "hostile", "kind": "openai", "base_url": fake.base_url(),
                   "model": "m", "api_key": "k"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_leaks_are_closed() {
    let Some(db) = PgDatabase::create("postgres_leaks_are_closed").await else {
        return;
    };
    for s in SEED {
        db.execute(s).await.unwrap();
    }
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let fake = FakeLlm::start().await;
    hostile_provider(&app, &token, &fake).await;
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "pg", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
                   "database": db.name, "username": "postgres"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    protect(&app, &token, &conn).await;
    let statements: Vec<&str> = COMMON.iter().chain(POSTGRES).copied().collect();
    probe(&app, &token, &conn, &fake, &statements).await;
    probe_edits(&app, &token, &conn, &fake, EDIT_POSTGRES).await;
    let rows = db
        .query_strings("SELECT secret_value FROM secrets")
        .await
        .unwrap();
    assert_eq!(rows, [Some("TOPSECRET-42".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_leaks_are_closed() {
    let Some(db) = MysqlDatabase::create("mariadb_leaks_are_closed").await else {
        return;
    };
    for s in SEED {
        db.execute(s).await.unwrap();
    }
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let fake = FakeLlm::start().await;
    hostile_provider(&app, &token, &fake).await;
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "my", "dialect": "mysql", "host": "127.0.0.1", "port": 3306,
                   "database": db.name, "username": "root"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    protect(&app, &token, &conn).await;
    let statements: Vec<&str> = COMMON.iter().chain(MARIADB).copied().collect();
    probe(&app, &token, &conn, &fake, &statements).await;
    probe_edits(&app, &token, &conn, &fake, EDIT_MARIADB).await;
    let rows = db
        .query_strings("SELECT secret_value FROM secrets")
        .await
        .unwrap();
    assert_eq!(rows, [Some("TOPSECRET-42".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_leaks_are_closed() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let fake = FakeLlm::start().await;
    hostile_provider(&app, &token, &fake).await;
    let path = app.sqlite_file();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for s in SEED {
            conn.execute_batch(s).unwrap();
        }
    }
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "lite", "dialect": "sqlite", "path": path}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");
    protect(&app, &token, &conn).await;
    let statements: Vec<&str> = COMMON.iter().chain(SQLITE).copied().collect();
    probe(&app, &token, &conn, &fake, &statements).await;
    let check = rusqlite::Connection::open(&path).unwrap();
    let secret: String = check
        .query_row("SELECT secret_value FROM secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(secret, "TOPSECRET-42");
}

/// A statement the guard accepts is shown as written, never with the rewrite that runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_people_see_is_what_they_wrote() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let path = app.sqlite_file();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for s in SEED {
            conn.execute_batch(s).unwrap();
        }
    }
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "lite", "dialect": "sqlite", "path": path}),
        )
        .await;
    let conn = r.str("id");
    protect(&app, &token, &conn).await;
    let r = app
        .post(
            "/api/v1/sql/validate",
            Some(&token),
            json!({"connection_id": conn, "sql": "select name, email from customers"}),
        )
        .await;
    assert_eq!(r.json["valid"], true, "{}", r.text);
    let normalized = r.json["normalized_sql"].as_str().unwrap();
    assert!(
        normalized.starts_with("SELECT name, email FROM customers"),
        "{normalized}"
    );
    assert!(!normalized.contains("****"), "{normalized}");
}
