//! Row filters (`GET/PUT /connections/{id}/row-filters`): who they apply to, that they
//! hold on the paths that run SQL (hand-written SQL, chat, the cache), what a predicate may
//! be, and who may set them — on SQLite (the demo), PostgreSQL and MariaDB.

use querent_domain::{ConnectionId, MessageStatus, TeamRole};
use querent_test_support::{Client, MysqlDatabase, PgDatabase, TestApp};
use serde_json::{Value, json};

fn count(rows: &[Vec<Value>]) -> i64 {
    rows[0][0]
        .as_i64()
        .or_else(|| rows[0][0].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("a count: {rows:?}"))
}

async fn put_filters(
    admin: &Client,
    conn: ConnectionId,
    filters: Value,
) -> querent_test_support::Response {
    admin
        .send(
            "PUT",
            &format!("/api/v1/connections/{conn}/row-filters"),
            Some(json!({ "filters": filters })),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_filters_hold_for_those_they_name_on_sql_chat_and_cache() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn, team) = (app.admin(), app.demo().id, app.demo().team_id);
    let editor = admin.create_member(team, "editor", TeamRole::Editor).await;
    let viewer = admin.create_member(team, "viewer", TeamRole::Viewer).await;
    let total = count(
        &admin
            .run_sql(conn, "SELECT count(*) FROM departments")
            .await
            .rows,
    );
    let location = admin
        .run_sql(conn, "SELECT location FROM departments ORDER BY id LIMIT 1")
        .await
        .rows[0][0]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = count(
        &admin
            .run_sql(
                conn,
                &format!("SELECT count(*) FROM departments WHERE location = '{location}'"),
            )
            .await
            .rows,
    );
    assert!(
        kept < total,
        "the filter must hide something: {kept} of {total}"
    );

    let filters = json!([{
        "table": "departments",
        "predicate": format!("location = '{location}'"),
        "applies_to": {"kind": "everyone_but_admins"}
    }]);
    let r = put_filters(&admin, conn, filters.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["filters"], filters);
    let r = admin
        .send(
            "GET",
            &format!("/api/v1/connections/{conn}/row-filters"),
            None,
        )
        .await;
    assert_eq!(r.json["filters"], filters);

    // Hand-written SQL: the editor sees only the filtered rows, whatever the query does.
    let q = "SELECT count(*) FROM departments";
    assert_eq!(count(&editor.run_sql(conn, q).await.rows), kept);
    assert_eq!(count(&admin.run_sql(conn, q).await.rows), total);
    let sneaky = "SELECT count(*) FROM (SELECT d.id FROM departments d WHERE 1 = 1 OR d.location <> '') AS x";
    assert_eq!(count(&editor.run_sql(conn, sneaky).await.rows), kept);

    // Chat, and the cache: the owner's answer is cached, the viewer's question with the
    // same words is not served from it.
    let question = "how many departments are there?";
    let owner_answer = admin.ask(conn, question).await;
    assert_eq!(
        owner_answer.status,
        MessageStatus::Executed,
        "{owner_answer:?}"
    );
    assert_eq!(count(&owner_answer.results.unwrap().rows), total);
    let again = admin.ask(conn, question).await;
    assert_eq!(again.status, MessageStatus::Cached);
    let viewer_answer = viewer.ask(conn, question).await;
    assert_eq!(
        viewer_answer.status,
        MessageStatus::Executed,
        "{viewer_answer:?}"
    );
    assert_eq!(count(&viewer_answer.results.unwrap().rows), kept);

    // A role audience: only viewers.
    let r = put_filters(
        &admin,
        conn,
        json!([{"table": "departments", "predicate": "1 = 0",
                "applies_to": {"kind": "role", "role": "viewer"}}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(count(&editor.run_sql(conn, q).await.rows), total);
    let none = viewer.ask(conn, question).await;
    assert_eq!(count(&none.results.unwrap().rows), 0);

    // What a filter may not be.
    for (filter, why) in [
        (
            json!({"table": "departments", "predicate": "id IN (SELECT id FROM employees)",
                   "applies_to": {"kind": "everyone_but_admins"}}),
            "subquery",
        ),
        (
            json!({"table": "departments", "predicate": "salary > 0",
                   "applies_to": {"kind": "everyone_but_admins"}}),
            "salary",
        ),
        (
            json!({"table": "nothing_here", "predicate": "1 = 1",
                   "applies_to": {"kind": "everyone_but_admins"}}),
            "nothing_here",
        ),
        (
            json!({"table": "departments; DROP TABLE x", "predicate": "1 = 1",
                   "applies_to": {"kind": "everyone_but_admins"}}),
            "table",
        ),
        (
            json!({"table": "departments", "predicate": "1 = 1",
                   "applies_to": {"kind": "team", "team_id": uuid::Uuid::now_v7()}}),
            "team",
        ),
    ] {
        let r = put_filters(&admin, conn, json!([filter])).await;
        assert_eq!(r.status, 422, "{filter}: {}", r.text);
        assert!(r.str("detail").contains(why), "{filter}: {}", r.text);
    }
    // Only the owning team's admins manage them.
    let r = editor
        .send(
            "GET",
            &format!("/api/v1/connections/{conn}/row-filters"),
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = put_filters(&editor, conn, json!([])).await;
    assert_eq!(r.status, 403, "{}", r.text);
}

/// A table of three rows, two in `EU`; an editor under the filter sees two, the owner three.
async fn server_target_is_filtered(app: &TestApp, target: Value) {
    let admin = app.admin();
    let c = admin.create_connection(target).await;
    let editor = admin
        .create_member(c.team_id, "editor", TeamRole::Editor)
        .await;
    let r = put_filters(
        &admin,
        c.id,
        json!([{"table": "sales", "predicate": "region = 'EU'",
                "applies_to": {"kind": "everyone_but_admins"}}]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let q = "SELECT count(*) FROM sales WHERE amount > 0";
    assert_eq!(count(&editor.run_sql(c.id, q).await.rows), 2);
    assert_eq!(count(&admin.run_sql(c.id, q).await.rows), 3);
    let r = put_filters(
        &admin,
        c.id,
        json!([{"table": "sales", "predicate": "no_such_column = 1",
                "applies_to": {"kind": "everyone_but_admins"}}]),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
}

const SALES: &str = "CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(10), amount INT); \
     INSERT INTO sales VALUES (1, 'EU', 10), (2, 'EU', 20), (3, 'US', 30);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_filters_hold_on_postgres() {
    let Some(db) = PgDatabase::create("row_filters_hold_on_postgres").await else {
        return;
    };
    db.execute(SALES).await.unwrap();
    let app = TestApp::builder().with_admin().spawn().await;
    server_target_is_filtered(
        &app,
        json!({"name": "pg", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
               "database": db.name, "username": "postgres"}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_filters_hold_on_mariadb() {
    let Some(db) = MysqlDatabase::create("row_filters_hold_on_mariadb").await else {
        return;
    };
    db.execute(SALES).await.unwrap();
    let app = TestApp::builder().with_admin().spawn().await;
    server_target_is_filtered(
        &app,
        json!({"name": "my", "dialect": "mysql", "host": "127.0.0.1", "port": 3306,
               "database": db.name, "username": "root"}),
    )
    .await;
}
