//! Fuzz target for the guard: arbitrary text → `validate` in every dialect → render → (for
//! SQLite) run on a real database holding protected values.
//!
//! Invariants, besides "never panics, never overflows the stack":
//! - what the guard accepts it accepts again, unchanged (`sql()` is a fixed point), and the
//!   text that runs is the same both times;
//! - the row cap is in force;
//! - SQLite: what runs, on an in-memory database seeded with an excluded table, an excluded
//!   column and a masked column, never returns or echoes one of their values (unless the
//!   input spells the value itself), and leaves the database unchanged.
//!
//! Run (nightly): `just fuzz-guard 600` from the repository root, or from this directory
//! `cargo +nightly fuzz run guard -- -max_total_time=600`; seeds: `scripts/fuzz-guard.sh`.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use querent_sql::{Dialect, GuardPolicy, GuardSchema, GuardTable, validate};

const PROTECTED: &[&str] = &["SSN-123", "alice@secret", "TOPSECRET"];

fn table(name: &str, columns: &[&str]) -> GuardTable {
    GuardTable {
        schema: None,
        name: name.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
    }
}

thread_local! {
    static DB: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
}

fn with_db<T>(f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
    DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        let conn = slot.get_or_insert_with(|| {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch(
                "CREATE TABLE customers (id INTEGER, name TEXT, email TEXT, city TEXT, ssn TEXT);
                 CREATE TABLE orders (id INTEGER, customer_id INTEGER, total REAL, status TEXT);
                 CREATE TABLE secrets (id INTEGER, secret_value TEXT);
                 INSERT INTO customers VALUES (1, 'Ann', 'alice@secret.example', 'Paris', 'SSN-123-45');
                 INSERT INTO orders VALUES (1, 1, 9.5, 'paid');
                 INSERT INTO secrets VALUES (1, 'TOPSECRET-1');
                 PRAGMA query_only = 1;",
            )
            .unwrap();
            conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, 1_000_000)
                .unwrap();
            // Stop runaway statements after a bounded amount of work.
            let _ = conn.progress_handler(10_000, Some(|| true));
            conn
        });
        f(conn)
    })
}

fn run(conn: &rusqlite::Connection, sql: &str) -> String {
    let mut out = String::new();
    let mut stmt = match conn.prepare(sql) {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    let n = stmt.column_count();
    let mut rows = match stmt.query([]) {
        Ok(r) => r,
        Err(e) => return e.to_string(),
    };
    for _ in 0..200 {
        match rows.next() {
            Ok(Some(row)) => {
                for i in 0..n {
                    if let Ok(v) = row.get::<_, rusqlite::types::Value>(i) {
                        out.push_str(&format!("{v:?}"));
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                out.push_str(&e.to_string());
                break;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let schema = GuardSchema::new(vec![
        table("customers", &["id", "name", "email", "city", "ssn"]),
        table("orders", &["id", "customer_id", "total", "status"]),
        table("secrets", &["id", "secret_value"]),
    ]);
    let policy = GuardPolicy {
        excluded_tables: vec!["secrets".into()],
        excluded_columns: vec!["customers.ssn".into()],
        masked_column_patterns: vec!["*email*".into()],
        max_rows: Some(100),
        ..GuardPolicy::default()
    };
    for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        let Ok(v) = validate(dialect, sql, &schema, &policy) else {
            continue;
        };
        assert!(v.row_limit() <= 101, "{sql:?}");
        let again = validate(dialect, v.sql(), &schema, &policy).unwrap_or_else(|e| {
            panic!("{dialect:?} {sql:?}: its own output {:?} refused: {e}", v.sql())
        });
        assert_eq!(again.sql(), v.sql(), "{dialect:?} {sql:?}");
        assert_eq!(again.executable(), v.executable(), "{dialect:?} {sql:?}");
        if dialect == Dialect::Sqlite {
            let seen = with_db(|conn| run(conn, v.executable()));
            for p in PROTECTED {
                assert!(
                    !seen.contains(p) || sql.contains(p),
                    "{sql:?} runs {:?} and returns {seen:?}",
                    v.executable()
                );
            }
        }
    }
});
