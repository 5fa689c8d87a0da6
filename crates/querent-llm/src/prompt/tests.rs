use std::sync::Arc;

use insta::assert_snapshot;
use querent_domain::query::{GenerateRequest, Turn};
use querent_domain::schema::{ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind};
use querent_domain::semantic::FewShot;
use querent_domain::{Dialect, PrivacyPolicy};

use super::*;

fn col(name: &str, ty: &str, nullable: bool) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        data_type: ty.into(),
        nullable,
        default: None,
        comment: None,
        sample_values: Vec::new(),
    }
}

fn table(name: &str, columns: Vec<ColumnInfo>) -> TableInfo {
    TableInfo {
        schema: Some("public".into()),
        name: name.into(),
        kind: TableKind::Table,
        comment: None,
        columns,
        primary_key: vec!["id".into()],
        unique_constraints: Vec::new(),
        foreign_keys: Vec::new(),
        row_estimate: None,
    }
}

fn schema() -> SchemaSnapshot {
    let mut customers = table(
        "customers",
        vec![
            col("id", "integer", false),
            col("name", "text", false),
            col("email", "text", true),
            col("country", "text", true),
            col("password_hash", "text", false),
        ],
    );
    customers.comment = Some("People who bought something".into());
    customers.columns[1].comment = Some("Full name,\nas entered".into());
    customers.columns[2].sample_values = vec!["a@example.com".into()];
    customers.columns[3].sample_values = vec!["DE".into(), "FR".into(), "US".into()];

    let mut orders = table(
        "orders",
        vec![
            col("id", "integer", false),
            col("customer_id", "integer", false),
            col("status", "varchar(20)", false),
            col("total", "numeric(10,2)", true),
            col("ordered_at", "timestamp", false),
        ],
    );
    orders.comment = Some("One row per order".into());
    orders.columns[2].comment = Some("Lifecycle state".into());
    orders.columns[2].sample_values = vec!["paid".into(), "shipped".into(), "O'Brien's".into()];
    orders.foreign_keys = vec![ForeignKey {
        name: Some("orders_customer_fk".into()),
        columns: vec!["customer_id".into()],
        referenced_schema: Some("public".into()),
        referenced_table: "customers".into(),
        referenced_columns: vec!["id".into()],
    }];

    let mut audit = table(
        "audit_log",
        vec![col("id", "integer", false), col("entry", "text", true)],
    );
    audit.comment = Some("Never show this".into());

    let mut stations = table(
        "weather_stations",
        vec![
            col("id", "integer", false),
            col("city", "text", true),
            col("elevation_m", "integer", true),
        ],
    );
    stations.comment = Some("Weather stations used for the delivery forecast".into());
    stations.columns[1].sample_values = vec!["Berlin".into(), "Paris".into()];

    let mut snapshot = SchemaSnapshot {
        dialect: Dialect::Postgres,
        database: Some("shop".into()),
        fingerprint: String::new(),
        taken_at: 0,
        tables: vec![customers, orders, audit, stations],
    };
    snapshot.normalize();
    snapshot
}

fn policy() -> PrivacyPolicy {
    PrivacyPolicy {
        excluded_tables: vec!["public.audit_log".into()],
        excluded_columns: vec!["customers.password_hash".into()],
        masked_column_patterns: vec!["*email*".into()],
        row_filters: Vec::new(),
    }
}

fn request(question: &str) -> GenerateRequest {
    GenerateRequest {
        question: question.into(),
        dialect: Dialect::Postgres,
        schema: Arc::new(schema()),
        policy: policy(),
        history: Vec::new(),
        previous_error: None,
        max_rows: 100,
        semantic: None,
        examples: Vec::new(),
        instructions: None,
    }
}

fn history() -> Vec<Turn> {
    vec![
        Turn {
            question: "How many customers are there?".into(),
            sql: Some("SELECT count(*) FROM public.customers".into()),
        },
        Turn {
            question: "What is the weather like?".into(),
            sql: None,
        },
    ]
}

