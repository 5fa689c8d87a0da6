//! What a [`PrivacyPolicy`] hides, decided once for everything that handles *values* of a
//! target outside the SQL guard: schema snapshots' sample values (served by the API, fed to
//! prompts, the offline translator, linking and semantic drafts), the value lists a
//! semantic model drafted from them, and what introspection may sample at all.
//!
//! The rules are the guard's (querent-sql `GuardPolicy`): excluded tables are `table` or
//! `schema.table`; excluded columns `table.column` or `schema.table.column`; masking
//! patterns `column`, `table.column` or `schema.table.column` with `*` wildcards. Names
//! compare case-insensitively (here with full Unicode lowercasing and trimmed entries, so
//! these helpers hide at least what the guard hides — hiding a sample too many is harmless,
//! one too few is a leak).

use crate::PrivacyPolicy;
use crate::schema::SchemaSnapshot;
use crate::semantic::SemanticModel;

fn same(entry: &str, name: &str) -> bool {
    entry.trim().to_lowercase() == name.to_lowercase()
}

fn qualified(schema: Option<&str>, rest: &str) -> Option<String> {
    schema.map(|s| format!("{s}.{rest}"))
}

/// `*`-wildcard match, case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.trim().to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            back = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((bp, bt)) = back {
            pi = bp + 1;
            ti = bt + 1;
            back = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl PrivacyPolicy {
    /// Whether the table (`schema` is `None` for SQLite) is excluded.
    pub fn excludes_table(&self, schema: Option<&str>, table: &str) -> bool {
        let long = qualified(schema, table);
        self.excluded_tables
            .iter()
            .any(|e| same(e, table) || long.as_deref().is_some_and(|l| same(e, l)))
    }

    /// Whether the column is excluded (by itself; see [`PrivacyPolicy::hides_values_of`]
    /// for "excluded or in an excluded table").
    pub fn excludes_column(&self, schema: Option<&str>, table: &str, column: &str) -> bool {
        let short = format!("{table}.{column}");
        let long = qualified(schema, &short);
        self.excluded_columns
            .iter()
            .any(|e| same(e, &short) || long.as_deref().is_some_and(|l| same(e, l)))
    }

    /// Whether some masking pattern matches the column.
    pub fn masks_column(&self, schema: Option<&str>, table: &str, column: &str) -> bool {
        self.masked_column_patterns.iter().any(|pattern| {
            let parts: Vec<&str> = pattern.split('.').collect();
            match parts.as_slice() {
                [c] => glob(c, column),
                [t, c] => glob(t, table) && glob(c, column),
                [s, t, c] => glob(s, schema.unwrap_or("")) && glob(t, table) && glob(c, column),
                _ => false,
            }
        })
    }

    /// Whether values of this column may never be shown outside a guarded query: it is
    /// masked, excluded, or in an excluded table. Sample values of such columns are never
    /// read, stored, served or put in a prompt.
    pub fn hides_values_of(&self, schema: Option<&str>, table: &str, column: &str) -> bool {
        self.excludes_table(schema, table)
            || self.excludes_column(schema, table, column)
            || self.masks_column(schema, table, column)
    }
}

impl SchemaSnapshot {
    /// Drops the sample values the policy hides (masked and excluded columns, every column
    /// of an excluded table); returns how many columns lost their samples. The structure
    /// (and so the fingerprint) does not change: what a policy does to names is the
    /// guard's and the prompt renderer's business, this only protects values.
    pub fn strip_protected_samples(&mut self, policy: &PrivacyPolicy) -> usize {
        let mut stripped = 0;
        for t in &mut self.tables {
            for c in &mut t.columns {
                if !c.sample_values.is_empty()
                    && policy.hides_values_of(t.schema.as_deref(), &t.name, &c.name)
                {
                    c.sample_values = Vec::new();
                    stripped += 1;
                }
            }
        }
        stripped
    }
}

