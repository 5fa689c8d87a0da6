//! A first semantic model drafted from a schema snapshot with generic rules only (no
//! provider, nothing specific to a database): display names from identifiers, descriptions
//! from catalog comments, synonyms from word forms and common abbreviations, join paths
//! from declared foreign keys plus ones inferred from names and types, and value lists of
//! low-cardinality columns from sampled values. What the privacy policy excludes never
//! appears, and masked columns get no values.

use std::collections::HashSet;

use querent_domain::schema::{ColumnInfo, SchemaSnapshot, TableInfo};
use querent_domain::semantic::{
    JoinCardinality, JoinPath, JoinSource, SemanticColumn, SemanticModel, SemanticTable,
};
use querent_domain::{ConnectionId, PrivacyPolicy};

use crate::model_check::{column_excluded, column_masked, reference_name, table_excluded};
use crate::text::{identifier_abbreviation, stem, words};

/// Sampled value lists longer than this are not copied into a draft: the column is not
/// low-cardinality enough for a list to help.
pub const MAX_DRAFT_VALUES: usize = 50;

/// Drafts a semantic model of `snapshot`, leaving out whatever `policy` excludes.
///
/// The draft is version 0 of no connection (its `connection_id` is the nil id): the caller
/// sets both before storing it. Its fingerprint is the snapshot's, and `updated_at` the
/// snapshot's `taken_at`. Tables keep the snapshot's order; joins list declared foreign
/// keys first (`many_to_one`, or `one_to_one` when the referencing columns are unique),
/// then inferred ones (`orders.customer_id` → `customers.id` when no key is declared, the
/// names match and the types are compatible). It has no metrics.
pub fn draft(snapshot: &SchemaSnapshot, policy: &PrivacyPolicy) -> SemanticModel {
    let visible: Vec<&TableInfo> = snapshot
        .tables
        .iter()
        .filter(|t| !table_excluded(policy, t))
        .collect();
    let tables = visible
        .iter()
        .map(|t| {
            let mut columns: Vec<SemanticColumn> = t
                .columns
                .iter()
                .filter(|c| !column_excluded(policy, t, &c.name))
                .map(|c| draft_column(policy, t, c))
                .collect();
            drop_taken_synonyms(t, &mut columns);
            SemanticTable {
                table: reference_name(snapshot, t),
                display_name: Some(display_name(&t.name)),
                description: comment(&t.comment),
                synonyms: table_synonyms(&t.name),
                columns,
            }
        })
        .collect();
    let mut joins = declared_joins(snapshot, policy, &visible);
    let inferred = inferred_joins(snapshot, policy, &visible, &joins);
    joins.extend(inferred);
    SemanticModel {
        connection_id: ConnectionId(uuid::Uuid::nil()),
        version: 0,
        schema_fingerprint: snapshot.fingerprint.clone(),
        description: None,
        tables,
        joins,
        metrics: Vec::new(),
        updated_at: snapshot.taken_at,
    }
}

/// Removes column synonyms that would point at something else of the same table: another
/// column's name (`country_code` → "country" when a `country` column exists) or the table
/// itself (`orders.order_date` → "order").
fn drop_taken_synonyms(table: &TableInfo, columns: &mut [SemanticColumn]) {
    let phrase = |name: &str| words(name).join(" ");
    let mut taken: HashSet<String> = table.columns.iter().map(|c| phrase(&c.name)).collect();
    let own = words(&table.name);
    taken.extend(number_forms(&own));
    taken.extend(number_forms(&expand(&own)));
    for c in columns {
        c.synonyms.retain(|s| !taken.contains(s));
    }
}

