//! The guard against hostile and legitimate statements in all three dialects.

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use proptest::prelude::*;
use querent_domain::{Dialect, ErrorCode, HasErrorCode as _};
use querent_sql::{GuardError, GuardPolicy, GuardSchema, GuardTable, ValidatedSql, validate};

const P: Dialect = Dialect::Postgres;
const M: Dialect = Dialect::Mysql;
const S: Dialect = Dialect::Sqlite;
const ALL: [Dialect; 3] = [P, M, S];

fn table(schema: Option<&str>, name: &str, columns: &[&str]) -> GuardTable {
    GuardTable {
        schema: schema.map(Into::into),
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
    }
}

fn schema() -> GuardSchema {
    GuardSchema::new(vec![
        table(
            Some("public"),
            "customers",
            &[
                "id",
                "name",
                "email",
                "city",
                "country",
                "created_at",
                "ssn",
            ],
        ),
        table(
            Some("public"),
            "orders",
            &[
                "id",
                "customer_id",
                "employee_id",
                "status",
                "total",
                "ordered_at",
            ],
        ),
        table(
            Some("public"),
            "order_items",
            &["order_id", "product_id", "quantity", "unit_price"],
        ),
        table(
            Some("public"),
            "products",
            &["id", "name", "category_id", "price", "active"],
        ),
        table(Some("public"), "categories", &["id", "name", "parent_id"]),
        table(
            Some("public"),
            "employees",
            &[
                "id",
                "name",
                "department_id",
                "manager_id",
                "hired_at",
                "salary",
                "password_hash",
            ],
        ),
        table(Some("public"), "departments", &["id", "name", "budget"]),
        table(Some("public"), "api_keys", &["id", "secret"]),
        table(Some("audit"), "log", &["id", "message"]),
    ])
}

fn policy() -> GuardPolicy {
    GuardPolicy {
        excluded_tables: vec!["api_keys".into(), "audit.log".into()],
        excluded_columns: vec![
            "customers.ssn".into(),
            "public.employees.password_hash".into(),
        ],
        max_rows: Some(1000),
        ..GuardPolicy::default()
    }
}

