//! # querent-offline
//!
//! The built-in deterministic translator from plain-language questions to SQL (design §7),
//! and the default provider ([`OfflineProvider`], name `offline`) so the server answers
//! questions out of the box: no network, no model, no tokens.
//!
//! **What it understands.** It tokenises the question (quoted literals, numbers, number
//! words, clause and sentence breaks), singularises words and splits identifiers
//! (`snake_case`, `camelCase`, abbreviations such as `fname` for "first name"), then links
//! words to tables, columns (with a small generic synonym lexicon) and sampled column values.
//! From cue words it builds one `SELECT`:
//! - counts ("how many", "number of", "how many different …" → `COUNT(DISTINCT …)`);
//! - lists with filters: values found among the samples or quoted/capitalised in the
//!   question (short upper-case codes go to code columns), "contains 'x'" (`LIKE`), numeric
//!   comparisons ("more than 5", "at least", "no more than", "between … and …"), years
//!   ("in 2023", "before 2020", on date or year columns), relative ranges ("this month",
//!   "last month", "last year", "last 7 days"), comparisons with the average ("above the
//!   average price"), "X or Y" on one column;
//! - aggregates (sum/avg/min/max) with grouping ("per", "for each", "by");
//! - top-k and superlatives ("top 5 … by total …", "the 3 oldest", "the most recent",
//!   "which … has the most …", "whose … is the largest");
//! - distinct values ("what are the different …");
//! - joins along the shortest foreign-key path between the tables involved (plus references
//!   implied by naming, `flights.airline` → `airlines`, when none is declared);
//! - having-count ("with more than 3 orders", "visited more than once");
//! - negation ("customers who have no orders", "… not 'France'", "who do not have a cat")
//!   as `NOT IN` subqueries, and "both X and Y" as `INTERSECT`;
//! - ordering ("sorted by", "in descending order of", "alphabetical", "by frequency").
//!
//! **Grounding, before planning** (`time`, `ground`, `lexicon`): dates said in words
//! become a calendar window or a series grain ("in May 2025", "in Q3 2024", "since
//! January 2024", "between March and June 2023", "by month", "monthly", "year over year";
//! the grain is rendered per dialect, the window as `YYYY-MM-DD` literals). A word the
//! schema does not know is read as one it does through one lexicon: business vocabulary
//! ("clients" → customers, "staff" → employees), a compact WordNet 3.0 table of synonyms
//! and of the nouns adjectives pertain to ("vocalists" → singer, "French" → France; data in
//! `data/`, licence `data/WORDNET-LICENSE`), places by code, name or adjective ("TX" →
//! Texas, "Germany" → `DE`), and misspellings one or two edits away. Without a semantic
//! model, "revenue"/"sales"/"spend" is the sum of the one money amount of a dated table and
//! "headcount" the count of the one staff table. The explanation says how words were read.
//! Phrases are rewritten before planning too (`text`, `ground`): "the word computer" is the
//! text `computer`; "types of X" are X's distinct values (a table's kind column);
//! "year of independence" is the column named the other way round (`IndepYear`), and so
//! are roles prefixed to a column ("the names of the winner and loser": `winner_name`,
//! `loser_name`); "out of stock" is none left of the one numeric column so named; "female"
//! is the stored `F`; "speak French" / "where Dutch is spoken" name a language; "the most
//! recently hired employee" is the employee hired most recently; a value of a table of
//! kinds used as a noun ("How many laptops…", "the cheapest phone") stands for the rows of
//! the one table that points at it; "the lowest priced product" is the product with the
//! lowest price; the adjective of a yes/no column ("official languages", "retired horses",
//! "not discontinued") is taken out and becomes its condition after planning. Derived word
//! forms from WordNet ("acceleration" → `accelerate`) are read after the synonyms, and last
//! a noun's specific broader or narrower word or a verb's synonym, only onto a table or
//! column name ("guests" → `visitor`, "established" → `founded`). Ages said in words
//! ("teenagers", "in their thirties") are ranges of an age column; a country or state the
//! samples miss goes to a column or table of places; a role named by a numeric key ("sales
//! reps") is the rows it points at; a prefix all table names share (`sb`) is no part of
//! them. Schemas without declared keys get them from names: a table's own `id`,
//! `<table>id` or `<initial>id` column is its key, and a column named like another table's
//! key (or its table, after the column prefix) refers to it; identifiers written as one
//! word are cut before an attribute word (`authorname`). A word broader than one table's
//! noun names it ("animals" for `Dogs`); "50 million" is one number; half-years and
//! decades are windows.
//! After planning, a listing filtered through a to-many join shows each row once, a
//! listing whose first table nothing reads is planned again from the tables it reads, an
//! aggregate of the first table's rows filtered through rows they have many of uses
//! `key IN (subquery)` (each row counted once), a metric per a table the breakdown names is
//! grouped by that table's rows, and an average per the table's own row is the one average;
//! a metric computed across joins that repeat its rows is replaced by a metric of the model
//! named like it over rows they do not repeat, or refused.
//!
//! **Precision first.** A question that rests on a noun nothing explains ("ratio",
//! "weather"), names a table or value the query would leave out, asks for a breakdown the
//! query cannot show, or asks for a value when only whole rows were found is answered with
//! [`CannotTranslate`], naming the words and what would help (the schema's words, a
//! synonym or metric in the semantic model, an LLM provider) — a wrong answer presented as
//! real is worse than none. Every translation also carries a **confidence**
//! ([`Translation::confidence`], `confidence.rs`): each doubt — a word nothing explains, a
//! reading through a synonym, misspelling or broader word, a known word the query leaves
//! out, a table read that no word names, many joins or columns, a long question, and shapes
//! of the query no reading of any question wants (grouped by the number it computes, a
//! breakdown said but not made, a column beside figures its groups do not determine,
//! rows of an unnamed table counted, a state said of the rows left out beside a status
//! column) — multiplies it down; below [`TranslatorOptions::min_confidence`] the question is refused
//! with the doubts named, and an answer below 1 says its confidence and doubts in its
//! explanation. Verbs and adverbs ("arriving", "temporarily") are relation
//! words, not unknowns; a verb of buying with nothing after it ("customers who bought
//! something") is having rows in the schema's table of orders (or purchases, sales). A
//! negation, ranking word, average or count the query does not carry out, a count of
//! another table than the one asked about, and an aggregate of a metric are refused too.
//!
//! **Shares** (`ratio`): "what percentage of orders were cancelled", "what share of revenue
//! does each segment bring, in percent", "what fraction of the payroll goes to
//! Engineering" — the share phrase is taken out, the rest planned as the measure it names,
//! and the measure's conditions split into the part (values, subqueries) and the whole
//! (dates bound both): `100.0 * (part) / NULLIF((whole), 0)`, or per group. A share of no
//! part in particular, of a cut list or of rows meeting two values of one column at once is
//! refused; rates ("cancellation rate"), growth ("by what percentage did revenue grow") and
//! "among …" wholes are not read yet. **Ratios** ("the ratio of publications to authors",
//! "… of cancelled to shipped orders in 2025", "… of the population to the area of each
//! state"): the two numbers are read as questions of their own, what the ratio is taken
//! over (said after the second) bounding both, and divided — one column over another of
//! the same rows (beside the rows' label), or one single number over another; anything
//! else is refused, saying what each side was read as.
//!
//! **With a semantic model** (design §8) the model's display names and synonyms are extra
//! names for tables and columns ("clients" finds `customers`), its value mappings are
//! values ("customers in Germany" → `country = 'DE'` when `Germany` maps to `DE` on
//! `customers.country`), its metrics are named measures whose expression is used as written
//! ("total revenue by region" → the metric's expression per region, with the joins it needs)
//! and its manual single-column join paths are edges like declared foreign keys. A verified example
//! whose question is the same as the asked one up to case, punctuation and spacing is
//! answered with the example's SQL.
//!
//! **Caching.** [`OfflineProvider`] keeps the last few schema indexes it built (a small LRU
//! of shared indexes behind a mutex), keyed by the schema's fingerprint, read time, table
//! names, the privacy policy and the semantic model's identity and version, so a big schema
//! is indexed once rather than on every question.
//!
//! SQL is written in the requested dialect (identifier quoting only when needed, date
//! arithmetic per dialect). When it cannot place part of a question (a number or value it
//! cannot attach to a column, tables with no join path, no table at all) it returns
//! [`CannotTranslate`] saying what it understood rather than guessing. A short question that
//! refines the session's previous one ("only for Germany", "and by year?", "top 10
//! instead") is read together with it ([`follow_up`]).
//!
//! **Depends on:** querent-domain only (schema snapshot, privacy policy, the
//! [`SqlProvider`] port). Its SQL goes through querent-sql's guard like any provider's.
//!
//! **Must never:** reach the network, load a model, read the clock (relative dates are
//! written as SQL date arithmetic, so the same question always gives the same SQL), execute
//! SQL, reference a table or column the privacy policy excludes, or carry any knowledge
//! specific to one database or evaluation suite — its rules are generic English and schema
//! rules only. Accuracy is measured through the whole pipeline by `querent eval --suite
//! ../shared/eval/spider-dev` (figures in `docs/ACCURACY.md`).
//!
//! ## Example
//!
//! ```
//! use querent_domain::Dialect;
//! use querent_domain::schema::SchemaSnapshot;
//!
//! let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
//!     "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
//!     "tables": [{"name": "customers", "kind": "table", "columns": [
//!         {"name": "id", "data_type": "integer", "nullable": false}]}]
//! })).unwrap();
//! let t = querent_offline::translate("how many customers are there?", &schema, Dialect::Sqlite)
//!     .unwrap();
//! assert_eq!(t.sql, "SELECT COUNT(*) AS customer_count FROM customers");
//! assert!(querent_offline::translate("weather in Paris?", &schema, Dialect::Sqlite).is_err());
//! ```
//!
//! More questions in `examples/translate.rs`.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use querent_domain::query::{GenerateRequest, Generated, ProviderError, SqlProvider, TokenUsage};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::semantic::{FewShot, SemanticModel};
use querent_domain::{Dialect, PrivacyPolicy};

use serde::{Deserialize, Serialize};

mod confidence;
mod ground;
mod index;
mod lexicon;
mod plan;
mod ratio;
mod sql;
#[cfg(test)]
mod tests;
mod text;
mod time;

/// Tuning of the offline translator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TranslatorOptions {
    /// Rows to return for "top"/"bottom" questions that name no number.
    pub default_top_k: u32,
    /// Most foreign-key hops a join path may take between two tables.
    pub max_join_hops: u8,
    /// Whether weeks start on Monday (ISO) rather than Sunday, for "this week"/"last week".
    pub week_starts_monday: bool,
    /// The least confidence ([`Translation::confidence`]) a translation needs to be
    /// answered; below it the question is refused with the doubts named.
    pub min_confidence: f32,
}

impl TranslatorOptions {
    /// [`TranslatorOptions::min_confidence`] within [0, 1]; NaN is the default threshold.
    fn threshold(&self) -> f32 {
        if self.min_confidence.is_nan() {
            MIN_CONFIDENCE
        } else {
            self.min_confidence.clamp(0.0, 1.0)
        }
    }
}

impl Default for TranslatorOptions {
    fn default() -> Self {
        Self {
            default_top_k: 10,
            max_join_hops: 3,
            week_starts_monday: true,
            min_confidence: MIN_CONFIDENCE,
        }
    }
}

/// The default [`TranslatorOptions::min_confidence`]: one loose reading and a chosen join
/// path pass, two doubts of that size or one severe one do not (docs/ACCURACY.md, "Seventh
/// step", has the calibration).
pub const MIN_CONFIDENCE: f32 = 0.75;

/// A translated question.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    /// One `SELECT` statement in the requested dialect (not yet validated by the guard).
    pub sql: String,
    /// A plain-English description of what the SQL does.
    pub explanation: String,
    /// Content words of the question the translator found no use for (neither a name in
    /// the schema, nor a cue it reads, nor a value).
    pub unknown_words: Vec<String>,
    /// Phrases of the question that name a table, column or value the SQL does not use.
    pub unplaced: Vec<String>,
    /// How sure the translator is that the SQL answers the question, in [0, 1]: 1 when it
    /// understood every word directly, lower for each doubt in [`Translation::doubts`].
    pub confidence: f32,
    /// What lowered the confidence, in plain words, largest doubt first.
    pub doubts: Vec<String>,
}

/// The translator could not turn the question into SQL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{understood}")]
pub struct CannotTranslate {
    /// What was understood, for the user (e.g. "I recognised the table `orders` but not what
    /// to compute").
    pub understood: String,
}

/// Translates `question` over `schema` into SQL for `dialect`, with default options and no
/// privacy exclusions.
pub fn translate(
    question: &str,
    schema: &SchemaSnapshot,
    dialect: Dialect,
) -> Result<Translation, CannotTranslate> {
    translate_with(
        question,
        schema,
        dialect,
        &PrivacyPolicy::default(),
        &TranslatorOptions::default(),
    )
}

/// Translates `question` over `schema` into SQL for `dialect`, never referencing a table or
/// column that `policy` excludes.
pub fn translate_with(
    question: &str,
    schema: &SchemaSnapshot,
    dialect: Dialect,
    policy: &PrivacyPolicy,
    options: &TranslatorOptions,
) -> Result<Translation, CannotTranslate> {
    translate_with_model(question, schema, dialect, policy, options, None, &[])
}

/// Translates `question` like [`translate_with`], using the connection's semantic `model`
/// (other names, value mappings, metrics, join paths) and its verified `examples` (a
/// question that normalises to an example's question gets the example's SQL).
pub fn translate_with_model(
    question: &str,
    schema: &SchemaSnapshot,
    dialect: Dialect,
    policy: &PrivacyPolicy,
    options: &TranslatorOptions,
    model: Option<&SemanticModel>,
    examples: &[FewShot],
) -> Result<Translation, CannotTranslate> {
    if let Some(t) = from_examples(question, examples, policy) {
        return Ok(t);
    }
    let idx = index::Index::new(schema, policy, model);
    translate_on(question, &idx, dialect, options)
}

/// The SQL of the first example whose question normalises to the same text as `question`
/// and whose SQL names nothing the policy excludes (it may have changed since the example
/// was verified).
fn from_examples(
    question: &str,
    examples: &[FewShot],
    policy: &PrivacyPolicy,
) -> Option<Translation> {
    let asked = normalize_question(question);
    if asked.is_empty() {
        return None;
    }
    examples
        .iter()
        .find(|e| {
            normalize_question(&e.question) == asked
                && !e.sql.trim().is_empty()
                && !names_excluded(&e.sql, policy)
        })
        .map(|e| Translation {
            sql: e.sql.trim().trim_end_matches(';').trim_end().to_owned(),
            explanation: format!(
                "Answers with the verified example for \"{}\".",
                e.question.trim()
            ),
            unknown_words: Vec::new(),
            unplaced: Vec::new(),
            confidence: 1.0,
            doubts: Vec::new(),
        })
}

/// Whether SQL text names an excluded table (bare or qualified) or an excluded column
/// together with its table. Word-level, so it errs on the side of refusing.
fn names_excluded(sql: &str, policy: &PrivacyPolicy) -> bool {
    let lower = sql.to_lowercase();
    let words: std::collections::HashSet<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let last = |e: &str| e.rsplit('.').next().unwrap_or("").to_lowercase();
    policy
        .excluded_tables
        .iter()
        .any(|e| words.contains(last(e).as_str()))
        || policy.excluded_columns.iter().any(|e| {
            let parts: Vec<String> = e.to_lowercase().split('.').map(str::to_owned).collect();
            match parts.as_slice() {
                [.., t, c] => words.contains(t.as_str()) && words.contains(c.as_str()),
                _ => false,
            }
        })
}

