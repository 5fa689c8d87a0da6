//! Tests on a hand-built snapshot shaped like the demo database.

use querent_domain::schema::{ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind};
use querent_domain::semantic::{FewShot, SemanticModel};
use querent_domain::{Dialect, PrivacyPolicy};
use querent_sql::{GuardPolicy, GuardSchema, validate};

use super::*;

fn col(name: &str, ty: &str, samples: &[&str]) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        data_type: ty.into(),
        nullable: true,
        default: None,
        comment: None,
        sample_values: samples.iter().map(|s| s.to_string()).collect(),
    }
}

fn fk(col: &str, table: &str) -> ForeignKey {
    ForeignKey {
        name: None,
        columns: vec![col.into()],
        referenced_schema: None,
        referenced_table: table.into(),
        referenced_columns: vec!["id".into()],
    }
}

/// A foreign key from `col` to `table`'s column `key` (not `id`).
fn fk_on(col: &str, table: &str, key: &str) -> ForeignKey {
    ForeignKey {
        referenced_columns: vec![key.into()],
        ..fk(col, table)
    }
}

/// The schema with each table's first column as its primary key (fixtures whose keys are
/// not named `id`).
fn keyed(mut s: SchemaSnapshot) -> SchemaSnapshot {
    for t in &mut s.tables {
        t.primary_key = vec![t.columns[0].name.clone()];
    }
    s.normalize();
    s
}

fn table(name: &str, columns: Vec<ColumnInfo>, fks: Vec<ForeignKey>) -> TableInfo {
    let pk = if columns.iter().any(|c| c.name == "id") {
        vec!["id".to_string()]
    } else {
        Vec::new()
    };
    TableInfo {
        schema: None,
        name: name.into(),
        kind: TableKind::Table,
        comment: None,
        columns,
        primary_key: pk,
        unique_constraints: Vec::new(),
        foreign_keys: fks,
        row_estimate: None,
    }
}

/// A snapshot of the given tables, normalised.
fn schema_of(tables: Vec<TableInfo>) -> SchemaSnapshot {
    let mut s = SchemaSnapshot {
        dialect: Dialect::Sqlite,
        database: None,
        fingerprint: String::new(),
        taken_at: 0,
        tables,
    };
    s.normalize();
    s
}

fn demo() -> SchemaSnapshot {
    let mut s = SchemaSnapshot {
        dialect: Dialect::Sqlite,
        database: None,
        fingerprint: String::new(),
        taken_at: 0,
        tables: vec![
            table(
                "customers",
                vec![
                    col("id", "integer", &[]),
                    col("name", "text", &[]),
                    col("email", "text", &[]),
                    col(
                        "country",
                        "text",
                        &["Germany", "France", "United States", "Japan"],
                    ),
                    col("city", "text", &["Berlin", "Paris", "Tokyo"]),
                    col("created_at", "timestamp", &[]),
                ],
                vec![],
            ),
            table(
                "orders",
                vec![
                    col("id", "integer", &[]),
                    col("customer_id", "integer", &[]),
                    col("status", "text", &["shipped", "pending", "cancelled"]),
                    col("ordered_at", "date", &[]),
                    col("total", "numeric(12,2)", &[]),
                ],
                vec![fk("customer_id", "customers")],
            ),
            table(
                "order_items",
                vec![
                    col("order_id", "integer", &[]),
                    col("product_id", "integer", &[]),
                    col("quantity", "integer", &[]),
                    col("unit_price", "numeric(10,2)", &[]),
                ],
                vec![fk("order_id", "orders"), fk("product_id", "products")],
            ),
            table(
                "products",
                vec![
                    col("id", "integer", &[]),
                    col("name", "text", &[]),
                    col("category_id", "integer", &[]),
                    col("price", "numeric(10,2)", &[]),
                ],
                vec![fk("category_id", "categories")],
            ),
            table(
                "categories",
                vec![
                    col("id", "integer", &[]),
                    col("name", "text", &["Books", "Toys"]),
                ],
                vec![],
            ),
            table(
                "employees",
                vec![
                    col("id", "integer", &[]),
                    col("name", "text", &[]),
                    col("department_id", "integer", &[]),
                    col("salary", "numeric(10,2)", &[]),
                    col("hired_at", "date", &[]),
                ],
                vec![fk("department_id", "departments")],
            ),
            table(
                "departments",
                vec![col("id", "integer", &[]), col("name", "text", &[])],
                vec![],
            ),
        ],
    };
    s.normalize();
    s
}

const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

fn sql(q: &str, d: Dialect) -> String {
    translate(q, &demo(), d)
        .unwrap_or_else(|e| panic!("{q}: {}", e.understood))
        .sql
}

fn check_valid(q: &str) {
    let snap = demo();
    for d in DIALECTS {
        let t = translate(q, &snap, d).unwrap_or_else(|e| panic!("{q}: {}", e.understood));
        let policy = GuardPolicy {
            max_rows: Some(1000),
            ..Default::default()
        };
        if let Err(e) = validate(d, &t.sql, &GuardSchema::from_snapshot(&snap), &policy) {
            panic!("{q} ({d:?}): guard refused {}: {e}", t.sql);
        }
        assert!(t.explanation.ends_with('.'), "{}", t.explanation);
    }
}

const QUESTIONS: &[&str] = &[
    "how many customers are there?",
    "What percentage of orders were cancelled?",
    "What share of revenue does each country bring, in percent?",
    "What fraction of customers are in Japan?",
    "Which customer signed up first?",
    "how many orders per status",
    "top 5 products by total quantity sold",
    "customers from Germany",
    "orders in 2023",
    "orders this month",
    "orders last month",
    "orders this quarter",
    "orders last quarter",
    "orders in the last 7 days",
    "orders before 2020",
    "average salary per department",
    "customers who have no orders",
    "which category has the most products",
    "customers with more than 3 orders",
    "list the names of customers sorted by name",
    "what are the different countries of customers?",
    "what is the highest total of orders?",
    "show employees with salary over 50000",
    "which employee has the highest salary?",
    "how many orders are shipped?",
    "total of orders by status",
    "which customers have orders in both 2022 and 2023?",
    "products with a price above the average",
    "customers who do not have any shipped orders",
    "names of employees hired after 2020 ordered by salary in descending order",
    "what is the average, minimum and maximum total of orders?",
    "how many different cities do customers live in?",
    "list the customers in Berlin or Paris",
    "the 3 oldest employees",
];

#[test]
fn every_answer_passes_the_guard_in_every_dialect() {
    for q in QUESTIONS {
        check_valid(q);
    }
}

