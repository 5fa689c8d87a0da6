//! What the examples share: a query's rows as a comparable multiset.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// The rows of a query as sorted strings (a multiset; the cells of a row sorted too, so
/// column order does not matter, as in `querent eval`), or `None` when it fails.
pub fn rows(conn: &Connection, sql: &str) -> Option<Vec<String>> {
    let mut st = conn.prepare(sql).ok()?;
    let n = st.column_count();
    let mut out: Vec<String> = st
        .query_map([], |r| {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => "NULL".to_owned(),
                    ValueRef::Integer(v) => format!("{}", v as f64),
                    ValueRef::Real(v) => format!("{:.4}", v),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Blob(b) => format!("{b:?}"),
                });
            }
            // Column order does not matter (as in `querent eval`).
            cells.sort();
            Ok(cells.join("\u{1f}"))
        })
        .ok()?
        .take(100_000)
        .collect::<Result<_, _>>()
        .ok()?;
    out.sort();
    Some(out)
}
