//! Assistants (`/api/v1/assistants`): CRUD with validation, roles and team isolation;
//! asking one (JSON and SSE, like chat) with its options and execution mode; its
//! instructions and model reaching the provider (the fake LLM server); async questions
//! asked of an assistant.

use querent_domain::{ErrorCode, ExecutionMode, MessageStatus, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::fake_llm::{FakeLlm, Reply};
use querent_test_support::views::{Page, ProviderView, UserView};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::questions::{QuestionView, finished};

/// An assistant as the API returns it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssistantView {
    id: String,
    team_id: String,
    name: String,
    description: Option<String>,
    connection_id: String,
    provider: Option<String>,
    model: Option<String>,
    instructions: Option<String>,
    options: Value,
    created_by: String,
    created_at: String,
    updated_at: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assistants_are_managed_by_editors_read_by_viewers_and_hidden_from_other_teams() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let team = app.setup().team.id;
    let (victor, viewer): (UserView, _) = admin.create_user("victor").await;
    admin.add_member(team, victor.id, TeamRole::Viewer).await;
    let (_, eve) = admin.create_user("eve").await;

    let a: AssistantView = admin
        .post(
            "/api/v1/assistants",
            json!({"name": "Sales", "connection_id": conn, "description": "sales questions",
                   "instructions": "Amounts are in euros.", "options": {"max_rows": 5}}),
        )
        .await;
    assert_eq!(
        (a.name.as_str(), a.team_id.as_str()),
        ("Sales", team.to_string().as_str())
    );
    assert_eq!(a.connection_id, conn.to_string());
    assert_eq!(a.instructions.as_deref(), Some("Amounts are in euros."));
    assert_eq!((a.provider, a.model), (None, None));
    assert_eq!(a.options["max_rows"], 5);
    assert!(a.created_by.starts_with("user:") && !a.created_at.is_empty());
    let path = format!("/api/v1/assistants/{}", a.id);

    // Viewers list and read; editors change; an empty string clears.
    let list: Page<AssistantView> = viewer.get("/api/v1/assistants").await;
    assert_eq!(list.items.len(), 1);
    let _: AssistantView = viewer.get(&path).await;
    let changed: AssistantView = admin
        .patch(&path, json!({"name": "Sales EU", "description": ""}))
        .await;
    assert_eq!(changed.name, "Sales EU");
    assert_eq!(changed.description, None);
    assert_eq!(
        changed.instructions.as_deref(),
        Some("Amounts are in euros.")
    );
    assert!(changed.updated_at >= a.updated_at);
    for (method, p, body) in [
        (
            "POST",
            "/api/v1/assistants".to_owned(),
            Some(json!({"name": "v", "connection_id": conn})),
        ),
        ("PATCH", path.clone(), Some(json!({"name": "mine"}))),
        ("DELETE", path.clone(), None),
    ] {
        let e = viewer.fails(method, &p, body).await;
        assert_eq!(
            (e.status, e.code),
            (403, ErrorCode::Forbidden),
            "{method} {p}"
        );
    }

    // Another team's assistant does not exist for eve.
    let none: Page<AssistantView> = eve.get("/api/v1/assistants").await;
    assert!(none.items.is_empty());
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"name": "x"}))),
        ("DELETE", path.clone(), None),
        (
            "POST",
            format!("{path}/ask"),
            Some(json!({"message": "how many customers are there?"})),
        ),
    ] {
        let e = eve.fails(method, &p, body).await;
        assert_eq!(
            (e.status, e.code),
            (404, ErrorCode::NotFound),
            "{method} {p}"
        );
    }

    // Validation.
    admin.set_mode(conn, ExecutionMode::ReviewFirst).await;
    for body in [
        json!({"name": "", "connection_id": conn}),
        json!({"name": "x", "connection_id": conn, "instructions": "a".repeat(4_001)}),
        json!({"name": "x", "connection_id": conn, "provider": "gpt-17"}),
        json!({"name": "x", "connection_id": conn, "options": {"max_rows": 0}}),
        // Looser than the connection's review_first.
        json!({"name": "x", "connection_id": conn, "options": {"execution_mode": "auto_execute"}}),
        json!({"name": "x", "connection_id": conn, "colour": "red"}),
    ] {
        let e = admin
            .fails("POST", "/api/v1/assistants", Some(body.clone()))
            .await;
        assert_eq!(
            (e.status, e.code),
            (422, ErrorCode::ValidationError),
            "{body}: {e:?}"
        );
    }
    let strict: AssistantView = admin
        .post(
            "/api/v1/assistants",
            json!({"name": "Strict", "connection_id": conn, "options": {"execution_mode": "generate_only"}}),
        )
        .await;
    let e = admin
        .fails(
            "POST",
            "/api/v1/assistants",
            Some(json!({"name": "y", "connection_id": uuid::Uuid::now_v7()})),
        )
        .await;
    assert_eq!(e.status, 404);

    admin.delete(&path).await;
    admin
        .delete(&format!("/api/v1/assistants/{}", strict.id))
        .await;
    let e = admin.fails("GET", &path, None).await;
    assert_eq!((e.status, e.code), (404, ErrorCode::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_an_assistant_answers_like_chat_with_its_options_and_mode() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let team = app.setup().team.id;
    let (victor, viewer): (UserView, _) = admin.create_user("victor").await;
    admin.add_member(team, victor.id, TeamRole::Viewer).await;
    let a: AssistantView = admin
        .post(
            "/api/v1/assistants",
            json!({"name": "Customers", "connection_id": conn, "options": {"max_rows": 7, "show_query": false}}),
        )
        .await;
    let ask = format!("/api/v1/assistants/{}/ask", a.id);

    // JSON, by a viewer: the assistant's row cap and options apply.
    let d = viewer
        .post_json_variant(&ask, json!({"message": "list all customers"}))
        .await
        .answer();
    assert_eq!(d.status, MessageStatus::Executed, "{d:?}");
    assert_eq!(d.query, None, "show_query is off for this assistant");
    let rows = d.results.unwrap();
    assert_eq!(rows.rows.len(), 7);

    // SSE, continuing the session: the same events as chat, ending with done.
    let s = viewer
        .stream(
            &ask,
            json!({"message": "how many customers are there?", "session_id": d.session_id}),
        )
        .await;
    assert!(s.names().contains(&"rows".to_owned()), "{:?}", s.names());
    assert_eq!(s.done.session_id, d.session_id);
    assert_eq!(s.done.results.unwrap().rows, [[json!(600)]]);
    let e = viewer
        .post_json_variant(&ask, json!({"message": " "}))
        .await
        .error();
    assert_eq!((e.status, e.code), (422, ErrorCode::ValidationError));

    // A stricter execution mode than the connection's: the SQL is not run.
    let g: AssistantView = admin
        .post(
            "/api/v1/assistants",
            json!({"name": "Drafts", "connection_id": conn, "options": {"execution_mode": "generate_only"}}),
        )
        .await;
    let d = admin
        .post_json_variant(
            &format!("/api/v1/assistants/{}/ask", g.id),
            json!({"message": "how many customers are there?"}),
        )
        .await
        .answer();
    assert_eq!(d.status, MessageStatus::QueryOnly, "{d:?}");
    assert!(d.results.is_none() && d.query.is_some());

    // An async question asked of an assistant takes its profile too.
    let id = crate::questions::ask(
        &admin,
        json!({"connection_id": conn, "question": "how many customers are there?", "assistant_id": g.id}),
    )
    .await;
    let q: QuestionView = finished(&admin, &id, "?include=dataframe,sqlquery").await;
    assert_eq!(q.assistant_id.as_deref(), Some(g.id.as_str()));
    assert_eq!(q.state, "COMPLETED", "{q:?}");
    assert_eq!(
        q.results.unwrap().dataframe.unwrap(),
        Vec::<Vec<Value>>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assistants_instructions_and_model_reach_the_provider() {
    let fake = FakeLlm::start().await;
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let p: ProviderView = admin
        .add_provider(
            json!({"name": "oa", "kind": "openai", "base_url": fake.base_url(), "model": "m-1"}),
        )
        .await;
    let a: AssistantView = admin
        .post(
            "/api/v1/assistants",
            json!({"name": "Careful", "connection_id": conn, "provider": p.id, "model": "m-2",
                   "instructions": "Count only customers who placed an order. ZEBRA-7."}),
        )
        .await;
    assert_eq!(a.provider.as_deref(), Some(p.id.to_string().as_str()));
    assert_eq!(a.model.as_deref(), Some("m-2"));
    fake.push_reply(Reply::sql("SELECT count(*) AS n FROM customers"));
    let d = admin
        .post_json_variant(
            &format!("/api/v1/assistants/{}/ask", a.id),
            json!({"message": "how many customers are there?"}),
        )
        .await
        .answer();
    assert_eq!(d.status, MessageStatus::Executed, "{d:?}");
    let requests = fake.completion_requests();
    assert_eq!(
        requests.len(),
        1,
        "an assistant with instructions skips the cache"
    );
    let prompt = requests[0].prompt_text();
    assert!(
        prompt.contains(
            "<<<INSTRUCTIONS\nCount only customers who placed an order. ZEBRA-7.\nINSTRUCTIONS>>>"
        ),
        "{prompt}"
    );
    assert_eq!(requests[0].body.as_ref().unwrap()["model"], "m-2");

    // Plain chat on the same provider: no instructions, the provider's own model.
    fake.push_reply(Reply::sql("SELECT count(*) AS n FROM customers"));
    let d = admin
        .chat(
            json!({"connection_id": conn, "message": "how many orders are there?", "provider": "oa",
                     "options": {"use_cache": false}}),
        )
        .await;
    assert_eq!(d.status, MessageStatus::Executed, "{d:?}");
    let last = fake.completion_requests().pop().unwrap();
    assert!(!last.prompt_text().contains("ZEBRA-7"));
    assert_eq!(last.body.as_ref().unwrap()["model"], "m-1");
}
