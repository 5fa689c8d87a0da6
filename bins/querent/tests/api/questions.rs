//! Asynchronous questions (`/api/v1/questions`): accepted at once, answered by the
//! background workers through the chat pipeline, collected with the parts asked for (seed
//! 004's shape); failures with their code; a question a stopped server left in progress is
//! run again after a restart; team isolation.

use std::time::Duration;

use querent_domain::{ConnectionId, ErrorCode, ExecutionMode, TeamRole};
use querent_test_support::views::UserView;
use querent_test_support::{Client, Response, TestApp};
use serde::Deserialize;
use serde_json::{Value, json};

/// `202` answer of `POST /questions`.
#[derive(Debug, Deserialize)]
struct Accepted {
    question_id: String,
}

/// `GET /questions/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionView {
    pub question_id: String,
    pub state: String,
    pub question: String,
    pub connection_id: ConnectionId,
    #[serde(default)]
    pub assistant_id: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub error: Option<QuestionError>,
    #[serde(default)]
    pub results: Option<Results>,
}

/// A failed question's error.
#[derive(Debug, Deserialize)]
pub struct QuestionError {
    pub code: ErrorCode,
    pub detail: String,
}

/// The parts of a completed question's results.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    #[serde(default)]
    pub response_summary: Option<String>,
    #[serde(default)]
    pub sql_query: Option<String>,
    #[serde(default)]
    pub dataframe: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    pub dataframe_stats: Option<serde_json::Map<String, Value>>,
}

