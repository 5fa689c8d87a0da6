//! # querent-results
//!
//! What Querent computes from a query's result rows once they have run: pure functions over
//! [`ColumnMeta`](querent_domain::query::ColumnMeta)s and
//! [`Row`](querent_domain::query::Row)s (typed JSON values: integers stay integers,
//! NUMERIC/DECIMAL are strings, timestamps ISO-8601 strings, bytes base64, NULL is `null`).
//!
//! - [`stats`]: column statistics in one streaming pass ([`StatsBuilder`] →
//!   [`DataframeStats`], the `dataframe_stats` shape of the results API): counts and nulls
//!   for every column, then numeric (min, max, Welford mean and standard deviation, sum,
//!   exact median up to 100,000 values, zeros), string (distinct, empty, lengths in
//!   characters), temporal (distinct, min, max compared as instants across offsets) or
//!   boolean counts. Distinct counts are exact up to 10,000 values per column, then a
//!   HyperLogLog estimate (`distinct_approx: true`).
//! - [`summary`]: [`summarize`], a short deterministic English summary (no LLM).
//! - [`chart`]: [`suggest_chart`], a Vega-Lite v5 chart chosen from the result's shape,
//!   [`answer_chart`], the narrower choice a chat answer offers (a bar or a line, or none),
//!   and [`chart_for_widget`] for a kind a dashboard asks for.
//! - [`export`]: [`CsvWriter`] (streaming, RFC 4180, formula-injection defence),
//!   [`to_json`] and [`to_xlsx`].
//!
//! Depends on: querent-domain (for the row and column types), serde/serde_json, thiserror,
//! and rust_xlsxwriter for XLSX. No async runtime, no I/O of its own: the CSV writer writes
//! to whatever [`std::io::Write`] it is handed.
//!
//! Must never: run SQL or reach a database; unmask a masked column — statistics, summaries
//! and charts never read a masked column's values (only its row and null counts), and the
//! exports write the values exactly as the guard already masked them; emit `NaN` or
//! infinities in JSON (non-finite statistics are `null`).
//!
//! ## Example
//!
//! ```
//! use querent_domain::query::ColumnMeta;
//! use querent_results::{ChartKind, StatsBuilder, suggest_chart, summarize};
//! use serde_json::json;
//!
//! let columns = vec![
//!     ColumnMeta { name: "country".into(), type_name: "varchar".into(), masked: false },
//!     ColumnMeta { name: "orders".into(), type_name: "int8".into(), masked: false },
//!     ColumnMeta { name: "email".into(), type_name: "text".into(), masked: true },
//! ];
//! let rows = vec![
//!     vec![json!("France"), json!(30), json!("***")],
//!     vec![json!("Peru"), json!(10), json!("***")],
//! ];
//! let mut stats = StatsBuilder::new(&columns);
//! stats.push_batch(&rows);
//! let stats = stats.finish();
//! assert_eq!(
//!     summarize(Some("orders per country"), &columns, &rows, &stats, 2, false),
//!     "2 rows. France leads with 75% of orders (30 of 40); Peru is last with 25%."
//! );
//! assert_eq!(suggest_chart(&columns, &rows).kind, ChartKind::Bar);
//! // The masked column has counts only.
//! assert_eq!(
//!     serde_json::to_value(stats.get("email").unwrap()).unwrap(),
//!     json!({"general": {"count": 2, "nulls_count": 0}})
//! );
//! ```

pub mod chart;
pub mod export;
mod sketch;
pub mod stats;
pub mod summary;
mod values;

pub use chart::{
    ChartKind, ChartSuggestion, MAX_ANSWER_CHART_COLUMNS, MAX_CATEGORIES, MAX_CHART_ROWS,
    VEGA_LITE_SCHEMA, answer_chart, chart_for_widget, suggest_chart,
};
pub use export::{CsvWriter, XLSX_MAX_COLUMNS, XLSX_MAX_ROWS, to_json, to_xlsx};
pub use sketch::EXACT_DISTINCT_LIMIT;
pub use stats::{
    BooleanStats, ColumnStats, DataframeStats, GeneralStats, MEDIAN_EXACT_LIMIT, NumericStats,
    StatsBuilder, StringStats, TemporalStats, compute_stats,
};
pub use summary::summarize;
pub use values::{ColumnKind, as_number, infer_kind, kind_of_type, unique_names};

/// Why a chart or an export cannot be made. The one error type of this crate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResultsError {
    /// A chart kind this crate does not know.
    #[error("unknown chart kind `{0}` (known: metric, table, bar, line, area, pie)")]
    UnknownChartKind(String),
    /// The chart needs a number to draw and the result has none that may be shown.
    #[error("a {kind} chart needs a numeric column that is not masked, and this result has none")]
    NoMeasure {
        /// The chart asked for.
        kind: ChartKind,
    },
    /// The chart needs categories or dates to draw along and the result has none.
    #[error(
        "a {kind} chart needs a text or date column that is not masked to draw along, and this result has none"
    )]
    NoDimension {
        /// The chart asked for.
        kind: ChartKind,
    },
    /// The chart needs at least one row.
    #[error("a {kind} chart needs at least one row, and the result is empty")]
    NoRows {
        /// The chart asked for.
        kind: ChartKind,
    },
    /// A pie cannot show negative shares.
    #[error("a pie chart cannot show negative values, and `{column}` has some; use a bar chart")]
    NegativeValues {
        /// The measure's label.
        column: String,
    },
    /// More rows than one XLSX sheet holds.
    #[error("{rows} rows do not fit one XLSX sheet (at most {max}); export CSV instead")]
    TooManyRows {
        /// Rows given.
        rows: usize,
        /// The limit.
        max: usize,
    },
    /// More columns than one XLSX sheet holds.
    #[error("{columns} columns do not fit one XLSX sheet (at most {max}); export CSV instead")]
    TooManyColumns {
        /// Columns given.
        columns: usize,
        /// The limit.
        max: usize,
    },
    /// The XLSX writer failed.
    #[error("could not write the XLSX file: {0}")]
    Xlsx(String),
}

impl From<rust_xlsxwriter::XlsxError> for ResultsError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        Self::Xlsx(e.to_string())
    }
}