/// A question for comparison: lower case, apostrophes dropped, other punctuation as
/// spaces, single spaces.
fn normalize_question(q: &str) -> String {
    let mapped: String = q
        .chars()
        .filter(|c| !matches!(c, '\'' | '\u{2019}'))
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A yes/no column said by its adjective, taken out of the question before planning.
struct SaidFlag {
    col: usize,
    negated: bool,
    word: String,
    /// The column is a row's end date: said is whether it is still open (`IS NULL`).
    open: bool,
}

use lexicon::{ENDED, STILL};

/// "current employees": with no yes/no column of that word, a row that has not ended is
/// one whose only end date (`term_dt`) is empty; "former employees" one where it is not.
fn still_or_ended(
    toks: &[text::Tok],
    idx: &index::Index,
    names_table: &[bool],
    drop: &mut [bool],
) -> Vec<SaidFlag> {
    let mut said = Vec::new();
    for i in 0..toks.len().saturating_sub(1) {
        let word = toks[i].low.as_str();
        let ended = ENDED.contains(&word);
        if drop[i] || toks[i].quoted || !(ended || STILL.contains(&word)) || !names_table[i + 1] {
            continue;
        }
        let Some(t) = idx.table_named_by(&toks[i + 1].stem) else {
            continue;
        };
        let ends: Vec<usize> = idx.tables[t]
            .cols
            .iter()
            .copied()
            .filter(|&c| idx.ends_rows(c))
            .collect();
        if let [c] = ends[..] {
            drop[i] = true;
            said.push(SaidFlag {
                col: c,
                negated: ended,
                word: word.to_owned(),
                open: true,
            });
        }
    }
    said
}

/// "official languages", "retired horses", "products that are not discontinued", "active
/// patrons" of `is_actv`: the adjective of a yes/no column, or the word its abbreviated name
/// stands for (with a "not"/"non"/"un…", or "in…" before an abbreviated one) is taken out of the
/// question, so the planner neither reads it as a name nor applies its negation to
/// something else; the condition is added once the query is planned.
fn take_flags(toks: Vec<text::Tok>, idx: &index::Index) -> (Vec<text::Tok>, Vec<SaidFlag>) {
    let mut said: Vec<SaidFlag> = Vec::new();
    let mut drop = vec![false; toks.len()];
    // Computed once per token: a per-flag table lookup is too slow on big schemas.
    let names_table: Vec<bool> = toks
        .iter()
        .map(|t| idx.table_named_by(&t.stem).is_some())
        .collect();
    for (c, col) in idx.cols.iter().enumerate() {
        // (A semantic model's value mappings say how to read the column: the planner does.)
        let Some(flag) = col.flag.as_ref().filter(|_| col.mappings.is_empty()) else {
            continue;
        };
        let matches = |i: usize, w: &str| {
            toks.get(i).is_some_and(|t| {
                !t.quoted
                    && (text::word_matches(t, w)
                        || ground::spells_flag_word(t, w)
                        || ["non-", "non", "un", "in"].iter().any(|p| {
                            // ("in…" only before an abbreviated name's word, "inactive" of
                            // `is_actv`: "inflammable" is no negation of `flammable`.)
                            t.low.strip_prefix(p).is_some_and(|r| {
                                (*p != "in" && r == w)
                                    || (r.len() > 3
                                        && ground::spells_flag_word(&text::Tok::word(r), w))
                            })
                        }))
                    && !names_table[i]
            })
        };
        let n = flag.words.len();
        let Some(i) = (0..toks.len()).find(|&i| {
            !drop[i]
                && flag
                    .words
                    .iter()
                    .enumerate()
                    .all(|(k, w)| matches(i + k, w))
        }) else {
            continue;
        };
        // "whether they are discontinued" asks for the column, not a condition.
        if (i.saturating_sub(3)..i).any(|j| matches!(toks[j].low.as_str(), "whether" | "if")) {
            continue;
        }
        let mut negated = !text::word_matches(&toks[i], &flag.words[0])
            && !ground::spells_flag_word(&toks[i], &flag.words[0]);
        let mut first = i;
        if i > 0 && matches!(toks[i - 1].low.as_str(), "not" | "non" | "never") {
            negated = true;
            first = i - 1;
        }
        for d in drop.iter_mut().take(i + n).skip(first) {
            *d = true;
        }
        said.push(SaidFlag {
            col: c,
            negated,
            word: toks[i].low.clone(),
            open: false,
        });
    }
    said.extend(still_or_ended(&toks, idx, &names_table, &mut drop));
    if said.is_empty() {
        return (toks, said);
    }
    let kept = toks
        .into_iter()
        .zip(drop)
        .filter_map(|(t, d)| (!d).then_some(t))
        .collect();
    (kept, said)
}

/// Adds the conditions of the yes/no columns taken out before planning to the query (and
/// to both halves of an INTERSECT: "English and French as official languages"). Returns
/// the words of those whose table the query does not read: it cannot apply them.
fn apply_flags(q: &mut sql::Select, idx: &index::Index, said: &[SaidFlag]) -> Vec<String> {
    let mut left = Vec::new();
    for f in said {
        let cond = match &idx.cols[f.col].flag {
            _ if f.open && f.negated => sql::Cond::NotNull(f.col),
            _ if f.open => sql::Cond::IsNull(f.col),
            Some(flag) => sql::Cond::Cmp(
                f.col,
                if f.negated { "!=" } else { "=" },
                sql::Lit::Num(flag.yes.clone()),
            ),
            None => continue,
        };
        let table = idx.cols[f.col].table;
        if !sql::tables_of(q, idx).contains(&table) {
            // "categories with no discontinued products": the subquery of a negation.
            let sub = q.conds.iter_mut().find_map(|c| match c {
                sql::Cond::NotIn(_, sub) if sql::tables_of(sub, idx).contains(&table) => Some(sub),
                _ => None,
            });
            match sub {
                Some(sub) => sub.conds.push(cond),
                None => left.push(f.word.clone()),
            }
            continue;
        }
        let mut part = Some(&mut *q);
        while let Some(p) = part {
            if sql::tables_of(p, idx).contains(&table) {
                p.conds.push(cond.clone());
            }
            part = p.intersect.as_deref_mut();
        }
    }
    left
}

/// "the average quantity per order line": an average of a table's own column for each of
/// its own rows is each row's value; the question asks for the one average over its rows.
fn average_per_own_row(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    // Only "per": "the average price for each product" asks for one per product.
    if !toks.iter().any(|t| t.low == "per") {
        return;
    }
    let own_key = |c: usize| idx.cols[c].table == q.from && idx.cols[c].pk;
    let whole_key = idx.key_width(q.from) == 1;
    let averages_own = q
        .items
        .iter()
        .any(|e| matches!(e, sql::Expr::Agg(sql::Agg::Avg, c, _) if idx.cols[*c].table == q.from));
    if let [g] = q.group.as_slice()
        && own_key(*g)
        && whole_key
        && q.joins.is_empty()
        && averages_own
        && q.having.is_none()
        && q.bucket.is_none()
        && q.items.iter().all(|e| match e {
            sql::Expr::Col(c) => own_key(*c),
            sql::Expr::Agg(sql::Agg::Avg, ..) => true,
            _ => false,
        })
    {
        q.group.clear();
        q.items.retain(|e| !matches!(e, sql::Expr::Col(_)));
        q.order.clear();
        q.limit = None;
    }
}

/// "List all departments and their budgets", "departments with their budgets": the rows
/// are shown by their label beside the columns asked for.
fn rows_and_their_columns(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let said = toks.windows(3).any(|w| {
        idx.table_named_by(&w[0].stem) == Some(q.from)
            && matches!(w[1].low.as_str(), "and" | "with")
            && matches!(w[2].low.as_str(), "their" | "its")
    });
    if !said || !q.is_listing() || q.items.is_empty() {
        return;
    }
    let Some(label) = idx.label_col(q.from) else {
        return;
    };
    let plain_own = q
        .items
        .iter()
        .all(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].table == q.from));
    if plain_own && !q.items.contains(&sql::Expr::Col(label)) {
        q.items.insert(0, sql::Expr::Col(label));
    }
}

/// The rows of a listing as the question means them: planned again from the tables it
/// reads when its first table is a detour, and each shown once over a to-many join.
fn each_row_once(
    q: &mut sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
    options: &TranslatorOptions,
) {
    let named: Vec<usize> = toks
        .iter()
        .filter(|t| !t.quoted)
        .filter_map(|t| idx.table_named_by(&t.stem))
        .collect();
    sql::reroot_unread_from(q, idx, options.max_join_hops, &named);
    sql::distinct_over_fan_out(q, idx);
}

/// A question read before planning: its tokens with dates taken out and words grounded,
/// the calendar window and grain, how words were read, and the share asked for.
struct Understood {
    toks: Vec<text::Tok>,
    time: time::TimeFrame,
    read_as: Vec<ground::ReadAs>,
    share: Option<ratio::Asked>,
    flags: Vec<SaidFlag>,
}

/// The stages before planning: tokens, text pieces named by "the word …", dates, grounding
/// through the lexicon, kinds ("types of …"), reversed compounds ("year of …", "names of
/// the winner and loser"), languages said by "speak", "most recently <done> <rows>",
/// members of a kind ("laptops"), "the lowest priced <rows>", "out of stock", a share
/// phrase, and the adjectives of yes/no columns.
fn understand(question: &str, idx: &index::Index) -> Understood {
    let mut toks = text::without_scope_fillers(text::tokenize(question), |w| idx.says(w));
    // "customers in the US", "staff in IT": a code written in capitals (in a question not
    // written in capitals) is a value to find, not the pronoun or function word it spells
    // — one no column holds is then refused as unplaced, never dropped.
    let code = |t: &text::Tok| {
        (2..=3).contains(&t.text.len()) && t.text.chars().all(|c| c.is_ascii_uppercase())
    };
    let shouted = 2 * toks.iter().filter(|t| code(t)).count() > toks.len();
    // (Unless part of a longer stored value: "US Territory".)
    let in_value = |toks: &[text::Tok], i: usize| {
        let pair = |a: usize, b: usize| match (toks.get(a), toks.get(b)) {
            (Some(x), Some(y)) => idx.holds_said(&format!("{} {}", x.low, y.low)),
            _ => false,
        };
        pair(i, i + 1) || (i > 0 && pair(i - 1, i))
    };
    // (Never a word that says how to compute or which rows: "NOT", "ALL", "MAX", "TOP".)
    let operator = |w: &str| {
        matches!(
            w,
            "not"
                | "no"
                | "all"
                | "any"
                | "top"
                | "max"
                | "min"
                | "sum"
                | "avg"
                | "and"
                | "or"
                | "who"
                | "how"
                | "the"
                | "per"
                | "by"
                | "of"
        )
    };
    for i in 0..toks.len() {
        // ("in the US": a place's preposition, perhaps with its article.)
        let place_at = |k: usize| matches!(toks[k].low.as_str(), "in" | "from" | "at" | "to");
        let place_before =
            i > 0 && place_at(i - 1) || i > 1 && toks[i - 1].low == "the" && place_at(i - 2);
        if !shouted
            && code(&toks[i])
            && text::is_stopword(&toks[i].low)
            && !operator(&toks[i].low)
            && (idx.says(&toks[i].low) || place_before)
            && !in_value(&toks, i)
        {
            toks[i].quoted = true;
        }
    }
    let mut toks = text::split_hyphens(toks, |w| idx.says(w));
    text::quote_text_pieces(&mut toks, idx);
    let (toks, time) = time::extract(toks, idx);
    let (toks, read_as) = ground::ground(toks, idx);
    let toks = ground::shared_attribute(toks, idx);
    let toks = ground::of_compounds(ground::kinds_of(toks, idx), idx);
    let toks = ground::recently_after_noun(ground::spoken_languages(toks, idx), idx);
    let toks = ground::ranked_by_participle(ground::members_of_kinds(toks, idx), idx);
    let toks = ground::with_their_as_and(ground::table_then_column(toks, idx), idx);
    let mut toks = ground::level_of_a_name(ground::out_of(toks, idx), idx);
    let share = ratio::strip(&mut toks, idx);
    let (toks, flags) = take_flags(toks, idx);
    Understood {
        toks,
        time,
        read_as,
        share,
        flags,
    }
}

/// "How many reservations has each hotel received? Show the hotel name and the number.":
/// "the number" (count, average, total …) said alone after a measure was asked for
/// (`asked`, or said before it) is that measure, not a column named so (`room_number`); it
/// is left out with its "and". So is "the total amount" or "the average price": the word
/// after the measure a plain word for an amount or one of `measured`, the words of the
/// column the asked measure aggregates (`qty` spelled "quantity").
fn measure_said_again(
    mut toks: Vec<text::Tok>,
    asked: Option<Asked>,
    measured: &[String],
) -> Vec<text::Tok> {
    const MEASURES: [&str; 6] = ["number", "count", "average", "total", "sum", "mean"];
    // "… and how much they spent": the measure again, in a sentence of what to show.
    if let Some(asked) = asked
        && let Some(i) = (0..toks.len().saturating_sub(2)).find(|&i| {
            toks[i].low == "how"
                && matches!(
                    (toks[i + 1].low.as_str(), asked),
                    ("much", Asked::Amount) | ("many", Asked::Count)
                )
                && matches!(
                    toks[i + 2].low.as_str(),
                    "they" | "it" | "he" | "she" | "each"
                )
        })
    {
        let end = (i..toks.len())
            .find(|&j| {
                toks[j].stop || toks[j].comma || toks.get(j + 1).is_some_and(|n| n.low == "and")
            })
            .unwrap_or(toks.len() - 1);
        let from = if i >= 1 && toks[i - 1].low == "and" {
            i - 1
        } else {
            i
        };
        toks.drain(from..=end);
    }
    let ends_at = |toks: &[text::Tok], i: usize| {
        toks[i].stop
            || toks[i].comma
            || toks
                .get(i + 1)
                .is_none_or(|n| matches!(n.low.as_str(), "and" | "too" | "also"))
    };
    let mut i = 1;
    while i < toks.len() {
        // "the total amount": the measure, then a word naming what it adds up.
        let noun = toks.get(i + 1).is_some_and(|n| {
            asked.is_some()
                && !n.quoted
                && (matches!(n.low.as_str(), "amount" | "value" | "figure")
                    || measured.iter().any(|w| *w == n.stem || *w == n.low))
                && ends_at(&toks, i + 1)
        });
        let ends = ends_at(&toks, i) || noun;
        let asked_before = asked.is_some()
            || toks[..i - 1]
                .iter()
                .any(|t| MEASURES.contains(&t.low.as_str()) || t.low == "many" || t.low == "much");
        // ("above the average" compares with it.)
        let compared = i >= 2
            && matches!(
                toks[i - 2].low.as_str(),
                "above" | "below" | "than" | "over" | "under" | "to" | "from"
            );
        if toks[i - 1].low == "the"
            && !compared
            && MEASURES.contains(&toks[i].low.as_str())
            && !toks[i].quoted
            && ends
            && asked_before
        {
            let from = if i >= 2 && toks[i - 2].low == "and" {
                i - 2
            } else {
                i - 1
            };
            text::drain_keeping_marks(&mut toks, from, if noun { i + 1 } else { i });
            i = from.max(1);
        } else {
            i += 1;
        }
    }
    toks
}

fn translate_on(
    question: &str,
    idx: &index::Index,
    dialect: Dialect,
    options: &TranslatorOptions,
) -> Result<Translation, CannotTranslate> {
    if idx.tables.is_empty() {
        return Err(CannotTranslate {
            understood: "the schema has no tables I may use".into(),
        });
    }
    let question = &*text::without_date_formats(question);
    let (unit_cut, scale) = said_in_unit(question);
    let question = unit_cut.as_deref().unwrap_or(question);
    let (direction_cut, direction) = said_direction(question);
    let question = direction_cut.as_deref().unwrap_or(question);
    let sides = ratio::sides(question, idx);
    let per_group = per_group_asked(question)
        .and_then(|q| read(&q, idx, options).ok())
        .filter(|r| {
            let measures = r.q.items.iter().filter(|e| sql::is_measure(e, idx)).count();
            // One grouping only ("per customer in each country" is one average per
            // country, not computed here): a series, or columns of one table.
            let group_tables: BTreeSet<usize> =
                r.q.group.iter().map(|&c| idx.cols[c].table).collect();
            let one_grouping = if r.q.bucket.is_some() {
                r.q.group.is_empty()
            } else {
                group_tables.len() == 1
            };
            one_grouping
                && sql::over_groups_name(&r.q, idx).is_some()
                && measures == 1
                && r.q.share.is_none()
                && r.q.ratio.is_none()
                && r.q.having.is_none()
                && r.q.limit.is_none()
        })
        .map(|mut r| {
            r.q.over_groups = true;
            r
        });
    let r = if let Some(r) = per_group {
        r
    } else if sides.is_empty() {
        match shown_apart(question) {
            Some((asked, shown)) => read_then_show(asked, shown, idx, options)
                .map(|mut r| {
                    if let Some(i) = confidence::repeated_figure(&r.q, idx) {
                        r.q.items.remove(i);
                    }
                    // (On the words as read, so a doubt said again is the same doubt.)
                    confidence::reassess_shape(&mut r.sure, &r.q, idx, &r.toks);
                    r
                })
                .or_else(|_| read(question, idx, options))?,
            None => read(question, idx, options)?,
        }
    } else {
        ratio::of_sides(&sides, |side| read(side, idx, options), idx)
            .map_err(|understood| CannotTranslate { understood })?
    };
    let mut r = r;
    if let Some(descending) = direction {
        sort_as_said(&mut r.q, idx, descending);
    }
    if let Some(unit) = scale {
        let numbers: Vec<usize> = (0..r.q.items.len())
            .filter(|&k| match &r.q.items[k] {
                e @ (sql::Expr::CountStar | sql::Expr::Agg(..)) => sql::is_measure(e, idx),
                sql::Expr::Col(c) => {
                    let col = &idx.cols[*c];
                    col.metric.is_some()
                        || col.kind == index::Kind::Number && !col.pk && !idx.references(*c)
                }
            })
            .collect();
        let [k] = numbers[..] else {
            return Err(CannotTranslate {
                understood: format!(
                    "the question asks for a number in {}, but the answer does not have one \
                     number to show so; I would have answered: {} Ask for one number, or use \
                     an LLM provider.",
                    unit.word(),
                    sql::explain(&r.q, idx)
                ),
            });
        };
        r.q.scale = Some((k, unit));
    }
    if r.sure.confidence < options.threshold() {
        return Err(CannotTranslate {
            understood: confidence::refusal(&r.sure, &sql::explain(&r.q, idx)),
        });
    }
    Ok(Translation {
        sql: sql::render(&r.q, idx, dialect),
        explanation: confidence::explained(sql::explain(&r.q, idx), &r.sure),
        unknown_words: r.unknown_words,
        unplaced: r.unplaced,
        confidence: r.sure.confidence,
        doubts: r.sure.doubts.into_iter().map(|d| d.said).collect(),
    })
}

/// "What is China's population in millions?", "the average earnings, expressed in
/// thousands": the question without the unit said ("in millions", with a verb of showing
/// before it), and the unit.
fn said_in_unit(question: &str) -> (Option<String>, Option<sql::Scale>) {
    let (words, bare) = words_of(question);
    for i in 1..words.len() {
        let Some(unit) = sql::Scale::from_word(&bare[i]) else {
            continue;
        };
        if bare[i - 1] != "in" {
            continue;
        }
        let from = if i >= 2
            && matches!(
                bare[i - 2].as_str(),
                "expressed" | "shown" | "given" | "measured" | "stated"
            ) {
            i - 2
        } else {
            i - 1
        };
        // (The punctuation after the unit stays: "…, in millions?" keeps its "?".)
        return (Some(without_words(&words, from, i)), Some(unit));
    }
    (None, None)
}

