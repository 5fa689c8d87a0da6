//! Chart suggestions: a Vega-Lite v5 spec chosen from the result's shape
//! ([`suggest_chart`]), or built for a kind a dashboard asks for ([`chart_for_widget`]).
//!
//! The rules, in order: no rows → table; one row of one numeric column → metric; a date or
//! time column (not preceded by a text column) and a numeric measure → line (sorted by
//! time); a text column and a numeric measure → bar (horizontal, bars sorted by value; beyond 20 categories only the 20
//! largest, with a note); otherwise a table. A **table has no spec** (`spec` is `null`): the
//! client shows the rows as they are.
//!
//! The spec's `data.values` are the rows as objects keyed by column label, holding only the
//! charted columns (numbers from DECIMAL strings made numbers), at most [`MAX_CHART_ROWS`]
//! of them. Masked columns are never an axis or a measure, so their values never reach a
//! spec.

use std::fmt;
use std::str::FromStr;

use querent_domain::query::{ColumnMeta, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ResultsError;
use crate::values::{ColumnKind, as_number, column_kinds, temporal_key, unique_names};

/// The Vega-Lite schema every spec names.
pub const VEGA_LITE_SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";
/// At most this many rows are copied into a spec.
pub const MAX_CHART_ROWS: usize = 500;
/// Bar and pie charts show at most this many categories (the largest).
pub const MAX_CATEGORIES: usize = 20;

/// A kind of chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    /// One big number.
    Metric,
    /// The rows as a table (no spec).
    Table,
    /// Bars per category.
    Bar,
    /// A line over time (or over ordered categories).
    Line,
    /// A filled line.
    Area,
    /// Shares of a whole.
    Pie,
}

impl ChartKind {
    /// The wire name (`metric`, `table`, `bar`, `line`, `area`, `pie`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Metric => "metric",
            Self::Table => "table",
            Self::Bar => "bar",
            Self::Line => "line",
            Self::Area => "area",
            Self::Pie => "pie",
        }
    }
}

impl fmt::Display for ChartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChartKind {
    type Err = ResultsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "metric" => Self::Metric,
            "table" => Self::Table,
            "bar" => Self::Bar,
            "line" => Self::Line,
            "area" => Self::Area,
            "pie" => Self::Pie,
            other => return Err(ResultsError::UnknownChartKind(other.to_owned())),
        })
    }
}

/// A chart for a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartSuggestion {
    /// What kind of chart.
    pub kind: ChartKind,
    /// The Vega-Lite v5 spec; `null` for a table.
    pub spec: Value,
    /// The label of the dimension column (categories or time), if any — whatever the
    /// orientation (a horizontal bar chart draws it on the y axis).
    pub x: Option<String>,
    /// The label of the measure column, if any.
    pub y: Option<String>,
    /// What was left out (categories beyond the top 20, rows beyond 500), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ChartSuggestion {
    fn table(note: Option<String>) -> Self {
        Self {
            kind: ChartKind::Table,
            spec: Value::Null,
            x: None,
            y: None,
            note,
        }
    }
}

/// The chart that suits the result's shape (see the module doc for the rules).
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use querent_results::{ChartKind, suggest_chart};
/// use serde_json::json;
///
/// let columns = [
///     ColumnMeta { name: "day".into(), type_name: "date".into(), masked: false },
///     ColumnMeta { name: "orders".into(), type_name: "int8".into(), masked: false },
/// ];
/// let rows = vec![vec![json!("2024-01-02"), json!(7)], vec![json!("2024-01-01"), json!(5)]];
/// let chart = suggest_chart(&columns, &rows);
/// assert_eq!(chart.kind, ChartKind::Line);
/// assert_eq!(chart.spec["data"]["values"][0], json!({"day": "2024-01-01", "orders": 5}));
/// ```
pub fn suggest_chart(columns: &[ColumnMeta], rows: &[Row]) -> ChartSuggestion {
    if rows.is_empty() {
        return ChartSuggestion::table(None);
    }
    let shape = Shape::new(columns, rows);
    let measure = shape.measure();
    if columns.len() == 1 && rows.len() == 1 && measure.is_some() {
        return shape.metric(measure.unwrap_or_default());
    }
    match (
        shape.first(ColumnKind::Temporal),
        shape.first(ColumnKind::String),
        measure,
    ) {
        // The grouping key usually comes first: a text column before the date makes a bar.
        (Some(t), c, Some(m)) if c.is_none_or(|c| t < c) => shape.series(ChartKind::Line, t, m),
        (_, Some(c), Some(m)) => shape.categories(ChartKind::Bar, c, m),
        _ => ChartSuggestion::table(None),
    }
}