fn show(p: &Prompt) -> String {
    let mut out = String::new();
    for m in &p.messages {
        out.push_str(&format!("=== {} ===\n{}\n", m.role.as_str(), m.content));
    }
    out.push_str(&format!(
        "=== estimated tokens: {} ===\n",
        p.estimated_tokens
    ));
    out
}

#[test]
fn renders_schema_rules_and_question() {
    let p = render(
        &request("Which customers from France placed paid orders?"),
        &PromptBudget::default(),
    );
    assert!(!p.trimmed.any());
    assert_eq!(p.estimated_tokens, estimate_tokens(&p.messages));
    assert_snapshot!("prompt_plain", show(&p));
}

#[test]
fn renders_history_as_alternating_turns() {
    let mut r = request("And how many of them are from Germany?");
    r.history = history();
    let p = render(&r, &PromptBudget::default());
    let roles: Vec<Role> = p.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::User,
            Role::Assistant,
            Role::User
        ]
    );
    assert_snapshot!("prompt_history", show(&p));
}

#[test]
fn renders_self_correction() {
    let mut r = request("Total revenue per country");
    r.previous_error = Some((
        "SELECT country, sum(amount) FROM orders GROUP BY country;".into(),
        "unknown column \"amount\" in table orders; did you mean: total?".into(),
    ));
    let p = render(&r, &PromptBudget::default());
    let last = &p.messages.last().unwrap().content;
    assert!(last.contains("sum(amount)"));
    assert!(last.contains("did you mean: total?"));
    assert!(last.contains("corrected SQL statement"));
    assert_snapshot!("prompt_previous_error", show(&p));
}

#[test]
fn policy_hides_excluded_parts_and_masked_samples() {
    let p = render(&request("anything"), &PromptBudget::default());
    let system = p.system();
    assert!(!system.contains("audit_log"));
    assert!(!system.contains("Never show this"));
    assert!(!system.contains("password_hash"));
    assert!(system.contains("email text"));
    assert!(!system.contains("a@example.com"));
    assert!(system.contains("'O''Brien''s'"));
    assert!(system.contains("FOREIGN KEY (customer_id) REFERENCES public.customers (id)"));
    assert!(system.contains("LIMIT 100"));
    assert!(system.contains("PostgreSQL"));
}

#[test]
fn foreign_keys_to_excluded_tables_are_left_out() {
    let mut r = request("orders");
    r.policy.excluded_tables.push("customers".into());
    let p = render(&r, &PromptBudget::default());
    assert!(!p.system().contains("customers"));
    assert!(!p.system().contains("FOREIGN KEY"));
}

#[test]
fn trims_in_order_samples_comments_tables_history() {
    let mut r = request("Which customers placed orders?");
    r.history = history();
    let full = render(&r, &PromptBudget::default());
    assert!(!full.trimmed.any());
    let budget = |n: usize| PromptBudget {
        max_prompt_tokens: n,
    };

    // Just below the full size: only the samples go.
    let p = render(&r, &budget(full.estimated_tokens - 1));
    assert!(
        p.trimmed.sample_values && !p.trimmed.comments,
        "{:?}",
        p.trimmed
    );
    assert!(p.trimmed.tables.is_empty() && p.trimmed.history_turns == 0);
    assert!(!p.system().contains("'Berlin'"));
    assert!(p.system().contains("One row per order"));
    assert!(p.estimated_tokens < full.estimated_tokens);

    // Below that: comments go too.
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert!(
        p.trimmed.sample_values && p.trimmed.comments,
        "{:?}",
        p.trimmed
    );
    assert!(p.trimmed.tables.is_empty() && p.trimmed.history_turns == 0);
    assert!(!p.system().contains("One row per order"));

    // Below that: the table sharing no word with the question.
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.tables, ["public.weather_stations"]);
    assert_eq!(p.trimmed.history_turns, 0);
    assert!(!p.system().contains("weather_stations"));
    assert!(p.system().contains("CREATE TABLE public.orders"));

    // Below that: the oldest turns, one at a time.
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.history_turns, 1);
    assert_eq!(p.messages.len(), 4);
    assert_eq!(p.messages[1].content, "What is the weather like?");
    let p = render(&r, &budget(10));
    assert_eq!(p.trimmed.history_turns, 2);
    assert_eq!(p.messages.len(), 2);
    // Tables that match the question are never dropped.
    assert!(p.system().contains("CREATE TABLE public.customers"));
    assert!(p.estimated_tokens > 10);
}

