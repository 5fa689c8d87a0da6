//! The schema as the translator sees it: tables and columns the policy allows, their words,
//! kinds and sampled values, and the foreign-key graph used to find join paths.

use std::collections::{BTreeSet, VecDeque};

use querent_domain::PrivacyPolicy;
use querent_domain::schema::SchemaSnapshot;

use crate::text::{split_ident, stem};

/// The broad kind of a column's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Integers, decimals, floats.
    Number,
    /// Text.
    Text,
    /// Dates and timestamps.
    Date,
    /// Anything else.
    Other,
}

/// One usable column.
#[derive(Clone, Debug)]
pub(crate) struct Col {
    /// Owning table (index into [`Index::tables`]).
    pub table: usize,
    /// Name as the catalog spells it.
    pub name: String,
    /// Stemmed words of the name.
    pub words: Vec<String>,
    /// Stemmed words without a leading copy of the table's name (`pet_age` in `pets` → `age`).
    pub short: Vec<String>,
    /// Kind of values.
    pub kind: Kind,
    /// Part of the primary key.
    pub pk: bool,
    /// Part of a foreign key.
    pub fk: bool,
    /// Sampled values.
    pub samples: Vec<String>,
}

/// One usable table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    /// Schema, when the catalog has one.
    pub schema: Option<String>,
    /// Name as the catalog spells it.
    pub name: String,
    /// Stemmed words of the name.
    pub words: Vec<String>,
    /// The name without generic words such as `data`, `info`, `list`, `ref` (`cars_data` →
    /// `car`), when that leaves something.
    pub alt: Vec<String>,
    /// Its usable columns (indices into [`Index::cols`]).
    pub cols: Vec<usize>,
}

/// A foreign-key edge `from_col` → `to_col` (single-column keys only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    /// Referencing column.
    pub from: usize,
    /// Referenced column.
    pub to: usize,
}

/// The usable schema.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    /// Tables.
    pub tables: Vec<Table>,
    /// Columns.
    pub cols: Vec<Col>,
    /// Foreign-key edges.
    pub edges: Vec<Edge>,
}

fn excluded_table(policy: &PrivacyPolicy, schema: Option<&str>, name: &str) -> bool {
    policy.excluded_tables.iter().any(|e| {
        e.eq_ignore_ascii_case(name)
            || schema.is_some_and(|s| e.eq_ignore_ascii_case(&format!("{s}.{name}")))
    })
}

fn excluded_column(policy: &PrivacyPolicy, schema: Option<&str>, table: &str, col: &str) -> bool {
    policy.excluded_columns.iter().any(|e| {
        e.eq_ignore_ascii_case(&format!("{table}.{col}"))
            || schema.is_some_and(|s| e.eq_ignore_ascii_case(&format!("{s}.{table}.{col}")))
    })
}

fn kind_of(data_type: &str, name: &str) -> Kind {
    let t = data_type.to_lowercase();
    let n = name.to_lowercase();
    if t.contains("date") || t.contains("time") {
        return Kind::Date;
    }
    if t.contains("int")
        || t.contains("num")
        || t.contains("dec")
        || t.contains("real")
        || t.contains("float")
        || t.contains("double")
        || t.contains("money")
        || t.contains("serial")
    {
        return Kind::Number;
    }
    if t.contains("char") || t.contains("text") || t.contains("clob") || t.contains("string") {
        if n.ends_with("_date") || n == "date" || n.ends_with("_at") && !n.ends_with("_cat") {
            return Kind::Date;
        }
        return Kind::Text;
    }
    if t.is_empty() {
        return Kind::Text;
    }
    Kind::Other
}

