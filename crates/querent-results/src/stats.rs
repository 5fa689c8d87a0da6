//! Column statistics in one streaming pass ([`StatsBuilder`]), in the `dataframe_stats`
//! shape: per column `general` counts and exactly one of `numeric`, `string`, `temporal` or
//! `boolean` — none for a masked column, whose values are never read.

use std::borrow::Cow;
use std::collections::BTreeMap;

use querent_domain::query::{ColumnMeta, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sketch::Distinct;
use crate::values::{
    ColumnKind, Inference, as_bool, as_number, hash64, kind_of_type, temporal_key, unique_names,
};

/// Up to how many values a numeric column keeps to report an exact median; beyond it the
/// median is left out (it cannot be exact in bounded memory).
pub const MEDIAN_EXACT_LIMIT: usize = 100_000;

/// Statistics of every column of a result, keyed by column label (a repeated column name
/// gets a `_2`, `_3`… suffix, as in [`crate::unique_names`]). Serialises as the plain map.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DataframeStats {
    /// Column label → its statistics.
    pub columns: BTreeMap<String, ColumnStats>,
}

impl DataframeStats {
    /// The statistics of the column labelled `name`.
    pub fn get(&self, name: &str) -> Option<&ColumnStats> {
        self.columns.get(name)
    }
}

/// One column's statistics: `general` always, then the section of its kind (none for a
/// masked column).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    /// Row and null counts.
    pub general: GeneralStats,
    /// For numeric columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericStats>,
    /// For text and anything that is not numeric, temporal or boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<StringStats>,
    /// For dates, times and timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalStats>,
    /// For booleans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boolean: Option<BooleanStats>,
}

impl ColumnStats {
    /// The kind of the section present (`None` for a masked column).
    pub fn kind(&self) -> Option<ColumnKind> {
        if self.numeric.is_some() {
            Some(ColumnKind::Numeric)
        } else if self.temporal.is_some() {
            Some(ColumnKind::Temporal)
        } else if self.boolean.is_some() {
            Some(ColumnKind::Boolean)
        } else if self.string.is_some() {
            Some(ColumnKind::String)
        } else {
            None
        }
    }
}

/// Counts every column has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralStats {
    /// Rows seen.
    pub count: u64,
    /// Rows whose value is null.
    pub nulls_count: u64,
}

/// Statistics of the finite numbers of a column (JSON numbers and DECIMAL strings; values
/// that are not finite numbers, such as PostgreSQL's `NaN`, are left out). `null` when
/// there is no such value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
    /// Arithmetic mean (Welford).
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1, Welford); `null` below two values.
    pub stddev: Option<f64>,
    /// Sum (compensated, Neumaier); 0 without values.
    pub sum: f64,
    /// Exact median; left out when the column has more than [`MEDIAN_EXACT_LIMIT`] values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    /// Values equal to zero.
    pub zeros_count: u64,
}

/// Statistics of text values (lengths in characters, not bytes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StringStats {
    /// Distinct non-null values (estimated beyond 10,000, see `distinct_approx`).
    pub distinct_count: u64,
    /// Whether `distinct_count` is a HyperLogLog estimate (≈ 1.15 % standard error).
    pub distinct_approx: bool,
    /// Values that are the empty string.
    pub empty_string_count: u64,
    /// Shortest length.
    pub min_len: Option<u64>,
    /// Mean length.
    pub mean_len: Option<f64>,
    /// Longest length.
    pub max_len: Option<u64>,
}

/// Statistics of dates, times and timestamps. Values are compared as instants (offsets
/// normalised to UTC, a value without offset taken as UTC) and returned as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemporalStats {
    /// Distinct instants (estimated beyond 10,000, see `distinct_approx`).
    pub distinct_count: u64,
    /// Whether `distinct_count` is a HyperLogLog estimate.
    pub distinct_approx: bool,
    /// The earliest value, as written.
    pub min: Option<String>,
    /// The latest value, as written.
    pub max: Option<String>,
}