impl SemanticModel {
    /// Drops the value lists and value mappings the model keeps for columns whose values
    /// the policy hides (they were drafted from samples, maybe before the column was
    /// protected); returns how many columns lost some.
    pub fn strip_protected_values(&mut self, policy: &PrivacyPolicy) -> usize {
        let mut stripped = 0;
        for t in &mut self.tables {
            let (schema, table) = match t.table.rsplit_once('.') {
                Some((s, n)) => (Some(s.to_owned()), n.to_owned()),
                None => (None, t.table.clone()),
            };
            for c in &mut t.columns {
                if (!c.values.is_empty() || !c.value_mappings.is_empty())
                    && policy.hides_values_of(schema.as_deref(), &table, &c.column)
                {
                    c.values = Vec::new();
                    c.value_mappings = Vec::new();
                    stripped += 1;
                }
            }
        }
        stripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
    use crate::schema::{ColumnInfo, TableInfo, TableKind};

    fn table(schema: Option<&str>, name: &str, cols: &[&str]) -> TableInfo {
        TableInfo {
            schema: schema.map(str::to_owned),
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            columns: cols
                .iter()
                .map(|c| ColumnInfo {
                    name: (*c).into(),
                    data_type: "text".into(),
                    nullable: true,
                    default: None,
                    comment: None,
                    sample_values: vec![format!("{name}-{c}-value")],
                })
                .collect(),
            primary_key: vec![],
            unique_constraints: vec![],
            foreign_keys: vec![],
            row_estimate: None,
        }
    }

    #[test]
    fn samples_of_masked_excluded_columns_and_excluded_tables_are_dropped() {
        let mut snap = SchemaSnapshot {
            dialect: Dialect::Postgres,
            database: None,
            fingerprint: "f".into(),
            taken_at: 0,
            tables: vec![
                table(
                    Some("public"),
                    "customers",
                    &["name", "Email", "ssn", "tier", "phone"],
                ),
                table(Some("public"), "secrets", &["label"]),
                table(Some("hr"), "staff", &["salary", "dept"]),
                table(Some("public"), "orders", &["status", "ssn"]),
            ],
        };
        let policy = PrivacyPolicy {
            excluded_tables: vec![" PUBLIC.Secrets ".into()],
            excluded_columns: vec!["customers.SSN".into(), "hr.staff.salary".into()],
            masked_column_patterns: vec![
                "*email*".into(),
                "customers.phone".into(),
                "*.ssn".into(),
            ],
            row_filters: Vec::new(),
        };
        let before = snap.fingerprint.clone();
        assert_eq!(snap.strip_protected_samples(&policy), 6);
        let kept: Vec<String> = snap
            .tables
            .iter()
            .flat_map(|t| t.columns.iter())
            .flat_map(|c| c.sample_values.clone())
            .collect();
        assert_eq!(
            kept,
            vec![
                "customers-name-value",
                "customers-tier-value",
                "staff-dept-value",
                "orders-status-value"
            ]
        );
        assert_eq!(snap.fingerprint, before);
        // Idempotent.
        assert_eq!(snap.strip_protected_samples(&policy), 0);
    }

    #[test]
    fn a_models_values_of_protected_columns_are_dropped() {
        use crate::semantic::{SemanticColumn, SemanticTable, ValueMapping};
        let column = |name: &str| SemanticColumn {
            column: name.into(),
            data_type: None,
            display_name: None,
            description: None,
            synonyms: vec![],
            values: vec![format!("{name}-value")],
            value_mappings: vec![ValueMapping {
                phrase: "p".into(),
                value: format!("{name}-mapped"),
            }],
        };
        let mut model = SemanticModel {
            connection_id: crate::ConnectionId::new(),
            version: 1,
            schema_fingerprint: "f".into(),
            description: None,
            tables: vec![
                SemanticTable {
                    table: "public.customers".into(),
                    display_name: None,
                    description: None,
                    synonyms: vec![],
                    columns: vec![column("email"), column("tier")],
                },
                SemanticTable {
                    table: "secrets".into(),
                    display_name: None,
                    description: None,
                    synonyms: vec![],
                    columns: vec![column("label")],
                },
            ],
            joins: vec![],
            metrics: vec![],
            updated_at: 0,
        };
        let policy = PrivacyPolicy {
            excluded_tables: vec!["secrets".into()],
            excluded_columns: vec![],
            masked_column_patterns: vec!["customers.email".into()],
            row_filters: Vec::new(),
        };
        assert_eq!(model.strip_protected_values(&policy), 2);
        let text = serde_json::to_string(&model).unwrap();
        assert!(
            !text.contains("email-") && !text.contains("label-"),
            "{text}"
        );
        assert!(text.contains("tier-value") && text.contains("tier-mapped"));
    }

    #[test]
    fn names_compare_like_the_guard_and_a_bit_wider() {
        let p = PrivacyPolicy {
            excluded_tables: vec!["Orders".into()],
            excluded_columns: vec!["main.people.ÉMAIL".into()],
            masked_column_patterns: vec!["s*.*.tok*n".into(), "a.b.c.d".into()],
            row_filters: Vec::new(),
        };
        assert!(p.excludes_table(None, "orders"));
        assert!(p.excludes_table(Some("sales"), "ORDERS"));
        assert!(!p.excludes_table(None, "orders_archive"));
        assert!(p.excludes_column(Some("main"), "people", "émail"));
        assert!(!p.excludes_column(None, "people", "émail"));
        assert!(p.masks_column(Some("sales"), "x", "TOKEN"));
        assert!(!p.masks_column(None, "x", "token"));
        assert!(!p.hides_values_of(Some("sales"), "x", "tokens"));
        assert!(p.hides_values_of(Some("sales"), "orders", "id"));
    }
}
