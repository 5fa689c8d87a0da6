//! `querent eval` on a tiny suite with a known score, on the repository's demo business
//! suite (`eval/demo-business`, on a freshly generated demo database), and on
//! `../shared/eval/spider-dev` when it is present (otherwise skipped through the gate — a
//! `SKIPPED` line in the output — or failed under `QUERENT_REQUIRE_SERVICES=1`).

use std::path::PathBuf;

use querent::eval::{EvalArgs, Filter, Outcome, Progress, run};

fn tiny_suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("db")).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("db/zoo.sqlite")).unwrap();
    db.execute_batch(
        "CREATE TABLE keeper (keeper_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE animal (animal_id INTEGER PRIMARY KEY, name TEXT NOT NULL,
             species TEXT NOT NULL, age INTEGER NOT NULL,
             keeper_id INTEGER REFERENCES keeper(keeper_id));
         INSERT INTO keeper VALUES (1, 'Ada'), (2, 'Bo');
         INSERT INTO animal VALUES (1, 'Rex', 'lion', 7, 1), (2, 'Mia', 'zebra', 3, 2),
             (3, 'Zed', 'lion', 12, 1), (4, 'Kiki', 'parrot', 30, NULL);",
    )
    .unwrap();
    drop(db);
    let lines = [
        // Right: the translator counts; the gold counts.
        r#"{"id": "t1", "db": "zoo", "question": "How many animals are there?", "gold_sql": "SELECT count(*) FROM animal", "difficulty": "easy"}"#,
        // Right, with a list of acceptable gold answers (the second one matches).
        r#"{"id": "t2", "db": "zoo", "question": "How many keepers are there?", "gold_sql": ["SELECT 99", "SELECT count(*) FROM keeper"], "difficulty": "easy"}"#,
        // Wrong on purpose: the gold answers a different question.
        r#"{"id": "t3", "db": "zoo", "question": "How many animals are there?", "gold_sql": "SELECT count(*) FROM keeper", "difficulty": "medium"}"#,
        // Not a question about this database.
        r#"{"id": "t4", "db": "zoo", "question": "Please sing me a song about the sea", "gold_sql": "SELECT 1", "difficulty": "hard", "category": "chatter", "split": "heldout"}"#,
    ];
    std::fs::write(dir.path().join("questions.jsonl"), lines.join("\n")).unwrap();
    dir
}

