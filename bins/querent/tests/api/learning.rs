//! The semantic cache, verified examples and chat feedback over HTTP, on the generated demo
//! database with the offline provider: hits for repeated and rephrased questions, guarded
//! misses ("top 5" vs "top 10", 2023 vs 2024), `/cache` stats, entries and deletes,
//! invalidation by a schema refresh that changed the schema, survival across a restart,
//! examples CRUD with the guard on write, and the feedback loop end to end.

use querent_test_support::fake_llm::{FakeLlm, Reply};
use querent_test_support::{Response, TestApp};
use serde_json::{Value, json};

/// Asks in a new session (JSON variant).
async fn ask(app: &TestApp, token: &str, conn: &str, question: &str) -> Value {
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(token),
            json!({"connection_id": conn, "message": question}),
        )
        .await;
    assert_eq!(r.status, 200, "{question}: {}", r.text);
    r.json
}

fn hit(v: &Value) -> bool {
    v["cache_hit"].as_bool().unwrap()
}

async fn stats(app: &TestApp, token: &str, conn: &str) -> Value {
    let r = app
        .get(
            &format!("/api/v1/cache/stats?connection_id={conn}"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_serves_repeats_and_rephrasings_but_not_other_numbers_or_years() {
    let app = TestApp::builder().with_demo().spawn().await;
    let token = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let first = ask(&app, &token, &conn, "How many customers are there?").await;
    assert_eq!(first["status"], "executed", "{first}");
    assert!(!hit(&first));

    // The same question in another session: answered from the cache, re-executed.
    let again = ask(&app, &token, &conn, "how many customers are there").await;
    assert_eq!(again["status"], "cached", "{again}");
    assert!(hit(&again));
    assert_eq!(again["query"], first["query"]);
    assert_eq!(again["results"]["rows"], first["results"]["rows"]);
    assert!(
        again["results"]["execution_time_ms"].is_u64(),
        "it ran again"
    );

    // Over SSE a hit goes linking → cache → sql → executing → rows → done (no generating).
    let (resp, events) = app
        .sse(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "How many customers are there?"}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let names: Vec<String> = events
        .iter()
        .map(|(e, d)| match e.as_str() {
            "status" => format!("status:{}", d["stage"].as_str().unwrap_or("?")),
            other => other.to_owned(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "status:linking",
            "status:cache",
            "sql",
            "status:executing",
            "rows",
            "done"
        ],
        "{}",
        resp.text
    );
    let done = &events.last().unwrap().1;
    assert_eq!(done["status"], "cached");
    assert_eq!(done["cache_hit"], true);

    // A rephrasing hits by similarity.
    let rephrased = ask(&app, &token, &conn, "how many customers in total?").await;
    assert!(hit(&rephrased), "{rephrased}");
    assert_eq!(rephrased["query"], first["query"]);

    // Guards: other numbers and years never share an answer.
    let top5 = ask(&app, &token, &conn, "top 5 products by unit price").await;
    assert_eq!(top5["status"], "executed", "{top5}");
    let top10 = ask(&app, &token, &conn, "top 10 products by unit price").await;
    assert!(!hit(&top10), "{top10}");
    assert_eq!(top10["results"]["row_count"], 10, "{top10}");
    let y23 = ask(&app, &token, &conn, "how many orders were placed in 2023?").await;
    let y24 = ask(&app, &token, &conn, "how many orders were placed in 2024?").await;
    assert!(!hit(&y23) && !hit(&y24), "{y23} {y24}");
    assert_ne!(y23["query"], y24["query"]);
    assert!(hit(&ask(
        &app,
        &token,
        &conn,
        "How many orders were placed in 2024"
    )
    .await));

    // A caller can bypass the cache.
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "how many customers are there?",
                   "options": {"use_cache": false}}),
        )
        .await;
    assert_eq!(r.json["status"], "executed", "{}", r.text);

    let s = stats(&app, &token, &conn).await;
    let c = &s["connections"][0];
    assert_eq!(c["connection_id"], conn.as_str());
    assert_eq!(c["exact_hits"], 3, "{s}");
    assert_eq!(c["similar_hits"], 1, "{s}");
    assert_eq!(c["misses"], 5, "{s}");
    assert_eq!(c["entries"], 5, "{s}");
    assert!(
        (c["hit_ratio"].as_f64().unwrap() - 4.0 / 9.0).abs() < 1e-9,
        "{s}"
    );
    assert_eq!(s["embedder"], "lexical-trigram-256");

    // Entries: listed, one deleted (its question misses again), then the rest cleared.
    let list = app
        .get(
            &format!("/api/v1/cache/entries?connection_id={conn}&limit=2"),
            Some(&token),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);
    assert!(list.json["next_cursor"].is_string());
    let all = app
        .get(
            &format!("/api/v1/cache/entries?connection_id={conn}"),
            Some(&token),
        )
        .await;
    let customers = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["question"] == "How many customers are there?")
        .unwrap_or_else(|| panic!("{}", all.text))
        .clone();
    assert!(customers["hits"].as_u64().unwrap() >= 2);
    let id = customers["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/v1/cache/entries/{id}"), Some(&token))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app
        .delete(&format!("/api/v1/cache/entries/{id}"), Some(&token))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(!hit(&ask(
        &app,
        &token,
        &conn,
        "how many customers are there?"
    )
    .await));
    let r = app
        .delete(&format!("/api/v1/cache?connection_id={conn}"), Some(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["removed"], 5, "{}", r.text);
    assert_eq!(
        stats(&app, &token, &conn).await["connections"][0]["entries"],
        0
    );
    let r = app.delete("/api/v1/cache", Some(&token)).await;
    assert_eq!(r.status, 422, "connection_id is required: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_survive_a_restart_and_a_schema_change_invalidates_them() {
    let app = TestApp::builder().with_demo().spawn().await;
    let token = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let q = "how many products are there?";
    assert!(!hit(&ask(&app, &token, &conn, q).await));
    let app = app.restart().await;
    let after = ask(&app, &token, &conn, q).await;
    assert!(hit(&after), "kept across the restart: {after}");

    // A refresh that finds the same schema keeps the entries.
    let r = app
        .post(
            &format!("/api/v1/connections/{conn}/schema/refresh"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(hit(&ask(&app, &token, &conn, q).await));

    // The schema changes: the refresh drops the entries of the old schema.
    let db = app.data_path().join("demo.sqlite");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("ALTER TABLE products ADD COLUMN weight_kg REAL")
        .unwrap();
    drop(c);
    let r = app
        .post(
            &format!("/api/v1/connections/{conn}/schema/refresh"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        stats(&app, &token, &conn).await["connections"][0]["entries"],
        0
    );
    let fresh = ask(&app, &token, &conn, q).await;
    assert_eq!(fresh["status"], "executed", "{fresh}");
    assert!(!hit(&fresh));
}

fn examples_of(r: &Response) -> Vec<Value> {
    r.json["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_teaches_examples_and_the_cache() {
    let app = TestApp::builder().with_demo().spawn().await;
    let token = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let team = app.demo().team_id.to_string();
    let q = "which customers signed up most recently?";
    let first = ask(&app, &token, &conn, q).await;
    assert_eq!(first["status"], "executed", "{first}");
    let message = first["message_id"].as_str().unwrap().to_owned();
    let feedback = |body: Value| {
        let (app, token, message) = (&app, token.clone(), message.clone());
        async move {
            app.post(
                &format!("/api/v1/chat/feedback/{message}"),
                Some(&token),
                body,
            )
            .await
        }
    };

    // Thumbs-up: a verified example, and the answer cached.
    let r = feedback(json!({"rating": "up"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["example"]["source"], "feedback_up");
    assert_eq!(r.json["example"]["sql"], first["query"]);
    assert_eq!(r.json["cached"], true);
    let listed = app
        .get(
            &format!("/api/v1/examples?connection_id={conn}"),
            Some(&token),
        )
        .await;
    assert_eq!(examples_of(&listed).len(), 1, "{}", listed.text);
    assert!(hit(&ask(&app, &token, &conn, q).await));

    // Thumbs-down: the cached answer goes, and so does the example.
    let r = feedback(json!({"rating": "down"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["cache_entries_removed"].as_u64().unwrap() >= 1,
        "{}",
        r.text
    );
    let listed = app
        .get(
            &format!("/api/v1/examples?connection_id={conn}"),
            Some(&token),
        )
        .await;
    assert!(examples_of(&listed).is_empty(), "{}", listed.text);
    let after_down = ask(&app, &token, &conn, q).await;
    assert!(!hit(&after_down), "{after_down}");

    // A correction is validated by the guard: a bad column is named, a write refused.
    let r = feedback(json!({"rating": "down",
        "corrected_sql": "SELECT first_name, signup_day FROM customers"}))
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("signup_day"), "{}", r.text);
    let r = feedback(json!({"rating": "down", "corrected_sql": "DELETE FROM customers"})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "guard_rejected", "{}", r.text);

    // A valid correction becomes the example, and the next answer to the question uses it.
    let corrected = "SELECT first_name, last_name, signup_date FROM customers ORDER BY signup_date DESC LIMIT 3";
    let r = feedback(json!({"rating": "down", "corrected_sql": corrected})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["example"]["source"], "feedback_correction");
    assert_eq!(r.json["example"]["sql"], corrected);
    assert_eq!(r.json["cached"], false, "a correction has not run yet");
    let taught = ask(&app, &token, &conn, q).await;
    assert_eq!(taught["status"], "executed", "{taught}");
    assert_eq!(taught["query"], corrected, "{taught}");
    assert_eq!(taught["results"]["row_count"], 3);
    // ...and that answer, having run, is cached.
    assert!(hit(&ask(&app, &token, &conn, q).await));

    // Sessions are private: a viewer cannot judge someone else's answer, and another
    // team sees nothing.
    let viewer = app.create_member(&token, &team, "vera", "viewer").await;
    for rating in ["up", "down"] {
        let r = app
            .post(
                &format!("/api/v1/chat/feedback/{message}"),
                Some(&viewer),
                json!({"rating": rating}),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
    let (_, outsider) = app.create_user(&token, "otto").await;
    let r = app
        .post(
            &format!("/api/v1/chat/feedback/{message}"),
            Some(&outsider),
            json!({"rating": "down"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // On their own answer a viewer may say `down` (the cached answer goes; the editor's
    // example stays) but not `up` (examples need an editor).
    let mine = ask(&app, &viewer, &conn, q).await;
    assert!(hit(&mine), "{mine}");
    let own = mine["message_id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/chat/feedback/{own}"),
            Some(&viewer),
            json!({"rating": "up"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/chat/feedback/{own}"),
            Some(&viewer),
            json!({"rating": "down"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.json["cache_entries_removed"].as_u64().unwrap() >= 1,
        "{}",
        r.text
    );
    let listed = app
        .get(
            &format!("/api/v1/examples?connection_id={conn}"),
            Some(&token),
        )
        .await;
    assert_eq!(examples_of(&listed).len(), 1, "{}", listed.text);

    // A follow-up question cannot become an example: it means little on its own.
    let follow = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "session_id": first["session_id"],
                   "message": "how many customers are there?"}),
        )
        .await;
    assert_eq!(follow.status, 200, "{}", follow.text);
    assert_eq!(follow.json["cache_hit"], false, "follow-ups skip the cache");
    let fid = follow.json["message_id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/chat/feedback/{fid}"),
            Some(&token),
            json!({"rating": "up"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("earlier turns"), "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/chat/feedback/{message}"),
            Some(&token),
            json!({"rating": "sideways"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_crud_validates_sql_and_respects_teams() {
    let app = TestApp::builder().with_demo().spawn().await;
    let token = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let team = app.demo().team_id.to_string();
    let create = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move { app.post("/api/v1/examples", Some(&token), body).await }
    };
    let r = create(
        json!({"connection_id": conn, "question": "Revenue per country",
        "sql": "SELECT ship_country, SUM(total_amount) FROM orders GROUP BY ship_country"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["source"], "manual");
    let id = r.json["id"].as_str().unwrap().to_owned();

    let r =
        create(json!({"connection_id": conn, "question": "q", "sql": "DROP TABLE orders"})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "guard_rejected", "{}", r.text);
    let r = create(json!({"connection_id": conn, "question": "q",
        "sql": "SELECT shipping_country FROM orders"}))
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("shipping_country"), "{}", r.text);
    let r = create(json!({"connection_id": conn, "question": "  ", "sql": "SELECT 1"})).await;
    assert_eq!(r.status, 422, "{}", r.text);

    let r = app
        .patch(
            &format!("/api/v1/examples/{id}"),
            Some(&token),
            json!({"question": "Revenue by ship country"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["question"], "Revenue by ship country");
    let r = app
        .patch(
            &format!("/api/v1/examples/{id}"),
            Some(&token),
            json!({"sql": "SELECT nope FROM orders"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = app
        .get(&format!("/api/v1/examples/{id}"), Some(&token))
        .await;
    assert_eq!(
        r.json["question"], "Revenue by ship country",
        "a refused edit changes nothing"
    );

    let viewer = app.create_member(&token, &team, "vic", "viewer").await;
    assert_eq!(
        app.get(&format!("/api/v1/examples/{id}"), Some(&viewer))
            .await
            .status,
        200
    );
    assert_eq!(
        app.delete(&format!("/api/v1/examples/{id}"), Some(&viewer))
            .await
            .status,
        403
    );
    let (_, outsider) = app.create_user(&token, "olga").await;
    assert_eq!(
        app.get(&format!("/api/v1/examples/{id}"), Some(&outsider))
            .await
            .status,
        404
    );
    assert!(examples_of(&app.get("/api/v1/examples", Some(&outsider)).await).is_empty());
    let r = app
        .delete(&format!("/api/v1/examples/{id}"), Some(&token))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.get(&format!("/api/v1/examples/{id}"), Some(&token))
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_embeddings_api_embeds_questions_and_its_failure_does_not_break_chat() {
    let fake = FakeLlm::start().await;
    let base = fake.base_url();
    let app = TestApp::builder()
        .demo()
        .config(move |c| {
            c.embedder = "openai".into();
            c.embedding_base_url = Some(base);
            c.embedding_model = Some("embed-1".into());
            c.embedding_api_key = Some("sk-embed-test".into());
        })
        .spawn()
        .await;
    let ready = app.get("/ready", None).await;
    assert_eq!(ready.json["embedder"], "openai:embed-1", "{}", ready.text);
    assert!(ready.json["embedder_note"].is_null(), "{}", ready.text);
    let token = app.setup_admin().await.str("access_token");
    let list = app.get("/api/v1/connections", Some(&token)).await;
    let conn = list.json["items"][0]["id"].as_str().unwrap().to_owned();

    let q = "How many orders are there?";
    assert!(!hit(&ask(&app, &token, &conn, q).await));
    let inputs: Vec<String> = fake
        .embedding_requests()
        .iter()
        .flat_map(|r| r.embedding_inputs())
        .collect();
    assert!(
        inputs.iter().any(|i| i == q),
        "the question was embedded: {inputs:?}"
    );
    let auth = fake.embedding_requests()[0]
        .header("authorization")
        .unwrap_or_default()
        .to_owned();
    assert!(auth.contains("sk-embed-test"));
    let s = stats(&app, &token, &conn).await;
    assert_eq!(s["embedder"], "openai:embed-1");
    let entries = app
        .get(
            &format!("/api/v1/cache/entries?connection_id={conn}"),
            Some(&token),
        )
        .await;
    assert_eq!(
        entries.json["items"][0]["embedder"], "openai:embed-1",
        "{}",
        entries.text
    );
    assert!(hit(&ask(&app, &token, &conn, q).await));

    // The embeddings API fails (no retries left): chat still answers, exact hits still hit.
    fake.push_embedding_replies((0..8).map(|_| Reply::status(400)));
    let again = ask(&app, &token, &conn, q).await;
    assert!(hit(&again), "{again}");
    let other = ask(&app, &token, &conn, "How many products are there?").await;
    assert_eq!(other["status"], "executed", "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_similar_examples_reach_the_provider_prompt() {
    let app = TestApp::builder().with_demo().spawn().await;
    let token = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql("SELECT count(*) AS n FROM orders"));
    let r = app
        .post(
            "/api/v1/providers",
            Some(&token),
            json!({"name": "llm", "kind": "openai", "base_url": fake.base_url(), "model": "m"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for (q, sql) in [
        (
            "How many orders were shipped to France?",
            "SELECT count(*) FROM orders WHERE ship_country = 'France'",
        ),
        ("List every department", "SELECT name FROM departments"),
    ] {
        let r = app
            .post(
                "/api/v1/examples",
                Some(&token),
                json!({"connection_id": conn, "question": q, "sql": sql}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = app
        .post_json(
            "/api/v1/chat",
            Some(&token),
            json!({"connection_id": conn, "message": "How many orders were shipped to Germany?",
                   "provider": "llm"}),
        )
        .await;
    assert_eq!(r.json["status"], "executed", "{}", r.text);
    let prompt = fake.completion_requests().last().unwrap().prompt_text();
    assert!(
        prompt.contains("How many orders were shipped to France?")
            && prompt.contains("ship_country = 'France'"),
        "the similar example is shown: {prompt}"
    );
    assert!(
        !prompt.contains("List every department"),
        "an unrelated example is not: {prompt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouped_question_never_gets_the_total_from_the_cache_nor_the_other_way_round() {
    let app = TestApp::builder().with_demo().spawn().await;
    let token = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let total = ask(&app, &token, &conn, "How many customers are there?").await;
    assert_eq!(total["status"], "executed", "{total}");
    let per_country = ask(&app, &token, &conn, "How many customers per country?").await;
    assert!(!hit(&per_country), "{per_country}");
    assert_ne!(per_country["query"], total["query"]);
    // Both are cached now; each question gets its own answer, asked either way.
    for (question, of) in [
        ("How many customers are there in total?", &total),
        ("how many customers for each country?", &per_country),
        ("How many customers by country?", &per_country),
        ("how many customers are there", &total),
    ] {
        let again = ask(&app, &token, &conn, question).await;
        assert_eq!(again["query"], of["query"], "{question}: {again}");
        assert_eq!(
            again["results"]["row_count"], of["results"]["row_count"],
            "{question}"
        );
    }
}