#[test]
fn unlinked_tables_go_before_linked_ones() {
    // "status" matches only orders; customers is linked to it by a foreign key, the
    // stations are not, so the stations go first.
    let r = request("status breakdown");
    let full = render(&r, &PromptBudget::default());
    let bare = render(
        &r,
        &PromptBudget {
            max_prompt_tokens: 1,
        },
    );
    assert_eq!(
        bare.trimmed.tables,
        ["public.weather_stations", "public.customers"]
    );
    assert!(bare.estimated_tokens < full.estimated_tokens);
}

#[test]
fn words_and_stems() {
    assert_eq!(split_words("customerOrders"), ["customer", "order"]);
    assert_eq!(split_words("order_items"), ["order", "item"]);
    assert_eq!(split_words("Categories"), ["category"]);
    assert_eq!(split_words("id"), Vec::<String>::new());
    assert_eq!(split_words("addresses"), ["address"]);
    assert!(words_of_question("How many orders were shipped?").contains("order"));
    assert!(!words_of_question("How many orders were shipped?").contains("how"));
}

#[test]
fn globbing() {
    assert!(glob("*email*", "contact_EMAIL_2"));
    assert!(glob("ssn", "SSN"));
    assert!(!glob("ssn", "ssn2"));
    assert!(glob("a*b*c", "axxbyyc"));
}

#[test]
fn tokens_are_counted() {
    assert_eq!(count_tokens(""), 0);
    assert_eq!(count_tokens("hello world"), 2);
    let messages = [ChatMessage::new(Role::User, "hello world")];
    assert_eq!(estimate_tokens(&messages), 2 + 4 + 3);
}

fn model() -> SemanticModel {
    use querent_domain::semantic::{JoinPath, JoinSource, ValueMapping};
    SemanticModel {
        connection_id: querent_domain::ConnectionId::new(),
        version: 3,
        schema_fingerprint: String::new(),
        description: Some("An online shop: customers and their orders.".into()),
        tables: vec![
            SemanticTable {
                table: "customers".into(),
                display_name: Some("Clients".into()),
                description: Some("Everyone with an account".into()),
                synonyms: vec!["clients".into(), "buyers".into()],
                columns: vec![
                    SemanticColumn {
                        column: "country".into(),
                        data_type: None,
                        display_name: Some("Country".into()),
                        description: Some("ISO 3166 code".into()),
                        synonyms: vec!["nation".into()],
                        values: Vec::new(),
                        value_mappings: vec![
                            ValueMapping {
                                phrase: "Germany".into(),
                                value: "DE".into(),
                            },
                            ValueMapping {
                                phrase: "France".into(),
                                value: "FR".into(),
                            },
                        ],
                    },
                    SemanticColumn {
                        column: "password_hash".into(),
                        data_type: None,
                        display_name: None,
                        description: Some("Never show this either".into()),
                        synonyms: vec!["secret".into()],
                        values: Vec::new(),
                        value_mappings: Vec::new(),
                    },
                ],
            },
            SemanticTable {
                table: "public.orders".into(),
                display_name: None,
                description: None,
                synonyms: vec!["purchases".into()],
                columns: vec![SemanticColumn {
                    column: "status".into(),
                    data_type: None,
                    display_name: None,
                    description: None,
                    synonyms: Vec::new(),
                    values: Vec::new(),
                    value_mappings: vec![ValueMapping {
                        phrase: "completed".into(),
                        value: "paid".into(),
                    }],
                }],
            },
            SemanticTable {
                table: "audit_log".into(),
                display_name: Some("Audit trail".into()),
                description: Some("Secret audit entries".into()),
                synonyms: vec!["history".into()],
                columns: Vec::new(),
            },
        ],
        joins: vec![
            JoinPath {
                from_table: "weather_stations".into(),
                from_columns: vec!["city".into()],
                to_table: "customers".into(),
                to_columns: vec!["name".into()],
                cardinality: Default::default(),
                source: JoinSource::Manual,
            },
            // Declared as a foreign key already: not repeated.
            JoinPath {
                from_table: "orders".into(),
                from_columns: vec!["customer_id".into()],
                to_table: "customers".into(),
                to_columns: vec!["id".into()],
                cardinality: Default::default(),
                source: JoinSource::ForeignKey,
            },
            // To an excluded table: left out.
            JoinPath {
                from_table: "orders".into(),
                from_columns: vec!["id".into()],
                to_table: "audit_log".into(),
                to_columns: vec!["id".into()],
                cardinality: Default::default(),
                source: JoinSource::Manual,
            },
        ],
        metrics: vec![
            Metric {
                name: "revenue".into(),
                description: Some("Money taken from paid orders".into()),
                expression: "SUM(orders.total) FILTER (WHERE orders.status = 'paid')".into(),
                table: "orders".into(),
                synonyms: vec!["sales".into(), "turnover".into()],
            },
            // Reads an excluded column: left out.
            Metric {
                name: "hashes".into(),
                description: None,
                expression: "COUNT(DISTINCT customers.password_hash)".into(),
                table: "customers".into(),
                synonyms: Vec::new(),
            },
        ],
        updated_at: 0,
    }
}