#[test]
fn counts_rows() {
    assert_eq!(
        sql("how many customers are there?", Dialect::Sqlite),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
    let t = translate(
        "How many customers are from Germany?",
        &demo(),
        Dialect::Sqlite,
    )
    .unwrap();
    assert_eq!(
        t.sql,
        "SELECT COUNT(*) AS customer_count FROM customers WHERE country = 'Germany'"
    );
    assert_eq!(
        t.explanation,
        "Counts the rows of customers where country is 'Germany'."
    );
}

#[test]
fn groups_counts() {
    // Output columns follow the order of the question.
    assert_eq!(
        sql(
            "for each status, how many orders are there?",
            Dialect::Sqlite
        ),
        "SELECT status, COUNT(*) AS order_count FROM orders GROUP BY status"
    );
    assert_eq!(
        sql("how many orders per status", Dialect::Sqlite),
        "SELECT COUNT(*) AS order_count, status FROM orders GROUP BY status"
    );
}

#[test]
fn filters_by_sampled_value() {
    assert_eq!(
        sql("customers from Germany", Dialect::Sqlite),
        "SELECT name FROM customers WHERE country = 'Germany'"
    );
}

#[test]
fn joins_along_foreign_keys_for_top_k() {
    assert_eq!(
        sql("top 5 products by total quantity sold", Dialect::Sqlite),
        "SELECT T1.name FROM products AS T1 JOIN order_items AS T2 ON T1.id = T2.product_id \
         GROUP BY T1.id ORDER BY SUM(T2.quantity) DESC LIMIT 5"
    );
}

#[test]
fn years_and_relative_ranges_per_dialect() {
    assert_eq!(
        sql("orders in 2023", Dialect::Sqlite),
        "SELECT * FROM orders WHERE ordered_at >= '2023-01-01' AND ordered_at < '2024-01-01'"
            .replace(
                "SELECT *",
                "SELECT id, customer_id, status, ordered_at, total"
            )
    );
    assert_eq!(
        sql("orders this month", Dialect::Sqlite),
        "SELECT id, customer_id, status, ordered_at, total FROM orders WHERE ordered_at >= \
         date('now', 'start of month') AND ordered_at < date('now', 'start of month', '+1 month')"
    );
    assert!(
        sql("orders this month", Dialect::Postgres).contains("date_trunc('month', CURRENT_DATE)")
    );
    assert!(
        sql("orders this month", Dialect::Mysql).contains("DATE_FORMAT(CURRENT_DATE, '%Y-%m-01')")
    );
}

#[test]
fn averages_per_group() {
    assert_eq!(
        sql("average salary per department", Dialect::Sqlite),
        "SELECT AVG(T1.salary) AS avg_salary, T2.name FROM employees AS T1 JOIN departments AS T2 \
         ON T1.department_id = T2.id GROUP BY T2.id"
    );
}

#[test]
fn negation_of_a_related_table() {
    assert_eq!(
        sql("customers who have no orders", Dialect::Sqlite),
        "SELECT name FROM customers WHERE id NOT IN \
         (SELECT customer_id FROM orders WHERE customer_id IS NOT NULL)"
    );
}

#[test]
fn superlative_by_count() {
    assert_eq!(
        sql("which category has the most products", Dialect::Sqlite),
        "SELECT T1.name FROM categories AS T1 JOIN products AS T2 ON T1.id = T2.category_id \
         GROUP BY T1.id ORDER BY COUNT(*) DESC LIMIT 1"
    );
}

#[test]
fn compares_with_the_average() {
    assert_eq!(
        sql("products with a price above the average", Dialect::Sqlite),
        "SELECT name FROM products WHERE price > (SELECT AVG(price) FROM products)"
    );
}

#[test]
fn negated_value_of_a_related_table_uses_a_subquery() {
    assert_eq!(
        sql(
            "customers who do not have any shipped orders",
            Dialect::Sqlite
        ),
        "SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders \
         WHERE customer_id IS NOT NULL AND status = 'shipped')"
    );
}

#[test]
fn same_column_values_or_and_both() {
    assert_eq!(
        sql("list the customers in Berlin or Paris", Dialect::Sqlite),
        "SELECT name FROM customers WHERE (city = 'Berlin' OR city = 'Paris')"
    );
    let both = sql(
        "which customers have orders in both 2022 and 2023?",
        Dialect::Sqlite,
    );
    assert!(both.contains(" INTERSECT "), "{both}");
}

#[test]
fn negations_in_other_words_cover_coordinated_values() {
    for q in [
        "list the orders, leaving out cancelled and pending orders",
        "list the orders apart from cancelled or pending ones",
        "list the orders ignoring cancelled and pending orders",
    ] {
        let got = sql(q, Dialect::Sqlite);
        assert!(
            got.contains("status != 'cancelled'") && got.contains("status != 'pending'"),
            "{q}: {got}"
        );
        assert!(!got.contains(" OR "), "{q}: {got}");
    }
}

#[test]
fn aggregates_over_rows_in_both_of_two_periods_are_refused() {
    // As a list it is an INTERSECT (see above); a count of it would AND two periods that
    // never overlap and answer 0.
    let e = translate(
        "how many customers have orders in both 2022 and 2023?",
        &demo(),
        Dialect::Sqlite,
    )
    .unwrap_err();
    assert!(e.understood.contains("both"), "{}", e.understood);
}

#[test]
fn how_much_needs_an_amount_or_one_row() {
    // A listing of every order's total does not say how much.
    let e = translate(
        "How much did customers in Germany spend on orders?",
        &demo(),
        Dialect::Sqlite,
    );
    if let Ok(t) = &e {
        assert!(t.sql.contains("SUM("), "{}", t.sql);
    }
    // Every product's price answers "each product", not "the most expensive one" (a
    // superlative read would have ordered and cut the list).
    assert_eq!(
        sql("How much does each product cost?", Dialect::Sqlite),
        "SELECT name, price FROM products"
    );
    // The most expensive one: its price.
    assert_eq!(
        sql(
            "How much does the most expensive product cost?",
            Dialect::Sqlite
        ),
        "SELECT price FROM products ORDER BY price DESC LIMIT 1"
    );
}

#[test]
fn answers_that_leave_out_what_was_asked_are_refused() {
    for q in [
        // A one-word value of the data the query would not filter on.
        "list the orders that are shipped to customers with a pending review",
    ] {
        if let Ok(t) = translate(q, &demo(), Dialect::Sqlite) {
            panic!("{q}: answered {}", t.sql);
        }
    }
    // One number asked for, a breakdown found: refused unless a word asks for it.
    let idx = index::Index::new(&demo(), &PrivacyPolicy::default(), None);
    let orders = idx.tables.iter().position(|t| t.name == "orders").unwrap();
    let status = idx.find_col(orders, "status").unwrap();
    let grouped = || sql::Select {
        items: vec![sql::Expr::Col(status), sql::Expr::CountStar],
        from: orders,
        group: vec![status],
        ..Default::default()
    };
    let shaped = |q: &str| shape_answer(&mut grouped(), &idx, &text::tokenize(q));
    assert!(shaped("how many orders are there").is_err());
    assert!(shaped("how many orders for each status").is_ok());
    assert!(shaped("what is the number of orders").is_err());
    assert!(shaped("what is the number of orders for the different statuses").is_ok());
    assert!(shaped("list the statuses and the number of their orders").is_ok());
    // A count ordered to pick one row: the superlative belongs inside it.
    let total = idx.find_col(orders, "total").unwrap();
    let mut ordered = sql::Select {
        items: vec![sql::Expr::CountStar],
        from: orders,
        order: vec![(sql::Expr::Col(total), true)],
        limit: Some(1),
        ..Default::default()
    };
    let toks = text::tokenize("the number of orders with the highest total");
    assert!(shape_answer(&mut ordered, &idx, &toks).is_err());
    // Bounds no row meets at once.
    let num = |n: &str| sql::Lit::Num(n.into());
    let bounded = |a: (&'static str, &str), b: (&'static str, &str)| {
        contradictory_bounds(&[
            sql::Cond::Cmp(total, a.0, num(a.1)),
            sql::Cond::Cmp(total, b.0, num(b.1)),
        ])
    };
    assert_eq!(bounded(("<", "2003"), (">", "2003")), Some(total));
    assert_eq!(bounded((">=", "10"), ("<", "5")), Some(total));
    assert_eq!(bounded((">=", "5"), ("<=", "5")), None);
    assert_eq!(bounded((">", "5"), ("<", "10")), None);
    // The value filtered on, a breakdown asked for: answered.
    assert!(sql("how many orders are pending", Dialect::Sqlite).contains("'pending'"));
    assert!(sql("how many orders per status", Dialect::Sqlite).contains("GROUP BY status"));
}

#[test]
fn measures_by_a_column_of_another_table() {
    // "by" after a measure groups, along the foreign key; "order" inside a longer name is
    // not a sort.
    let got = sql("show revenue by country", Dialect::Sqlite);
    assert!(got.contains("GROUP BY T2.country"), "{got}");
    assert!(got.contains("SUM(T1.total) AS revenue"), "{got}");
    let got = sql("revenue by country and year", Dialect::Sqlite);
    assert!(got.contains("AS \"year\""), "{got}");
    assert!(got.contains("T2.country"), "{got}");
}

#[test]
fn amounts_of_money_compare_with_the_money_column() {
    for q in [
        "list the orders over $1,500",
        "how many orders were above 1500 dollars",
    ] {
        let got = sql(q, Dialect::Sqlite);
        assert!(got.contains("total > 1500"), "{q}: {got}");
    }
    // A bare number with no column named is still not placed.
    assert!(translate("list the orders over 1500", &demo(), Dialect::Sqlite).is_err());
}

#[test]
fn aggregates_and_distinct_counts() {
    assert_eq!(
        sql(
            "what is the average, minimum and maximum total of orders?",
            Dialect::Sqlite
        ),
        "SELECT AVG(total) AS avg_total, MIN(total) AS min_total, MAX(total) AS max_total FROM orders"
    );
    assert_eq!(
        sql(
            "how many different cities do customers live in?",
            Dialect::Sqlite
        ),
        "SELECT COUNT(DISTINCT city) AS city_count FROM customers"
    );
}

#[test]
fn refuses_what_it_does_not_understand() {
    let e = translate("what's the weather tomorrow?", &demo(), Dialect::Sqlite).unwrap_err();
    assert!(
        e.understood.contains("did not recognise"),
        "{}",
        e.understood
    );
}

#[test]
fn quotes_identifiers_only_when_needed() {
    assert_eq!(sql::ident("orders", Dialect::Postgres), "orders");
    assert_eq!(sql::ident("Orders", Dialect::Postgres), "\"Orders\"");
    assert_eq!(sql::ident("Orders", Dialect::Sqlite), "Orders");
    assert_eq!(sql::ident("order", Dialect::Mysql), "`order`");
    assert_eq!(sql::ident("unit price", Dialect::Sqlite), "\"unit price\"");
}

#[test]
fn excluded_tables_and_columns_are_never_used() {
    let snap = demo();
    let policy = PrivacyPolicy {
        excluded_tables: vec!["orders".into()],
        excluded_columns: vec!["customers.country".into(), "employees.salary".into()],
        masked_column_patterns: Vec::new(),
        row_filters: Vec::new(),
    };
    let guard = GuardPolicy::from_privacy(&policy, 1000);
    for q in QUESTIONS {
        for d in DIALECTS {
            if let Ok(t) = translate_with(q, &snap, d, &policy, &TranslatorOptions::default()) {
                let low = t.sql.to_lowercase();
                assert!(!low.contains("orders"), "{q}: {}", t.sql);
                assert!(!low.contains("country"), "{q}: {}", t.sql);
                assert!(!low.contains("salary"), "{q}: {}", t.sql);
                validate(d, &t.sql, &GuardSchema::from_snapshot(&snap), &guard)
                    .unwrap_or_else(|e| panic!("{q}: {} refused: {e}", t.sql));
            }
        }
    }
}

#[tokio::test]
async fn provider_reports_cannot_translate() {
    use querent_domain::query::{GenerateRequest, ProviderError, SqlProvider};
    let p = OfflineProvider::default();
    assert_eq!(p.name(), "offline");
    let mut req = GenerateRequest {
        question: "how many customers are there?".into(),
        dialect: Dialect::Postgres,
        schema: std::sync::Arc::new(demo()),
        policy: PrivacyPolicy::default(),
        history: Vec::new(),
        previous_error: None,
        max_rows: 100,
        semantic: None,
        examples: Vec::new(),
        instructions: None,
    };
    let g = p.generate(&req).await.unwrap();
    assert_eq!(g.sql, "SELECT COUNT(*) AS customer_count FROM customers");
    assert_eq!(g.usage.prompt_tokens + g.usage.completion_tokens, 0);
    req.question = "what's the weather tomorrow?".into();
    assert!(matches!(
        p.generate(&req).await,
        Err(ProviderError::CannotTranslate(_))
    ));
}

#[test]
fn odd_inputs_never_panic_and_stay_valid() {
    let snap = demo();
    let odd = [
        "",
        "?",
        "\"",
        "'unclosed quote",
        "42",
        "top",
        "how many",
        "orders orders orders orders",
        "customers who do not",
        "between 1 and",
        "show me the 3",
        "list every customer's orders, and return the name. List the city",
        "which which which",
        "the most",
        "customers with more than",
        "Customers In 'Berlin' Or \"Paris\" Sorted By Name Descending",
        "ǅemal's œuvre — 東京 orders ½ more than 3,5",
        "ratio of",
        "the ratio of orders to",
        "ratio between and and",
        "orders? show",
        "How many orders? Give me the number and how much they",
        "break down",
        "which status do most of",
        "-",
        "a-b-c 3-year-old --",
        "customers who spent more than",
        "orders in 2024-13-01",
    ];
    let long = "customers ".repeat(500);
    let guard = GuardPolicy {
        max_rows: Some(1000),
        ..Default::default()
    };
    for q in odd.iter().copied().chain(std::iter::once(long.as_str())) {
        for d in DIALECTS {
            if let Ok(t) = translate(q, &snap, d) {
                validate(d, &t.sql, &GuardSchema::from_snapshot(&snap), &guard)
                    .unwrap_or_else(|e| panic!("{q:?}: {} refused: {e}", t.sql));
            }
        }
    }
}

// ---- The semantic model and verified examples -------------------------------------------

fn shop() -> SchemaSnapshot {
    let mut s = SchemaSnapshot {
        dialect: Dialect::Postgres,
        database: None,
        fingerprint: "f1".into(),
        taken_at: 1,
        tables: vec![
            table(
                "customers",
                vec![
                    col("id", "integer", &[]),
                    col("full_name", "text", &[]),
                    col("country", "text", &["DE", "FR", "US"]),
                    col("region", "text", &["EMEA", "AMER"]),
                    col("segment_code", "integer", &[]),
                    col("ssn", "text", &[]),
                ],
                vec![],
            ),
            table(
                "orders",
                vec![
                    col("id", "integer", &[]),
                    col("customer_id", "integer", &[]),
                    col("status", "text", &["paid", "open"]),
                    col("amount", "numeric(10,2)", &[]),
                    col("ordered_at", "date", &[]),
                ],
                vec![fk("customer_id", "customers")],
            ),
            table(
                "shipments",
                vec![
                    col("id", "integer", &[]),
                    col("order_ref", "integer", &[]),
                    col("carrier", "text", &[]),
                ],
                vec![],
            ),
        ],
    };
    s.normalize();
    s
}

fn shop_model() -> SemanticModel {
    use querent_domain::semantic::{
        JoinPath, JoinSource, Metric, SemanticColumn, SemanticTable, ValueMapping,
    };
    let column = |name: &str| SemanticColumn {
        column: name.into(),
        data_type: None,
        display_name: None,
        description: None,
        synonyms: Vec::new(),
        values: Vec::new(),
        value_mappings: Vec::new(),
    };
    let mut country = column("country");
    country.value_mappings = vec![
        ValueMapping {
            phrase: "Germany".into(),
            value: "DE".into(),
        },
        ValueMapping {
            phrase: "the United States".into(),
            value: "US".into(),
        },
    ];
    let mut name = column("full_name");
    name.display_name = Some("Client name".into());
    let mut segment = column("segment_code");
    segment.value_mappings = vec![ValueMapping {
        phrase: "wholesale".into(),
        value: "2".into(),
    }];
    let mut amount = column("amount");
    amount.synonyms = vec!["spend".into()];
    SemanticModel {
        connection_id: querent_domain::ConnectionId::new(),
        version: 1,
        schema_fingerprint: "f1".into(),
        description: None,
        tables: vec![
            SemanticTable {
                table: "customers".into(),
                display_name: None,
                description: None,
                synonyms: vec!["clients".into()],
                columns: vec![country, name, segment],
            },
            SemanticTable {
                table: "orders".into(),
                display_name: None,
                description: None,
                synonyms: vec!["purchases".into()],
                columns: vec![amount],
            },
        ],
        joins: vec![JoinPath {
            from_table: "shipments".into(),
            from_columns: vec!["order_ref".into()],
            to_table: "orders".into(),
            to_columns: vec!["id".into()],
            cardinality: Default::default(),
            source: JoinSource::Manual,
        }],
        metrics: vec![
            Metric {
                name: "revenue".into(),
                description: Some("Money from paid orders".into()),
                expression: "SUM(CASE WHEN orders.status = 'paid' THEN amount ELSE 0 END)".into(),
                table: "orders".into(),
                synonyms: vec!["sales".into()],
            },
            Metric {
                name: "identity checks".into(),
                description: None,
                expression: "COUNT(DISTINCT customers.ssn)".into(),
                table: "customers".into(),
                synonyms: Vec::new(),
            },
        ],
        updated_at: 0,
    }
}

fn shop_policy() -> PrivacyPolicy {
    PrivacyPolicy {
        excluded_columns: vec!["customers.ssn".into()],
        ..Default::default()
    }
}

/// Translates with the shop model and checks the SQL passes the guard.
fn shop_sql(
    q: &str,
    model: Option<&SemanticModel>,
    examples: &[FewShot],
) -> Result<String, String> {
    let snap = shop();
    let policy = shop_policy();
    let t = translate_with_model(
        q,
        &snap,
        Dialect::Postgres,
        &policy,
        &TranslatorOptions::default(),
        model,
        examples,
    )
    .map_err(|e| e.understood)?;
    let guard = GuardPolicy {
        max_rows: Some(1000),
        ..Default::default()
    };
    validate(
        Dialect::Postgres,
        &t.sql,
        &GuardSchema::from_snapshot(&snap),
        &guard,
    )
    .unwrap_or_else(|e| panic!("{q}: guard refused {}: {e}", t.sql));
    Ok(t.sql)
}

#[test]
fn table_and_column_synonyms_are_names() {
    let m = shop_model();
    // Without a model the business lexicon reads "clients" as customers too.
    assert_eq!(
        shop_sql("how many clients are there?", None, &[]).unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
    assert_eq!(
        shop_sql("how many clients are there?", Some(&m), &[]).unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
    // The display name "Client name" names `full_name`.
    assert_eq!(
        shop_sql("list the client names", Some(&m), &[]).unwrap(),
        "SELECT full_name FROM customers"
    );
    // A column synonym.
    let sql = shop_sql("what is the average spend of purchases?", Some(&m), &[]).unwrap();
    assert_eq!(sql, "SELECT AVG(amount) AS avg_amount FROM orders");
}

#[test]
fn drafted_names_do_not_shadow_tables_or_other_columns() {
    // What a draft says about keys and plain columns: the subject of a key, the column's
    // own words, another column's name. None of it may change an answer.
    let mut m = shop_model();
    let orders = &mut m.tables[1];
    let mut key = orders.columns[0].clone();
    key.column = "customer_id".into();
    key.synonyms = vec!["customer".into(), "customer id".into()];
    key.display_name = Some("Customer ID".into());
    let mut status = orders.columns[0].clone();
    status.column = "status".into();
    status.synonyms = vec!["amount".into()];
    orders.columns.extend([key, status]);
    for q in [
        "how many orders per customer",
        "customers with more than 3 orders",
        "total amount of orders by status",
    ] {
        assert_eq!(shop_sql(q, None, &[]), shop_sql(q, Some(&m), &[]), "{q}");
    }
}

#[test]
fn value_mappings_are_literal_filters() {
    let m = shop_model();
    // Without the model the place table reads "Germany" as the stored code too.
    assert_eq!(
        shop_sql("customers in Germany", None, &[]).unwrap(),
        "SELECT full_name FROM customers WHERE country = 'DE'"
    );
    assert_eq!(
        shop_sql("customers in Germany", Some(&m), &[]).unwrap(),
        "SELECT full_name FROM customers WHERE country = 'DE'"
    );
    assert_eq!(
        shop_sql(
            "how many customers are in the United States?",
            Some(&m),
            &[]
        )
        .unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers WHERE country = 'US'"
    );
    // A mapping to a number on a numeric column is a number.
    assert_eq!(
        shop_sql("wholesale customers", Some(&m), &[]).unwrap(),
        "SELECT full_name FROM customers WHERE segment_code = 2"
    );
}

#[test]
fn metrics_are_named_measures() {
    let m = shop_model();
    assert_eq!(
        shop_sql("total sales", Some(&m), &[]).unwrap(),
        "SELECT SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END) AS revenue FROM orders"
    );
    // Per group, joined along the foreign key, the expression's columns with aliases.
    assert_eq!(
        shop_sql("total revenue by region", Some(&m), &[]).unwrap(),
        "SELECT SUM(CASE WHEN T1.status = 'paid' THEN T1.amount ELSE 0 END) AS revenue, T2.region \
         FROM orders AS T1 JOIN customers AS T2 ON T1.customer_id = T2.id GROUP BY T2.region"
    );
    // "revenue per country" names no aggregate: the metric is one, so it is grouped.
    let sql = shop_sql("revenue per country", Some(&m), &[]).unwrap();
    assert!(sql.ends_with("GROUP BY T2.country"), "{sql}");
    // A metric reading another table's columns brings the join it needs.
    let mut model = m.clone();
    model.metrics.push(querent_domain::semantic::Metric {
        name: "buyer count".into(),
        description: None,
        expression: "COUNT(DISTINCT customers.id)".into(),
        table: "orders".into(),
        synonyms: Vec::new(),
    });
    assert_eq!(
        shop_sql("buyer count per status", Some(&model), &[]).unwrap(),
        "SELECT COUNT(DISTINCT T2.id) AS buyer_count, T1.status FROM orders AS T1 \
         JOIN customers AS T2 ON T1.customer_id = T2.id GROUP BY T1.status"
    );
    // Filtering on a metric is refused rather than written into WHERE.
    let err = shop_sql("statuses with revenue above 1000", Some(&m), &[]).unwrap_err();
    assert!(err.contains("metric `revenue`"), "{err}");
    // A metric over an excluded column is never offered.
    let err = shop_sql("total identity checks", Some(&m), &[]).unwrap_err();
    assert!(!err.contains("identity"), "{err}");
}

#[test]
fn metric_expressions_resolve_columns_and_keep_literals() {
    let snap = shop();
    let idx = index::Index::new(&snap, &shop_policy(), Some(&shop_model()));
    let revenue = idx
        .cols
        .iter()
        .position(|c| c.name == "revenue")
        .expect("the metric is indexed");
    let pieces = idx.cols[revenue].metric.as_ref().unwrap();
    let cols: Vec<&str> = pieces
        .iter()
        .filter_map(|p| match p {
            index::Piece::Col(c) => Some(idx.cols[*c].name.as_str()),
            index::Piece::Text(_) => None,
        })
        .collect();
    assert_eq!(cols, ["status", "amount"]);
    assert!(pieces.contains(&index::Piece::Text(" = 'paid' THEN ".into())));
    // Metrics are not columns of their table.
    assert!(!idx.tables[idx.cols[revenue].table].cols.contains(&revenue));
    assert!(!idx.cols.iter().any(|c| c.name == "identity checks"));
}

#[test]
fn model_join_paths_are_edges() {
    let m = shop_model();
    let q = "carriers of shipments of paid orders";
    let err = shop_sql(q, None, &[]).unwrap_err();
    assert!(err.contains("no foreign-key path"), "{err}");
    assert_eq!(
        shop_sql(q, Some(&m), &[]).unwrap(),
        "SELECT T1.carrier FROM shipments AS T1 JOIN orders AS T2 ON T1.order_ref = T2.id \
         WHERE T2.status = 'paid'"
    );
}

#[test]
fn a_verified_example_with_the_same_question_answers_it() {
    let examples = [
        FewShot {
            question: "Which carriers ship the most?".into(),
            sql: "SELECT carrier, COUNT(*) FROM shipments GROUP BY carrier ORDER BY 2 DESC;".into(),
        },
        FewShot {
            question: "How many clients?".into(),
            sql: "SELECT COUNT(*) AS customer_count FROM customers".into(),
        },
    ];
    assert_eq!(
        shop_sql("  which CARRIERS ship the most ", None, &examples).unwrap(),
        "SELECT carrier, COUNT(*) FROM shipments GROUP BY carrier ORDER BY 2 DESC"
    );
    // Only the same question: a similar one is translated.
    assert_eq!(
        shop_sql("how many shipments?", None, &examples).unwrap(),
        "SELECT COUNT(*) AS shipment_count FROM shipments"
    );
    assert_eq!(
        normalize_question("What's the  total, per year?"),
        "whats the total per year"
    );
    // Never an example that reads an excluded column.
    let leaky = [FewShot {
        question: "how many customers?".into(),
        sql: "SELECT COUNT(DISTINCT ssn) FROM customers".into(),
    }];
    assert_eq!(
        shop_sql("How many customers?", None, &leaky).unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
}

#[tokio::test]
async fn provider_uses_model_examples_and_caches_indexes() {
    use std::sync::Arc;
    let provider = OfflineProvider::default();
    let mut request = GenerateRequest {
        question: "customers in Germany".into(),
        dialect: Dialect::Postgres,
        schema: Arc::new(shop()),
        policy: shop_policy(),
        history: Vec::new(),
        previous_error: None,
        max_rows: 100,
        semantic: Some(Arc::new(shop_model())),
        examples: Vec::new(),
        instructions: None,
    };
    let g = provider.generate(&request).await.unwrap();
    assert_eq!(
        g.sql,
        "SELECT full_name FROM customers WHERE country = 'DE'"
    );
    let g = provider.generate(&request).await.unwrap();
    assert_eq!(
        g.sql,
        "SELECT full_name FROM customers WHERE country = 'DE'"
    );
    assert_eq!(provider.cached_indexes(), 1);
    // Another model version or policy is another index.
    let mut model = shop_model();
    model.version = 2;
    model.tables[0].columns[0].value_mappings[0].value = "GER".into();
    request.semantic = Some(Arc::new(model));
    let g = provider.generate(&request).await.unwrap();
    assert_eq!(
        g.sql,
        "SELECT full_name FROM customers WHERE country = 'GER'"
    );
    request
        .policy
        .excluded_columns
        .push("customers.country".into());
    // With the country hidden, "Germany" could only be a customer's name, and showing the
    // name it filters on would echo the question: refused.
    let g = provider.generate(&request).await;
    assert!(
        matches!(
            &g,
            Err(querent_domain::query::ProviderError::CannotTranslate(_))
        ),
        "{g:?}"
    );
    assert_eq!(provider.cached_indexes(), 3);
    request.policy.excluded_columns.clear();
    // A linked subset keeps the fingerprint but is another index.
    let mut subset = shop();
    subset.tables.retain(|t| t.name != "shipments");
    request.schema = Arc::new(subset);
    provider.generate(&request).await.unwrap();
    assert_eq!(provider.cached_indexes(), 4);
    // The cache is bounded.
    for v in 10..30 {
        let mut model = shop_model();
        model.version = v;
        request.semantic = Some(Arc::new(model));
        provider.generate(&request).await.unwrap();
    }
    assert_eq!(provider.cached_indexes(), INDEX_CACHE_SIZE);
    // Examples win over translation.
    request.examples = vec![FewShot {
        question: "Customers in Germany!".into(),
        sql: "SELECT id FROM customers WHERE country = 'DE'".into(),
    }];
    request.policy = shop_policy();
    let g = provider.generate(&request).await.unwrap();
    assert_eq!(g.sql, "SELECT id FROM customers WHERE country = 'DE'");
}

fn demo_sql(q: &str) -> Result<String, String> {
    translate(q, &demo(), Dialect::Sqlite)
        .map(|t| t.sql)
        .map_err(|e| e.understood)
}

#[test]
fn business_measures_without_a_model() {
    // "revenue" / "sales": the sum of the one money amount of a dated table.
    assert_eq!(
        demo_sql("What was the revenue in May 2025?").unwrap(),
        "SELECT SUM(total) AS revenue FROM orders WHERE ordered_at >= '2025-05-01' AND ordered_at < '2025-06-01'"
    );
    assert_eq!(
        demo_sql("top 3 customers by revenue").unwrap(),
        "SELECT T1.name FROM customers AS T1 JOIN orders AS T2 ON T1.id = T2.customer_id \
         GROUP BY T1.id ORDER BY SUM(T2.total) DESC LIMIT 3"
    );
    // Business words for tables, adjectives for stored values.
    assert_eq!(
        demo_sql("How many clients are there?").unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
    assert_eq!(
        demo_sql("how many staff do we have").unwrap(),
        "SELECT COUNT(*) AS employee_count FROM employees"
    );
    assert_eq!(
        demo_sql("which customers are American").unwrap(),
        "SELECT name FROM customers WHERE country = 'United States'"
    );
}

#[test]
fn dates_in_words_and_series() {
    assert_eq!(
        demo_sql("How many orders were placed in Q3 2024?").unwrap(),
        "SELECT COUNT(*) AS order_count FROM orders WHERE ordered_at >= '2024-07-01' AND ordered_at < '2024-10-01'"
    );
    assert_eq!(
        demo_sql("monthly revenue in 2024").unwrap(),
        "SELECT strftime('%Y-%m', ordered_at) AS \"month\", SUM(total) AS revenue FROM orders \
         WHERE ordered_at >= '2024-01-01' AND ordered_at < '2025-01-01' \
         GROUP BY strftime('%Y-%m', ordered_at) ORDER BY strftime('%Y-%m', ordered_at)"
    );
    let pg = translate("number of orders by year", &demo(), Dialect::Postgres)
        .unwrap()
        .sql;
    assert_eq!(
        pg,
        "SELECT to_char(ordered_at, 'YYYY') AS \"year\", COUNT(*) AS order_count FROM orders \
         GROUP BY to_char(ordered_at, 'YYYY') ORDER BY to_char(ordered_at, 'YYYY')"
    );
    let my = translate("number of orders by quarter", &demo(), Dialect::Mysql)
        .unwrap()
        .sql;
    assert!(
        my.starts_with("SELECT CONCAT(YEAR(ordered_at), '-Q', QUARTER(ordered_at)) AS quarter"),
        "{my}"
    );
}

#[test]
fn refuses_rather_than_answering_another_question() {
    // An unknown noun the question rests on.
    let e = demo_sql("What is the ratio of shipped orders?").unwrap_err();
    assert!(
        e.contains("\"ratio\"") && e.contains("semantic model"),
        "{e}"
    );
    // A breakdown by a table is built for a metric too: one row per department.
    let s = demo_sql("what is the headcount by department").unwrap();
    assert!(s.contains("GROUP BY T2.id, T2.name"), "{s}");
    // A share in a form not read is refused in the words it was asked in.
    let e = demo_sql("How big is the percentage of orders that were shipped?").unwrap_err();
    assert!(e.contains("\"percentage\""), "{e}");
    // Unknown verbs and adverbs are how things relate: answered.
    assert!(demo_sql("how many customers bought products").is_ok());
}

fn follow(previous: &str, question: &str) -> Result<String, String> {
    let provider = OfflineProvider::default();
    let request = querent_domain::query::GenerateRequest {
        question: question.into(),
        dialect: Dialect::Sqlite,
        schema: std::sync::Arc::new(demo()),
        policy: PrivacyPolicy::default(),
        history: vec![querent_domain::query::Turn {
            question: previous.into(),
            sql: Some("SELECT 1".into()),
        }],
        previous_error: None,
        max_rows: 100,
        semantic: None,
        examples: Vec::new(),
        instructions: None,
    };
    provider
        .translate(&request)
        .map(|t| t.sql)
        .map_err(|e| e.understood)
}

#[test]
fn follow_ups_refine_the_previous_question() {
    assert_eq!(
        follow("How many customers per country?", "only for Germany").unwrap(),
        "SELECT COUNT(*) AS customer_count, country FROM customers WHERE country = 'Germany' GROUP BY country"
    );
    let sql = follow("revenue by month", "and by year?").unwrap();
    assert!(
        sql.starts_with("SELECT strftime('%Y', ordered_at) AS \"year\", SUM(total)"),
        "{sql}"
    );
    let sql = follow("top 3 customers by revenue", "top 10 instead").unwrap();
    assert!(sql.ends_with("LIMIT 10"), "{sql}");
    // A question of its own is answered on its own.
    assert_eq!(
        follow("revenue by month", "How many customers are there?").unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
    assert_eq!(
        follow("How many customers per country?", "in Japan?").unwrap(),
        "SELECT COUNT(*) AS customer_count, country FROM customers WHERE country = 'Japan' GROUP BY country"
    );
    // A refinement that cannot stand alone is refused as read with the previous question,
    // not answered as its bare words ("the 5 customers" alone).
    let why = follow("revenue by month", "and what about the frobnicated ones?").unwrap_err();
    assert!(
        why.starts_with("Following up on \"revenue by month\""),
        "{why}"
    );
    let why = follow(
        "How many customers per country?",
        "the 5 zorbulous customers instead",
    )
    .unwrap_err();
    assert!(
        why.starts_with("Following up on") && why.contains("zorbulous"),
        "{why}"
    );
}

#[test]
fn shares_are_a_part_over_its_whole() {
    // A count's share: the part's conditions on top of the whole's.
    assert_eq!(
        demo_sql("What percentage of orders were cancelled?").unwrap(),
        "SELECT 100.0 * (SELECT COUNT(*) AS order_count FROM orders WHERE status = 'cancelled') \
         / NULLIF((SELECT COUNT(*) AS order_count FROM orders), 0) AS percentage"
    );
    // A date bounds the whole as well; a fraction unless percent is asked for.
    assert_eq!(
        demo_sql("What fraction of 2025 orders were shipped?").unwrap(),
        "SELECT 1.0 * (SELECT COUNT(*) AS order_count FROM orders WHERE ordered_at >= '2025-01-01' \
         AND ordered_at < '2026-01-01' AND status = 'shipped') / NULLIF((SELECT COUNT(*) AS \
         order_count FROM orders WHERE ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01'), 0) \
         AS fraction"
    );
    // Each group's share of the total.
    let sql = demo_sql("What share of revenue does each country bring, in percent?").unwrap();
    assert!(
        sql.contains("100.0 * SUM(T1.total) / NULLIF((SELECT SUM(total) AS revenue FROM orders), 0) AS percentage")
            && sql.ends_with("GROUP BY T2.country"),
        "{sql}"
    );
    // A share of nothing in particular is refused, not answered with the whole.
    let why = demo_sql("What percentage of orders are there?").unwrap_err();
    assert!(why.contains("what part"), "{why}");
}

#[test]
fn ordinals_of_time_pick_by_date() {
    // "first" / "last" that is no name part, count or period means earliest / latest.
    assert_eq!(
        demo_sql("Which customer signed up first?").unwrap(),
        "SELECT name FROM customers ORDER BY created_at LIMIT 1"
    );
    assert_eq!(
        demo_sql("When was the last order?").unwrap(),
        "SELECT ordered_at FROM orders ORDER BY ordered_at DESC LIMIT 1"
    );
    // Rows named by the superlative are the answer.
    assert_eq!(
        demo_sql("List the 5 most recent orders").unwrap(),
        "SELECT id, customer_id, status, ordered_at, total FROM orders ORDER BY ordered_at DESC LIMIT 5"
    );
    // A spelled-out number is no code stored as text.
    assert!(demo_sql("Which orders have status two?").is_err());
}

#[test]
fn buying_is_having_orders() {
    // The verb of buying relates customers to the table of orders, and the window of
    // time said after it dates the orders, not the customers.
    assert_eq!(
        demo_sql("How many customers purchased in 2023?").unwrap(),
        "SELECT COUNT(DISTINCT T1.id) AS customer_count FROM customers AS T1 JOIN orders AS T2 \
         ON T1.id = T2.customer_id WHERE T2.ordered_at >= '2023-01-01' AND T2.ordered_at < '2024-01-01'"
    );
    // Orders counted, customers only filter them: the window dates the orders.
    assert_eq!(
        demo_sql("How many orders did customers from Germany make in 2023?").unwrap(),
        "SELECT COUNT(*) AS order_count FROM orders AS T1 JOIN customers AS T2 ON \
         T1.customer_id = T2.id WHERE T2.country = 'Germany' AND T1.ordered_at >= '2023-01-01' \
         AND T1.ordered_at < '2024-01-01'"
    );
    // A table it relates to is said: the path to it.
    assert!(
        demo_sql("Which customers bought products?")
            .unwrap()
            .contains("JOIN products")
    );
}

#[test]
fn ids_asked_for_are_the_key() {
    let mut s = demo();
    s.tables = vec![
        table(
            "Documents",
            vec![
                col("Document_ID", "integer", &[]),
                col("Document_Name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "Paragraphs",
            vec![
                col("Paragraph_ID", "integer", &[]),
                col("Document_ID", "integer", &[]),
                col("Paragraph_Text", "text", &[]),
            ],
            vec![fk_on("Document_ID", "Documents", "Document_ID")],
        ),
    ];
    let sql = |q: &str| translate(q, &s, Dialect::Sqlite).unwrap().sql;
    assert_eq!(
        sql("List the ids of all documents."),
        "SELECT Document_ID FROM Documents"
    );
    assert_eq!(
        sql("What are the names and ids of all documents?"),
        "SELECT Document_Name, Document_ID FROM Documents"
    );
    assert!(
        sql("What are the ids of documents that have 2 or more paragraphs?")
            .starts_with("SELECT T1.Document_ID FROM Documents"),
    );
}

#[test]
fn abbreviated_column_words_match_spelled_out() {
    let mut s = demo();
    s.tables = vec![table(
        "flights",
        vec![
            col("id", "integer", &[]),
            col("FlightNo", "integer", &[]),
            col("SourceAirport", "text", &[]),
            col("DestAirport", "text", &[]),
        ],
        vec![],
    )];
    assert_eq!(
        translate("List all flight numbers.", &s, Dialect::Sqlite)
            .unwrap()
            .sql,
        "SELECT FlightNo FROM flights"
    );
}

#[test]
fn a_single_is_one_and_fixed_groups_are_one_value() {
    // "not a single" is none; "more than a single" is more than 1.
    assert_eq!(
        demo_sql("Which customers have not a single order?").unwrap(),
        demo_sql("Which customers have no order?").unwrap()
    );
    assert!(
        demo_sql("Which customers have more than a single order?")
            .unwrap()
            .ends_with("HAVING COUNT(*) > 1")
    );
    // A table word before the column counted qualifies it.
    assert_eq!(
        demo_sql("How many different customer cities are there?").unwrap(),
        "SELECT COUNT(DISTINCT city) AS city_count FROM customers"
    );
    // A grouping by the column the question fixes has one group: the value alone.
    assert_eq!(
        demo_sql("How many orders have the status shipped?").unwrap(),
        "SELECT COUNT(*) AS order_count FROM orders WHERE status = 'shipped'"
    );
}

#[test]
fn which_row_a_superlative_picks_shows_its_label() {
    // The customer is shown, whether or not the date it was picked by is.
    for q in [
        "Which customer was created first?",
        "Which customer has the latest created at?",
    ] {
        let sql = demo_sql(q).unwrap();
        assert!(sql.starts_with("SELECT name"), "{q}: {sql}");
    }
}

#[test]
fn superlatives_rank_or_refuse() {
    // Price superlatives rank by the price.
    assert!(
        demo_sql("What is the most expensive product?")
            .unwrap()
            .ends_with("ORDER BY price DESC LIMIT 1")
    );
    assert!(
        demo_sql("Which product is the cheapest?")
            .unwrap()
            .ends_with("ORDER BY price LIMIT 1")
    );
    // A superlative nothing ranks by is refused, not answered with every row.
    let why = demo_sql("Which city is the prettiest and largest?").unwrap_err();
    assert!(why.contains("\"largest\""), "{why}");
}

/// A schema with a many-to-many link (students, their pets through `has_pet`), a pet type
/// of short words, a sex stored as a letter, and a name with words in it.
fn pets() -> SchemaSnapshot {
    schema_of(vec![
        table(
            "students",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("sex", "text", &["F", "M"]),
                col("major", "text", &["computer science", "history", "art"]),
            ],
            vec![],
        ),
        table(
            "pets",
            vec![
                col("id", "integer", &[]),
                col("pet_type", "text", &["cat", "dog"]),
                col("weight", "real", &[]),
            ],
            vec![],
        ),
        table(
            "has_pet",
            vec![
                col("student_id", "integer", &[]),
                col("pet_id", "integer", &[]),
            ],
            vec![fk("student_id", "students"), fk("pet_id", "pets")],
        ),
    ])
}

fn pets_sql(q: &str) -> Result<String, String> {
    translate(q, &pets(), Dialect::Sqlite)
        .map(|t| t.sql)
        .map_err(|e| e.understood)
}

#[test]
fn short_and_plural_values_and_sexes_in_words_are_values() {
    let s = pets_sql("How many dogs are there?").unwrap();
    assert!(s.contains("pet_type = 'dog'"), "{s}");
    let s = pets_sql("How many female students are there?").unwrap();
    assert!(s.contains("sex = 'F'"), "{s}");
    let s = pets_sql("List the names of the men students").unwrap();
    assert!(s.contains("sex = 'M'"), "{s}");
}

#[test]
fn a_listing_filtered_through_a_to_many_join_shows_each_row_once() {
    // A student with a cat and a dog is one student.
    let s = pets_sql("What are the names of students who have a cat or a dog?").unwrap();
    assert!(s.starts_with("SELECT DISTINCT"), "{s}");
    // Numbers are not folded: two pets may weigh the same.
    let s = pets_sql("Show the weight of pets of students who study art").unwrap();
    assert!(!s.starts_with("SELECT DISTINCT"), "{s}");
}

#[test]
fn the_word_or_letter_named_is_a_piece_of_text() {
    let s = pets_sql("Which students have the word computer in their major?").unwrap();
    assert!(s.contains("major LIKE '%computer%'"), "{s}");
    let s = pets_sql("Find the students whose name contains the letter w").unwrap();
    assert!(s.contains("name LIKE '%w%'"), "{s}");
}

#[test]
fn kinds_of_something_are_its_distinct_values() {
    let s = pets_sql("How many types of pets are there?").unwrap();
    assert!(s.contains("COUNT(DISTINCT pet_type)"), "{s}");
    let s = pets_sql("How many kinds of majors are there?").unwrap();
    assert!(s.contains("COUNT(DISTINCT major)"), "{s}");
}

#[test]
fn a_negation_the_query_does_not_carry_out_is_refused() {
    // Read as the opposite (no exclusion built) would be the students who do have them.
    let e = pets_sql("Which students never had any of the pets?").unwrap_err();
    assert!(e.contains("\"never\""), "{e}");
    // A negated comparison is a comparison.
    let s = pets_sql("Which pets have a weight not more than 10?").unwrap();
    assert!(s.contains("<= 10"), "{s}");
    // An exclusion the query does build passes.
    let s = pets_sql("Which students do not have a dog?").unwrap();
    assert!(s.contains("NOT IN"), "{s}");
}

#[test]
fn a_number_before_a_price_superlative_is_the_cut() {
    let s = sql("List the 3 cheapest products", Dialect::Sqlite);
    assert!(s.ends_with("ORDER BY price LIMIT 3"), "{s}");
    let s = sql("Show the three cheapest products", Dialect::Sqlite);
    assert!(s.ends_with("LIMIT 3"), "{s}");
}

#[test]
fn a_ranking_word_the_query_ignores_is_refused() {
    let e = translate(
        "What was our best-selling product?",
        &demo(),
        Dialect::Sqlite,
    )
    .unwrap_err()
    .understood;
    // ("best-selling" is read as its parts.)
    assert!(e.contains("\"best\""), "{e}");
    // "at most" is a bound, not a ranking.
    let s = sql("customers with at most 2 orders", Dialect::Sqlite);
    assert!(s.contains("<= 2"), "{s}");
}

#[test]
fn days_said_with_their_month_bound_the_dates() {
    let s = sql(
        "How many orders were placed on 3 March 2025?",
        Dialect::Sqlite,
    );
    assert!(
        s.contains(">= '2025-03-03'") && s.contains("< '2025-03-04'"),
        "{s}"
    );
}

#[test]
fn where_asks_for_the_place_columns() {
    let s = pets_sql("Where do the students live?").unwrap_or_default();
    // The pets schema has no place column: nothing to add, and nothing invented.
    assert!(!s.contains("city"), "{s}");
    let s = sql("Where do our customers live?", Dialect::Sqlite);
    assert!(s.contains("country") && s.contains("city"), "{s}");
}

#[test]
fn out_of_a_counted_stock_is_none_left() {
    let mut snap = demo();
    snap.tables
        .iter_mut()
        .find(|t| t.name == "products")
        .unwrap()
        .columns
        .push(col("units_in_stock", "integer", &[]));
    snap.normalize();
    let t = translate("Which products are out of stock?", &snap, Dialect::Sqlite).unwrap();
    assert!(t.sql.contains("units_in_stock = 0"), "{}", t.sql);
}

#[test]
fn an_average_the_query_does_not_compute_is_refused() {
    // (An average number per group is each group's number averaged.)
    let s = sql(
        "What is the average number of items per order?",
        Dialect::Sqlite,
    );
    assert!(s.starts_with("SELECT AVG(order_item_count)"), "{s}");
    let e = translate(
        "Show the average of every customer.",
        &demo(),
        Dialect::Sqlite,
    )
    .unwrap_err()
    .understood;
    assert!(e.contains("average"), "{e}");
    let s = sql("What is the average salary?", Dialect::Sqlite);
    assert!(s.contains("AVG(salary)"), "{s}");
}

#[test]
fn the_agent_of_a_by_column_and_verbs_after_an_auxiliary_are_understood() {
    let snap = schema_of(vec![table(
        "cartoon",
        vec![
            col("id", "integer", &[]),
            col("title", "text", &[]),
            col("directed_by", "text", &["Ben Jones", "Brandon Vietti"]),
            col("written_by", "text", &["Todd Casey"]),
        ],
        vec![],
    )]);
    let t = translate(
        "How many cartoons did each director create?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap();
    assert!(t.sql.contains("GROUP BY directed_by"), "{}", t.sql);
    let t = translate("List the writers of all cartoons", &snap, Dialect::Sqlite).unwrap();
    assert!(t.sql.contains("written_by"), "{}", t.sql);
}

#[test]
fn a_listing_is_planned_from_the_tables_it_reads() {
    let mut q = sql::Select::default();
    let idx = index::Index::new(&demo(), &PrivacyPolicy::default(), None);
    let col = |t: &str, c: &str| {
        idx.cols
            .iter()
            .position(|x| idx.tables[x.table].name == t && x.name == c)
            .unwrap()
    };
    // customers → orders → order_items, reading only the order lines' quantity and the
    // orders' status: the customers are a detour.
    q.from = idx
        .tables
        .iter()
        .position(|t| t.name == "customers")
        .unwrap();
    q.joins = vec![
        (col("customers", "id"), col("orders", "customer_id")),
        (col("orders", "id"), col("order_items", "order_id")),
    ];
    q.items = vec![sql::Expr::Col(col("order_items", "quantity"))];
    q.conds = vec![sql::Cond::Cmp(
        col("orders", "status"),
        "=",
        sql::Lit::Str("shipped".into()),
    )];
    let planned = q.clone();
    // A question naming the customers keeps them: they are part of what it asks.
    let customers = q.from;
    sql::reroot_unread_from(&mut q, &idx, 3, &[customers]);
    assert_eq!(q, planned);
    sql::reroot_unread_from(&mut q, &idx, 3, &[]);
    assert_eq!(idx.tables[q.from].name, "order_items");
    assert_eq!(q.joins.len(), 1);
}

#[test]
fn counting_rows_of_another_table_than_the_one_asked_is_caught() {
    let idx = index::Index::new(&demo(), &PrivacyPolicy::default(), None);
    let table = |n: &str| idx.tables.iter().position(|t| t.name == n).unwrap();
    let toks = text::tokenize("How many orders did customers from Japan place?");
    let mut q = sql::Select {
        items: vec![sql::Expr::CountStar],
        from: table("customers"),
        ..Default::default()
    };
    assert_eq!(counts_another_table(&q, &idx, &toks), Some("orders"));
    q.from = table("orders");
    assert_eq!(counts_another_table(&q, &idx, &toks), None);
    // "how many order items": the noun starts a longer name.
    let toks = text::tokenize("How many order items are there?");
    q.from = table("customers");
    assert_eq!(counts_another_table(&q, &idx, &toks), None);
}

#[test]
fn a_count_of_each_rows_own_row_is_refused() {
    let e = translate(
        "What is the most popular category?",
        &demo(),
        Dialect::Sqlite,
    );
    match e {
        Err(e) => assert!(e.understood.contains("by a count"), "{}", e.understood),
        Ok(t) => assert!(
            t.sql.contains("JOIN"),
            "counted each category's own row: {}",
            t.sql
        ),
    }
    let s = sql("Which category has the most products?", Dialect::Sqlite);
    assert!(s.contains("JOIN products"), "{s}");
}

#[test]
fn a_count_the_query_does_not_compute_is_refused() {
    let idx = index::Index::new(&demo(), &PrivacyPolicy::default(), None);
    let col = |t: &str, c: &str| {
        idx.cols
            .iter()
            .position(|x| idx.tables[x.table].name == t && x.name == c)
            .unwrap()
    };
    let toks = text::tokenize("What is the total number of cities of customers in Japan?");
    let mut q = sql::Select {
        items: vec![sql::Expr::Col(col("customers", "city"))],
        ..Default::default()
    };
    q.from = idx.cols[col("customers", "city")].table;
    assert!(unused_count(&q, &idx, &toks).is_some());
    q.items = vec![sql::Expr::CountStar];
    assert!(unused_count(&q, &idx, &toks).is_none());
    // "the greatest number of <a numeric column>" is that column.
    let toks = text::tokenize("Which employee has the greatest number of salary?");
    q.items = vec![sql::Expr::Col(col("employees", "name"))];
    q.order = vec![(sql::Expr::Col(col("employees", "salary")), true)];
    assert!(unused_count(&q, &idx, &toks).is_none());
}

#[test]
fn a_value_names_the_column_said_right_after_it() {
    let snap = schema_of(vec![table(
        "city",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("district", "text", &[]),
            col("population", "integer", &[]),
        ],
        vec![],
    )]);
    let t = translate(
        "Which cities are in Gelderland district?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap();
    assert!(t.sql.contains("district = 'Gelderland'"), "{}", t.sql);
}

#[test]
fn a_number_before_a_superlative_in_the_head_is_the_cut() {
    let snap = schema_of(vec![table(
        "country",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("population", "integer", &[]),
        ],
        vec![],
    )]);
    let t = translate(
        "Return the names of the 3 most populated countries.",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap();
    assert!(
        t.sql.ends_with("ORDER BY population DESC LIMIT 3"),
        "{}",
        t.sql
    );
}

#[test]
fn sex_words_are_codes_of_a_sex_column_only() {
    let snap = schema_of(vec![table(
        "students",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("grade", "text", &["A", "B", "F"]),
        ],
        vec![],
    )]);
    if let Ok(t) = translate("List the women students", &snap, Dialect::Sqlite) {
        assert!(!t.sql.contains("grade"), "{}", t.sql);
    }
    let s = pets_sql("How many female students are there?").unwrap();
    assert!(s.contains("sex = 'F'"), "{s}");
}

/// Countries and their languages (a language unsampled, an official flag stored `T`/`F`),
/// horses with an integer yes/no flag, and products with a boolean one.
fn languages() -> SchemaSnapshot {
    schema_of(vec![
        table(
            "countries",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("continent", "text", &["Asia", "Europe"]),
                col("population", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "country_languages",
            vec![
                col("country_id", "integer", &[]),
                col("language", "text", &[]),
                col("is_official", "text", &["T", "F"]),
            ],
            vec![fk("country_id", "countries")],
        ),
        table(
            "horses",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("retired_yn", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "products",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("discontinued", "boolean", &[]),
            ],
            vec![],
        ),
    ])
}

fn languages_sql(q: &str) -> Result<String, String> {
    translate(q, &languages(), Dialect::Sqlite)
        .map(|t| t.sql)
        .map_err(|e| e.understood)
}

#[test]
fn a_name_takes_the_column_said_after_it_and_languages_are_spoken() {
    // An unsampled name is a value of the column the clause names after it, not a country.
    let s = languages_sql("Which countries have Dutch as a language?").unwrap();
    assert!(s.contains("language = 'Dutch'"), "{s}");
    assert!(!s.contains("name = 'Dutch'"), "{s}");
    // "speak X" and "X is spoken" name a language.
    let s = languages_sql("How many countries speak English?").unwrap();
    assert!(s.contains("language = 'English'"), "{s}");
    let s = languages_sql("List the countries where Spanish is spoken.").unwrap();
    assert!(s.contains("language = 'Spanish'"), "{s}");
    // Two values of a table a country has many of: countries with both.
    let s = languages_sql("Which countries have English and French as languages?").unwrap();
    assert!(s.contains("INTERSECT"), "{s}");
    // Across a negation it is not read so: the countries without it are another question.
    assert!(
        languages_sql("Which countries have a population where English is not the language?")
            .is_err()
    );
}

#[test]
fn yes_no_columns_are_said_by_their_adjective() {
    let s = languages_sql("Which languages are official?").unwrap();
    assert!(s.contains("is_official = 'T'"), "{s}");
    let s =
        languages_sql("Which countries have English and French as official languages?").unwrap();
    assert_eq!(s.matches("is_official = 'T'").count(), 2, "{s}");
    let s = languages_sql("How many retired horses are there?").unwrap();
    assert!(s.contains("retired_yn = 1"), "{s}");
    let s = languages_sql("List the horses that are not retired.").unwrap();
    assert!(s.contains("retired_yn != 1"), "{s}");
    let s = languages_sql("Which products are discontinued?").unwrap();
    assert!(s.contains("discontinued = TRUE"), "{s}");
    // The adjective of a table the question does not reach is not dropped silently.
    assert!(languages_sql("How many official horses are there?").is_err());
}

#[test]
fn a_verb_after_the_rows_asked_for_starts_their_conditions() {
    // The rows are shown, not the column the condition reads.
    let s = sql("Which products cost less than 20 dollars?", Dialect::Sqlite);
    assert!(s.starts_with("SELECT name FROM products"), "{s}");
    let s = sql("Which employees were hired before 2020?", Dialect::Sqlite);
    assert!(s.starts_with("SELECT name FROM employees"), "{s}");
    assert!(s.contains("hired_at < '2020-01-01'"), "{s}");
    let s = sql("How many employees were hired in 2024?", Dialect::Sqlite);
    assert!(s.starts_with("SELECT COUNT(*)"), "{s}");
    assert!(!s.contains("GROUP BY"), "{s}");
}

#[test]
fn a_measure_falls_in_a_window_by_its_own_dates() {
    // The orders' dates, not the customers' sign-up dates.
    let s = sql(
        "What was the total of orders from customers in Berlin in 2024?",
        Dialect::Sqlite,
    );
    assert!(s.contains("ordered_at >= '2024-01-01'"), "{s}");
    // Unless the customers' dates are named.
    let s = sql(
        "What is the total of orders from customers created in 2024?",
        Dialect::Sqlite,
    );
    assert!(s.contains("created_at >= '2024-01-01'"), "{s}");
}

#[test]
fn a_key_said_present_or_absent_is_set_or_not() {
    let snap = schema_of(vec![table(
        "employees",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("title", "text", &["Manager", "Engineer"]),
            col("manager_id", "integer", &[]),
        ],
        vec![fk("manager_id", "employees")],
    )]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    // The manager is the key, not the title `Manager`.
    let s = ask("Which employees do not have a manager?").unwrap();
    assert!(s.contains("manager_id IS NULL"), "{s}");
    let s = ask("List employees without a manager.").unwrap();
    assert!(s.contains("manager_id IS NULL"), "{s}");
    let s = ask("How many employees have a manager?").unwrap();
    assert!(s.contains("manager_id IS NOT NULL"), "{s}");
    // A manager as a title stays a value.
    let s = ask("How many employees are managers?").unwrap();
    assert!(s.contains("title = 'Manager'"), "{s}");
}

#[test]
fn a_metric_per_named_table_is_grouped_by_its_rows() {
    let m = shop_model();
    // The metric for each customer, shown by the customer's name.
    let s = shop_sql("What is the revenue per client?", Some(&m), &[]).unwrap();
    assert!(s.contains("GROUP BY T2.id, T2.full_name"), "{s}");
    assert!(s.starts_with("SELECT T2.full_name"), "{s}");
}

#[test]
fn an_average_per_own_row_is_the_one_average() {
    let s = sql(
        "What is the average quantity per order item?",
        Dialect::Sqlite,
    );
    assert_eq!(
        s, "SELECT AVG(quantity) AS avg_quantity FROM order_items",
        "{s}"
    );
}

#[test]
fn the_verb_of_a_value_column_and_the_most_recently_done_row() {
    let snap = schema_of(vec![table(
        "orders",
        vec![
            col("id", "integer", &[]),
            col("status", "text", &["shipped", "pending"]),
            col("ship_country", "text", &["Japan", "France"]),
            col("order_date", "date", &[]),
        ],
        vec![],
    )]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    // "shipped to Japan" says which column Japan is of; it is no status.
    let s = ask("How many orders were shipped to Japan?").unwrap();
    assert!(s.contains("ship_country = 'Japan'"), "{s}");
    assert!(!s.contains("status"), "{s}");
    // Without a place after it, "shipped" is the status.
    let s = ask("How many shipped orders are there?").unwrap();
    assert!(s.contains("status = 'shipped'"), "{s}");
    // The row placed most recently, not the latest date.
    let s = demo_sql("Who is the most recently hired employee?").unwrap();
    assert!(s.contains("ORDER BY hired_at DESC LIMIT 1"), "{s}");
}

#[test]
fn abbreviated_name_parts_make_a_whole_name() {
    let snap = schema_of(vec![table(
        "student",
        vec![
            col("StuID", "integer", &[]),
            col("LName", "text", &[]),
            col("Fname", "text", &[]),
            col("Age", "integer", &[]),
        ],
        vec![],
    )]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        ask("What are the names of the students?").unwrap(),
        "SELECT Fname, LName FROM student"
    );
    assert_eq!(
        ask("What are the last names of the students?").unwrap(),
        "SELECT LName FROM student"
    );
}

#[test]
fn a_kind_named_as_a_noun_stands_for_its_members() {
    // Books are products of the Books category, not the category's one row.
    let s = demo_sql("How many books do we sell?").unwrap();
    assert!(s.contains("FROM products"), "{s}");
    assert!(s.contains("name = 'Books'"), "{s}");
    let s = demo_sql("What is the cheapest toy?").unwrap();
    assert!(s.contains("ORDER BY T1.price LIMIT 1"), "{s}");
    // Said with the kind's noun, it is read as it stands.
    let s = demo_sql("List the products in the Toys category.").unwrap();
    assert!(s.contains("name = 'Toys'"), "{s}");
}

#[test]
fn the_largest_row_of_a_table_with_one_amount_is_ranked_by_it() {
    let snap = schema_of(vec![table(
        "orders",
        vec![
            col("id", "integer", &[]),
            col("customer_id", "integer", &[]),
            col("total_amount", "numeric(12,2)", &[]),
            col("order_date", "date", &[]),
        ],
        vec![],
    )]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    let s = ask("What is the largest order?").unwrap();
    assert!(s.ends_with("ORDER BY total_amount DESC LIMIT 1"), "{s}");
    let s = ask("Which is the smallest order?").unwrap();
    assert!(s.ends_with("ORDER BY total_amount LIMIT 1"), "{s}");
}

#[test]
fn of_two_keys_to_one_table_the_first_column_is_the_owner() {
    let snap = schema_of(vec![
        table(
            "highschooler",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "friend",
            vec![
                col("student_id", "integer", &[]),
                col("friend_id", "integer", &[]),
            ],
            // Listed as SQLite lists them: the last declared first.
            vec![
                fk("friend_id", "highschooler"),
                fk("student_id", "highschooler"),
            ],
        ),
    ]);
    let s = translate(
        "What are the names of high schoolers who have 3 or more friends?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap()
    .sql;
    assert!(s.contains("= T2.student_id"), "{s}");
}

#[test]
fn a_table_without_a_one_column_key_groups_by_the_column_shown() {
    let mut spoken = table(
        "country_language",
        vec![
            col("country_code", "text", &[]),
            col("language", "text", &[]),
        ],
        vec![],
    );
    spoken.primary_key = vec!["country_code".into(), "language".into()];
    spoken.foreign_keys = vec![ForeignKey {
        name: None,
        columns: vec!["country_code".into()],
        referenced_schema: None,
        referenced_table: "country".into(),
        referenced_columns: vec!["code".into()],
    }];
    let mut country = table(
        "country",
        vec![col("code", "text", &[]), col("name", "text", &[])],
        vec![],
    );
    country.primary_key = vec!["code".into()];
    let snap = schema_of(vec![country, spoken]);
    let s = translate(
        "Which language is spoken by the largest number of countries?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap()
    .sql;
    assert!(s.contains("GROUP BY T1.language"), "{s}");
}

#[test]
fn an_aggregate_filtered_through_many_related_rows_counts_each_row_once() {
    // (To-one: a plain join.)
    let s = sql(
        "What is the total of orders from customers in Berlin?",
        Dialect::Sqlite,
    );
    assert!(!s.contains(" IN (SELECT"), "{s}");
    let q = "What is the average price of products with order items of quantity above 3?";
    let s = sql(q, Dialect::Sqlite);
    assert!(
        s.contains("WHERE id IN (SELECT product_id FROM order_items WHERE quantity > 3)"),
        "{s}"
    );
    check_valid(q);
}

#[test]
fn superlatives_of_rows_rank_by_the_dimension_they_name() {
    let snap = schema_of(vec![
        table(
            "river",
            vec![
                col("river_name", "text", &[]),
                col("length", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "mountain",
            vec![
                col("mountain_name", "text", &[]),
                col("mountain_altitude", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "payments",
            vec![
                col("id", "integer", &[]),
                col("salesperson_id", "integer", &[]),
                col("amount", "numeric(10,2)", &[]),
                col("method", "text", &["credit_card", "cash"]),
            ],
            vec![],
        ),
    ]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        ask("What is the longest river?").unwrap(),
        "SELECT river_name FROM river ORDER BY length DESC LIMIT 1"
    );
    assert_eq!(
        ask("What is the highest mountain?").unwrap(),
        "SELECT mountain_name FROM mountain ORDER BY mountain_altitude DESC LIMIT 1"
    );
    // A stored code with underscores is said with spaces.
    let s = ask("What is the total amount of payments by credit card?").unwrap();
    assert!(s.contains("method = 'credit_card'"), "{s}");
}

#[test]
fn a_count_metric_named_by_its_own_rows_does_not_take_the_head() {
    use querent_domain::semantic::Metric;
    let mut m = shop_model();
    m.metrics.push(Metric {
        name: "order_count".into(),
        description: None,
        expression: "COUNT(orders.id)".into(),
        table: "orders".into(),
        synonyms: vec!["how many orders".into(), "number of orders".into()],
    });
    let s = shop_sql(
        "How many orders were placed by clients in Germany?",
        Some(&m),
        &[],
    )
    .unwrap();
    assert!(s.contains("FROM orders"), "{s}");
    assert!(s.contains("T2.country = 'DE'"), "{s}");
}

#[test]
fn a_participle_between_a_superlative_and_the_rows_names_the_ranking() {
    let s = demo_sql("What is the lowest priced product?").unwrap();
    assert!(s.ends_with("ORDER BY price LIMIT 1"), "{s}");
    assert!(s.starts_with("SELECT name FROM products"), "{s}");
}

#[test]
fn the_most_common_value_is_ranked_by_how_often() {
    let s = demo_sql("What is the most common status of orders?").unwrap();
    assert_eq!(
        s,
        "SELECT status FROM orders GROUP BY status ORDER BY COUNT(*) DESC LIMIT 1"
    );
}

#[test]
fn an_average_metric_compared_with_is_the_columns_average() {
    use querent_domain::semantic::Metric;
    let model = SemanticModel {
        connection_id: querent_domain::ConnectionId::new(),
        version: 1,
        schema_fingerprint: String::new(),
        description: None,
        tables: Vec::new(),
        joins: Vec::new(),
        metrics: vec![Metric {
            name: "average_salary".into(),
            description: None,
            expression: "AVG(employees.salary)".into(),
            table: "employees".into(),
            synonyms: vec!["average pay".into()],
        }],
        updated_at: 0,
    };
    let t = translate_with_model(
        "Which employees have a salary higher than the average salary?",
        &demo(),
        Dialect::Sqlite,
        &PrivacyPolicy::default(),
        &TranslatorOptions::default(),
        Some(&model),
        &[],
    )
    .unwrap_or_else(|e| panic!("{}", e.understood));
    assert!(
        t.sql
            .ends_with("WHERE salary > (SELECT AVG(salary) FROM employees)"),
        "{}",
        t.sql
    );
}

#[test]
fn a_table_qualifies_every_column_of_a_coordination() {
    // Both columns are the customers', not a department's name and a customer's city.
    let s = demo_sql("Show the names and cities of customers.").unwrap();
    assert_eq!(s, "SELECT name, city FROM customers");
    let s = demo_sql("Show the customer names and their cities.").unwrap();
    assert_eq!(s, "SELECT name, city FROM customers");
}

#[test]
fn an_aggregate_before_a_table_noun_and_its_column() {
    let s = demo_sql("What is the average product price?").unwrap();
    assert_eq!(s, "SELECT AVG(price) AS avg_price FROM products");
    let s = demo_sql("What is the highest employee salary?").unwrap();
    assert_eq!(s, "SELECT MAX(salary) AS max_salary FROM employees");
    // An aggregate word never picks rows: no listing of every column.
    assert!(
        demo_sql("What is the total order amount?").is_err() || {
            let s = demo_sql("What is the total order amount?").unwrap();
            !s.contains("customer_id")
        }
    );
}

#[test]
fn rows_with_their_columns_and_superlatives_that_only_sort() {
    let s = demo_sql("List the products with their prices.").unwrap();
    assert_eq!(s, "SELECT name, price FROM products");
    let s = demo_sql("List the products and their prices.").unwrap();
    assert_eq!(s, "SELECT name, price FROM products");
    // "most expensive first" sorts the list; it keeps every row.
    let s = demo_sql("List products with a price above 500, most expensive first.").unwrap();
    assert!(s.ends_with("ORDER BY price DESC"), "{s}");
}

#[test]
fn review_fixes_fan_out_breakdowns_and_flag_literals() {
    // A sum per a table reached through rows that repeat the measure's rows is refused:
    // an order's total credited to every product on it.
    use querent_domain::semantic::Metric;
    let model = SemanticModel {
        connection_id: querent_domain::ConnectionId::new(),
        version: 1,
        schema_fingerprint: String::new(),
        description: None,
        tables: Vec::new(),
        joins: Vec::new(),
        metrics: vec![Metric {
            name: "takings".into(),
            description: None,
            expression: "SUM(orders.total)".into(),
            table: "orders".into(),
            synonyms: Vec::new(),
        }],
        updated_at: 0,
    };
    let r = translate_with_model(
        "What are the takings per product?",
        &demo(),
        Dialect::Sqlite,
        &PrivacyPolicy::default(),
        &TranslatorOptions::default(),
        Some(&model),
        &[],
    );
    match r {
        Ok(t) => panic!("answered: {}", t.sql),
        Err(e) => assert!(e.understood.contains("more than once"), "{}", e.understood),
    }
    // Flags store what the samples show: a text '1' is quoted, a BOOLEAN holding 'T' is 'T'.
    let snap = schema_of(vec![table(
        "users",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("is_active", "varchar(1)", &["1", "0"]),
            col("is_verified", "boolean", &["T", "F"]),
        ],
        vec![],
    )]);
    let ask = |q: &str| translate(q, &snap, Dialect::Postgres).map(|t| t.sql);
    let s = ask("How many active users are there?").unwrap();
    assert!(s.contains("is_active = '1'"), "{s}");
    let s = ask("How many verified users are there?").unwrap();
    assert!(s.contains("is_verified = 'T'"), "{s}");
    // "whether" asks for the column, it is no condition.
    let s = ask("List the users and whether they are active.").unwrap_or_default();
    assert!(!s.contains("is_active = '1'"), "{s}");
}

#[test]
fn the_verb_of_a_date_column_picks_the_window_column() {
    let snap = schema_of(vec![table(
        "orders",
        vec![
            col("id", "integer", &[]),
            col("order_date", "date", &[]),
            col("shipped_date", "date", &[]),
        ],
        vec![],
    )]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    let s = ask("How many orders did we ship in 2024?").unwrap();
    assert!(s.contains("shipped_date >= '2024-01-01'"), "{s}");
    let s = ask("How many orders were placed in 2024?").unwrap();
    assert!(s.contains("order_date >= '2024-01-01'"), "{s}");
}

#[test]
fn places_the_samples_miss_go_to_a_column_or_table_of_places() {
    let snap = schema_of(vec![
        table(
            "country",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "city",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("district", "text", &[]),
                col("country_id", "integer", &[]),
                col("population", "integer", &[]),
            ],
            vec![fk("country_id", "country")],
        ),
        table(
            "player",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("country_code", "text", &[]),
            ],
            vec![],
        ),
    ]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    // A country is the name of a row of countries, not of a city.
    let brazil = sql("How many cities does Brazil have?").unwrap();
    assert!(brazil.contains(".name = 'Brazil'"), "{brazil}");
    assert!(brazil.contains("JOIN country"), "{brazil}");
    // A state is a district; a country in a column of codes is its code.
    let texas = sql("Which cities are in Texas?").unwrap();
    assert!(texas.contains("district = 'Texas'"), "{texas}");
    // One amount of a state whose rows are its cities is their sum.
    let people = sql("What is the population of Texas?").unwrap();
    assert!(people.starts_with("SELECT SUM(population)"), "{people}");
    // A column of codes says which codes only by its samples (ISO or IOC, two letters or
    // three): not guessed.
    let players = sql("List the players from Switzerland.");
    assert!(
        players
            .as_ref()
            .map_or(true, |s| !s.contains("country_code")),
        "{players:?}"
    );
    // A language is no place: "English" stays a value to place elsewhere.
    assert!(
        sql("Which players speak English?").map_or(true, |s| !s.contains("GBR")),
        "English read as a country"
    );
}

#[test]
fn best_n_is_a_cut_and_we_make_is_a_verb() {
    let best = demo_sql("Who are the best 3 customers by revenue?").unwrap();
    assert!(best.ends_with("DESC LIMIT 3"), "{best}");
    assert!(!best.contains("= 3"), "{best}");
    // A cut with nothing to rank by is refused, not any 3 rows shown as the best.
    let e = demo_sql("Who are the best 3 customers by total?").unwrap_err();
    assert!(e.contains("did not find what to rank them by"), "{e}");
    assert!(demo_sql("How many orders did we make in 2024?").is_ok());
}

#[test]
fn a_stored_value_beats_a_table_named_only_through_a_synonym() {
    let snap = schema_of(vec![
        table(
            "sbCustomer",
            vec![col("sbCustId", "text", &[]), col("sbCustName", "text", &[])],
            vec![],
        ),
        table(
            "sbTransaction",
            vec![
                col("sbTxId", "text", &[]),
                col("sbTxCustId", "text", &[]),
                col("sbTxType", "text(20)", &["buy", "sell"]),
                col("sbTxAmount", "real", &[]),
            ],
            vec![],
        ),
    ]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    let buys = sql("How many buy transactions are there?");
    assert_eq!(
        buys.as_deref().map_err(|e| e.understood.as_str()),
        Ok("SELECT COUNT(*) AS sb_transaction_count FROM sbTransaction WHERE sbTxType = 'buy'")
    );
    // The schema's prefix (`sb`) and abbreviations (`Cust`, `Tx`) are no obstacle.
    let names = sql("List the customer names.").unwrap();
    assert_eq!(names, "SELECT sbCustName FROM sbCustomer");
}

/// Staff, and clients each with an account manager among the staff.
fn staff_and_clients() -> SchemaSnapshot {
    schema_of(vec![
        table(
            "staff",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "clients",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("account_manager_id", "integer", &[]),
            ],
            vec![fk("account_manager_id", "staff")],
        ),
    ])
}

#[test]
fn a_role_named_by_a_numeric_key_is_the_rows_it_points_at() {
    let snap = staff_and_clients();
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    let top = sql("Which account manager has the most clients?").unwrap();
    assert!(
        top.starts_with("SELECT T1.name FROM staff AS T1 JOIN clients"),
        "{top}"
    );
    assert!(top.contains("account_manager_id"), "{top}");
    // Asked as a key, it stays the key.
    let ids = sql("List the account manager ids of the clients.").unwrap();
    assert_eq!(ids, "SELECT account_manager_id FROM clients");
}

#[test]
fn rows_ranked_by_what_they_have_many_of_are_ranked_by_its_sum() {
    let top = demo_sql("List the 5 customers who spent the most.").unwrap();
    assert!(top.contains("ORDER BY SUM("), "{top}");
    assert!(top.contains("GROUP BY"), "{top}");
    assert!(top.ends_with("LIMIT 5"), "{top}");
    let five = demo_sql("List the five customers who spent the most.").unwrap();
    assert_eq!(five, top);
    // A total per customer compared is not built: refused, not each order compared.
    assert!(demo_sql("How many customers have spent more than 10,000 dollars in total?").is_err());
}

#[test]
fn a_metric_is_never_summed_across_rows_that_repeat_its_rows() {
    use querent_domain::semantic::Metric;
    let metric = |name: &str, expression: &str, table: &str| Metric {
        name: name.into(),
        description: None,
        expression: expression.into(),
        table: table.into(),
        synonyms: Vec::new(),
    };
    let mut model = SemanticModel {
        connection_id: querent_domain::ConnectionId::new(),
        version: 1,
        schema_fingerprint: String::new(),
        description: None,
        tables: Vec::new(),
        joins: Vec::new(),
        metrics: vec![metric("revenue", "SUM(orders.total)", "orders")],
        updated_at: 0,
    };
    let ask = |q: &str, model: &SemanticModel| {
        translate_with_model(
            q,
            &demo(),
            Dialect::Sqlite,
            &PrivacyPolicy::default(),
            &TranslatorOptions::default(),
            Some(model),
            &[],
        )
        .map(|t| t.sql)
        .map_err(|e| e.understood)
    };
    // Each order's total once per order line of the category: refused, with the way out.
    let err = ask("Show revenue per category.", &model).unwrap_err();
    assert!(err.contains("metric `revenue`"), "{err}");
    assert!(ask("Which category brings in the most revenue?", &model).is_err());
    // With a metric of the order lines named like it, that one is used.
    model.metrics.push(metric(
        "item revenue",
        "SUM(order_items.quantity * order_items.unit_price)",
        "order_items",
    ));
    let per_category = ask("Show revenue per category.", &model).unwrap();
    assert!(per_category.contains("AS item_revenue"), "{per_category}");
    // Not a metric named with other words ("revenue target"), nor a count.
    model.metrics[1].name = "revenue target".into();
    assert!(ask("Show revenue per category.", &model).is_err());
    model.metrics[1].name = "item revenue".into();
    let top = ask("Which category brings in the most revenue?", &model).unwrap();
    assert!(
        top.contains("ORDER BY SUM(T3.quantity * T3.unit_price)"),
        "{top}"
    );
    // By the measure's own rows nothing changes.
    let by_status = ask("What is the revenue by status?", &model).unwrap();
    assert!(
        by_status.starts_with("SELECT SUM(total) AS revenue"),
        "{by_status}"
    );
}

#[test]
fn rows_asked_for_by_a_role_are_those_in_it() {
    let snap = staff_and_clients();
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("List the account managers.").unwrap(),
        "SELECT name FROM staff WHERE id IN (SELECT account_manager_id FROM clients \
         WHERE account_manager_id IS NOT NULL)"
    );
    assert!(
        sql("How many account managers are there?")
            .unwrap()
            .contains("WHERE id IN (SELECT account_manager_id")
    );
}

#[test]
fn review_cases_stay_refused_or_as_said() {
    // A prefix that is a word people say stays part of the names.
    let snap = schema_of(vec![
        table(
            "tv_channel",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "tv_series",
            vec![col("id", "integer", &[]), col("title", "text", &[])],
            vec![],
        ),
        table(
            "tv_ads",
            vec![col("id", "integer", &[]), col("slogan", "text", &[])],
            vec![],
        ),
    ]);
    let sql = translate("How many TV channels are there?", &snap, Dialect::Sqlite)
        .map(|t| t.sql)
        .unwrap();
    assert_eq!(sql, "SELECT COUNT(*) AS tv_channel_count FROM tv_channel");
    // "the best 2019 …" is a year, not a cut of 2019 rows.
    let best = demo_sql("Show the best 2019 orders by total.");
    assert!(best.map_or(true, |s| !s.contains("LIMIT 2019")));
    // An age word needs an age column of a table the question names.
    let staff = demo_sql("List the adult employees.");
    assert!(staff.map_or(true, |s| !s.contains(">= 18")));
}

#[test]
fn confidence_falls_with_each_doubt_and_refuses_below_the_threshold() {
    let plain = translate("How many customers are there?", &demo(), Dialect::Sqlite).unwrap();
    assert!((plain.confidence - 1.0).abs() < f32::EPSILON, "{plain:?}");
    assert!(plain.doubts.is_empty());
    // A misspelt word is read as the one close word, with a doubt.
    let spelt = translate("How many custommers are there?", &demo(), Dialect::Sqlite).unwrap();
    assert!(spelt.confidence < 1.0 && spelt.confidence >= MIN_CONFIDENCE);
    assert!(
        spelt.doubts.iter().any(|d| d.contains("custommers")),
        "{:?}",
        spelt.doubts
    );
    // Four tables joined through one the question never names and one its verb names:
    // answered.
    let bridged = translate(
        "Which product names did customers from Germany buy?",
        &demo(),
        Dialect::Sqlite,
    )
    .unwrap();
    assert!(bridged.confidence >= MIN_CONFIDENCE, "{bridged:?}");
    assert!(
        bridged.explanation.contains("Confidence 77%"),
        "{bridged:?}"
    );
    // The same with a misspelling on top: the doubts add up; answered only when the
    // threshold is lowered, and refused by default with the doubts said.
    let q = "Which product names did custommers from Germany buy?";
    let loose = TranslatorOptions {
        min_confidence: 0.0,
        ..TranslatorOptions::default()
    };
    let t = translate_with(
        q,
        &demo(),
        Dialect::Sqlite,
        &PrivacyPolicy::default(),
        &loose,
    )
    .unwrap();
    assert!(t.confidence < MIN_CONFIDENCE, "{t:?}");
    assert!(
        t.doubts.iter().any(|d| d.contains("order_items")),
        "{:?}",
        t.doubts
    );
    let e = translate(q, &demo(), Dialect::Sqlite).unwrap_err();
    assert!(e.understood.contains("not sure enough"), "{}", e.understood);
    assert!(e.understood.contains("confidence"), "{}", e.understood);
    // A doubt about words asks for the database's names; one about the query's shape only,
    // for a more direct question.
    assert!(e.understood.contains("synonyms"), "{}", e.understood);
    let strict = TranslatorOptions {
        min_confidence: 0.95,
        ..TranslatorOptions::default()
    };
    let shaped = translate_with(
        "Which product names did customers from Germany order?",
        &demo(),
        Dialect::Sqlite,
        &PrivacyPolicy::default(),
        &strict,
    )
    .unwrap_err();
    assert!(
        shaped.understood.contains("more direct question"),
        "{}",
        shaped.understood
    );
}

#[test]
fn undeclared_keys_are_read_from_names_written_together() {
    // No primary or foreign key declared: `aid` keys the one-word table `author` by its
    // initial, `paperid` keys `paper`, and `writes` links them by the same names;
    // `authorname` is the author's name.
    let s = schema_of(vec![
        table(
            "author",
            vec![col("aid", "integer", &[]), col("authorname", "text", &[])],
            vec![],
        ),
        table(
            "paper",
            vec![
                col("paperid", "integer", &[]),
                col("title", "text", &[]),
                col("year", "integer", &[]),
                col("oid", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "writes",
            vec![col("aid", "integer", &[]), col("paperid", "integer", &[])],
            vec![],
        ),
        table(
            "organization",
            vec![col("oid", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
    ]);
    let ask = |q: &str| translate(q, &s, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        ask("Which author wrote the most papers?").unwrap(),
        "SELECT T1.authorname FROM author AS T1 JOIN writes AS T2 ON T1.aid = T2.aid \
         JOIN paper AS T3 ON T2.paperid = T3.paperid GROUP BY T1.aid ORDER BY COUNT(*) DESC \
         LIMIT 1"
    );
    assert_eq!(
        ask("What are the names of the authors?").unwrap(),
        "SELECT authorname FROM author"
    );
    // A reference that points nowhere is in no organization.
    assert_eq!(
        ask("Which papers are not part of any organization?").unwrap(),
        "SELECT title FROM paper WHERE (oid IS NULL OR oid NOT IN (SELECT oid FROM \
         organization WHERE oid IS NOT NULL))"
    );
    // A listing that shows nothing of the table its breakdown names is refused.
    let e = ask("List the title of the papers for each author.").unwrap_err();
    assert!(e.understood.contains("breakdown"), "{}", e.understood);
}

#[test]
fn identifiers_written_as_one_word_are_cut_only_before_an_attribute_word() {
    assert_eq!(index::segment("authorname"), vec!["author", "name"]);
    assert_eq!(index::segment("citedpaperid"), vec!["cited", "paper", "id"]);
    assert_eq!(index::segment("horsepower"), vec!["horsepower"]);
    assert_eq!(index::segment("airlines"), vec!["airlines"]);
    assert_eq!(index::segment("xqzname"), vec!["xqzname"]);
}

#[test]
fn a_broader_word_names_the_one_table_under_it() {
    let s = schema_of(vec![
        table(
            "dogs",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "owners",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
    ]);
    let ask = |q: &str| translate(q, &s, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        ask("How many canines are there?").unwrap(),
        "SELECT COUNT(*) AS dog_count FROM dogs"
    );
    assert_eq!(
        ask("How many animals are there?").unwrap(),
        "SELECT COUNT(*) AS dog_count FROM dogs"
    );
    // Not a word broader than no table's noun.
    assert!(ask("How many vehicles are there?").is_err());
}

#[test]
fn which_period_ranks_the_periods_by_the_measure() {
    let s = demo_sql("Which month had the most orders?").unwrap();
    assert!(
        s.ends_with("GROUP BY strftime('%Y-%m', ordered_at) ORDER BY COUNT(*) DESC LIMIT 1"),
        "{s}"
    );
    let s = demo_sql("In which year did we get the fewest orders?").unwrap();
    assert!(s.ends_with("ORDER BY COUNT(*) LIMIT 1"), "{s}");
    // ("which months" lists them: no pick.)
    assert!(!demo_sql("Which months had orders?").is_ok_and(|s| s.contains("LIMIT 1")));
}

#[test]
fn an_initial_two_tables_would_take_keys_neither() {
    // `pid` could be the key of `player` and of `plays` by their initial: it is neither's,
    // so `plays.pid` and `award.pid` are references to no guessed table.
    let s = schema_of(vec![
        table(
            "player",
            vec![col("pid", "integer", &[]), col("name", "text", &["Ann"])],
            vec![],
        ),
        table(
            "plays",
            vec![col("pid", "integer", &[]), col("score", "integer", &[])],
            vec![],
        ),
        table(
            "award",
            vec![col("awid", "integer", &[]), col("pid", "integer", &[])],
            vec![],
        ),
    ]);
    let idx = index::Index::new(&s, &PrivacyPolicy::default(), None);
    assert!(idx.cols.iter().filter(|c| c.name == "pid").all(|c| !c.pk));
    assert!(idx.edges.iter().all(|e| idx.cols[e.from].name != "pid"));
}

#[test]
fn a_single_row_is_one_only_when_counted() {
    let read = |q: &str| {
        let mut toks = text::tokenize(q);
        plan::single_as_one(&mut toks);
        toks.iter()
            .map(|t| t.low.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        read("customers who spent 500 on a single order"),
        "customers who spent 500 on a order"
    );
    assert_eq!(read("more than a single document"), "more than 1 document");
    assert_eq!(
        read("languages used only by a single country"),
        "languages used only by 1 country"
    );
    assert_eq!(read("not a single car maker"), "no car maker");
}

#[test]
fn a_count_of_groups_that_qualify_counts_the_groups() {
    // One count, not one count per customer.
    let sql = demo_sql("How many customers have more than 5 orders?").unwrap();
    assert!(
        sql.starts_with("SELECT COUNT(*) AS customer_count FROM customers WHERE id IN (SELECT T1.id FROM customers AS T1 JOIN orders AS T2")
            && sql.ends_with("GROUP BY T1.id HAVING COUNT(*) > 5)"),
        "{sql}"
    );
}

#[test]
fn a_name_the_samples_or_the_question_contradict_is_a_doubt() {
    let schema = schema_of(vec![
        table(
            "players",
            vec![
                col("id", "integer", &[]),
                col("first_name", "text", &[]),
                col("last_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "matches",
            vec![
                col("id", "integer", &[]),
                col("winner_id", "integer", &[]),
                col("tourney_name", "text", &[]),
            ],
            vec![fk("winner_id", "players")],
        ),
    ]);
    let run = |q: &str| {
        translate(q, &schema, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // A place's adjective is no first name.
    let why = run("How many Swiss players are there?").unwrap_err();
    assert!(why.contains("'Swiss' is a place"), "{why}");
    // A name is still a name.
    assert_eq!(
        run("How many players have the first name Roger?").unwrap(),
        "SELECT COUNT(*) AS player_count FROM players WHERE first_name = 'Roger'"
    );
}

#[test]
fn a_count_a_row_keeps_is_summed() {
    let schema = schema_of(vec![table(
        "museum",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &["Plaza Museum", "Capital Plaza Museum"]),
            col("num_of_staff", "integer", &[]),
        ],
        vec![],
    )]);
    let run = |q: &str| {
        translate(q, &schema, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // Not the one museum's row counted.
    assert_eq!(
        run("How many staff does the Plaza Museum have?").unwrap(),
        "SELECT SUM(num_of_staff) AS total_num_of_staff FROM museum WHERE name = 'Plaza Museum'"
    );
    assert_eq!(
        run("What is the total number of staff of all museums?").unwrap(),
        "SELECT SUM(num_of_staff) AS total_num_of_staff FROM museum"
    );
    // Rows of a table are still counted.
    assert_eq!(
        run("How many museums are there?").unwrap(),
        "SELECT COUNT(*) AS museum_count FROM museum"
    );
}

#[test]
fn last_year_is_a_time_range_not_a_last_name() {
    let schema = schema_of(vec![
        table(
            "customers",
            vec![
                col("id", "integer", &[]),
                col("first_name", "text", &[]),
                col("last_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "orders",
            vec![
                col("id", "integer", &[]),
                col("customer_id", "integer", &[]),
                col("ordered_at", "date", &[]),
                col("total", "real", &[]),
            ],
            vec![fk("customer_id", "customers")],
        ),
    ]);
    let run = |q: &str| {
        translate(q, &schema, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    assert_eq!(
        run("What was the revenue last year?").unwrap(),
        "SELECT SUM(total) AS revenue FROM orders WHERE ordered_at >= date('now', 'start of year', '-1 year') \
         AND ordered_at < date('now', 'start of year')"
    );
    // Two ranges are not one window.
    let why = run("How many customers ordered last year but not this year?").unwrap_err();
    assert!(why.contains("two time ranges"), "{why}");
}

#[test]
fn a_measure_of_other_rows_dates_those_rows_and_people_group_by_key() {
    let schema = schema_of(vec![
        table(
            "employees",
            vec![
                col("id", "integer", &[]),
                col("first_name", "text", &[]),
                col("last_name", "text", &[]),
                col("hire_date", "date", &[]),
            ],
            vec![],
        ),
        table(
            "orders",
            vec![
                col("id", "integer", &[]),
                col("employee_id", "integer", &[]),
                col("ordered_at", "date", &[]),
                col("total", "real", &[]),
            ],
            vec![fk("employee_id", "employees")],
        ),
    ]);
    let run = |q: &str| {
        translate(q, &schema, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // The orders' dates, not the hiring; the employee, not everyone of that first name.
    let sql = run("Which employee has the highest revenue this year?").unwrap();
    assert!(
        sql.contains("WHERE T2.ordered_at >= date('now', 'start of year')")
            && sql.contains("GROUP BY T1.id"),
        "{sql}"
    );
    // A date the verb names stays.
    let sql = run("Which employees hired this year have the highest revenue?").unwrap();
    assert!(
        sql.contains("T1.hire_date >= date('now', 'start of year')"),
        "{sql}"
    );
}

#[test]
fn who_is_never_answered_by_a_number_alone() {
    let why = demo_sql("Who is the total of orders?").unwrap_err();
    assert!(why.contains("asks who"), "{why}");
}

#[test]
fn an_attribute_said_once_for_two_things_and_the_verbs_role_in_what_is_shown() {
    let schema = schema_of(vec![
        table(
            "singer",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("song_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "matches",
            vec![
                col("id", "integer", &[]),
                col("winner_name", "text", &[]),
                col("loser_name", "text", &[]),
                col("minutes", "integer", &[]),
            ],
            vec![],
        ),
    ]);
    let run = |q: &str| {
        translate(q, &schema, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    assert_eq!(
        run("Give the singer and song names.").unwrap(),
        "SELECT name, song_name FROM singer"
    );
    // The winner's name, ranked by the match's length in minutes.
    assert_eq!(
        run("Who won the longest match?").unwrap(),
        "SELECT winner_name FROM matches ORDER BY minutes DESC LIMIT 1"
    );
}

#[test]
fn ratios_divide_two_numbers_read_apart() {
    // Two counts of different tables: one single number over another.
    assert_eq!(
        demo_sql("What is the ratio of orders to customers?").unwrap(),
        "SELECT 1.0 * (SELECT COUNT(*) AS order_count FROM orders) / NULLIF((SELECT COUNT(*) \
         AS customer_count FROM customers), 0) AS ratio"
    );
    // What the ratio is taken over, said after the second number, bounds both.
    assert_eq!(
        demo_sql("What is the ratio of cancelled orders to shipped orders in 2025?").unwrap(),
        "SELECT 1.0 * (SELECT COUNT(*) AS order_count FROM orders WHERE status = 'cancelled' \
         AND ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01') / NULLIF((SELECT \
         COUNT(*) AS order_count FROM orders WHERE status = 'shipped' AND ordered_at >= \
         '2025-01-01' AND ordered_at < '2026-01-01'), 0) AS ratio"
    );
    // Two columns of the same rows: one column (beside the rows' label, when they have one).
    assert_eq!(
        demo_sql("Show the ratio of the unit price to the quantity of each order item").unwrap(),
        "SELECT 1.0 * unit_price / NULLIF(quantity, 0) AS ratio FROM order_items"
    );
    // Two totals of the same rows: no row's label beside them.
    assert_eq!(
        demo_sql("What is the ratio of the total salary to the average salary of employees?")
            .unwrap(),
        "SELECT 1.0 * SUM(salary) / NULLIF(AVG(salary), 0) AS ratio FROM employees"
    );
    // Numbers that are neither: refused, saying what each side was read as.
    let e = demo_sql("What is the ratio of the names of customers to orders?").unwrap_err();
    assert!(e.contains("ratio of two numbers"), "{e}");
    check_valid("What is the ratio of cancelled orders to shipped orders in 2025?");
    check_valid("Show the ratio of the unit price to the quantity of each order item");
}

/// A schema of abbreviated names without declared foreign keys, dates kept as text.
fn payroll() -> SchemaSnapshot {
    keyed(schema_of(vec![
        table(
            "dept",
            vec![col("dept_cd", "text", &[]), col("dept_nm", "text", &[])],
            vec![],
        ),
        table(
            "emp",
            vec![
                col("emp_id", "integer", &[]),
                col("emp_nm", "text", &[]),
                col("dept_cd", "text", &[]),
                col("hire_dt", "text", &[]),
                col("term_dt", "text", &[]),
                col("sal_amt", "real", &[]),
            ],
            vec![],
        ),
    ]))
}

#[test]
fn abbreviated_schemas_read_as_spelled_out() {
    let payroll = payroll();
    let sql = |q: &str| {
        translate(q, &payroll, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // `emp` is the employees' table, `hire_dt` a date kept as text.
    assert_eq!(
        sql("How many employees were hired in 2024?").unwrap(),
        "SELECT COUNT(*) AS emp_count FROM emp WHERE hire_dt >= '2024-01-01' AND hire_dt < '2025-01-01'"
    );
    // `emp_nm` is the name that labels an employee; "salary" is `sal_amt`.
    assert_eq!(
        sql("Which employee has the highest salary?").unwrap(),
        "SELECT emp_nm FROM emp ORDER BY sal_amt DESC LIMIT 1"
    );
    // "current" / "former" rows: their one end date (`term_dt`) is empty / set.
    assert_eq!(
        sql("How many current employees are there?").unwrap(),
        "SELECT COUNT(*) AS emp_count FROM emp WHERE term_dt IS NULL"
    );
    assert_eq!(
        sql("How many former employees are there?").unwrap(),
        "SELECT COUNT(*) AS emp_count FROM emp WHERE term_dt IS NOT NULL"
    );
    // "currently" where rows keep an end date the query does not look at: a doubt; a verb
    // after an adverb is no noun to read.
    let e = sql("How many employees currently work in each department?").unwrap_err();
    assert!(
        e.contains("`term_dt` may say which rows are current"),
        "{e}"
    );
    // `emp.dept_cd` refers to the department keyed by `dept_cd`.
    assert_eq!(
        sql("What is the average salary in each department?").unwrap(),
        "SELECT AVG(T1.sal_amt) AS avg_sal_amt, T2.dept_nm FROM emp AS T1 JOIN dept AS T2 ON \
         T1.dept_cd = T2.dept_cd GROUP BY T2.dept_cd"
    );
}

#[test]
fn a_last_sentence_saying_what_to_show_shows_it() {
    // Already shown: the same answer ("the average" is the measure asked for), in the
    // order said — the department before the average said after it.
    let payroll = payroll();
    let t = translate(
        "What is the average salary in each department? Show the department name and the average.",
        &payroll,
        Dialect::Sqlite,
    )
    .unwrap();
    assert_eq!(
        t.sql,
        "SELECT T2.dept_nm, AVG(T1.sal_amt) AS avg_sal_amt FROM emp AS T1 JOIN dept AS T2 ON \
         T1.dept_cd = T2.dept_cd GROUP BY T2.dept_cd"
    );
    let t = translate(
        "What is the average salary in each department? Show the average and the department name.",
        &payroll,
        Dialect::Sqlite,
    )
    .unwrap();
    assert!(
        t.sql
            .starts_with("SELECT AVG(T1.sal_amt) AS avg_sal_amt, T2.dept_nm"),
        "{}",
        t.sql
    );
    // Other columns of the same rows: shown instead.
    assert_eq!(
        demo_sql("Which employee was hired last? Give me their name and salary.").unwrap(),
        "SELECT name, salary FROM employees ORDER BY hired_at DESC LIMIT 1"
    );
    // A measure said there is more than columns: the whole question is read (and refused
    // here, rather than showing a column named like the measure).
    let shown = |q: &str| super::shown_apart(q).map(|(_, s)| s.to_owned());
    assert_eq!(
        shown("Which employee was hired last? Give the total salary."),
        Some("the total salary".to_owned())
    );
    let snap = demo();
    let idx = crate::index::Index::new(&snap, &PrivacyPolicy::default(), None);
    let employees = idx.table_named_by("employee").unwrap();
    let toks = crate::text::tokenize("the total salary.");
    assert_eq!(crate::plan::shown_columns(&toks, &idx, &[employees]), None);
    let toks = crate::text::tokenize("their salary.");
    assert!(crate::plan::shown_columns(&toks, &idx, &[employees]).is_some());
    // Only a last sentence that opens with a verb of showing.
    assert_eq!(shown("How many orders? Which ones were cancelled?"), None);
}

#[test]
fn text_columns_of_iso_dates_are_dates() {
    let snap = schema_of(vec![table(
        "visits",
        vec![
            col("id", "integer", &[]),
            col("visited", "text", &["2024-01-02", "2024-03-04 10:00:00"]),
            col("note", "text", &["2024 plan", "other"]),
        ],
        vec![],
    )]);
    let t = translate(
        "How many visits were there in 2024?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap();
    assert_eq!(
        t.sql,
        "SELECT COUNT(*) AS visit_count FROM visits WHERE visited >= '2024-01-01' AND visited < '2025-01-01'"
    );
}

#[test]
fn values_yet_to_come_and_dates_kept_as_words_are_doubts() {
    // "waiting to be shipped" is not `status = 'shipped'`.
    let e = demo_sql("How many orders are still waiting to be shipped?").unwrap_err();
    assert!(e.contains("'shipped' is said as still to happen"), "{e}");
    assert!(demo_sql("How many orders were shipped?").is_ok());
    // Dates kept as 'October 5, 2007' do not compare as ISO dates.
    let snap = schema_of(vec![table(
        "episodes",
        vec![
            col("id", "integer", &[]),
            col("episode", "text", &[]),
            col(
                "air_date",
                "text",
                &["October 5, 2007", "September 24, 2007"],
            ),
        ],
        vec![],
    )]);
    // A month or a year is matched by its words; any other window is doubted.
    let t = translate(
        "How many episodes aired in October 2007?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap();
    assert_eq!(
        t.sql,
        "SELECT COUNT(*) AS episode_count FROM episodes WHERE air_date LIKE '%October%2007%'"
    );
    // The date a window is on is not shown beside the rows asked for.
    let t = translate("Which episodes aired in 2007?", &snap, Dialect::Sqlite).unwrap();
    assert_eq!(
        t.sql,
        "SELECT episode FROM episodes WHERE air_date LIKE '%2007%'"
    );
    let e = translate(
        "How many episodes aired last month?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap_err()
    .understood;
    assert!(
        e.contains("keeps its dates as text like 'October 5, 2007'"),
        "{e}"
    );
    // A demonym is where something is from, never a city's name.
    let snap = schema_of(vec![table(
        "city",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("population", "integer", &[]),
        ],
        vec![],
    )]);
    let e = translate(
        "What is the total population of the Japanese cities?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap_err()
    .understood;
    assert!(e.contains("'Japanese' is a place, not a name"), "{e}");
}

#[test]
fn on_average_averages_the_one_number_asked_for() {
    let snap = schema_of(vec![table(
        "dogs",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            // Numbers kept as text.
            col("age", "varchar(20)", &["2", "5", "7"]),
        ],
        vec![],
    )]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("On average, how old are the dogs?").unwrap(),
        "SELECT AVG(age) AS avg_age FROM dogs"
    );
    // PostgreSQL adds up no text: the numbers are cast.
    assert_eq!(
        translate(
            "On average, how old are the dogs?",
            &snap,
            Dialect::Postgres
        )
        .unwrap()
        .sql,
        "SELECT AVG(CAST(age AS NUMERIC)) AS avg_age FROM dogs"
    );
    // Not for a breakdown the query does not build.
    assert_ne!(
        sql("On average, how old are the dogs of each name?").ok(),
        Some("SELECT AVG(age) AS avg_age FROM dogs".to_owned())
    );
}

#[test]
fn hyphenated_words_counts_before_best_and_what_most_rows_have() {
    // "check-in date" names `check_in_date`.
    let snap = schema_of(vec![table(
        "reservations",
        vec![
            col("id", "integer", &[]),
            col("guest_country", "text", &["France", "Japan"]),
            col("check_in_date", "date", &[]),
        ],
        vec![],
    )]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("How many reservations had a check-in date in July 2024?").unwrap(),
        "SELECT COUNT(*) AS reservation_count FROM reservations WHERE check_in_date >= \
         '2024-07-01' AND check_in_date < '2024-08-01'"
    );
    // "Which country do most of our reservations come from?": the most frequent value.
    assert_eq!(
        sql("Which guest country do most of the reservations come from?").unwrap(),
        "SELECT guest_country FROM reservations GROUP BY guest_country ORDER BY COUNT(*) DESC \
         LIMIT 1"
    );
    // "our three best customers": the top 3.
    assert_eq!(
        demo_sql("Who are our three best customers by revenue?").unwrap(),
        demo_sql("Who are our top 3 customers by revenue?").unwrap()
    );
    // "… Show their names and how much they spent": the measure ranked by is shown.
    let shown = demo_sql(
        "Who are our top 3 customers by revenue? Show their names and how much they spent.",
    )
    .unwrap();
    assert_eq!(
        shown,
        "SELECT T1.name, SUM(T2.total) AS revenue FROM customers AS T1 JOIN orders AS T2 ON \
         T1.id = T2.customer_id GROUP BY T1.id ORDER BY SUM(T2.total) DESC LIMIT 3"
    );
}

#[test]
fn a_total_column_said_as_a_total_of_many_rows_is_summed() {
    let snap = schema_of(vec![table(
        "orders",
        vec![
            col("id", "integer", &[]),
            col("order_date", "date", &[]),
            col("total_amount", "numeric(12,2)", &[]),
        ],
        vec![],
    )]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("What is the total amount of orders in 2024?").unwrap(),
        "SELECT SUM(total_amount) AS total_amount FROM orders WHERE order_date >= '2024-01-01' \
         AND order_date < '2025-01-01'"
    );
    // For each row it stays each row's.
    assert_eq!(
        sql("Show the total amount of each order").unwrap(),
        "SELECT total_amount FROM orders"
    );
}

#[test]
fn a_level_of_a_column_is_the_column() {
    let snap = schema_of(vec![table(
        "alert",
        vec![
            col("alert_id", "integer", &[]),
            col("severity", "text", &["LOW", "HIGH"]),
        ],
        vec![],
    )]);
    assert_eq!(
        translate(
            "How many alerts are there for each severity level?",
            &snap,
            Dialect::Sqlite
        )
        .unwrap()
        .sql,
        "SELECT COUNT(*) AS alert_count, severity FROM alert GROUP BY severity"
    );
}

#[test]
fn a_break_down_counts_per_group_unless_an_amount_is_asked() {
    assert_eq!(
        demo_sql("Break down the orders by status").unwrap(),
        demo_sql("How many orders are there for each status?").unwrap()
    );
    assert_eq!(
        demo_sql(
            "Break down the orders by which status they have, with the number of orders for each."
        )
        .unwrap(),
        demo_sql("How many orders are there for each status?").unwrap()
    );
    assert_eq!(
        demo_sql("Break down the total revenue by country").unwrap(),
        demo_sql("What is the total revenue by country?").unwrap()
    );
}

#[test]
fn its_columns_after_each_belong_to_the_each_rows() {
    assert_eq!(
        demo_sql("For each category, give me its id, its name and how many products it has.")
            .unwrap(),
        "SELECT T2.id, T2.name, COUNT(*) AS product_count FROM products AS T1 JOIN categories \
         AS T2 ON T1.category_id = T2.id GROUP BY T2.id"
    );
}

#[test]
fn a_broader_word_names_the_table_rather_than_its_link_table() {
    let snap = schema_of(vec![
        table(
            "pets",
            vec![col("pet_id", "integer", &[]), col("weight", "real", &[])],
            vec![],
        ),
        table(
            "has_pet",
            vec![
                col("student_id", "integer", &[]),
                col("pet_id", "integer", &[]),
            ],
            vec![fk("pet_id", "pets")],
        ),
    ]);
    assert_eq!(
        translate(
            "How many animals weigh more than 10?",
            &snap,
            Dialect::Sqlite
        )
        .unwrap()
        .sql,
        "SELECT COUNT(*) AS pet_count FROM pets WHERE weight > 10"
    );
}

#[test]
fn conditions_of_the_negated_rows_go_inside_the_negation() {
    assert_eq!(
        demo_sql("How many customers never placed an order in 2024?").unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers WHERE id NOT IN (SELECT customer_id \
         FROM orders WHERE customer_id IS NOT NULL AND ordered_at >= '2024-01-01' AND \
         ordered_at < '2025-01-01')"
    );
}

#[test]
fn ranked_by_an_average_of_related_rows() {
    let mut snap = schema_of(vec![
        table(
            "hotels",
            vec![
                col("hotel_id", "integer", &[]),
                col("hotel_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "reviews",
            vec![
                col("review_id", "integer", &[]),
                col("hotel_id", "integer", &[]),
                col("rating", "integer", &[]),
            ],
            vec![fk_on("hotel_id", "hotels", "hotel_id")],
        ),
    ]);
    for t in &mut snap.tables {
        t.primary_key = vec![t.columns[0].name.clone()];
    }
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("Which hotel has the highest average rating?").unwrap(),
        "SELECT T1.hotel_name FROM hotels AS T1 JOIN reviews AS T2 ON T1.hotel_id = T2.hotel_id \
         WHERE T2.rating IS NOT NULL GROUP BY T1.hotel_id ORDER BY AVG(T2.rating) DESC LIMIT 1"
    );
    assert_eq!(
        sql("Which 2 hotels have the lowest total rating?").unwrap(),
        "SELECT T1.hotel_name FROM hotels AS T1 JOIN reviews AS T2 ON T1.hotel_id = T2.hotel_id \
         WHERE T2.rating IS NOT NULL GROUP BY T1.hotel_id ORDER BY SUM(T2.rating) LIMIT 2"
    );
}

#[test]
fn how_much_money_of_rows_is_the_sum_of_their_money_column() {
    let snap = schema_of(vec![table(
        "payments",
        vec![
            col("payment_id", "integer", &[]),
            col("paid_at", "timestamp", &[]),
            col("amount", "real", &[]),
            col("payment_method", "text", &["card", "cash"]),
        ],
        vec![],
    )]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    let want = "SELECT SUM(amount) AS total_amount FROM payments WHERE payment_method = 'card' \
                AND paid_at >= '2024-01-01' AND paid_at < '2025-01-01'";
    assert_eq!(
        sql("How much money came in from card payments in 2024?").unwrap(),
        want
    );
    assert_eq!(sql("How much was paid by card in 2024?").unwrap(), want);
    assert_eq!(
        sql("What is the total of card payments in 2024?").unwrap(),
        want
    );
}

#[test]
fn totals_over_related_rows_compare_their_sum() {
    let snap = schema_of(vec![
        table(
            "customers",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "orders",
            vec![
                col("id", "integer", &[]),
                col("customer_id", "integer", &[]),
                col("total_amount", "numeric(12,2)", &[]),
            ],
            vec![fk("customer_id", "customers")],
        ),
    ]);
    let sql = |q: &str| {
        translate(q, &snap, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    let having = "SELECT T1.name FROM customers AS T1 JOIN orders AS T2 ON T1.id = T2.customer_id \
                  GROUP BY T1.id, T1.name HAVING SUM(T2.total_amount) > 5000";
    assert_eq!(
        sql("Which customers spent more than 5000?").unwrap(),
        having
    );
    assert_eq!(
        sql("Which customers have spent more than 5000 in total?").unwrap(),
        having
    );
    // An order's own total amount is no sum.
    assert_eq!(
        sql("Which customers have an order with a total amount of more than 5000?").unwrap(),
        "SELECT DISTINCT T1.name FROM customers AS T1 JOIN orders AS T2 ON T1.id = \
         T2.customer_id WHERE T2.total_amount > 5000"
    );
    // Counted: the customers of those groups.
    assert_eq!(
        sql("How many customers spent over 10000?").unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers WHERE id IN (SELECT T1.id FROM \
         customers AS T1 JOIN orders AS T2 ON T1.id = T2.customer_id GROUP BY T1.id HAVING \
         SUM(T2.total_amount) > 10000)"
    );
    // What a last sentence names is all that is shown.
    assert_eq!(
        demo_sql("List the salary and name of employees hired in 2020. Show only their names.")
            .unwrap(),
        "SELECT name FROM employees WHERE hired_at >= '2020-01-01' AND hired_at < '2021-01-01'"
    );
}

#[test]
fn everyday_names_of_common_tables() {
    let snap = schema_of(vec![
        table(
            "airlines",
            vec![col("id", "integer", &[]), col("name", "text", &[])],
            vec![],
        ),
        table(
            "orchestra",
            vec![
                col("id", "integer", &[]),
                col("record_company", "text", &[]),
            ],
            vec![],
        ),
    ]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("How many carriers are there?").unwrap(),
        "SELECT COUNT(*) AS airline_count FROM airlines"
    );
    assert_eq!(
        sql("How many orchestras does each record label have?").unwrap(),
        "SELECT COUNT(*) AS orchestra_count, record_company FROM orchestra GROUP BY record_company"
    );
}

#[test]
fn short_decades_and_digit_words_are_read_only_as_said() {
    // "in their 30s" is an age, not the 1930s; "the 90s" is a decade.
    let t = demo_sql("How many customers signed up in their 30s?").unwrap_or_default();
    assert!(!t.contains("1930"), "{t}");
    assert!(
        demo_sql("How many orders were placed in the 90s?")
            .unwrap()
            .contains("'1990-01-01'")
    );
    // A word with digits stays whole: "F-150" is no 150.
    let toks = crate::text::split_hyphens(crate::text::tokenize("F-150 check-in"), |_| false);
    let words: Vec<&str> = toks.iter().map(|t| t.low.as_str()).collect();
    assert_eq!(words, ["f-150", "check", "in"]);
}

#[test]
fn dates_kept_as_text_are_cast_where_postgres_needs_it() {
    let snap = payroll();
    let t = translate(
        "How many employees were hired this year?",
        &snap,
        Dialect::Postgres,
    )
    .unwrap();
    assert!(
        t.sql.contains("CAST(hire_dt AS TIMESTAMP) >= "),
        "{}",
        t.sql
    );
    let t = translate(
        "How many employees were hired per month?",
        &snap,
        Dialect::Postgres,
    )
    .unwrap();
    assert!(
        t.sql.contains("to_char(CAST(hire_dt AS TIMESTAMP)"),
        "{}",
        t.sql
    );
    let policy = GuardPolicy {
        max_rows: Some(1000),
        ..Default::default()
    };
    validate(
        Dialect::Postgres,
        &t.sql,
        &GuardSchema::from_snapshot(&snap),
        &policy,
    )
    .unwrap_or_else(|e| panic!("guard refused {}: {e}", t.sql));
    // SQLite reads the text itself.
    let t = translate(
        "How many employees were hired this year?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap();
    assert!(!t.sql.contains("CAST"), "{}", t.sql);
}

#[test]
fn a_window_dates_the_rows_a_ranking_adds_up_and_names_stay_whole_in_both_halves() {
    // The customers' own dates are not the window's: the orders' are.
    let s = demo_sql("Which customer brought in the most revenue in 2024?").unwrap();
    assert!(s.contains("T2.ordered_at >= '2024-01-01'"), "{s}");
    assert!(!s.contains("created_at"), "{s}");
    // Both halves of an INTERSECT show the whole name.
    let snap = schema_of(vec![
        table(
            "customers",
            vec![
                col("id", "integer", &[]),
                col("first_name", "text", &[]),
                col("last_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "orders",
            vec![
                col("id", "integer", &[]),
                col("customer_id", "integer", &[]),
                col("ordered_at", "date", &[]),
            ],
            vec![fk("customer_id", "customers")],
        ),
    ]);
    let s = translate(
        "Which customers ordered in both 2023 and 2024?",
        &snap,
        Dialect::Sqlite,
    )
    .unwrap()
    .sql;
    assert_eq!(s.matches("T1.first_name, T1.last_name").count(), 2, "{s}");
}

#[test]
fn a_column_a_metric_adds_up_is_no_breakdown_of_it() {
    let snap = shop();
    let model = shop_model();
    let idx = crate::index::Index::new(&snap, &shop_policy(), Some(&model));
    let revenue = (0..idx.cols.len())
        .find(|&c| idx.cols[c].metric.is_some() && idx.cols[c].name == "revenue")
        .unwrap();
    let amount = (0..idx.cols.len())
        .find(|&c| idx.cols[c].name == "amount")
        .unwrap();
    let grouped = || {
        let mut q = sql::Select::plain(
            idx.cols[amount].table,
            vec![sql::Expr::Col(amount), sql::Expr::Col(revenue)],
            Vec::new(),
        );
        q.group = vec![amount];
        q
    };
    let mut q = grouped();
    super::metric_columns_not_grouped(
        &mut q,
        &idx,
        &crate::text::tokenize("the total revenue amount"),
    );
    assert_eq!(q.items, vec![sql::Expr::Col(revenue)]);
    assert!(q.group.is_empty());
    // Asked for by the column: kept.
    let mut q = grouped();
    super::metric_columns_not_grouped(&mut q, &idx, &crate::text::tokenize("revenue by amount"));
    assert_eq!(q, grouped());
}

#[test]
fn top_values_of_a_column_who_names_someone_and_top_rows_need_an_order() {
    // The values of a column ranked by a measure are its groups.
    assert_eq!(
        demo_sql("Top 3 countries by revenue").unwrap(),
        "SELECT T1.country FROM customers AS T1 JOIN orders AS T2 ON T1.id = T2.customer_id \
         GROUP BY T1.country ORDER BY SUM(T2.total) DESC LIMIT 3"
    );
    // "who" answered with rows that name no one: a doubt.
    let snap = schema_of(vec![table(
        "orders",
        vec![
            col("id", "integer", &[]),
            col("customer_id", "integer", &[]),
            col("amount", "real", &[]),
            col("ordered_at", "date", &[]),
        ],
        vec![],
    )]);
    let e = translate("Who placed the biggest order?", &snap, Dialect::Sqlite)
        .map(|t| t.explanation)
        .unwrap_or_else(|e| e.understood);
    assert!(e.contains("the answer names no one"), "{e}");
}

/// Grants with an abbreviated amount (`amt`), funders of a type, and sold lines with a
/// quantity (`qty`) beside a unit price.
fn grants() -> SchemaSnapshot {
    keyed(schema_of(vec![
        table(
            "funders",
            vec![
                col("funder_id", "integer", &[]),
                col("funder_name", "text", &[]),
                col(
                    "funder_type",
                    "text",
                    &["Government", "Industry", "Foundation"],
                ),
            ],
            vec![],
        ),
        table(
            "grants",
            vec![
                col("grant_id", "integer", &[]),
                col("grant_title", "text", &[]),
                col("funder_id", "integer", &[]),
                col("amt", "real", &[]),
            ],
            vec![fk_on("funder_id", "funders", "funder_id")],
        ),
        table(
            "menu_items",
            vec![
                col("item_id", "integer", &[]),
                col("item_name", "text", &[]),
                col("category", "text", &["Starter", "Main", "Dessert"]),
            ],
            vec![],
        ),
        table(
            "order_lines",
            vec![
                col("line_id", "integer", &[]),
                col("item_id", "integer", &[]),
                col("qty", "integer", &[]),
                col("unit_price", "real", &[]),
            ],
            vec![fk_on("item_id", "menu_items", "item_id")],
        ),
    ]))
}

#[test]
fn amounts_money_and_units_are_added_up() {
    let s = grants();
    let sql = |q: &str| {
        translate(q, &s, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // "amount" is `amt` spelled out: the total amount of grants sums it, no count.
    assert_eq!(
        sql("What is the total amount of grants?").unwrap(),
        "SELECT SUM(amt) AS total_amt FROM grants"
    );
    // Money of each group: summed per funder type.
    let per_type = "SELECT T2.funder_type, SUM(T1.amt) AS total_amt FROM grants AS T1 JOIN \
                    funders AS T2 ON T1.funder_id = T2.funder_id GROUP BY T2.funder_type";
    assert_eq!(
        sql("How much grant money has come from each type of funder?").unwrap(),
        per_type
    );
    // Said again in a last sentence, in the order said.
    assert_eq!(
        sql(
            "How much grant money has come from each type of funder? Show the funder type and \
             the total amount."
        )
        .unwrap(),
        per_type
    );
    // Units are the quantity added up, not the lines counted.
    assert_eq!(
        sql("How many units were sold in each category?").unwrap(),
        "SELECT SUM(T1.qty) AS total_qty, T2.category FROM order_lines AS T1 JOIN menu_items \
         AS T2 ON T1.item_id = T2.item_id GROUP BY T2.category"
    );
    // "the most units": each item's units added up, not its one largest line (never a
    // unit price added up).
    assert_eq!(
        sql("Which menu item has sold the most units overall?").unwrap(),
        "SELECT T1.item_name FROM menu_items AS T1 JOIN order_lines AS T2 ON T1.item_id = \
         T2.item_id GROUP BY T1.item_id ORDER BY SUM(T2.qty) DESC LIMIT 1"
    );
    // A date format's notation is no value; a total asked for is never a count.
    assert!(
        sql("Which category had the highest total? Give it as YYYY-MM.")
            .is_err_and(|e| !e.contains("YYYY"))
    );
}

#[test]
fn a_column_said_with_name_and_a_verb_before_a_breakdown() {
    // "the country name" is the country (no person's name beside it), shown in the order
    // said.
    assert_eq!(
        demo_sql(
            "How many customers are there in each country? Show the country name and the count."
        )
        .unwrap(),
        "SELECT country, COUNT(*) AS customer_count FROM customers GROUP BY country"
    );
    // "sold by product" with something computed: a breakdown; "by" and rows with a
    // clause after them stay whose rows.
    let by_product = demo_sql("total units sold by product").unwrap();
    assert!(by_product.contains("GROUP BY"), "{by_product}");
    let whose = demo_sql("How many orders were placed by customers in Germany?").unwrap();
    assert!(
        !whose.contains("GROUP BY") && whose.contains("'Germany'"),
        "{whose}"
    );
}

#[test]
fn scope_fillers_ranges_and_a_tables_names() {
    // "in the database" says nothing about which rows.
    assert_eq!(
        demo_sql("How many customers are there in the database?").unwrap(),
        "SELECT COUNT(*) AS customer_count FROM customers"
    );
    // "from 10 to 20": a range of two numbers.
    assert_eq!(
        demo_sql("List the products with a price from 10 to 20.").unwrap(),
        "SELECT name FROM products WHERE price BETWEEN 10 AND 20"
    );
    // "the employee names": the label of the table said, nothing else shown.
    assert_eq!(
        demo_sql("Which employees have a salary above 5000? Give the employee names.").unwrap(),
        "SELECT name FROM employees WHERE salary > 5000"
    );
}

#[test]
fn a_verb_the_schema_does_not_know_before_a_superlative_is_has() {
    let has = demo_sql("Which customer has the most revenue?").unwrap();
    assert!(has.contains("ORDER BY SUM(T2.total) DESC LIMIT 1"), "{has}");
    assert_eq!(
        demo_sql("Which customer generates the most revenue?").unwrap(),
        has
    );
    assert_eq!(
        demo_sql("Which customer brings in the most revenue?").unwrap(),
        has
    );
}

#[test]
fn several_words_for_one_part_of_a_name_are_doubted() {
    // Unsampled names: "Pulse Pro" is no first name.
    let s = schema_of(vec![table(
        "staff",
        vec![
            col("id", "integer", &[]),
            col("first_name", "text", &[]),
            col("last_name", "text", &[]),
        ],
        vec![],
    )]);
    let t = translate(
        "How many staff named Pulse Pro are there?",
        &s,
        Dialect::Sqlite,
    );
    if let Ok(t) = t {
        assert!(
            t.doubts.iter().any(|d| d.contains("more than one word")),
            "{} {:?}",
            t.sql,
            t.doubts
        );
    }
}

#[test]
fn a_code_in_capitals_is_a_value_not_a_function_word() {
    let s = schema_of(vec![table(
        "clients",
        vec![
            col("id", "integer", &[]),
            col("name", "text", &[]),
            col("country_code", "text", &["US", "DE", "FR"]),
            col("sector", "text", &["US Territory", "Mainland"]),
        ],
        vec![],
    )]);
    let sql = |q: &str| translate(q, &s, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("How many clients are in the US?").unwrap(),
        "SELECT COUNT(*) AS client_count FROM clients WHERE country_code = 'US'"
    );
    // Part of a longer value, it stays in it; a code nothing holds is never dropped.
    assert!(
        sql("How many clients are in the US Territory sector?")
            .unwrap()
            .contains("'US Territory'")
    );
    assert!(sql("How many clients are in IT?").map_or(true, |s| s.contains("'IT'")),);
}

#[test]
fn an_average_of_a_number_per_group_averages_each_groups_number() {
    let sql = demo_sql("What is the average number of orders per customer?").unwrap();
    assert_eq!(
        sql,
        "SELECT AVG(order_count) AS avg_order_count FROM (SELECT COUNT(*) AS order_count FROM \
         orders AS T1 JOIN customers AS T2 ON T1.customer_id = T2.id GROUP BY T2.id) AS per_group"
    );
    // PostgreSQL and MySQL name the derived table too.
    let pg = translate(
        "On average, how many orders are there in a single customer?",
        &demo(),
        Dialect::Postgres,
    )
    .unwrap();
    assert!(pg.sql.ends_with(") AS per_group"), "{}", pg.sql);
    assert!(
        pg.explanation.starts_with("Averages over the groups"),
        "{}",
        pg.explanation
    );
    // No group: an ordinary average (or refusal), never a wrapped one.
    assert!(
        demo_sql("What is the average number of orders?")
            .map_or(true, |s| !s.contains("per_group"))
    );
}

#[test]
fn days_of_the_week_are_a_grain_of_their_own() {
    let s = demo_sql("How many orders were placed on each day of the week?").unwrap();
    assert!(
        s.starts_with(
            "SELECT CASE CAST(strftime('%w', ordered_at) AS INTEGER) WHEN 0 THEN 'Sunday'"
        ) && s.ends_with("ORDER BY MIN((CAST(strftime('%w', ordered_at) AS INTEGER) + 6) % 7)"),
        "{s}"
    );
    let pg = translate("orders by day of the week", &demo(), Dialect::Postgres)
        .unwrap()
        .sql;
    assert!(
        pg.contains("to_char(ordered_at, 'FMDay') AS weekday")
            && pg.ends_with("ORDER BY MIN(EXTRACT(ISODOW FROM ordered_at))"),
        "{pg}"
    );
    let my = translate(
        "Which weekday has the most orders?",
        &demo(),
        Dialect::Mysql,
    )
    .unwrap()
    .sql;
    assert!(
        my.contains("DAYNAME(ordered_at)") && my.ends_with("DESC LIMIT 1"),
        "{my}"
    );
}

#[test]
fn two_years_compared_are_a_yearly_series_over_both() {
    assert_eq!(
        demo_sql("Compare revenue in 2024 and 2025").unwrap(),
        "SELECT strftime('%Y', ordered_at) AS \"year\", SUM(total) AS revenue FROM orders WHERE \
         ordered_at >= '2024-01-01' AND ordered_at < '2026-01-01' GROUP BY strftime('%Y', \
         ordered_at) ORDER BY strftime('%Y', ordered_at)"
    );
    let side = demo_sql("How many orders in 2024 vs 2025, side by side?").unwrap();
    assert!(
        side.contains("GROUP BY strftime('%Y', ordered_at)"),
        "{side}"
    );
    // Years apart are no window (the year between would be counted in).
    assert!(
        demo_sql("Compare revenue in 2023 and 2025").map_or(true, |s| !s.contains("'2026-01-01'"))
    );
}

#[test]
fn a_total_of_rows_two_keys_away_is_summed_per_row_or_refused() {
    let s = schema_of(vec![
        table(
            "offices",
            vec![
                col("office_cd", "text", &[]),
                col("office_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "agents",
            vec![
                col("agent_id", "integer", &[]),
                col("agent_name", "text", &[]),
                col("office_cd", "text", &[]),
            ],
            vec![fk_on("office_cd", "offices", "office_cd")],
        ),
        table(
            "listings",
            vec![
                col("listing_id", "integer", &[]),
                col("agent_id", "integer", &[]),
            ],
            vec![fk_on("agent_id", "agents", "agent_id")],
        ),
        table(
            "sales",
            vec![
                col("sale_id", "integer", &[]),
                col("listing_id", "integer", &[]),
                col("sale_price", "integer", &[]),
            ],
            vec![fk_on("listing_id", "listings", "listing_id")],
        ),
    ]);
    let s = keyed(s);
    let sql = |q: &str| {
        translate(q, &s, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    let agent = sql("Which agent has the highest total sale price?").unwrap();
    assert!(
        agent.contains("GROUP BY T1.agent_id ORDER BY SUM(T3.sale_price) DESC LIMIT 1"),
        "{agent}"
    );
    // Three keys away: never the office of the one largest sale.
    assert!(
        sql("Which office has the highest total sale price?")
            .is_err_and(|e| e.contains("ranks by a total"))
    );
}

#[test]
fn review_mends_of_the_tenth_step() {
    // Non-ASCII letters whose lower case is longer or shorter never cut a question inside
    // a character.
    for q in [
        "For İzmir, what is the average number of “active” orders per customer?",
        "\u{212A} average number of orders per customer",
    ] {
        let _ = translate(q, &demo(), Dialect::Sqlite);
    }
    // "cash" as a stored value is no money asked for.
    let s = schema_of(vec![table(
        "payments",
        vec![
            col("id", "integer", &[]),
            col("paid_on", "date", &[]),
            col("method", "text", &["cash", "card"]),
            col("amount", "numeric(10,2)", &[]),
        ],
        vec![],
    )]);
    let dates = translate(
        "List the dates of payments made in cash",
        &s,
        Dialect::Sqlite,
    )
    .map(|t| t.sql)
    .unwrap_or_default();
    assert!(!dates.contains("SUM("), "{dates}");
    // Only verbs of yielding read as "has": a verb that picks rows is kept.
    let mut won = demo();
    won.tables.push(table(
        "games",
        vec![
            col("id", "integer", &[]),
            col("winner_id", "integer", &[]),
            col("loser_id", "integer", &[]),
        ],
        vec![fk("winner_id", "customers"), fk("loser_id", "customers")],
    ));
    won.normalize();
    let idx = crate::index::Index::new(&won, &PrivacyPolicy::default(), None);
    let toks = crate::text::tokenize("Which customer won the most games?");
    let (toks, _) = crate::ground::ground(toks, &idx);
    assert!(toks.iter().all(|t| t.low != "has"), "{toks:?}");
    // Two groupings are not averaged into one number.
    assert!(
        demo_sql("What is the average number of orders per customer in each country?")
            .map_or(true, |s| !s.contains("per_group")),
    );
}

/// Lodging booked and paid: abbreviated names (`hotel_nm`, `nightly_rate_amt`), money at
/// the booking and at each of its payments.
fn lodging() -> SchemaSnapshot {
    keyed(schema_of(vec![
        table(
            "hotels",
            vec![
                col("hotel_id", "integer", &[]),
                col("hotel_nm", "text", &[]),
                col("city", "text", &["Lisbon", "Porto"]),
                col("star_rating", "integer", &[]),
                col("opened_yr", "integer", &[]),
                col("closed_flg", "text", &["N", "Y"]),
            ],
            vec![],
        ),
        table(
            "guests",
            vec![
                col("guest_id", "integer", &[]),
                col("first_nm", "text", &[]),
                col("country_cd", "text", &["CA", "PT", "US"]),
            ],
            vec![],
        ),
        table(
            "rooms",
            vec![
                col("room_id", "integer", &[]),
                col("hotel_id", "integer", &[]),
                col("nightly_rate_amt", "real", &[]),
            ],
            vec![fk_on("hotel_id", "hotels", "hotel_id")],
        ),
        table(
            "bookings",
            vec![
                col("booking_id", "integer", &[]),
                col("room_id", "integer", &[]),
                col("guest_id", "integer", &[]),
                col("booked_dt", "date", &[]),
                col("channel_cd", "text", &["WEB", "PHONE"]),
                col("status_cd", "text", &["BOOKED", "CANCELLED"]),
                col("total_amt", "real", &[]),
            ],
            vec![
                fk_on("room_id", "rooms", "room_id"),
                fk_on("guest_id", "guests", "guest_id"),
            ],
        ),
        table(
            "payments",
            vec![
                col("payment_id", "integer", &[]),
                col("booking_id", "integer", &[]),
                col("pay_dt", "date", &[]),
                col("pay_amt", "real", &[]),
            ],
            vec![fk_on("booking_id", "bookings", "booking_id")],
        ),
    ]))
}

#[test]
fn money_words_abbreviated_names_and_units_before_or_more() {
    let s = lodging();
    let sql = |q: &str| {
        translate(q, &s, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // Revenue: the booking's total, which its payments' amounts roll up to (a table named
    // `bookings` keeps its own word only).
    assert_eq!(
        sql("Break down the revenue by channel.").unwrap(),
        "SELECT SUM(total_amt) AS revenue, channel_cd FROM bookings GROUP BY channel_cd"
    );
    // A money word the schema does not use: the one amount of the rows said ("nightly"
    // said once), of a neighbour of theirs, not a rate excluded from money.
    assert_eq!(
        sql("What is the average nightly price of rooms?").unwrap(),
        "SELECT AVG(nightly_rate_amt) AS avg_nightly_rate_amt FROM rooms"
    );
    assert_eq!(
        sql("How many bookings are worth more than the average booking amount?").unwrap(),
        "SELECT COUNT(*) AS booking_count FROM bookings WHERE total_amt > (SELECT \
         AVG(total_amt) FROM bookings)"
    );
    // `hotel_nm` is the hotels' "name"; "4 stars or more" is at least 4.
    assert_eq!(
        sql("List the name and city of the hotels rated 4 stars or more.").unwrap(),
        "SELECT hotel_nm, city FROM hotels WHERE star_rating >= 4"
    );
    // An unknown adjective said of the rows picks some of them: refused, not every row.
    assert!(sql("Which guests are loyal?").is_err_and(|e| e.contains("\"loyal\"")));
    // Contractions: "we've" is a pronoun and its verb.
    assert_eq!(
        sql("How many bookings have we had?").unwrap(),
        sql("How many bookings we've had?").unwrap()
    );
    // A verb that picks some rows ("cancelled") is never read as "has": here a status.
    assert!(
        sql("Which guest cancelled the most bookings?")
            .is_ok_and(|q| q.contains("status_cd = 'CANCELLED'"))
    );
}

#[test]
fn happenings_agents_flags_and_years_kept_elsewhere() {
    let s = lodging();
    let sql = |q: &str| {
        translate(q, &s, Dialect::Sqlite)
            .map(|t| t.sql)
            .map_err(|e| e.understood)
    };
    // "took place" says it happened, no place (nor a city).
    let march = "SELECT COUNT(*) AS booking_count FROM bookings WHERE booked_dt >= '2025-03-01' \
                 AND booked_dt < '2025-04-01'";
    assert_eq!(
        sql("How many bookings took place in March 2025?").unwrap(),
        march
    );
    // "made by guests from Canada": who made them, not one count per guest.
    assert_eq!(
        sql("How many bookings were made by guests from Canada?").unwrap(),
        "SELECT COUNT(*) AS booking_count FROM bookings AS T1 JOIN guests AS T2 ON T1.guest_id \
         = T2.guest_id WHERE T2.country_cd = 'CA'"
    );
    // A flag named `…_flg` holding Y/N.
    assert_eq!(
        sql("How many hotels are closed?").unwrap(),
        "SELECT COUNT(*) AS hotel_count FROM hotels WHERE closed_flg = 'Y'"
    );
    // "each year" of bookings is their yearly series: only the hotels, two keys away, keep
    // a year (`opened_yr`).
    let yearly = "SELECT strftime('%Y', booked_dt) AS \"year\", COUNT(*) AS booking_count FROM \
                  bookings GROUP BY strftime('%Y', booked_dt) ORDER BY strftime('%Y', booked_dt)";
    assert_eq!(
        sql("How many bookings were there each year?").unwrap(),
        yearly
    );
    assert_eq!(
        sql("For each year, how many bookings took place?").unwrap(),
        yearly
    );
    // "the booking count", "the distribution of bookings by channel": counts.
    let per_channel =
        "SELECT COUNT(*) AS booking_count, channel_cd FROM bookings GROUP BY channel_cd";
    assert_eq!(
        sql("What is the booking count per channel?").unwrap(),
        per_channel
    );
    assert_eq!(
        sql("Show the distribution of bookings by channel.").unwrap(),
        per_channel
    );
    // A share per group said first, of rows grouped by a table (its label shown).
    assert_eq!(
        sql("For each hotel, what percentage of its bookings were cancelled?").unwrap(),
        "SELECT 100.0 * SUM(CASE WHEN T1.status_cd = 'CANCELLED' THEN 1 ELSE 0 END) / \
         NULLIF(COUNT(*), 0) AS percentage, T3.hotel_nm FROM bookings AS T1 JOIN rooms AS T2 ON \
         T1.room_id = T2.room_id JOIN hotels AS T3 ON T2.hotel_id = T3.hotel_id GROUP BY \
         T3.hotel_id"
    );
    // Any verb before "the most" rows that point at the ones asked about by one key.
    assert_eq!(
        sql("Which guest placed the most bookings?").unwrap(),
        "SELECT T1.first_nm FROM guests AS T1 JOIN bookings AS T2 ON T1.guest_id = \
         T2.guest_id GROUP BY T1.guest_id ORDER BY COUNT(*) DESC LIMIT 1"
    );
    // "each year" of hotels whose year is an `opened_yr` the planner did not group by:
    // refused as an unbuilt breakdown, not the total.
    assert!(sql("How many hotels opened each year?").is_err_and(|e| e.contains("\"each year\"")));
    // Hotels keep no dates, nor do their rooms: "booked in 2025" dates them by the nearest
    // table that has dates (their rooms' bookings, not the payments a key further).
    assert_eq!(
        sql("How many hotels were booked in 2025?").unwrap(),
        "SELECT COUNT(DISTINCT T1.hotel_id) AS hotel_count FROM hotels AS T1 JOIN rooms AS T2 \
         ON T1.hotel_id = T2.hotel_id JOIN bookings AS T3 ON T2.room_id = T3.room_id WHERE \
         T3.booked_dt >= '2025-01-01' AND T3.booked_dt < '2026-01-01'"
    );
}

#[test]
fn superlatives_of_wealth_heat_and_traffic_rank_by_their_dimension() {
    let s = keyed(schema_of(vec![
        table(
            "artists",
            vec![
                col("artist_id", "integer", &[]),
                col("name", "text", &[]),
                col("net_worth_millions", "real", &[]),
            ],
            vec![],
        ),
        table(
            "cities",
            vec![
                col("city_id", "integer", &[]),
                col("name", "text", &[]),
                col("avg_temperature", "real", &[]),
                col("population", "integer", &[]),
            ],
            vec![],
        ),
    ]));
    let sql = |q: &str| translate(q, &s, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("Who is the richest artist?").unwrap(),
        "SELECT name FROM artists ORDER BY net_worth_millions DESC LIMIT 1"
    );
    assert_eq!(
        sql("Which is the coldest city?").unwrap(),
        "SELECT name FROM cities ORDER BY avg_temperature LIMIT 1"
    );
    // Residents are the population; "a million" is 1,000,000.
    assert_eq!(
        sql("Which cities have more than a million residents?").unwrap(),
        "SELECT name FROM cities WHERE population > 1000000"
    );
}

#[test]
fn rows_counted_through_a_table_not_named_are_doubted() {
    let s = keyed(schema_of(vec![
        table(
            "orchestra",
            vec![
                col("orchestra_id", "integer", &[]),
                col("orchestra", "text", &[]),
                col("record_company", "text", &["Decca", "EMI"]),
            ],
            vec![],
        ),
        table(
            "performance",
            vec![
                col("performance_id", "integer", &[]),
                col("orchestra_id", "integer", &[]),
                col("type", "text", &["Live final", "Auditions"]),
            ],
            vec![fk_on("orchestra_id", "orchestra", "orchestra_id")],
        ),
        table(
            "show",
            vec![
                col("show_id", "integer", &[]),
                col("performance_id", "integer", &[]),
                col("if_first_show", "text", &["T", "F"]),
                col("result", "text", &["T", "F"]),
            ],
            vec![fk_on("performance_id", "performance", "performance_id")],
        ),
    ]));
    let t = translate_with_model(
        "How many ensembles does each record label have? Show the label and the count.",
        &s,
        Dialect::Sqlite,
        &PrivacyPolicy::default(),
        &TranslatorOptions {
            min_confidence: 0.0,
            ..TranslatorOptions::default()
        },
        None,
        &[],
    )
    .unwrap();
    // Orchestras counted once per performance are a wrong count, said as a doubt that
    // keeps it under the default threshold.
    assert!(t.sql.contains("JOIN performance"), "{}", t.sql);
    assert!(t.confidence < MIN_CONFIDENCE, "{} {}", t.sql, t.confidence);
    assert!(
        t.doubts.iter().any(|d| d.contains("once per row")),
        "{:?}",
        t.doubts
    );
}

#[test]
fn a_verb_picks_the_column_named_with_it() {
    let s = schema_of(vec![
        table(
            "customers",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("country", "text", &["Germany", "France"]),
            ],
            vec![],
        ),
        table(
            "orders",
            vec![
                col("id", "integer", &[]),
                col("customer_id", "integer", &[]),
                col("ship_country", "text", &["Japan", "France"]),
                col("total", "real", &[]),
            ],
            vec![fk("customer_id", "customers")],
        ),
    ]);
    let sql = |q: &str| translate(q, &s, Dialect::Sqlite).map(|t| t.sql);
    // The orders' destination, not their customers' country.
    assert_eq!(
        sql("How many orders were shipped to each country?").unwrap(),
        "SELECT COUNT(*) AS order_count, ship_country FROM orders GROUP BY ship_country"
    );
    assert_eq!(
        sql("Which country did we ship the most orders to?").unwrap(),
        "SELECT ship_country FROM orders GROUP BY ship_country ORDER BY COUNT(*) DESC LIMIT 1"
    );
    // Without the verb, the customers' country.
    assert_eq!(
        sql("How many customers are in each country?").unwrap(),
        "SELECT COUNT(*) AS customer_count, country FROM customers GROUP BY country"
    );
}

#[test]
fn a_time_range_inside_a_negation_dates_the_rows_left_out() {
    // The customers without an order in 2025 (not those who signed up in 2025 and never
    // ordered): the window goes on the orders, in the subquery.
    assert_eq!(
        demo_sql("Which customers have not ordered anything in 2025?").unwrap(),
        "SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE \
         customer_id IS NOT NULL AND ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01')"
    );
    assert!(
        demo_sql("Which customers have not ordered anything this year?")
            .unwrap()
            .contains("ordered_at >= date('now', 'start of year')")
    );
}

#[test]
fn a_time_range_that_ends_a_negated_question_is_read_without_panicking() {
    // "in 2024" closes the question: the clause check reached one past the last word. (Here
    // "place" is also read as the city, so the reading is refused, with the window on the
    // orders left out.)
    let why = demo_sql("How many customers did not place a single order in 2024?").unwrap_err();
    assert!(
        why.contains("does not appear in orders with ordered at is from '2024-01-01'"),
        "{why}"
    );
}

#[test]
fn the_last_word_of_a_compound_names_its_table() {
    let snap = schema_of(vec![
        table(
            "menu_itm",
            vec![
                col("itm_id", "integer", &[]),
                col("itm_nm", "text", &[]),
                col("prc_usd", "real", &[]),
            ],
            vec![],
        ),
        table(
            "tkt_ln",
            vec![
                col("ln_id", "integer", &[]),
                col("itm_id", "integer", &[]),
                col("qty", "integer", &[]),
            ],
            vec![fk("itm_id", "menu_itm")],
        ),
    ]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        ask("How many items are there?").unwrap(),
        "SELECT COUNT(*) AS menu_itm_count FROM menu_itm"
    );
}

#[test]
fn a_date_named_as_the_time_range_s_is_no_breakdown() {
    let snap = schema_of(vec![table(
        "plcy",
        vec![
            col("pol_no", "integer", &[]),
            col("eff_dt", "date", &[]),
            col("prem_amt", "real", &[]),
        ],
        vec![],
    )]);
    let s = translate(
        "How many policies took effect during 2023?",
        &snap,
        Dialect::Sqlite,
    )
    .map(|t| t.sql)
    .unwrap();
    assert_eq!(
        s,
        "SELECT COUNT(*) AS plcy_count FROM plcy WHERE eff_dt >= '2023-01-01' AND eff_dt < '2024-01-01'"
    );
}

#[test]
fn a_direction_said_sorts_the_one_figure() {
    let s = sql(
        "How many orders per status, largest first?",
        Dialect::Sqlite,
    );
    assert!(s.ends_with("GROUP BY status ORDER BY COUNT(*) DESC"), "{s}");
    let s = sql(
        "Count the orders per status in ascending order.",
        Dialect::Sqlite,
    );
    assert!(s.ends_with("GROUP BY status ORDER BY COUNT(*)"), "{s}");
    let s = sql(
        "How many orders per status? Sort from fewest to most.",
        Dialect::Sqlite,
    );
    assert!(s.ends_with("GROUP BY status ORDER BY COUNT(*)"), "{s}");
    // "first" of "largest first" is no first name, nor "largest" one row's ranking.
    let s = sql(
        "Total of orders per customer, largest first",
        Dialect::Sqlite,
    );
    assert!(s.ends_with("ORDER BY SUM(T1.total) DESC"), "{s}");
    // Said with what to sort by, it is the planner's.
    assert_eq!(
        crate::said_direction("List the orders in descending order of total"),
        (None, None)
    );
    assert_eq!(
        crate::said_direction("How many orders per status, largest first?"),
        (Some("How many orders per status?".to_owned()), Some(true))
    );
}

#[test]
fn a_number_said_in_a_larger_unit_is_divided_by_it() {
    let s = sql("What is the total of orders in thousands?", Dialect::Sqlite);
    assert_eq!(
        s,
        "SELECT SUM(total) / 1000.0 AS total_thousands FROM orders"
    );
    let s = sql(
        "What is the average salary of employees, expressed in thousands?",
        Dialect::Sqlite,
    );
    assert_eq!(
        s,
        "SELECT AVG(salary) / 1000.0 AS avg_salary_thousands FROM employees"
    );
    // No one number to show in millions: refused, with the reason.
    let e = translate("List the customers in millions", &demo(), Dialect::Sqlite).unwrap_err();
    assert!(e.understood.contains("in millions"), "{}", e.understood);
}

#[test]
fn a_country_not_sampled_speaks_for_the_table_of_countries() {
    let snap = schema_of(vec![
        table(
            "country",
            vec![
                col("code", "text", &[]),
                col("name", "text", &[]),
                col("population", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "city",
            vec![
                col("id", "integer", &[]),
                col("name", "text", &[]),
                col("country_code", "text", &[]),
                col("population", "integer", &[]),
            ],
            vec![fk_on("country_code", "country", "code")],
        ),
    ]);
    let s = translate("What is the population of China?", &snap, Dialect::Sqlite)
        .unwrap()
        .sql;
    assert_eq!(s, "SELECT population FROM country WHERE name = 'China'");
}

#[test]
fn at_least_one_of_a_thing_is_having_one() {
    assert_eq!(
        crate::at_least_one("Which categories contain at least one cheap product?"),
        Some("Which categories contain a cheap product?".to_owned())
    );
    // "At least one of …" picks among rows; a count said alone stays.
    assert_eq!(crate::at_least_one("at least one of the orders"), None);
    assert_eq!(crate::at_least_one("customers with at least one."), None);
    // Where the first reading can, "at least one" is its HAVING.
    let s = sql("Which customers have at least one order?", Dialect::Sqlite);
    assert!(s.ends_with("HAVING COUNT(*) >= 1"), "{s}");
}

#[test]
fn rows_excluded_from_the_measure_are_left_out_of_it() {
    let snap = schema_of(vec![
        table(
            "customers",
            vec![
                col("id", "integer", &[]),
                col("first_name", "text", &[]),
                col("last_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "orders",
            vec![
                col("id", "integer", &[]),
                col("customer_id", "integer", &[]),
                col("status", "text", &["delivered", "cancelled"]),
                col("total_amount", "numeric(12,2)", &[]),
            ],
            vec![fk("customer_id", "customers")],
        ),
    ]);
    let ask = |q: &str| translate(q, &snap, Dialect::Sqlite).unwrap().sql;
    for q in [
        "Top 3 customers by total order amount, excluding cancelled orders",
        "Top 3 customers by total order amount, not counting cancelled orders",
    ] {
        let s = ask(q);
        assert!(
            s.contains("WHERE T2.status != 'cancelled'") && !s.contains("NOT IN"),
            "{q}: {s}"
        );
    }
    // "Never" excludes the customers themselves.
    let s = ask("Top 3 customers by total order amount who never had a cancelled order");
    assert!(s.contains("NOT IN"), "{s}");
}

/// Words a random question is made of: the demo schema's names and values, question words,
/// numbers, dates, negations, connectives and punctuation stuck to words, so that every
/// stage sees phrases ending where it does not expect them.
const FUZZ_WORDS: &[&str] = &[
    "how",
    "many",
    "much",
    "what",
    "which",
    "who",
    "is",
    "are",
    "the",
    "a",
    "of",
    "in",
    "on",
    "per",
    "by",
    "for",
    "each",
    "every",
    "with",
    "without",
    "not",
    "no",
    "never",
    "did",
    "and",
    "or",
    "but",
    "than",
    "more",
    "less",
    "most",
    "least",
    "top",
    "first",
    "last",
    "average",
    "total",
    "sum",
    "count",
    "number",
    "share",
    "percentage",
    "between",
    "since",
    "before",
    "after",
    "during",
    "year",
    "month",
    "quarter",
    "2024",
    "2025",
    "May",
    "Q3",
    "10",
    "3",
    "one",
    "single",
    "at",
    "least",
    "only",
    "instead",
    "excluding",
    "except",
    "largest",
    "cheapest",
    "highest",
    "descending",
    "customers",
    "customer",
    "orders",
    "order",
    "placed",
    "products",
    "price",
    "quantity",
    "items",
    "employees",
    "salary",
    "departments",
    "categories",
    "country",
    "city",
    "status",
    "cancelled",
    "shipped",
    "pending",
    "Germany",
    "Japan",
    "revenue",
    "sales",
    "name",
    "email",
    "hired",
    "signed",
    "up",
    "?",
    ",",
    "orders,",
    "2025?",
    "customers?",
    "in thousands",
    "largest first",
];

proptest::proptest! {
    // (A fixed seed: the same 300 questions on every run, so a red CI run is reproducible;
    // change the seed to explore.)
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 300,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0ff1),
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Whatever the words, the translator answers or refuses (it never panics), and what it
    /// answers is accepted by the guard in every dialect.
    #[test]
    fn any_question_is_answered_validly_or_refused(
        words in proptest::collection::vec(proptest::sample::select(FUZZ_WORDS), 1..14)
    ) {
        let q = words.join(" ");
        let snap = demo();
        let schema = GuardSchema::from_snapshot(&snap);
        let policy = GuardPolicy { max_rows: Some(1000), ..Default::default() };
        for d in DIALECTS {
            if let Ok(t) = translate(&q, &snap, d) {
                proptest::prop_assert!(
                    validate(d, &t.sql, &schema, &policy).is_ok(),
                    "{} ({:?}): guard refused {}", q, d, t.sql
                );
            }
        }
    }
}

#[test]
fn a_place_is_compared_in_the_form_its_column_keeps_codes() {
    // `CHAR(3)` codes, none sampled: "the UK" is the United Kingdom's three-letter code,
    // and a code names its country as well as its full name does.
    let snap = schema_of(vec![
        table(
            "country",
            vec![
                col("Code", "char(3)", &[]),
                col("Name", "text", &[]),
                col("Population", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "city",
            vec![
                col("id", "integer", &[]),
                col("Name", "text", &[]),
                col("CountryCode", "char(3)", &[]),
                col("Population", "integer", &[]),
            ],
            vec![fk_on("CountryCode", "country", "Code")],
        ),
    ]);
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("How many cities are in the UK?").unwrap(),
        "SELECT COUNT(*) AS city_count FROM city WHERE CountryCode = 'GBR'"
    );
    assert_eq!(
        sql("What is the population of the UK?").unwrap(),
        "SELECT Population FROM country WHERE Code = 'GBR'"
    );
}

#[test]
fn a_table_is_named_without_the_words_that_say_how_it_is_kept() {
    // `bill_hdr` is the bills (a header), `pt_mstr` the master list of what `pt` is.
    let snap = keyed(schema_of(vec![table(
        "bill_hdr",
        vec![
            col("bill_id", "integer", &[]),
            col("amt_due_usd", "real", &[]),
        ],
        vec![],
    )]));
    assert_eq!(
        translate("How many bills are there?", &snap, Dialect::Sqlite)
            .unwrap()
            .sql,
        "SELECT COUNT(*) AS bill_hdr_count FROM bill_hdr"
    );
}

#[test]
fn a_yes_no_column_is_said_by_the_word_its_name_abbreviates() {
    // `is_actv` is "active", `pd_yn` "paid" (and "unpaid" its negation); two letters only
    // as the word without its vowels: "pending" is no `pd`.
    let snap = keyed(schema_of(vec![
        table(
            "ptrn",
            vec![
                col("ptrn_id", "integer", &[]),
                col("is_actv", "integer", &[]),
            ],
            vec![],
        ),
        table(
            "fine",
            vec![
                col("fine_id", "integer", &[]),
                col("fine_amt", "real", &[]),
                col("pd_yn", "text", &["Y", "N"]),
            ],
            vec![],
        ),
    ]));
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert_eq!(
        sql("How many active patrons are there?").unwrap(),
        "SELECT COUNT(*) AS ptrn_count FROM ptrn WHERE is_actv = 1"
    );
    assert_eq!(
        sql("How many patrons are inactive?").unwrap(),
        "SELECT COUNT(*) AS ptrn_count FROM ptrn WHERE is_actv != 1"
    );
    assert_eq!(
        sql("What is the total of unpaid fines?").unwrap(),
        "SELECT SUM(fine_amt) AS total_fine_amt FROM fine WHERE pd_yn != 'Y'"
    );
    assert!(!sql("What is the total of pending fines?").is_ok_and(|s| s.contains("pd_yn")));
}

#[test]
fn only_an_adjective_or_participle_says_an_abbreviated_yes_no_column() {
    // "activity" starts with the letters of `actv` but is no state of the rows; "in…" is a
    // negation only before an abbreviated name's word ("inflammable" is flammable).
    let snap = keyed(schema_of(vec![table(
        "ptrn",
        vec![
            col("ptrn_id", "integer", &[]),
            col("is_actv", "integer", &[]),
            col("activity_level", "integer", &[]),
            col("is_flammable", "integer", &[]),
        ],
        vec![],
    )]));
    let sql = |q: &str| translate(q, &snap, Dialect::Sqlite).map(|t| t.sql);
    assert!(
        !sql("What is the average activity level of patrons?").is_ok_and(|s| s.contains("is_actv"))
    );
    assert!(!sql("How many patrons are inflammable?").is_ok_and(|s| s.contains("!=")));
}

#[test]
fn a_code_already_among_the_samples_is_kept_as_said() {
    // SQLite does not enforce `CHAR(3)`: where the samples hold two letters, 'UK' is one.
    let snap = schema_of(vec![table(
        "city",
        vec![
            col("id", "integer", &[]),
            col("CountryCode", "char(3)", &["UK", "US", "FR"]),
        ],
        vec![],
    )]);
    assert_eq!(
        translate("How many cities are in the UK?", &snap, Dialect::Sqlite)
            .unwrap()
            .sql,
        "SELECT COUNT(*) AS city_count FROM city WHERE CountryCode = 'UK'"
    );
}

#[test]
fn a_key_pointing_at_a_table_does_not_keep_its_last_word_from_naming_it() {
    // "programs" is the last word of `degree_programs` only; the enrolments' key that
    // points at it holds the word too, and is the same thing.
    let snap = keyed(schema_of(vec![
        table(
            "degree_programs",
            vec![
                col("degree_program_id", "integer", &[]),
                col("summary_name", "text", &[]),
            ],
            vec![],
        ),
        table(
            "enrolment",
            vec![
                col("enrolment_id", "integer", &[]),
                col("degree_program_id", "integer", &[]),
            ],
            vec![fk_on(
                "degree_program_id",
                "degree_programs",
                "degree_program_id",
            )],
        ),
    ]));
    assert_eq!(
        translate("How many programs are there?", &snap, Dialect::Sqlite)
            .unwrap()
            .sql,
        "SELECT COUNT(*) AS degree_program_count FROM degree_programs"
    );
}