/// A chat answer draws a chart only from results this narrow: one dimension and one
/// measure, plus at most one column beside them. Wider results are tables.
pub const MAX_ANSWER_CHART_COLUMNS: usize = 3;

/// The chart a chat answer suggests, or `None` when the rows read best as a table: a bar
/// (one category and one number) or a line (a date or time and a number) as
/// [`suggest_chart`] chooses it — a bar over period labels written as text (`2024-03`)
/// becomes a line — never a metric (a single value is its own answer), a
/// table, or anything from more than [`MAX_ANSWER_CHART_COLUMNS`] columns.
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use querent_results::{ChartKind, answer_chart};
/// use serde_json::json;
///
/// let col = |n: &str, t: &str| ColumnMeta { name: n.into(), type_name: t.into(), masked: false };
/// let rows = vec![vec![json!("north"), json!(3)], vec![json!("south"), json!(5)]];
/// let chart = answer_chart(&[col("region", "text"), col("orders", "int8")], &rows);
/// assert_eq!(chart.map(|c| c.kind), Some(ChartKind::Bar));
/// assert!(answer_chart(&[col("n", "int8")], &[vec![json!(42)]]).is_none());
/// ```
pub fn answer_chart(columns: &[ColumnMeta], rows: &[Row]) -> Option<ChartSuggestion> {
    if columns.len() > MAX_ANSWER_CHART_COLUMNS {
        return None;
    }
    let chart = suggest_chart(columns, rows);
    match chart.kind {
        ChartKind::Line => Some(chart),
        ChartKind::Bar => Some(period_line(columns, rows, &chart).unwrap_or(chart)),
        _ => None,
    }
}

/// A bar chart over period labels written as text (`2024`, `2024-03`, `2024-Q1`: what
/// `strftime`, `to_char` or `DATE_FORMAT` give a grouping by month) reads better as a line,
/// in time order (the labels sort as they read).
fn period_line(
    columns: &[ColumnMeta],
    rows: &[Row],
    bar: &ChartSuggestion,
) -> Option<ChartSuggestion> {
    let labels = unique_names(columns);
    let d = labels.iter().position(|l| Some(l) == bar.x.as_ref())?;
    let m = labels.iter().position(|l| Some(l) == bar.y.as_ref())?;
    let periods = rows.len() > 1
        && rows
            .iter()
            .all(|r| matches!(r.get(d), Some(Value::String(s)) if is_period(s)));
    if !periods {
        return None;
    }
    let mut sorted = rows.to_vec();
    sorted.sort_by(|a, b| {
        a.get(d)
            .and_then(Value::as_str)
            .cmp(&b.get(d).and_then(Value::as_str))
    });
    Some(Shape::new(columns, &sorted).series(ChartKind::Line, d, m))
}

/// `YYYY`, `YYYY-MM` or `YYYY-Qn`.
fn is_period(s: &str) -> bool {
    let b = s.as_bytes();
    let year = |b: &[u8]| b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit);
    match b.len() {
        4 => year(b),
        7 if year(b) && b[4] == b'-' => match (b[5], b[6]) {
            (b'Q' | b'q', q) => (b'1'..=b'4').contains(&q),
            (m1, m2) if m1.is_ascii_digit() && m2.is_ascii_digit() => {
                (1..=12).contains(&((m1 - b'0') * 10 + (m2 - b'0')))
            }
            _ => false,
        },
        _ => false,
    }
}