/// Counts of a boolean column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BooleanStats {
    /// `true` values.
    pub true_count: u64,
    /// `false` values.
    pub false_count: u64,
}

/// Computes [`DataframeStats`] in one pass over rows, in bounded memory per column (at
/// most 10,000 hashes for distinct counts, [`MEDIAN_EXACT_LIMIT`] numbers for the median).
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use querent_results::StatsBuilder;
/// use serde_json::json;
///
/// let columns = [
///     ColumnMeta { name: "region".into(), type_name: "text".into(), masked: false },
///     ColumnMeta { name: "revenue".into(), type_name: "numeric".into(), masked: false },
/// ];
/// let mut stats = StatsBuilder::new(&columns);
/// stats.push(&vec![json!("Europe"), json!("1234.50")]);
/// stats.push(&vec![json!("Asia"), json!(null)]);
/// let stats = stats.finish();
/// let revenue = stats.get("revenue").unwrap();
/// assert_eq!(revenue.general.nulls_count, 1);
/// assert_eq!(revenue.numeric.as_ref().unwrap().max, Some(1234.5));
/// assert_eq!(stats.get("region").unwrap().string.as_ref().unwrap().distinct_count, 2);
/// ```
#[derive(Debug)]
pub struct StatsBuilder {
    labels: Vec<String>,
    columns: Vec<ColumnAcc>,
}

impl StatsBuilder {
    /// A builder for a result with these columns.
    pub fn new(columns: &[ColumnMeta]) -> Self {
        Self {
            labels: unique_names(columns),
            columns: columns.iter().map(ColumnAcc::new).collect(),
        }
    }

    /// Takes one row into account. A short row's missing values count as nulls; values
    /// beyond the columns are ignored.
    pub fn push(&mut self, row: &Row) {
        for (i, col) in self.columns.iter_mut().enumerate() {
            col.push(row.get(i).unwrap_or(&Value::Null));
        }
    }

    /// Takes a batch of rows into account.
    pub fn push_batch(&mut self, rows: &[Row]) {
        for row in rows {
            self.push(row);
        }
    }

    /// The statistics of everything pushed.
    pub fn finish(self) -> DataframeStats {
        DataframeStats {
            columns: self
                .labels
                .into_iter()
                .zip(self.columns.into_iter().map(ColumnAcc::finish))
                .collect(),
        }
    }
}

/// The statistics of a whole result at once.
pub fn compute_stats(columns: &[ColumnMeta], rows: &[Row]) -> DataframeStats {
    let mut b = StatsBuilder::new(columns);
    b.push_batch(rows);
    b.finish()
}

#[derive(Debug)]
struct ColumnAcc {
    general: GeneralStats,
    masked: bool,
    /// The kind the type name announced; `None`: decided from the values at the end.
    declared: Option<ColumnKind>,
    inference: Inference,
    numeric: Option<NumericAcc>,
    string: Option<StringAcc>,
    temporal: Option<TemporalAcc>,
    boolean: Option<BooleanStats>,
}

impl ColumnAcc {
    fn new(meta: &ColumnMeta) -> Self {
        let declared = kind_of_type(&meta.type_name);
        let wants = |k| !meta.masked && declared.is_none_or(|d| d == k);
        Self {
            general: GeneralStats::default(),
            masked: meta.masked,
            declared,
            inference: Inference::default(),
            numeric: wants(ColumnKind::Numeric).then(NumericAcc::default),
            string: wants(ColumnKind::String).then(StringAcc::default),
            temporal: wants(ColumnKind::Temporal).then(TemporalAcc::default),
            boolean: wants(ColumnKind::Boolean).then(BooleanStats::default),
        }
    }

