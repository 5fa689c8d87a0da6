//! Tests on a hand-built snapshot shaped like the demo database.

use querent_domain::schema::{ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind};
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
            max_rows: 1000,
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
    "how many orders per status",
    "top 5 products by total quantity sold",
    "customers from Germany",
    "orders in 2023",
    "orders this month",
    "orders last month",
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
        "SELECT COUNT(*) FROM customers"
    );
    let t = translate(
        "How many customers are from Germany?",
        &demo(),
        Dialect::Sqlite,
    )
    .unwrap();
    assert_eq!(
        t.sql,
        "SELECT COUNT(*) FROM customers WHERE country = 'Germany'"
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
        "SELECT status, COUNT(*) FROM orders GROUP BY status"
    );
    assert_eq!(
        sql("how many orders per status", Dialect::Sqlite),
        "SELECT COUNT(*), status FROM orders GROUP BY status"
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
        "SELECT AVG(T1.salary), T2.name FROM employees AS T1 JOIN departments AS T2 \
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
fn aggregates_and_distinct_counts() {
    assert_eq!(
        sql(
            "what is the average, minimum and maximum total of orders?",
            Dialect::Sqlite
        ),
        "SELECT AVG(total), MIN(total), MAX(total) FROM orders"
    );
    assert_eq!(
        sql(
            "how many different cities do customers live in?",
            Dialect::Sqlite
        ),
        "SELECT COUNT(DISTINCT city) FROM customers"
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
    };
    let g = p.generate(&req).await.unwrap();
    assert_eq!(g.sql, "SELECT COUNT(*) FROM customers");
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
    ];
    let long = "customers ".repeat(500);
    let guard = GuardPolicy {
        max_rows: 1000,
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
