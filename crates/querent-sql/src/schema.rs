//! What the guard knows about a database, and the policy it enforces.

use std::collections::HashMap;

/// One table (or view) of the target database, as the guard sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardTable {
    /// The schema (namespace) it lives in, if the dialect has one.
    pub schema: Option<String>,
    /// The table name.
    pub name: String,
    /// Its column names.
    pub columns: Vec<String>,
}

impl GuardTable {
    /// The name as it should be reported: `schema.name` or just `name`.
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether the table has this column (case-insensitive).
    pub fn has_column(&self, column: &str) -> bool {
        self.column(column).is_some()
    }

    /// The catalog spelling of a column: the exact match when there is one, otherwise the
    /// first case-insensitive match.
    pub fn column(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| *c == column)
            .or_else(|| self.columns.iter().find(|c| c.eq_ignore_ascii_case(column)))
            .map(String::as_str)
    }
}

/// The tables and columns the guard checks references against. Lookups are
/// case-insensitive and go through a name index, so schemas with tens of thousands of
/// tables stay fast. Built from plain data, so it does not depend on how the snapshot was
/// obtained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardSchema {
    tables: Vec<GuardTable>,
    /// Lower-cased (ASCII) table name → positions in `tables`, in catalog order.
    by_name: HashMap<String, Vec<usize>>,
}

impl GuardSchema {
    /// A schema made of these tables.
    pub fn new(tables: Vec<GuardTable>) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::with_capacity(tables.len());
        for (i, t) in tables.iter().enumerate() {
            by_name
                .entry(t.name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
        Self { tables, by_name }
    }

    /// All tables.
    pub fn tables(&self) -> &[GuardTable] {
        &self.tables
    }

    /// Finds a table by (optional) schema and name, case-insensitively. Without a schema,
    /// a table with no schema or in `public`/`main` is preferred over other schemas.
    pub fn find(&self, schema: Option<&str>, name: &str) -> Option<&GuardTable> {
        let mut matches = self
            .by_name
            .get(&name.to_ascii_lowercase())?
            .iter()
            .map(|&i| &self.tables[i])
            .filter(|t| match (schema, &t.schema) {
                (None, _) => true,
                (Some(s), Some(ts)) => s.eq_ignore_ascii_case(ts),
                (Some(_), None) => false,
            });
        let first = matches.next()?;
        if schema.is_some() {
            return Some(first);
        }
        let preferred = |t: &GuardTable| match &t.schema {
            None => true,
            Some(s) => s.eq_ignore_ascii_case("public") || s.eq_ignore_ascii_case("main"),
        };
        if preferred(first) {
            return Some(first);
        }
        Some(matches.find(|t| preferred(t)).unwrap_or(first))
    }
}

/// The privacy policy and row cap the guard enforces for one connection.
///
/// `GuardPolicy::default()` enforces nothing beyond the guard's own rules (read-only
/// queries, allowed functions, no catalogs, existing names) and adds no row cap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GuardPolicy {
    /// Tables that may not be referenced at all: `name` or `schema.name`.
    pub excluded_tables: Vec<String>,
    /// Columns that may not be referenced: `table.column` or `schema.table.column`.
    pub excluded_columns: Vec<String>,
    /// Column name patterns (`*` wildcard; `column`, `table.column` or
    /// `schema.table.column`) whose values are masked in every output.
    pub masked_column_patterns: Vec<String>,
    /// Row filters: a table's rows are only those its predicate keeps.
    pub row_filters: Vec<RowFilter>,
    /// Whether catalog schemas and tables (`pg_catalog`, `information_schema`, `mysql`,
    /// `performance_schema`, `sys`, `sqlite_master`, …) may be read. Even then they must be
    /// in the schema the guard checks against.
    pub allow_catalogs: bool,
    /// The maximum number of rows to return: the guard applies `LIMIT max_rows + 1` so a
    /// caller can tell a truncated result. `None` adds no limit.
    pub max_rows: Option<u64>,
}