/// "What is the average number of lines per order?", "On average, how many units are in a
/// single order?": the question of each group's number ("the number of lines per order"),
/// to be averaged over the groups; `None` when it asks no average of a number per group.
fn per_group_asked(question: &str) -> Option<String> {
    // (ASCII lower case keeps every byte where it was: the cuts below are at offsets
    // found in it.)
    let low = question.to_ascii_lowercase();
    let mut q = None;
    for (said, meant) in [
        ("average number of ", "number of "),
        ("average count of ", "count of "),
        ("mean number of ", "number of "),
        ("on average, how many ", "how many "),
        ("on average how many ", "how many "),
    ] {
        if let Some(at) = low.find(said) {
            // (The article before "average" goes with it: "the average number of …".)
            let start = if low[..at].ends_with("the ") {
                at - 4
            } else {
                at
            };
            q = Some(format!(
                "{}{meant}{}",
                &question[..start],
                &question[at + said.len()..]
            ));
            break;
        }
    }
    let mut q = q?;
    for (said, meant) in [
        (" in a single ", " per "),
        (" in a typical ", " per "),
        (" in one ", " per "),
        (" in an average ", " per "),
    ] {
        let low = q.to_ascii_lowercase();
        if let Some(at) = low.find(said) {
            q = format!("{}{meant}{}", &q[..at], &q[at + said.len()..]);
        }
    }
    // One grouping said, no more ("per customer in each country" averages per country).
    let low = format!(" {} ", q.to_ascii_lowercase());
    let groupings: usize = [" per ", " each ", " every ", " by "]
        .iter()
        .map(|w| low.matches(w).count())
        .sum();
    (groupings == 1).then_some(q)
}

/// Words that open a last sentence saying only what to show ("… ? Give me its name.").
const SHOW_VERBS: [&str; 10] = [
    "show", "give", "list", "return", "include", "display", "provide", "tell", "report", "output",
];

/// A question whose last sentence only says what to show ("Which store stocks the most
/// products? Give me its manager and its district."), cut into the question and that
/// sentence (without its verb).
fn shown_apart(question: &str) -> Option<(&str, &str)> {
    let trimmed = question.trim_end();
    let body = trimmed.trim_end_matches(['.', '?', '!']);
    let cut = body.rfind(['?', '.'])?;
    let (asked, rest) = (&question[..=cut], body[cut + 1..].trim_start());
    let verb_end = rest.find(char::is_whitespace)?;
    SHOW_VERBS
        .contains(&rest[..verb_end].to_lowercase().as_str())
        .then(|| (asked, rest[verb_end..].trim_start()))
        .filter(|(a, s)| !s.is_empty() && a.split_whitespace().count() >= 3)
}

/// Reads the question, then shows what its last sentence names: when the answer shows it
/// already, a listing keeps only the columns named (and the rest of a person's name);
/// otherwise the columns shown (not the computed ones) become those named, when each is a
/// column of the answer's rows (or of the rows it is grouped by). A measure said again
/// ("how much they spent") is the one asked or ranked by, added when only ranked by. An
/// error when the sentence names anything else: the whole question is read then.
fn read_then_show(
    asked: &str,
    shown: &str,
    idx: &index::Index,
    options: &TranslatorOptions,
) -> Result<Reading, CannotTranslate> {
    let mut r = read(asked, idx, options)?;
    // (A measure the answer ranks by counts as asked: "Who are our top 5 customers by
    // total spend? Show their names and how much they spent.")
    let ranked_by =
        r.q.order
            .iter()
            .map(|(e, _)| e.clone())
            .find(|e| sql::is_measure(e, idx));
    let measure =
        r.q.items
            .iter()
            .find(|e| sql::is_measure(e, idx))
            .or(ranked_by.as_ref());
    let measured = measure.map(|e| match e {
        sql::Expr::CountStar | sql::Expr::Agg(sql::Agg::Count, ..) => Asked::Count,
        _ => Asked::Amount,
    });
    let said = text::tokenize(shown);
    let said_len = said.len();
    let measured_words: Vec<String> = match measure {
        Some(sql::Expr::Agg(_, c, _)) => {
            let col = &idx.cols[*c];
            col.words.iter().chain(&col.spelled).cloned().collect()
        }
        _ => Vec::new(),
    };
    // (Whether the sentence opens with a column rather than the measure said again.)
    let opens_with_measure = said
        .iter()
        .find(|t| {
            !matches!(
                t.low.as_str(),
                "the" | "me" | "us" | "their" | "its" | "each"
            )
        })
        .is_some_and(|t| {
            matches!(
                t.low.as_str(),
                "number" | "count" | "total" | "sum" | "average" | "mean" | "how"
            )
        });
    let toks = measure_said_again(said, measured, &measured_words);
    let measure_after_columns = toks.len() < said_len && !opens_with_measure;
    if toks.len() < said_len
        && let Some(e) = ranked_by.filter(|e| !r.q.items.contains(e))
    {
        r.q.items.push(e);
    }
    let not_shown = || CannotTranslate {
        understood: String::new(),
    };
    if toks.iter().all(|t| text::is_stopword(&t.low)) {
        return Ok(r);
    }
    let q = &mut r.q;
    let mut tables = vec![q.from];
    tables.extend(q.joins.iter().map(|(_, new)| idx.cols[*new].table));
    let cols = plan::shown_columns(&toks, idx, &tables).ok_or_else(not_shown)?;
    let shows = |c: &usize| q.items.contains(&sql::Expr::Col(*c));
    if cols.iter().all(shows) {
        // Only what the sentence names (and the rest of a person's name it names part
        // of): "Who earns more than $120,000? Give me first and last names." shows no salary.
        let named_part = |c: usize| {
            idx.cols[c].words.iter().any(|w| w == "name")
                && cols.iter().any(|&k| {
                    idx.cols[k].table == idx.cols[c].table
                        && idx.cols[k].words.iter().any(|w| w == "name")
                })
        };
        if q.is_listing() {
            q.items.retain(|e| match e {
                sql::Expr::Col(c) if idx.cols[*c].metric.is_none() => {
                    cols.contains(c) || named_part(*c)
                }
                _ => true,
            });
        }
        // "Show the country name and the count": in the order said, the columns before
        // the measure said after them.
        if measure_after_columns {
            let (shown, rest): (Vec<_>, Vec<_>) = q
                .items
                .drain(..)
                .partition(|e| matches!(e, sql::Expr::Col(c) if cols.contains(c)));
            let mut shown = shown;
            shown.sort_by_key(|e| match e {
                sql::Expr::Col(c) => cols.iter().position(|k| k == c),
                _ => None,
            });
            q.items = shown.into_iter().chain(rest).collect();
        }
        return Ok(r);
    }
    let grouped = !q.group.is_empty() || q.bucket.is_some();
    // (Beside a figure over all rows, a column would show one row's value at random.)
    let over_all_rows = !grouped && q.items.iter().any(|e| sql::is_measure(e, idx));
    let allowed =
        |c: usize| !grouped && !over_all_rows || confidence::determined_by_groups(q, idx, c);
    if q.share.is_some() || q.intersect.is_some() || !cols.iter().all(|&c| allowed(c)) {
        return Err(not_shown());
    }
    q.items
        .retain(|e| !matches!(e, sql::Expr::Col(c) if idx.cols[*c].metric.is_none()));
    for (i, c) in cols.into_iter().enumerate() {
        q.items.insert(i, sql::Expr::Col(c));
    }
    Ok(r)
}

/// "How much money came in from card payments in 2024?", "the total of card payments": the
/// amount of rows found with no column asked for is the sum of their one money column
/// (when the listing shows the rows whole, or only what they were picked by).
fn money_of_the_rows(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    // ("How much stock do we have" asks for no money: the word after "how much" is a verb
    // or money itself.)
    let asked = toks.windows(3).any(|w| {
        w[0].low == "how"
            && w[1].low == "much"
            && matches!(
                w[2].low.as_str(),
                "money"
                    | "cash"
                    | "did"
                    | "do"
                    | "does"
                    | "was"
                    | "were"
                    | "is"
                    | "has"
                    | "have"
                    | "had"
                    | "came"
                    | "come"
                    | "comes"
            )
    }) || toks
        .windows(2)
        .any(|w| w[0].low == "total" && w[1].low == "of");
    // ("grant money", "total money": money said, not a value such as a payment in cash —
    // only for the money of each group below.)
    let money_said = toks.iter().any(|t| t.low == "money" && !t.quoted);
    if !(asked || money_said)
        || !q.is_listing()
        || q.limit.is_some()
        || !q.order.is_empty()
        || q.distinct
    {
        return;
    }
    let Some(money) = idx.money_col(q.from) else {
        return;
    };
    // "How much grant money came from each type of funder?": the money of each group, when
    // the listing shows only words of a grouping ("each", "per", "by") — one or two text
    // columns of the rows or of what they are joined to, none of them a key.
    let grouped = asks_a_breakdown(toks);
    let dimensions: Vec<usize> = q
        .items
        .iter()
        .filter_map(|e| match e {
            sql::Expr::Col(c) => Some(*c),
            _ => None,
        })
        .collect();
    if grouped
        && (1..=2).contains(&q.items.len())
        && dimensions.len() == q.items.len()
        && dimensions.iter().all(|&c| {
            let col = &idx.cols[c];
            col.kind == index::Kind::Text
                && !col.pk
                && !col.fk
                && (col.table != q.from || idx.label_col(col.table) != Some(c))
        })
    {
        // (A name of what the rows are joined to groups by its key: "each funder".)
        q.group = dimensions
            .iter()
            .map(|&c| {
                let t = idx.cols[c].table;
                match idx.key_col(t) {
                    Some(k) if idx.label_col(t) == Some(c) => k,
                    _ => c,
                }
            })
            .collect();
        q.items.push(sql::Expr::Agg(sql::Agg::Sum, money, false));
        return;
    }
    let cols = &idx.tables[q.from].cols;
    let whole = cols.iter().all(|c| q.items.contains(&sql::Expr::Col(*c)));
    let filtered: Vec<usize> = q.conds.iter().flat_map(sql::cond_cols).collect();
    let only_picked = !q.items.is_empty()
        && q.items.iter().all(|e| {
            matches!(e, sql::Expr::Col(c)
                if filtered.contains(c) || idx.cols[*c].kind == index::Kind::Date)
        });
    if asked && (whole || only_picked) {
        q.items = vec![sql::Expr::Agg(sql::Agg::Sum, money, false)];
    }
}

/// Words that say amounts are added up, beside "total" itself (which may be a column's
/// own name).
const TOTALLED: [&str; 5] = ["totals", "totalling", "totaling", "altogether", "combined"];

/// "Customers whose orders total more than 5,000", "customers who spent more than 5,000":
/// an amount of the rows of a table that refers to the ones listed, compared as a total (or
/// after a verb of spending), is their sum per listed row (`GROUP BY` the row, `HAVING
/// SUM(amount) > 5000`), not each related row's amount — unless "total" is the compared
/// column's own name ("an order with a total amount over 5,000").
fn totals_of_related_rows(
    q: &mut sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
    spent: bool,
) {
    let said_of_a_sum = |t: &text::Tok| TOTALLED.contains(&t.low.as_str());
    let total = spent || toks.iter().any(|t| t.low == "total" || said_of_a_sum(t));
    if !total || !q.is_listing() || q.limit.is_some() || !q.order.is_empty() {
        return;
    }
    let Some(key) = idx.key_col(q.from) else {
        return;
    };
    let from = q.from;
    let found = q.conds.iter().position(|c| {
        matches!(c, sql::Cond::Cmp(col, op, sql::Lit::Num(_))
        if matches!(*op, ">" | ">=" | "<" | "<=")
            && idx.cols[*col].kind == index::Kind::Number
            && idx.cols[*col].table != from
            && idx.edges.iter().any(|e| {
                idx.cols[e.from].table == idx.cols[*col].table && idx.cols[e.to].table == from
            }))
    });
    let Some(at) = found else {
        return;
    };
    let plain_own = q
        .items
        .iter()
        .all(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].table == from));
    // ("How many customers spent over 10,000?": the rows counted are those groups.)
    let counts = matches!(q.items[..], [sql::Expr::CountStar])
        || matches!(q.items[..], [sql::Expr::Agg(sql::Agg::Count, c, true)] if c == key);
    if !plain_own && !counts {
        return;
    }
    // ("an order with a total amount over 5,000": the column's own name, not a sum.)
    let sql::Cond::Cmp(col, ..) = &q.conds[at] else {
        return;
    };
    // (Also a column named `total` alone: "an order with a total above 1,000".)
    let words = &idx.cols[*col].words;
    let named = words.first().is_some_and(|w| w == "total")
        && (words.len() == 1
            || toks
                .windows(2)
                .any(|w| w[0].low == "total" && text::word_matches(&w[1], &words[1])));
    if named && !toks.iter().any(said_of_a_sum) && !spent {
        return;
    }
    let sql::Cond::Cmp(col, op, sql::Lit::Num(n)) = q.conds.remove(at) else {
        return;
    };
    q.distinct = false;
    // (The shown columns too: a key PostgreSQL does not know as one would not carry them.)
    q.group = vec![key];
    for e in &q.items {
        if let sql::Expr::Col(c) = e
            && !q.group.contains(c)
        {
            q.group.push(*c);
        }
    }
    q.having = Some((op, n));
    q.having_of = Some(sql::Expr::Agg(sql::Agg::Sum, col, false));
    if counts {
        q.items = vec![sql::Expr::CountStar];
        count_of_groups(q, idx);
    }
}

/// "How many customers never placed an order in 2024?": the conditions on the rows a
/// negation is about go inside its subquery (`id NOT IN (orders of 2024)`), not on a
/// join to those rows outside it, which keeps only customers who did order then (an empty
/// answer). Only when the subquery has no condition of its own: "ordered in 2024 but
/// never had an order cancelled" keeps its two parts.
fn negation_scope(q: &mut sql::Select, idx: &index::Index) {
    let Some(at) = q.conds.iter().position(|c| {
        matches!(c, sql::Cond::NotIn(_, sub)
            if sub.conds.iter().all(|k| matches!(k, sql::Cond::NotNull(_))))
    }) else {
        return;
    };
    let sub_tables = match &q.conds[at] {
        sql::Cond::NotIn(_, sub) => sql::tables_of(sub, idx),
        _ => return,
    };
    let outside: Vec<usize> = q
        .conds
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            *i != at && {
                let cols = sql::cond_cols(c);
                !cols.is_empty()
                    && cols.iter().all(|&k| {
                        let t = idx.cols[k].table;
                        t != q.from && sub_tables.contains(&t)
                    })
            }
        })
        .map(|(i, _)| i)
        .collect();
    // (Two conditions on one column — "ordered in 2023 but never in 2024" — are two
    // parts of the question, not the negation's.)
    let mut cols: Vec<usize> = outside
        .iter()
        .flat_map(|&i| sql::cond_cols(&q.conds[i]))
        .collect();
    let n = cols.len();
    cols.sort_unstable();
    cols.dedup();
    if outside.is_empty() || cols.len() != n {
        return;
    }
    let before = outside.iter().filter(|&&i| i < at).count();
    let mut moved = Vec::new();
    for i in outside.into_iter().rev() {
        moved.push(q.conds.remove(i));
    }
    let at = at - before;
    if let Some(sql::Cond::NotIn(_, sub)) = q.conds.get_mut(at) {
        sub.conds.extend(moved.into_iter().rev());
    }
    sql::prune_joins(q, idx);
}

/// "For each continent, give me its id, its name and how many countries it contains": a
/// column said after "its"/"their" belongs to the rows of the "each" (grouped by their
/// key), not to a table of the same column names the counted rows come from.
fn its_columns_of_each(
    q: &mut sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
    each: Option<usize>,
) {
    // (A table also named like a column of another — `countries.continent` — is still
    // the table after "each".)
    let each = each.or_else(|| {
        toks.windows(2)
            .find(|w| matches!(w[0].low.as_str(), "each" | "every" | "per"))
            .and_then(|w| idx.table_named_by(&w[1].stem))
    });
    let Some(t) = each else {
        return;
    };
    let Some(key) = idx.key_col(t) else {
        return;
    };
    if !q.group.contains(&key) {
        return;
    }
    let owned: Vec<&text::Tok> = toks
        .windows(2)
        .filter(|w| matches!(w[0].low.as_str(), "its" | "their"))
        .map(|w| &w[1])
        .collect();
    let said = |c: usize, tok: &text::Tok| {
        let col = &idx.cols[c];
        [&col.short, &col.words]
            .iter()
            .any(|w| w.len() == 1 && text::word_matches(tok, &w[0]))
    };
    for item in &mut q.items {
        let sql::Expr::Col(c) = *item else {
            continue;
        };
        if idx.cols[c].table == t {
            continue;
        }
        let Some(tok) = owned.iter().find(|tok| said(c, tok)) else {
            continue;
        };
        // The "each" rows' own column of that name: its key for "id", its label for
        // "name", or a column so named.
        let own = match tok.stem.as_str() {
            "id" => Some(key),
            "name" => idx.label_col(t),
            _ => idx.tables[t].cols.iter().copied().find(|&k| said(k, tok)),
        };
        if let Some(own) = own {
            *item = sql::Expr::Col(own);
            if !q.group.contains(&own) {
                q.group.push(own);
            }
        }
    }
}

/// "Top 3 countries by revenue": the values of a column ranked by a measure are groups of
/// that column, not of the rows that hold it (it ranked the customers and showed their
/// countries) — when the question names the column's values and not the rows' table.
fn ranked_values_of_a_column(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let Some(key) = idx.key_col(q.from) else {
        return;
    };
    let [sql::Expr::Col(c)] = q.items[..] else {
        return;
    };
    let col = &idx.cols[c];
    let ranked = q
        .order
        .first()
        .is_some_and(|(e, _)| sql::is_measure(e, idx));
    let names_rows = toks
        .iter()
        .any(|t| !t.quoted && idx.table_named_by(&t.stem) == Some(q.from));
    let names_col = toks
        .iter()
        .any(|t| !t.quoted && col.short.len() == 1 && text::word_matches(t, &col.short[0]));
    if q.group == [key]
        && ranked
        && q.limit.is_some()
        && col.table == q.from
        && col.kind == index::Kind::Text
        && !col.pk
        && idx.label_col(q.from) != Some(c)
        && names_col
        && !names_rows
    {
        q.group = vec![c];
    }
}