fn examples() -> Vec<FewShot> {
    vec![
        FewShot {
            question: "How many clients are in Germany?".into(),
            sql: "SELECT count(*) FROM public.customers WHERE country = 'DE'".into(),
        },
        FewShot {
            question: "Revenue per country".into(),
            sql: "SELECT c.country, SUM(o.total) FROM public.orders o JOIN public.customers c \
                  ON c.id = o.customer_id WHERE o.status = 'paid' GROUP BY c.country"
                .into(),
        },
        // Reads an excluded table: never shown.
        FewShot {
            question: "What happened last?".into(),
            sql: "SELECT entry FROM audit_log ORDER BY id DESC LIMIT 1".into(),
        },
        FewShot {
            question: "Stations above 500 m".into(),
            sql: "SELECT city FROM public.weather_stations WHERE elevation_m > 500".into(),
        },
    ]
}

fn request_with_model(question: &str) -> GenerateRequest {
    let mut r = request(question);
    r.semantic = Some(Arc::new(model()));
    r.examples = examples();
    r
}

#[test]
fn renders_semantic_model_and_examples() {
    let p = render(
        &request_with_model("Total sales from clients in Germany"),
        &PromptBudget::default(),
    );
    assert!(!p.trimmed.any());
    assert_eq!(p.estimated_tokens, estimate_tokens(&p.messages));
    let system = p.system();
    assert!(system.contains("\"Germany\" means 'DE'"));
    assert!(
        system.contains("-- metric revenue (also called: sales, turnover) = SUM(orders.total)")
    );
    assert!(system.contains(
        "-- join: public.customers ON weather_stations.city = customers.name (not a declared foreign key)"
    ));
    assert!(system.contains("Question: How many clients are in Germany?"));
    // Examples are reference material in the system message, not conversation turns.
    assert_eq!(p.messages.len(), 2);
    assert_snapshot!("prompt_semantic_examples", show(&p));
}

#[test]
fn semantic_context_respects_the_policy() {
    let mut r = request_with_model("anything");
    r.policy.excluded_tables.push("weather_stations".into());
    let p = render(&r, &PromptBudget::default());
    let system = p.system();
    for hidden in [
        "audit",
        "Audit trail",
        "Never show this either",
        "secret",
        "hashes",
        "password_hash",
        "weather",
        "Stations above",
        "What happened last?",
    ] {
        assert!(!system.contains(hidden), "{hidden} leaked:\n{system}");
    }
    // Masked columns show no value mappings, and no example writes a literal next to one.
    r.policy.masked_column_patterns.push("country".into());
    let p = render(&r, &PromptBudget::default());
    assert!(!p.system().contains("\"Germany\" means"));
    assert!(p.system().contains("country text"));
    assert!(!p.system().contains("country = 'DE'"), "{}", p.system());
    assert!(
        !p.system().contains("How many clients are in Germany?"),
        "{}",
        p.system()
    );
    // Numbers count as literals too, and a masked column outside the linked tables is
    // still recognised by its name.
    r.policy.masked_column_patterns = vec!["*.salary".into()];
    r.examples = vec![FewShot {
        question: "Who earns more than 100000?".into(),
        sql: "SELECT name FROM staff s WHERE s.salary > 100000".into(),
    }];
    let p = render(&r, &PromptBudget::default());
    assert!(!p.system().contains("100000"), "{}", p.system());
}

