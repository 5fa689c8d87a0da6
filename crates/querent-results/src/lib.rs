//! # querent-results
//!
//! wip

mod sketch;
pub mod stats;
mod values;

pub use sketch::EXACT_DISTINCT_LIMIT;
pub use stats::{
    BooleanStats, ColumnStats, DataframeStats, GeneralStats, NumericStats, StatsBuilder,
    StringStats, TemporalStats, compute_stats,
};
pub use values::{ColumnKind, as_number, infer_kind, kind_of_type, unique_names};
