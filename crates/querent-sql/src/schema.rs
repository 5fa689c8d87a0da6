//! What the guard knows about a database, and the policy it enforces.

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
        self.columns.iter().any(|c| c.eq_ignore_ascii_case(column))
    }
}

/// The tables and columns the guard checks references against. Lookups are
/// case-insensitive. Built from plain data, so it does not depend on how the snapshot was
/// obtained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardSchema {
    tables: Vec<GuardTable>,
}

impl GuardSchema {
    /// A schema made of these tables.
    pub fn new(tables: Vec<GuardTable>) -> Self {
        Self { tables }
    }

    /// All tables.
    pub fn tables(&self) -> &[GuardTable] {
        &self.tables
    }

    /// Finds a table by (optional) schema and name, case-insensitively. Without a schema,
    /// a table with no schema or in `public`/`main` is preferred over other schemas.
    pub fn find(&self, schema: Option<&str>, name: &str) -> Option<&GuardTable> {
        let mut matches = self
            .tables
            .iter()
            .filter(|t| t.name.eq_ignore_ascii_case(name))
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Tables that may not be referenced at all: `name` or `schema.name`.
    pub excluded_tables: Vec<String>,
    /// Columns that may not be referenced: `table.column` or `schema.table.column`.
    pub excluded_columns: Vec<String>,
    /// The maximum number of rows to return; the guard applies `LIMIT max_rows + 1`.
    pub max_rows: u64,
}

impl GuardPolicy {
    /// Whether the table is excluded.
    pub fn table_excluded(&self, table: &GuardTable) -> bool {
        let qualified = table.qualified_name();
        self.excluded_tables
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&table.name) || e.eq_ignore_ascii_case(&qualified))
    }

    /// Whether the column of this table is excluded.
    pub fn column_excluded(&self, table: &GuardTable, column: &str) -> bool {
        let short = format!("{}.{column}", table.name);
        let long = format!("{}.{column}", table.qualified_name());
        self.excluded_columns
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&short) || e.eq_ignore_ascii_case(&long))
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
    fn policy_matching() {
        let table = GuardTable {
            schema: Some("public".into()),
            name: "users".into(),
            columns: vec!["id".into(), "ssn".into()],
        };
        let p = GuardPolicy {
            excluded_tables: vec!["PUBLIC.USERS".into()],
            excluded_columns: vec!["users.SSN".into()],
            max_rows: 10,
        };
        assert!(p.table_excluded(&table));
        assert!(p.column_excluded(&table, "ssn"));
        assert!(!p.column_excluded(&table, "id"));
        assert_eq!(
            p.first_excluded_column(&table).as_deref(),
            Some("users.ssn")
        );
    }
}