fn comment(c: &Option<String>) -> Option<String> {
    c.as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

fn draft_column(policy: &PrivacyPolicy, table: &TableInfo, c: &ColumnInfo) -> SemanticColumn {
    let values =
        if column_masked(policy, table, &c.name) || c.sample_values.len() > MAX_DRAFT_VALUES {
            Vec::new()
        } else {
            c.sample_values.clone()
        };
    SemanticColumn {
        column: c.name.clone(),
        data_type: Some(c.data_type.clone()),
        display_name: Some(display_name(&c.name)),
        description: comment(&c.comment),
        synonyms: column_synonyms(&c.name),
        values,
        value_mappings: Vec::new(),
    }
}

/// Words written in capitals in a display name.
fn acronym(word: &str) -> Option<String> {
    matches!(
        word,
        "id" | "ids"
            | "url"
            | "uri"
            | "ip"
            | "sku"
            | "uuid"
            | "api"
            | "vat"
            | "iban"
            | "iso"
            | "ssn"
            | "gdp"
            | "utc"
            | "json"
            | "xml"
            | "html"
            | "csv"
            | "pdf"
    )
    .then(|| match word {
        "ids" => "IDs".to_owned(),
        w => w.to_uppercase(),
    })
}

/// A display name for an identifier: its words in sentence case, acronyms in capitals
/// (`order_items` → "Order items", `customerId` → "Customer ID").
pub fn display_name(identifier: &str) -> String {
    let ws = words(identifier);
    let mut out = Vec::with_capacity(ws.len());
    for (i, w) in ws.iter().enumerate() {
        if let Some(a) = acronym(w) {
            out.push(a);
        } else if i == 0 {
            let mut chars = w.chars();
            out.push(match chars.next() {
                Some(f) => f.to_uppercase().chain(chars).collect(),
                None => String::new(),
            });
        } else {
            out.push(w.clone());
        }
    }
    if out.is_empty() {
        identifier.to_owned()
    } else {
        out.join(" ")
    }
}

/// Irregular plurals, singular first.
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("foot", "feet"),
    ("mouse", "mice"),
];

/// Words whose singular and plural are the same or that are not nouns to inflect.
fn uninflected(word: &str) -> bool {
    matches!(
        word,
        "data" | "status" | "series" | "species" | "news" | "info" | "information" | "metadata"
    ) || !word.chars().all(|c| c.is_ascii_alphabetic())
        || word.len() < 3
}

/// The singular of an English noun (generic rules).
pub(crate) fn singular(word: &str) -> String {
    if let Some((s, _)) = IRREGULAR.iter().find(|(_, p)| *p == word) {
        return (*s).to_owned();
    }
    if uninflected(word) || IRREGULAR.iter().any(|(s, _)| *s == word) {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies").filter(|s| s.len() > 1) {
        return format!("{stem}y");
    }
    for suffix in ["sses", "xes", "ches", "shes", "zzes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_owned();
        }
    }
    if word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The plural of an English noun (generic rules).