    fn push(&mut self, v: &Value) {
        self.general.count += 1;
        if v.is_null() {
            self.general.nulls_count += 1;
            return;
        }
        if self.masked {
            return;
        }
        let infer = self.declared.is_none();
        if infer {
            self.inference.observe(v);
        }
        if let Some(n) = &mut self.numeric {
            // Undeclared columns are numeric only if every value is a JSON number.
            let x = if infer {
                v.as_f64().filter(|x| x.is_finite())
            } else {
                as_number(v)
            };
            if let Some(x) = x {
                n.push(x);
            }
        }
        if let Some(t) = &mut self.temporal
            && let Value::String(s) = v
        {
            t.push(s);
        }
        if let Some(b) = &mut self.boolean
            && let Some(x) = as_bool(v).filter(|_| !infer || v.is_boolean())
        {
            if x {
                b.true_count += 1;
            } else {
                b.false_count += 1;
            }
        }
        if let Some(s) = &mut self.string {
            s.push(&text_of(v));
        }
    }

    fn finish(self) -> ColumnStats {
        let mut out = ColumnStats {
            general: self.general,
            ..ColumnStats::default()
        };
        if self.masked {
            return out;
        }
        match self.declared.unwrap_or_else(|| self.inference.kind()) {
            ColumnKind::Numeric => out.numeric = self.numeric.map(NumericAcc::finish),
            ColumnKind::String => out.string = self.string.map(StringAcc::finish),
            ColumnKind::Temporal => out.temporal = self.temporal.map(TemporalAcc::finish),
            ColumnKind::Boolean => out.boolean = self.boolean,
        }
        out
    }
}

/// A value as text, for string statistics.
fn text_of(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        other => Cow::Owned(other.to_string()),
    }
}

#[derive(Debug)]
struct NumericAcc {
    n: u64,
    mean: f64,
    m2: f64,
    sum: f64,
    compensation: f64,
    min: f64,
    max: f64,
    zeros: u64,
    /// Every value while there are at most [`MEDIAN_EXACT_LIMIT`]; `None` after.
    values: Option<Vec<f64>>,
}

impl Default for NumericAcc {
    fn default() -> Self {
        Self {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            sum: 0.0,
            compensation: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            zeros: 0,
            values: Some(Vec::new()),
        }
    }
}

impl NumericAcc {
    fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        // Neumaier's compensated sum.
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.zeros += u64::from(x == 0.0);
        if let Some(values) = &mut self.values {
            if values.len() < MEDIAN_EXACT_LIMIT {
                values.push(x);
            } else {
                self.values = None;
            }
        }
    }

    fn finish(self) -> NumericStats {
        let finite = |x: f64| x.is_finite().then_some(x);
        let any = self.n > 0;
        NumericStats {
            min: any.then_some(self.min).and_then(finite),
            max: any.then_some(self.max).and_then(finite),
            mean: any.then_some(self.mean).and_then(finite),
            stddev: (self.n > 1)
                .then(|| (self.m2 / (self.n - 1) as f64).max(0.0).sqrt())
                .and_then(finite),
            sum: finite(self.sum + self.compensation).unwrap_or(0.0),
            median: self.values.and_then(median).and_then(finite),
            zeros_count: self.zeros,
        }
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let len = v.len();
    let mid = len / 2;
    let (lower, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if len % 2 == 1 {
        return Some(m);
    }
    let below = lower.iter().copied().max_by(f64::total_cmp)?;
    Some(below / 2.0 + m / 2.0)
}

#[derive(Debug, Default)]
struct StringAcc {
    distinct: Distinct,
    n: u64,
    empty: u64,
    total_len: u64,
    min_len: Option<u64>,
    max_len: u64,
}

impl StringAcc {
    fn push(&mut self, s: &str) {
        self.n += 1;
        self.distinct.insert(hash64(s.as_bytes()));
        let len = if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        } as u64;
        self.empty += u64::from(len == 0);
        self.total_len += len;
        self.min_len = Some(self.min_len.map_or(len, |m| m.min(len)));
        self.max_len = self.max_len.max(len);
    }

    fn finish(self) -> StringStats {
        let (distinct_count, distinct_approx) = self.distinct.count();
        let any = self.n > 0;
        StringStats {
            distinct_count,
            distinct_approx,
            empty_string_count: self.empty,
            min_len: self.min_len,
            mean_len: any.then(|| self.total_len as f64 / self.n as f64),
            max_len: any.then_some(self.max_len),
        }
    }
}