impl Index {
    /// Builds the usable schema, leaving out everything the policy excludes.
    pub fn new(snapshot: &SchemaSnapshot, policy: &PrivacyPolicy) -> Self {
        let mut idx = Index::default();
        for t in &snapshot.tables {
            if excluded_table(policy, t.schema.as_deref(), &t.name) {
                continue;
            }
            let ti = idx.tables.len();
            let words: Vec<String> = split_ident(&t.name).iter().map(|w| stem(w)).collect();
            let mut cols = Vec::new();
            for c in &t.columns {
                if excluded_column(policy, t.schema.as_deref(), &t.name, &c.name) {
                    continue;
                }
                let cw: Vec<String> = split_ident(&c.name).iter().map(|w| stem(w)).collect();
                let generic = |w: &String| {
                    matches!(
                        w.as_str(),
                        "data"
                            | "info"
                            | "information"
                            | "detail"
                            | "list"
                            | "table"
                            | "tbl"
                            | "record"
                            | "entry"
                            | "master"
                            | "ref"
                            | "reference"
                            | "lookup"
                    )
                };
                let core: Vec<String> = words.iter().filter(|w| !generic(w)).cloned().collect();
                let short = if cw.len() > words.len() && cw[..words.len()] == words[..] {
                    cw[words.len()..].to_vec()
                } else if !core.is_empty() && cw.len() > core.len() && cw[..core.len()] == core[..]
                {
                    cw[core.len()..].to_vec()
                } else {
                    cw.clone()
                };
                let fk = t
                    .foreign_keys
                    .iter()
                    .any(|f| f.columns.iter().any(|x| x == &c.name));
                cols.push(idx.cols.len());
                idx.cols.push(Col {
                    table: ti,
                    name: c.name.clone(),
                    words: cw,
                    short,
                    kind: kind_of(&c.data_type, &c.name),
                    pk: t.primary_key.iter().any(|p| p == &c.name),
                    fk,
                    samples: c.sample_values.clone(),
                });
            }
            let generic = |w: &String| {
                matches!(
                    w.as_str(),
                    "data"
                        | "info"
                        | "information"
                        | "detail"
                        | "list"
                        | "table"
                        | "tbl"
                        | "record"
                        | "entry"
                        | "master"
                        | "ref"
                        | "reference"
                        | "lookup"
                )
            };
            let alt: Vec<String> = words.iter().filter(|w| !generic(w)).cloned().collect();
            let alt = if alt.is_empty() || alt.len() == words.len() {
                Vec::new()
            } else {
                alt
            };
            idx.tables.push(Table {
                schema: t.schema.clone(),
                name: t.name.clone(),
                alt,
                words,
                cols,
            });
        }
        for (ti, t) in snapshot.tables.iter().enumerate() {
            let Some(from_t) = idx.find_table(t.schema.as_deref(), &t.name) else {
                continue;
            };
            let _ = ti;
            for f in &t.foreign_keys {
                if f.columns.len() != 1 || f.referenced_columns.len() != 1 {
                    continue;
                }
                let schema = f.referenced_schema.as_deref().or(t.schema.as_deref());
                let Some(to_t) = idx
                    .find_table(schema, &f.referenced_table)
                    .or_else(|| idx.find_table(None, &f.referenced_table))
                else {
                    continue;
                };
                let (Some(a), Some(b)) = (
                    idx.find_col(from_t, &f.columns[0]),
                    idx.find_col(to_t, &f.referenced_columns[0]),
                ) else {
                    continue;
                };
                let e = Edge { from: a, to: b };
                if !idx.edges.contains(&e) {
                    idx.edges.push(e);
                }
            }
        }
        // Undeclared references by naming convention: a column named after another table
        // (`flights.airline` → `airlines`, `orders.customer_id` → `customers`) points at that
        // table's single-column primary key when no foreign key is declared on it.
        let mut inferred = Vec::new();
        for (ci, c) in idx.cols.iter().enumerate() {
            let sole_key = c.pk
                && idx.tables[c.table]
                    .cols
                    .iter()
                    .filter(|&&k| idx.cols[k].pk)
                    .count()
                    == 1;
            if sole_key || c.fk {
                continue;
            }
            let base: &[String] = match c.words.split_last() {
                Some((last, rest)) if last == "id" && !rest.is_empty() => rest,
                _ => &c.words,
            };
            for (ti, t) in idx.tables.iter().enumerate() {
                if ti == c.table || (t.words != base && (t.alt.is_empty() || t.alt != base)) {
                    continue;
                }
                let pks: Vec<usize> = t.cols.iter().copied().filter(|&k| idx.cols[k].pk).collect();
                if let [pk] = pks.as_slice()
                    && idx.cols[*pk].kind == c.kind
                    && !idx.edges.iter().any(|e| e.from == ci)
                {
                    inferred.push(Edge { from: ci, to: *pk });
                }
            }
        }
        idx.edges.extend(inferred);
        idx
    }

