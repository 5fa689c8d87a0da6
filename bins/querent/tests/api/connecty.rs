//! The Connecty compatibility layer (`/compat/connecty/v1`, seed 004): every curl of the
//! seed replayed against the real server and the demo database — health, the token
//! exchange (POST and GET), asking a question of a data workspace by its integer `dw_id`
//! and collecting its results in the seed's exact shape — with each error in the layer's
//! format (`{"detail"}` only), a finished question surviving a restart, and team
//! isolation on every route.

use std::time::Duration;

use querent_domain::TeamRole;
use querent_test_support::views::{ApiClientCreated, TeamView, UserView};
use querent_test_support::{Client, Response, TestApp};
use serde_json::{Value, json};

const BASE: &str = "/compat/connecty/v1";

/// An error in the layer's format: the status, and a body that is `{"detail": "…"}` only.
fn assert_error(r: &Response, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
    let keys: Vec<&String> = r.json.as_object().expect("a JSON object").keys().collect();
    assert_eq!(keys, ["detail"], "{}", r.text);
    assert!(!r.detail().is_empty());
}

/// An API client of the admin's team exchanged for a token through the layer.
async fn client_token(app: &TestApp, admin: &Client) -> Client {
    let created: ApiClientCreated = admin
        .post(
            "/api/v1/api-clients",
            json!({"name": "connecty", "scopes": ["query:read"]}),
        )
        .await;
    let r = app
        .anonymous()
        .send(
            "POST",
            &format!("{BASE}/auth/token"),
            Some(json!({"client_id": created.client.client_id, "client_secret": created.client_secret})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.client(r.str("access_token"))
}

/// Asks a question; checks the immediate `{question_id}`.
async fn ask(client: &Client, dw_id: i64, question: &str) -> String {
    let r = client
        .send(
            "POST",
            &format!("{BASE}/dw/{dw_id}/questions"),
            Some(json!({ "question": question })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&String> = r.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["question_id"]);
    let id = r.str("question_id");
    uuid::Uuid::parse_str(&id).expect("question_id is a UUID");
    id
}

/// Polls until the question is COMPLETED or FAILED (only `state` until then), then reads
/// it with `query`.
async fn results(client: &Client, dw_id: i64, id: &str, query: &str) -> Value {
    let path = format!("{BASE}/dw/{dw_id}/questions/{id}/results");
    for _ in 0..1200 {
        let r = client.send("GET", &path, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let state = r.str("state");
        if state == "COMPLETED" || state == "FAILED" {
            let r = client.send("GET", &format!("{path}{query}"), None).await;
            assert_eq!(r.status, 200, "{}", r.text);
            return r.json;
        }
        assert!(["PENDING", "IN_PROGRESS"].contains(&state.as_str()));
        assert_eq!(
            r.json.as_object().unwrap().len(),
            1,
            "only the state: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("question {id} was not answered within a minute");
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_health_and_token_exchange() {
    let app = TestApp::builder().with_demo().spawn().await;
    let anon = app.anonymous();

    // curl -X GET …/v1/health
    let r = anon.send("GET", &format!("{BASE}/health"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // curl -X POST …/v1/auth/token -d '{"client_id", "client_secret"}'
    let created: ApiClientCreated = app
        .admin()
        .post(
            "/api/v1/api-clients",
            json!({"name": "connecty", "scopes": ["query:read"]}),
        )
        .await;
    let creds =
        json!({"client_id": created.client.client_id, "client_secret": created.client_secret});
    let path = format!("{BASE}/auth/token");
    let r = anon.send("POST", &path, Some(creds.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.json), ["access_token", "expires_at"]);
    let expires_at = r.str("expires_at");
    assert!(
        expires_at.ends_with("+00:00") && expires_at.contains('T'),
        "RFC 3339 with an offset, as the seed writes it: {expires_at}"
    );
    let token = r.str("access_token");
    let dws = app
        .client(token)
        .send("GET", &format!("{BASE}/dw"), None)
        .await;
    assert_eq!(dws.status, 200, "the token works: {}", dws.text);

    // The seed's heading says GET: a JSON body, or query parameters.
    let r = anon.send("GET", &path, Some(creds.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.str("access_token").is_empty());
    let r = anon
        .send(
            "GET",
            &format!(
                "{path}?client_id={}&client_secret={}",
                created.client.client_id, created.client_secret
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Errors: wrong secret 401, missing field or malformed JSON 422, wrong method 405,
    // unknown path 404 — all `{"detail"}`.
    let wrong = json!({"client_id": created.client.client_id, "client_secret": "qcs_wrong"});
    assert_error(&anon.send("POST", &path, Some(wrong.clone())).await, 401);
    assert_error(&anon.send("GET", &path, Some(wrong)).await, 401);
    assert_error(
        &anon
            .send("POST", &path, Some(json!({"client_id": "x"})))
            .await,
        422,
    );
    assert_error(&anon.send_raw("POST", &path, "{not json").await, 422);
    assert_error(&anon.send("DELETE", &path, None).await, 405);
    assert_error(&anon.send("GET", &format!("{BASE}/nope"), None).await, 404);
    assert_error(&anon.send("GET", &format!("{BASE}/dw"), None).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_questions_and_results_in_the_seeds_shape() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let client = client_token(&app, &admin).await;
    let dw_id = app.demo().dw_id;
    assert!(dw_id > 0);

    // The data workspaces: the demo, by its integer id, as the native connection shows it.
    let r = client.send("GET", &format!("{BASE}/dw"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!([{"dw_id": dw_id, "name": "demo"}]));
    let native: querent_test_support::views::ConnectionView = admin
        .get(&format!("/api/v1/connections/{}", app.demo().id))
        .await;
    assert_eq!(native.dw_id, dw_id, "stable");

    // curl -X POST …/v1/dw/13/questions -d '{"question": "…"}'
    let id = ask(&client, dw_id, "list all customers").await;

    // curl …/results (default: the data frame only, header row first).
    let v = results(&client, dw_id, &id, "").await;
    assert_eq!(keys(&v), ["results", "state"]);
    assert_eq!(v["state"], "COMPLETED");
    assert_eq!(keys(&v["results"]), ["dataframe"]);
    let frame = v["results"]["dataframe"].as_array().unwrap();
    let header: Vec<&str> = frame[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(!header.is_empty());
    assert_eq!(
        frame.len(),
        1 + 600,
        "every one of the demo's 600 customers"
    );

    // curl …/results?include=dataframe,sqlquery,statistics&max_rows=50
    let v = results(
        &client,
        dw_id,
        &id,
        "?include=dataframe,sqlquery,statistics&max_rows=50",
    )
    .await;
    let r = &v["results"];
    assert_eq!(keys(r), ["dataframe", "dataframe_stats", "sql_query"]);
    assert!(
        r["sql_query"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("customers")
    );
    assert_eq!(r["dataframe"].as_array().unwrap().len(), 1 + 50);
    let stats = r["dataframe_stats"].as_object().unwrap();
    assert_eq!(stats.len(), header.len(), "one entry per column");
    let mut sections = Vec::new();
    for (name, s) in stats {
        assert!(header.contains(&name.as_str()), "{name}");
        assert_eq!(
            s["general"],
            json!({"count": 600, "nulls_count": s["general"]["nulls_count"]}),
            "statistics over the whole result, not the 50 rows returned: {name}: {s}"
        );
        assert!(s["general"]["nulls_count"].is_u64());
        let typed: Vec<&str> = ["numeric", "string", "temporal", "boolean"]
            .into_iter()
            .filter(|k| s.get(*k).is_some())
            .collect();
        assert_eq!(typed.len(), 1, "{name}: {s}");
        let section = &s[typed[0]];
        if typed[0] != "boolean" {
            assert_eq!(section["distinct_approx"], false, "{name}: {s}");
            assert!(section["distinct_count"].is_u64(), "{name}: {s}");
        }
        if typed[0] == "string" {
            for k in ["empty_string_count", "min_len", "mean_len", "max_len"] {
                assert!(section[k].is_number(), "{name}: {k}: {s}");
            }
        }
        if typed[0] == "temporal" {
            assert!(
                section["min"].is_string() && section["max"].is_string(),
                "{s}"
            );
        }
        sections.push(typed[0]);
    }
    assert!(sections.contains(&"string"), "{sections:?}");

    // …and the summary.
    let v = results(&client, dw_id, &id, "?include=summary").await;
    assert_eq!(keys(&v["results"]), ["response_summary"]);
    assert!(
        !v["results"]["response_summary"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // A question that cannot be answered ends FAILED, saying why.
    let failed = ask(&client, dw_id, "what's the weather like tomorrow in Paris?").await;
    let v = results(&client, dw_id, &failed, "").await;
    assert_eq!(v["state"], "FAILED");
    assert_eq!(keys(&v), ["detail", "state"]);

    // Errors, each `{"detail"}`: no token 401, unknown data workspace 404, a dw_id or
    // question id that is not one 422, an unknown question 404, an unknown include 422,
    // an empty question 422, wrong method 405.
    let anon = app.anonymous();
    let results_path = format!("{BASE}/dw/{dw_id}/questions/{id}/results");
    assert_error(&anon.send("GET", &results_path, None).await, 401);
    assert_error(
        &anon
            .send(
                "POST",
                &format!("{BASE}/dw/{dw_id}/questions"),
                Some(json!({"question": "x"})),
            )
            .await,
        401,
    );
    assert_error(
        &client
            .send(
                "GET",
                &format!("{BASE}/dw/999999/questions/{id}/results"),
                None,
            )
            .await,
        404,
    );
    assert_error(
        &client
            .send(
                "GET",
                &format!("{BASE}/dw/abc/questions/{id}/results"),
                None,
            )
            .await,
        422,
    );
    assert_error(
        &client
            .send(
                "GET",
                &format!("{BASE}/dw/{dw_id}/questions/nope/results"),
                None,
            )
            .await,
        422,
    );
    assert_error(
        &client
            .send(
                "GET",
                &format!(
                    "{BASE}/dw/{dw_id}/questions/{}/results",
                    uuid::Uuid::now_v7()
                ),
                None,
            )
            .await,
        404,
    );
    assert_error(
        &client
            .send("GET", &format!("{results_path}?include=charts"), None)
            .await,
        422,
    );
    assert_error(
        &client
            .send("GET", &format!("{results_path}?max_rows=-1"), None)
            .await,
        422,
    );
    for body in [json!({"question": " "}), json!({}), json!({"question": 5})] {
        assert_error(
            &client
                .send("POST", &format!("{BASE}/dw/{dw_id}/questions"), Some(body))
                .await,
            422,
        );
    }
    assert_error(
        &client
            .send(
                "POST",
                &format!("{BASE}/dw/999999/questions"),
                Some(json!({"question": "list all customers"})),
            )
            .await,
        404,
    );
    assert_error(&client.send("DELETE", &results_path, None).await, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_rows_defaults_to_1000_and_a_finished_question_survives_a_restart() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let conn = app.demo().id;
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{conn}/config"),
            json!({"statement_timeout_ms": 15000, "max_rows": 5000}),
        )
        .await;
    let dw_id = app.demo().dw_id;
    let id = ask(&admin, dw_id, "list all orders").await;
    let v = results(&admin, dw_id, &id, "?include=dataframe,statistics").await;
    assert_eq!(v["state"], "COMPLETED", "{v}");
    let frame = v["results"]["dataframe"].as_array().unwrap();
    assert_eq!(frame.len(), 1 + 1000, "max_rows defaults to 1000");
    let stats = v["results"]["dataframe_stats"].as_object().unwrap();
    let count = stats.values().next().unwrap()["general"]["count"]
        .as_u64()
        .unwrap();
    assert!(count > 1000, "statistics over the whole result: {count}");

    let app = app.restart().await;
    let admin = app.admin();
    let after = results(&admin, dw_id, &id, "?include=dataframe,statistics").await;
    assert_eq!(after, v, "kept across the restart");
    let r = admin.send("GET", &format!("{BASE}/dw"), None).await;
    assert_eq!(r.json[0]["dw_id"], dw_id, "the alias too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_workspaces_and_questions_belong_to_the_team() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin();
    let dw_id = app.demo().dw_id;
    let id = ask(&admin, dw_id, "how many customers are there?").await;
    let done = results(&admin, dw_id, &id, "").await;
    assert_eq!(done["state"], "COMPLETED");

    // A client of this team (made before the admin joins another one).
    let b_client = client_token(&app, &admin).await;

    // Eve of another team, with a connection of her own (another dw_id).
    let (eve_user, eve): (UserView, _) = admin.create_user("eve").await;
    let eve_team: TeamView = admin.post("/api/v1/teams", json!({"name": "Eve's"})).await;
    admin
        .add_member(eve_team.id, eve_user.id, TeamRole::Owner)
        .await;
    let own = eve
        .create_connection(json!({
            "name": "mine", "dialect": "sqlite", "path": app.sqlite_file(),
            "team_id": eve_team.id,
        }))
        .await;
    assert_ne!(own.dw_id, dw_id);
    let r = eve.send("GET", &format!("{BASE}/dw"), None).await;
    assert_eq!(r.json, json!([{"dw_id": own.dw_id, "name": "mine"}]));

    // This team's data workspace and question: 404, as if they did not exist.
    assert_error(
        &eve.send(
            "POST",
            &format!("{BASE}/dw/{dw_id}/questions"),
            Some(json!({"question": "how many customers are there?"})),
        )
        .await,
        404,
    );
    assert_error(
        &eve.send(
            "GET",
            &format!("{BASE}/dw/{dw_id}/questions/{id}/results"),
            None,
        )
        .await,
        404,
    );
    // Nor through her own data workspace.
    assert_error(
        &eve.send(
            "GET",
            &format!("{BASE}/dw/{}/questions/{id}/results", own.dw_id),
            None,
        )
        .await,
        404,
    );
    // The other way round: this team's client cannot reach Eve's.
    let r = b_client.send("GET", &format!("{BASE}/dw"), None).await;
    assert_eq!(r.json, json!([{"dw_id": dw_id, "name": "demo"}]));
    assert_error(
        &b_client
            .send(
                "POST",
                &format!("{BASE}/dw/{}/questions", own.dw_id),
                Some(json!({"question": "how many customers are there?"})),
            )
            .await,
        404,
    );
    let eves = ask(&eve, own.dw_id, "how many customers are there?").await;
    assert_error(
        &b_client
            .send(
                "GET",
                &format!("{BASE}/dw/{dw_id}/questions/{eves}/results"),
                None,
            )
            .await,
        404,
    );
}
