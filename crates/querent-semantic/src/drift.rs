//! Drift: how the live schema differs from what a saved semantic model describes — tables
//! and columns dropped, likely renamed or retyped, new ones the model does not describe,
//! and the model's references that no longer resolve (see [`DriftReport`]).

use std::collections::HashSet;

use querent_domain::PrivacyPolicy;
use querent_domain::schema::{SchemaSnapshot, TableInfo};
use querent_domain::semantic::{
    BrokenReference, ColumnRef, DriftReport, RenamedColumn, RenamedTable, SemanticModel,
    SemanticTable, TypeChange,
};

use crate::model_check::{
    Unresolved, column_excluded, describe, edit_distance, reference_name, references,
    resolve_reference, resolve_table, table_excluded,
};

/// Compares `model` with the live `snapshot`; see [`drift_with_policy`].
pub fn drift(model: &SemanticModel, snapshot: &SchemaSnapshot) -> DriftReport {
    drift_with_policy(model, snapshot, &PrivacyPolicy::default())
}

/// Compares `model` with the live `snapshot`, seeing only what `policy` allows (an
/// excluded table is neither "new" nor a rename target; a model reference to it is
/// broken).
///
/// - A described table that no longer resolves is *dropped*, unless a table the model
///   does not describe has exactly its described columns: then it was *renamed*.
/// - In a table present on both sides, a described column that is gone is *dropped* and
///   a live column the model does not describe is *new*; a dropped and a new column of
///   the same declared type are paired as a *rename* (when several new columns qualify,
///   the most similar name wins; when the model recorded no type, only a lone dropped and
///   a lone new column are paired).
/// - A described column whose recorded type differs from the live one (ignoring case and
///   spacing) is a *type change*.
/// - Every [reference](crate::references) that does not resolve is *broken*, with its
///   location in the model and, for a rename, the new name.
pub fn drift_with_policy(
    model: &SemanticModel,
    snapshot: &SchemaSnapshot,
    policy: &PrivacyPolicy,
) -> DriftReport {
    let visible: Vec<&TableInfo> = snapshot
        .tables
        .iter()
        .filter(|t| !table_excluded(policy, t))
        .collect();
    // Each described table: the live table it resolves to, if any.
    let resolved: Vec<Option<&TableInfo>> = model
        .tables
        .iter()
        .map(|t| {
            resolve_table(snapshot, &t.table)
                .ok()
                .filter(|live| !table_excluded(policy, live))
        })
        .collect();
    let described: HashSet<*const TableInfo> = resolved
        .iter()
        .flatten()
        .map(|t| *t as *const TableInfo)
        .collect();
    let mut new_tables: Vec<&TableInfo> = visible
        .iter()
        .copied()
        .filter(|t| !described.contains(&(*t as *const TableInfo)))
        .collect();

    let mut report = DriftReport {
        model_version: model.version,
        model_fingerprint: model.schema_fingerprint.clone(),
        schema_fingerprint: snapshot.fingerprint.clone(),
        fingerprint_changed: model.schema_fingerprint != snapshot.fingerprint,
        ..DriftReport::default()
    };

    for (mt, live) in model.tables.iter().zip(&resolved) {
        match live {
            None => match take_renamed_table(mt, &mut new_tables, policy) {
                Some(to) => report.renamed_tables.push(RenamedTable {
                    from: mt.table.clone(),
                    to: reference_name(snapshot, to),
                }),
                None => report.dropped_tables.push(mt.table.clone()),
            },
            Some(live) => compare_columns(mt, live, policy, &mut report),
        }
    }
    report.new_tables = new_tables
        .iter()
        .map(|t| reference_name(snapshot, t))
        .collect();

    let mut bad_tables: HashSet<String> = HashSet::new();
    for r in references(model) {
        let Err(why) = resolve_reference(snapshot, policy, &r) else {
            continue;
        };
        if r.column.is_none() {
            bad_tables.insert(r.table.clone());
        } else if bad_tables.contains(&r.table) {
            continue;
        }
        let renamed = match (&why, &r.column) {
            (Unresolved::MissingTable, None) => report
                .renamed_tables
                .iter()
                .find(|t| t.from == r.table)
                .map(|t| t.to.clone()),
            (Unresolved::MissingColumn, Some(c)) => report
                .renamed_columns
                .iter()
                .find(|rc| same_table(snapshot, &rc.table, &r.table) && rc.from == *c)
                .map(|rc| rc.to.clone()),
            _ => None,
        };
        report.broken_references.push(BrokenReference {
            problem: describe(snapshot, policy, &r, &why, renamed.as_deref()),
            reference: r.name(),
            location: r.location,
        });
    }

    report.drifted = !(report.dropped_tables.is_empty()
        && report.renamed_tables.is_empty()
        && report.dropped_columns.is_empty()
        && report.renamed_columns.is_empty()
        && report.type_changes.is_empty()
        && report.new_tables.is_empty()
        && report.new_columns.is_empty()
        && report.broken_references.is_empty());
    report
}

