//! The CodeMie compatibility layer (`/compat/codemie/v1`, seed 002): the seed's curl and
//! request examples replayed against the real server and the demo database — calling an
//! assistant for one answer and as a stream, with `llmModel` reaching the provider (the
//! fake LLM server) — with each documented error status (400, 401, 403, 404) in the layer's
//! format (`{"detail"}` only), and team isolation.

use querent_domain::TeamRole;
use querent_test_support::fake_llm::{FakeLlm, Reply};
use querent_test_support::views::{ProviderView, TeamView, UserView};
use querent_test_support::{Client, Response, TestApp};
use serde_json::{Value, json};

const BASE: &str = "/compat/codemie/v1";

fn assert_error(r: &Response, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
    let keys: Vec<&String> = r.json.as_object().expect("a JSON object").keys().collect();
    assert_eq!(keys, ["detail"], "{}", r.text);
    assert!(!r.detail().is_empty());
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A thought in the seed's shape.
fn assert_thought(t: &Value) {
    assert_eq!(
        keys(t),
        [
            "author_name",
            "author_type",
            "children",
            "id",
            "in_progress",
            "input_text",
            "message",
            "metadata",
            "output_format",
            "parent_id"
        ],
        "{t}"
    );
    assert!(uuid::Uuid::parse_str(t["id"].as_str().unwrap()).is_ok());
    assert!(t["parent_id"].is_null() && t["metadata"].is_object());
    assert!(t["in_progress"].is_boolean() && t["input_text"].is_string());
    assert!(t["message"].is_string() && t["children"].is_array());
    assert_eq!(
        (t["author_type"].as_str(), t["output_format"].as_str()),
        (Some("Tool"), Some("text"))
    );
}

/// The final answer's shape (the seed's response example).
fn assert_answer(v: &Value) {
    assert_eq!(
        keys(v),
        [
            "generated",
            "taskId",
            "thoughts",
            "timeElapsed",
            "tokensUsed"
        ],
        "{v}"
    );
    assert!(v["generated"].is_string() && v["timeElapsed"].is_f64());
    assert!(v["tokensUsed"].is_null() && v["taskId"].is_null());
    v["thoughts"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(assert_thought);
}

async fn assistant(client: &Client, body: Value) -> String {
    let a: Value = client.post("/api/v1/assistants", body).await;
    a["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_calling_an_assistant() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let id = assistant(
        &admin,
        json!({"name": "Sales", "connection_id": app.demo().id}),
    )
    .await;
    let path = format!("{BASE}/assistants/{id}/model");

    // The seed's curl: {"text": "hi"} — not a question about the data, but answered.
    let r = admin.send("POST", &path, Some(json!({"text": "hi"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_answer(&r.json);
    assert!(!r.json["generated"].as_str().unwrap().is_empty());

    // A question about the data: the answer, with its steps as thoughts.
    let r = admin
        .send(
            "POST",
            &path,
            Some(json!({"text": "how many customers are there?", "stream": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_answer(&r.json);
    assert!(
        r.json["generated"].as_str().unwrap().contains("600"),
        "{}",
        r.text
    );
    let thoughts = r.json["thoughts"].as_array().unwrap();
    let authors: Vec<&str> = thoughts
        .iter()
        .map(|t| t["author_name"].as_str().unwrap())
        .collect();
    assert!(
        authors.contains(&"SQL") && authors.contains(&"Execution"),
        "{authors:?}"
    );
    let sql = thoughts.iter().find(|t| t["author_name"] == "SQL").unwrap();
    assert!(
        sql["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("count")
    );

    // The seed's request body example: {"text", "llmModel", "stream": true} — SSE chunks,
    // then the final object.
    let (resp, events) = app
        .sse(
            &path,
            Some(admin.token()),
            json!({"text": "how many customers are there?", "llmModel": "gpt-4o", "stream": true}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(events.len() >= 2, "{}", resp.text);
    let (last, chunks) = events.split_last().unwrap();
    for (_, chunk) in chunks {
        assert_eq!(chunk["last"], false, "{chunk}");
        assert!(chunk["generated_chunk"].is_string());
        if !chunk["thought"].is_null() {
            assert_thought(&chunk["thought"]);
        }
    }
    let mut fin = last.1.clone();
    assert_eq!(fin["last"], true, "{fin}");
    fin.as_object_mut().unwrap().remove("last");
    assert_answer(&fin);
    assert!(fin["generated"].as_str().unwrap().contains("600"));

    // Errors: 401 without or with a bad token, 404 for an unknown assistant, 400 for a
    // malformed id or body, all `{"detail"}`.
    let anon = app.anonymous();
    assert_error(
        &anon.send("POST", &path, Some(json!({"text": "hi"}))).await,
        401,
    );
    assert_error(
        &app.client("not-a-token")
            .send("POST", &path, Some(json!({"text": "hi"})))
            .await,
        401,
    );
    assert_error(
        &admin
            .send(
                "POST",
                &format!("{BASE}/assistants/{}/model", uuid::Uuid::now_v7()),
                Some(json!({"text": "hi"})),
            )
            .await,
        404,
    );
    assert_error(
        &admin
            .send(
                "POST",
                &format!("{BASE}/assistants/nope/model"),
                Some(json!({"text": "hi"})),
            )
            .await,
        400,
    );
    for body in [
        json!({}),
        json!({"text": 5}),
        json!({"text": "  "}),
        json!({"text": "hi", "stream": "yes"}),
    ] {
        assert_error(&admin.send("POST", &path, Some(body)).await, 400);
    }
    assert_error(&admin.send_raw("POST", &path, "{nope").await, 400);
    assert_error(&admin.send("GET", &path, None).await, 400);
    assert_error(&admin.send("GET", &format!("{BASE}/nope"), None).await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_llm_model_overrides_the_assistants_model() {
    let fake = FakeLlm::start().await;
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let p: ProviderView = admin
        .add_provider(
            json!({"name": "oa", "kind": "openai", "base_url": fake.base_url(), "model": "m-1"}),
        )
        .await;
    let id = assistant(
        &admin,
        json!({"name": "Modelled", "connection_id": app.demo().id, "provider": p.id, "model": "m-2"}),
    )
    .await;
    let path = format!("{BASE}/assistants/{id}/model");
    for (body, model) in [
        (
            json!({"text": "how many customers are there?", "llmModel": "gpt-4o"}),
            "gpt-4o",
        ),
        (json!({"text": "how many orders are there?"}), "m-2"),
    ] {
        fake.push_reply(Reply::sql("SELECT count(*) AS n FROM customers"));
        let r = admin.send("POST", &path, Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_answer(&r.json);
        let last = fake.completion_requests().pop().unwrap();
        assert_eq!(last.body.as_ref().unwrap()["model"], model);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assistants_belong_to_the_team() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let id = assistant(
        &admin,
        json!({"name": "Sales", "connection_id": app.demo().id}),
    )
    .await;
    let path = format!("{BASE}/assistants/{id}/model");
    let body = json!({"text": "how many customers are there?"});

    // A viewer of the team may call it.
    let team = app.setup().team.id;
    let (victor, viewer): (UserView, _) = admin.create_user("victor").await;
    admin.add_member(team, victor.id, TeamRole::Viewer).await;
    let r = viewer.send("POST", &path, Some(body.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Someone of another team: 404, streamed or not.
    let (eve_user, eve): (UserView, _) = admin.create_user("eve").await;
    let other: TeamView = admin.post("/api/v1/teams", json!({"name": "Other"})).await;
    admin
        .add_member(other.id, eve_user.id, TeamRole::Owner)
        .await;
    assert_error(&eve.send("POST", &path, Some(body.clone())).await, 404);
    let mut streamed = body;
    streamed["stream"] = json!(true);
    assert_error(&eve.send("POST", &path, Some(streamed)).await, 404);
}