/// A row filter: only the rows of `table` for which `predicate` holds are visible.
///
/// The predicate is a SQL boolean expression over the table's own columns, in the
/// connection's dialect (`region = 'EU'`, `deleted_at IS NULL`). It may use the allowed
/// functions but no subqueries and no other table. The guard applies it inside the derived
/// table that replaces every reference to the table, so no query can see the other rows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RowFilter {
    /// The table: `name` or `schema.name`.
    pub table: String,
    /// The predicate.
    pub predicate: String,
}

impl GuardPolicy {
    /// The guard policy for a connection's privacy policy and a row cap.
    pub fn from_privacy(policy: &querent_domain::PrivacyPolicy, max_rows: u64) -> Self {
        Self {
            excluded_tables: policy.excluded_tables.clone(),
            excluded_columns: policy.excluded_columns.clone(),
            masked_column_patterns: policy.masked_column_patterns.clone(),
            row_filters: policy
                .row_filters
                .iter()
                .map(|f| RowFilter {
                    table: f.table.clone(),
                    predicate: f.predicate.clone(),
                })
                .collect(),
            allow_catalogs: false,
            max_rows: Some(max_rows),
        }
    }
}

impl GuardSchema {
    /// The guard's view of an introspected schema: every table and view with its columns.
    pub fn from_snapshot(snapshot: &querent_domain::schema::SchemaSnapshot) -> Self {
        Self::new(
            snapshot
                .tables
                .iter()
                .map(|t| GuardTable {
                    schema: t.schema.clone(),
                    name: t.name.clone(),
                    columns: t.columns.iter().map(|c| c.name.clone()).collect(),
                })
                .collect(),
        )
    }
}

impl GuardPolicy {
    /// Whether the table is excluded.
    pub fn table_excluded(&self, table: &GuardTable) -> bool {
        self.excluded_tables.iter().any(|e| names_table(e, table))
    }

    /// Whether the column of this table is excluded.
    pub fn column_excluded(&self, table: &GuardTable, column: &str) -> bool {
        self.excluded_columns.iter().any(|e| {
            eq_joined(e, &[&table.name, ".", column])
                || match &table.schema {
                    Some(s) => eq_joined(e, &[s, ".", &table.name, ".", column]),
                    None => false,
                }
        })
    }

    /// Whether the column of this table is masked: some pattern of `masked_column_patterns`
    /// matches it. A pattern is split at dots: `column`, `table.column` or
    /// `schema.table.column`, each part matched case-insensitively with `*` standing for any
    /// run of characters (so `*email*` matches every column whose name contains `email`,
    /// `*.ssn` every `ssn` column, `customers.phone` one column).
    pub fn column_masked(&self, table: &GuardTable, column: &str) -> bool {
        self.masked_column_patterns.iter().any(|pattern| {
            let mut parts = pattern.split('.');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(c), None, None, None) => glob(c, column),
                (Some(t), Some(c), None, None) => glob(t, &table.name) && glob(c, column),
                (Some(s), Some(t), Some(c), None) => {
                    glob(s, table.schema.as_deref().unwrap_or(""))
                        && glob(t, &table.name)
                        && glob(c, column)
                }
                _ => false,
            }
        })
    }

    /// The row filters that apply to the table.
    pub fn row_filters_for<'p>(
        &'p self,
        table: &GuardTable,
    ) -> impl Iterator<Item = &'p RowFilter> {
        self.row_filters
            .iter()
            .filter(move |f| names_table(&f.table, table))
    }

    /// Whether the table has anything to enforce (excluded or masked columns, row filters),
    /// so that every reference to it is replaced by a derived table.
    pub fn governs(&self, table: &GuardTable) -> bool {
        (!self.excluded_columns.is_empty() || !self.masked_column_patterns.is_empty())
            && table
                .columns
                .iter()
                .any(|c| self.column_excluded(table, c) || self.column_masked(table, c))
            || self.row_filters_for(table).next().is_some()
    }

    /// Whether any column of the table is masked.
    pub fn any_masked(&self, table: &GuardTable) -> bool {
        !self.masked_column_patterns.is_empty()
            && table.columns.iter().any(|c| self.column_masked(table, c))
    }

    /// The first excluded column of the table, if any (as `table.column`).
    pub fn first_excluded_column(&self, table: &GuardTable) -> Option<String> {
        table
            .columns
            .iter()
            .find(|c| self.column_excluded(table, c))
            .map(|c| format!("{}.{c}", table.name))
    }
}