/// Whether two model spellings of a table name the same live table.
fn same_table(snapshot: &SchemaSnapshot, a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (resolve_table(snapshot, a), resolve_table(snapshot, b)),
            (Ok(x), Ok(y)) if std::ptr::eq(x, y)
        )
}

/// The new table whose allowed columns are exactly the columns `mt` describes, removed
/// from `new_tables`; `None` when there is not exactly one.
fn take_renamed_table<'a>(
    mt: &SemanticTable,
    new_tables: &mut Vec<&'a TableInfo>,
    policy: &PrivacyPolicy,
) -> Option<&'a TableInfo> {
    if mt.columns.is_empty() {
        return None;
    }
    let wanted: HashSet<&str> = mt.columns.iter().map(|c| c.column.as_str()).collect();
    let matches: Vec<usize> = new_tables
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            let cols: HashSet<&str> = t
                .columns
                .iter()
                .filter(|c| !column_excluded(policy, t, &c.name))
                .map(|c| c.name.as_str())
                .collect();
            cols == wanted
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Some(new_tables.remove(*i)),
        _ => None,
    }
}

/// Declared types compared without case or spacing differences.
fn normalize_type(t: &str) -> String {
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn compare_columns(
    mt: &SemanticTable,
    live: &TableInfo,
    policy: &PrivacyPolicy,
    report: &mut DriftReport,
) {
    let described: HashSet<&str> = mt.columns.iter().map(|c| c.column.as_str()).collect();
    let mut added: Vec<(&str, &str)> = live
        .columns
        .iter()
        .filter(|c| !described.contains(c.name.as_str()) && !column_excluded(policy, live, &c.name))
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    let mut dropped: Vec<(&str, Option<&str>)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for c in &mt.columns {
        if !seen.insert(c.column.as_str()) {
            continue;
        }
        match live.column(&c.column) {
            Some(lc) if !column_excluded(policy, live, &lc.name) => {
                if let Some(old) = &c.data_type
                    && normalize_type(old) != normalize_type(&lc.data_type)
                {
                    report.type_changes.push(TypeChange {
                        table: mt.table.clone(),
                        column: c.column.clone(),
                        from: old.clone(),
                        to: lc.data_type.clone(),
                    });
                }
            }
            _ => dropped.push((c.column.as_str(), c.data_type.as_deref())),
        }
    }
    let lone_pair = dropped.len() == 1 && added.len() == 1;
    for (name, ty) in dropped {
        let candidates: Vec<usize> = added
            .iter()
            .enumerate()
            .filter(|(_, (_, live_ty))| match ty {
                Some(t) => normalize_type(t) == normalize_type(live_ty),
                None => lone_pair,
            })
            .map(|(i, _)| i)
            .collect();
        match pick_most_similar(name, &candidates, &added) {
            Some(i) => {
                let (to, _) = added.remove(i);
                report.renamed_columns.push(RenamedColumn {
                    table: mt.table.clone(),
                    from: name.to_owned(),
                    to: to.to_owned(),
                });
            }
            None => report.dropped_columns.push(ColumnRef {
                table: mt.table.clone(),
                column: name.to_owned(),
            }),
        }
    }
    report
        .new_columns
        .extend(added.into_iter().map(|(name, _)| ColumnRef {
            table: mt.table.clone(),
            column: name.to_owned(),
        }));
}

/// Of the candidate indexes into `added`, the one whose name is closest to `name`; `None`
/// when there is none or the closest is tied.
fn pick_most_similar(name: &str, candidates: &[usize], added: &[(&str, &str)]) -> Option<usize> {
    let mut scored: Vec<(usize, usize)> = candidates
        .iter()
        .map(|&i| {
            (
                edit_distance(&name.to_lowercase(), &added[i].0.to_lowercase()),
                i,
            )
        })
        .collect();
    scored.sort();
    match scored.as_slice() {
        [] => None,
        [(_, i)] => Some(*i),
        [(a, i), (b, _), ..] => (a < b).then_some(*i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::draft;
    use querent_domain::Dialect;
    use querent_domain::schema::{ColumnInfo, TableKind};
    use querent_domain::semantic::Metric;

    fn col(name: &str, ty: &str) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: ty.into(),
            nullable: false,
            default: None,
            comment: None,
            sample_values: vec![],
        }
    }

    fn table(name: &str, cols: &[(&str, &str)]) -> TableInfo {
        TableInfo {
            schema: None,
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            columns: cols.iter().map(|(n, t)| col(n, t)).collect(),
            primary_key: vec!["id".into()],
            unique_constraints: vec![],
            foreign_keys: vec![],
            row_estimate: None,
        }
    }

    fn snapshot(tables: Vec<TableInfo>) -> SchemaSnapshot {
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

    fn before() -> SchemaSnapshot {
        snapshot(vec![
            table(
                "orders",
                &[
                    ("id", "INTEGER"),
                    ("customer_id", "INTEGER"),
                    ("total", "NUMERIC"),
                    ("note", "TEXT"),
                    ("placed", "DATE"),
                ],
            ),
            table("customers", &[("id", "INTEGER"), ("name", "TEXT")]),
            table("legacy", &[("id", "INTEGER")]),
            table("tags", &[("id", "INTEGER"), ("label", "TEXT")]),
        ])
    }

    fn model() -> SemanticModel {
        let mut m = draft(&before(), &PrivacyPolicy::default());
        m.version = 3;
        m.metrics.push(Metric {
            name: "revenue".into(),
            description: None,
            expression: "SUM(orders.total)".into(),
            table: "legacy".into(),
            synonyms: vec![],
        });
        m
    }

    #[test]
    fn no_drift_against_the_schema_it_was_drafted_from() {
        let r = drift(&model(), &before());
        assert!(!r.drifted, "{r:?}");
        assert!(!r.fingerprint_changed);
        assert_eq!(r.model_version, 3);
    }

    #[test]
    fn renames_drops_type_changes_and_additions() {
        let after = snapshot(vec![
            table(
                "orders",
                &[
                    ("id", "INTEGER"),
                    ("customer_id", "INTEGER"),
                    ("amount", "NUMERIC"),
                    ("placed", "TIMESTAMP"),
                    ("channel", "TEXT"),
                ],
            ),
            table("customers", &[("id", "INTEGER"), ("name", "TEXT")]),
            table("labels", &[("id", "INTEGER"), ("label", "TEXT")]),
            table("invoices", &[("id", "INTEGER"), ("number", "TEXT")]),
        ]);
        let r = drift(&model(), &after);
        assert!(r.drifted && r.fingerprint_changed);
        // Paired by type: NUMERIC `total` → `amount`, TEXT `note` → `channel`.
        assert_eq!(
            r.renamed_columns,
            [
                RenamedColumn {
                    table: "orders".into(),
                    from: "total".into(),
                    to: "amount".into()
                },
                RenamedColumn {
                    table: "orders".into(),
                    from: "note".into(),
                    to: "channel".into()
                }
            ]
        );
        assert_eq!(r.dropped_columns, []);
        assert_eq!(r.new_columns, []);
        assert_eq!(r.renamed_tables.len(), 1);
        assert_eq!(r.renamed_tables[0].from, "tags");
        assert_eq!(r.renamed_tables[0].to, "labels");
        assert_eq!(r.dropped_tables, ["legacy"]);
        assert_eq!(r.new_tables, ["invoices"]);
        assert_eq!(
            r.type_changes,
            [TypeChange {
                table: "orders".into(),
                column: "placed".into(),
                from: "DATE".into(),
                to: "TIMESTAMP".into()
            }]
        );
        let broken: Vec<(String, String)> = r
            .broken_references
            .iter()
            .map(|b| (b.location.clone(), b.problem.clone()))
            .collect();
        let orders_ix = model()
            .tables
            .iter()
            .position(|t| t.table == "orders")
            .unwrap();
        let total_ix = model().tables[orders_ix]
            .columns
            .iter()
            .position(|c| c.column == "total")
            .unwrap();
        assert!(
            broken.contains(&(
                format!("tables[{orders_ix}].columns[{total_ix}].column"),
                "column \"orders.total\" does not exist (renamed to \"amount\"?)".into()
            )),
            "{broken:?}"
        );
        assert!(
            broken.iter().any(|(l, p)| l.ends_with("].table")
                && p.contains("\"tags\" does not exist (renamed to \"labels\"?)")),
            "{broken:?}"
        );
        assert!(
            broken.contains(&(
                "metrics[0].table".into(),
                "table \"legacy\" does not exist".into()
            )),
            "{broken:?}"
        );
    }

    #[test]
    fn ambiguous_renames_stay_drops_and_additions() {
        let after = snapshot(vec![
            table(
                "orders",
                &[
                    ("id", "INTEGER"),
                    ("customer_id", "INTEGER"),
                    ("x", "NUMERIC"),
                    ("y", "NUMERIC"),
                    ("note", "TEXT"),
                    ("placed", "DATE"),
                ],
            ),
            table("customers", &[("id", "INTEGER"), ("name", "TEXT")]),
            table("legacy", &[("id", "INTEGER")]),
            table("tags", &[("id", "INTEGER"), ("label", "TEXT")]),
        ]);
        let r = drift(&model(), &after);
        assert_eq!(r.renamed_columns, []);
        assert_eq!(
            r.dropped_columns,
            [ColumnRef {
                table: "orders".into(),
                column: "total".into()
            }]
        );
        assert_eq!(r.new_columns.len(), 2);
    }

    #[test]
    fn the_policy_hides_excluded_objects() {
        let mut after = before();
        after.tables.push(table("secrets", &[("id", "INTEGER")]));
        let orders = after
            .tables
            .iter()
            .position(|t| t.name == "orders")
            .unwrap();
        after.tables[orders].columns.push(col("ssn", "TEXT"));
        after.normalize();
        let policy = PrivacyPolicy {
            excluded_tables: vec!["secrets".into(), "customers".into()],
            excluded_columns: vec!["orders.ssn".into()],
            masked_column_patterns: vec![],
            row_filters: Vec::new(),
        };
        let r = drift_with_policy(&model(), &after, &policy);
        assert_eq!(r.new_tables, Vec::<String>::new());
        assert_eq!(r.new_columns, []);
        assert_eq!(r.dropped_tables, ["customers"]);
        assert!(
            r.broken_references.iter().any(|b| b
                .problem
                .contains("excluded by the connection's privacy policy")),
            "{:?}",
            r.broken_references
        );
    }

    #[test]
    fn the_report_serialises() {
        let r = drift(&model(), &before());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["model_version"], 3);
        assert_eq!(json["renamed_columns"], serde_json::json!([]));
    }
}
