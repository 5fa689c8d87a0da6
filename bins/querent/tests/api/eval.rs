//! `querent eval` on a tiny suite with a known score, and on `../shared/eval/spider-dev`
//! when it is present (otherwise skipped through the gate — a `SKIPPED` line in the output —
//! or failed under `QUERENT_REQUIRE_SERVICES=1`).

use std::path::PathBuf;

use querent::eval::{EvalArgs, Outcome, run};

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
        r#"{"id": "t4", "db": "zoo", "question": "Please sing me a song about the sea", "gold_sql": "SELECT 1", "difficulty": "hard"}"#,
    ];
    std::fs::write(dir.path().join("questions.jsonl"), lines.join("\n")).unwrap();
    dir
}

fn args(suite: PathBuf) -> EvalArgs {
    EvalArgs {
        suite,
        provider: None,
        provider_config: None,
        db: None,
        limit: None,
        jobs: 2,
        progress: false,
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
    assert!(report.table().contains("overall"));
    assert!(
        report
            .markdown()
            .contains("| **overall** | 4 | 2 | 50.0% |"),
        "{}",
        report.markdown()
    );
    let failures = report.failures_jsonl();
    assert_eq!(failures.lines().count(), 2);
    assert!(failures.contains("\"outcome\":\"wrong\""));

    // The filter and the limit.
    let mut a = args(suite.path().to_path_buf());
    a.limit = Some(1);
    assert_eq!(run(&a).await.unwrap().overall.n, 1);
    a.db = Some("nowhere".into());
    assert!(run(&a).await.is_err());
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