/// A chart of the kind a dashboard widget asks for, or why the result cannot be drawn so
/// (no unmasked numeric column for a pie, say). Metric shows the first row's measure; bar
/// and pie group by the first text column (else the first date), line and area run over the
/// first date column (else the first text column, in row order); table always works.
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use querent_results::{ChartKind, chart_for_widget};
/// use serde_json::json;
///
/// let columns = [ColumnMeta { name: "name".into(), type_name: "text".into(), masked: false }];
/// let err = chart_for_widget(ChartKind::Pie, &columns, &[vec![json!("a")]]).unwrap_err();
/// assert!(err.to_string().contains("numeric"));
/// ```
pub fn chart_for_widget(
    kind: ChartKind,
    columns: &[ColumnMeta],
    rows: &[Row],
) -> Result<ChartSuggestion, ResultsError> {
    if kind == ChartKind::Table {
        return Ok(ChartSuggestion::table(None));
    }
    let shape = Shape::new(columns, rows);
    let m = shape.measure().ok_or(ResultsError::NoMeasure { kind })?;
    if rows.is_empty() {
        return Err(ResultsError::NoRows { kind });
    }
    let (text, time) = (
        shape.first(ColumnKind::String),
        shape.first(ColumnKind::Temporal),
    );
    match kind {
        ChartKind::Metric => Ok(shape.metric(m)),
        ChartKind::Bar | ChartKind::Pie => {
            let d = text.or(time).ok_or(ResultsError::NoDimension { kind })?;
            if kind == ChartKind::Pie
                && rows
                    .iter()
                    .any(|r| r.get(m).and_then(as_number) < Some(0.0))
            {
                return Err(ResultsError::NegativeValues {
                    column: shape.labels[m].clone(),
                });
            }
            Ok(shape.categories(kind, d, m))
        }
        ChartKind::Line | ChartKind::Area => {
            let d = time.or(text).ok_or(ResultsError::NoDimension { kind })?;
            Ok(shape.series(kind, d, m))
        }
        ChartKind::Table => Ok(ChartSuggestion::table(None)),
    }
}

/// The result as the chart rules see it: labels, kinds, and which columns may be used.
struct Shape<'a> {
    columns: &'a [ColumnMeta],
    labels: Vec<String>,
    kinds: Vec<ColumnKind>,
    rows: &'a [Row],
}

impl<'a> Shape<'a> {
    fn new(columns: &'a [ColumnMeta], rows: &'a [Row]) -> Self {
        Self {
            columns,
            labels: unique_names(columns),
            kinds: column_kinds(columns, rows),
            rows,
        }
    }

    fn first(&self, kind: ColumnKind) -> Option<usize> {
        (0..self.columns.len()).find(|&i| !self.columns[i].masked && self.kinds[i] == kind)
    }

    /// The first unmasked numeric column that is not an id (else the first unmasked one).
    fn measure(&self) -> Option<usize> {
        let numeric = |i: &usize| !self.columns[*i].masked && self.kinds[*i] == ColumnKind::Numeric;
        let name_is_id = |i: &usize| {
            let n = self.columns[*i].name.to_lowercase();
            n == "id" || n.ends_with("_id")
        };
        (0..self.columns.len())
            .filter(numeric)
            .find(|i| !name_is_id(i))
            .or_else(|| (0..self.columns.len()).find(numeric))
    }

    /// One row as a data object holding only `fields` (measures as numbers).
    fn datum(&self, row: &Row, fields: &[usize]) -> Value {
        let mut obj = Map::new();
        for &i in fields {
            let v = row.get(i).cloned().unwrap_or(Value::Null);
            let v = if self.kinds[i] == ColumnKind::Numeric && !v.is_number() {
                as_number(&v).map_or(Value::Null, |x| json!(x))
            } else {
                v
            };
            obj.insert(self.labels[i].clone(), v);
        }
        Value::Object(obj)
    }

    fn metric(&self, m: usize) -> ChartSuggestion {
        let label = &self.labels[m];
        let values: Vec<Value> = self
            .rows
            .iter()
            .take(1)
            .map(|r| self.datum(r, &[m]))
            .collect();
        ChartSuggestion {
            kind: ChartKind::Metric,
            spec: json!({
                "$schema": VEGA_LITE_SCHEMA,
                "data": {"values": values},
                "mark": {"type": "text", "fontSize": 48, "fontWeight": "bold"},
                "encoding": {"text": {"field": label, "type": "quantitative", "format": ",.2~f"}},
            }),
            x: None,
            y: Some(label.clone()),
            note: None,
        }
    }