/// "What's the total number of units sold?": a column the shown metric adds up
/// (`quantity` of `units_sold = SUM(quantity)`) is no breakdown of it unless the question
/// asks for one ("by", "per", "each", "for every").
fn metric_columns_not_grouped(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    if asks_a_breakdown(toks) || q.bucket.is_some() {
        return;
    }
    let inside: Vec<usize> = q
        .items
        .iter()
        .filter_map(|e| match e {
            sql::Expr::Col(c) => idx.cols[*c].metric.as_ref(),
            _ => None,
        })
        .flatten()
        .filter_map(|p| match p {
            index::Piece::Col(c) => Some(*c),
            index::Piece::Text(_) => None,
        })
        .collect();
    let grouped_inside = |c: &usize| inside.contains(c) && q.group.contains(c);
    let drop: Vec<usize> = q
        .items
        .iter()
        .filter_map(|e| match e {
            sql::Expr::Col(c) if grouped_inside(c) => Some(*c),
            _ => None,
        })
        .collect();
    q.items
        .retain(|e| !matches!(e, sql::Expr::Col(c) if drop.contains(c)));
    q.group.retain(|c| !drop.contains(c));
}

/// "Which episodes aired in October 2007?": the date a window is on is not shown beside
/// the rows asked for, unless the question asks for dates ("when", "date", "day", "time")
/// or the rows are shown whole.
fn window_not_shown(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let windowed: Vec<usize> = q
        .conds
        .iter()
        .filter_map(|c| match c {
            sql::Cond::Range(col, ..) | sql::Cond::Relative(col, _) | sql::Cond::Like(col, ..)
                if idx.cols[*col].kind == index::Kind::Date =>
            {
                Some(*col)
            }
            _ => None,
        })
        .collect();
    let asks_dates = toks
        .iter()
        .any(|t| matches!(t.stem.as_str(), "when" | "date" | "day" | "time"));
    // (Rows shown whole keep all their columns.)
    let whole = idx.tables[q.from]
        .cols
        .iter()
        .all(|c| q.items.contains(&sql::Expr::Col(*c)));
    if windowed.is_empty() || asks_dates || whole || !q.is_listing() || q.items.len() < 2 {
        return;
    }
    q.items
        .retain(|e| !matches!(e, sql::Expr::Col(c) if windowed.contains(c)));
}

/// Dates kept as words ('October 5, 2007', '5 October 2007'): a month or a year is matched
/// by its words (`LIKE '%October%2007%'`) rather than compared as an ISO date, which such
/// text never orders like. Other windows on them stay ranges (and are doubted).
fn dates_in_words(q: &mut sql::Select, idx: &index::Index) {
    let month_of = |v: &str| {
        let low = v.to_lowercase();
        lexicon::MONTHS.iter().position(|names| {
            low.split(|c: char| !c.is_alphabetic())
                .any(|w| w == names[0])
        })
    };
    let worded = |c: usize| {
        let samples = &idx.cols[c].samples;
        idx.cols[c].kind == index::Kind::Date
            && !samples.is_empty()
            && samples.iter().all(|v| {
                month_of(v).is_some()
                    && v.split(|c: char| !c.is_ascii_digit()).any(|d| d.len() == 4)
            })
    };
    let ymd = |l: &sql::Lit| match l {
        sql::Lit::Str(s) if index::iso_date(s) && s.len() == 10 => {
            let y: i32 = s[..4].parse().ok()?;
            let m: u32 = s[5..7].parse().ok()?;
            (&s[8..10] == "01" && (1..=12).contains(&m)).then_some((y, m))
        }
        _ => None,
    };
    for c in &mut q.conds {
        let sql::Cond::Range(col, lo, hi) = c else {
            continue;
        };
        if !worded(*col) {
            continue;
        }
        let (Some((y, m)), Some((y2, m2))) = (ymd(lo), ymd(hi)) else {
            continue;
        };
        let pattern = if m == 1 && m2 == 1 && y2 == y + 1 {
            format!("{y}")
        } else if (y2, m2) == if m == 12 { (y + 1, 1) } else { (y, m + 1) } {
            // Written as the samples write months ('October', 'OCTOBER', 'october'): LIKE is
            // case-sensitive in PostgreSQL.
            let name = lexicon::MONTHS[(m - 1) as usize][0];
            let sample = idx.cols[*col].samples.first().map_or("", String::as_str);
            let name: String = if sample
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase)
            {
                name.to_uppercase()
            } else if sample
                .chars()
                .find(|c| c.is_alphabetic())
                .is_some_and(char::is_lowercase)
            {
                name.to_owned()
            } else {
                let mut cap = name.chars();
                cap.next()
                    .map(|f| f.to_uppercase().chain(cap).collect())
                    .unwrap_or_default()
            };
            format!("{name}%{y}")
        } else {
            continue;
        };
        *c = sql::Cond::Like(*col, pattern, false);
    }
}

/// The kind of measure a question asked for, which "how much …" or "how many …" said again
/// may repeat.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asked {
    Amount,
    Count,
}

/// "Top 5 cities by number of orders" cut at 5 rows in no order: any 5 rows, shown as the
/// top ones. Why such a query is refused, when it is one.
fn unranked_cut(q: &sql::Select, idx: &index::Index, toks: &[text::Tok]) -> Option<String> {
    let w = toks
        .iter()
        .find(|t| !t.quoted && matches!(t.low.as_str(), "top" | "best" | "worst" | "bottom"))?;
    (q.limit.is_some() && q.order.is_empty() && q.bucket.is_none()).then(|| {
        format!(
            "the question asks for the \"{}\" rows, but I did not find what to rank them by; \
             I would have answered any of them: {} Name what to rank by, or use an LLM \
             provider.",
            w.low,
            sql::explain(q, idx)
        )
    })
}

/// The last readings of a planned query: dates kept as words, a window's date not shown,
/// a metric's own columns not grouped, a column's values ranked as groups, "its" columns of
/// the each rows, a negation's conditions inside it, sums over related rows compared.
fn the_answer_as_meant(
    q: &mut sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
    read_as: &[ground::ReadAs],
    each: Option<usize>,
) {
    dates_in_words(q, idx);
    window_not_shown(q, idx, toks);
    metric_columns_not_grouped(q, idx, toks);
    ranked_values_of_a_column(q, idx, toks);
    its_columns_of_each(q, idx, toks, each);
    negation_scope(q, idx);
    let spent = read_as
        .iter()
        .any(|r| ground::SPENDING.contains(&r.said.as_str()));
    totals_of_related_rows(q, idx, toks, spent);
    units_of_the_rows(q, idx, toks);
}

/// "How many units were sold in each category?", "the product with the most units sold":
/// units are the rows' quantity added up, not the rows counted — when the rows (or what
/// they are joined to) keep one quantity column (`quantity`, `qty`, `units`).
fn units_of_the_rows(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let units = |t: &text::Tok| matches!(t.low.as_str(), "units" | "pieces");
    let said = toks
        .windows(2)
        .any(|w| units(&w[1]) && matches!(w[0].low.as_str(), "many" | "most" | "fewest" | "total"))
        || toks
            .windows(3)
            .any(|w| w[0].low == "number" && w[1].low == "of" && units(&w[2]));
    let counted = |e: &sql::Expr| *e == sql::Expr::CountStar;
    // ("How many units does each building have?" counts a table of units.)
    let units_counted = idx.tables[q.from].words.iter().any(|w| w == "unit");
    if !said
        || units_counted
        || !(q.items.iter().any(counted) || q.order.iter().any(|(e, _)| counted(e)))
    {
        return;
    }
    let mut tables = vec![q.from];
    tables.extend(q.joins.iter().map(|(_, new)| idx.cols[*new].table));
    let quantities: Vec<usize> = tables
        .iter()
        .flat_map(|&t| idx.tables[t].cols.iter().copied())
        .filter(|&c| is_quantity(idx, c))
        .collect();
    let [quantity] = quantities.as_slice() else {
        return;
    };
    let sum = sql::Expr::Agg(sql::Agg::Sum, *quantity, false);
    for e in q.items.iter_mut().chain(q.order.iter_mut().map(|(e, _)| e)) {
        if counted(e) {
            *e = sum.clone();
        }
    }
}

/// Whether column `c` keeps a quantity of things (`quantity`, `qty`, `units`): a plain
/// number, no key, no price or identifying number.
fn is_quantity(idx: &index::Index, c: usize) -> bool {
    let col = &idx.cols[c];
    col.kind == index::Kind::Number
        && !col.pk
        && !col.fk
        && col.metric.is_none()
        && col
            .words
            .iter()
            .chain(&col.spelled)
            .any(|w| matches!(w.as_str(), "quantity" | "qty" | "units" | "unit"))
        && !col.words.iter().any(|w| {
            matches!(
                w.as_str(),
                "price" | "cost" | "number" | "no" | "num" | "id" | "code" | "nbr"
            )
        })
}

/// A question read into a query, with how sure the reading is.
pub(crate) struct Reading {
    pub q: sql::Select,
    pub sure: confidence::Assessment,
    pub unknown_words: Vec<String>,
    pub unplaced: Vec<String>,
    /// The question's words as read (grounded), which the doubts were weighed on.
    pub toks: Vec<text::Tok>,
}

/// Reads one question into a query (the confidence not yet checked); one it cannot read
/// that says "at least one <thing>" is read again as having one.
fn read(
    question: &str,
    idx: &index::Index,
    options: &TranslatorOptions,
) -> Result<Reading, CannotTranslate> {
    read_once(question, idx, options).or_else(|refused| match at_least_one(question) {
        Some(having_one) => read_once(&having_one, idx, options).map_err(|_| refused),
        None => Err(refused),
    })
}

fn read_once(
    question: &str,
    idx: &index::Index,
    options: &TranslatorOptions,
) -> Result<Reading, CannotTranslate> {
    let u = understand(question, idx);
    let (toks, time, read_as, share, flags) = (u.toks, u.time, u.read_as, u.share, u.flags);
    let mut planned = plan::plan(toks.clone(), time, idx, options)
        .map_err(|understood| CannotTranslate { understood })?;
    let mut q = planned.select;
    planned.unplaced.extend(apply_flags(&mut q, idx, &flags));
    if !planned.unplaced.is_empty() {
        // The question names something the query leaves out: it answers another question.
        let quoted: Vec<String> = planned
            .unplaced
            .iter()
            .map(|w| format!("\"{w}\""))
            .collect();
        return Err(CannotTranslate {
            understood: format!(
                "I found {} in the database but could not work out its part in the question, \
                 so I would have answered only: {} Rephrase the question more directly, or \
                 use an LLM provider.",
                quoted.join(", "),
                sql::explain(&q, idx)
            ),
        });
    }
    let unknown = ground::unknown_words(&toks, &planned.covered, idx);
    let unknown_words: Vec<String> = unknown.iter().map(|(w, _)| w.clone()).collect();
    if unknown.iter().map(|(_, w)| w).sum::<f32>() >= UNKNOWN_LIMIT {
        // A word the question rests on that nothing here explains: the SQL would answer a
        // different question, and a wrong answer is worse than none.
        return Err(CannotTranslate {
            understood: unknown_refusal(&unknown_words, &sql::explain(&q, idx)),
        });
    }
    finish_metrics(&mut q, idx, options, planned.breakdown_table)
        .map_err(|understood| CannotTranslate { understood })?;
    money_of_the_rows(&mut q, idx, &toks);
    most_summed(&mut q, idx, &toks);
    // Every column of the table, for a question that asks for a value ("how long…",
    // "the average…", "when…"): the translator did not find what is asked for.
    narrow_to_date_asked(&mut q, idx, &toks);
    let asks_value = toks.iter().enumerate().any(|(i, t)| {
        // "the 5 most recent orders", "the cheapest product": a superlative that names
        // the rows themselves asks for those rows.
        let row_noun = |j: usize| toks.get(j).is_some_and(|n| names_table(n, idx, q.from));
        // ("most students" counts them: that is no row picked.)
        // ("the most expensive car": an adjective between.)
        let adjective_then_row = matches!(t.low.as_str(), "most" | "least")
            && toks
                .get(i + 1)
                .is_some_and(|a| lexicon::lexicon().is_adjective(&a.low))
            && row_noun(i + 2);
        // ("the total order amount": an aggregate word never picks rows.)
        let picks_rows = row_noun(i + 1)
            && !matches!(
                t.low.as_str(),
                "most" | "least" | "fewest" | "total" | "sum" | "average" | "mean"
            )
            || adjective_then_row
            || t.low == "most"
                && matches!(
                    toks.get(i + 1).map_or("", |n| n.low.as_str()),
                    "recent" | "recently"
                )
                && row_noun(i + 2);
        !picks_rows
            && matches!(
                t.low.as_str(),
                "average"
                    | "mean"
                    | "total"
                    | "sum"
                    | "when"
                    | "maximum"
                    | "minimum"
                    | "highest"
                    | "lowest"
                    | "most"
                    | "least"
            )
            || t.low == "how"
                && toks
                    .get(i + 1)
                    .is_some_and(|n| matches!(n.low.as_str(), "long" | "much" | "often"))
    });
    let table_cols = &idx.tables[q.from].cols;
    if asks_value
        && q.joins.is_empty()
        && table_cols.len() >= 3
        && q.items.len() == table_cols.len()
        && q.items
            .iter()
            .all(|e| matches!(e, sql::Expr::Col(c) if table_cols.contains(c)))
    {
        return Err(CannotTranslate {
            understood: format!(
                "I recognised the table `{}` but not which of its columns the question asks \
                 for{}. Name the column, or use an LLM provider.",
                idx.tables[q.from].name,
                if q.conds.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (I understood: {})",
                        sql::explain(&q, idx).trim_end_matches('.')
                    )
                }
            ),
        });
    }
    if let Some(w) = unused_superlative(&q, idx, &toks) {
        // "the cheapest product" answered with every product presents a list as the one
        // row asked for.
        return Err(CannotTranslate {
            understood: format!(
                "the question asks for \"{w}\", but I did not find what to rank by; I would \
                 have listed every row: {} Name the column to rank by, or use an LLM \
                 provider.",
                sql::explain(&q, idx)
            ),
        });
    }
    if let Some(understood) = unranked_cut(&q, idx, &toks) {
        return Err(CannotTranslate { understood });
    }
    shape_answer(&mut q, idx, &toks).map_err(|understood| CannotTranslate { understood })?;
    rows_and_their_columns(&mut q, idx, &toks);
    name_whole_people(&mut q, idx, &toks);
    if let Some(understood) = unbuilt_breakdown(&q, idx, &toks, planned.breakdown.as_deref())
        .or_else(|| {
            unshown_breakdown(
                &q,
                idx,
                planned.breakdown.as_deref(),
                planned.breakdown_table,
            )
        })
    {
        return Err(CannotTranslate { understood });
    }
    if let Some(asked) = share {
        ratio::apply(&mut q, asked, idx).map_err(|understood| CannotTranslate { understood })?;
    }
    average_per_own_row(&mut q, idx, &toks);
    count_of_groups(&mut q, idx);
    counted_by_a_column(&mut q, idx, &toks);
    total_of_the_rows(&mut q, idx, &toks);
    role_of_the_verb(&mut q, idx, &toks, &read_as);
    sql::semi_join_fan_out(&mut q, idx);
    each_row_once(&mut q, idx, &toks, options);
    the_answer_as_meant(&mut q, idx, &toks, &read_as, planned.breakdown_table);
    excluded_from_the_measure(&mut q, idx, &toks);
    if let Some(i) = confidence::repeated_figure(&q, idx) {
        q.items.remove(i);
    }
    let sure = confidence::assess(&q, idx, &toks, &planned.covered, &unknown, &read_as);
    Ok(Reading {
        q,
        sure,
        unknown_words,
        unplaced: planned.unplaced,
        toks,
    })
}

/// "How many owners have more than two pets?": a count grouped by one column and kept by
/// `HAVING` would be one count per group; the question counts the groups that qualify, so
/// the grouped query becomes the set of rows counted (`key IN (…)`).
fn count_of_groups(q: &mut sql::Select, idx: &index::Index) {
    let counts_rows = matches!(q.items.as_slice(), [sql::Expr::CountStar]);
    let [g] = q.group.as_slice() else {
        return;
    };
    if !counts_rows
        || idx.cols[*g].table != q.from
        || q.having.is_none()
        || !q.order.is_empty()
        || q.limit.is_some()
        || q.bucket.is_some()
        || q.share.is_some()
        || q.intersect.is_some()
    {
        return;
    }
    let g = *g;
    let mut groups = q.clone();
    groups.items = vec![sql::Expr::Col(g)];
    *q = sql::Select::plain(
        q.from,
        vec![sql::Expr::CountStar],
        vec![sql::Cond::In(g, Box::new(groups))],
    );
}

/// "How many staff does the Plaza Museum have?", "How many people were killed?": what is
/// counted is no table's rows but a number a row keeps (`num_of_staff`, `killed`), so the
/// count is the sum of that column over the rows the query keeps. The counted noun names
/// no table, and one numeric column of the query's tables counts it (its words hold the
/// noun beside a word of counting, or are the noun alone), or is named by the participle
/// said after it ("people … killed").
fn counted_by_a_column(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let counting = |w: &String| matches!(w.as_str(), "num" | "number" | "no" | "count" | "cnt");
    // "the total number of staff of all museums": the sum of the column that counts them.
    if let [sql::Expr::Col(c)] = q.items.as_slice()
        && idx.cols[*c].kind == index::Kind::Number
        && idx.cols[*c].words.iter().any(counting)
        && q.group.is_empty()
        && q.order.is_empty()
        && toks
            .windows(2)
            .any(|w| w[0].low == "total" && matches!(w[1].low.as_str(), "number" | "count"))
    {
        q.items = vec![sql::Expr::Agg(sql::Agg::Sum, *c, false)];
        return;
    }
    if !matches!(q.items.as_slice(), [sql::Expr::CountStar])
        || q.having.is_some()
        || q.share.is_some()
        || q.intersect.is_some()
    {
        return;
    }
    let Some(at) = toks
        .windows(2)
        .position(|w| w[0].low == "how" && w[1].low == "many")
    else {
        return;
    };
    let Some(noun) = toks
        .get(at + 2)
        .filter(|t| !t.quoted && t.number().is_none())
    else {
        return;
    };
    if idx.table_named_by(&noun.stem).is_some() {
        return;
    }
    let mut tables = vec![q.from];
    tables.extend(q.joins.iter().map(|(_, c)| idx.cols[*c].table));
    let numeric = |c: &&index::Col| c.kind == index::Kind::Number && !c.pk && !c.fk;
    let participles: Vec<&str> = toks[at + 3..]
        .iter()
        .take_while(|t| !t.stop)
        .filter(|t| !t.quoted && t.low.ends_with("ed"))
        .map(|t| t.low.as_str())
        .collect();
    let found: Vec<usize> = tables
        .iter()
        .flat_map(|t| idx.tables[*t].cols.iter().copied())
        .filter(|c| {
            let col = &idx.cols[*c];
            numeric(&col)
                && (col.words.contains(&noun.stem)
                    && (col.words.len() == 1 || col.words.iter().any(counting))
                    || matches!(col.words.as_slice(), [w] if participles.contains(&w.as_str())))
        })
        .collect();
    if let [c] = found.as_slice() {
        q.items = vec![sql::Expr::Agg(sql::Agg::Sum, *c, false)];
    }
}