fn args(suite: PathBuf) -> EvalArgs {
    EvalArgs {
        suite,
        provider: None,
        provider_config: None,
        filter: Filter::default(),
        limit: None,
        jobs: 2,
        progress: Progress::Hidden,
        models: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_suite_gives_its_known_score() {
    let suite = tiny_suite();
    let report = run(&args(suite.path().to_path_buf())).await.unwrap();
    let outcomes: Vec<(String, Outcome)> = report
        .graded
        .iter()
        .map(|g| (g.id.clone(), g.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("t1".into(), Outcome::Correct),
            ("t2".into(), Outcome::Correct),
            ("t3".into(), Outcome::Wrong),
            ("t4".into(), Outcome::CannotTranslate),
        ],
        "{}",
        report.failures_jsonl()
    );
    assert_eq!(report.overall.n, 4);
    assert_eq!(report.overall.correct, 2);
    assert!((report.overall.accuracy - 0.5).abs() < 1e-9);
    assert_eq!(report.by_difficulty["easy"].correct, 2);
    assert_eq!(report.by_difficulty["medium"].wrong, 1);
    assert_eq!(report.by_db["zoo"].n, 4);
    let linking = report.linking.clone().expect("linking metrics");
    assert_eq!(linking.n, 2, "questions whose first gold SQL reads a table");
    // t1 links `animal` (its gold table); t3's gold reads `keeper`, which the question never names.
    assert!((linking.table_recall - 0.5).abs() < 1e-9, "{linking:?}");
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "suite",
        "provider",
        "overall",
        "by_difficulty",
        "by_db",
        "linking",
        "latency_ms",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    // Precision: 2 correct of the 3 answered (t4 was declined).
    assert_eq!(report.overall.answered, 3);
    assert!((report.overall.precision - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(report.gold_errors, 0);
    assert_eq!(report.by_split["heldout"].cannot_translate, 1);
    assert!(report.table().contains("overall"));
    let md = report.markdown();
    assert!(
        md.contains("| **overall** | 4 | 2 | 50.0% | 66.7% |"),
        "{md}"
    );
    assert!(md.contains("precision 66.7%"), "{md}");
    // Every grouping the suite has, and the linking figures.
    for heading in ["| difficulty |", "| category |", "| split |", "| chatter |"] {
        assert!(md.contains(heading), "{heading} missing: {md}");
    }
    assert!(md.contains("schema linking: table recall 0.500"), "{md}");
    let failures = report.failures_jsonl();
    assert_eq!(failures.lines().count(), 2);
    assert!(failures.contains("\"outcome\":\"wrong\""));

    // The filter and the limit.
    let mut a = args(suite.path().to_path_buf());
    a.limit = Some(1);
    assert_eq!(run(&a).await.unwrap().overall.n, 1);
    a.filter = Filter::parse("db=nowhere").unwrap();
    assert!(run(&a).await.is_err());
    let mut a = args(suite.path().to_path_buf());
    a.filter = Filter::parse("difficulty=easy|hard").unwrap();
    let ids: Vec<String> = run(&a)
        .await
        .unwrap()
        .graded
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(ids, ["t1", "t2", "t4"]);
    a.filter = Filter::parse("db=zoo,category=chatter,split=heldout").unwrap();
    let ids: Vec<String> = run(&a)
        .await
        .unwrap()
        .graded
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(ids, ["t4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_result_is_graded_and_a_failing_gold_is_an_error() {
    use querent_test_support::fake_llm::{FakeLlm, Reply};
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql("SELECT n FROM big"));
    let suite = tiny_suite();
    let db = rusqlite::Connection::open(suite.path().join("db/zoo.sqlite")).unwrap();
    db.execute_batch(
        "CREATE TABLE big (n INTEGER);
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 450)
         INSERT INTO big SELECT i FROM c;",
    )
    .unwrap();
    drop(db);
    let lines = [
        // 450 rows: more than a session's history keeps.
        r#"{"id": "b1", "db": "zoo", "question": "List every number", "gold_sql": "SELECT n FROM big"}"#,
        // 450 rows where the gold has 449: wrong, whatever the first rows say.
        r#"{"id": "b2", "db": "zoo", "question": "List the numbers but one", "gold_sql": "SELECT n FROM big WHERE n < 450"}"#,
        // The gold is broken: an error, not a wrong answer.
        r#"{"id": "b3", "db": "zoo", "question": "List every number", "gold_sql": "SELECT n FROM no_such_table"}"#,
    ];
    std::fs::write(suite.path().join("questions.jsonl"), lines.join("\n")).unwrap();
    let mut a = args(suite.path().to_path_buf());
    a.provider_config = Some(
        serde_json::json!({"name": "fake", "kind": "openai", "base_url": fake.base_url(), "model": "m"})
            .to_string(),
    );
    let report = run(&a).await.unwrap();
    let outcomes: Vec<(String, Outcome, bool)> = report
        .graded
        .iter()
        .map(|g| (g.id.clone(), g.outcome, g.gold_failed))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("b1".into(), Outcome::Correct, false),
            ("b2".into(), Outcome::Wrong, false),
            ("b3".into(), Outcome::Error, true),
        ],
        "{}",
        report.failures_jsonl()
    );
    assert_eq!(report.gold_errors, 1);
    assert!(
        report.table().contains("1 gold queries FAILED"),
        "{}",
        report.table()
    );
    assert!(report.failures_jsonl().contains("no_such_table"));

    // The command line exits non-zero on a failing gold.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_querent"))
        .arg("--data-dir")
        .arg(suite.path().join("data"))
        .args(["eval", "--suite"])
        .arg(suite.path())
        .args(["--filter", "db=zoo", "--limit", "3", "--jobs", "1"])
        .env_remove("QUERENT_DATABASE_URL")
        .env_remove("QUERENT_MASTER_KEY")
        .env(
            "QUERENT_EVAL_PROVIDER",
            a.provider_config.as_deref().unwrap(),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("1 gold queries failed"), "{stderr}");
    // Without a terminal, progress comes as lines.
    assert!(stderr.contains("eval: 3/3 questions"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_s_semantic_models_are_applied() {
    let suite = tiny_suite();
    std::fs::create_dir(suite.path().join("models")).unwrap();
    // A model as GET returns it (with another server's read-only fields).
    std::fs::write(
        suite.path().join("models/zoo.json"),
        serde_json::json!({
            "connection_id": "00000000-0000-7000-8000-000000000000",
            "version": 7,
            "schema_fingerprint": "elsewhere",
            "updated_at": 0,
            "description": "A small zoo",
            "tables": [{"table": "animal", "synonyms": ["beasts", "creatures"]}],
            "metrics": [{"name": "animal_count", "table": "animal", "expression": "COUNT(animal.animal_id)"}]
        })
        .to_string(),
    )
    .unwrap();
    let report = run(&args(suite.path().to_path_buf())).await.unwrap();
    assert_eq!(report.models, ["zoo"]);
    assert!(report.markdown().contains("semantic models applied: zoo"));
    let mut a = args(suite.path().to_path_buf());
    a.models = false;
    assert!(run(&a).await.unwrap().models.is_empty());
    // A model the server refuses stops the run with the reason.
    std::fs::write(
        suite.path().join("models/zoo.json"),
        r#"{"tables": [{"table": "no_such_table"}]}"#,
    )
    .unwrap();
    let err = run(&args(suite.path().to_path_buf())).await.unwrap_err();
    assert!(err.contains("no_such_table"), "{err}");
}

/// The repository's business suite about the demo company, on a demo database generated
/// today (its relative-date questions — "last year", "this month" — are about today, as
/// for a user). Its scores are printed, not asserted: the suite must load, every gold
/// statement must run, and the demo model must be applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_business_suite_runs_with_the_demo_model() {
    let source = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../eval/demo-business"
    ));
    let suite = tempfile::tempdir().unwrap();
    std::fs::copy(
        source.join("questions.jsonl"),
        suite.path().join("questions.jsonl"),
    )
    .unwrap();
    std::fs::create_dir(suite.path().join("models")).unwrap();
    let model = std::fs::read_to_string(source.join("models/demo.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&model).unwrap(),
        serde_json::from_str::<serde_json::Value>(querent_app::demo_model::DEMO_MODEL_JSON)
            .unwrap(),
        "the suite measures the model the demo ships with"
    );
    std::fs::write(suite.path().join("models/demo.json"), model).unwrap();
    querent::demo::generate(
        &suite.path().join("db/demo.sqlite"),
        time::OffsetDateTime::now_utc().date(),
    )
    .unwrap();

    let (questions, _) = querent::eval::load_suite(suite.path()).unwrap();
    assert!(questions.len() >= 120, "{}", questions.len());
    let half = |s: &str| {
        questions
            .iter()
            .filter(|q| q.split.as_deref() == Some(s))
            .count()
    };
    assert_eq!(half("dev") + half("heldout"), questions.len());
    assert!(half("dev").abs_diff(half("heldout")) <= 9, "two halves");
    assert!(
        questions
            .iter()
            .all(|q| q.category.is_some() && q.difficulty.is_some())
    );

    let report = run(&args(suite.path().to_path_buf())).await.unwrap();
    println!("{}", report.table());
    for (split, t) in &report.by_split {
        println!(
            "demo-business {split}: accuracy {:.1}%, precision {:.1}% ({} wrong, {} refused)",
            100.0 * t.accuracy,
            100.0 * t.precision,
            t.wrong,
            t.cannot_translate
        );
    }
    assert_eq!(report.gold_errors, 0, "{}", report.failures_jsonl());
    assert_eq!(report.models, ["demo"]);
    assert_eq!(report.overall.n, questions.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spider_dev_accuracy_does_not_regress() {
    let suite = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/eval/spider-dev"
    ));
    if !querent_test_support::gate::path("the Spider dev suite", &suite.join("questions.jsonl")) {
        return;
    }
    let report = run(&args(suite)).await.unwrap();
    println!("{}", report.table());
    // Floors below the measured figures (docs/ACCURACY.md), to catch regressions.
    assert!(report.overall.accuracy >= 0.35, "{}", report.table());
    assert!(
        report.by_difficulty["easy"].accuracy >= 0.60,
        "{}",
        report.table()
    );
    assert_eq!(report.overall.rejected, 0, "the guard refused translations");
    assert!(
        report.linking.unwrap().table_recall >= 0.95,
        "linking recall"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_provider_is_evaluated_with_its_tokens() {
    use querent_test_support::fake_llm::{FakeLlm, Reply};
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql("SELECT count(*) FROM animal"));
    let suite = tiny_suite();
    let mut a = args(suite.path().to_path_buf());
    a.provider_config = Some(
        serde_json::json!({"name": "fake", "kind": "openai", "base_url": fake.base_url(), "model": "m",
            "options": {"price_prompt_per_mtok": 1.0}})
        .to_string(),
    );
    let report = run(&a).await.unwrap();
    assert_eq!(report.provider, "fake");
    // The fake answers every question with the animal count: t1 right, t2 wrong (keepers),
    // t3 wrong (gold counts keepers), t4 wrong (gold is SELECT 1).
    assert_eq!(report.overall.correct, 1, "{}", report.table());
    assert!(
        report.tokens.prompt > 100 && report.tokens.completion > 0,
        "{:?}",
        report.tokens
    );
    assert!(report.cost_usd > 0.0);
    assert_eq!(fake.completion_requests().len(), 4);
}
