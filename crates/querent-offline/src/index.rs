//! The schema as the translator sees it: tables and columns the policy allows, their words,
//! kinds and sampled values, and the foreign-key graph used to find join paths. With a
//! semantic model it also holds the model's other names for tables and columns (display
//! names, synonyms), its value mappings, its join paths as extra edges and its metrics as
//! pseudo-columns whose SQL is the metric's expression.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use querent_domain::PrivacyPolicy;
use querent_domain::schema::SchemaSnapshot;
use querent_domain::semantic::{JoinSource, Metric, SemanticModel, SemanticTable};

use crate::text::{is_stopword, root, split_ident, stem, tokenize};

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
    /// `short` with identifier abbreviations spelled out (`sal_amt` → salary amount); empty
    /// when that is `short` itself.
    pub spelled: Vec<String>,
    /// Kind of values.
    pub kind: Kind,
    /// A date kept in a text column (`hire_dt TEXT`): PostgreSQL compares and cuts it only
    /// once cast.
    pub text_date: bool,
    /// The fixed length a `CHAR(n)` column declares (`CountryCode char(3)`).
    pub width: Option<usize>,
    /// Part of the primary key.
    pub pk: bool,
    /// Part of a foreign key.
    pub fk: bool,
    /// Sampled values (the semantic model's value list when the snapshot has none).
    pub samples: Vec<String>,
    /// Other names from the semantic model (display name, synonyms), as stemmed words.
    pub aliases: Vec<Vec<String>>,
    /// The semantic model's value mappings: (phrase people use, value stored).
    pub mappings: Vec<(String, String)>,
    /// For a metric of the semantic model: its expression with the column references
    /// resolved. Metric pseudo-columns are not listed in their table's `cols`.
    pub metric: Option<Vec<Piece>>,
    /// For a yes/no column (`IsOfficial` holding `T`/`F`, `retired_yn`, a boolean
    /// `discontinued`): the adjective it stands for and its stored yes and no.
    pub flag: Option<Flag>,
}

/// What a yes/no column says and how it stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flag {
    /// The stemmed words of the adjective ("official" of `IsOfficial`).
    pub words: Vec<String>,
    /// The stored yes: a SQL literal (`'T'`, `1`, `TRUE`).
    pub yes: String,
    /// The stored no.
    pub no: String,
}

/// Pairs of stored yes/no values, lower-case.
const YES_NO: &[(&str, &str)] = &[
    ("t", "f"),
    ("y", "n"),
    ("yes", "no"),
    ("true", "false"),
    ("1", "0"),
];

/// Words of a name that say only how rows are kept (`cars_data`, `bill_hdr`, `pt_mstr`,
/// `dx_ref`): the rest of the name names the table or column.
const GENERIC_NAME_WORDS: &[&str] = &[
    "data",
    "info",
    "information",
    "detail",
    "list",
    "table",
    "tbl",
    "record",
    "entry",
    "master",
    "mstr",
    "header",
    "hdr",
    "ref",
    "reference",
    "lookup",
    "lkp",
];

/// Whether a value is a code: capitals and digits only ('GBR', 'CNL', 'A1').
pub(crate) fn is_code(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
}

/// The length a declared type fixes: `CHAR(3)`, `character(2)`, `NCHAR(3)` (a `VARCHAR`'s
/// is only a bound).
fn fixed_width(declared: &str) -> Option<usize> {
    let (name, rest) = declared.split_once('(')?;
    let (n, _) = rest.split_once(')')?;
    matches!(name.trim(), "char" | "character" | "nchar" | "bpchar")
        .then(|| n.trim().parse().ok())
        .flatten()
}

/// Whether column `name` of type `data_type` with words `words` and samples `samples` is a
/// yes/no column, and if so what it says: a boolean type, a text column whose sampled
/// values are one yes/no pair, or an integer column whose name says it is a flag
/// (`is_…`, `has_…`, `…_yn`, `…_flag`). The adjective is the name without those words.
fn flag_of(data_type: &str, words: &[String], samples: &[String]) -> Option<Flag> {
    let t = data_type.to_lowercase();
    let mut adj: &[String] = words;
    let mut named = false;
    if let Some((first, rest)) = adj.split_first()
        && matches!(first.as_str(), "is" | "ha" | "has" | "wa" | "was")
        && !rest.is_empty()
    {
        adj = rest;
        named = true;
    }
    if let Some((last, rest)) = adj.split_last()
        && matches!(
            last.as_str(),
            "yn" | "flag" | "flg" | "ind" | "indicator" | "bool"
        )
        && !rest.is_empty()
    {
        adj = rest;
        named = true;
    }
    if adj.is_empty() || adj.len() > 2 {
        return None;
    }
    let flag = |yes: String, no: String| Flag {
        words: adj.to_vec(),
        yes,
        no,
    };
    let numeric = ["int", "num", "dec", "bool", "bit"]
        .iter()
        .any(|k| t.contains(k));
    // What is stored decides the literal (a SQLite `BOOLEAN` may hold 'T'/'F'); the declared
    // type only when nothing was sampled.
    if !samples.is_empty() {
        // A column found only by its samples is a flag when its name says so or is an
        // adjective or participle ("official", "retired"), not any `status` holding Y/N.
        let lex = crate::lexicon::lexicon();
        let adjective = adj.len() == 1 && {
            let w = adj[0].as_str();
            lex.is_adjective(w) || lex.lemma(w).is_some() && w.ends_with("ed")
        };
        if !named && !adjective && !t.contains("bool") {
            return None;
        }
        let low: Vec<String> = samples.iter().map(|v| v.trim().to_lowercase()).collect();
        // (A boolean may hold one value only so far: `is_deleted` all 0 or all 'F'.)
        let boolean = t.contains("bool");
        let (y, n) = YES_NO.iter().find(|(y, n)| {
            low.iter().all(|v| v == y || v == n) && (boolean || low.iter().any(|v| v == y))
        })?;
        let stored = |want: &str| {
            samples
                .iter()
                .find(|v| v.trim().eq_ignore_ascii_case(want))
                .cloned()
                .unwrap_or_else(|| want.to_uppercase())
        };
        let quote = |v: String| format!("'{}'", v.replace('\'', "''"));
        if *y == "1" && numeric {
            return Some(flag("1".into(), "0".into()));
        }
        return Some(flag(quote(stored(y)), quote(stored(n))));
    }
    if t.contains("bool") {
        return Some(flag("TRUE".into(), "FALSE".into()));
    }
    (named && t.contains("int")).then(|| flag("1".into(), "0".into()))
}

/// A part of a metric's SQL expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text copied as written (functions, operators, literals, keywords).
    Text(String),
    /// A column reference, rendered with the query's alias for its table.
    Col(usize),
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
    /// Other names from the semantic model (display name, synonyms), as stemmed words.
    pub aliases: Vec<Vec<String>>,
}