/// Whether the question asks for a breakdown ("by", "per", "each", "every").
fn asks_a_breakdown(toks: &[text::Tok]) -> bool {
    toks.iter()
        .any(|t| matches!(t.low.as_str(), "by" | "per" | "each" | "every"))
}

/// "What is the total amount of orders in 2024?": a column named as a total
/// (`total_amount`) listed for many rows; the question's "total" adds it up over them
/// (not for each row, nor for one row the question fixes by its name or key).
fn total_of_the_rows(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let [sql::Expr::Col(c)] = q.items[..] else {
        return;
    };
    let col = &idx.cols[c];
    let each = asks_a_breakdown(toks);
    let fixed = q.conds.iter().any(|k| {
        matches!(k, sql::Cond::Cmp(k, "=", _)
            if Some(*k) == idx.label_col(col.table) || idx.cols[*k].pk)
    });
    let said_total = toks.iter().any(|t| t.low == "total");
    if col.words.first().is_some_and(|w| w == "total")
        && col.words.len() >= 2
        && numeric(idx, c)
        && col.metric.is_none()
        && said_total
        && !each
        && !fixed
        && q.is_listing()
        && q.limit.is_none()
        && q.order.is_empty()
        && !q.distinct
    {
        q.items = vec![sql::Expr::Agg(sql::Agg::Sum, c, false)];
    }
}

/// "Which player won the most matches?": of two keys from one table to another
/// (`winner_id`, `loser_id`), the join takes the one whose role the question's verb names
/// (won → winner, lost → loser, wrote → writer), when it names one and not the other.
fn role_of_the_verb(
    q: &mut sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
    read_as: &[ground::ReadAs],
) {
    let lex = lexicon::lexicon();
    let lemmas: Vec<String> = toks
        .iter()
        .filter(|t| !t.quoted && lex.is_verb(&t.low))
        .map(|t| lex.lemma(&t.low).unwrap_or_else(|| t.low.clone()))
        .collect();
    // The role a key's name says: its words without a last `id`.
    let role = |c: usize| {
        let w = &idx.cols[c].words;
        match w.split_last() {
            Some((last, rest)) if last == "id" => rest.join(" "),
            _ => w.join(" "),
        }
    };
    // An agent noun of the verb: win → winner, lose → loser, write → writer, edit → editor.
    // (Or a verb grounding read as the role: "win" as winner, "lost" as loser.)
    let read_roles: Vec<&str> = read_as
        .iter()
        .filter(|r| lex.is_verb(&r.said.to_lowercase()))
        .map(|r| r.read_as.as_str())
        .collect();
    let names_role = |r: &str| {
        read_roles.contains(&r)
            || lemmas.iter().any(|l| {
                let doubled = l.chars().last().map(|c| format!("{l}{c}er"));
                r == format!("{l}er")
                    || r == format!("{l}r")
                    || r == format!("{l}or")
                    || doubled.is_some_and(|d| r == d)
            })
    };
    // A role word said as it is ("the loser").
    let said = |r: &str| {
        toks.iter()
            .any(|t| !t.quoted && (t.stem == r || t.low == r))
    };
    let used: Vec<usize> = q
        .items
        .iter()
        .chain(q.order.iter().map(|(e, _)| e))
        .filter_map(|e| match e {
            sql::Expr::Col(c) | sql::Expr::Agg(_, c, _) => Some(*c),
            sql::Expr::CountStar => None,
        })
        .chain(q.conds.iter().flat_map(sql::cond_cols))
        .chain(q.group.iter().copied())
        .collect();
    // "How many matches did Serena Williams win?": a value compared with one of two columns
    // that differ by their role word (`loser_name`, `winner_name`) goes to the verb's.
    // The same for what is shown: "Who won the longest match?" is the winner's name.
    let sibling = |c: usize| {
        let (first, rest) = idx.cols[c].words.split_first()?;
        let named: Vec<usize> = idx.tables[idx.cols[c].table]
            .cols
            .iter()
            .copied()
            .filter(|&o| {
                o != c
                    && idx.cols[o]
                        .words
                        .split_first()
                        .is_some_and(|(f, r)| r == rest && !rest.is_empty() && names_role(f))
            })
            .collect();
        // (Not when the question says the column's own role: "… was Nadal the loser?")
        match named.as_slice() {
            [other] if !names_role(first) && !said(first) => Some(*other),
            _ => None,
        }
    };
    for cond in &mut q.conds {
        let (sql::Cond::Cmp(c, _, _) | sql::Cond::Like(c, _, _)) = cond else {
            continue;
        };
        if let Some(other) = sibling(*c) {
            *c = other;
        }
    }
    for item in &mut q.items {
        if let sql::Expr::Col(c) | sql::Expr::Agg(_, c, _) = item
            && let Some(other) = sibling(*c)
        {
            *c = other;
        }
    }
    for j in 0..q.joins.len() {
        let (a, b) = q.joins[j];
        let Some((key, target)) = [(a, b), (b, a)]
            .into_iter()
            .find(|(k, t)| idx.edges.iter().any(|e| e.from == *k && e.to == *t))
        else {
            continue;
        };
        let siblings: Vec<usize> = idx
            .edges
            .iter()
            .filter(|e| {
                e.to == target && e.from != key && idx.cols[e.from].table == idx.cols[key].table
            })
            .map(|e| e.from)
            .collect();
        let named: Vec<usize> = siblings
            .iter()
            .copied()
            .filter(|&s| names_role(&role(s)))
            .collect();
        if let [other] = named.as_slice()
            && !names_role(&role(key))
            && !said(&role(key))
            && !used.contains(&key)
        {
            q.joins[j] = if key == a { (*other, b) } else { (a, *other) };
        }
    }
}

/// "the total number of citations received by each author" answered with every
/// publication's citations: a listing that shows nothing of the table the breakdown names
/// ("each author") lists other rows, one per row of its own table, not one per author.
fn unshown_breakdown(
    q: &sql::Select,
    idx: &index::Index,
    breakdown: Option<&str>,
    table: Option<usize>,
) -> Option<String> {
    let (said, t) = (breakdown?, table?);
    let shows_it = q.items.iter().any(|e| match e {
        sql::Expr::Col(c) => idx.cols[*c].table == t,
        _ => true,
    });
    if t == q.from || shows_it || !q.is_listing() {
        return None;
    }
    Some(format!(
        "I understood a breakdown \"{said}\" but would have listed {} instead, not one row \
         for each of the {}: {} Rephrase the question, or use an LLM provider.",
        idx.table_words(q.from),
        idx.table_words(t),
        sql::explain(q, idx)
    ))
}

/// "Top 5 customers by total order value, excluding cancelled orders": rows left out
/// ("excluding", "except", "ignoring", "omitting", "not counting") of the very table the
/// query adds up are left out of the sum, not every customer who has one. A `NOT IN` of
/// the first table's rows by one value of a joined table whose rows the query aggregates
/// becomes that table's rows without the value. ("… who never had a cancelled order" keeps
/// its `NOT IN`: "never", "no" and "not" alone exclude the customers.)
fn excluded_from_the_measure(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let excluding = toks.iter().enumerate().any(|(i, t)| {
        matches!(
            t.low.as_str(),
            "excluding" | "except" | "ignoring" | "omitting"
        ) || t.low == "not"
            && toks
                .get(i + 1)
                .is_some_and(|n| matches!(n.low.as_str(), "counting" | "including"))
    });
    if !excluding {
        return;
    }
    let joined = sql::tables_of(q, idx);
    let aggregated: Vec<usize> = q
        .items
        .iter()
        .chain(q.order.iter().map(|(e, _)| e))
        .filter_map(|e| match e {
            sql::Expr::Agg(_, c, _) => Some(idx.cols[*c].table),
            _ => None,
        })
        .collect();
    let Some(at) = q.conds.iter().position(|c| match c {
        sql::Cond::NotIn(k, sub) => {
            idx.cols[*k].table == q.from
                && sub.from != q.from
                && joined.contains(&sub.from)
                && aggregated.contains(&sub.from)
        }
        _ => false,
    }) else {
        return;
    };
    let sql::Cond::NotIn(_, sub) = &q.conds[at] else {
        return;
    };
    let values: Vec<(usize, sql::Lit)> = sub
        .conds
        .iter()
        .filter_map(|c| match c {
            sql::Cond::Cmp(col, "=", lit) if idx.cols[*col].table == sub.from => {
                Some((*col, lit.clone()))
            }
            _ => None,
        })
        .collect();
    let only_values = sub
        .conds
        .iter()
        .all(|c| matches!(c, sql::Cond::Cmp(_, "=", _) | sql::Cond::NotNull(_)));
    if let ([(col, lit)], true) = (&values[..], only_values) {
        q.conds[at] = sql::Cond::Cmp(*col, "!=", lit.clone());
    }
}

/// "… in descending order", "largest first", "from most to fewest": a direction said for
/// an answer the query does not sort. The one figure it computes is what is sorted; with
/// none, or several, nothing is (the direction alone does not say by what).
fn sort_as_said(q: &mut sql::Select, idx: &index::Index, descending: bool) {
    if !q.order.is_empty() || q.limit.is_some() || q.bucket.is_some() {
        return;
    }
    let measures: Vec<&sql::Expr> = q.items.iter().filter(|e| sql::is_measure(e, idx)).collect();
    if let [m] = measures[..] {
        q.order = vec![(m.clone(), descending)];
    }
}

/// The question without a direction said with nothing to sort by ("largest first", "in
/// descending order", "sorted from most to fewest"), and the direction (`true`: largest
/// first). Taken out before reading: "first" is no `first_name`, nor "largest" a ranking
/// of one row.
fn said_direction(question: &str) -> (Option<String>, Option<bool>) {
    const DOWN: [&str; 6] = ["most", "highest", "largest", "biggest", "greatest", "top"];
    const UP: [&str; 4] = ["fewest", "least", "lowest", "smallest"];
    let (words, bare) = words_of(question);
    let dir = |w: &str| {
        if DOWN.contains(&w) {
            Some(true)
        } else if UP.contains(&w) {
            Some(false)
        } else {
            None
        }
    };
    let at = |i: usize| bare.get(i).map_or("", String::as_str);
    // (start, end inclusive, direction)
    let mut found: Option<(usize, usize, bool)> = None;
    for i in 0..bare.len() {
        if let Some(d) = dir(at(i)).filter(|_| at(i + 1) == "first") {
            found = Some((i, i + 1, d));
        } else if at(i) == "in" && at(i + 2) == "order" && !matches!(at(i + 3), "of" | "by") {
            let d = match at(i + 1) {
                "descending" | "decreasing" => Some(true),
                "ascending" | "increasing" => Some(false),
                _ => None,
            };
            if let Some(d) = d {
                found = Some((i, i + 2, d));
            }
        } else if at(i) == "from" {
            let j = if at(i + 1) == "the" { i + 2 } else { i + 1 };
            let k = if at(j + 2) == "the" { j + 3 } else { j + 2 };
            if let (Some(d), "to", Some(_)) = (dir(at(j)), at(j + 1), dir(at(k))) {
                found = Some((i, k, d));
            }
        }
        if found.is_some() {
            break;
        }
    }
    let Some((mut start, end, descending)) = found else {
        return (None, None);
    };
    // ("Sort from most to fewest.": the verb goes with it.)
    if start >= 1
        && matches!(
            at(start - 1),
            "sort" | "sorted" | "order" | "ordered" | "rank" | "ranked"
        )
    {
        start -= 1;
    }
    (Some(without_words(&words, start, end)), Some(descending))
}

/// "Which categories contain at least one discontinued product?": at least one of a thing
/// is having one, said as "a" ("contain a discontinued product"), so the number is no
/// count to place. Not "at least one of …", which picks among the rows. (A second reading,
/// for questions the first cannot read: where it can, "at least one" is its `HAVING`.)
fn at_least_one(question: &str) -> Option<String> {
    let (words, bare) = words_of(question);
    let bare = |i: usize| bare.get(i).map_or("", String::as_str);
    let i = (0..words.len()).find(|&i| {
        bare(i) == "at"
            && bare(i + 1) == "least"
            && matches!(bare(i + 2), "one" | "1")
            && !words[i + 2].ends_with([',', '.', '?', '!'])
            && !matches!(bare(i + 3), "" | "of")
    })?;
    let mut kept: Vec<&str> = words[..i].to_vec();
    kept.push("a");
    kept.extend(&words[i + 3..]);
    Some(kept.join(" "))
}

/// A question's words as written (split at white space) and each without its punctuation,
/// in lower case, for the cuts made before reading (a unit, a direction, "at least one").
fn words_of(question: &str) -> (Vec<&str>, Vec<String>) {
    let words: Vec<&str> = question.split_whitespace().collect();
    let bare = words
        .iter()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_ascii_lowercase()
        })
        .collect();
    (words, bare)
}

/// `words` joined without `words[start..=end]`, the punctuation after the last of them kept
/// on the word before ("…, in millions?" → "…?"), a comma before them dropped.
fn without_words(words: &[&str], start: usize, end: usize) -> String {
    let tail: String = words[end]
        .chars()
        .rev()
        .take_while(|c| !c.is_alphanumeric())
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    let mut kept: Vec<String> = words[..start].iter().map(|w| (*w).to_owned()).collect();
    if let Some(last) = kept.last_mut() {
        let trimmed = last.trim_end_matches(',').to_owned();
        *last = trimmed + &tail;
    }
    kept.extend(words[end + 1..].iter().map(|w| (*w).to_owned()));
    kept.join(" ")
}

/// A breakdown the question asks for ("by department") that the query does not build:
/// an aggregate with no grouping, series, sort or `HAVING` answers another question.
fn unbuilt_breakdown(
    q: &sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
    breakdown: Option<&str>,
) -> Option<String> {
    let aggregated = q.items.iter().any(|e| match e {
        sql::Expr::Col(c) => idx.cols[*c].metric.is_some(),
        _ => true,
    });
    // A sort asked for ("sorted by", "in descending order", "ordered by"); "order" alone
    // is often the thing ("average order value").
    let sorting = toks.iter().enumerate().any(|(i, t)| {
        let next = toks.get(i + 1).map_or("", |n| n.low.as_str());
        let prev = if i > 0 { toks[i - 1].low.as_str() } else { "" };
        match t.low.as_str() {
            "sort" | "sorted" | "ordered" | "rank" | "ranked" | "descending" | "ascending" => true,
            "order" => {
                next == "by"
                    || next == "of"
                    || prev == "in"
                    || prev == "descending"
                    || prev == "ascending"
                    || prev == "alphabetical"
            }
            _ => false,
        }
    });
    // "the average salary per employee" over the employees: one average, no breakdown.
    let per_own_row = breakdown.is_some_and(|b| {
        b.split_whitespace()
            .last()
            .and_then(|w| idx.table_named_by(&text::stem(&w.to_lowercase())))
            == Some(q.from)
            && q.joins.is_empty()
            && q.items.iter().all(|e| {
                matches!(e, sql::Expr::Agg(sql::Agg::Avg, c, _) if idx.cols[*c].table == q.from)
            })
    });
    if let Some(b) = breakdown
        && !per_own_row
        && aggregated
        && q.group.is_empty()
        && q.bucket.is_none()
        && (q.order.is_empty() || !sorting)
        && q.having.is_none()
    {
        return Some(format!(
            "I understood a breakdown \"{b}\" but could not build it; I would have answered \
             only: {} Rephrase the question, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    None
}

/// "How many orders did customers from Japan place?" answered by counting the customers:
/// the question counts rows of the table named right after "how many", and the query's
/// `COUNT(*)` counts rows of a table that is not that one, with that one not joined.
fn counts_another_table<'t>(
    q: &sql::Select,
    idx: &index::Index,
    toks: &'t [text::Tok],
) -> Option<&'t str> {
    let [how, many, noun, rest @ ..] = toks else {
        return None;
    };
    if how.low != "how" || many.low != "many" || noun.quoted {
        return None;
    }
    // "how many car makers": the noun may be the first word of a longer name.
    if rest
        .first()
        .is_some_and(|n| idx.vocab.contains(&n.stem) || idx.vocab.contains(&n.low))
    {
        return None;
    }
    let named = idx.table_named_by(&noun.stem)?;
    let counts_rows = q.items.iter().any(|e| matches!(e, sql::Expr::CountStar));
    let joined = q.from == named || q.joins.iter().any(|(_, new)| idx.cols[*new].table == named);
    (counts_rows && !joined).then_some(noun.text.as_str())
}

/// A count the query does not compute: "how many", "number of" or "count" in the question
/// when nothing in the query counts (`COUNT`, a count in `HAVING` or the ordering) or is
/// named so (a column or metric `num_of_staff`, `order_count`).
fn unused_count(q: &sql::Select, idx: &index::Index, toks: &[text::Tok]) -> Option<String> {
    let (at, said) = toks.windows(2).enumerate().find_map(|(i, w)| {
        let (a, b) = (&w[0], &w[1]);
        // "the order number of …" names a column, not a count.
        let named = i.checked_sub(1).is_some_and(|p| {
            idx.vocab.contains(&toks[p].stem)
                && !querent_domain::text::AGGREGATE_WORDS.contains(&toks[p].low.as_str())
                && !querent_domain::text::ORDERING_WORDS.contains(&toks[p].low.as_str())
        });
        let asks =
            (a.low == "how" && b.low == "many") || (a.low == "number" && b.low == "of" && !named);
        (asks && !a.quoted && !b.quoted).then(|| (i, format!("{} {}", a.text, b.text)))
    })?;
    // "the greatest number of years" may be a numeric column of years itself.
    let noun = toks[at + 2..]
        .iter()
        .find(|t| !matches!(t.low.as_str(), "the" | "different" | "distinct" | "unique"));
    let numeric_named = |c: usize| {
        idx.cols[c].kind == index::Kind::Number
            && noun.is_some_and(|n| idx.cols[c].words.contains(&n.stem))
    };
    let named_count = |c: usize| {
        idx.cols[c]
            .names()
            .flatten()
            .any(|w| matches!(w.as_str(), "number" | "count" | "num" | "no"))
    };
    let counts = |e: &sql::Expr| match e {
        sql::Expr::CountStar | sql::Expr::Agg(sql::Agg::Count, _, _) => true,
        sql::Expr::Col(c) | sql::Expr::Agg(_, c, _) => named_count(*c) || numeric_named(*c),
    };
    let counted = q
        .items
        .iter()
        .chain(q.order.iter().map(|(e, _)| e))
        .any(counts)
        || q.having.is_some()
        || q.conds.iter().flat_map(sql::cond_cols).any(named_count)
        || q.intersect.is_some();
    (!counted).then_some(said)
}

/// An average the query does not compute: "average" or "mean" in the question when
/// nothing in the query averages (an `AVG`, a comparison with an average) or is named so (a
/// metric `average_order_value`, a column `Average`).
fn unused_average<'t>(
    q: &sql::Select,
    idx: &index::Index,
    toks: &'t [text::Tok],
) -> Option<&'t str> {
    let named_average = |c: usize| {
        idx.cols[c]
            .names()
            .flatten()
            .any(|w| matches!(w.as_str(), "average" | "avg" | "mean" | "rate"))
    };
    let averages = |e: &sql::Expr| match e {
        sql::Expr::Agg(sql::Agg::Avg, _, _) => true,
        sql::Expr::Col(c) | sql::Expr::Agg(_, c, _) => named_average(*c),
        sql::Expr::CountStar => false,
    };
    if q.items
        .iter()
        .chain(q.order.iter().map(|(e, _)| e))
        .any(averages)
        || q.conds.iter().any(|c| {
            matches!(c, sql::Cond::CmpAvg(..)) || sql::cond_cols(c).into_iter().any(named_average)
        })
    {
        return None;
    }
    toks.iter()
        .find(|t| !t.quoted && matches!(t.low.as_str(), "average" | "mean" | "avg"))
        .map(|t| t.text.as_str())
}