#[derive(Debug, Default)]
struct TemporalAcc {
    distinct: Distinct,
    min: Option<(i128, String)>,
    max: Option<(i128, String)>,
}

impl TemporalAcc {
    fn push(&mut self, s: &str) {
        let Some(key) = temporal_key(s) else {
            // Not a date or time: counted as a distinct value, not compared.
            self.distinct.insert(hash64(s.as_bytes()));
            return;
        };
        self.distinct.insert(hash64(&key.to_le_bytes()));
        if self.min.as_ref().is_none_or(|(k, _)| key < *k) {
            self.min = Some((key, s.to_owned()));
        }
        if self.max.as_ref().is_none_or(|(k, _)| key > *k) {
            self.max = Some((key, s.to_owned()));
        }
    }

    fn finish(self) -> TemporalStats {
        let (distinct_count, distinct_approx) = self.distinct.count();
        TemporalStats {
            distinct_count,
            distinct_approx,
            min: self.min.map(|(_, s)| s),
            max: self.max.map(|(_, s)| s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn col(name: &str, t: &str) -> ColumnMeta {
        ColumnMeta {
            name: name.into(),
            type_name: t.into(),
            masked: false,
        }
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn hand_computed_values_with_nulls() {
        let columns = [col("n", "int4"), col("s", "varchar"), col("b", "bool")];
        let rows = vec![
            vec![json!(2), json!("ab"), json!(true)],
            vec![json!(4), json!(""), json!(false)],
            vec![json!(null), json!("żółw"), json!(true)],
            vec![json!(0), json!(null), json!(null)],
            vec![json!(9), json!("ab")],
        ];
        let s = compute_stats(&columns, &rows);
        let n = &s.get("n").unwrap();
        assert_eq!(
            n.general,
            GeneralStats {
                count: 5,
                nulls_count: 1
            }
        );
        let num = n.numeric.as_ref().unwrap();
        assert_eq!(
            (num.min, num.max, num.sum, num.zeros_count),
            (Some(0.0), Some(9.0), 15.0, 1)
        );
        assert!(approx(num.mean.unwrap(), 3.75));
        // Sample variance of 2,4,0,9: mean 3.75, squares 3.0625+0.0625+14.0625+27.5625 = 44.75 / 3.
        assert!(approx(num.stddev.unwrap(), (44.75f64 / 3.0).sqrt()));
        assert_eq!(num.median, Some(3.0));
        assert!(n.string.is_none() && n.temporal.is_none() && n.boolean.is_none());

        let st = s.get("s").unwrap();
        assert_eq!(
            st.general,
            GeneralStats {
                count: 5,
                nulls_count: 1
            }
        );
        let st = st.string.as_ref().unwrap();
        assert_eq!(
            (st.distinct_count, st.distinct_approx, st.empty_string_count),
            (3, false, 1)
        );
        // Lengths in characters: "żółw" is 4, not 7 bytes.
        assert_eq!((st.min_len, st.max_len), (Some(0), Some(4)));
        assert!(approx(st.mean_len.unwrap(), 8.0 / 4.0));

        let b = s.get("b").unwrap();
        assert_eq!(b.general.nulls_count, 2);
        assert_eq!(
            b.boolean,
            Some(BooleanStats {
                true_count: 2,
                false_count: 1
            })
        );
    }

    #[test]
    fn the_json_shape_matches_dataframe_stats() {
        let columns = [
            col("login_timestamp", "timestamptz"),
            col("user_email", "text"),
        ];
        let rows = vec![
            vec![
                json!("2025-11-04T13:05:01.146+01:00"),
                json!("damian@connectyai.com"),
            ],
            vec![json!("2025-10-24T11:03:05.196568+02:00"), json!("a@b.co")],
        ];
        let v = serde_json::to_value(compute_stats(&columns, &rows)).unwrap();
        assert_eq!(
            v,
            json!({
                "login_timestamp": {
                    "general": {"count": 2, "nulls_count": 0},
                    "temporal": {"distinct_count": 2, "distinct_approx": false,
                        "min": "2025-10-24T11:03:05.196568+02:00",
                        "max": "2025-11-04T13:05:01.146+01:00"}
                },
                "user_email": {
                    "general": {"count": 2, "nulls_count": 0},
                    "string": {"distinct_count": 2, "distinct_approx": false,
                        "empty_string_count": 0, "min_len": 6, "mean_len": 13.5, "max_len": 21}
                }
            })
        );
    }

    #[test]
    fn all_null_and_empty_results() {
        let columns = [col("x", "numeric"), col("t", "date"), col("u", "")];
        let s = compute_stats(&columns, &[vec![json!(null), json!(null), json!(null)]]);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["x"],
            json!({"general": {"count": 1, "nulls_count": 1},
                   "numeric": {"min": null, "max": null, "mean": null, "stddev": null,
                               "sum": 0.0, "zeros_count": 0}})
        );
        assert_eq!(v["t"]["temporal"]["min"], json!(null));
        assert_eq!(v["u"]["string"]["distinct_count"], json!(0));
        let empty = compute_stats(&columns, &[]);
        assert_eq!(empty.get("x").unwrap().general, GeneralStats::default());
        assert!(!serde_json::to_string(&empty).unwrap().contains("NaN"));
    }

    #[test]
    fn masked_columns_only_count() {
        let columns = [ColumnMeta {
            name: "email".into(),
            type_name: "text".into(),
            masked: true,
        }];
        let rows = vec![
            vec![json!("secret@x.io")],
            vec![json!(null)],
            vec![json!("***")],
        ];
        let s = compute_stats(&columns, &rows);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(text, r#"{"email":{"general":{"count":3,"nulls_count":1}}}"#);
        assert_eq!(s.get("email").unwrap().kind(), None);
    }

    #[test]
    fn numeric_strings_and_odd_numbers() {
        let columns = [col("amount", "numeric(12,2)")];
        let rows: Vec<Row> = ["10.50", "-0.50", "NaN", "Infinity", "0.00", "1e2"]
            .iter()
            .map(|s| vec![json!(s)])
            .collect();
        let s = compute_stats(&columns, &rows);
        let n = s.get("amount").unwrap().numeric.clone().unwrap();
        assert_eq!(
            (n.min, n.max, n.sum, n.zeros_count),
            (Some(-0.5), Some(100.0), 110.0, 1)
        );
        assert_eq!(n.median, Some(5.25));
        assert!(!serde_json::to_string(&s).unwrap().contains("NaN"));
    }

    #[test]
    fn undeclared_types_follow_the_values() {
        let columns = [
            col("a", ""),
            col("b", ""),
            col("c", ""),
            col("d", ""),
            col("e", ""),
        ];
        let rows = vec![
            vec![
                json!(1),
                json!("x"),
                json!("2024-01-01"),
                json!(true),
                json!(1),
            ],
            vec![
                json!(2.5),
                json!(3),
                json!("2024-01-02 10:00:00"),
                json!(false),
                json!("one"),
            ],
        ];
        let s = compute_stats(&columns, &rows);
        let kinds: Vec<_> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|c| s.get(c).unwrap().kind())
            .collect();
        use ColumnKind::*;
        assert_eq!(
            kinds,
            [
                Some(Numeric),
                Some(String),
                Some(Temporal),
                Some(Boolean),
                Some(String)
            ]
        );
        // Mixed values are described as text: the number counts as "1".
        let e = s.get("e").unwrap().string.clone().unwrap();
        assert_eq!(
            (e.distinct_count, e.min_len, e.max_len),
            (2, Some(1), Some(3))
        );
        assert_eq!(s.get("a").unwrap().numeric.as_ref().unwrap().sum, 3.5);
    }

    #[test]
    fn temporal_values_compare_across_offsets_and_keep_their_text() {
        let columns = [col("at", "timestamptz")];
        let rows: Vec<Row> = [
            "2024-03-01T00:30:00+02:00", // 2024-02-29T22:30Z: the earliest
            "2024-02-29T23:00:00Z",
            "2024-03-01T01:00:00+01:00", // 2024-03-01T00:00Z: the latest
            "2024-02-29T18:00:00-05:00", // 2024-02-29T23:00Z: same instant as the second
            "not a time",
        ]
        .iter()
        .map(|s| vec![json!(s)])
        .collect();
        let t = compute_stats(&columns, &rows)
            .get("at")
            .unwrap()
            .temporal
            .clone()
            .unwrap();
        assert_eq!(t.min.as_deref(), Some("2024-03-01T00:30:00+02:00"));
        assert_eq!(t.max.as_deref(), Some("2024-03-01T01:00:00+01:00"));
        assert_eq!((t.distinct_count, t.distinct_approx), (4, false));
    }

    #[test]
    fn distinct_counts_switch_to_an_estimate() {
        let columns = [col("s", "text"), col("t", "timestamp")];
        let mut b = StatsBuilder::new(&columns);
        let n = 100_000u64;
        for i in 0..n {
            let ts = format!(
                "2020-01-01T00:00:{:02}.{:06}",
                (i / 1_000_000) % 60,
                i % 1_000_000
            );
            b.push(&vec![json!(format!("customer-{i}")), json!(ts)]);
        }
        let s = b.finish();
        for c in ["s", "t"] {
            let cs = s.get(c).unwrap();
            let (count, approx) = match (&cs.string, &cs.temporal) {
                (Some(x), _) => (x.distinct_count, x.distinct_approx),
                (_, Some(x)) => (x.distinct_count, x.distinct_approx),
                _ => unreachable!(),
            };
            let err = (count as f64 - n as f64).abs() / n as f64;
            assert!(approx && err < 0.03, "{c}: {count} ({err})");
        }
    }

    #[test]
    fn the_median_is_left_out_beyond_its_bound() {
        let columns = [col("x", "float8")];
        let mut b = StatsBuilder::new(&columns);
        for i in 0..=MEDIAN_EXACT_LIMIT {
            b.push(&vec![json!(i)]);
        }
        let s = b.finish();
        let n = s.get("x").unwrap().numeric.clone().unwrap();
        assert_eq!(n.median, None);
        assert!(!serde_json::to_string(&s).unwrap().contains("median"));
    }

    #[test]
    fn duplicate_column_names_keep_both() {
        let s = compute_stats(
            &[col("id", "int"), col("id", "int")],
            &[vec![json!(1), json!(2)]],
        );
        assert_eq!(
            s.get("id_2").unwrap().numeric.as_ref().unwrap().max,
            Some(2.0)
        );
    }

    proptest! {
        #[test]
        fn mean_min_max_match_a_naive_computation(
            xs in proptest::collection::vec(-1.0e6f64..1.0e6, 1..200),
            nulls in proptest::collection::vec(any::<bool>(), 200),
        ) {
            let columns = [col("x", "float8")];
            let mut b = StatsBuilder::new(&columns);
            for (i, x) in xs.iter().enumerate() {
                if nulls[i] {
                    b.push(&vec![json!(null)]);
                }
                b.push(&vec![json!(x)]);
            }
            let s = b.finish();
            let n = s.get("x").unwrap().numeric.clone().unwrap();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!((n.mean.unwrap() - mean).abs() <= 1e-6);
            prop_assert_eq!(n.min, Some(min));
            prop_assert_eq!(n.max, Some(max));
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let k = sorted.len();
            let median = if k % 2 == 1 { sorted[k / 2] } else { sorted[k / 2 - 1] / 2.0 + sorted[k / 2] / 2.0 };
            prop_assert_eq!(n.median, Some(median));
            if k > 1 {
                let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
                prop_assert!((n.stddev.unwrap() - var.sqrt()).abs() <= 1e-6 * var.sqrt().max(1.0));
            }
        }
    }
}