#[test]
fn semantic_context_goes_only_with_its_tables() {
    let mut r = request_with_model("anything");
    let mut schema = schema();
    schema.tables.retain(|t| t.name != "orders");
    r.schema = Arc::new(schema);
    let p = render(&r, &PromptBudget::default());
    assert!(!p.system().contains("metric revenue"));
    assert!(!p.system().contains("purchases"));
    assert!(p.system().contains("\"Germany\" means 'DE'"));
}

#[test]
fn trims_samples_descriptions_tables_examples_history_in_order() {
    let mut r = request_with_model("Which clients in Germany placed orders?");
    r.history = history();
    let full = render(&r, &PromptBudget::default());
    assert!(!full.trimmed.any());
    let budget = |n: usize| PromptBudget {
        max_prompt_tokens: n,
    };

    // Samples first; the value mappings stay.
    let p = render(&r, &budget(full.estimated_tokens - 1));
    assert!(
        p.trimmed.sample_values && !p.trimmed.comments,
        "{:?}",
        p.trimmed
    );
    assert!(!p.system().contains("'Berlin'"));
    assert!(p.system().contains("\"Germany\" means 'DE'"));
    assert!(p.system().contains("Everyone with an account"));

    // Then comments with the model's descriptions and synonyms; mappings and metrics stay.
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert!(
        p.trimmed.comments && p.trimmed.tables.is_empty(),
        "{:?}",
        p.trimmed
    );
    assert!(!p.system().contains("Everyone with an account"));
    assert!(!p.system().contains("also called"));
    assert!(p.system().contains("\"Germany\" means 'DE'"));
    assert!(p.system().contains("-- metric revenue = SUM(orders.total)"));
    assert_eq!(p.trimmed.examples, 0);

    // Then the table sharing no word with the question (its join line goes with it).
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.tables, ["public.weather_stations"]);
    assert_eq!(p.trimmed.examples, 0);
    assert!(
        !p.system()
            .contains("join: public.customers ON weather_stations")
    );

    // Then the examples, least similar first.
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.examples, 1, "{:?}", p.trimmed);
    assert!(!p.system().contains("Stations above 500 m"));
    assert!(p.system().contains("Revenue per country"));
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.examples, 2);
    assert!(!p.system().contains("Revenue per country"));
    assert!(p.system().contains("How many clients are in Germany?"));
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.examples, 3);
    assert!(!p.system().contains("Verified examples"));
    assert_eq!(p.trimmed.history_turns, 0);

    // Then the history.
    let p = render(&r, &budget(p.estimated_tokens - 1));
    assert_eq!(p.trimmed.history_turns, 1);
    // The value mappings of a kept table survive everything.
    let p = render(&r, &budget(10));
    assert_eq!(p.trimmed.history_turns, 2);
    assert!(p.system().contains("\"Germany\" means 'DE'"));
}

#[test]
fn sql_identifiers_split_dotted_names() {
    let ids = sql_identifiers("SELECT t.Col FROM public.T AS t");
    for id in ["t.col", "col", "public", "t", "public.t", "select"] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
}

#[test]
fn renders_instructions_as_a_delimited_section() {
    let mut r = request("How many customers?");
    r.instructions = Some("  Count only active customers.  ".into());
    let p = render(&r, &PromptBudget::default());
    let system = p.system();
    assert!(
        system.contains("<<<INSTRUCTIONS\nCount only active customers.\nINSTRUCTIONS>>>"),
        "{system}"
    );
    assert!(system.find("Rules:").unwrap() < system.find("<<<INSTRUCTIONS").unwrap());
    let without = render(&request("How many customers?"), &PromptBudget::default());
    assert!(!without.system().contains("INSTRUCTIONS"));
}