pub(crate) fn plural(word: &str) -> String {
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == word) {
        return (*p).to_owned();
    }
    if uninflected(word) || IRREGULAR.iter().any(|(_, p)| *p == word) {
        return word.to_owned();
    }
    let consonant_y = word.ends_with('y')
        && !matches!(word.chars().rev().nth(1), Some('a' | 'e' | 'i' | 'o' | 'u'));
    if consonant_y {
        return format!("{}ies", &word[..word.len() - 1]);
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// Whether a word looks plural (its singular differs).
fn is_plural(word: &str) -> bool {
    singular(word) != word
}

/// Prefixes that mark a table's role rather than what it holds.
const TABLE_PREFIXES: &[&str] = &[
    "tbl", "tb", "t", "dim", "fact", "fct", "stg", "vw", "v", "ref",
];

/// Synonyms of a table name: the phrase, its singular or plural, with role prefixes
/// (`dim_`, `tbl_`, …) dropped and abbreviations (`emp` → `employee`) expanded.
pub fn table_synonyms(name: &str) -> Vec<String> {
    let mut ws = words(name);
    if ws.len() > 1 && TABLE_PREFIXES.contains(&ws[0].as_str()) {
        ws.remove(0);
    }
    let expanded = expand(&ws);
    let mut out = vec![ws.join(" ")];
    out.extend(number_forms(&expanded));
    finish(name, out)
}

/// Synonyms of a column name: the phrase with abbreviations expanded, the subject of a
/// flag (`is_active` → "active"), of a key (`customer_id` → "customer") and of a time
/// stamp (`created_at` → "created", `signup_date` → "signup"), and the singular of a plural
/// last word. ([`draft`] then drops those naming another column of the table or the table
/// itself.)
pub fn column_synonyms(name: &str) -> Vec<String> {
    let ws = words(name);
    let mut out = Vec::new();
    let expanded = expand(&ws);
    if expanded != ws {
        out.push(expanded.join(" "));
    }
    let mut core = expanded.clone();
    if core.len() > 1 && matches!(core[0].as_str(), "is" | "has" | "can") {
        core.remove(0);
        out.push(core.join(" "));
    }
    if core.len() > 1
        && matches!(
            core.last().map(String::as_str),
            Some("id" | "at" | "on" | "date" | "time" | "timestamp" | "flag")
        )
    {
        core.pop();
        out.push(core.join(" "));
    }
    if let Some(last) = ws.last()
        && is_plural(last)
    {
        let mut s = ws.clone();
        let n = s.len() - 1;
        s[n] = singular(last);
        out.push(s.join(" "));
    }
    finish(name, out)
}

/// The phrase and its other number (singular ↔ plural of the last word).
fn number_forms(ws: &[String]) -> Vec<String> {
    let Some(last) = ws.last() else {
        return Vec::new();
    };
    let mut other = ws.to_vec();
    let n = other.len() - 1;
    other[n] = if is_plural(last) {
        singular(last)
    } else {
        plural(last)
    };
    vec![ws.join(" "), other.join(" ")]
}

/// Words with identifier abbreviations written out (`qty` → `quantity`).
fn expand(ws: &[String]) -> Vec<String> {
    ws.iter()
        .map(|w| identifier_abbreviation(w).map_or_else(|| w.clone(), str::to_owned))
        .collect()
}

/// Lowercase, de-duplicated, without the identifier itself and its display name.
fn finish(identifier: &str, candidates: Vec<String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    seen.insert(identifier.to_lowercase());
    seen.insert(display_name(identifier).to_lowercase());
    let mut out = Vec::new();
    for c in candidates {
        let c = c.trim().to_lowercase();
        if !c.is_empty() && seen.insert(c.clone()) {
            out.push(c);
        }
    }
    out
}

/// The broad kind of a declared type, for deciding whether two columns can join:
/// integers, exact numbers, text, UUIDs, or the base type name itself.
pub(crate) fn type_family(data_type: &str) -> String {
    let t = data_type.trim().to_lowercase();
    let base = t
        .split(['(', ' '])
        .next()
        .unwrap_or_default()
        .trim_start_matches('_');
    let family = match base {
        "int" | "integer" | "int2" | "int4" | "int8" | "smallint" | "bigint" | "tinyint"
        | "mediumint" | "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" => "integer",
        "numeric" | "decimal" | "number" => "numeric",
        "text" | "varchar" | "char" | "character" | "nvarchar" | "nchar" | "bpchar" | "citext"
        | "string" | "clob" | "tinytext" | "mediumtext" | "longtext" | "name" | "varchar2" => {
            "text"
        }
        "uuid" | "uniqueidentifier" => "uuid",
        other => other,
    };
    family.to_owned()
}

/// Whether a value of type `a` can be compared with one of type `b` in a join.
fn types_fit(a: &str, b: &str) -> bool {
    let (fa, fb) = (type_family(a), type_family(b));
    !fa.is_empty() && fa == fb
}

/// Whether `columns` (as a set) is the primary key or a unique constraint of `table`.
fn unique_columns(table: &TableInfo, columns: &[String]) -> bool {
    let set: HashSet<&str> = columns.iter().map(String::as_str).collect();
    let same =
        |cols: &[String]| cols.len() == set.len() && cols.iter().all(|c| set.contains(c.as_str()));
    (!table.primary_key.is_empty() && same(&table.primary_key))
        || table.unique_constraints.iter().any(|u| same(&u.columns))
}

fn declared_joins(
    snapshot: &SchemaSnapshot,
    policy: &PrivacyPolicy,
    visible: &[&TableInfo],
) -> Vec<JoinPath> {
    let mut out = Vec::new();
    for t in visible {
        for fk in &t.foreign_keys {
            let schema = fk.referenced_schema.as_deref().or(t.schema.as_deref());
            let Some(target) = snapshot
                .table(schema, &fk.referenced_table)
                .or_else(|| snapshot.table(None, &fk.referenced_table))
            else {
                continue;
            };
            let hidden = table_excluded(policy, target)
                || fk.columns.iter().any(|c| column_excluded(policy, t, c))
                || fk
                    .referenced_columns
                    .iter()
                    .any(|c| column_excluded(policy, target, c));
            if hidden || fk.columns.is_empty() {
                continue;
            }
            out.push(JoinPath {
                from_table: reference_name(snapshot, t),
                from_columns: fk.columns.clone(),
                to_table: reference_name(snapshot, target),
                to_columns: fk.referenced_columns.clone(),
                cardinality: if unique_columns(t, &fk.columns) {
                    JoinCardinality::OneToOne
                } else {
                    JoinCardinality::ManyToOne
                },
                source: JoinSource::ForeignKey,
            });
        }
    }
    out
}

/// The stems of a table name's words without a role prefix (`dim_customers` → `customer`).
fn table_stems(name: &str) -> Vec<String> {
    let mut ws = words(name);
    if ws.len() > 1 && TABLE_PREFIXES.contains(&ws[0].as_str()) {
        ws.remove(0);
    }
    expand(&ws).iter().map(|w| stem(w)).collect()
}

/// The one column a reference to `table` would point at: its single-column primary key, or
/// else a column named `id`.
fn key_column(table: &TableInfo) -> Option<&ColumnInfo> {
    match table.primary_key.as_slice() {
        [pk] => table.column(pk),
        [] => table
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case("id")),
        _ => None,
    }
}