/// "Which product has sold the most units?" answered by the product of the one largest
/// order line: rows of one table ranked by a number of another table whose rows roll up
/// to them (many lines per product), after "most", "least" or "fewest" and a noun — an
/// amount of them, not one row's ("at once", "in one day", "per order" are one row's).
/// Each row's sum ranks them (`GROUP BY` its key).
fn most_summed(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let [(sql::Expr::Col(c), _)] = q.order[..] else {
        return;
    };
    let rows = idx.cols[c].table;
    let shown: Vec<usize> = q
        .items
        .iter()
        .filter_map(|e| match e {
            sql::Expr::Col(k) => Some(idx.cols[*k].table),
            _ => None,
        })
        .collect();
    let Some(&entity) = shown.first() else {
        return;
    };
    let lex = lexicon::lexicon();
    let Some(noun) = toks.windows(2).find_map(|w| {
        (matches!(w[0].low.as_str(), "most" | "least" | "fewest")
            && !w[1].quoted
            && !lex.is_adjective(&w[1].low)
            && w[1].low != w[1].stem)
            .then_some(w[1].low.as_str())
    }) else {
        return;
    };
    // ("the most units" ranked by `unit_price`: the quantity of those rows.)
    let mut c = c;
    if matches!(noun, "units" | "pieces") && !is_quantity(idx, c) {
        let quantities: Vec<usize> = idx.tables[rows]
            .cols
            .iter()
            .copied()
            .filter(|&k| is_quantity(idx, k))
            .collect();
        let [quantity] = quantities[..] else {
            return;
        };
        c = quantity;
    }
    // ("the most tickets at once", "in a single order": one row's.)
    let one_row = toks
        .iter()
        .any(|t| matches!(t.low.as_str(), "once" | "single" | "one" | "per" | "each"));
    // (Only what adds up: an amount of money or a quantity, not a price per unit of a
    // table that keeps quantities.)
    let per_unit = idx.cols[c]
        .words
        .iter()
        .any(|w| matches!(w.as_str(), "price" | "cost"))
        && idx.tables[rows].cols.iter().any(|&k| is_quantity(idx, k));
    let additive = idx.money_col(rows) == Some(c) && !per_unit || is_quantity(idx, c);
    if !additive
        || one_row
        || shown.len() != q.items.len()
        || shown.iter().any(|&t| t != entity)
        || rows == entity
        || !q.group.is_empty()
        || q.limit.is_none()
        || q.distinct
        || q.having_of.is_some()
        || !numeric(idx, c)
        || idx.cols[c].pk
        || idx.references(c)
        || !idx.rolls_up(rows, entity, 2)
    {
        return;
    }
    let Some(key) = idx.key_col(entity) else {
        return;
    };
    q.group = vec![key];
    q.order[0].0 = sql::Expr::Agg(sql::Agg::Sum, c, false);
}

/// "Which office has the highest total sale price?" answered by the office of the one
/// largest sale: a superlative then "total" or "average" ("the highest total …") when the
/// query ranks by a plain column, nothing added up or averaged. The word said.
fn ranked_by_one_row<'t>(
    q: &sql::Select,
    idx: &index::Index,
    toks: &'t [text::Tok],
) -> Option<&'t str> {
    let plain = !q.order.is_empty() && q.order.iter().all(|(e, _)| matches!(e, sql::Expr::Col(_)));
    if !plain || !q.group.is_empty() {
        return None;
    }
    // ("the order with the highest total": a column named so is that total.)
    let named = |word: &str| {
        q.order.iter().any(|(e, _)| match e {
            sql::Expr::Col(c) => idx.cols[*c].names().flatten().any(|w| w == word),
            _ => false,
        })
    };
    toks.windows(2).find_map(|w| {
        (plan::agg_word(&w[0].low).is_some_and(|(_, superlative)| superlative)
            && matches!(w[1].low.as_str(), "total" | "average" | "mean" | "combined")
            && !named(&w[1].low))
        .then_some(w[1].text.as_str())
    })
}

/// "Which month had the highest total order value?" answered with the month of the most
/// orders: the question's "total" or "sum" (not "the total number", "in total") when the
/// query only counts rows — nothing summed, no metric, no column named a total.
fn total_counted<'t>(
    q: &sql::Select,
    idx: &index::Index,
    toks: &'t [text::Tok],
) -> Option<&'t str> {
    let exprs = || q.items.iter().chain(q.order.iter().map(|(e, _)| e));
    let counts = exprs().any(|e| {
        matches!(
            e,
            sql::Expr::CountStar | sql::Expr::Agg(sql::Agg::Count, ..)
        )
    });
    let adds = exprs().any(|e| match e {
        sql::Expr::Agg(sql::Agg::Sum, ..) => true,
        sql::Expr::Col(c) | sql::Expr::Agg(_, c, _) => {
            idx.cols[*c].metric.is_some()
                || idx.cols[*c]
                    .names()
                    .flatten()
                    .any(|w| matches!(w.as_str(), "total" | "sum"))
        }
        sql::Expr::CountStar => false,
    });
    if !counts || adds || q.having_of.is_some() {
        return None;
    }
    toks.iter().enumerate().find_map(|(i, t)| {
        let next = toks.get(i + 1).map_or("", |n| n.low.as_str());
        let prev = if i > 0 { toks[i - 1].low.as_str() } else { "" };
        // ("the highest total orders": the orders counted.)
        let rows_next = toks
            .get(i + 1)
            .is_some_and(|n| idx.table_named_by(&n.stem).is_some());
        // ("worth more than the average total amt": a column named so.)
        let col_next = toks.get(i + 1).is_some_and(|n| {
            idx.cols
                .iter()
                .any(|c| c.words.windows(2).any(|w| w[0] == t.stem && w[1] == n.stem))
        });
        (!t.quoted
            && matches!(t.low.as_str(), "total" | "sum")
            && !matches!(next, "number" | "count" | "of" | "amount")
            && !rows_next
            && !col_next
            && !t.stop
            && prev != "in")
            .then_some(t.text.as_str())
    })
}

/// Whether a condition (or one inside it) leaves rows out: `!=`, `NOT LIKE`, `NOT IN`,
/// `IS NOT NULL`.
fn excludes(c: &sql::Cond) -> bool {
    match c {
        sql::Cond::Cmp(_, op, _) => matches!(*op, "!=" | "<>"),
        sql::Cond::Like(_, _, negated) => *negated,
        sql::Cond::NotIn(..) | sql::Cond::NotNull(_) | sql::Cond::IsNull(_) => true,
        sql::Cond::Both(parts) | sql::Cond::Or(parts) => parts.iter().any(excludes),
        _ => false,
    }
}

/// A negation the query does not carry out ("stadiums that did not host a concert"
/// answered with the stadiums that did): the question's "not", "except", "without" …
/// when no condition of the query leaves anything out. A negated comparison ("not more
/// than 4", "no later than 2010") is a comparison, and is not counted.
fn unused_negation<'t>(
    q: &sql::Select,
    idx: &index::Index,
    toks: &'t [text::Tok],
) -> Option<&'t str> {
    let excluded = q.conds.iter().any(excludes)
        || q.intersect
            .as_ref()
            .is_some_and(|i| i.conds.iter().any(excludes));
    if excluded {
        return None;
    }
    let comparison = |t: &text::Tok| {
        lexicon::COMPARISON_WORDS.contains(&t.low.as_str())
            || (t.low.len() > 4 && t.low.ends_with("er") && lexicon::lexicon().is_adjective(&t.low))
    };
    (0..toks.len()).find_map(|j| {
        let t = &toks[j];
        if t.quoted || !plan::negation_at(toks, j) {
            return None;
        }
        // "No. 5", "flight no 12", "room no": a number, not a negation.
        if t.low == "no"
            && (t.stop
                || toks.get(j + 1).is_some_and(|n| n.number().is_some())
                || j.checked_sub(1)
                    .is_some_and(|p| idx.vocab.contains(&toks[p].stem)))
        {
            return None;
        }
        if toks[j + 1..].iter().take(2).any(comparison) {
            return None;
        }
        Some(t.text.as_str())
    })
}

/// "Where is the Logistics department located?": a question asking where shows the place
/// columns of the table it lists (location, city, country, address …): instead of what
/// it names when only that was found, else beside the rows ("Where do our customers
/// live?").
fn where_is_a_place(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    if toks.first().is_none_or(|t| t.low != "where") || !q.group.is_empty() {
        return;
    }
    let fixed = q.fixed_cols();
    let plain = !q.items.is_empty()
        && q.items
            .iter()
            .all(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].metric.is_none()));
    if !plain {
        return;
    }
    let only_fixed = q
        .items
        .iter()
        .all(|e| matches!(e, sql::Expr::Col(c) if fixed.contains(c)));
    let place_col = |c: usize| {
        let col = &idx.cols[c];
        !col.pk
            && !col.fk
            && col.kind == index::Kind::Text
            && col
                .words
                .last()
                .is_some_and(|w| lexicon::PLACE_WORDS.contains(&w.as_str()))
    };
    if q.items
        .iter()
        .any(|e| matches!(e, sql::Expr::Col(c) if place_col(*c)))
    {
        return;
    }
    let Some(t) = q.items.iter().find_map(|e| match e {
        sql::Expr::Col(c) => Some(idx.cols[*c].table),
        _ => None,
    }) else {
        return;
    };
    let places: Vec<sql::Expr> = idx.tables[t]
        .cols
        .iter()
        .copied()
        .filter(|&c| place_col(c) && !fixed.contains(&c))
        .map(sql::Expr::Col)
        .collect();
    if places.is_empty() {
        return;
    }
    if only_fixed {
        q.items = places;
    } else {
        // "Where do our customers live?": who, and where.
        q.items.extend(places);
    }
}

/// Whether a question word is the noun of table `t` ("orders", "customer").
fn names_table(tok: &text::Tok, idx: &index::Index, t: usize) -> bool {
    !tok.quoted && idx.table_named_by(&tok.stem) == Some(t)
}

/// A superlative the query does not carry out: no ordering, no cut, no aggregate.
fn unused_superlative<'t>(
    q: &sql::Select,
    idx: &index::Index,
    toks: &'t [text::Tok],
) -> Option<&'t str> {
    let plain = q
        .items
        .iter()
        .all(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].metric.is_none()));
    if !plain
        || !q.order.is_empty()
        || q.limit.is_some()
        || q.having.is_some()
        || q.bucket.is_some()
        || q.intersect.is_some()
        || q.conds.iter().any(|c| matches!(c, sql::Cond::CmpAvg(..)))
    {
        return None;
    }
    toks.iter()
        .enumerate()
        .find(|&(i, t)| {
            !t.quoted
                && (plan::ranks_by_value(&t.low)
                    // A word of a name ("best finish") is that name.
                    || (ranks_rows(toks, i) && !idx.vocab.contains(&t.low)))
        })
        .map(|(_, t)| t.text.as_str())
}

/// Superlatives that rank rows whatever they rank by: "the most …", "the best …", "the
/// top …", "the least …", "the fewest …", "the worst …", and compounds such as
/// "best-selling", "top-rated", "most-viewed". Not "at most", "at least", "most of", "top
/// of", or a word inside quotes.
fn ranks_rows(toks: &[text::Tok], i: usize) -> bool {
    const RANKING: &[&str] = &["most", "best", "top", "least", "fewest", "worst"];
    let t = &toks[i];
    let compound = t
        .low
        .split_once('-')
        .is_some_and(|(head, rest)| RANKING.contains(&head) && !rest.is_empty());
    if compound {
        return true;
    }
    let before = i.checked_sub(1).map_or("", |p| toks[p].low.as_str());
    let after = toks.get(i + 1).map_or("", |n| n.low.as_str());
    RANKING.contains(&t.low.as_str())
        && before != "at"
        // "the top of", "the best of"; but "most of our customers" ranks them.
        && (after != "of" || t.low == "most")
}

/// "When was the earliest order?": a question asking when, answered by the row a date
/// ordering picks, shows that date rather than every column of the row.
fn narrow_to_date_asked(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    if toks.first().is_none_or(|t| t.low != "when") || q.limit.is_none() || !q.group.is_empty() {
        return;
    }
    let Some((sql::Expr::Col(c), _)) = q.order.first() else {
        return;
    };
    let table_cols = &idx.tables[q.from].cols;
    let shows_date = q.items.iter().any(|e| match e {
        sql::Expr::Col(k) | sql::Expr::Agg(_, k, _) => idx.cols[*k].kind == index::Kind::Date,
        sql::Expr::CountStar => false,
    });
    let plain = q
        .items
        .iter()
        .all(|e| matches!(e, sql::Expr::Col(k) if idx.cols[*k].metric.is_none()));
    if idx.cols[*c].kind == index::Kind::Date
        && plain
        && (!shows_date
            || q.items.len() == table_cols.len()
                && q.items
                    .iter()
                    .all(|e| matches!(e, sql::Expr::Col(k) if table_cols.contains(k))))
    {
        q.items = vec![sql::Expr::Col(*c)];
    }
}

/// How much unknown content a question may carry and still be answered: one noun, or two
/// adjectives, is too much ([`ground::unknown_words`] weighs them).
const UNKNOWN_LIMIT: f32 = 1.0;

/// Why a question with words nothing explains is not answered: the words, what the rest
/// of it would have computed, and what would help.
fn unknown_refusal(words: &[String], understood: &str) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    let (these, them) = if words.len() == 1 {
        ("the word", "it")
    } else {
        ("the words", "them")
    };
    format!(
        "I do not know what {these} {} mean{} here: no table, column or stored value of this \
         database matches {them}. Without {them} I would have answered: {} Ask with the \
         names the database uses, add {them} as synonyms or a metric in the connection's \
         semantic model, or use an LLM provider.",
        quoted.join(", "),
        if words.len() == 1 { "s" } else { "" },
        understood.trim_end_matches('.').to_owned() + "."
    )
}

/// "On average, how old are the dogs?": the one number asked for, averaged (not a count:
/// "how many pets does a student have on average" averages counts; nor one per group the
/// query does not build, nor a comparison with the average).
fn average_of_the_one_number(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let counts = toks.iter().any(|t| {
        matches!(
            t.low.as_str(),
            "many"
                | "number"
                | "count"
                | "each"
                | "every"
                | "per"
                | "by"
                | "than"
                | "above"
                | "below"
                | "over"
                | "under"
        )
    });
    if unused_average(q, idx, toks).is_some()
        && !counts
        && q.is_listing()
        && q.limit.is_none()
        && !q.distinct
        && let [sql::Expr::Col(c)] = q.items[..]
        && numeric(idx, c)
        && idx.cols[c].metric.is_none()
        && !idx.cols[c].pk
    {
        q.items = vec![sql::Expr::Agg(sql::Agg::Avg, c, false)];
        q.order.clear();
    }
}

/// Whether a column holds numbers: a number type, or text whose sampled values are all
/// numbers (`age varchar`).
fn numeric(idx: &index::Index, c: usize) -> bool {
    let col = &idx.cols[c];
    col.kind == index::Kind::Number
        || col.kind == index::Kind::Text
            && !col.samples.is_empty()
            && col.samples.iter().all(|v| v.trim().parse::<f64>().is_ok())
}