/// FNV-1a 64 of the messages (role and content), for the sweep's digest.
fn digest(p: &Prompt) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in &p.messages {
        for b in m
            .role
            .as_str()
            .bytes()
            .chain([0])
            .chain(m.content.bytes())
            .chain([0])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Every budget from 1 token to well past the full prompt's size, for requests that exercise
/// every part (history, correction, instructions, the semantic model and examples, a
/// policy that hides things): what each renders, one line per distinct outcome. The
/// snapshot was written by the renderer that rendered every table block twice and split
/// the words of every table on every request; the one that renders each block once per
/// trim level and keeps the words must give the same bytes at every budget. A fingerprinted
/// schema (its words kept between requests) renders as the same schema without one, and a
/// second render (from what was kept) as the first.
#[test]
fn every_budget_renders_as_before() {
    let mut cases: Vec<(&str, GenerateRequest)> = Vec::new();
    cases.push((
        "plain",
        request("Which customers from France placed paid orders?"),
    ));
    let mut r = request("And how many of them are from Germany?");
    r.history = history();
    cases.push(("history", r));
    let mut r = request("Total revenue per country");
    r.previous_error = Some((
        "SELECT country, sum(amount) FROM orders GROUP BY country;".into(),
        "unknown column \"amount\" in table orders; did you mean: total?".into(),
    ));
    r.instructions = Some("Count only active customers.".into());
    cases.push(("correction", r));
    let mut r = request_with_model("Which clients in Germany placed orders?");
    r.history = history();
    cases.push(("model", r));
    let mut r = request_with_model("status of weather");
    r.policy.masked_column_patterns.push("country".into());
    r.policy.excluded_columns.push("orders.total".into());
    cases.push(("model_policy", r));
    let mut out = String::new();
    for (name, r) in &cases {
        let full = render(r, &PromptBudget::default());
        let mut fingerprinted = r.clone();
        let mut schema = (*r.schema).clone();
        schema.fingerprint = "0123456789abcdef".into();
        fingerprinted.schema = Arc::new(schema);
        let mut last = String::new();
        // The per-part estimate that trimming starts from may exceed the whole prompt's
        // count by a few tokens per part: go well past it.
        for n in 1..=full.estimated_tokens + 200 {
            let budget = PromptBudget {
                max_prompt_tokens: n,
            };
            let p = render(r, &budget);
            for again in [render(r, &budget), render(&fingerprinted, &budget)] {
                assert_eq!(again, p, "{name} at {n}");
            }
            let line = format!(
                "tokens {} trimmed {:?} digest {}",
                p.estimated_tokens,
                p.trimmed,
                digest(&p)
            );
            if line != last {
                out.push_str(&format!("{name} from {n}: {line}\n"));
                last = line;
            }
        }
    }
    assert_snapshot!("prompt_every_budget", out);
}

#[test]
fn one_line_is_the_words_joined_by_single_spaces() {
    let joined = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    for text in [
        "",
        " ",
        "  ",
        "a",
        "a b",
        "a  b",
        " a",
        "a ",
        " a b ",
        "a\tb",
        "a\nb",
        "a \n b",
        "\n",
        "caf\u{e9} cr\u{e8}me",
        "a\u{a0}b",
        "a\u{2003}b",
        "a \u{3000}",
        "it's 'quoted' -- x",
        "x\r\n",
    ] {
        assert_eq!(one_line(text), joined(text), "{text:?}");
    }
}

#[test]
fn same_words_is_the_comparison_of_the_split_words_asked_again_or_not() {
    for (a, b) in [
        ("Customer name", "customer_name"),
        ("Customers", "customer"),
        ("Order total", "total_amount"),
        ("The name", "name"),
        ("", ""),
        ("Name", ""),
        ("createdAt", "Created at"),
    ] {
        let expected = split_words(a) == split_words(b);
        assert_eq!(same_words(a, b), expected, "{a:?} {b:?}");
        assert_eq!(same_words(a, b), expected, "{a:?} {b:?}, kept");
        assert_eq!(same_words(b, a), expected, "{b:?} {a:?}");
    }
}

/// The request with its schema fingerprinted (its tables' blocks kept between requests).
fn fingerprinted(mut r: GenerateRequest) -> GenerateRequest {
    let mut schema = (*r.schema).clone();
    schema.fingerprint = "kept-blocks-test".into();
    r.schema = Arc::new(schema);
    r
}

/// A table of the request's schema, to change.
fn table_mut<'a>(r: &'a mut GenerateRequest, name: &str) -> &'a mut TableInfo {
    Arc::make_mut(&mut r.schema)
        .tables
        .iter_mut()
        .find(|t| t.name == name)
        .unwrap()
}