/// A foreign-key edge `from_col` → `to_col` (single-column keys only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    /// Referencing column.
    pub from: usize,
    /// Referenced column.
    pub to: usize,
}

/// A value a question may name: a sampled value of a text column, or a phrase the
/// semantic model maps to a stored value (of a column of any kind).
#[derive(Clone, Debug)]
pub(crate) struct Value {
    /// The column.
    pub col: usize,
    /// The value as stored.
    pub value: String,
    /// What a question says for it (lower case, trimmed).
    pub said: String,
    /// The words of what is said, lower case.
    pub words: Vec<String>,
    /// Whether it comes from a value mapping.
    pub mapped: bool,
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
    /// Values questions may name: sampled values, then value mappings.
    pub values: Vec<Value>,
    /// Every word the schema knows (names, other names, value words), stemmed and as
    /// written: what grounding reads unknown question words into.
    pub vocab: HashSet<String>,
    /// Words of `vocab` known only as a whole one-word sampled value ("cat", "pending"), not
    /// from any table or column name.
    pub value_words: HashSet<String>,
    /// The crude roots of the longer words of `vocab` ("arriv" for "arrival").
    pub roots: HashSet<String>,
    /// The words of table and column names and their other names (no values): what
    /// [`Index::names`] looks up, once per question on big schemas.
    pub name_words: HashSet<String>,
    /// `vocab` sorted, and its words reversed and sorted: prefix and suffix lookups.
    pub sorted: Vec<String>,
    /// See `sorted`.
    pub reversed: Vec<String>,
}

/// Lower-case words of a value, as the tokeniser reads a question.
fn value_words(v: &str) -> Vec<String> {
    // A stored code spelled with underscores ("credit_card") is said with spaces.
    tokenize(&v.replace('_', " "))
        .into_iter()
        .filter(|t| !t.quoted)
        .map(|t| t.low)
        .collect()
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

fn kind_of(data_type: &str, name: &str, words: &[String], samples: &[String]) -> Kind {
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
        // Dates kept as text, as SQLite databases often do: said by the name's last word
        // (`hire_dt`, `READ_TS`, `created_at`) or by sampled values that are all ISO dates.
        let last = words.last().map_or("", String::as_str);
        if n.ends_with("_date")
            || n == "date"
            || n.ends_with("_at") && !n.ends_with("_cat")
            || matches!(last, "date" | "dt" | "ts" | "timestamp" | "datetime")
            || !samples.is_empty() && samples.iter().all(|v| iso_date(v))
        {
            return Kind::Date;
        }
        return Kind::Text;
    }
    if t.is_empty() {
        return Kind::Text;
    }
    Kind::Other
}

/// A name's words with identifier abbreviations spelled out (`emp_nm` → employee name).
fn spelled_out(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| querent_domain::text::abbreviation(w).map_or_else(|| w.clone(), stem))
        .collect()
}

/// Whether a stored value is an ISO date or timestamp (`2024-07-01`, `2024-07-01 10:30:00`).
pub(crate) fn iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || matches!(b[10], b' ' | b'T'))
}

/// A word every table's name starts with (three tables at least), short like a code and
/// no English word (`sb` of `sbCustomer`, `sbTicker`, `sbTransaction`; `tbl`): a prefix of
/// the schema, not part of any name.
fn schema_prefix(snapshot: &SchemaSnapshot) -> Option<String> {
    if snapshot.tables.len() < 3 {
        return None;
    }
    let mut first: Option<String> = None;
    for t in &snapshot.tables {
        let w = name_words(&t.name);
        if w.len() < 2 || w[0].len() > 3 || w[0].chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        match &first {
            Some(f) if *f != w[0] => return None,
            Some(_) => {}
            None => first = Some(w[0].clone()),
        }
    }
    // (`tv_channel`, `car_makers`: a word people say is part of the names.)
    first.filter(|f| !crate::lexicon::lexicon().is_word(f))
}

/// Stemmed words of a name as people write it ("Order lines", `order_lines`), a run of
/// words written together cut into them (`authorname` → author name, `paperid` → paper
/// id).
fn name_words(name: &str) -> Vec<String> {
    split_ident(name)
        .iter()
        .flat_map(|w| segment(w))
        .map(|w| stem(&w))
        .collect()
}

/// Last words of identifiers written as one word (`authorname`, `paperid`): what a column
/// says about its entity.
pub(crate) const ATTRIBUTE_ENDS: &[&str] = &[
    "id", "name", "code", "date", "time", "type", "count", "year", "status", "title", "amount",
    "price", "level", "city", "state", "country", "address", "phone", "email",
];

/// A word of an identifier that is no English word cut into the fewest common words it is
/// written from (each of three letters or more; `id` may end it), when it ends in a word
/// of [`ATTRIBUTE_ENDS`]: `authorname` → author, name; `citedpaperid` → cited, paper, id.
/// Left whole when no such cut exists, two cuts of that many words do, or it ends
/// otherwise (`horsepower`, `airlines` are words of their own).
pub(crate) fn segment(word: &str) -> Vec<String> {
    let lex = crate::lexicon::lexicon();
    let n = word.len();
    if n < 6 || !word.chars().all(|c| c.is_ascii_lowercase()) || lex.is_word(word) {
        return vec![word.to_owned()];
    }
    let piece = |a: usize, b: usize| {
        let p = &word[a..b];
        (p.len() >= 3 && lex.is_word(p)) || (b == n && p == "id")
    };
    // best[i]: (fewest pieces for word[..i], where the last piece starts, whether tied).
    let mut best: Vec<Option<(usize, usize, bool)>> = vec![None; n + 1];
    best[0] = Some((0, 0, false));
    for b in 1..=n {
        for a in 0..b {
            let Some((k, _, tied)) = best[a] else {
                continue;
            };
            if !piece(a, b) {
                continue;
            }
            match best[b] {
                Some((m, _, _)) if m < k + 1 => {}
                Some((m, start, _)) if m == k + 1 => best[b] = Some((m, start, true)),
                _ => best[b] = Some((k + 1, a, tied)),
            }
        }
    }
    match best[n] {
        Some((k, start, false)) if k >= 2 && ATTRIBUTE_ENDS.contains(&&word[start..]) => {
            let mut out = Vec::with_capacity(k);
            let mut end = n;
            while end > 0 {
                let Some((_, start, _)) = best[end] else {
                    break;
                };
                out.push(word[start..end].to_owned());
                end = start;
            }
            out.reverse();
            out
        }
        _ => vec![word.to_owned()],
    }
}