fn check(dialect: Dialect, sql: &str) -> Result<ValidatedSql, GuardError> {
    validate(dialect, sql, &schema(), &policy())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum E {
    Parse,
    Empty,
    Multi,
    NotQuery,
    DataCte,
    Into,
    Lock,
    Denied,
    UnkTable,
    UnkColumn,
    Ambiguous,
    Policy,
    Deep,
    Long,
    Unsupported,
}

fn kind(e: &GuardError) -> E {
    match e {
        GuardError::Parse { .. } => E::Parse,
        GuardError::Empty => E::Empty,
        GuardError::MultipleStatements { .. } => E::Multi,
        GuardError::NotAQuery { .. } => E::NotQuery,
        GuardError::DataModifyingCte => E::DataCte,
        GuardError::SelectInto => E::Into,
        GuardError::LockingClause => E::Lock,
        GuardError::FunctionNotAllowed { .. } | GuardError::FunctionArgument { .. } => E::Denied,
        GuardError::CatalogNotAllowed { .. } | GuardError::TypeNotAllowed { .. } => E::Policy,
        GuardError::InvalidPolicy { .. } | GuardError::Unrenderable => E::Unsupported,
        GuardError::UnknownTable { .. } => E::UnkTable,
        GuardError::UnknownColumn { .. } => E::UnkColumn,
        GuardError::AmbiguousColumn { .. } => E::Ambiguous,
        GuardError::PolicyViolation { .. } => E::Policy,
        GuardError::TooDeep => E::Deep,
        GuardError::TooLong { .. } => E::Long,
        GuardError::Unsupported { .. } => E::Unsupported,
    }
}

/// (dialect, statement, expected refusal)
const HOSTILE: &[(Dialect, &str, E)] = &[
    // statement kinds
    (P, "DROP TABLE customers", E::NotQuery),
    (M, "DROP TABLE customers", E::NotQuery),
    (S, "DROP TABLE customers", E::NotQuery),
    (P, "DELETE FROM orders", E::NotQuery),
    (M, "DELETE FROM orders WHERE id = 1", E::NotQuery),
    (S, "DELETE FROM orders", E::NotQuery),
    (P, "UPDATE customers SET name = 'x'", E::NotQuery),
    (
        M,
        "UPDATE customers SET name = 'x' WHERE id = 1",
        E::NotQuery,
    ),
    (S, "UPDATE customers SET name = 'x'", E::NotQuery),
    (P, "INSERT INTO customers (id) VALUES (1)", E::NotQuery),
    (M, "INSERT INTO customers (id) VALUES (1)", E::NotQuery),
    (S, "INSERT INTO customers (id) VALUES (1)", E::NotQuery),
    (S, "REPLACE INTO customers (id) VALUES (1)", E::NotQuery),
    (P, "INSERT INTO orders SELECT * FROM orders", E::NotQuery),
    (
        P,
        "MERGE INTO orders o USING orders s ON o.id = s.id WHEN MATCHED THEN DELETE",
        E::NotQuery,
    ),
    (P, "TRUNCATE orders", E::NotQuery),
    (M, "TRUNCATE TABLE orders", E::NotQuery),
    (P, "CREATE TABLE t (id int)", E::NotQuery),
    (M, "CREATE TABLE t AS SELECT * FROM orders", E::NotQuery),
    (S, "CREATE VIEW v AS SELECT 1", E::NotQuery),
    (
        P,
        "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
        E::NotQuery,
    ),
    (P, "ALTER TABLE customers ADD COLUMN x int", E::NotQuery),
    (M, "ALTER TABLE customers DROP COLUMN name", E::NotQuery),
    (P, "SET statement_timeout = 0", E::NotQuery),
    (M, "SET GLOBAL general_log = 1", E::NotQuery),
    (P, "SET ROLE postgres", E::NotQuery),
    (P, "RESET ALL", E::NotQuery),
    (P, "COPY customers TO '/tmp/x'", E::NotQuery),
    (
        P,
        "COPY (SELECT * FROM orders) TO PROGRAM 'rm -rf /'",
        E::NotQuery,
    ),
    (P, "CALL do_things()", E::NotQuery),
    (M, "CALL do_things()", E::NotQuery),
    (S, "PRAGMA writable_schema = 1", E::NotQuery),
    (S, "PRAGMA table_info(customers)", E::Parse),
    (S, "ATTACH DATABASE '/tmp/evil.db' AS evil", E::NotQuery),
    (S, "DETACH DATABASE main", E::Parse),
    (S, "VACUUM INTO '/tmp/copy.db'", E::Parse),
    (P, "GRANT ALL ON customers TO public", E::NotQuery),
    (M, "GRANT ALL ON *.* TO 'x'@'%'", E::NotQuery),
    (P, "REVOKE SELECT ON customers FROM public", E::NotQuery),
    (
        P,
        "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE",
        E::NotQuery,
    ),
    (M, "LOCK TABLES customers WRITE", E::NotQuery),
    (P, "EXPLAIN ANALYZE DELETE FROM orders", E::NotQuery),
    (P, "EXPLAIN ANALYZE SELECT * FROM orders", E::NotQuery),
    (P, "BEGIN", E::NotQuery),
    (P, "COMMIT", E::NotQuery),
    (M, "START TRANSACTION", E::NotQuery),
    (S, "ROLLBACK", E::NotQuery),
    (P, "DO $$ BEGIN PERFORM 1; END $$", E::Parse),
    (P, "PREPARE p AS SELECT 1", E::NotQuery),
    (P, "EXECUTE p", E::NotQuery),
    (P, "LISTEN chan", E::NotQuery),
    (P, "NOTIFY chan", E::NotQuery),
    (P, "DISCARD ALL", E::NotQuery),
    (M, "SHOW DATABASES", E::NotQuery),
    (M, "KILL 42", E::NotQuery),
    (M, "FLUSH PRIVILEGES", E::NotQuery),
    (M, "USE mysql", E::NotQuery),
    (P, "DEALLOCATE ALL", E::NotQuery),
    (P, "CREATE EXTENSION dblink", E::NotQuery),
    (P, "COMMENT ON TABLE customers IS 'x'", E::NotQuery),
    // data-modifying CTEs
    (
        P,
        "WITH x AS (DELETE FROM orders RETURNING *) SELECT * FROM x",
        E::DataCte,
    ),
    (
        P,
        "WITH x AS (UPDATE orders SET total = 0 RETURNING id) SELECT id FROM x",
        E::DataCte,
    ),
    (
        P,
        "WITH x AS (INSERT INTO orders (id) VALUES (1) RETURNING id) SELECT 1",
        E::DataCte,
    ),
    (
        P,
        "WITH a AS (SELECT 1), b AS (DELETE FROM orders RETURNING id) SELECT 1",
        E::DataCte,
    ),
    (
        P,
        "WITH x AS (SELECT id FROM orders) DELETE FROM orders",
        E::NotQuery,
    ),
    (
        P,
        "WITH x AS (SELECT id FROM orders) INSERT INTO orders (id) SELECT id FROM x",
        E::NotQuery,
    ),
    // SELECT INTO, locking
    (P, "SELECT * INTO copy FROM orders", E::Into),
    (P, "SELECT id INTO TEMPORARY t FROM orders", E::Into),
    (P, "SELECT * FROM (SELECT id INTO x FROM orders) s", E::Into),
    (M, "SELECT id INTO @v FROM orders LIMIT 1", E::Into),
    (
        M,
        "SELECT id FROM orders INTO OUTFILE '/tmp/o.txt'",
        E::Parse,
    ),
    (
        M,
        "SELECT id INTO OUTFILE '/tmp/o.txt' FROM orders",
        E::Parse,
    ),
    (
        M,
        "SELECT id INTO DUMPFILE '/tmp/o.txt' FROM orders",
        E::Parse,
    ),
    (P, "SELECT * FROM orders FOR UPDATE", E::Lock),
    (P, "SELECT * FROM orders FOR SHARE", E::Lock),
    (P, "SELECT * FROM orders FOR NO KEY UPDATE NOWAIT", E::Parse),
    (P, "SELECT * FROM orders FOR UPDATE SKIP LOCKED", E::Lock),
    (M, "SELECT * FROM orders FOR UPDATE", E::Lock),
    (M, "SELECT * FROM orders LOCK IN SHARE MODE", E::Parse),
    (
        P,
        "SELECT id FROM (SELECT id FROM orders FOR UPDATE) s",
        E::Lock,
    ),
    (
        P,
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM orders FOR UPDATE)",
        E::Lock,
    ),
    // stacked statements and comment tricks
    (P, "SELECT 1; DROP TABLE customers", E::Multi),
    (M, "SELECT 1; DROP TABLE customers", E::Multi),
    (S, "SELECT 1; DROP TABLE customers", E::Multi),
    (P, "SELECT 1; SELECT 2", E::Multi),
    (
        P,
        "SELECT 1 /* harmless */; DELETE FROM orders -- bye",
        E::Multi,
    ),
    (P, "/* SELECT 1 */ DELETE FROM orders", E::NotQuery),
    (P, "-- SELECT 1\nDROP TABLE orders", E::NotQuery),
    (M, "/*!50000 DROP TABLE orders */", E::NotQuery),
    (M, "SELECT 1 #\n; DROP TABLE orders", E::Multi),
    (P, "SELECT pg_sleep/**/(10)", E::Denied),
    (P, "", E::Empty),
    (P, "   \n\t ", E::Empty),
    (P, "-- only a comment", E::Empty),
    (P, ";", E::Empty),
    (P, "SELEC 1", E::Parse),
    // denied functions
    (P, "SELECT pg_sleep(10)", E::Denied),
    (P, "SELECT PG_SLEEP(1)", E::Denied),
    (P, "select pg_catalog.pg_sleep(1)", E::Denied),
    (P, "SELECT \"pg_sleep\"(1)", E::Denied),
    (P, "SELECT pg_sleep_for('5 minutes')", E::Denied),
    (P, "SELECT pg_read_file('/etc/passwd')", E::Denied),
    (P, "SELECT pg_read_binary_file('/etc/passwd')", E::Denied),
    (P, "SELECT * FROM pg_ls_dir('/')", E::Denied),
    (P, "SELECT pg_stat_file('/etc/passwd')", E::Denied),
    (P, "SELECT lo_import('/etc/passwd')", E::Denied),
    (P, "SELECT lo_export(1, '/tmp/x')", E::Denied),
    (
        P,
        "SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)",
        E::Denied,
    ),
    (P, "SELECT dblink_exec('drop table orders')", E::Denied),
    (
        P,
        "SELECT set_config('statement_timeout', '0', false)",
        E::Denied,
    ),
    (P, "SELECT nextval('orders_id_seq')", E::Denied),
    (P, "SELECT setval('orders_id_seq', 1)", E::Denied),
    (P, "SELECT pg_advisory_lock(1)", E::Denied),
    (P, "SELECT pg_terminate_backend(42)", E::Denied),
    (P, "SELECT pg_cancel_backend(42)", E::Denied),
    (P, "SELECT pg_reload_conf()", E::Denied),
    (
        P,
        "SELECT query_to_xml('delete from orders', true, true, '')",
        E::Denied,
    ),
    (P, "SELECT txid_current()", E::Denied),
    (
        P,
        "SELECT pg_logical_emit_message(true, 'x', 'y')",
        E::Denied,
    ),
    (M, "SELECT SLEEP(10)", E::Denied),
    (M, "SELECT BENCHMARK(1000000000, MD5('x'))", E::Denied),
    (M, "SELECT LOAD_FILE('/etc/passwd')", E::Denied),
    (M, "SELECT GET_LOCK('x', 10)", E::Denied),
    (M, "SELECT release_lock('x')", E::Denied),
    (M, "SELECT sys_exec('id')", E::Denied),
    (M, "SELECT id FROM orders WHERE SLEEP(5) = 0", E::Denied),
    (S, "SELECT load_extension('/tmp/evil.so')", E::Denied),
    (S, "SELECT readfile('/etc/passwd')", E::Denied),
    (S, "SELECT writefile('/tmp/x', 'y')", E::Denied),
    (S, "SELECT fts3_tokenizer('simple')", E::Denied),
    (S, "SELECT randomblob(1000000000)", E::Denied),
    (S, "SELECT * FROM fsdir('/')", E::Denied),
    (S, "SELECT pg_sleep(1)", E::Denied),
    // denied functions hidden in every clause
    (
        P,
        "SELECT id FROM orders WHERE id IN (SELECT pg_sleep(1))",
        E::Denied,
    ),
    (
        P,
        "SELECT CASE WHEN id > 0 THEN pg_sleep(1) END FROM orders",
        E::Denied,
    ),
    (P, "SELECT id FROM orders ORDER BY pg_sleep(1)", E::Denied),
    (
        P,
        "SELECT status FROM orders GROUP BY status HAVING count(pg_sleep(1)) > 0",
        E::Denied,
    ),
    (
        P,
        "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id AND pg_sleep(1) IS NULL",
        E::Denied,
    ),
    (
        P,
        "WITH x AS (SELECT pg_sleep(1)) SELECT 1 FROM x",
        E::Denied,
    ),
    (P, "SELECT 1 UNION SELECT pg_sleep(1)", E::Denied),
    (
        P,
        "SELECT coalesce(NULL, lower(upper(pg_read_file('/etc/passwd'))))",
        E::Denied,
    ),
    (
        P,
        "SELECT sum(total) OVER (ORDER BY pg_sleep(1)) FROM orders",
        E::Denied,
    ),
    (
        M,
        "SELECT * FROM orders WHERE id = (SELECT 1 FROM customers WHERE BENCHMARK(10, 1))",
        E::Denied,
    ),
    (M, "SELECT IF(1, SLEEP(1), 0)", E::Denied),
    (S, "SELECT (SELECT load_extension('x'))", E::Denied),
    (P, "SELECT 1 LIMIT (SELECT pg_sleep(1))::int", E::Denied),
    // unknown tables and columns
    (P, "SELECT * FROM custmers", E::UnkTable),
    (M, "SELECT * FROM customer", E::UnkTable),
    (S, "SELECT * FROM sqlite_master", E::Policy),
    (P, "SELECT * FROM pg_catalog.pg_authid", E::Policy),
    (P, "SELECT * FROM information_schema.tables", E::Policy),
    (M, "SELECT * FROM mysql.user", E::Policy),
    (
        P,
        "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM custmers)",
        E::UnkTable,
    ),
    (P, "SELECT nme FROM customers", E::UnkColumn),
    (P, "SELECT c.nme FROM customers c", E::UnkColumn),
    (P, "SELECT customers.nme FROM customers", E::UnkColumn),
    (M, "SELECT id FROM orders WHERE totl > 10", E::UnkColumn),
    (S, "SELECT id FROM orders ORDER BY ordered", E::UnkColumn),
    (P, "SELECT x.id FROM orders o", E::UnkTable),
    (
        P,
        "SELECT o.id FROM orders o JOIN customers c ON c.idd = o.customer_id",
        E::UnkColumn,
    ),
    (
        P,
        "SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM customers c WHERE c.zip = 1)",
        E::UnkColumn,
    ),
    // privacy
    (P, "SELECT * FROM api_keys", E::Policy),
    (M, "SELECT secret FROM api_keys", E::Policy),
    (P, "SELECT message FROM audit.log", E::Policy),
    (
        P,
        "SELECT id FROM orders WHERE id IN (SELECT id FROM api_keys)",
        E::Policy,
    ),
    (P, "WITH k AS (SELECT * FROM api_keys) SELECT 1", E::Policy),
    (P, "SELECT ssn FROM customers", E::Policy),
    (P, "SELECT c.ssn FROM customers c", E::Policy),
    (P, "SELECT customers.SSN FROM customers", E::Policy),
    (P, "SELECT id FROM customers WHERE ssn LIKE '1%'", E::Policy),
    // `*` is expanded to the allowed columns
    (
        P,
        "SELECT ssn FROM (SELECT * FROM customers) s",
        E::UnkColumn,
    ),
    (
        P,
        "WITH x AS (SELECT * FROM customers) SELECT x.ssn FROM x",
        E::UnkColumn,
    ),
    (S, "SELECT password_hash FROM employees", E::Policy),
    (
        P,
        "SELECT x FROM (SELECT ssn AS x FROM customers) s",
        E::Policy,
    ),
    (P, "TABLE customers", E::Parse),
    (
        P,
        "SELECT shop.public.customers.ssn FROM customers",
        E::Policy,
    ),
    (
        P,
        "SELECT 1 FROM customers a JOIN customers b USING (ssn)",
        E::Policy,
    ),
    (
        P,
        "SELECT 1 FROM customers a JOIN customers b USING (nope)",
        E::UnkColumn,
    ),
    (P, "SELECT (SELECT ssn) FROM customers", E::Policy),
    (
        P,
        "SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers WHERE ssn = o.status)",
        E::Policy,
    ),
    (
        P,
        "SELECT n FROM (SELECT c.* FROM customers c) s",
        E::UnkColumn,
    ),
    (
        S,
        "SELECT e.password_hash FROM departments d JOIN employees e ON e.department_id = d.id",
        E::Policy,
    ),
    (
        P,
        "SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.ssn = '1')",
        E::Policy,
    ),
    // a CTE whose name differs in case is not the table in PostgreSQL and MySQL
    (
        P,
        "WITH \"Customers\" AS (SELECT 1 AS ssn) SELECT ssn FROM customers",
        E::Policy,
    ),
    (
        P,
        "WITH \"Secrets\" AS (SELECT 1 AS id) SELECT * FROM secrets",
        E::UnkTable,
    ),
    (
        M,
        "WITH Customers AS (SELECT 1 AS ssn) SELECT ssn FROM customers",
        E::Policy,
    ),
    // ambiguous unqualified columns
    (
        P,
        "SELECT name FROM customers c JOIN products p ON p.id = c.id",
        E::Ambiguous,
    ),
    (
        M,
        "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE id = 1",
        E::Ambiguous,
    ),
    (
        S,
        "SELECT o.id FROM orders o JOIN customers c ON c.id = customer_id GROUP BY id",
        E::Ambiguous,
    ),
    (
        S,
        "SELECT c.id FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY id",
        E::Ambiguous,
    ),
    (
        P,
        "SELECT id FROM (SELECT id FROM orders) a JOIN (SELECT id FROM customers) b ON a.id = b.id",
        E::Ambiguous,
    ),
    (
        P,
        "WITH x AS (SELECT id, total FROM orders) SELECT total FROM x JOIN orders o ON o.id = x.id",
        E::Ambiguous,
    ),
];