/// The request's semantic model, to change.
fn model_mut(r: &mut GenerateRequest) -> &mut SemanticModel {
    Arc::make_mut(r.semantic.as_mut().unwrap())
}

/// A kept table block is used only for a table showing exactly what it was written from.
/// Each input of a block is changed in turn — with the same fingerprint, model version and
/// save time, so that only the comparison can notice — and the request renders as it does
/// with nothing kept (no fingerprint), first and second time, at every level of detail,
/// and differently from the unchanged request; the unchanged request then renders as
/// before from what is kept. A masked or excluded value never comes back from a block
/// kept before it was masked or excluded.
#[test]
#[allow(clippy::too_many_lines)] // one change per input of a block
fn kept_blocks_follow_every_input_of_the_block() {
    type Change = Box<dyn Fn(&mut GenerateRequest)>;
    let changes: Vec<(&str, Change)> = vec![
        (
            "a sample value",
            Box::new(|r| {
                table_mut(r, "customers").columns[3]
                    .sample_values
                    .push("IT".into());
            }),
        ),
        (
            "a table comment",
            Box::new(|r| table_mut(r, "orders").comment = Some("Orders placed".into())),
        ),
        (
            "a column comment",
            Box::new(|r| table_mut(r, "orders").columns[3].comment = Some("Gross".into())),
        ),
        (
            "a column type",
            Box::new(|r| table_mut(r, "orders").columns[3].data_type = "money".into()),
        ),
        (
            "a column's nullability",
            Box::new(|r| table_mut(r, "orders").columns[3].nullable = false),
        ),
        (
            "a column dropped by linking",
            Box::new(|r| {
                table_mut(r, "customers").columns.remove(3);
            }),
        ),
        (
            "a table dropped by linking (a foreign key's and a join's target)",
            Box::new(|r| {
                Arc::make_mut(&mut r.schema)
                    .tables
                    .retain(|t| t.name != "customers");
            }),
        ),
        (
            "the primary key",
            Box::new(|r| table_mut(r, "orders").primary_key = vec!["ordered_at".into()]),
        ),
        (
            "a foreign key",
            Box::new(|r| {
                table_mut(r, "orders").foreign_keys[0].referenced_columns = vec!["name".into()];
            }),
        ),
        (
            "the table's kind",
            Box::new(|r| table_mut(r, "orders").kind = TableKind::View),
        ),
        (
            "a masked column",
            Box::new(|r| r.policy.masked_column_patterns.push("*country*".into())),
        ),
        (
            "an excluded column",
            Box::new(|r| r.policy.excluded_columns.push("orders.status".into())),
        ),
        (
            "an excluded foreign key column",
            Box::new(|r| r.policy.excluded_columns.push("orders.customer_id".into())),
        ),
        (
            "an excluded table",
            Box::new(|r| r.policy.excluded_tables.push("public.customers".into())),
        ),
        (
            "a model's table synonym",
            Box::new(|r| model_mut(r).tables[0].synonyms.push("patrons".into())),
        ),
        (
            "a model's table description",
            Box::new(|r| model_mut(r).tables[1].description = Some("What was bought".into())),
        ),
        (
            "a model's column display name",
            Box::new(|r| model_mut(r).tables[0].columns[0].display_name = Some("Land".into())),
        ),
        (
            "a model's value mapping",
            Box::new(|r| {
                model_mut(r).tables[0].columns[0].value_mappings[0].value = "GER".into();
            }),
        ),
        (
            "a model's value list",
            Box::new(|r| {
                model_mut(r).tables[1].columns[0].values = vec!["refunded".into()];
                table_mut(r, "orders").columns[2].sample_values.clear();
            }),
        ),
        (
            "a metric",
            Box::new(|r| model_mut(r).metrics[0].expression = "SUM(orders.total)".into()),
        ),
        (
            "a join path",
            Box::new(|r| model_mut(r).joins[0].to_columns = vec!["email".into()]),
        ),
        (
            "a join path's target excluded",
            Box::new(|r| r.policy.excluded_columns.push("customers.name".into())),
        ),
    ];
    let base = request_with_model("Which clients in Germany placed orders?");
    let full = render(&base, &PromptBudget::default()).estimated_tokens;
    // The first budget (shrinking from room to spare) of each trim state: the full prompt,
    // without samples, bare, bare with tables dropped.
    let mut budgets = Vec::new();
    let mut seen = Vec::new();
    for n in (1..=full + 100).rev() {
        let budget = PromptBudget {
            max_prompt_tokens: n,
        };
        let t = render(&base, &budget).trimmed;
        let state = (t.sample_values, t.comments, t.tables.is_empty());
        if !seen.contains(&state) {
            seen.push(state);
            budgets.push(budget);
        }
    }
    for state in [
        (false, false, true),
        (true, false, true),
        (true, true, true),
        (true, true, false),
    ] {
        assert!(seen.contains(&state), "{seen:?}");
    }
    let baseline: Vec<Prompt> = budgets.iter().map(|b| render(&base, b)).collect();
    for (name, change) in &changes {
        for (budget, before) in budgets.iter().zip(&baseline) {
            // What is kept from the unchanged request first.
            assert_eq!(
                &render(&fingerprinted(base.clone()), budget),
                before,
                "{name}"
            );
            let mut changed = base.clone();
            change(&mut changed);
            let fresh = render(&changed, budget);
            for _ in 0..2 {
                assert_eq!(
                    render(&fingerprinted(changed.clone()), budget),
                    fresh,
                    "{name} at {}",
                    budget.max_prompt_tokens
                );
            }
            if !before.trimmed.any() {
                assert_ne!(
                    fresh.system(),
                    before.system(),
                    "{name} shows in the prompt"
                );
            }
        }
    }
    // Masked or excluded after being kept: the values are gone.
    let _ = render(&fingerprinted(base.clone()), &budgets[0]);
    let mut masked = base.clone();
    masked
        .policy
        .masked_column_patterns
        .push("*country*".into());
    let p = render(&fingerprinted(masked), &budgets[0]);
    assert!(!p.system().contains("'FR'"), "{}", p.system());
    let mut excluded = base.clone();
    excluded
        .policy
        .excluded_columns
        .push("orders.status".into());
    let p = render(&fingerprinted(excluded), &budgets[0]);
    assert!(!p.system().contains("shipped"), "{}", p.system());
    assert!(!p.system().contains("status"), "{}", p.system());
}

/// `names_table` compares in place what the qualified name's comparison compared.
#[test]
fn names_table_is_the_comparison_with_the_qualified_name() {
    let tables = [
        table("orders", Vec::new()),
        TableInfo {
            schema: None,
            ..table("orders", Vec::new())
        },
        TableInfo {
            schema: Some("Sales".into()),
            ..table("Straße", Vec::new())
        },
        TableInfo {
            schema: Some("é".into()),
            ..table("x", Vec::new())
        },
    ];
    let references = [
        "orders",
        "ORDERS",
        "public.orders",
        "PUBLIC.Orders",
        "public_orders",
        "public.orders2",
        "xpublic.orders",
        ".orders",
        "public.",
        "sales.straße",
        "SALES.STRAßE",
        "sales.STRASSE",
        "Straße",
        "é.x",
        "É.x",
        "éx.x",
        "\u{e9}.X",
        "",
    ];
    for t in &tables {
        for r in references {
            let formatted = r.eq_ignore_ascii_case(&t.name)
                || r.eq_ignore_ascii_case(&qualified(t.schema.as_deref(), &t.name));
            assert_eq!(names_table(r, t), formatted, "{r:?} against {:?}", t.schema);
        }
    }
}