/// Whether `name` (`name` or `schema.name`) names the table, ASCII case-insensitively.
fn names_table(name: &str, table: &GuardTable) -> bool {
    name.eq_ignore_ascii_case(&table.name)
        || match &table.schema {
            Some(s) => eq_joined(name, &[s, ".", &table.name]),
            None => false,
        }
}

/// Whether `text` equals the concatenation of `parts`, ASCII case-insensitively (without
/// building the concatenation).
fn eq_joined(text: &str, parts: &[&str]) -> bool {
    let mut rest = text.as_bytes();
    for part in parts {
        let part = part.as_bytes();
        if rest.len() < part.len() || !rest[..part.len()].eq_ignore_ascii_case(part) {
            return false;
        }
        rest = &rest[part.len()..];
    }
    rest.is_empty()
}

/// Whether `text` matches `pattern` (`*` = any run of characters), ASCII case-insensitively.
/// Matched on bytes: a literal run of the pattern is whole characters, so it can only match
/// the text at character boundaries, and this agrees with matching characters.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((bp, bt)) = backtrack {
            pi = bp + 1;
            ti = bt + 1;
            backtrack = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Levenshtein distance between two strings (case-insensitive, by chars).
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Up to three candidates close to `name`, best first.
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Vec<String> {
    let max = (name.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, String)> = Vec::new();
    for c in candidates {
        let d = levenshtein(name, c);
        if d <= max && !scored.iter().any(|(_, s)| s.eq_ignore_ascii_case(c)) {
            scored.push((d, c.to_string()));
        }
    }
    scored.sort();
    scored.into_iter().take(3).map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("Orders", "orders"), 0);
        assert_eq!(
            suggest("custmers", ["customers", "orders", "costumers"]),
            vec!["customers", "costumers"]
        );
        assert!(suggest("zzzzzz", ["customers"]).is_empty());
    }

    #[test]
    fn find_prefers_public() {
        let t = |s: Option<&str>, n: &str| GuardTable {
            schema: s.map(Into::into),
            name: n.into(),
            columns: vec![],
        };
        let schema = GuardSchema::new(vec![
            t(Some("audit"), "log"),
            t(Some("public"), "log"),
            t(None, "x"),
        ]);
        assert_eq!(
            schema.find(None, "LOG").and_then(|t| t.schema.as_deref()),
            Some("public")
        );
        assert_eq!(
            schema
                .find(Some("AUDIT"), "log")
                .and_then(|t| t.schema.as_deref()),
            Some("audit")
        );
        assert!(schema.find(Some("audit"), "x").is_none());
        assert!(schema.find(None, "X").is_some());
    }

    #[test]
    fn globbing_and_masks() {
        assert!(glob("*email*", "Work_EMAIL_2"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        // bytes, not characters: the same answers for text that is not ASCII
        assert!(glob("*é*", "café_x") && glob("caf*", "café") && glob("*É", "É"));
        assert!(!glob("*é", "cafe") && !glob("*É", "é") && !glob("ca?é", "café"));
        assert!(glob("*ü*ü", "aüübü") && !glob("*üx", "aüü"));
        assert!(eq_joined("Users.SSN", &["users", ".", "ssn"]));
        assert!(!eq_joined("users.ssn", &["users", ".", "ss"]));
        assert!(!eq_joined("users.ss", &["users", ".", "ssn"]));
        assert!(eq_joined("t.a.b", &["t", ".", "a.b"]));
        assert!(glob("phone", "PHONE"));
        assert!(!glob("phone", "phones"));
        let table = GuardTable {
            schema: Some("public".into()),
            name: "customers".into(),
            columns: vec!["id".into(), "email".into(), "phone".into(), "ssn".into()],
        };
        let p = |pats: &[&str]| GuardPolicy {
            masked_column_patterns: pats.iter().map(|s| s.to_string()).collect(),
            ..GuardPolicy::default()
        };
        assert!(p(&["*EMAIL*"]).column_masked(&table, "email"));
        assert!(!p(&["*email*"]).column_masked(&table, "id"));
        assert!(p(&["customers.phone"]).column_masked(&table, "phone"));
        assert!(!p(&["orders.phone"]).column_masked(&table, "phone"));
        assert!(p(&["*.ssn"]).column_masked(&table, "ssn"));
        assert!(p(&["public.*.ssn"]).column_masked(&table, "ssn"));
        assert!(!p(&["audit.*.ssn"]).column_masked(&table, "ssn"));
        // a table name containing the pattern does not mask its other columns
        let emails = GuardTable {
            schema: None,
            name: "emails".into(),
            columns: vec!["id".into()],
        };
        assert!(!p(&["*email*"]).column_masked(&emails, "id"));
        assert!(p(&["*email*"]).any_masked(&table));
        assert!(!p(&[]).any_masked(&table));
    }

    #[test]
    fn find_scales() {
        let tables: Vec<GuardTable> = (0..10_000)
            .map(|i| GuardTable {
                schema: Some(if i % 2 == 0 { "public" } else { "other" }.into()),
                name: format!("t{}", i / 2),
                columns: vec!["id".into()],
            })
            .collect();
        let schema = GuardSchema::new(tables);
        for i in 0..10_000 {
            let t = schema.find(None, &format!("T{}", i / 2)).unwrap();
            assert_eq!(t.schema.as_deref(), Some("public"));
        }
        assert!(schema.find(Some("OTHER"), "t4999").is_some());
        assert!(schema.find(None, "t5000").is_none());
    }

    #[test]
    fn policy_matching() {
        let table = GuardTable {
            schema: Some("public".into()),
            name: "users".into(),
            columns: vec!["id".into(), "ssn".into()],
        };
        let p = GuardPolicy {
            excluded_tables: vec!["PUBLIC.USERS".into()],
            excluded_columns: vec!["users.SSN".into()],
            max_rows: Some(10),
            ..GuardPolicy::default()
        };
        assert!(p.table_excluded(&table));
        assert!(p.column_excluded(&table, "ssn"));
        assert!(!p.column_excluded(&table, "id"));
        assert_eq!(
            p.first_excluded_column(&table).as_deref(),
            Some("users.ssn")
        );
        let q = GuardPolicy {
            excluded_tables: vec!["users".into(), "audit.users".into()],
            excluded_columns: vec!["Public.Users.Id".into()],
            row_filters: vec![RowFilter {
                table: "public.USERS".into(),
                predicate: "id > 0".into(),
            }],
            ..GuardPolicy::default()
        };
        let other = GuardTable {
            schema: Some("audit".into()),
            name: "users2".into(),
            columns: vec!["id".into()],
        };
        assert!(q.table_excluded(&table) && !q.table_excluded(&other));
        assert!(q.column_excluded(&table, "id") && !q.column_excluded(&table, "ssn"));
        assert!(!q.column_excluded(&other, "id"));
        assert_eq!(q.row_filters_for(&table).count(), 1);
        assert_eq!(q.row_filters_for(&other).count(), 0);
        assert!(q.governs(&table) && !q.governs(&other));
        assert!(!GuardPolicy::default().governs(&table));
    }
}