#[test]
fn hostile_statements_are_refused() {
    assert!(HOSTILE.len() >= 100, "only {} hostile cases", HOSTILE.len());
    let mut failures = Vec::new();
    for (dialect, sql, expected) in HOSTILE {
        match check(*dialect, sql) {
            Ok(v) => failures.push(format!("{dialect:?} ACCEPTED {sql:?} as {:?}", v.sql())),
            Err(e) if kind(&e) != *expected => failures.push(format!(
                "{dialect:?} {sql:?}: expected {expected:?}, got {e:?}"
            )),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// (dialects, statement)
const LEGIT: &[(&[Dialect], &str)] = &[
    (&ALL, "SELECT 1"),
    (&[M], "SELECT 1 -- ; DROP TABLE orders"),
    (&ALL, "SELECT name FROM customers -- trailing comment"),
    (&ALL, "SELECT /* hint */ id FROM orders"),
    (&ALL, "SELECT id, name FROM customers"),
    (&ALL, "SELECT * FROM orders"),
    (&ALL, "SELECT o.* FROM orders o"),
    (
        &ALL,
        "SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id",
    ),
    (
        &ALL,
        "SELECT c.name, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY n DESC",
    ),
    (
        &ALL,
        "SELECT status, sum(total) AS revenue FROM orders GROUP BY status HAVING sum(total) > 100",
    ),
    (
        &ALL,
        "SELECT country, COUNT(DISTINCT city) FROM customers GROUP BY country",
    ),
    (
        &ALL,
        "SELECT name FROM products WHERE price BETWEEN 10 AND 20 AND active",
    ),
    (
        &ALL,
        "SELECT name FROM products WHERE name LIKE 'A%' ORDER BY name LIMIT 10 OFFSET 20",
    ),
    (
        &ALL,
        "SELECT p.name, c.name AS category FROM products p JOIN categories c ON c.id = p.category_id",
    ),
    (
        &ALL,
        "SELECT e.name, d.name FROM employees e JOIN departments d ON d.id = e.department_id WHERE d.budget > 1000",
    ),
    (
        &ALL,
        "SELECT e.name, m.name AS manager FROM employees e LEFT JOIN employees m ON m.id = e.manager_id",
    ),
    (
        &ALL,
        "SELECT oi.order_id, sum(oi.quantity * oi.unit_price) AS amount FROM order_items oi GROUP BY oi.order_id",
    ),
    (
        &ALL,
        "SELECT o.id FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id JOIN categories cat ON cat.id = p.category_id WHERE cat.name = 'Books'",
    ),
    (
        &ALL,
        "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 100)",
    ),
    (
        &ALL,
        "SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)",
    ),
    (
        &ALL,
        "SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status = 'open')",
    ),
    (
        &ALL,
        "SELECT name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS orders FROM customers c",
    ),
    (
        &ALL,
        "SELECT t.status, t.n FROM (SELECT status, count(*) AS n FROM orders GROUP BY status) t WHERE t.n > 5",
    ),
    (
        &ALL,
        "SELECT status, n FROM (SELECT status, count(*) AS n FROM orders GROUP BY status) AS t ORDER BY n",
    ),
    (
        &ALL,
        "WITH big AS (SELECT * FROM orders WHERE total > 1000) SELECT count(*) FROM big",
    ),
    (
        &ALL,
        "WITH big AS (SELECT customer_id, total FROM orders WHERE total > 1000) SELECT c.name, b.total FROM big b JOIN customers c ON c.id = b.customer_id",
    ),
    (
        &ALL,
        "WITH a AS (SELECT id FROM customers), b AS (SELECT id FROM a) SELECT id FROM b",
    ),
    (
        &ALL,
        "WITH RECURSIVE tree AS (SELECT id, parent_id, name FROM categories WHERE parent_id IS NULL UNION ALL SELECT c.id, c.parent_id, c.name FROM categories c JOIN tree t ON c.parent_id = t.id) SELECT * FROM tree",
    ),
    (
        &ALL,
        "WITH RECURSIVE chain AS (SELECT id, manager_id, 1 AS depth FROM employees WHERE manager_id IS NULL UNION ALL SELECT e.id, e.manager_id, depth + 1 FROM employees e JOIN chain ON e.manager_id = chain.id) SELECT max(depth) FROM chain",
    ),
    (
        &ALL,
        "SELECT name FROM customers UNION SELECT name FROM employees",
    ),
    (
        &ALL,
        "SELECT name FROM customers UNION ALL SELECT name FROM employees ORDER BY name",
    ),
    (
        &ALL,
        "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders",
    ),
    (
        &ALL,
        "SELECT id FROM customers INTERSECT SELECT customer_id FROM orders",
    ),
    (
        &ALL,
        "SELECT id, CASE WHEN total > 100 THEN 'big' WHEN total > 10 THEN 'medium' ELSE 'small' END AS size FROM orders",
    ),
    (
        &ALL,
        "SELECT CASE status WHEN 'open' THEN 1 ELSE 0 END FROM orders",
    ),
    (
        &ALL,
        "SELECT id, total, rank() OVER (ORDER BY total DESC) AS r FROM orders",
    ),
    (
        &ALL,
        "SELECT id, customer_id, sum(total) OVER (PARTITION BY customer_id ORDER BY ordered_at) AS running FROM orders",
    ),
    (
        &ALL,
        "SELECT id, row_number() OVER (PARTITION BY department_id ORDER BY hired_at) FROM employees",
    ),
    (
        &ALL,
        "SELECT id, lag(total) OVER (ORDER BY ordered_at) AS prev FROM orders",
    ),
    (
        &ALL,
        "SELECT department_id, avg(salary) FROM employees GROUP BY department_id",
    ),
    (
        &ALL,
        "SELECT count(*) FROM orders WHERE status IN ('open', 'paid') AND total IS NOT NULL",
    ),
    (
        &ALL,
        "SELECT coalesce(city, 'unknown') AS city, count(*) FROM customers GROUP BY coalesce(city, 'unknown')",
    ),
    (
        &ALL,
        "SELECT upper(name), length(email) FROM customers WHERE lower(country) = 'fr'",
    ),
    (
        &ALL,
        "SELECT DISTINCT country FROM customers ORDER BY country",
    ),
    (
        &ALL,
        "SELECT min(price), max(price), avg(price) FROM products",
    ),
    (
        &ALL,
        "SELECT p.name FROM products p WHERE p.price > (SELECT avg(price) FROM products)",
    ),
    (
        &ALL,
        "SELECT c.name FROM customers c CROSS JOIN departments d",
    ),
    (
        &ALL,
        "SELECT o.id FROM orders o, customers c WHERE o.customer_id = c.id",
    ),
    (&ALL, "SELECT CAST(total AS INTEGER) FROM orders"),
    (
        &ALL,
        "SELECT total * 2 AS double_total FROM orders ORDER BY double_total",
    ),
    (&ALL, "SELECT id FROM ORDERS WHERE STATUS = 'open'"),
    (
        &ALL,
        "SELECT count(*) AS n FROM order_items GROUP BY order_id HAVING count(*) > 1",
    ),
    (
        &ALL,
        "SELECT name FROM products ORDER BY price DESC, name ASC LIMIT 5",
    ),
    (&ALL, "SELECT x.n FROM (SELECT count(*) AS n FROM orders) x"),
    (
        &ALL,
        "SELECT c.name FROM customers c WHERE c.id = ANY (SELECT customer_id FROM orders)",
    ),
    (
        &ALL,
        "SELECT name FROM employees WHERE salary > (SELECT avg(e2.salary) FROM employees e2 WHERE e2.department_id = employees.department_id)",
    ),
    (&ALL, "SELECT id FROM orders WHERE total > 10 ORDER BY 1"),
    (
        &ALL,
        "SELECT * FROM orders o JOIN order_items i ON i.order_id = o.id",
    ),
    (
        &[P],
        "SELECT date_trunc('month', ordered_at) AS month, sum(total) FROM orders GROUP BY 1 ORDER BY 1",
    ),
    (
        &[P],
        "SELECT extract(year FROM ordered_at) AS y, count(*) FROM orders GROUP BY y",
    ),
    (
        &[P],
        "SELECT id FROM orders WHERE ordered_at > now() - interval '30 days'",
    ),
    (
        &[P],
        "SELECT id FROM orders WHERE ordered_at::date = current_date",
    ),
    (
        &[P],
        "SELECT name, pg_typeof(total) FROM orders o JOIN customers c ON c.id = o.customer_id",
    ),
    (
        &[P],
        "SELECT string_agg(name, ', ' ORDER BY name) FROM departments",
    ),
    (
        &[P],
        "SELECT count(*) FILTER (WHERE status = 'open') FROM orders",
    ),
    (&[P], "SELECT g FROM generate_series(1, 10) AS g"),
    (&[P], "SELECT id FROM orders FETCH FIRST 5 ROWS ONLY"),
    (
        &[P],
        "SELECT c.name, l.total FROM customers c CROSS JOIN LATERAL (SELECT o.total FROM orders o WHERE o.customer_id = c.id ORDER BY o.total DESC LIMIT 1) l",
    ),
    (
        &[P],
        "SELECT DISTINCT ON (customer_id) customer_id, total FROM orders ORDER BY customer_id, total DESC",
    ),
    (&[P], "SELECT public.orders.id FROM public.orders"),
    (&[P], "SELECT id FROM orders WHERE status ILIKE 'op%'"),
    (&[P], "VALUES (1, 'a'), (2, 'b')"),
    (
        &[M],
        "SELECT DATE_FORMAT(ordered_at, '%Y-%m') AS month, SUM(total) FROM orders GROUP BY month",
    ),
    (
        &[M],
        "SELECT YEAR(ordered_at), COUNT(*) FROM orders GROUP BY YEAR(ordered_at)",
    ),
    (
        &[M],
        "SELECT id FROM orders WHERE ordered_at > DATE_SUB(NOW(), INTERVAL 30 DAY)",
    ),
    (
        &[M],
        "SELECT `name` FROM `customers` WHERE `city` = \"Paris\"",
    ),
    (
        &[M],
        "SELECT GROUP_CONCAT(name ORDER BY name SEPARATOR ', ') FROM departments",
    ),
    (&[M], "SELECT IFNULL(city, 'n/a') FROM customers"),
    (&[M], "SELECT id FROM orders LIMIT 10, 20"),
    (
        &[S],
        "SELECT strftime('%Y-%m', ordered_at) AS month, sum(total) FROM orders GROUP BY month",
    ),
    (
        &[S],
        "SELECT date(ordered_at), count(*) FROM orders WHERE ordered_at >= date('now', '-30 days') GROUP BY 1",
    ),
    (&[S], "SELECT group_concat(name, ', ') FROM departments"),
    (&[S], "SELECT ifnull(city, 'n/a') FROM customers"),
    (&[S], "SELECT id FROM orders WHERE status = \"open\""),
    (&[S], "SELECT \"name\" FROM \"customers\""),
    (
        &[S],
        "SELECT julianday('now') - julianday(ordered_at) AS age_days FROM orders",
    ),
    (
        &[M],
        "SELECT CURDATE(), status, COUNT(*) FROM orders GROUP BY status WITH ROLLUP",
    ),
    (
        &[P],
        "SELECT EXTRACT(epoch FROM ordered_at) FROM orders WHERE ordered_at >= DATE '2024-01-01'",
    ),
    (
        &[P],
        "SELECT ordered_at AT TIME ZONE 'UTC', age(now(), ordered_at), to_char(ordered_at, 'YYYY-MM') FROM orders",
    ),
    (
        &[P],
        "SELECT status, country, sum(total) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY ROLLUP (status, country)",
    ),
    (&[P], "SELECT current_date, current_timestamp, true, NULL"),
    (&[P], "SELECT id FROM orders ORDER BY total DESC NULLS LAST"),
    (
        &[P],
        "SELECT id, total, sum(total) OVER w FROM orders WINDOW w AS (PARTITION BY customer_id ORDER BY ordered_at)",
    ),
    (
        &ALL,
        "SELECT name AS n FROM customers UNION SELECT name FROM employees ORDER BY n",
    ),
    (
        &ALL,
        "SELECT order_id, product_id FROM order_items JOIN products ON products.id = order_items.product_id",
    ),
    (
        &[P, M],
        "WITH a AS (SELECT id AS order_id FROM orders) SELECT order_id, quantity FROM a JOIN order_items USING (order_id)",
    ),
    (&ALL, "SELECT c.name FROM customers c NATURAL JOIN orders"),
    (
        &ALL,
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) THEN 'buyer' ELSE 'lead' END AS kind FROM customers c",
    ),
    (
        &[P, M],
        "SELECT c.id FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY id",
    ),
    (
        &ALL,
        "SELECT id, status FROM customers JOIN orders USING (id)",
    ),
    (&ALL, "SELECT id, status FROM customers NATURAL JOIN orders"),
    (
        &ALL,
        "SELECT c.name AS name, p.name AS pname FROM customers c JOIN products p ON p.id = c.id ORDER BY name",
    ),
    (
        &ALL,
        "SELECT a.*, b.name FROM orders a JOIN customers b ON b.id = a.customer_id",
    ),
    (&ALL, "SELECT * FROM customers"),
    (
        &ALL,
        "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id",
    ),
    (
        &ALL,
        "SELECT x.total FROM (SELECT id, total FROM orders) x JOIN customers c ON c.id = x.id",
    ),
];

#[test]
fn legitimate_queries_pass() {
    let count: usize = LEGIT.iter().map(|(d, _)| d.len()).sum();
    assert!(count >= 60, "only {count} legitimate cases");
    let mut failures = Vec::new();
    for (dialects, sql) in LEGIT {
        for dialect in *dialects {
            if let Err(e) = check(*dialect, sql) {
                failures.push(format!("{dialect:?} {sql:?}: {e:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn nesting_is_an_error_not_an_overflow() {
    for dialect in ALL {
        let sql = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(
            check(dialect, &sql),
            Err(GuardError::TooDeep),
            "{dialect:?}"
        );
        let sql = format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200));
        assert!(check(dialect, &sql).is_err());
        // Operator chains build deep trees without parser recursion: the size cap bounds them.
        let budget = querent_sql::MAX_SQL_LEN - 64;
        for op in ["+1", "*1", "||1", " AND 1", "=1", "-1", " OR id", "::int"] {
            let sql = format!("SELECT 1{} FROM orders", op.repeat(budget / op.len()));
            assert_eq!(check(dialect, &sql), Err(GuardError::TooDeep), "{op}");
            // just under the cap: handled (accepted or refused) without overflowing
            let sql = format!(
                "SELECT 1{} FROM orders",
                op.repeat(querent_sql::MAX_OPERATORS - 1)
            );
            let _ = check(dialect, &sql);
        }
        let sql = format!("SELECT {}1", "-".repeat(budget));
        let _ = check(dialect, &sql);
        let sql = format!("SELECT {}1", "NOT ".repeat(budget / 4));
        let _ = check(dialect, &sql);
        let sql = format!(
            "SELECT 1 FROM orders WHERE {}",
            "id = 1 AND ".repeat(5_000) + "id = 2"
        );
        let _ = check(dialect, &sql);
        let sql = "SELECT 1".to_string() + &" ".repeat(querent_sql::MAX_SQL_LEN);
        assert!(matches!(
            check(dialect, &sql),
            Err(GuardError::TooLong { .. })
        ));
    }
}

#[test]
fn suggestions_and_codes() {
    match check(P, "SELECT * FROM custmers") {
        Err(GuardError::UnknownTable { name, suggestions }) => {
            assert_eq!(name, "custmers");
            assert_eq!(suggestions.first().map(String::as_str), Some("customers"));
        }
        other => panic!("{other:?}"),
    }
    match check(P, "SELECT c.nme FROM customers c") {
        Err(GuardError::UnknownColumn { name, suggestions }) => {
            assert_eq!(name, "c.nme");
            assert_eq!(suggestions.first().map(String::as_str), Some("c.name"));
        }
        other => panic!("{other:?}"),
    }
    // excluded objects are never suggested
    match check(P, "SELECT ssm FROM customers") {
        Err(GuardError::UnknownColumn { suggestions, .. }) => {
            assert!(!suggestions.iter().any(|s| s == "ssn"), "{suggestions:?}")
        }
        other => panic!("{other:?}"),
    }
    let e = check(P, "SELECT ssn FROM customers").unwrap_err();
    assert_eq!(e.code(), ErrorCode::PolicyViolation);
    let e = check(P, "DROP TABLE customers").unwrap_err();
    assert_eq!(e.code(), ErrorCode::GuardRejected);
    assert_eq!(
        e.to_string(),
        "only read-only queries are allowed, not DROP"
    );
}

#[test]
fn limit_is_added_or_lowered() {
    let v = check(P, "SELECT id FROM orders").unwrap();
    assert_eq!(v.sql(), "SELECT id FROM orders LIMIT 1001");
    assert_eq!((v.max_rows(), v.row_limit()), (1000, 1001));
    assert!(v.is_truncated(1001) && !v.is_truncated(1000));
    let v = check(P, "SELECT id FROM orders LIMIT 50000").unwrap();
    assert_eq!(v.sql(), "SELECT id FROM orders LIMIT 1001");
    let v = check(P, "SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 5").unwrap();
    assert_eq!(
        v.sql(),
        "SELECT id FROM orders ORDER BY id LIMIT 10 OFFSET 5"
    );
    assert_eq!(v.row_limit(), 10);
    let v = check(P, "SELECT id FROM orders LIMIT ALL").unwrap();
    assert_eq!(v.row_limit(), 1001);
    assert!(v.sql().ends_with("LIMIT 1001"), "{}", v.sql());
    let v = check(M, "SELECT id FROM orders LIMIT 5, 100000").unwrap();
    assert_eq!(v.sql(), "SELECT id FROM orders LIMIT 5, 1001");
    let v = check(S, "SELECT id FROM orders LIMIT (SELECT 10)").unwrap();
    assert_eq!(v.row_limit(), 1001);
    let v = check(P, "SELECT id FROM orders FETCH FIRST 99999 ROWS ONLY").unwrap();
    assert_eq!(v.row_limit(), 1001);
    assert!(v.sql().contains("1001"), "{}", v.sql());
    // inner limits are left alone; the outermost one is capped
    let v = check(P, "SELECT id FROM (SELECT id FROM orders LIMIT 5000) s").unwrap();
    assert_eq!(
        v.sql(),
        "SELECT id FROM (SELECT id FROM orders LIMIT 5000) s LIMIT 1001"
    );
    let v = check(P, "SELECT id FROM orders UNION SELECT id FROM customers").unwrap();
    assert!(v.sql().ends_with("LIMIT 1001"), "{}", v.sql());
    let v = check(
        P,
        "WITH x AS (SELECT id FROM orders) SELECT id FROM x LIMIT 3",
    )
    .unwrap();
    assert_eq!(v.row_limit(), 3);
}

#[test]
fn validated_sql_reports_tables_and_round_trips() {
    let v = check(
        P,
        "WITH x AS (SELECT customer_id FROM orders) SELECT c.name FROM customers c JOIN x ON x.customer_id = c.id",
    )
    .unwrap();
    assert_eq!(v.tables(), ["public.customers", "public.orders"]);
    assert_eq!(v.dialect(), P);
    // the normalised SQL passes the guard again unchanged
    let again = check(P, v.sql()).unwrap();
    assert_eq!(again.sql(), v.sql());
}

fn sql(dialect: Dialect, sql: &str) -> String {
    match check(dialect, sql) {
        Ok(v) => v.sql().to_string(),
        Err(e) => panic!("{dialect:?} {sql:?}: {e:?}"),
    }
}

#[test]
fn wildcards_expand_to_allowed_columns() {
    // catalog order, excluded columns left out, no qualifier over a single table
    assert_eq!(
        sql(P, "SELECT * FROM orders"),
        "SELECT id, customer_id, employee_id, status, total, ordered_at FROM orders LIMIT 1001"
    );
    assert_eq!(
        sql(P, "SELECT * FROM customers"),
        "SELECT id, name, email, city, country, created_at FROM customers LIMIT 1001"
    );
    assert_eq!(
        sql(S, "SELECT c.* FROM customers c WHERE c.id = 1"),
        "SELECT c.id, c.name, c.email, c.city, c.country, c.created_at FROM customers c WHERE c.id = 1 LIMIT 1001"
    );
    // joins: every column qualified with its table's alias or name
    assert_eq!(
        sql(
            M,
            "SELECT a.*, b.name FROM orders a JOIN customers b ON b.id = a.customer_id"
        ),
        "SELECT a.id, a.customer_id, a.employee_id, a.status, a.total, a.ordered_at, b.name FROM orders a JOIN customers b ON b.id = a.customer_id LIMIT 1001"
    );
    assert_eq!(
        sql(
            P,
            "SELECT * FROM employees JOIN departments d ON d.id = employees.department_id"
        ),
        "SELECT employees.id, employees.name, employees.department_id, employees.manager_id, employees.hired_at, employees.salary, d.id, d.name, d.budget FROM employees JOIN departments d ON d.id = employees.department_id LIMIT 1001"
    );
    assert_eq!(
        sql(
            P,
            "SELECT o.id, c.* FROM orders o JOIN public.customers c ON c.id = o.customer_id"
        ),
        "SELECT o.id, c.id, c.name, c.email, c.city, c.country, c.created_at FROM orders o JOIN public.customers c ON c.id = o.customer_id LIMIT 1001"
    );
    // COUNT(*) is untouched
    assert_eq!(
        sql(P, "SELECT count(*) FROM customers"),
        "SELECT count(*) FROM customers LIMIT 1001"
    );
    // CTEs and derived tables whose columns are known
    assert_eq!(
        sql(
            P,
            "WITH x AS (SELECT id, name AS n FROM customers) SELECT * FROM x"
        ),
        "WITH x AS (SELECT id, name AS n FROM customers) SELECT id, n FROM x LIMIT 1001"
    );
    assert_eq!(
        sql(P, "SELECT * FROM (SELECT * FROM departments) s"),
        "SELECT id, name, budget FROM (SELECT id, name, budget FROM departments) s LIMIT 1001"
    );
    assert_eq!(
        sql(
            P,
            "WITH x(a, b) AS (SELECT id, name FROM departments) SELECT x.* FROM x"
        ),
        "WITH x (a, b) AS (SELECT id, name FROM departments) SELECT x.a, x.b FROM x LIMIT 1001"
    );
    // table functions have known columns
    assert_eq!(
        sql(P, "SELECT * FROM generate_series(1, 3) g"),
        "SELECT g FROM generate_series(1, 3) g LIMIT 1001"
    );
    let v = sql(
        P,
        "SELECT * FROM orders JOIN order_items ON order_id = orders.id WHERE quantity > 1",
    );
    assert!(
        v.starts_with("SELECT orders.id, orders.customer_id, ")
            && v.contains("order_items.quantity"),
        "{v}"
    );
    assert_eq!(
        sql(
            P,
            "SELECT * FROM departments JOIN departments d2 USING (id)"
        ),
        "SELECT * FROM departments JOIN departments d2 USING(id) LIMIT 1001"
    );
    // expanded SQL passes again unchanged
    for dialect in ALL {
        let v = check(
            dialect,
            "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id",
        )
        .unwrap();
        assert!(!v.sql().contains("ssn"), "{}", v.sql());
        assert_eq!(check(dialect, v.sql()).unwrap().sql(), v.sql());
    }
}

#[test]
fn expanded_names_are_quoted_when_needed() {
    let schema = GuardSchema::new(vec![table(
        None,
        "Events",
        &["id", "createdAt", "order", "two words"],
    )]);
    let policy = GuardPolicy {
        max_rows: Some(10),
        ..GuardPolicy::default()
    };
    let v = validate(P, "SELECT * FROM \"Events\"", &schema, &policy).unwrap();
    assert_eq!(
        v.sql(),
        "SELECT id, \"createdAt\", \"order\", \"two words\" FROM \"Events\" LIMIT 11"
    );
    let v = validate(M, "SELECT e.* FROM Events e", &schema, &policy).unwrap();
    assert_eq!(
        v.sql(),
        "SELECT e.id, e.createdAt, e.`order`, e.`two words` FROM Events e LIMIT 11"
    );
}

fn masking_policy() -> GuardPolicy {
    GuardPolicy {
        masked_column_patterns: vec![
            "*email*".into(),
            "customers.city".into(),
            "*.salary".into(),
            "public.departments.budget".into(),
            "*.total".into(),
            "products.price".into(),
        ],
        ..policy()
    }
}

fn masked(dialect: Dialect, sql: &str) -> ValidatedSql {
    match validate(dialect, sql, &schema(), &masking_policy()) {
        Ok(v) => v,
        Err(e) => panic!("{dialect:?} {sql:?}: {e:?}"),
    }
}

/// What people see is what they wrote; what runs reads every governed table through a
/// derived table that shows only allowed columns, masked ones masked.
#[test]
fn governed_tables_are_substituted_in_what_runs() {
    let v = masked(P, "SELECT id, email FROM customers");
    assert_eq!(v.sql(), "SELECT id, email FROM customers LIMIT 1001");
    // The derived table carries the columns the query uses, masked ones masked.
    assert_eq!(
        v.executable(),
        r#"SELECT id, email FROM (SELECT "id", CASE WHEN "email" IS NULL THEN NULL ELSE '****' END AS "email" FROM "public"."customers") AS customers LIMIT 1001"#
    );
    assert_eq!(v.masked_columns(), ["email"]);
    // Whole-row references and `*` over USING/NATURAL joins take every allowed column.
    const CUSTOMERS: &str = r#"(SELECT "id", "name", CASE WHEN "email" IS NULL THEN NULL ELSE '****' END AS "email", CASE WHEN "city" IS NULL THEN NULL ELSE '****' END AS "city", "country", "created_at" FROM "public"."customers")"#;
    let v = masked(P, "SELECT row_to_json(c) FROM customers c");
    assert!(v.executable().contains(CUSTOMERS), "{}", v.executable());
    let v = masked(S, "SELECT * FROM customers NATURAL JOIN orders");
    assert!(
        v.executable()
            .contains(&CUSTOMERS.replace("\"public\".", "")),
        "{}",
        v.executable()
    );
    let v = masked(P, "SELECT count(*) FROM customers");
    assert_eq!(
        v.executable(),
        r#"SELECT count(*) FROM (SELECT NULL AS querent_no_columns FROM "public"."customers") AS customers LIMIT 1001"#
    );
    // aliases stay; qualified references keep working
    let v = masked(M, "SELECT c.email AS mail, c.name FROM customers c");
    assert_eq!(
        v.sql(),
        "SELECT c.email AS mail, c.name FROM customers c LIMIT 1001"
    );
    assert!(
        v.executable().contains(") AS c LIMIT 1001"),
        "{}",
        v.executable()
    );
    assert!(!v.executable().contains("ssn"), "{}", v.executable());
    assert_eq!(v.masked_columns(), ["mail"]);
    // a table without a policy is read by its exact, schema-qualified name
    let v = masked(P, "SELECT name FROM categories");
    assert_eq!(
        v.executable(),
        r#"SELECT name FROM "public"."categories" AS categories LIMIT 1001"#
    );
    let v = masked(P, "SELECT c.name FROM public.categories c");
    assert_eq!(
        v.executable(),
        r#"SELECT c.name FROM "public"."categories" c LIMIT 1001"#
    );
    // `schema.table.column` becomes `table.column`, which outer references keep
    let v = masked(P, "SELECT public.customers.name FROM public.customers");
    assert_eq!(
        v.sql(),
        "SELECT customers.name FROM public.customers LIMIT 1001"
    );
    // whatever the query does with a masked column, it only ever sees the mask
    for sql in [
        "SELECT row_to_json(c) FROM customers c",
        "SELECT s FROM customers c, unnest(ARRAY[c.email]) s",
        "SELECT e FROM customers c, LATERAL (VALUES (c.email)) v(e)",
        "SELECT name FROM customers WHERE email::int = 1",
        "SELECT (SELECT v.column1 FROM (VALUES (c.email)) v) FROM customers c",
    ] {
        let v = masked(P, sql);
        assert!(
            v.executable()
                .contains(r#"CASE WHEN "email" IS NULL THEN NULL ELSE '****' END AS "email""#),
            "{sql}: {}",
            v.executable()
        );
    }
    // output metadata: masked when a masked value flows into the column, not under COUNT
    let v = masked(
        P,
        "SELECT count(email), count(DISTINCT city) AS cities, upper(email) AS u FROM customers",
    );
    assert_eq!(v.masked_columns(), ["u"]);
    let v = masked(
        P,
        "WITH x AS (SELECT id, email FROM customers) SELECT x.email, id FROM x",
    );
    assert_eq!(v.masked_columns(), ["email"]);
    let v = masked(
        P,
        "SELECT name FROM products UNION SELECT email FROM customers",
    );
    assert_eq!(v.masked_columns(), ["name"]);
    let v = masked(M, "SELECT * FROM customers");
    assert_eq!(v.masked_columns(), ["email", "city"]);
    // the rewrite happens once: validating what people see again gives the same text
    for dialect in ALL {
        let v = masked(
            dialect,
            "SELECT c.*, e.salary FROM customers c JOIN employees e ON e.id = c.id",
        );
        assert_eq!(v.masked_columns(), ["email", "city", "salary"]);
        let again = masked(dialect, v.sql());
        assert_eq!(again.sql(), v.sql());
        assert_eq!(again.executable(), v.executable());
    }
    // exclusion still wins over masking, by name
    assert!(matches!(
        validate(
            P,
            "SELECT ssn, email FROM customers",
            &schema(),
            &masking_policy()
        ),
        Err(GuardError::PolicyViolation { .. })
    ));
}

/// CTE references are printed as the CTE was defined; reserved words are quoted.
#[test]
fn cte_references_are_printed_as_defined() {
    let v = check(
        P,
        "WITH \"Cust\" AS (SELECT id FROM customers) SELECT c.id FROM \"Cust\" c",
    )
    .unwrap();
    assert!(
        v.executable().contains("FROM \"Cust\" c"),
        "{}",
        v.executable()
    );
    // SQLite matches CTE names without regard to case: the reference is the CTE, printed
    // as defined.
    let v = check(
        S,
        "WITH Cust AS (SELECT id FROM customers) SELECT id FROM cust",
    )
    .unwrap();
    assert!(
        v.executable().ends_with("SELECT id FROM Cust LIMIT 1001"),
        "{}",
        v.executable()
    );
    // Columns named like reserved words are quoted for each dialect.
    let schema = GuardSchema::new(vec![table(
        Some("public"),
        "flags",
        &["id", "read", "only", "key"],
    )]);
    let policy = GuardPolicy {
        max_rows: Some(10),
        ..GuardPolicy::default()
    };
    let v = validate(M, "SELECT * FROM flags", &schema, &policy).unwrap();
    assert_eq!(
        v.sql(),
        "SELECT id, `read`, only, `key` FROM flags LIMIT 11"
    );
    let v = validate(P, "SELECT * FROM flags", &schema, &policy).unwrap();
    assert_eq!(
        v.sql(),
        "SELECT id, read, \"only\", key FROM flags LIMIT 11"
    );
}

/// Row filters apply inside the derived table, fenced against outer conditions.
#[test]
fn row_filters_apply_inside_the_derived_table() {
    let policy = GuardPolicy {
        row_filters: vec![querent_sql::RowFilter {
            table: "orders".into(),
            predicate: "status <> 'void'".into(),
        }],
        ..policy()
    };
    let v = validate(
        P,
        "SELECT count(*) FROM orders WHERE total > 10",
        &schema(),
        &policy,
    )
    .unwrap();
    assert_eq!(
        v.executable(),
        r#"SELECT count(*) FROM (SELECT "total" FROM "public"."orders" WHERE (status <> 'void') OFFSET 0) AS orders WHERE total > 10 LIMIT 1001"#
    );
    let v = validate(S, "SELECT id FROM orders", &schema(), &policy).unwrap();
    assert!(
        v.executable()
            .contains("WHERE (status <> 'void') LIMIT -1)"),
        "{}",
        v.executable()
    );
    // a filter that reads another table, or a function off the list, makes the policy invalid
    for predicate in [
        "customer_id IN (SELECT id FROM customers)",
        "pg_sleep(1) IS NULL",
        "nope = 1",
    ] {
        let bad = GuardPolicy {
            row_filters: vec![querent_sql::RowFilter {
                table: "orders".into(),
                predicate: predicate.into(),
            }],
            ..self::policy()
        };
        let e = validate(P, "SELECT id FROM orders", &schema(), &bad).unwrap_err();
        assert!(
            matches!(e, GuardError::InvalidPolicy { .. }),
            "{predicate}: {e:?}"
        );
    }
}

#[test]
fn ambiguous_columns_name_their_tables() {
    match check(
        P,
        "SELECT name FROM customers c JOIN products p ON p.id = c.id",
    ) {
        Err(GuardError::AmbiguousColumn { name, candidates }) => {
            assert_eq!(name, "name");
            assert_eq!(candidates, ["c", "p"]);
        }
        other => panic!("{other:?}"),
    }
    let e = check(
        M,
        "SELECT id FROM orders JOIN customers ON customers.id = customer_id",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "column `id` is ambiguous: qualify it with one of orders, customers"
    );
    assert_eq!(e.code(), ErrorCode::GuardRejected);
    // the innermost scope that has the column decides
    assert!(check(
        P,
        "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE EXISTS (SELECT 1 FROM products WHERE name = c.name)"
    )
    .is_ok());
}

/// Every legitimate SQLite statement, expanded and masked, still prepares and runs on a
/// real SQLite database with the test schema.
#[test]
fn legitimate_corpus_runs_on_sqlite_after_rewriting() {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE customers (id INTEGER, name TEXT, email TEXT, city TEXT, country TEXT, created_at TEXT, ssn TEXT);
         CREATE TABLE orders (id INTEGER, customer_id INTEGER, employee_id INTEGER, status TEXT, total REAL, ordered_at TEXT);
         CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, quantity INTEGER, unit_price REAL);
         CREATE TABLE products (id INTEGER, name TEXT, category_id INTEGER, price REAL, active INTEGER);
         CREATE TABLE categories (id INTEGER, name TEXT, parent_id INTEGER);
         CREATE TABLE employees (id INTEGER, name TEXT, department_id INTEGER, manager_id INTEGER, hired_at TEXT, salary REAL, password_hash TEXT);
         CREATE TABLE departments (id INTEGER, name TEXT, budget REAL);
         INSERT INTO customers VALUES (1, 'Ann', 'ann@x.org', 'Paris', 'FR', '2024-01-01', '111');
         INSERT INTO orders VALUES (10, 1, 1, 'open', 5.0, '2024-02-01');
         INSERT INTO employees VALUES (1, 'Eve', 1, NULL, '2020-01-01', 100.0, 'x');
         INSERT INTO departments VALUES (1, 'Sales', 1000.0);",
    )
    .unwrap();
    let mut failures = Vec::new();
    let mut masked_count = 0;
    let mut skipped = 0;
    for (dialects, sql) in LEGIT {
        if !dialects.contains(&S) {
            continue;
        }
        // statements of the corpus that SQLite itself does not take (`= ANY (…)`)
        if db.prepare(sql).is_err() {
            skipped += 1;
            continue;
        }
        for policy in [policy(), masking_policy()] {
            let v = match validate(S, sql, &schema(), &policy) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{sql:?}: {e:?}"));
                    continue;
                }
            };
            if v.executable().contains("'****'") {
                masked_count += 1;
            }
            let ran = db.prepare(v.executable()).and_then(|mut stmt| {
                let n = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    for i in 0..n {
                        row.get::<_, rusqlite::types::Value>(i)?;
                    }
                }
                Ok(())
            });
            if let Err(e) = ran {
                failures.push(format!("{sql:?} -> {:?}: {e}", v.executable()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(masked_count >= 20, "only {masked_count} masked statements");
    assert!(skipped <= 2, "{skipped} statements skipped");
}

/// Runs validated SQLite statements on a real database.
#[test]
fn rewritten_sql_runs_on_sqlite() {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE customers (id INTEGER, name TEXT, email TEXT, city TEXT, country TEXT, created_at TEXT, ssn TEXT);
         CREATE TABLE orders (id INTEGER, customer_id INTEGER, employee_id INTEGER, status TEXT, total REAL, ordered_at TEXT);
         INSERT INTO customers VALUES (1, 'Ann', 'ann@x.org', 'Paris', 'FR', '2024-01-01', '111'),
                                      (2, 'Bob', NULL, 'Lyon', 'FR', '2024-01-02', '222'),
                                      (3, 'Cy', 'ann@x.org', NULL, 'DE', '2024-01-03', '333');
         INSERT INTO orders VALUES (10, 1, NULL, 'open', 5.0, '2024-02-01'), (11, 3, NULL, 'paid', 7.0, '2024-02-02');",
    )
    .unwrap();
    let run = |sql: &str| -> (Vec<String>, Vec<Vec<Option<String>>>) {
        let v = masked(S, sql);
        let mut stmt = db
            .prepare(v.executable())
            .unwrap_or_else(|e| panic!("{}: {e}", v.executable()));
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let n = names.len();
        let rows = stmt
            .query_map([], |row| {
                (0..n)
                    .map(|i| {
                        row.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                            rusqlite::types::Value::Null => None,
                            rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                            rusqlite::types::Value::Real(r) => Some(r.to_string()),
                            rusqlite::types::Value::Text(t) => Some(t),
                            rusqlite::types::Value::Blob(_) => Some("<blob>".into()),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (names, rows)
    };
    let s = |v: &str| Some(v.to_string());

    let (names, rows) = run("SELECT * FROM customers ORDER BY id");
    assert_eq!(
        names,
        ["id", "name", "email", "city", "country", "created_at"]
    );
    assert_eq!(
        rows[0],
        [
            s("1"),
            s("Ann"),
            s("****"),
            s("****"),
            s("FR"),
            s("2024-01-01")
        ]
    );
    assert_eq!(rows[1][2], None);
    assert_eq!(rows[2][3], None);

    let (names, rows) = run("SELECT email, count(*) AS n FROM customers GROUP BY email ORDER BY n");
    assert_eq!(names, ["email", "n"]);
    assert_eq!(rows, [vec![None, s("1")], vec![s("****"), s("2")]]);

    // Grouping sees the mask, not the city: no query can tell two masked values apart.
    let (_, rows) = run("SELECT city, count(*) FROM customers GROUP BY city ORDER BY 2");
    assert_eq!(rows, [vec![None, s("1")], vec![s("****"), s("2")]]);
    let (_, rows) = run("SELECT city AS c, count(*) FROM customers GROUP BY c ORDER BY 2, 1");
    assert_eq!(rows.len(), 2, "{rows:?}");

    let (names, rows) = run(
        "WITH x AS (SELECT id, email FROM customers) SELECT x.email, o.status FROM x JOIN orders o ON o.customer_id = x.id ORDER BY o.id",
    );
    assert_eq!(names, ["email", "status"]);
    assert_eq!(
        rows,
        [vec![s("****"), s("open")], vec![s("****"), s("paid")]]
    );

    let (_, rows) = run(
        "SELECT name FROM customers WHERE id = 2 UNION ALL SELECT email FROM customers WHERE id = 1",
    );
    assert_eq!(rows, [vec![s("Bob")], vec![s("****")]]);

    let (_, rows) = run("SELECT count(email), count(DISTINCT email) FROM customers");
    assert_eq!(rows, [vec![s("2"), s("1")]]);

    let (names, rows) = run(
        "SELECT o.*, c.* FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email IS NOT NULL ORDER BY o.id",
    );
    assert_eq!(names.len(), 12);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][8], s("****"));
    // a filter on a masked column compares the mask: it cannot probe the values
    let (_, rows) = run("SELECT id FROM customers WHERE email LIKE 'ann%'");
    assert!(rows.is_empty(), "{rows:?}");
    let (_, rows) = run("SELECT id FROM customers WHERE substr(email, 1, 1) = 'a'");
    assert!(rows.is_empty(), "{rows:?}");
    // whatever the shape, no excluded column and no raw masked value comes out
    for sql in [
        "SELECT * FROM customers NATURAL JOIN orders",
        "SELECT * FROM customers JOIN orders USING (id)",
        "SELECT value FROM customers c, json_each(json_array(c.email, c.city))",
        "SELECT (SELECT max(x.e) FROM (SELECT c.email AS e) x) FROM customers c",
        "SELECT group_concat(email) FROM customers",
        "SELECT json_group_array(json_array(c.email)) FROM customers c",
    ] {
        let (_, rows) = run(sql);
        let text = format!("{rows:?}");
        for secret in ["ann@x.org", "Paris", "Lyon", "111", "222", "333"] {
            assert!(!text.contains(secret), "{sql}: {text}");
        }
    }
}

const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "WITH",
    "AS",
    "(",
    ")",
    ",",
    ";",
    "*",
    "orders",
    "customers",
    "id",
    "name",
    "o",
    ".",
    "JOIN",
    "ON",
    "=",
    "1",
    "'x'",
    "UNION",
    "LIMIT",
    "ORDER",
    "BY",
    "GROUP",
    "DELETE",
    "INSERT",
    "INTO",
    "UPDATE",
    "SET",
    "DROP",
    "TABLE",
    "FOR",
    "pg_sleep",
    "sleep",
    "count",
    "CASE",
    "WHEN",
    "THEN",
    "END",
    "NOT",
    "EXISTS",
    "IN",
    "+",
    "--",
    "/*",
    "*/",
    "\"",
    "`",
    "$$",
    "::",
    "RECURSIVE",
    "LATERAL",
    "VALUES",
    "OVER",
    "PARTITION",
    "ssn",
    "email",
    "city",
    "*",
    "c",
    "api_keys",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(sql in ".{0,300}") {
        for dialect in ALL {
            let _ = check(dialect, &sql);
        }
    }

    #[test]
    fn never_panics_on_token_soup(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..40)) {
        let sql = tokens.join(" ");
        for dialect in ALL {
            if let Ok(v) = check(dialect, &sql) {
                // whatever passes stays within the cap and passes again
                prop_assert!(v.row_limit() <= 1001);
                prop_assert!(check(dialect, v.sql()).is_ok(), "{} -> {}", sql, v.sql());
            }
            if let Ok(v) = validate(dialect, &sql, &schema(), &masking_policy()) {
                // masked SQL passes again and is not masked twice
                let again = validate(dialect, v.sql(), &schema(), &masking_policy());
                prop_assert_eq!(again.map(|a| a.sql().to_string()), Ok(v.sql().to_string()), "{}", sql);
            }
        }
    }
}

/// The benign corpus of the open suites (`../shared/eval`): every gold query of Spider dev
/// and Defog, validated against its SQLite database with no policy, must be accepted (at
/// least 98%), and what runs must return exactly what the gold query returns.
#[test]
fn gold_sql_of_the_open_suites_passes_and_means_the_same() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval");
    if !querent_test_gate::path("the evaluation suites", &root) {
        return;
    }
    let mut total = 0;
    let mut refused = Vec::new();
    let mut differ = Vec::new();
    for (suite, file) in [
        ("spider-dev", "questions.jsonl"),
        ("defog", "questions.jsonl"),
        ("defog", "questions_instruct_basic.jsonl"),
        ("defog", "questions_instruct_advanced.jsonl"),
    ] {
        let Ok(text) = std::fs::read_to_string(root.join(suite).join(file)) else {
            continue;
        };
        let mut dbs: std::collections::HashMap<String, (rusqlite::Connection, GuardSchema)> =
            std::collections::HashMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let db = json_field(line, "db");
            let golds = gold_sqls(line);
            let entry = dbs.entry(db.clone()).or_insert_with(|| {
                let path = root.join(suite).join("db").join(format!("{db}.sqlite"));
                let conn = rusqlite::Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap();
                let schema = sqlite_schema(&conn);
                (conn, schema)
            });
            for gold in golds {
                total += 1;
                let policy = GuardPolicy::default();
                match validate(S, &gold, &entry.1, &policy) {
                    Ok(v) => {
                        let want = run_sqlite(&entry.0, &gold);
                        let got = run_sqlite(&entry.0, v.executable());
                        if want.is_ok() && want != got {
                            differ.push(format!(
                                "{gold}\n   -> {}\n   {want:?} vs {got:?}",
                                v.executable()
                            ));
                        }
                    }
                    Err(e) => refused.push(format!("{gold}\n   {e}")),
                }
            }
        }
    }
    let accepted = total - refused.len();
    eprintln!(
        "gold SQL: {accepted}/{total} accepted ({:.2}%), {} with different results",
        100.0 * accepted as f64 / total.max(1) as f64,
        differ.len()
    );
    for r in refused.iter().take(40) {
        eprintln!("REFUSED {r}");
    }
    for d in differ.iter().take(20) {
        eprintln!("DIFFERS {d}");
    }
    assert!(total > 1000, "only {total} gold queries");
    assert!(
        accepted as f64 >= 0.98 * total as f64,
        "{} of {total} refused",
        refused.len()
    );
    assert!(
        differ.is_empty(),
        "{} queries changed meaning",
        differ.len()
    );
}

fn json_field(line: &str, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v[key].as_str().unwrap_or_default().to_string()
}

fn gold_sqls(line: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    match &v["gold_sql"] {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn sqlite_schema(conn: &rusqlite::Connection) -> GuardSchema {
    let mut tables = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
        .unwrap();
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for name in names {
        let mut cols = conn
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                name.replace('\'', "''")
            ))
            .unwrap();
        let columns: Vec<String> = cols
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        tables.push(GuardTable {
            schema: Some("main".into()),
            name,
            columns,
        });
    }
    GuardSchema::new(tables)
}

fn run_sqlite(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut r = Vec::with_capacity(n);
        for i in 0..n {
            let v: rusqlite::types::Value = row.get(i).map_err(|e| e.to_string())?;
            r.push(format!("{v:?}"));
        }
        out.push(r);
        if out.len() > 5000 {
            break;
        }
    }
    out.sort();
    Ok(out)
}

/// SQLite reads a double-quoted name that is no column as a string: the guard writes it as
/// one, except where the name might be an expression column without a name (refused as
/// such), and a quoted name that is a column stays a column.
#[test]
fn sqlite_double_quoted_strings() {
    let v = check(S, r#"SELECT name FROM customers WHERE country = "France""#).unwrap();
    assert_eq!(
        v.sql(),
        "SELECT name FROM customers WHERE country = 'France' LIMIT 1001"
    );
    let v = check(S, r#"SELECT "name" FROM customers"#).unwrap();
    assert_eq!(v.sql(), r#"SELECT "name" FROM customers LIMIT 1001"#);
    let e = check(
        S,
        r#"SELECT 1 FROM (SELECT count(*) FROM orders) AS t WHERE "zz" = 1"#,
    )
    .unwrap_err();
    assert_eq!(kind(&e), E::Unsupported, "{e:?}");
    assert!(e.to_string().contains("name the subquery"), "{e}");
    // PostgreSQL: a double-quoted name is only ever a name
    assert!(check(P, r#"SELECT name FROM customers WHERE country = "France""#).is_err());
}