/// What the kind of question asks for: "who" shows a label, "when" a date, and an answer
/// that only repeats the value the question filters on is refused.
fn shape_answer(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) -> Result<(), String> {
    let opening = toks.first().map_or("", |t| t.low.as_str());
    // "Who …": a person or thing, by its label, not only the column it was chosen by.
    if matches!(opening, "who" | "whom")
        && q.intersect.is_none()
        && let Some(label) = idx.label_col(q.from)
        && !q
            .items
            .iter()
            .any(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].kind == index::Kind::Text))
        && q.items.iter().all(|e| matches!(e, sql::Expr::Col(_)))
    {
        q.items.insert(0, sql::Expr::Col(label));
    }
    // "Which customer signed up first?": the rows a superlative picks, by their label, not
    // only the value they were picked by.
    let which_row = matches!(opening, "which" | "what")
        && toks.get(1).is_some_and(|t| names_table(t, idx, q.from))
        && q.limit.is_some()
        && !q.order.is_empty();
    if which_row
        && q.intersect.is_none()
        && q.group.is_empty()
        && let Some(label) = idx.label_col(q.from)
        && !q
            .items
            .iter()
            .any(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].kind == index::Kind::Text))
        && q.items
            .iter()
            .all(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].table == q.from))
    {
        q.items.insert(0, sql::Expr::Col(label));
    }
    // "How much does each product cost?": one value asked for each row says whose it is
    // (columns the question lists itself stay as listed).
    let each_row = opening == "how"
        && q.items.len() == 1
        && toks.windows(2).any(|w| {
            matches!(w[0].low.as_str(), "each" | "every")
                && idx.tables[q.from]
                    .words
                    .last()
                    .is_some_and(|t| *t == w[1].stem)
        });
    if each_row
        && q.intersect.is_none()
        && q.group.is_empty()
        && !q.distinct
        && let Some(label) = idx.label_col(q.from)
        && !q.items.is_empty()
        && q.items.iter().all(|e| {
            matches!(e, sql::Expr::Col(c)
                if *c != label && idx.cols[*c].table == q.from && idx.cols[*c].metric.is_none())
        })
    {
        q.items.insert(0, sql::Expr::Col(label));
    }
    drop_fixed_groups(q, idx, toks);
    where_is_a_place(q, idx, toks);
    average_of_the_one_number(q, idx, toks);
    answers_all_of_it(q, idx, toks)?;
    // "the most popular category" as the count of each category's own row: every group
    // of a key holds one row, so the count ranks nothing.
    let counts_groups = q
        .order
        .iter()
        .any(|(e, _)| matches!(e, sql::Expr::CountStar))
        || q.having.is_some();
    let keys: Vec<usize> = idx.tables[q.from]
        .cols
        .iter()
        .copied()
        .filter(|&c| idx.cols[c].pk)
        .collect();
    if counts_groups
        && q.joins.is_empty()
        && !keys.is_empty()
        && keys.iter().all(|k| q.group.contains(k))
    {
        return Err(format!(
            "the question ranks or filters `{}` by a count, but I found nothing to count for \
             each of its rows (each is one row); I would have answered: {} Say what to count \
             (orders, products …), or use an LLM provider.",
            idx.tables[q.from].name,
            sql::explain(q, idx)
        ));
    }
    if let Some(counted) = counts_another_table(q, idx, toks) {
        return Err(format!(
            "the question asks how many {counted}, but I counted rows of `{}`; I would have \
             answered: {} Rephrase the question, or use an LLM provider.",
            idx.tables[q.from].name,
            sql::explain(q, idx)
        ));
    }
    if let Some(said) = unused_count(q, idx, toks) {
        return Err(format!(
            "the question asks for a count (\"{said}\"), but I found nothing to count; I \
             would have answered: {} Rephrase the question, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    if let Some(word) = unused_average(q, idx, toks) {
        return Err(format!(
            "the question asks for an average (\"{word}\"), but I found no average to \
             compute; I would have answered: {} Name what to average, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    if let Some(word) = ranked_by_one_row(q, idx, toks) {
        return Err(format!(
            "the question ranks by a {word}, but I ranked by one row's value; I would have \
             answered: {} Rephrase the question, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    if let Some(word) = total_counted(q, idx, toks) {
        return Err(format!(
            "the question asks for a total (\"{word}\"), but I found nothing to add up and \
             only counted rows; I would have answered: {} Name the amount to add up, or use \
             an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    if let Some(cue) = unused_negation(q, idx, toks) {
        return Err(format!(
            "the question says \"{cue}\", but I found nothing to leave out or exclude; I \
             would have answered the opposite: {} Rephrase the question, or use an LLM \
             provider.",
            sql::explain(q, idx)
        ));
    }
    // "When …" asks for a date or time.
    if opening == "when"
        && !q.items.iter().any(|e| match e {
            sql::Expr::Col(c) | sql::Expr::Agg(_, c, _) => idx.cols[*c].kind == index::Kind::Date,
            sql::Expr::CountStar => false,
        })
    {
        return Err(format!(
            "the question asks when, but I found no date to show; I would have answered: {} \
                 Name the date, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    // Showing only the column a filter fixes ("Where is Logistics located?" → the name
    // 'Logistics') repeats the question instead of answering it.
    let fixed_cols = q.fixed_cols();
    if !q.items.is_empty()
        && q.items
            .iter()
            .all(|e| matches!(e, sql::Expr::Col(c) if fixed_cols.contains(c)))
    {
        return Err(format!(
            "I found what the question is about but not what to show about it; I would \
                 only have repeated it: {} Name what you want to know, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    Ok(())
}

/// A person's name is both of its parts: where the query shows a first name the question
/// did not ask for by that name ("who…", "the customers' names") and the table also has a
/// last name, the last name is shown next to it.
/// Refuses a query that would answer only part of the question, or another question:
/// "how much" answered by a bare listing, one value asked for and a breakdown found, an
/// aggregate ordered to pick one row, conditions no row meets at once.
/// Whether the question opens as one asking for a single value ("how many …", "how much
/// …", "what is …").
fn asks_one_value(toks: &[text::Tok]) -> bool {
    let opening = toks.first().map_or("", |t| t.low.as_str());
    let second = toks.get(1).map_or("", |t| t.low.as_str());
    match opening {
        "how" => matches!(
            second,
            "many" | "much" | "long" | "old" | "big" | "large" | "far"
        ),
        "what" => matches!(second, "is" | "was" | "'s"),
        _ => false,
    }
}

/// Whether a word asks for a breakdown ("each", "per", "by", "for the different …").
fn asks_breakdown(toks: &[text::Tok]) -> bool {
    toks.iter().enumerate().any(|(i, t)| {
        matches!(
            t.low.as_str(),
            "each" | "per" | "by" | "every" | "group" | "grouped" | "respective" | "respectively"
        ) || (t.low == "different" && toks[i.saturating_sub(3)..i].iter().any(|p| p.low == "for"))
    })
}

/// "How many TV channels use the English language?": a grouping by a column the question
/// fixes to one value has one group; a question for one value gets that value alone. So
/// does a date the question names as its time range's ("How many policies took effect
/// during 2023?" grouped by the effective date): the date said is the range's, no breakdown.
fn drop_fixed_groups(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let fixed = |c: usize| {
        q.conds.iter().any(|k| {
            matches!(k, sql::Cond::Cmp(k, "=", _) if *k == c)
                || idx.cols[c].kind == index::Kind::Date
                    && match k {
                        sql::Cond::Range(k, ..)
                        | sql::Cond::Between(k, ..)
                        | sql::Cond::Relative(k, _) => *k == c,
                        sql::Cond::Cmp(k, op, _) => {
                            *k == c && matches!(*op, ">=" | ">" | "<" | "<=")
                        }
                        _ => false,
                    }
        })
    };
    if !asks_one_value(toks)
        || asks_breakdown(toks)
        || q.group.is_empty()
        || q.bucket.is_some()
        || q.having.is_some()
        || !q.order.is_empty()
        || !q.group.iter().all(|&c| fixed(c))
    {
        return;
    }
    let group = std::mem::take(&mut q.group);
    q.items
        .retain(|e| !matches!(e, sql::Expr::Col(c) if group.contains(c)));
}

fn answers_all_of_it(
    q: &sql::Select,
    idx: &index::Index,
    toks: &[text::Tok],
) -> Result<(), String> {
    let opening = toks.first().map_or("", |t| t.low.as_str());
    // "How much …" asks for an amount: a listing of amounts answers it only for one row
    // fixed by its name or key ("How much does the Aero lamp cost?"), chosen by a
    // superlative ("… the most expensive lamp"), or for each row ("… each lamp").
    if opening == "how"
        && toks.get(1).is_some_and(|t| t.low == "much")
        && !toks
            .iter()
            .any(|t| matches!(t.low.as_str(), "each" | "every" | "per"))
        && q.group.is_empty()
        && q.bucket.is_none()
        && q.limit.is_none()
        && q.items
            .iter()
            .all(|e| matches!(e, sql::Expr::Col(c) if idx.cols[*c].metric.is_none()))
        && !q.conds.iter().any(|c| {
            matches!(c, sql::Cond::Cmp(c, "=", _)
                if Some(*c) == idx.label_col(q.from) || Some(*c) == idx.key_col(q.from))
        })
    {
        return Err(format!(
            "the question asks how much, but I found no amount to add up; I would have \
             listed: {} Name the amount (or add a metric to the semantic model), or use an \
             LLM provider.",
            sql::explain(q, idx)
        ));
    }
    // Rows in both of two values or periods ("customers who ordered in both 2024 and
    // 2025") are answered as two lists intersected; computed over, the two conditions
    // could never hold at once.
    if q.conds.iter().any(|c| matches!(c, sql::Cond::Both(_))) {
        return Err(format!(
            "the question asks for rows that meet two conditions of one column at once \
             (\"both … and …\"), which I can only answer as a list, not computed over; I \
             would have answered: {} Ask for the list, or use an LLM provider.",
            sql::explain(q, idx)
        ));
    }
    // An ordering over one computed row ("the number of concerts in the stadium with the
    // highest capacity" read as a count ordered by capacity) picks nothing: the
    // superlative was meant for a row inside the computation.
    if !q.order.is_empty()
        && q.group.is_empty()
        && q.bucket.is_none()
        && q.items
            .iter()
            .all(|e| !matches!(e, sql::Expr::Col(c) if idx.cols[*c].metric.is_none()))
    {
        return Err(format!(
            "the question asks for a computed value of one row chosen by an ordering, which \
             I cannot combine; I would have answered: {} Ask in two steps, or use an LLM \
             provider.",
            sql::explain(q, idx)
        ));
    }
    // "How many …", "What is the average …" with no word asking for a breakdown ("each",
    // "per", "by", …) ask for one value; a grouping the planner added answers another
    // question.
    if asks_one_value(toks)
        && !q.group.is_empty()
        && q.having.is_none()
        && q.order.is_empty()
        && q.limit.is_none()
        && !asks_breakdown(toks)
    {
        return Err(format!(
            "the question asks for one number, but I could only answer it broken down; I \
             would have answered: {} Rephrase the question more directly, or use an LLM \
             provider.",
            sql::explain(q, idx)
        ));
    }
    // Bounds on one column that no value meets ("founded before 2003 and after 2003",
    // two different values at once) would answer nothing: the question meant rows of
    // either, or of both kinds, which is not what the query says.
    if let Some(c) = contradictory_bounds(&q.conds) {
        return Err(format!(
            "the question puts conditions on {} that no row can meet at once, and I cannot \
             combine them (rows of both kinds, or of either); ask about one at a time, or \
             use an LLM provider.",
            idx.col_words(c)
        ));
    }
    // Two periods that cannot both hold would answer nothing.
    let windows: Vec<(usize, &sql::Lit, &sql::Lit)> = q
        .conds
        .iter()
        .filter_map(|c| match c {
            sql::Cond::Range(c, a, b) => Some((*c, a, b)),
            _ => None,
        })
        .collect();
    let text_of = |l: &sql::Lit| match l {
        sql::Lit::Str(s) | sql::Lit::Num(s) => s.clone(),
    };
    for (i, (c1, a1, b1)) in windows.iter().enumerate() {
        for (c2, a2, b2) in &windows[i + 1..] {
            if c1 == c2 && (text_of(a1) >= text_of(b2) || text_of(a2) >= text_of(b1)) {
                return Err(format!(
                    "the question names two periods of {} that do not overlap, and I cannot \
                     combine them (rows in both, or in either); ask about one period at a \
                     time, or use an LLM provider.",
                    idx.col_words(*c1)
                ));
            }
        }
    }
    Ok(())
}

/// The column of two AND-ed conditions no value can meet: a lower bound at or above an
/// upper bound (`x > 2003 AND x < 2003`), or equality with two different values.
fn contradictory_bounds(conds: &[sql::Cond]) -> Option<usize> {
    let num = |l: &sql::Lit| match l {
        sql::Lit::Num(n) => n.parse::<f64>().ok(),
        sql::Lit::Str(_) => None,
    };
    let cmps: Vec<(usize, &str, &sql::Lit)> = conds
        .iter()
        .filter_map(|c| match c {
            sql::Cond::Cmp(c, op, l) => Some((*c, *op, l)),
            _ => None,
        })
        .collect();
    for (i, (c1, op1, l1)) in cmps.iter().enumerate() {
        for (c2, op2, l2) in &cmps[i + 1..] {
            if c1 != c2 {
                continue;
            }
            if *op1 == "=" && *op2 == "=" && l1 != l2 {
                return Some(*c1);
            }
            let (Some(a), Some(b)) = (num(l1), num(l2)) else {
                continue;
            };
            let lower = |op: &str| matches!(op, ">" | ">=");
            let upper = |op: &str| matches!(op, "<" | "<=");
            let strict = |op: &str| matches!(op, ">" | "<");
            let empty = |lo: f64, lo_op: &str, hi: f64, hi_op: &str| {
                lo > hi || (lo == hi && (strict(lo_op) || strict(hi_op)))
            };
            if (lower(op1) && upper(op2) && empty(a, op1, b, op2))
                || (upper(op1) && lower(op2) && empty(b, op2, a, op1))
            {
                return Some(*c1);
            }
        }
    }
    None
}

fn name_whole_people(q: &mut sql::Select, idx: &index::Index, toks: &[text::Tok]) {
    let said = |which: &str| {
        toks.windows(2)
            .any(|w| w[0].low == which && matches!(w[1].stem.as_str(), "name"))
    };
    // ("the first and last name" asks for both, whichever the query found.)
    let both = toks
        .windows(3)
        .any(|w| w[0].low == "first" && w[1].low == "and" && w[2].low == "last");
    if !both && (said("first") || said("last")) {
        return;
    }
    let part = |c: usize, which: &str| {
        idx.cols[c]
            .names()
            .any(|w| w.len() == 2 && w[0] == which && w[1] == "name")
    };
    let original = q.items.clone();
    let mut out = Vec::with_capacity(original.len() + 1);
    let part_of = |c: usize, which: &str| {
        idx.tables[idx.cols[c].table]
            .cols
            .iter()
            .copied()
            .find(|&k| part(k, which))
    };
    for e in &original {
        // "the names of students" read as the last name alone: the first name goes first.
        if let sql::Expr::Col(c) = e
            && part(*c, "last")
            && let Some(f) = part_of(*c, "first")
            && !original.contains(&sql::Expr::Col(f))
        {
            out.push(sql::Expr::Col(f));
        }
        out.push(e.clone());
        let sql::Expr::Col(c) = e else {
            continue;
        };
        if !part(*c, "first") {
            continue;
        }
        let last = idx.tables[idx.cols[*c].table]
            .cols
            .iter()
            .copied()
            .find(|&k| part(k, "last"));
        if let Some(k) = last
            && !original.contains(&sql::Expr::Col(k))
        {
            out.push(sql::Expr::Col(k));
        }
    }
    q.items = out;
    // People grouped by one part of their name are grouped by who they are: namesakes are
    // not one person (the declared key, which the parts shown depend on).
    let mut group: Vec<usize> = Vec::with_capacity(q.group.len());
    for &g in &q.group {
        let person = part(g, "first") || part(g, "last");
        let key = idx
            .key_col(idx.cols[g].table)
            .filter(|&k| person && idx.cols[k].pk);
        let g = key.unwrap_or(g);
        if !group.contains(&g) {
            group.push(g);
        }
    }
    q.group = group;
    // (Both halves of an INTERSECT show the same columns: "customers who ordered in both
    // 2023 and 2024" showed first and last names against first names alone.)
    if let Some(other) = q.intersect.as_deref_mut() {
        name_whole_people(other, idx, toks);
    }
}

/// Makes a query that uses metrics of the semantic model well-formed: metrics are
/// aggregates, so they are never grouped by or filtered on, the plain columns listed next to
/// them become the grouping, and the tables their expressions read are joined.
fn finish_metrics(
    q: &mut sql::Select,
    idx: &index::Index,
    options: &TranslatorOptions,
    by: Option<usize>,
) -> Result<(), String> {
    use sql::Expr;
    if let Some(other) = q.intersect.as_deref_mut() {
        finish_metrics(other, idx, options, None)?;
    }
    for c in &mut q.conds {
        if let sql::Cond::NotIn(_, sub) | sql::Cond::In(_, sub) = c {
            finish_metrics(sub, idx, options, None)?;
        }
    }
    let is_metric = |c: usize| idx.cols[c].metric.is_some();
    if let Some(c) = q
        .conds
        .iter()
        .flat_map(sql::cond_cols)
        .find(|&c| is_metric(c))
    {
        return Err(format!(
            "I recognised the metric `{}` but cannot filter on a metric's value",
            idx.cols[c].name
        ));
    }
    // A metric is an aggregate already: the average (least, greatest, count) of one would
    // be an aggregate of aggregates, which is not computed; a sum of a sum is the sum.
    let own = |agg: sql::Agg, c: usize| {
        let words = &idx.cols[c].words;
        let has = |ws: &[&str]| words.iter().any(|w| ws.contains(&w.as_str()));
        match agg {
            sql::Agg::Sum => true,
            sql::Agg::Avg => has(&["average", "avg", "mean", "rate"]),
            sql::Agg::Min => has(&["min", "minimum", "lowest", "least"]),
            sql::Agg::Max => has(&["max", "maximum", "highest", "greatest"]),
            sql::Agg::Count => has(&["count", "number"]),
        }
    };
    if let Some((agg, c)) = q.items.iter().find_map(|e| match e {
        Expr::Agg(agg, c, _) if is_metric(*c) && !own(*agg, *c) => Some((*agg, *c)),
        _ => None,
    }) {
        return Err(format!(
            "the question asks for the {} of the metric `{}`, which is itself computed over \
             rows; I cannot compute one over the other. Ask for the metric itself (by a \
             grouping such as month or customer), or use an LLM provider.",
            match agg {
                sql::Agg::Avg => "average",
                sql::Agg::Min => "least value",
                sql::Agg::Max => "greatest value",
                sql::Agg::Count => "count",
                sql::Agg::Sum => "sum",
            },
            idx.cols[c].name
        ));
    }
    let expr_metric = |e: &Expr| match e {
        Expr::Col(c) | Expr::Agg(_, c, _) => is_metric(*c).then_some(*c),
        Expr::CountStar => None,
    };
    let mut used: Vec<usize> = q
        .items
        .iter()
        .chain(q.order.iter().map(|(e, _)| e))
        .filter_map(expr_metric)
        .collect();
    used.extend(q.group.iter().copied().filter(|&c| is_metric(c)));
    used.sort_unstable();
    used.dedup();
    if used.is_empty() {
        return Ok(());
    }
    q.group.retain(|&c| !is_metric(c));
    q.distinct = false;
    if q.group.is_empty() {
        q.group = q
            .items
            .iter()
            .filter_map(|e| match e {
                Expr::Col(c) if !is_metric(*c) => Some(*c),
                _ => None,
            })
            .collect();
    }
    let mut tables: BTreeSet<usize> = BTreeSet::from([q.from]);
    tables.extend(q.joins.iter().map(|(_, new)| idx.cols[*new].table));
    // "the average salary per department": the metric for each row of the table the
    // breakdown names, shown by its label.
    if q.group.is_empty()
        && q.bucket.is_none()
        && let Some(t) = by.filter(|&t| t != q.from)
        && let Some(key) = idx.key_col(t).or_else(|| idx.label_col(t))
    {
        if !tables.contains(&t) {
            let steps = idx.path(&tables, t, options.max_join_hops).ok_or_else(|| {
                format!(
                    "I found no join path to `{}` for the breakdown",
                    idx.tables[t].name
                )
            })?;
            for (old, new) in steps {
                tables.insert(idx.cols[new].table);
                q.joins.push((old, new));
            }
        }
        // ("revenue by product" through order lines would add each order's total once per
        // line: `metrics_over_their_own_rows` below takes a metric of the lines or refuses.)
        let label = idx.label_col(t).unwrap_or(key);
        q.items.insert(0, Expr::Col(label));
        q.group = if label == key {
            vec![key]
        } else {
            vec![key, label]
        };
    }
    for &c in &used {
        let mut needed = vec![idx.cols[c].table];
        needed.extend(idx.metric_tables(c));
        for t in needed {
            if tables.contains(&t) {
                continue;
            }
            let steps = idx.path(&tables, t, options.max_join_hops).ok_or_else(|| {
                format!(
                    "I recognised the metric `{}` but found no join path to `{}`",
                    idx.cols[c].name, idx.tables[t].name
                )
            })?;
            for (old, new) in steps {
                tables.insert(idx.cols[new].table);
                q.joins.push((old, new));
            }
        }
    }
    metrics_over_their_own_rows(q, idx, &used)
}

/// A sum, average or count of a metric's rows across joins into rows that point back at
/// them adds each row once per such row ("revenue by category" summing each order's total
/// once per order line). Another metric of the model named like it whose rows the joins
/// do not repeat takes its place (`product_revenue` of the order lines for "revenue" by
/// product or category); else the question is refused. A distinct count is not changed by
/// repeats.
fn metrics_over_their_own_rows(
    q: &mut sql::Select,
    idx: &index::Index,
    used: &[usize],
) -> Result<(), String> {
    use sql::Expr;
    // The SQL text of a metric's expression around its columns, upper case.
    let text_of = |c: usize| -> String {
        idx.cols[c]
            .metric
            .iter()
            .flatten()
            .filter_map(|x| match x {
                index::Piece::Text(t) => Some(t.to_uppercase()),
                index::Piece::Col(_) => None,
            })
            .collect()
    };
    // A distinct count, a least or a greatest value is not changed by repeated rows.
    let unchanged = |c: usize| {
        let text = text_of(c);
        text.contains("COUNT(DISTINCT")
            || (text.contains("MIN(") || text.contains("MAX("))
                && !["SUM(", "AVG(", "COUNT("].iter().any(|f| text.contains(f))
    };
    let mut tables: BTreeSet<usize> = BTreeSet::from([q.from]);
    tables.extend(q.joins.iter().map(|(_, new)| idx.cols[*new].table));
    for &c in used {
        if unchanged(c) || !repeats_rows(q, idx, idx.cols[c].table) {
            continue;
        }
        // The one metric named as this one plus words of the joined tables' names
        // (`product_revenue` of the order lines for revenue by product), a sum or average
        // (a count of other rows counts something else), over rows the joins do not
        // repeat, with every table it reads joined.
        let joined_words: BTreeSet<&String> =
            tables.iter().flat_map(|&t| &idx.tables[t].words).collect();
        let counts = |k: usize| text_of(k).contains("COUNT(");
        let candidates: Vec<usize> = idx
            .cols
            .iter()
            .enumerate()
            .filter(|(k, m)| {
                *k != c
                    && m.metric.is_some()
                    && !counts(*k)
                    && !counts(c)
                    && tables.contains(&m.table)
                    && idx.metric_tables(*k).iter().all(|t| tables.contains(t))
                    && idx.cols[c].words.iter().all(|w| m.words.contains(w))
                    && m.words.iter().all(|w| {
                        idx.cols[c].words.contains(w)
                            || joined_words.contains(w)
                            || querent_domain::text::is_stopword(w)
                    })
                    && !repeats_rows(q, idx, m.table)
            })
            .map(|(k, _)| k)
            .collect();
        let better = match candidates.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        let Some(better) = better else {
            return Err(format!(
                "the metric `{}` would be computed across rows that repeat each of its rows, \
                 counting them more than once; ask by a grouping of its own table, add a \
                 metric over those rows to the semantic model, or use an LLM provider.",
                idx.cols[c].name
            ));
        };
        let swap = |e: &mut Expr| match e {
            Expr::Col(x) | Expr::Agg(_, x, _) if *x == c => *x = better,
            _ => {}
        };
        q.items.iter_mut().for_each(swap);
        q.order.iter_mut().for_each(|(e, _)| swap(e));
    }
    Ok(())
}

/// Whether the query's joins repeat rows of table `t`: going from `t` along the joins,
/// some step reaches rows that point back (one row of the side before, many after).
fn repeats_rows(q: &sql::Select, idx: &index::Index, t: usize) -> bool {
    // Each join as (table a, table b, whether b's rows point at a's: one a, many b).
    let steps: Vec<(usize, usize, bool)> = q
        .joins
        .iter()
        .map(|(old, new)| {
            let fans = idx.edges.iter().any(|e| e.from == *new && e.to == *old);
            (idx.cols[*old].table, idx.cols[*new].table, fans)
        })
        .collect();
    let mut seen = BTreeSet::from([t]);
    let mut todo = vec![t];
    while let Some(at) = todo.pop() {
        for &(a, b, b_points_at_a) in &steps {
            let (next, many) = if a == at {
                (b, b_points_at_a)
            } else if b == at {
                (a, !b_points_at_a)
            } else {
                continue;
            };
            if seen.contains(&next) {
                continue;
            }
            if many {
                return true;
            }
            seen.insert(next);
            todo.push(next);
        }
    }
    false
}

/// Indexes kept by an [`OfflineProvider`].
const INDEX_CACHE_SIZE: usize = 8;

/// A small LRU of built schema indexes, most recently used first.
#[derive(Default)]
struct IndexCache {
    entries: Vec<(u64, Arc<index::Index>)>,
}

impl std::fmt::Debug for IndexCache {
    // The indexes themselves are far too large to print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCache")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl IndexCache {
    fn get(&mut self, key: u64) -> Option<Arc<index::Index>> {
        let at = self.entries.iter().position(|(k, _)| *k == key)?;
        let entry = self.entries.remove(at);
        let idx = Arc::clone(&entry.1);
        self.entries.insert(0, entry);
        Some(idx)
    }

    fn put(&mut self, key: u64, idx: Arc<index::Index>) {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.insert(0, (key, idx));
        self.entries.truncate(INDEX_CACHE_SIZE);
    }
}

/// What an index depends on, hashed: the schema's structure (fingerprint), when it was read
/// (samples), which of its tables are present (a linked subset keeps the fingerprint), the
/// policy and the semantic model's identity and version.
fn index_key(
    schema: &SchemaSnapshot,
    policy: &PrivacyPolicy,
    model: Option<&SemanticModel>,
) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    schema.fingerprint.hash(&mut h);
    schema.taken_at.hash(&mut h);
    schema.database.hash(&mut h);
    schema.tables.len().hash(&mut h);
    for t in &schema.tables {
        t.schema.hash(&mut h);
        t.name.hash(&mut h);
        t.columns.len().hash(&mut h);
    }
    policy.excluded_tables.hash(&mut h);
    policy.excluded_columns.hash(&mut h);
    policy.masked_column_patterns.hash(&mut h);
    match model {
        Some(m) => {
            1u8.hash(&mut h);
            m.connection_id.to_string().hash(&mut h);
            m.version.hash(&mut h);
            m.updated_at.hash(&mut h);
            m.schema_fingerprint.hash(&mut h);
        }
        None => 0u8.hash(&mut h),
    }
    h.finish()
}

/// The offline provider: [`translate_with_model`] behind the [`SqlProvider`] port, with the
/// request's semantic model and examples, and a small cache of schema indexes.
#[derive(Clone, Debug, Default)]
pub struct OfflineProvider {
    options: TranslatorOptions,
    cache: Arc<Mutex<IndexCache>>,
}

impl OfflineProvider {
    /// A provider with these options.
    pub fn new(options: TranslatorOptions) -> Self {
        Self {
            options,
            cache: Arc::default(),
        }
    }

    /// How many schema indexes the provider keeps at the moment (at most a small fixed
    /// number).
    pub fn cached_indexes(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .len()
    }

    /// Translates a request: a matching verified example first, else the rule-based
    /// translator over the (cached) index of the request's schema and semantic model. A
    /// question that refines the session's previous one ("only for Germany", "and by
    /// year?", "top 10 instead") is read together with it ([`follow_up`]).
    pub fn translate(&self, request: &GenerateRequest) -> Result<Translation, CannotTranslate> {
        let Some((previous, combined)) = follow_up(&request.question, &request.history) else {
            return self.translate_one(request, &request.question);
        };
        // "only …", "and …", "what about …", "… instead" and a few words opening with a
        // preposition ("in Japan?") refine for sure; a longer question opening with a
        // preposition only when it means nothing on its own.
        let first = request
            .question
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let sure = matches!(
            first.as_str(),
            "only" | "just" | "and" | "but" | "now" | "also" | "then" | "same" | "what" | "how"
        ) || request.question.to_lowercase().contains("instead")
            || request.question.split_whitespace().count() <= 4;
        if !sure && let Ok(t) = self.translate_one(request, &request.question) {
            return Ok(t);
        }
        match self.translate_one(request, &combined) {
            Ok(mut t) => {
                t.explanation = format!(
                    "Following up on \"{}\" as \"{combined}\": {}",
                    previous.trim(),
                    t.explanation
                );
                Ok(t)
            }
            // A refinement that means nothing on its own ("and by region?", "what about
            // 2024?", "… instead") is refused as read with the previous question: its bare
            // words would be answered as some other question.
            Err(e) if leans_on_previous(&request.question) => Err(CannotTranslate {
                understood: format!(
                    "Following up on \"{}\" as \"{combined}\": {}",
                    previous.trim(),
                    e.understood
                ),
            }),
            // Not a refinement after all: the question on its own.
            Err(_) => self.translate_one(request, &request.question),
        }
    }

    fn translate_one(
        &self,
        request: &GenerateRequest,
        question: &str,
    ) -> Result<Translation, CannotTranslate> {
        if let Some(t) = from_examples(question, &request.examples, &request.policy) {
            return Ok(t);
        }
        let model = request.semantic.as_deref();
        let key = index_key(&request.schema, &request.policy, model);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key);
        let idx = match cached {
            Some(idx) => idx,
            None => {
                // Built outside the lock: other questions are not held up meanwhile.
                let idx = Arc::new(index::Index::new(&request.schema, &request.policy, model));
                self.cache
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .put(key, Arc::clone(&idx));
                idx
            }
        };
        translate_on(question, &idx, request.dialect, &self.options)
    }
}

/// Words that open a refinement of the previous question.
const REFINE_OPENERS: &[&str] = &[
    "only",
    "just",
    "and",
    "but",
    "now",
    "also",
    "what",
    "how",
    "same",
    "instead",
    "then",
    "for",
    "in",
    "by",
    "per",
    "from",
    "excluding",
    "without",
    "with",
    "top",
    "bottom",
    "limit",
];

/// Whether a follow-up only means something with the previous question: it opens with
/// "and", "but", "also", "then", "same" or "what/how about", or says "instead".
fn leans_on_previous(question: &str) -> bool {
    let words = text::plain_words(question);
    let about = words.get(1).is_some_and(|w| w == "about");
    words.iter().any(|w| w == "instead")
        || words.first().is_some_and(|w| {
            matches!(w.as_str(), "and" | "but" | "also" | "then" | "same")
                || (about && matches!(w.as_str(), "what" | "how"))
        })
}

/// A question that refines the session's last answered question, read together with it:
/// `(previous question, combined question)`. A refinement is short and opens with a
/// refining word ("only for Germany", "and by year?", "what about 2024?", "top 10
/// instead"); a series grain or a top-N it names replaces the previous one's.
pub fn follow_up(
    question: &str,
    history: &[querent_domain::query::Turn],
) -> Option<(String, String)> {
    let previous = history
        .iter()
        .rev()
        .find(|t| t.sql.is_some())?
        .question
        .clone();
    let words: Vec<String> = question
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
                .to_owned()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() || words.len() > 8 {
        return None;
    }
    let first = words[0].to_lowercase();
    let instead = words.iter().any(|w| w.eq_ignore_ascii_case("instead"));
    let about = words
        .get(1)
        .is_some_and(|w| w.eq_ignore_ascii_case("about"));
    if matches!(first.as_str(), "what" | "how") && !about {
        return None;
    }
    if !REFINE_OPENERS.contains(&first.as_str()) && !instead {
        return None;
    }
    // Drop the refining words that carry no content of their own.
    let mut rest: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| {
            let l = w.to_lowercase();
            let opener = *i == 0
                && matches!(
                    l.as_str(),
                    "only" | "just" | "and" | "but" | "now" | "also" | "then"
                );
            let about = *i <= 1
                && (matches!(l.as_str(), "what" | "how") && *i == 0
                    || l == "about" && words[0].eq_ignore_ascii_case("what")
                    || l == "about" && words[0].eq_ignore_ascii_case("how"));
            !(opener || about || l == "instead")
        })
        .map(|(_, w)| w.clone())
        .collect();
    if rest.is_empty() {
        return None;
    }
    let grains = [
        "day",
        "week",
        "month",
        "quarter",
        "year",
        "daily",
        "weekly",
        "monthly",
        "quarterly",
        "yearly",
        "annually",
    ];
    let is_grain = |w: &str| grains.contains(&w.to_lowercase().trim_end_matches('s'));
    let mut prev: Vec<String> = previous.split_whitespace().map(str::to_owned).collect();
    let strip = |prev: &mut Vec<String>, at: usize, n: usize| {
        prev.drain(at..(at + n).min(prev.len()));
    };
    // A new grain replaces the old one ("by month" → "and by year?").
    if rest.iter().any(|w| is_grain(w)) {
        let mut i = 0;
        while i < prev.len() {
            let l = prev[i].to_lowercase();
            let clean = l.trim_matches(|c: char| !c.is_alphanumeric());
            if matches!(clean, "by" | "per" | "each")
                && prev
                    .get(i + 1)
                    .is_some_and(|n| is_grain(n.trim_matches(|c: char| !c.is_alphanumeric())))
            {
                strip(&mut prev, i, 2);
            } else if is_grain(clean)
                && matches!(
                    clean,
                    "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually"
                )
            {
                strip(&mut prev, i, 1);
            } else {
                i += 1;
            }
        }
    }
    // A new top-N replaces the old one ("top 5 …" → "top 10 instead").
    let number = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    if let Some(n) = rest.iter().find(|w| number(w)).cloned()
        && (instead || rest.iter().any(|w| w.eq_ignore_ascii_case("top")))
        && let Some(p) = prev
            .iter()
            .position(|w| number(w.trim_matches(|c: char| !c.is_alphanumeric())))
    {
        prev[p] = n;
        rest.retain(|w| !number(w) && !w.eq_ignore_ascii_case("top"));
    }
    let base = prev.join(" ").trim_end_matches(['?', '.', '!']).to_owned();
    let combined = if rest.is_empty() {
        base
    } else {
        format!("{base} {}", rest.join(" "))
    };
    Some((previous, combined))
}

#[async_trait]
impl SqlProvider for OfflineProvider {
    fn name(&self) -> &str {
        "offline"
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Generated, ProviderError> {
        // The translator is pure computation over borrowed data: a defect in it (an index
        // past a question's end) fails this one request as the provider's error instead of
        // taking the request's worker down. The panic's message goes to the log (stderr).
        let t = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.translate(request)))
            .map_err(|_| {
                ProviderError::Failed(
                    "the offline translator failed on this question (an internal error, \
                     written to the server's log); rephrase it, or use an LLM provider"
                        .into(),
                )
            })?
            .map_err(|e| ProviderError::CannotTranslate(e.understood))?;
        Ok(Generated {
            sql: t.sql,
            explanation: Some(t.explanation),
            usage: TokenUsage::default(),
        })
    }
}