/// `POST /questions` through the raw client (the 202 is checked).
pub async fn ask(client: &Client, body: Value) -> String {
    let r: Response = client.send("POST", "/api/v1/questions", Some(body)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let a: Accepted = r.typed();
    a.question_id
}

/// Polls a question until it is COMPLETED or FAILED, then reads it with `query`.
pub async fn finished(client: &Client, id: &str, query: &str) -> QuestionView {
    for _ in 0..1200 {
        let q: QuestionView = client.get(&format!("/api/v1/questions/{id}")).await;
        if q.state == "COMPLETED" || q.state == "FAILED" {
            return client.get(&format!("/api/v1/questions/{id}{query}")).await;
        }
        assert!(q.results.is_none() && q.error.is_none(), "{q:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("question {id} was not answered within a minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_is_accepted_at_once_and_answered_in_the_background() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let id = ask(
        &admin,
        json!({"connection_id": conn, "question": "list all customers"}),
    )
    .await;

    // Default: the data frame only, header row first, every row of the result.
    let q = finished(&admin, &id, "").await;
    assert_eq!(q.state, "COMPLETED", "{q:?}");
    assert_eq!(
        (q.question_id.as_str(), q.connection_id),
        (id.as_str(), conn)
    );
    assert_eq!(q.question, "list all customers");
    assert!(q.started_at.is_some() && q.finished_at.is_some() && q.error.is_none());
    assert!(!q.created_at.is_empty());
    let r = q.results.unwrap();
    assert!(r.response_summary.is_none() && r.sql_query.is_none() && r.dataframe_stats.is_none());
    let frame = r.dataframe.unwrap();
    let header: Vec<String> = frame[0]
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(!header.is_empty(), "{header:?}");
    assert_eq!(frame.len(), 1 + 600, "the demo has 600 customers");
    assert!(frame[1..].iter().all(|row| row.len() == header.len()));

    // Every part, with a short frame: statistics still cover every row.
    let q = finished(
        &admin,
        &id,
        "?include=dataframe,statistics,sqlquery,summary&max_rows=3",
    )
    .await;
    let r = q.results.unwrap();
    assert_eq!(r.dataframe.as_ref().unwrap().len(), 1 + 3);
    assert!(
        r.sql_query.unwrap().to_lowercase().contains("customers"),
        "the SQL that ran"
    );
    assert!(!r.response_summary.unwrap().trim().is_empty());
    let stats = r.dataframe_stats.unwrap();
    let mut keys: Vec<&String> = stats.keys().collect();
    keys.sort();
    let mut want: Vec<&String> = header.iter().collect();
    want.sort();
    assert_eq!(keys, want, "statistics are keyed by column name");
    let mut kinds = Vec::new();
    for (name, s) in &stats {
        assert_eq!(s["general"]["count"], 600, "{name}: {s}");
        let kind: Vec<&str> = ["numeric", "string", "temporal", "boolean"]
            .into_iter()
            .filter(|k| s.get(*k).is_some())
            .collect();
        assert_eq!(
            kind.len(),
            1,
            "one section by the column's type: {name}: {s}"
        );
        kinds.extend(kind);
    }
    assert!(kinds.contains(&"string"), "customers have names: {kinds:?}");

    // Only some parts; an empty frame; unknown parts are refused.
    let q = finished(&admin, &id, "?include=summary,sqlquery&max_rows=0").await;
    let r = q.results.unwrap();
    assert!(r.dataframe.is_none() && r.dataframe_stats.is_none());
    assert!(r.sql_query.is_some() && r.response_summary.is_some());
    let q = finished(&admin, &id, "?max_rows=0").await;
    assert_eq!(q.results.unwrap().dataframe.unwrap().len(), 1);
    let e = admin
        .fails(
            "GET",
            &format!("/api/v1/questions/{id}?include=charts"),
            None,
        )
        .await;
    assert_eq!((e.status, e.code), (422, ErrorCode::ValidationError));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_end_the_question_with_their_code() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let id = ask(
        &admin,
        json!({"connection_id": conn, "question": "what's the weather like tomorrow in Paris?"}),
    )
    .await;
    let q = finished(&admin, &id, "?include=dataframe,summary").await;
    assert_eq!(q.state, "FAILED");
    assert!(q.results.is_none());
    let e = q.error.unwrap();
    assert_eq!(e.code, ErrorCode::CannotTranslate);
    assert!(!e.detail.is_empty());

    // Client mistakes are refused at once.
    for (body, status) in [
        (json!({"connection_id": conn, "question": "  "}), 422),
        (
            json!({"connection_id": conn, "question": "hi", "provider": "gpt-17"}),
            422,
        ),
        (
            json!({"connection_id": conn, "question": "hi", "extra": 1}),
            422,
        ),
        (
            json!({"connection_id": uuid::Uuid::now_v7(), "question": "hi"}),
            404,
        ),
    ] {
        let e = admin
            .fails("POST", "/api/v1/questions", Some(body.clone()))
            .await;
        assert_eq!(e.status, status, "{body}: {e:?}");
    }
    let e = admin
        .fails(
            "GET",
            &format!("/api/v1/questions/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    assert_eq!((e.status, e.code), (404, ErrorCode::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_execution_mode_decides_what_a_question_gets() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let body = json!({"connection_id": conn, "question": "how many customers are there?"});

    // generate_only: completed with the SQL, nothing ran.
    admin.set_mode(conn, ExecutionMode::GenerateOnly).await;
    let id = ask(&admin, body.clone()).await;
    let q = finished(
        &admin,
        &id,
        "?include=dataframe,statistics,sqlquery,summary",
    )
    .await;
    assert_eq!(q.state, "COMPLETED", "{q:?}");
    let r = q.results.unwrap();
    assert!(r.sql_query.unwrap().to_lowercase().contains("count"));
    assert_eq!(r.dataframe.unwrap(), Vec::<Vec<Value>>::new());
    assert!(r.dataframe_stats.unwrap().is_empty());
    assert!(r.response_summary.unwrap().contains("generate_only"));

    // review_first: failed, naming the message that waits for approval.
    admin.set_mode(conn, ExecutionMode::ReviewFirst).await;
    let id = ask(&admin, body).await;
    let q = finished(&admin, &id, "").await;
    assert_eq!(q.state, "FAILED");
    let e = q.error.unwrap();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(e.detail.contains("/api/v1/chat/execute/"), "{}", e.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_belong_to_the_team() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let team = app.setup().team.id;
    let (victor, viewer): (UserView, _) = admin.create_user("victor").await;
    admin.add_member(team, victor.id, TeamRole::Viewer).await;
    let (_, eve) = admin.create_user("eve").await;

    // A viewer may ask and read the team's questions (also the admin's).
    let id = ask(
        &viewer,
        json!({"connection_id": conn, "question": "how many customers are there?"}),
    )
    .await;
    let q = finished(&viewer, &id, "").await;
    assert_eq!(q.state, "COMPLETED", "{q:?}");
    assert_eq!(q.results.unwrap().dataframe.unwrap()[1], [json!(600)]);
    let _: QuestionView = admin.get(&format!("/api/v1/questions/{id}")).await;

    // Someone of another team: 404 for the question and the connection alike.
    let e = eve
        .fails("GET", &format!("/api/v1/questions/{id}"), None)
        .await;
    assert_eq!((e.status, e.code), (404, ErrorCode::NotFound));
    let e = eve
        .fails(
            "POST",
            "/api/v1/questions",
            Some(json!({"connection_id": conn, "question": "how many customers are there?"})),
        )
        .await;
    assert_eq!((e.status, e.code), (404, ErrorCode::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_left_in_progress_by_a_stopped_server_is_run_again() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let body = json!({"connection_id": conn, "question": "how many customers are there?"});
    let again = ask(&admin, body.clone()).await;
    let given_up = ask(&admin, body).await;
    for id in [&again, &given_up] {
        assert_eq!(finished(&admin, id, "").await.state, "COMPLETED");
    }
    // Stage the crash: both were being answered by an instance that stopped (its lease
    // ended); the second had been taken twice already. The server stops first, so its own
    // recovery sweep cannot take them over (and hold a fresh lease) before the restart.
    app.stop().await;
    for (id, attempts) in [(&again, 1), (&given_up, 2)] {
        app.store_execute(&format!(
            "UPDATE async_questions SET state = 'IN_PROGRESS', results = NULL, \
             finished_at = NULL, lease_owner = 'querent-gone', lease_expires_at = 1, \
             attempts = {attempts} WHERE id = '{id}'"
        ))
        .await;
    }
    let app = app.restart().await;
    let admin = app.admin();

    // Re-run (it is read-only): completed again, with its results.
    let q = finished(&admin, &again, "").await;
    assert_eq!(q.state, "COMPLETED", "{q:?}");
    assert_eq!(q.results.unwrap().dataframe.unwrap()[1], [json!(600)]);
    // Taken twice already: failed as interrupted.
    let q = finished(&admin, &given_up, "").await;
    assert_eq!(q.state, "FAILED", "{q:?}");
    assert_eq!(q.error.unwrap().code, ErrorCode::Interrupted);
}
