//! The semantic model over HTTP: drafting from the demo database, saving versions with
//! optimistic locking, validation errors that name the bad reference and where it is,
//! metrics and joins checked by the guard, roles and team isolation, deletion, and drift
//! after a real `ALTER TABLE … RENAME COLUMN` on PostgreSQL.

use querent_test_support::{PgDatabase, TestApp};
use serde_json::{Value, json};

fn path(conn: &str, rest: &str) -> String {
    format!("/api/v1/connections/{conn}/semantic-model{rest}")
}

/// Index of the table named `name` in a model.
fn table_ix(model: &Value, name: &str) -> usize {
    model["tables"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {model}"))
}

/// Index of the column named `name` in table `t` of a model.
fn column_ix(model: &Value, t: usize, name: &str) -> usize {
    model["tables"][t]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["column"] == name)
        .unwrap_or_else(|| panic!("no column {name} in table {t} of {model}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_save_validate_lock_isolate_and_delete() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let team = app.demo().team_id.to_string();

    // The demo ships with its model (version 1, saved at first boot): clients, revenue,
    // "American". This test starts from a connection without one.
    let r = app.get(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 1);
    let metrics: Vec<&str> = r.json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(metrics.contains(&"revenue"), "{metrics:?}");
    let r = app.delete(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Nothing saved now.
    let r = app.get(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.code(), "not_found");
    assert!(r.detail().contains("no semantic model"), "{}", r.text);

    // A draft is returned, not saved, and is based on version 0.
    let r = app
        .post(&path(&conn, "/generate"), Some(&admin), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let draft = r.json;
    assert_eq!(draft["version"], 0, "{draft}");
    assert_eq!(draft["connection_id"], conn.as_str());
    let items = table_ix(&draft, "order_items");
    assert_eq!(draft["tables"][items]["display_name"], "Order items");
    assert!(
        draft["joins"].as_array().unwrap().iter().any(|j| j
            == &json!({"from_table": "orders", "from_columns": ["customer_id"],
                       "to_table": "customers", "to_columns": ["id"],
                       "cardinality": "many_to_one", "source": "foreign_key"})),
        "{}",
        draft["joins"]
    );
    assert_eq!(app.get(&path(&conn, ""), Some(&admin)).await.status, 404);

    // Saved on request as version 1.
    let r = app
        .post(&path(&conn, "/generate?save=true"), Some(&admin), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 1, "{}", r.text);

    // Read it, edit it, put it back: version 2.
    let mut model = app.get(&path(&conn, ""), Some(&admin)).await.json;
    assert_eq!(model["version"], 1);
    let orders = table_ix(&model, "orders");
    model["tables"][orders]["synonyms"] = json!(["purchases", "sales"]);
    model["metrics"] = json!([{
        "name": "revenue",
        "description": "What customers paid, before discounts",
        "expression": "SUM(order_items.quantity * order_items.unit_price)",
        "table": "orders",
        "synonyms": ["turnover"]
    }]);
    let r = app.put(&path(&conn, ""), Some(&admin), model.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 2, "{}", r.text);
    assert_eq!(r.json["metrics"][0]["name"], "revenue");
    let latest = app.get(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(latest.json["version"], 2);
    assert_eq!(
        latest.json["tables"][orders]["synonyms"],
        json!(["purchases", "sales"])
    );
    let v1 = app.get(&path(&conn, "?version=1"), Some(&admin)).await;
    assert_eq!(v1.json["version"], 1, "{}", v1.text);
    assert_eq!(v1.json["metrics"], json!([]));
    let r = app.get(&path(&conn, "?version=9"), Some(&admin)).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let versions = app.get(&path(&conn, "/versions"), Some(&admin)).await;
    assert_eq!(versions.status, 200, "{}", versions.text);
    let numbers: Vec<u64> = versions.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert!(
        versions.json["items"][0]["created_by"]
            .as_str()
            .unwrap()
            .starts_with("user:")
    );

    // Optimistic locking: an edit based on version 1 is refused now that 2 exists.
    let r = app.put(&path(&conn, ""), Some(&admin), model.clone()).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.code(), "conflict");
    assert!(r.detail().contains("version 2"), "{}", r.text);
    let mut current = latest.json.clone();

    // A bad column is named, with where it is and what was probably meant.
    let total = column_ix(&current, orders, "total_amount");
    current["tables"][orders]["columns"][total]["column"] = json!("total_amont");
    let r = app
        .put(&path(&conn, ""), Some(&admin), current.clone())
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "validation_error");
    let detail = r.detail();
    assert!(
        detail.contains(&format!("tables[{orders}].columns[{total}].column")),
        "{detail}"
    );
    assert!(detail.contains("orders.total_amont"), "{detail}");
    assert!(detail.contains("did you mean \"total_amount\""), "{detail}");
    current["tables"][orders]["columns"][total]["column"] = json!("total_amount");

    // Unknown tables in joins are named too.
    let mut bad_join = current.clone();
    bad_join["joins"][0]["to_table"] = json!("custmers");
    let r = app.put(&path(&conn, ""), Some(&admin), bad_join).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("joins[0].to_table"), "{}", r.text);

    // Metrics: a write smuggled into the expression, an unknown column, and a table the
    // model does not join are refused, naming the metric.
    for (expression, hint) in [
        ("SUM(total_amount); DROP TABLE orders", "revenue"),
        ("SUM(no_such_column)", "no_such_column"),
        ("(SELECT SUM(budget) FROM departments)", "departments"),
    ] {
        let mut m = current.clone();
        m["metrics"][0]["expression"] = json!(expression);
        let r = app.put(&path(&conn, ""), Some(&admin), m).await;
        assert_eq!(r.status, 422, "{expression}: {}", r.text);
        assert!(
            r.detail().contains("metrics[0]") && r.detail().contains("revenue"),
            "{expression}: {}",
            r.text
        );
        assert!(r.detail().contains(hint), "{expression}: {}", r.text);
    }
    // Nothing of that was saved.
    assert_eq!(
        app.get(&path(&conn, ""), Some(&admin)).await.json["version"],
        2
    );

    // A body for another connection is refused; read-only fields are otherwise ignored.
    let mut other = current.clone();
    other["connection_id"] = json!("018f0000-0000-7000-8000-000000000000");
    let r = app.put(&path(&conn, ""), Some(&admin), other).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("connection_id"), "{}", r.text);

    // Roles: a viewer reads but cannot save, generate-and-save or delete.
    let (viewer_id, viewer) = app.create_user(&admin, "vera").await;
    let r = app
        .post(
            &format!("/api/v1/teams/{team}/members/{viewer_id}"),
            Some(&admin),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.get(&path(&conn, ""), Some(&viewer)).await.status, 200);
    assert_eq!(
        app.get(&path(&conn, "/drift"), Some(&viewer)).await.status,
        403,
        "drift re-reads the catalog, like a refresh: editor or above"
    );
    assert_eq!(
        app.put(&path(&conn, ""), Some(&viewer), current.clone())
            .await
            .status,
        403
    );
    assert_eq!(
        app.post(
            &path(&conn, "/generate?save=true"),
            Some(&viewer),
            json!({})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.delete(&path(&conn, ""), Some(&viewer)).await.status,
        403
    );

    // Another team sees nothing: every endpoint is 404.
    let (eve_id, eve) = app.create_user(&admin, "eve").await;
    let other_team = app
        .post("/api/v1/teams", Some(&admin), json!({"name": "Other"}))
        .await
        .str("id");
    let r = app
        .post(
            &format!("/api/v1/teams/{other_team}/members/{eve_id}"),
            Some(&admin),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for (method, rest) in [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/generate"),
        ("GET", "/drift"),
        ("GET", "/versions"),
    ] {
        let body = (method == "PUT" || method == "POST").then(|| current.clone());
        let r = app
            .request(method, &path(&conn, rest), Some(&eve), body)
            .await;
        assert_eq!(r.status, 404, "{method} {rest}: {}", r.text);
        assert_eq!(r.code(), "not_found");
    }

    // Excluding a column the model describes makes the model unsaveable until it goes.
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            Some(&admin),
            json!({"excluded_tables": [], "excluded_columns": ["customers.email"],
                   "masked_column_patterns": []}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .put(&path(&conn, ""), Some(&admin), current.clone())
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.detail().contains("customers.email") && r.detail().contains("excluded"),
        "{}",
        r.text
    );
    // A fresh draft leaves it out.
    let draft = app
        .post(&path(&conn, "/generate"), Some(&admin), json!({}))
        .await
        .json;
    let customers = table_ix(&draft, "customers");
    assert!(
        draft["tables"][customers]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["column"] != "email"),
        "{draft}"
    );
    assert_eq!(
        draft["version"], 2,
        "a draft is based on the latest version"
    );

    // Delete removes every version.
    let r = app.delete(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.get(&path(&conn, ""), Some(&admin)).await.status, 404);
    assert_eq!(
        app.get(&path(&conn, "?version=1"), Some(&admin))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&path(&conn, "/versions"), Some(&admin)).await.json["items"],
        json!([])
    );
    let r = app.delete(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.get(&path(&conn, "/drift"), Some(&admin)).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_shows_a_renamed_column_on_postgres() {
    let Some(db) = PgDatabase::create("drift_shows_a_renamed_column_on_postgres").await else {
        return;
    };
    db.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, segment TEXT NOT NULL);
         CREATE TABLE orders (
             id INTEGER PRIMARY KEY,
             customer_id INTEGER NOT NULL REFERENCES customers(id),
             total NUMERIC(10,2) NOT NULL,
             status TEXT NOT NULL
         );
         COMMENT ON TABLE orders IS 'One row per purchase';
         INSERT INTO customers VALUES (1, 'Ada', 'consumer'), (2, 'Grace', 'corporate');
         INSERT INTO orders VALUES (1, 1, 10.50, 'open'), (2, 2, 99.00, 'shipped');",
    )
    .await
    .unwrap();
    let app = TestApp::spawn().await;
    let token = app.setup_admin().await.str("access_token");
    let r = app
        .post(
            "/api/v1/connections",
            Some(&token),
            json!({"name": "shop", "dialect": "postgres", "host": "127.0.0.1", "port": 5432,
                   "database": db.name, "username": "postgres"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let conn = r.str("id");

    // Draft and save, then add a metric over `total`.
    let r = app
        .post(&path(&conn, "/generate?save=true"), Some(&token), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut model = r.json;
    let orders = table_ix(&model, "orders");
    assert_eq!(
        model["tables"][orders]["description"],
        "One row per purchase"
    );
    let total = column_ix(&model, orders, "total");
    assert_eq!(
        model["tables"][orders]["columns"][total]["data_type"],
        "numeric(10,2)"
    );
    model["metrics"] = json!([{"name": "revenue", "expression": "SUM(orders.total)",
                               "table": "orders"}]);
    let r = app.put(&path(&conn, ""), Some(&token), model).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 2);

    // No drift yet.
    let r = app.get(&path(&conn, "/drift"), Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["drifted"], false, "{}", r.text);
    assert_eq!(r.json["fingerprint_changed"], false, "{}", r.text);

    // Rename a column and add a table behind Querent's back.
    db.execute(
        "ALTER TABLE orders RENAME COLUMN total TO amount;
         CREATE TABLE refunds (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL)",
    )
    .await
    .unwrap();
    let r = app.get(&path(&conn, "/drift"), Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = r.json;
    assert_eq!(d["drifted"], true, "{d}");
    assert_eq!(d["fingerprint_changed"], true, "{d}");
    assert_eq!(d["model_version"], 2, "{d}");
    assert_eq!(
        d["renamed_columns"],
        json!([{"table": "orders", "from": "total", "to": "amount"}]),
        "{d}"
    );
    assert_eq!(d["dropped_columns"], json!([]), "{d}");
    assert_eq!(d["new_tables"], json!(["refunds"]), "{d}");
    let broken = d["broken_references"].as_array().unwrap();
    let location = format!("tables[{orders}].columns[{total}].column");
    let column_ref = broken
        .iter()
        .find(|b| b["location"] == location.as_str())
        .unwrap_or_else(|| panic!("{location} not reported broken: {d}"));
    assert_eq!(column_ref["reference"], "orders.total");
    assert!(
        column_ref["problem"]
            .as_str()
            .unwrap()
            .contains("renamed to \"amount\""),
        "{column_ref}"
    );
    let metric = broken
        .iter()
        .find(|b| b["location"] == "metrics[0].expression")
        .unwrap_or_else(|| panic!("the metric is not reported broken: {d}"));
    assert_eq!(metric["reference"], "revenue");

    // The drift read refreshed the stored snapshot: the schema shows the new name.
    let schema = app
        .get(&format!("/api/v1/connections/{conn}/schema"), Some(&token))
        .await;
    assert!(schema.text.contains("\"amount\""), "{}", schema.text);

    // The saved model is untouched until someone saves an edit; saving the old one now
    // fails and names the renamed column.
    let current = app.get(&path(&conn, ""), Some(&token)).await.json;
    assert_eq!(current["version"], 2);
    let r = app.put(&path(&conn, ""), Some(&token), current).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.detail().contains("orders.total"), "{}", r.text);
    assert!(r.detail().contains(&location), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_provider_describes_the_draft_within_the_privacy_policy() {
    use querent_test_support::fake_llm::{FakeLlm, Reply};
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::text(
        "```json\n{\"tables\": [{\"table\": \"customers\", \"description\": \"People and \
         companies that buy from us.\", \"synonyms\": [\"clients\", \"buyers\"], \"columns\": \
         [{\"column\": \"segment\", \"description\": \"Size class of the account.\", \
         \"synonyms\": [\"tier\"]}]}, {\"table\": \"invented_table\", \"description\": \"x\"}]}\n```",
    ));
    let r = app
        .post(
            "/api/v1/providers",
            Some(&admin),
            json!({"name": "llm", "kind": "openai", "base_url": fake.base_url(), "model": "m",
                   "is_default": true, "options": {"max_retries": 0}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            Some(&admin),
            json!({"excluded_tables": [], "excluded_columns": ["customers.email"],
                   "masked_column_patterns": ["city"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = app
        .post(&path(&conn, "/generate"), Some(&admin), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = table_ix(&r.json, "customers");
    let customers = &r.json["tables"][t];
    assert_eq!(
        customers["description"], "People and companies that buy from us.",
        "{customers}"
    );
    let synonyms: Vec<&str> = customers["synonyms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        synonyms.contains(&"clients") && synonyms.contains(&"buyers"),
        "{synonyms:?}"
    );
    let segment = &customers["columns"][column_ix(&r.json, t, "segment")];
    assert_eq!(segment["description"], "Size class of the account.");
    assert!(
        !r.text.contains("invented_table"),
        "the reply cannot add tables"
    );
    // The provider saw the allowed schema only: no excluded column, no masked values.
    let prompt = fake.completion_requests().last().unwrap().prompt_text();
    let block: Vec<&str> = prompt
        .lines()
        .skip_while(|l| *l != "table customers")
        .skip(1)
        .take_while(|l| !l.starts_with("table "))
        .collect();
    assert!(block.iter().any(|l| l.contains("segment")), "{prompt}");
    assert!(!block.iter().any(|l| l.contains("email")), "{prompt}");
    let city_line = prompt
        .lines()
        .find(|l| l.trim_start().starts_with("city "))
        .unwrap_or_else(|| panic!("{prompt}"));
    assert!(
        !city_line.contains("e.g."),
        "masked values stay out: {city_line}"
    );

    // `offline` means rules only (no call); a named provider that fails is a 502, the
    // default one failing leaves the rule-based draft.
    let calls = fake.completion_requests().len();
    let r = app
        .post(
            &path(&conn, "/generate?provider=offline"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(fake.completion_requests().len(), calls);
    let t = table_ix(&r.json, "customers");
    assert_ne!(
        r.json["tables"][t]["description"],
        "People and companies that buy from us."
    );
    fake.set_default_reply(Reply::status(500));
    let r = app
        .post(
            &path(&conn, "/generate?provider=llm"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 502, "{}", r.text);
    assert_eq!(r.code(), "provider_error");
    let r = app
        .post(&path(&conn, "/generate"), Some(&admin), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            &path(&conn, "/generate?provider=nope"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);

    // Each description costs tokens: a viewer gets the rules-only draft, and may not name
    // a provider.
    let team = app.get("/api/v1/connections", Some(&admin)).await.json["items"][0]["team_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = app.create_member(&admin, &team, "vic", "viewer").await;
    fake.set_default_reply(Reply::text("{\"tables\": []}"));
    let calls = fake.completion_requests().len();
    let r = app
        .post(&path(&conn, "/generate"), Some(&viewer), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        fake.completion_requests().len(),
        calls,
        "no provider call for a viewer"
    );
    let r = app
        .post(
            &path(&conn, "/generate?provider=llm"),
            Some(&viewer),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_model_comes_back_at_start_but_never_over_a_saved_model() {
    let app = TestApp::builder().with_demo().spawn().await;
    let admin = app.admin().token().to_owned();
    let conn = app.demo().id.to_string();
    let r = app.get(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let shipped = r.json.clone();
    let customers = table_ix(&shipped, "customers");
    assert!(
        shipped["tables"][customers]["synonyms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "clients"),
        "{shipped}"
    );

    // A server whose demo connection has no model (one registered before the demo had a
    // model) gets it at start.
    let r = app.delete(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let app = app.restart().await;
    let r = app.get(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 1);
    assert_eq!(r.json["metrics"], shipped["metrics"]);

    // A model someone saved stays as it is, restart after restart.
    let mut edited = r.json.clone();
    edited["description"] = json!("Our own words");
    edited["metrics"] = json!([]);
    let r = app.put(&path(&conn, ""), Some(&admin), edited).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 2);
    let app = app.restart().await;
    let app = app.restart().await;
    let r = app.get(&path(&conn, ""), Some(&admin)).await;
    assert_eq!(r.json["version"], 2, "{}", r.text);
    assert_eq!(r.json["description"], "Our own words");
    assert_eq!(r.json["metrics"], json!([]));
}
