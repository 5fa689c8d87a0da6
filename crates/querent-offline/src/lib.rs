//! # querent-offline
//!
//! The built-in deterministic translator from plain-language questions to SQL (design §7),
//! and the default provider: no network, no model. It reads the schema snapshot, the
//! semantic model (synonyms, value mappings), sampled values and the foreign-key graph to
//! translate common analytic questions — counts, lists with filters, aggregates
//! (sum/avg/min/max) by group, top-k and bottom-k, superlatives, comparisons with numbers and
//! dates, relative time ranges ("this month", "last 7 days"), distinct values, joins along
//! foreign-key paths, having-count, existence and negation. When it cannot translate a
//! question it says so (`cannot_translate`, with what it understood) instead of guessing.
//! Its accuracy is measured by `querent eval` on the shared evaluation suites.
//!
//! Depends on: querent-domain, querent-introspect (and, for synonyms and value mappings,
//! the semantic model). Its SQL goes through querent-sql's guard like any provider's.
//!
//! Must never: reach the network, load a model, depend on the clock except through the
//! reference time it is given (so the same question gives the same SQL), or execute SQL.
//!
//! Status: public types only; behaviour arrives with issue 4.

use serde::{Deserialize, Serialize};

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