fn inferred_joins(
    snapshot: &SchemaSnapshot,
    policy: &PrivacyPolicy,
    visible: &[&TableInfo],
    declared: &[JoinPath],
) -> Vec<JoinPath> {
    let stems: Vec<Vec<String>> = visible.iter().map(|t| table_stems(&t.name)).collect();
    let mut out: Vec<JoinPath> = Vec::new();
    for t in visible {
        let from_name = reference_name(snapshot, t);
        let in_fk: HashSet<&str> = t
            .foreign_keys
            .iter()
            .flat_map(|fk| fk.columns.iter().map(String::as_str))
            .collect();
        for c in &t.columns {
            if in_fk.contains(c.name.as_str())
                || column_excluded(policy, t, &c.name)
                || t.primary_key.as_slice() == [c.name.clone()]
            {
                continue;
            }
            let ws = words(&c.name);
            let subject: Option<Vec<String>> = match ws.split_last() {
                Some((last, rest)) if last == "id" && !rest.is_empty() => {
                    Some(expand(rest).iter().map(|w| stem(w)).collect())
                }
                _ => None,
            };
            let mut candidates: Vec<(&TableInfo, &ColumnInfo)> = Vec::new();
            for (u, u_stems) in visible.iter().zip(&stems) {
                if std::ptr::eq(*u, *t) {
                    continue;
                }
                let Some(key) = key_column(u) else { continue };
                let by_subject = subject.as_ref().is_some_and(|s| s == u_stems);
                let by_key_name =
                    !key.name.eq_ignore_ascii_case("id") && key.name.eq_ignore_ascii_case(&c.name);
                if (by_subject || by_key_name)
                    && types_fit(&c.data_type, &key.data_type)
                    && !column_excluded(policy, u, &key.name)
                {
                    candidates.push((u, key));
                }
            }
            if candidates.len() > 1 {
                candidates.retain(|(u, _)| u.schema == t.schema);
            }
            let [(u, key)] = candidates.as_slice() else {
                continue;
            };
            let join = JoinPath {
                from_table: from_name.clone(),
                from_columns: vec![c.name.clone()],
                to_table: reference_name(snapshot, u),
                to_columns: vec![key.name.clone()],
                cardinality: if unique_columns(t, std::slice::from_ref(&c.name)) {
                    JoinCardinality::OneToOne
                } else {
                    JoinCardinality::ManyToOne
                },
                source: JoinSource::Inferred,
            };
            let known = declared.iter().chain(&out).any(|j| {
                j.from_table == join.from_table
                    && j.from_columns == join.from_columns
                    && j.to_table == join.to_table
            });
            if !known {
                out.push(join);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::Dialect;
    use querent_domain::schema::{ForeignKey, TableKind, UniqueConstraint};

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

    fn table(name: &str, cols: Vec<ColumnInfo>) -> TableInfo {
        TableInfo {
            schema: Some("public".into()),
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            columns: cols,
            primary_key: vec!["id".into()],
            unique_constraints: vec![],
            foreign_keys: vec![],
            row_estimate: None,
        }
    }

    fn shop() -> SchemaSnapshot {
        let mut customers = table(
            "customers",
            vec![
                col("id", "integer"),
                col("full_name", "text"),
                col("email", "text"),
                col("ssn", "text"),
                col("segment", "text"),
                col("country_code", "text"),
                col("country", "text"),
            ],
        );
        customers.comment = Some("  People who bought something. ".into());
        customers.columns[4].sample_values = vec!["consumer".into(), "corporate".into()];
        customers.columns[2].sample_values = vec!["a@example.com".into()];
        let mut orders = table(
            "orders",
            vec![
                col("id", "integer"),
                col("customer_id", "int4"),
                col("created_at", "timestamp"),
                col("total_amt", "numeric(10,2)"),
                col("is_paid", "boolean"),
                col("status", "text"),
                col("order_date", "date"),
            ],
        );
        orders.columns[5].sample_values = (0..60).map(|i| format!("s{i}")).collect();
        orders.columns[3].comment = Some("In euros".into());
        let mut items = table(
            "order_items",
            vec![
                col("id", "integer"),
                col("order_id", "integer"),
                col("product_id", "bigint"),
                col("qty", "integer"),
            ],
        );
        items.foreign_keys = vec![ForeignKey {
            name: None,
            columns: vec!["order_id".into()],
            referenced_schema: None,
            referenced_table: "orders".into(),
            referenced_columns: vec!["id".into()],
        }];
        let products = table("products", vec![col("id", "integer"), col("name", "text")]);
        let mut profiles = table(
            "profiles",
            vec![col("id", "integer"), col("customer_id", "integer")],
        );
        profiles.unique_constraints = vec![UniqueConstraint {
            name: None,
            columns: vec!["customer_id".into()],
        }];
        let mut notes = table("notes", vec![col("id", "integer"), col("order_id", "text")]);
        notes.comment = Some(String::new());
        let salaries = table(
            "salaries",
            vec![col("id", "integer"), col("customer_id", "integer")],
        );
        let mut s = SchemaSnapshot {
            dialect: Dialect::Postgres,
            database: None,
            fingerprint: String::new(),
            taken_at: 42,
            tables: vec![
                customers, orders, items, products, profiles, notes, salaries,
            ],
        };
        s.normalize();
        s
    }

    fn policy() -> PrivacyPolicy {
        PrivacyPolicy {
            excluded_tables: vec!["salaries".into()],
            excluded_columns: vec!["customers.ssn".into()],
            masked_column_patterns: vec!["*email*".into()],
            row_filters: Vec::new(),
        }
    }

    #[test]
    fn names_descriptions_and_values() {
        let snap = shop();
        let m = draft(&snap, &policy());
        assert_eq!(m.version, 0);
        assert_eq!(m.schema_fingerprint, snap.fingerprint);
        assert_eq!(m.updated_at, 42);
        let items = m.tables.iter().find(|t| t.table == "order_items").unwrap();
        assert_eq!(items.display_name.as_deref(), Some("Order items"));
        assert_eq!(items.synonyms, ["order item"]);
        let qty = items.columns.iter().find(|c| c.column == "qty").unwrap();
        assert_eq!(qty.synonyms, ["quantity"]);
        assert_eq!(qty.data_type.as_deref(), Some("integer"));

        let customers = m.tables.iter().find(|t| t.table == "customers").unwrap();
        assert_eq!(
            customers.description.as_deref(),
            Some("People who bought something.")
        );
        assert_eq!(customers.synonyms, ["customer"]);
        let segment = customers
            .columns
            .iter()
            .find(|c| c.column == "segment")
            .unwrap();
        assert_eq!(segment.values, ["consumer", "corporate"]);
        // Masked: no values, even if some were sampled.
        let email = customers
            .columns
            .iter()
            .find(|c| c.column == "email")
            .unwrap();
        assert!(email.values.is_empty());

        let orders = m.tables.iter().find(|t| t.table == "orders").unwrap();
        let by = |n: &str| orders.columns.iter().find(|c| c.column == n).unwrap();
        assert_eq!(
            by("customer_id").display_name.as_deref(),
            Some("Customer ID")
        );
        assert_eq!(by("customer_id").synonyms, ["customer"]);
        assert_eq!(by("created_at").synonyms, ["created"]);
        assert_eq!(by("is_paid").synonyms, ["paid"]);
        assert_eq!(by("total_amt").synonyms, ["total amount"]);
        assert_eq!(by("total_amt").description.as_deref(), Some("In euros"));
        // Synonyms that would name the table itself or another column are dropped.
        assert_eq!(by("order_date").synonyms, Vec::<String>::new());
        let code = customers
            .columns
            .iter()
            .find(|c| c.column == "country_code")
            .unwrap();
        assert_eq!(code.synonyms, Vec::<String>::new());
        // Too many distinct values: not a value list.
        assert!(by("status").values.is_empty());
        let notes = m.tables.iter().find(|t| t.table == "notes").unwrap();
        assert_eq!(notes.description, None);
    }

    #[test]
    fn excluded_tables_and_columns_never_appear() {
        let m = draft(&shop(), &policy());
        let json = format!("{m:?}");
        assert!(!json.contains("salaries"), "{json}");
        assert!(!json.contains("ssn"), "{json}");
        assert!(m.tables.iter().all(|t| t.table != "salaries"));
    }

    #[test]
    fn joins_from_keys_and_inferred_from_names_and_types() {
        let m = draft(&shop(), &policy());
        let joins: Vec<(String, String, JoinCardinality, JoinSource)> = m
            .joins
            .iter()
            .map(|j| {
                (
                    format!("{}.{}", j.from_table, j.from_columns.join(",")),
                    format!("{}.{}", j.to_table, j.to_columns.join(",")),
                    j.cardinality,
                    j.source,
                )
            })
            .collect();
        let s = |a: &str| a.to_owned();
        assert_eq!(
            joins,
            [
                (
                    s("order_items.order_id"),
                    s("orders.id"),
                    JoinCardinality::ManyToOne,
                    JoinSource::ForeignKey
                ),
                // bigint → integer: both integers.
                (
                    s("order_items.product_id"),
                    s("products.id"),
                    JoinCardinality::ManyToOne,
                    JoinSource::Inferred
                ),
                (
                    s("orders.customer_id"),
                    s("customers.id"),
                    JoinCardinality::ManyToOne,
                    JoinSource::Inferred
                ),
                (
                    s("profiles.customer_id"),
                    s("customers.id"),
                    JoinCardinality::OneToOne,
                    JoinSource::Inferred
                ),
            ]
        );
        // notes.order_id is text: no join to orders.id (integer). The excluded salaries
        // table gets none.
    }

    #[test]
    fn a_key_to_an_excluded_table_is_no_join() {
        let mut snap = shop();
        let p = PrivacyPolicy {
            excluded_tables: vec!["public.orders".into()],
            ..Default::default()
        };
        snap.normalize();
        let m = draft(&snap, &p);
        assert!(
            m.joins
                .iter()
                .all(|j| j.to_table != "orders" && j.from_table != "orders")
        );
    }

    #[test]
    fn clashing_names_are_qualified() {
        let mut snap = shop();
        let mut other = table("products", vec![col("id", "integer")]);
        other.schema = Some("archive".into());
        snap.tables.push(other);
        snap.normalize();
        let m = draft(&snap, &PrivacyPolicy::default());
        let names: Vec<&str> = m.tables.iter().map(|t| t.table.as_str()).collect();
        assert!(names.contains(&"archive.products"), "{names:?}");
        assert!(names.contains(&"public.products"), "{names:?}");
        // Two candidate `products` tables: the one in the same schema wins.
        assert!(
            m.joins
                .iter()
                .any(|j| j.from_table == "order_items" && j.to_table == "public.products")
        );
    }

    #[test]
    fn word_forms() {
        assert_eq!(display_name("order_items"), "Order items");
        assert_eq!(display_name("customerId"), "Customer ID");
        assert_eq!(display_name("URLPath"), "URL path");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("people"), "person");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("box"), "boxes");
        assert_eq!(plural("person"), "people");
        assert_eq!(table_synonyms("dim_customer"), ["customer", "customers"]);
        assert_eq!(table_synonyms("emp"), ["employee", "employees"]);
        assert_eq!(type_family("VARCHAR(40)"), "text");
        assert_eq!(type_family("character varying"), "text");
        assert_eq!(type_family("INT UNSIGNED"), "integer");
        assert!(!types_fit("", ""));
    }
}