    /// Line or area over `d`: by time when it is temporal (rows sorted, undated ones dropped),
    /// else in row order.
    fn series(&self, kind: ChartKind, d: usize, m: usize) -> ChartSuggestion {
        let temporal = self.kinds[d] == ColumnKind::Temporal;
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        let mut note = None;
        if temporal {
            let mut keyed: Vec<(i128, &Row)> = rows
                .iter()
                .filter_map(|r| match r.get(d) {
                    Some(Value::String(s)) => temporal_key(s).map(|k| (k, *r)),
                    _ => None,
                })
                .collect();
            keyed.sort_by_key(|(k, _)| *k);
            rows = keyed.into_iter().map(|(_, r)| r).collect();
        }
        if rows.len() > MAX_CHART_ROWS {
            note = Some(format!(
                "the first {MAX_CHART_ROWS} of {} points are drawn",
                rows.len()
            ));
            rows.truncate(MAX_CHART_ROWS);
        }
        let values: Vec<Value> = rows.iter().map(|r| self.datum(r, &[d, m])).collect();
        let (x, y) = (&self.labels[d], &self.labels[m]);
        let mark = if kind == ChartKind::Area {
            json!({"type": "area", "line": true})
        } else {
            json!({"type": "line", "point": true})
        };
        let x_type = if temporal { "temporal" } else { "ordinal" };
        let mut x_enc = json!({"field": x, "type": x_type, "title": x});
        if !temporal {
            x_enc["sort"] = Value::Null; // keep the rows' order
        }
        ChartSuggestion {
            kind,
            spec: json!({
                "$schema": VEGA_LITE_SCHEMA,
                "data": {"values": values},
                "mark": mark,
                "encoding": {
                    "x": x_enc,
                    "y": {"field": y, "type": "quantitative", "title": y},
                },
            }),
            x: Some(x.clone()),
            y: Some(y.clone()),
            note,
        }
    }

    /// Bar or pie over the categories of `d`, the largest [`MAX_CATEGORIES`] by their sum.
    fn categories(&self, kind: ChartKind, d: usize, m: usize) -> ChartSuggestion {
        // Sum per category, in order of first appearance.
        let mut sums: Vec<(String, f64)> = Vec::new();
        for r in self.rows {
            let key = category_key(r.get(d));
            let x = r.get(m).and_then(as_number).unwrap_or(0.0);
            match sums.iter_mut().find(|(k, _)| *k == key) {
                Some((_, s)) => *s += x,
                None => sums.push((key, x)),
            }
        }
        let mut note = None;
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        if sums.len() > MAX_CATEGORIES {
            let mut ranked = sums.clone();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let keep: Vec<String> = ranked
                .into_iter()
                .take(MAX_CATEGORIES)
                .map(|(k, _)| k)
                .collect();
            note = Some(format!(
                "the {MAX_CATEGORIES} largest of {} categories by {} are drawn",
                sums.len(),
                self.labels[m]
            ));
            rows.retain(|r| keep.contains(&category_key(r.get(d))));
        }
        if rows.len() > MAX_CHART_ROWS {
            note.get_or_insert_with(|| format!("the first {MAX_CHART_ROWS} rows are drawn"));
            rows.truncate(MAX_CHART_ROWS);
        }
        let values: Vec<Value> = rows.iter().map(|r| self.datum(r, &[d, m])).collect();
        let (x, y) = (&self.labels[d], &self.labels[m]);
        let encoding = if kind == ChartKind::Pie {
            json!({
                "theta": {"field": y, "type": "quantitative", "aggregate": "sum", "title": y},
                "color": {"field": x, "type": "nominal", "title": x},
            })
        } else if self.kinds[d] == ColumnKind::Temporal {
            json!({
                "x": {"field": x, "type": "ordinal", "title": x},
                "y": {"field": y, "type": "quantitative", "aggregate": "sum", "title": y},
            })
        } else {
            // Horizontal bars read well with long labels; largest first.
            json!({
                "y": {"field": x, "type": "nominal", "sort": "-x", "title": x},
                "x": {"field": y, "type": "quantitative", "aggregate": "sum", "title": y},
            })
        };
        let mark = if kind == ChartKind::Pie { "arc" } else { "bar" };
        ChartSuggestion {
            kind,
            spec: json!({
                "$schema": VEGA_LITE_SCHEMA,
                "data": {"values": values},
                "mark": {"type": mark},
                "encoding": encoding,
            }),
            x: Some(x.clone()),
            y: Some(y.clone()),
            note,
        }
    }
}