    fn find_table(&self, schema: Option<&str>, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| {
            t.name.eq_ignore_ascii_case(name)
                && (schema.is_none() || t.schema.is_none() || t.schema.as_deref() == schema)
        })
    }

    /// The column of table `t` with this name (case-insensitive).
    pub fn find_col(&self, t: usize, name: &str) -> Option<usize> {
        self.tables[t]
            .cols
            .iter()
            .copied()
            .find(|&c| self.cols[c].name.eq_ignore_ascii_case(name))
    }

    /// The column people use to name a row of `t`: `name`, `title`, `*_name`, … .
    pub fn label_col(&self, t: usize) -> Option<usize> {
        let cols = &self.tables[t].cols;
        let score = |c: usize| -> i32 {
            let col = &self.cols[c];
            let w = &col.words;
            let last = w.last().map(String::as_str).unwrap_or("");
            let text = col.kind == Kind::Text;
            let tw = &self.tables[t].words;
            let tw_alt = &self.tables[t].alt;
            if text && (w == tw || (!tw_alt.is_empty() && w == tw_alt)) {
                8
            } else if w.len() == 1 && last == "name" {
                10
            } else if w.len() == 1 && last == "title" {
                9
            } else if last == "name" && w.first().map(String::as_str) != Some("last") {
                if col.short.len() == 1 { 8 } else { 7 }
            } else if last == "title" {
                6
            } else if w.len() == 1 && (last == "description" || last == "label") && text {
                4
            } else {
                0
            }
        };
        let best = cols
            .iter()
            .copied()
            .max_by_key(|&c| (score(c), -(c as i64)))?;
        (score(best) > 0).then_some(best)
    }

    /// The primary-key column of `t` (single column), or the first `id`-like column.
    pub fn key_col(&self, t: usize) -> Option<usize> {
        let cols = &self.tables[t].cols;
        let pks: Vec<usize> = cols.iter().copied().filter(|&c| self.cols[c].pk).collect();
        if pks.len() == 1 {
            return Some(pks[0]);
        }
        cols.iter()
            .copied()
            .find(|&c| self.cols[c].short == ["id"] || self.cols[c].words == ["id"])
            .or_else(|| pks.first().copied())
    }

    /// Edges touching `t`, as (own column, other column).
    fn neighbours(&self, t: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for e in &self.edges {
            if self.cols[e.from].table == t {
                out.push((e.from, e.to));
            }
            if self.cols[e.to].table == t {
                out.push((e.to, e.from));
            }
        }
        out
    }

    /// Whether `a` and `b` are one foreign key apart.
    pub fn adjacent(&self, a: usize, b: usize) -> bool {
        self.neighbours(a)
            .iter()
            .any(|&(_, o)| self.cols[o].table == b)
    }

    /// Shortest foreign-key path from any table in `from` to `to`, as join steps
    /// (column in the tree, column of the new table), at most `max_hops` long.
    pub fn path(
        &self,
        from: &BTreeSet<usize>,
        to: usize,
        max_hops: u8,
    ) -> Option<Vec<(usize, usize)>> {
        if from.contains(&to) {
            return Some(Vec::new());
        }
        let mut prev: Vec<Option<(usize, usize, usize)>> = vec![None; self.tables.len()];
        let mut dist = vec![usize::MAX; self.tables.len()];
        let mut q = VecDeque::new();
        for &f in from {
            dist[f] = 0;
            q.push_back(f);
        }
        while let Some(t) = q.pop_front() {
            if dist[t] >= max_hops as usize {
                continue;
            }
            for (own, other) in self.neighbours(t) {
                let ot = self.cols[other].table;
                if dist[ot] == usize::MAX {
                    dist[ot] = dist[t] + 1;
                    prev[ot] = Some((t, own, other));
                    q.push_back(ot);
                }
            }
        }
        if dist[to] == usize::MAX {
            return None;
        }
        let mut steps = Vec::new();
        let mut cur = to;
        while let Some((p, own, other)) = prev[cur] {
            steps.push((own, other));
            cur = p;
            if from.contains(&cur) {
                break;
            }
        }
        steps.reverse();
        Some(steps)
    }

    /// Human name of a table: its words joined by spaces.
    pub fn table_words(&self, t: usize) -> String {
        split_ident(&self.tables[t].name).join(" ")
    }

    /// Human name of a column.
    pub fn col_words(&self, c: usize) -> String {
        split_ident(&self.cols[c].name).join(" ")
    }
}