/// The model's other names for something called `words`: display name and synonyms, as
/// stemmed words, without repeats or the name itself.
fn aliases_of(
    display_name: Option<&String>,
    synonyms: &[String],
    words: &[String],
) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for name in display_name.into_iter().chain(synonyms) {
        let w = name_words(name);
        if !w.is_empty() && w.len() <= 4 && w != words && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The model's tables by lower-cased reference (`schema.table` or `table`).
fn model_tables(model: Option<&SemanticModel>) -> HashMap<String, &SemanticTable> {
    let mut out = HashMap::new();
    for st in model.map(|m| m.tables.as_slice()).unwrap_or_default() {
        out.entry(st.table.to_lowercase()).or_insert(st);
    }
    out
}

/// Whether a sorted list holds a word longer than `prefix` that starts with it.
fn longer_with_prefix(sorted: &[String], prefix: &str) -> bool {
    let at = sorted.partition_point(|w| w.as_str() < prefix);
    sorted[at..]
        .iter()
        .take_while(|w| w.starts_with(prefix))
        .any(|w| w.len() > prefix.len())
}

impl Index {
    /// Builds the usable schema, leaving out everything the policy excludes, with what the
    /// semantic model adds (other names, value mappings, join paths, metrics).
    #[allow(clippy::too_many_lines)] // builds every index of a schema in one pass
    pub fn new(
        snapshot: &SchemaSnapshot,
        policy: &PrivacyPolicy,
        model: Option<&SemanticModel>,
    ) -> Self {
        let mut idx = Index::default();
        let described = model_tables(model);
        // The nouns tables are named by: an agent alias ("user" of `used_by`) never takes one.
        let table_nouns: HashSet<String> = snapshot
            .tables
            .iter()
            .filter_map(|t| name_words(&t.name).last().cloned())
            .collect();
        let prefix = schema_prefix(snapshot);
        // Words of a name without the schema's prefix (`sbCustomer` → customer).
        let unprefixed = |name: &str| {
            let mut w = name_words(name);
            if w.len() >= 2 && prefix.as_ref() == w.first() {
                w.remove(0);
            }
            w
        };
        for t in &snapshot.tables {
            if excluded_table(policy, t.schema.as_deref(), &t.name) {
                continue;
            }
            let ti = idx.tables.len();
            let words: Vec<String> = unprefixed(&t.name);
            let st = t
                .schema
                .as_ref()
                .and_then(|s| described.get(&format!("{s}.{}", t.name).to_lowercase()))
                .or_else(|| described.get(&t.name.to_lowercase()))
                .copied();
            let mut cols = Vec::new();
            for c in &t.columns {
                if excluded_column(policy, t.schema.as_deref(), &t.name, &c.name) {
                    continue;
                }
                let cw: Vec<String> = unprefixed(&c.name);
                let sc = st.and_then(|st| {
                    st.columns
                        .iter()
                        .find(|sc| sc.column.eq_ignore_ascii_case(&c.name))
                });
                let generic = |w: &String| GENERIC_NAME_WORDS.contains(&w.as_str());
                let fk = t
                    .foreign_keys
                    .iter()
                    .any(|f| f.columns.iter().any(|x| x == &c.name));
                let mut aliases = sc
                    .map(|sc| aliases_of(sc.display_name.as_ref(), &sc.synonyms, &cw))
                    .unwrap_or_default();
                // `FlightNo` is also "flight number", `emp_cnt` "employee count".
                let spelled = spelled_out(&cw);
                let core: Vec<String> = words.iter().filter(|w| !generic(w)).cloned().collect();
                let short = if cw.len() > words.len() && cw[..words.len()] == words[..] {
                    cw[words.len()..].to_vec()
                } else if spelled.len() > words.len() && spelled[..words.len()] == words[..] {
                    // `sbCustName` of `sbCustomer`: the name after its table's, spelled out.
                    spelled[words.len()..].to_vec()
                } else if !core.is_empty() && cw.len() > core.len() && cw[..core.len()] == core[..]
                {
                    cw[core.len()..].to_vec()
                } else {
                    cw.clone()
                };

                // (A column of one word only when it is no English word: `amt`, `qty`.)
                let one_abbreviation = cw.len() == 1 && !crate::lexicon::lexicon().is_word(&cw[0]);
                if (cw.len() >= 2 || one_abbreviation)
                    && spelled != cw
                    && !aliases.contains(&spelled)
                {
                    aliases.push(spelled);
                }
                // `Fname`, `LName`, `mname`: a person's first, last, middle name.
                if let Some(part) = name_part(&cw)
                    && !aliases.iter().any(|a| a.len() == 2 && a[0] == part)
                {
                    aliases.push(vec![part.to_owned(), "name".to_owned()]);
                }
                for agent in agent_aliases(&cw) {
                    let takes_table = agent.last().is_some_and(|a| table_nouns.contains(a));
                    if !takes_table && !aliases.contains(&agent) {
                        aliases.push(agent);
                    }
                }
                let kind = kind_of(&c.data_type, &c.name, &cw, &c.sample_values);
                let declared = c.data_type.to_lowercase();
                let text_date =
                    kind == Kind::Date && !declared.contains("date") && !declared.contains("time");
                let spelled_short = spelled_out(&short);
                let spelled_short = if spelled_short == short {
                    Vec::new()
                } else {
                    spelled_short
                };
                cols.push(idx.cols.len());
                idx.cols.push(Col {
                    table: ti,
                    name: c.name.clone(),
                    words: cw,
                    short,
                    spelled: spelled_short,
                    kind,
                    text_date,
                    width: fixed_width(&declared),
                    pk: t.primary_key.iter().any(|p| p == &c.name),
                    fk,
                    samples: match sc {
                        Some(sc) if c.sample_values.is_empty() => sc.values.clone(),
                        _ => c.sample_values.clone(),
                    },
                    aliases,
                    mappings: sc
                        .map(|sc| {
                            sc.value_mappings
                                .iter()
                                .filter(|m| !m.phrase.trim().is_empty())
                                .map(|m| (m.phrase.clone(), m.value.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                    metric: None,
                    flag: None,
                });
                let last = idx.cols.len() - 1;
                idx.cols[last].flag =
                    flag_of(&c.data_type, &idx.cols[last].words, &idx.cols[last].samples);
            }
            let generic = |w: &String| GENERIC_NAME_WORDS.contains(&w.as_str());
            let alt: Vec<String> = words.iter().filter(|w| !generic(w)).cloned().collect();
            let alt = if alt.is_empty() || alt.len() == words.len() {
                Vec::new()
            } else {
                alt
            };
            let mut aliases = st
                .map(|st| aliases_of(st.display_name.as_ref(), &st.synonyms, &words))
                .unwrap_or_default();
            // `emp` is also "employee", `dept` "department", `lv_req` "leave request".
            let spelled = spelled_out(&words);
            if spelled != words && !aliases.contains(&spelled) {
                aliases.push(spelled);
            }
            idx.tables.push(Table {
                schema: t.schema.clone(),
                name: t.name.clone(),
                alt,
                words,
                cols,
                aliases,
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
        // The model's manual join paths (single-column ones) are edges like declared keys.
        // Inferred ones are not: the naming convention below already covers what a draft
        // infers, and a person's word is what makes a path trustworthy.
        for j in model.map(|m| m.joins.as_slice()).unwrap_or_default() {
            if j.source != JoinSource::Manual {
                continue;
            }
            let (Some(from_t), Some(to_t)) =
                (idx.table_ref(&j.from_table), idx.table_ref(&j.to_table))
            else {
                continue;
            };
            let ([fc], [tc]) = (j.from_columns.as_slice(), j.to_columns.as_slice()) else {
                continue;
            };
            let (Some(a), Some(b)) = (idx.find_col(from_t, fc), idx.find_col(to_t, tc)) else {
                continue;
            };
            let e = Edge { from: a, to: b };
            let reverse = Edge { from: b, to: a };
            if from_t != to_t && !idx.edges.contains(&e) && !idx.edges.contains(&reverse) {
                idx.edges.push(e);
            }
        }
        idx.implicit_keys();
        // Undeclared references by naming convention: a column named after another table
        // (`flights.airline` → `airlines`, `orders.customer_id` → `customers`, with the
        // table's own prefix left out: `sbTxTickerId` → `sbTicker`) or named like its key
        // (`writes.aid` → `author.aid`) points at that table's single-column primary key
        // when no foreign key is declared on it.
        // Tables by their words, and single keys by their name (looked up per column, not
        // scanned: a schema may have 10,000 tables).
        let mut by_words: HashMap<&[String], Vec<usize>> = HashMap::new();
        let mut by_key_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (ti, t) in idx.tables.iter().enumerate() {
            by_words.entry(t.words.as_slice()).or_default().push(ti);
            if !t.alt.is_empty() && t.alt != t.words {
                by_words.entry(t.alt.as_slice()).or_default().push(ti);
            }
            if let [k] = t
                .cols
                .iter()
                .filter(|&&k| idx.cols[k].pk)
                .collect::<Vec<_>>()[..]
            {
                by_key_name
                    .entry(idx.cols[*k].name.to_lowercase())
                    .or_default()
                    .push(ti);
            }
        }
        let mut inferred = Vec::new();
        for (ci, c) in idx.cols.iter().enumerate() {
            let sole_key = c.pk && idx.key_width(c.table) == 1;
            if sole_key || c.fk {
                continue;
            }
            // (`customer_id`, `dept_cd`, `job_code`, `flight_no`: a key's last word.)
            let keyish = |w: &str| matches!(w, "id" | "cd" | "code" | "key" | "no" | "num" | "nbr");
            let base_of = |words: &'_ [String]| -> Vec<String> {
                match words.split_last() {
                    Some((last, rest)) if keyish(last) && !rest.is_empty() => rest.to_vec(),
                    _ => words.to_vec(),
                }
            };
            let (base, short) = (base_of(&c.words), base_of(&c.short));
            let name = c.name.to_lowercase();
            let same_key = (name.len() >= 3
                && (name.ends_with("id") || c.words.last().is_some_and(|w| keyish(w))))
            .then(|| by_key_name.get(&name))
            .flatten();
            // The table the name says first; a key of the same name only when none does.
            let mut candidates: Vec<usize> = [
                by_words.get(base.as_slice()),
                by_words.get(short.as_slice()),
            ]
            .into_iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|&t| t != c.table)
            .collect();
            if candidates.is_empty() {
                candidates = same_key
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&t| t != c.table)
                    .collect();
            }
            candidates.sort_unstable();
            candidates.dedup();
            // (Two tables so named or keyed: no guess.)
            let [ti] = candidates[..] else {
                continue;
            };
            let pks: Vec<usize> = idx.tables[ti]
                .cols
                .iter()
                .copied()
                .filter(|&k| idx.cols[k].pk)
                .collect();
            // (A code or number the other table has under the same name is that column, not
            // a reference to its key: `tickets.flight_no` and `flights.flight_no` beside
            // `flights.id`. A name like the table's, `flights.airline`, still refers.)
            let coded = c.words.last().is_some_and(|w| w != "id" && keyish(w));
            let same_name = coded
                && idx.tables[ti]
                    .cols
                    .iter()
                    .any(|&k| !idx.cols[k].pk && idx.cols[k].name.eq_ignore_ascii_case(&c.name));
            if let [pk] = pks.as_slice()
                && idx.cols[*pk].kind == c.kind
                && !same_name
                && !idx.edges.iter().any(|e| e.from == ci)
            {
                inferred.push(Edge { from: ci, to: *pk });
            }
        }
        idx.edges.extend(inferred);
        idx.order_parallel_keys();
        idx.prune_aliases();
        for m in model.map(|m| m.metrics.as_slice()).unwrap_or_default() {
            idx.add_metric(m, policy);
        }
        idx.prefer_metrics();
        idx.collect_name_words();
        idx.add_business_measures();
        idx.values = idx.question_values();
        idx.build_vocab();
        idx
    }

    /// A name that is both a metric's (or its synonym) and a plain column's synonym means
    /// the metric: "revenue" is `SUM(total_amount)`, not each order's amount.
    fn prefer_metrics(&mut self) {
        let metric_names: Vec<Vec<String>> = self
            .cols
            .iter()
            .filter(|c| c.metric.is_some())
            .flat_map(|c| std::iter::once(c.words.clone()).chain(c.aliases.iter().cloned()))
            .collect();
        if metric_names.is_empty() {
            return;
        }
        for c in self.cols.iter_mut().filter(|c| c.metric.is_none()) {
            c.aliases.retain(|a| !metric_names.contains(a));
        }
    }

    /// Whether a word names a table or column (or a metric, or another name of one).
    pub(crate) fn names(&self, word: &str) -> bool {
        self.name_words.contains(word)
    }

    /// Adds a measure the schema does not name itself, with its names.
    fn add_measure(&mut self, col: Col) {
        self.name_words.extend(
            col.words
                .iter()
                .chain(col.aliases.iter().flatten())
                .cloned(),
        );
        self.cols.push(col);
    }

    /// Fills [`Index::name_words`] from the tables and columns (metrics included).
    fn collect_name_words(&mut self) {
        let tables = self
            .tables
            .iter()
            .flat_map(|t| t.words.iter().chain(t.aliases.iter().flatten()));
        let cols = self
            .cols
            .iter()
            .flat_map(|c| c.words.iter().chain(c.aliases.iter().flatten()));
        self.name_words = tables.chain(cols).cloned().collect();
    }

    /// Measures business users name without a semantic model, as metrics when the schema
    /// has no name of its own for them: "revenue" / "sales" / "spend" … is the sum of the
    /// one money amount of a dated (transaction) table, "headcount" the number of rows of
    /// the one staff table. Nothing is added when the choice is not clear.
    fn add_business_measures(&mut self) {
        use crate::lexicon::{HEADCOUNT, MONEY_MEASURE, STAFF_TABLE};
        let measure_words: Vec<String> = MONEY_MEASURE.iter().map(|w| stem(w)).collect();
        // A column (or metric) named by one of the words keeps them all; a table named so
        // (`bookings`, and its keys `booking_id`) keeps its own word only.
        let names_a_col = |w: &String| {
            self.cols.iter().any(|c| {
                !c.pk && !c.fk && (c.words.contains(w) || c.aliases.iter().any(|a| a.contains(w)))
            })
        };
        if !measure_words.iter().any(names_a_col) && !self.names("revenue") {
            // (rank of the money word, has no date column, column)
            let mut best: Vec<(usize, bool, usize)> = Vec::new();
            for (ci, c) in self.cols.iter().enumerate() {
                let Some(rank) = self.money_rank(ci) else {
                    continue;
                };
                let dated = self.tables[c.table]
                    .cols
                    .iter()
                    .any(|&k| self.cols[k].kind == Kind::Date);
                best.push((rank, !dated, ci));
            }
            best.sort_unstable();
            if let Some(&(_, undated, ci)) = self.one_money_measure(&best)
                && !undated
            {
                let table = self.cols[ci].table;
                self.add_measure(Col {
                    table,
                    name: "revenue".into(),
                    words: vec!["revenue".into()],
                    short: vec!["revenue".into()],
                    spelled: Vec::new(),
                    kind: Kind::Number,
                    text_date: false,
                    width: None,
                    pk: false,
                    fk: false,
                    samples: Vec::new(),
                    aliases: measure_words
                        .iter()
                        .filter(|w| *w != "revenue" && !self.names(w))
                        .map(|w| vec![w.clone()])
                        .collect(),
                    mappings: Vec::new(),
                    flag: None,
                    metric: Some(vec![
                        Piece::Text("SUM(".into()),
                        Piece::Col(ci),
                        Piece::Text(")".into()),
                    ]),
                });
            }
        }
        if !HEADCOUNT.iter().any(|w| self.names(w)) {
            let staff: Vec<usize> = (0..self.tables.len())
                .filter(|&t| {
                    self.tables[t]
                        .words
                        .last()
                        .is_some_and(|w| STAFF_TABLE.contains(&w.as_str()))
                })
                .collect();
            if let [t] = staff.as_slice()
                && let Some(k) = self.key_col(*t)
            {
                self.add_measure(Col {
                    table: *t,
                    name: "headcount".into(),
                    words: vec!["headcount".into()],
                    short: vec!["headcount".into()],
                    spelled: Vec::new(),
                    kind: Kind::Number,
                    text_date: false,
                    width: None,
                    pk: false,
                    fk: false,
                    samples: Vec::new(),
                    aliases: HEADCOUNT[1..].iter().map(|w| vec![stem(w)]).collect(),
                    mappings: Vec::new(),
                    flag: None,
                    metric: Some(vec![
                        Piece::Text("COUNT(DISTINCT ".into()),
                        Piece::Col(k),
                        Piece::Text(")".into()),
                    ]),
                });
            }
        }
    }

    /// The first of money columns ranked as (rank of the money word, has no date column,
    /// column), when the choice is clear: alone at its rank, or the amount of the one table
    /// the others' rows roll up to when those are its payments or lines — a booking's total
    /// over its payments' amounts, an order's over its lines', the same money counted at
    /// the transaction.
    fn one_money_measure<'b>(
        &self,
        best: &'b [(usize, bool, usize)],
    ) -> Option<&'b (usize, bool, usize)> {
        let first = best.first()?;
        let tied: Vec<&(usize, bool, usize)> = best
            .iter()
            .take_while(|b| (b.0, b.1) == (first.0, first.1))
            .collect();
        if tied.len() == 1 {
            return Some(first);
        }
        let table = |b: &(usize, bool, usize)| self.cols[b.2].table;
        // (Only the parts of one transaction: payments or lines. A customer's credit limit
        // is no total of their orders.)
        let part = |b: &(usize, bool, usize)| {
            let words = || {
                self.tables[table(b)]
                    .words
                    .iter()
                    .chain(&self.cols[b.2].words)
            };
            words().any(|w| {
                matches!(
                    w.as_str(),
                    "pay" | "payment" | "paid" | "line" | "item" | "detail" | "installment"
                )
            })
        };
        let parents: Vec<&&(usize, bool, usize)> = tied
            .iter()
            .filter(|p| {
                tied.iter().all(|o| {
                    o.2 == p.2
                        || table(o) != table(p) && part(o) && self.rolls_up(table(o), table(p), 2)
                })
            })
            .collect();
        match parents.as_slice() {
            [p] => Some(**p),
            _ => None,
        }
    }

    /// Fills [`Index::vocab`] and [`Index::roots`].
    fn build_vocab(&mut self) {
        let mut vocab: HashSet<String> = HashSet::new();
        for t in &self.tables {
            vocab.extend(t.words.iter().chain(&t.alt).cloned());
            vocab.extend(t.aliases.iter().flatten().cloned());
        }
        for c in &self.cols {
            vocab.extend(c.words.iter().chain(&c.short).cloned());
            vocab.extend(c.aliases.iter().flatten().cloned());
        }
        let mut value_words: HashSet<String> = HashSet::new();
        for v in &self.values {
            for w in &v.words {
                for w in [stem(w), w.clone()] {
                    if !vocab.contains(&w) && v.words.len() == 1 {
                        value_words.insert(w.clone());
                    }
                    vocab.insert(w);
                }
            }
        }
        vocab.retain(|w| !w.is_empty());
        value_words.retain(|w| !w.is_empty());
        self.value_words = value_words;
        self.roots = vocab
            .iter()
            .filter(|w| w.len() >= 4)
            .map(|w| root(w).to_owned())
            .collect();
        let mut sorted: Vec<String> = vocab.iter().cloned().collect();
        sorted.sort_unstable();
        let mut reversed: Vec<String> = vocab.iter().map(|w| w.chars().rev().collect()).collect();
        reversed.sort_unstable();
        self.sorted = sorted;
        self.reversed = reversed;
        self.vocab = vocab;
    }

    /// Whether a known word is longer than `part` and starts with it.
    pub fn word_starting(&self, part: &str) -> bool {
        longer_with_prefix(&self.sorted, part)
    }

    /// Whether a known word is longer than `part` and ends with it.
    pub fn word_ending(&self, part: &str) -> bool {
        let rev: String = part.chars().rev().collect();
        longer_with_prefix(&self.reversed, &rev)
    }

    /// Drops the model's other names that would take a word from something named so:
    /// a table's alias that is another table's name, a column's alias that is a table's
    /// name (a drafted `singer_id` → "singer" must not shadow the table `singer`) or
    /// another column's name in its table, and a column's alias made only of words of its
    /// own name (`winner_id` → "winner": the name's words already match, and alone they
    /// would pull "winners" away from `winner_age`).
    fn prune_aliases(&mut self) {
        let table_names: Vec<Vec<String>> = self
            .tables
            .iter()
            .flat_map(|t| [t.words.clone(), t.alt.clone()])
            .filter(|w| !w.is_empty())
            .collect();
        for t in &mut self.tables {
            t.aliases.retain(|a| !table_names.contains(a));
        }
        // A column's other name that is another table's other name ("client" on
        // `orders.customer_id` and on `customers`) means the table: the column is only its key.
        let table_aliases: Vec<(usize, Vec<String>)> = self
            .tables
            .iter()
            .enumerate()
            .flat_map(|(ti, t)| t.aliases.iter().map(move |a| (ti, a.clone())))
            .collect();
        for ti in 0..self.tables.len() {
            let cols = self.tables[ti].cols.clone();
            for &c in &cols {
                if self.cols[c].aliases.is_empty() {
                    continue;
                }
                let taken: Vec<Vec<String>> = cols
                    .iter()
                    .filter(|&&o| o != c)
                    .flat_map(|&o| [self.cols[o].words.clone(), self.cols[o].short.clone()])
                    .collect();
                let own = self.cols[c].words.clone();
                self.cols[c].aliases.retain(|a| {
                    !table_names.contains(a)
                        && !table_aliases.iter().any(|(t, ta)| *t != ti && ta == a)
                        && !taken.contains(a)
                        && !a.iter().all(|w| own.contains(w))
                });
            }
        }
    }

    /// Sampled values of text columns, pre-tokenised, then the model's value mappings.
    fn question_values(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for (ci, c) in self.cols.iter().enumerate() {
            if c.kind != Kind::Text {
                continue;
            }
            for v in &c.samples {
                let w = value_words(v);
                if w.is_empty() || v.trim().parse::<f64>().is_ok() {
                    continue;
                }
                // One letter is a value only as a code ("F", "M"; matched as written).
                let letter = w[0].chars().count() == 1 && w[0].chars().all(char::is_alphabetic);
                if w.len() == 1 && ((w[0].chars().count() < 2 && !letter) || is_stopword(&w[0])) {
                    continue;
                }
                out.push(Value {
                    col: ci,
                    value: v.clone(),
                    said: v.to_lowercase().trim().to_owned(),
                    words: w,
                    mapped: false,
                });
            }
        }
        for (ci, c) in self.cols.iter().enumerate() {
            for (phrase, value) in &c.mappings {
                let w = value_words(phrase);
                if w.is_empty() || (w.len() == 1 && is_stopword(&w[0])) {
                    continue;
                }
                out.push(Value {
                    col: ci,
                    value: value.clone(),
                    said: phrase.to_lowercase().trim().to_owned(),
                    words: w,
                    mapped: true,
                });
            }
        }
        out
    }

    /// Adds a metric as a pseudo-column of its table, when its table is usable and every
    /// column its expression references resolves to a usable column (so a metric over an
    /// excluded column is never offered).
    fn add_metric(&mut self, m: &Metric, policy: &PrivacyPolicy) {
        let Some(ti) = self.table_ref(&m.table) else {
            return;
        };
        let Some(pieces) = self.parse_expression(&m.expression, ti, policy) else {
            return;
        };
        if !pieces.iter().any(|p| matches!(p, Piece::Col(_))) {
            return;
        }
        let words = name_words(&m.name);
        if words.is_empty() {
            return;
        }
        // "how many orders", "number of orders", "orders placed" (the count cue or a
        // participle beside the table's noun) for a count of the table's own rows say no
        // more than the planner reads in them: kept as names, they
        // would take the head of "How many orders were placed by customers in India?".
        let table_words = &self.tables[ti].words;
        let mut aliases = aliases_of(None, &m.synonyms, &words);
        let lex = crate::lexicon::lexicon();
        aliases.retain(|a| {
            let rest: Vec<&String> = a
                .iter()
                .filter(|w| {
                    let cue = matches!(w.as_str(), "how" | "many" | "number" | "of");
                    let participle = w.ends_with("ed") && lex.lemma(w).is_some();
                    !cue && !participle
                })
                .collect();
            rest.len() != table_words.len()
                || !rest.iter().zip(table_words).all(|(a, b)| *a == b)
                || rest.len() == a.len()
        });
        self.cols.push(Col {
            table: ti,
            name: m.name.clone(),
            short: words.clone(),
            spelled: Vec::new(),
            words,
            kind: Kind::Number,
            text_date: false,
            width: None,
            pk: false,
            fk: false,
            samples: Vec::new(),
            aliases,
            mappings: Vec::new(),
            metric: Some(pieces),
            flag: None,
        });
    }

    /// Splits a metric's SQL expression into text and column references: `table.column`
    /// (or `schema.table.column`) anywhere, a bare name when it is a column of the metric's
    /// table `home` and not a function call. `None` when a qualified reference does not
    /// resolve to a usable column.
    fn parse_expression(
        &self,
        expr: &str,
        home: usize,
        policy: &PrivacyPolicy,
    ) -> Option<Vec<Piece>> {
        let chars: Vec<char> = expr.chars().collect();
        let mut out: Vec<Piece> = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        let ident_char = |c: char| c.is_alphanumeric() || c == '_';
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // A string literal, copied as written ('' escapes a quote).
                text.push(c);
                i += 1;
                while i < chars.len() {
                    text.push(chars[i]);
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            text.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            if !(ident_char(c) || c == '"' || c == '`') || c.is_ascii_digit() {
                // Numbers run together with their digits and letters (`1e3`).
                if c.is_ascii_digit() {
                    while i < chars.len() && (ident_char(chars[i]) || chars[i] == '.') {
                        text.push(chars[i]);
                        i += 1;
                    }
                } else {
                    text.push(c);
                    i += 1;
                }
                continue;
            }
            // An identifier chain: parts separated by dots, each bare or quoted.
            let start = i;
            let mut parts: Vec<String> = Vec::new();
            loop {
                let mut part = String::new();
                if i < chars.len() && (chars[i] == '"' || chars[i] == '`') {
                    let q = chars[i];
                    i += 1;
                    while i < chars.len() && chars[i] != q {
                        part.push(chars[i]);
                        i += 1;
                    }
                    i += 1;
                } else {
                    while i < chars.len() && ident_char(chars[i]) {
                        part.push(chars[i]);
                        i += 1;
                    }
                }
                parts.push(part);
                if i + 1 < chars.len()
                    && chars[i] == '.'
                    && (ident_char(chars[i + 1]) || chars[i + 1] == '"' || chars[i + 1] == '`')
                {
                    i += 1;
                    continue;
                }
                break;
            }
            let raw: String = chars[start..i.min(chars.len())].iter().collect();
            let call = chars[i.min(chars.len())..]
                .iter()
                .find(|c| !c.is_whitespace())
                == Some(&'(');
            let resolved = match parts.as_slice() {
                [col] if !call => {
                    let t = &self.tables[home];
                    if excluded_column(policy, t.schema.as_deref(), &t.name, col) {
                        return None;
                    }
                    self.find_col(home, col)
                }
                [.., table, col] => {
                    let schema = (parts.len() == 3).then(|| parts[0].as_str());
                    let t = self.find_table(schema, table)?;
                    Some(self.find_col(t, col)?)
                }
                _ => None,
            };
            match resolved {
                Some(ci) => {
                    if !text.is_empty() {
                        out.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    out.push(Piece::Col(ci));
                }
                None => text.push_str(&raw),
            }
        }
        if !text.is_empty() {
            out.push(Piece::Text(text));
        }
        Some(out)
    }

    /// The table a model reference (`schema.table` or `table`) names.
    fn table_ref(&self, reference: &str) -> Option<usize> {
        match reference.rsplit_once('.') {
            Some((schema, name)) => self
                .find_table(Some(schema), name)
                .or_else(|| self.find_table(None, reference)),
            None => self.find_table(None, reference),
        }
    }

    /// Tables other than its own that a metric column's expression reads.
    pub fn metric_tables(&self, c: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for p in self.cols[c].metric.iter().flatten() {
            if let Piece::Col(k) = p {
                let t = self.cols[*k].table;
                if t != self.cols[c].table && !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
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

    /// The one money amount of table `t` ("total_amount", "price"), by the rank of its
    /// money word; `None` when there is none or two rank alike.
    pub fn money_col(&self, t: usize) -> Option<usize> {
        let mut ranked: Vec<(usize, usize)> = self.tables[t]
            .cols
            .iter()
            .filter_map(|&c| self.money_rank(c).map(|rank| (rank, c)))
            .collect();
        ranked.sort_unstable();
        match ranked.as_slice() {
            [(r, c), rest @ ..] if rest.first().is_none_or(|(r2, _)| r2 != r) => Some(*c),
            _ => None,
        }
    }

    /// Whether column `c` holds an amount of money, as the rank of its money word in
    /// `MONEY_COLUMN` (most transaction-like first): a plain number column (no key, no
    /// metric) named with a money word and none of `NOT_MONEY`.
    fn money_rank(&self, c: usize) -> Option<usize> {
        use crate::lexicon::{MONEY_COLUMN, NOT_MONEY};
        let col = &self.cols[c];
        if col.kind != Kind::Number || col.pk || col.fk || col.metric.is_some() {
            return None;
        }
        // (A rate said in money is money: `nightly_rate_amt`, `hourly_rate_cost`; not
        // `interest_rate` or `price_rate`.)
        let last = col.spelled.last().or(col.words.last());
        let in_money = last
            .is_some_and(|w| matches!(w.as_str(), "amount" | "price" | "cost" | "fee" | "charge"));
        if col
            .words
            .iter()
            .any(|w| NOT_MONEY.contains(&w.as_str()) && !(in_money && w == "rate"))
        {
            return None;
        }
        // (Spelled out too: `amt` is an amount.)
        MONEY_COLUMN
            .iter()
            .position(|m| col.words.iter().chain(&col.spelled).any(|w| *w == stem(m)))
    }

    /// Whether the schema says `word` (lower case): a name of a table or column, or a stored
    /// value said so.
    pub(crate) fn says(&self, word: &str) -> bool {
        self.names(word) || self.holds_said(word)
    }

    /// Whether a stored value is said as `said` (lower case, trimmed).
    pub(crate) fn holds_said(&self, said: &str) -> bool {
        self.values.iter().any(|v| v.said == said)
    }

    /// Whether column `c` keeps the date its row ended (`term_dt`, `end_date`, `left_on`;
    /// not `term_start_date`), empty while the row goes on.
    pub(crate) fn ends_rows(&self, c: usize) -> bool {
        let col = &self.cols[c];
        let words = || col.words.iter().chain(&col.spelled);
        col.kind == Kind::Date
            && !col.pk
            && words().any(|w| crate::lexicon::END_WORDS.contains(&w.as_str()))
            && !words().any(|w| matches!(w.as_str(), "start" | "begin" | "from" | "first"))
    }

    /// The one form a column keeps its codes in: the length of every sampled value when
    /// all are capitals or digits (three samples at least: 'GBR', 'USA', 'FRA'), else the
    /// length a `CHAR(n)` of up to four fixes.
    pub(crate) fn code_width(&self, c: usize) -> Option<usize> {
        let col = &self.cols[c];
        let n = col.samples.first().map(|v| v.chars().count());
        let sampled = n.filter(|&n| {
            col.samples.len() >= 3
                && col
                    .samples
                    .iter()
                    .all(|v| is_code(v) && v.chars().count() == n)
        });
        sampled.or_else(|| {
            col.width
                .filter(|&n| n <= 4 && col.samples.iter().all(|v| v.chars().count() == n))
        })
    }

    /// The column people use to name a row of `t`: `name`, `title`, `*_name`, … .
    pub fn label_col(&self, t: usize) -> Option<usize> {
        let cols = &self.tables[t].cols;
        let score = |c: usize| -> i32 {
            let col = &self.cols[c];
            // (`emp_nm` labels as a name does.)
            let w = &spelled_out(&col.words);
            let last = w.last().map(String::as_str).unwrap_or("");
            let text = col.kind == Kind::Text;
            let tw = &self.tables[t].words;
            let tw_alt = &self.tables[t].alt;
            let person_part = |first: &str| {
                cols.iter().any(|&k| {
                    let kw = &self.cols[k].words;
                    kw.len() == 2 && kw[0] == first && kw[1] == "name"
                })
            };
            if w.len() == 2 && w[0] == "first" && last == "name" && person_part("last") {
                // A person: the first name leads (the whole name is shown, see
                // `name_whole_people`), before a job title or other text.
                11
            } else if text && (w == tw || (!tw_alt.is_empty() && w == tw_alt)) {
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

    /// A table with no declared primary key whose rows are still keyed by a column named
    /// for it gets that column as its key: `id`, the table's name and `id` (`authorid` of
    /// `author`, `paper_id` of `paper`), or, in a table named by one word, its initial and
    /// `id` (`aid` of `author`). Only one such column per table, never a column that is
    /// part of a declared foreign key, and never an initial's name that two tables would
    /// take (`pid` of `player` and of `plays`: a reference in one of them).
    fn implicit_keys(&mut self) {
        let mut chosen: Vec<(usize, bool)> = Vec::new(); // (column, by initial)
        for t in 0..self.tables.len() {
            if self.key_width(t) > 0 {
                continue;
            }
            let compact: String = self.tables[t].words.concat();
            let initial = compact.chars().next();
            // (A table of links, `publication_keyword`, is keyed by none of its columns.)
            let single = self.tables[t].words.len() == 1;
            let keyed: Vec<(usize, bool)> = self.tables[t]
                .cols
                .iter()
                .filter_map(|&c| {
                    let n: String = self.cols[c]
                        .name
                        .to_lowercase()
                        .chars()
                        .filter(|ch| *ch != '_')
                        .collect();
                    let by_initial =
                        single && n.len() == 3 && n.ends_with("id") && n.chars().next() == initial;
                    (self.cols[c].kind != Kind::Date
                        && !self.cols[c].fk
                        && (n == "id" || n == format!("{compact}id") || by_initial))
                        .then_some((c, by_initial))
                })
                .collect();
            if let [one] = keyed.as_slice() {
                chosen.push(*one);
            }
        }
        // How many tables would take each name (counted once, not per pair: a schema may
        // have 10,000 tables keyed by `id`).
        let mut takers: HashMap<String, usize> = HashMap::new();
        for &(k, _) in &chosen {
            *takers.entry(self.cols[k].name.to_lowercase()).or_default() += 1;
        }
        for &(k, by_initial) in &chosen {
            let shared = takers
                .get(&self.cols[k].name.to_lowercase())
                .is_some_and(|n| *n > 1);
            if !(by_initial && shared) {
                self.cols[k].pk = true;
            }
        }
    }

    /// Whether a column refers to another table's rows (a declared or inferred key) and is
    /// no key of its own table.
    pub(crate) fn references(&self, c: usize) -> bool {
        !self.cols[c].pk && self.edges.iter().any(|e| e.from == c)
    }

    /// How many columns table `t`'s primary key has (declared or implied by its names).
    pub(crate) fn key_width(&self, t: usize) -> usize {
        self.tables[t]
            .cols
            .iter()
            .filter(|&&c| self.cols[c].pk)
            .count()
    }

    /// Two keys from one table to another (`friend.student_id` and `friend.friend_id`,
    /// both to `highschooler`) are tried in the order of their columns: the first is the
    /// row's owner ("students who have friends" join on `student_id`). Catalogs list keys
    /// in no useful order (SQLite lists the last declared first).
    fn order_parallel_keys(&mut self) {
        let mut groups: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for (i, e) in self.edges.iter().enumerate() {
            groups
                .entry((self.cols[e.from].table, self.cols[e.to].table))
                .or_default()
                .push(i);
        }
        for at in groups.into_values().filter(|at| at.len() >= 2) {
            let mut group: Vec<Edge> = at.iter().map(|&i| self.edges[i]).collect();
            group.sort_by_key(|e| e.from);
            for (i, e) in at.into_iter().zip(group) {
                self.edges[i] = e;
            }
        }
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

    /// Whether rows of `child` each point at one row of `parent` through at most `hops`
    /// foreign keys followed from the referencing side (sales → listings → agents): summing
    /// a number of `child` per row of `parent` counts each child row once.
    pub fn rolls_up(&self, child: usize, parent: usize, hops: usize) -> bool {
        if child == parent {
            return true;
        }
        hops > 0
            && self.edges.iter().any(|e| {
                self.cols[e.from].table == child
                    && self.cols[e.to].table != child
                    && self.rolls_up(self.cols[e.to].table, parent, hops - 1)
            })
    }

    /// Whether column `c` is a foreign key to a row of table `t`.
    pub fn points_at(&self, c: usize, t: usize) -> bool {
        self.edges
            .iter()
            .any(|e| e.from == c && self.cols[e.to].table == t)
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

    /// The table a (stemmed) noun names: the last word of its name, of its name without
    /// generic words, or of one of its other names ("order" → `orders`, "client" →
    /// `customers` with that synonym).
    pub fn table_named_by(&self, stem: &str) -> Option<usize> {
        // A table named by the word alone (`Pets`) before one ending in it (`Has_Pet`).
        let whole = |w: &[String]| w.len() == 1 && w[0] == stem;
        if let Some(t) = self
            .tables
            .iter()
            .position(|t| whole(&t.words) || whole(&t.alt) || t.aliases.iter().any(|a| whole(a)))
        {
            return Some(t);
        }
        self.tables.iter().position(|t| {
            t.words.last().is_some_and(|w| w == stem)
                || t.alt.last().is_some_and(|w| w == stem)
                || t.aliases
                    .iter()
                    .any(|a| a.last().is_some_and(|w| w == stem))
        })
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

impl Col {
    /// The column's names: its own words, then its other names (abbreviations spelled
    /// out, the semantic model's display name and synonyms, agent nouns).
    pub fn names(&self) -> impl Iterator<Item = &Vec<String>> {
        std::iter::once(&self.words).chain(self.aliases.iter())
    }
}

/// The part of a person's name a column abbreviates: `fname` / `f_name` → "first",
/// `lname` → "last", `mname` → "middle".
fn name_part(words: &[String]) -> Option<&'static str> {
    // (After the table's own words, abbreviated or not: `drv_fnm`, `cust_lname`.)
    let (letter, rest) = match words {
        [.., l, n] if l.len() == 1 => (l.as_str(), n.as_str()),
        [.., w] if (3..=5).contains(&w.len()) && w.is_ascii() => w.split_at(1),
        _ => return None,
    };
    if !matches!(rest, "name" | "nm" | "nme") {
        return None;
    }
    match letter {
        "f" => Some("first"),
        "l" => Some("last"),
        "m" => Some("middle"),
        _ => None,
    }
}

/// Who did what a `<verb>ed_by` column records: `directed_by` is also "director",
/// `written_by` "writer", `produced_by` "producer" (the agent nouns of the verb's lemma).
fn agent_aliases(words: &[String]) -> Vec<Vec<String>> {
    let [head @ .., verb, by] = words else {
        return Vec::new();
    };
    if by != "by" {
        return Vec::new();
    }
    let Some(lemma) = crate::lexicon::lexicon().lemma(verb) else {
        return Vec::new();
    };
    let agents = if lemma.ends_with('e') {
        vec![format!("{lemma}r")]
    } else {
        vec![format!("{lemma}or"), format!("{lemma}er")]
    };
    agents
        .into_iter()
        .map(|a| head.iter().cloned().chain(std::iter::once(a)).collect())
        .collect()
}
