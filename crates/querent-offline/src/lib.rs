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
//! SQL is written in the requested dialect (identifier quoting only when needed, date
//! arithmetic per dialect). When it cannot place part of a question (a number or value it
//! cannot attach to a column, tables with no join path, no table at all) it returns
//! [`CannotTranslate`] saying what it understood rather than guessing. `history` is not used:
//! every question is translated on its own.
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

use async_trait::async_trait;
use querent_domain::query::{GenerateRequest, Generated, ProviderError, SqlProvider, TokenUsage};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{Dialect, PrivacyPolicy};

use serde::{Deserialize, Serialize};

mod index;
mod plan;
mod sql;
#[cfg(test)]
mod tests;
mod text;

/// Tuning of the offline translator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TranslatorOptions {
    /// Rows to return for "top"/"bottom" questions that name no number.
    pub default_top_k: u32,
    /// Most foreign-key hops a join path may take between two tables.
    pub max_join_hops: u8,
    /// Whether weeks start on Monday (ISO) rather than Sunday, for "this week"/"last week".
    pub week_starts_monday: bool,
}

impl Default for TranslatorOptions {
    fn default() -> Self {
        Self {
            default_top_k: 10,
            max_join_hops: 3,
            week_starts_monday: true,
        }
    }
}

/// A translated question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    /// One `SELECT` statement in the requested dialect (not yet validated by the guard).
    pub sql: String,
    /// A plain-English description of what the SQL does.
    pub explanation: String,
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
    let idx = index::Index::new(schema, policy);
    if idx.tables.is_empty() {
        return Err(CannotTranslate {
            understood: "the schema has no tables I may use".into(),
        });
    }
    let q =
        plan::plan(question, &idx, options).map_err(|understood| CannotTranslate { understood })?;
    Ok(Translation {
        sql: sql::render(&q, &idx, dialect),
        explanation: sql::explain(&q, &idx),
    })
}

/// The offline provider: [`translate_with`] behind the [`SqlProvider`] port.
#[derive(Clone, Debug, Default)]
pub struct OfflineProvider {
    options: TranslatorOptions,
}

impl OfflineProvider {
    /// A provider with these options.
    pub fn new(options: TranslatorOptions) -> Self {
        Self { options }
    }
}

#[async_trait]
impl SqlProvider for OfflineProvider {
    fn name(&self) -> &str {
        "offline"
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Generated, ProviderError> {
        let t = translate_with(
            &request.question,
            &request.schema,
            request.dialect,
            &request.policy,
            &self.options,
        )
        .map_err(|e| ProviderError::CannotTranslate(e.understood))?;
        Ok(Generated {
            sql: t.sql,
            explanation: Some(t.explanation),
            usage: TokenUsage::default(),
        })
    }
}