fn category_key(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "null".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, t: &str) -> ColumnMeta {
        ColumnMeta {
            name: name.into(),
            type_name: t.into(),
            masked: false,
        }
    }

    fn masked(name: &str, t: &str) -> ColumnMeta {
        ColumnMeta {
            masked: true,
            ..col(name, t)
        }
    }

    #[test]
    fn answers_chart_only_bars_and_lines_of_narrow_results() {
        let bar = [col("region", "text"), col("orders", "int8")];
        let rows = vec![
            vec![json!("north"), json!(3)],
            vec![json!("south"), json!(5)],
        ];
        assert_eq!(
            answer_chart(&bar, &rows).map(|c| c.kind),
            Some(ChartKind::Bar)
        );
        let line = [col("day", "date"), col("orders", "int8")];
        let days = vec![
            vec![json!("2024-01-02"), json!(3)],
            vec![json!("2024-01-01"), json!(5)],
        ];
        let chart = answer_chart(&line, &days).unwrap();
        assert_eq!(chart.kind, ChartKind::Line);
        assert_eq!(chart.spec["data"]["values"][0]["day"], json!("2024-01-01"));
        assert!(answer_chart(&[col("n", "int8")], &[vec![json!(1)]]).is_none());
        assert!(answer_chart(&bar, &[]).is_none());
        let wide = [
            col("a", "text"),
            col("b", "text"),
            col("c", "text"),
            col("n", "int8"),
        ];
        let row = vec![vec![json!("x"), json!("y"), json!("z"), json!(1)]];
        assert!(answer_chart(&wide, &row).is_none());
        // A masked measure is never drawn.
        let hidden = [col("region", "text"), masked("orders", "int8")];
        assert!(answer_chart(&hidden, &rows).is_none());
        // Months written as text make a line in time order.
        let months = [col("month", "text"), col("orders", "int8")];
        let rows = vec![
            vec![json!("2024-02"), json!(3)],
            vec![json!("2024-01"), json!(5)],
            vec![json!("2024-10"), json!(4)],
        ];
        let chart = answer_chart(&months, &rows).unwrap();
        assert_eq!(chart.kind, ChartKind::Line);
        let xs: Vec<&Value> = (0..3)
            .map(|i| &chart.spec["data"]["values"][i]["month"])
            .collect();
        assert_eq!(
            xs,
            [&json!("2024-01"), &json!("2024-02"), &json!("2024-10")]
        );
        assert!(is_period("2024") && is_period("2024-Q3") && is_period("2024-12"));
        assert!(!is_period("2024-13") && !is_period("2024-Q5") && !is_period("north"));
    }

    #[test]
    fn kinds_follow_the_shape() {
        let one = suggest_chart(&[col("n", "int8")], &[vec![json!(42)]]);
        assert_eq!((one.kind, one.y.as_deref()), (ChartKind::Metric, Some("n")));
        assert_eq!(one.spec["$schema"], json!(VEGA_LITE_SCHEMA));
        assert_eq!(one.spec["data"]["values"], json!([{"n": 42}]));

        let rows = vec![
            vec![json!("2024-03-01T00:00:00+01:00"), json!("3.5"), json!("x")],
            vec![json!("2024-01-01T00:00:00Z"), json!("1.5"), json!("y")],
        ];
        let cols = [
            col("at", "timestamptz"),
            col("amount", "numeric"),
            col("tag", "text"),
        ];
        let line = suggest_chart(&cols, &rows);
        assert_eq!(line.kind, ChartKind::Line);
        assert_eq!(
            (line.x.as_deref(), line.y.as_deref()),
            (Some("at"), Some("amount"))
        );
        assert_eq!(line.spec["encoding"]["x"]["type"], json!("temporal"));
        // Sorted by time, measures as numbers, only the charted columns.
        assert_eq!(
            line.spec["data"]["values"],
            json!([{"at": "2024-01-01T00:00:00Z", "amount": 1.5},
                   {"at": "2024-03-01T00:00:00+01:00", "amount": 3.5}])
        );

        let bar = suggest_chart(
            &[
                col("region", "text"),
                col("id", "int4"),
                col("revenue", "float8"),
            ],
            &[
                vec![json!("EU"), json!(1), json!(10.0)],
                vec![json!("US"), json!(2), json!(20.0)],
            ],
        );
        assert_eq!(bar.kind, ChartKind::Bar);
        assert_eq!(bar.y.as_deref(), Some("revenue"), "ids are not measures");
        assert_eq!(bar.spec["encoding"]["y"]["sort"], json!("-x"));

        // A text column before the date: the rows are per category, so bars.
        let per_region = suggest_chart(
            &[
                col("region", "text"),
                col("first_order", "date"),
                col("revenue", "numeric"),
            ],
            &[
                vec![json!("EU"), json!("2024-01-01"), json!("3")],
                vec![json!("US"), json!("2024-02-01"), json!("4")],
            ],
        );
        assert_eq!(
            (per_region.kind, per_region.x.as_deref()),
            (ChartKind::Bar, Some("region"))
        );

        let table = suggest_chart(
            &[col("a", "text"), col("b", "text")],
            &[vec![json!("x"), json!("y")]],
        );
        assert_eq!(
            (table.kind, table.spec.clone()),
            (ChartKind::Table, Value::Null)
        );
        assert_eq!(suggest_chart(&cols, &[]).kind, ChartKind::Table);
    }

    #[test]
    fn many_categories_keep_the_largest_twenty() {
        let rows: Vec<Row> = (0..30)
            .map(|i| vec![json!(format!("c{i}")), json!(i)])
            .collect();
        let bar = suggest_chart(&[col("c", "text"), col("v", "int4")], &rows);
        let values = bar.spec["data"]["values"].as_array().unwrap();
        assert_eq!(values.len(), 20);
        assert!(values.iter().all(|v| v["v"].as_f64().unwrap() >= 10.0));
        assert!(bar.note.unwrap().contains("20 largest of 30"));
    }

    #[test]
    fn masked_columns_are_never_charted() {
        let cols = [
            masked("email", "text"),
            masked("salary", "numeric"),
            col("n", "int4"),
        ];
        let rows = vec![
            vec![json!("a@x.io"), json!("100"), json!(1)],
            vec![json!("b@x.io"), json!("200"), json!(2)],
        ];
        let chart = suggest_chart(&cols, &rows);
        assert_eq!(chart.kind, ChartKind::Table);
        let text = serde_json::to_string(&chart).unwrap();
        assert!(!text.contains("x.io") && !text.contains("salary"), "{text}");
        // A forced bar: no unmasked category → refused, not drawn by the masked one.
        assert_eq!(
            chart_for_widget(ChartKind::Bar, &cols, &rows),
            Err(ResultsError::NoDimension {
                kind: ChartKind::Bar
            })
        );
        // A forced pie over the masked measure alone → refused.
        assert_eq!(
            chart_for_widget(ChartKind::Pie, &cols[..2], &rows),
            Err(ResultsError::NoMeasure {
                kind: ChartKind::Pie
            })
        );
        let metric = chart_for_widget(ChartKind::Metric, &cols, &rows).unwrap();
        let text = serde_json::to_string(&metric).unwrap();
        assert!(!text.contains("x.io") && !text.contains("100"), "{text}");
    }

    #[test]
    fn widgets_get_the_kind_they_ask_for() {
        let cols = [col("region", "text"), col("revenue", "numeric")];
        let rows = vec![
            vec![json!("EU"), json!("10")],
            vec![json!("US"), json!("30")],
        ];
        for kind in ["bar", "line", "area", "pie", "metric", "table"] {
            let kind: ChartKind = kind.parse().unwrap();
            let chart = chart_for_widget(kind, &cols, &rows).unwrap();
            assert_eq!(chart.kind, kind);
        }
        let pie = chart_for_widget(ChartKind::Pie, &cols, &rows).unwrap();
        assert_eq!(pie.spec["mark"]["type"], json!("arc"));
        assert_eq!(pie.spec["encoding"]["theta"]["field"], json!("revenue"));
        let negative = vec![vec![json!("EU"), json!("-1")]];
        assert_eq!(
            chart_for_widget(ChartKind::Pie, &cols, &negative),
            Err(ResultsError::NegativeValues {
                column: "revenue".into()
            })
        );
        assert!(chart_for_widget(ChartKind::Line, &cols, &[]).is_err());
        assert!("donut".parse::<ChartKind>().is_err());
    }
}
