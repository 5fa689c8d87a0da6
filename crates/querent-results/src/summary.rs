//! A short English summary of a result, without an LLM: deterministic, at most three
//! sentences, numbers with thousands separators and at most two decimals, and never a masked
//! value.

use querent_domain::query::{ColumnMeta, Row};

use crate::stats::DataframeStats;
use crate::values::{ColumnKind, as_number, column_kinds, fmt_number, parse_iso, unique_names};

/// Summarises a result in at most three sentences.
///
/// - `rows` are the rows at hand (perhaps only the first ones), `stats` their statistics
///   (from [`crate::StatsBuilder`] over the same columns), `total_rows` how many rows the
///   query returned as far as is known, and `truncated` whether it returned more than that
///   (a row cap or a byte cap cut it).
/// - The first category-like column (text) and the first measure-like column (numeric, not
///   an id; the one the `question` names, if any) shape the main sentence: the leader's and
///   the last category's share of the total (shares only when every value is non-negative),
///   or the time span and the measure's range, or the measure's range alone.
/// - Masked columns are never used and their values never appear.
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use querent_results::{compute_stats, summarize};
/// use serde_json::json;
///
/// let columns = [
///     ColumnMeta { name: "region".into(), type_name: "text".into(), masked: false },
///     ColumnMeta { name: "revenue".into(), type_name: "numeric".into(), masked: false },
/// ];
/// let rows = vec![
///     vec![json!("Europe"), json!("1234.5")],
///     vec![json!("America"), json!("1414.3")],
///     vec![json!("Asia"), json!("361.2")],
/// ];
/// let stats = compute_stats(&columns, &rows);
/// assert_eq!(
///     summarize(None, &columns, &rows, &stats, 3, false),
///     "3 rows. America leads with 47% of revenue (1,414.3 of 3,010); Asia is last with 12%."
/// );
/// ```
pub fn summarize(
    question: Option<&str>,
    columns: &[ColumnMeta],
    rows: &[Row],
    stats: &DataframeStats,
    total_rows: u64,
    truncated: bool,
) -> String {
    let n = total_rows.max(rows.len() as u64);
    if n == 0 {
        return "No rows matched.".to_owned();
    }
    let view = View::new(columns, rows, stats);
    let mut sentences = Vec::new();
    if rows.len() == 1 && n == 1 {
        sentences.push(view.one_row(&rows[0]));
    } else {
        let count = if truncated {
            format!("At least {} rows", fmt_count(n))
        } else {
            format!("{} {}", fmt_count(n), if n == 1 { "row" } else { "rows" })
        };
        sentences.push(view.main_sentence(&count, question));
    }
    if truncated {
        let shown = rows.len() as u64;
        sentences.push(if shown < n {
            format!(
                "Showing the first {} of at least {} rows.",
                fmt_count(shown),
                fmt_count(n)
            )
        } else {
            format!(
                "The result was cut at the row cap of {} rows; there are more.",
                fmt_count(n)
            )
        });
    }
    sentences.join(" ")
}

/// What the summary may look at: labels, kinds and statistics of the unmasked columns.
struct View<'a> {
    columns: &'a [ColumnMeta],
    labels: Vec<String>,
    kinds: Vec<ColumnKind>,
    rows: &'a [Row],
    stats: &'a DataframeStats,
}

impl<'a> View<'a> {
    fn new(columns: &'a [ColumnMeta], rows: &'a [Row], stats: &'a DataframeStats) -> Self {
        let labels = unique_names(columns);
        let inferred = column_kinds(columns, rows);
        let kinds = labels
            .iter()
            .zip(inferred)
            .map(|(l, k)| stats.get(l).and_then(|s| s.kind()).unwrap_or(k))
            .collect();
        Self {
            columns,
            labels,
            kinds,
            rows,
            stats,
        }
    }

    fn usable(&self, i: usize, kind: ColumnKind) -> bool {
        !self.columns[i].masked && self.kinds[i] == kind
    }

    fn first(&self, kind: ColumnKind) -> Option<usize> {
        (0..self.columns.len()).find(|&i| self.usable(i, kind))
    }

    /// The measure: a numeric column the question names, else the first that is not an id.
    fn measure(&self, question: Option<&str>) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.usable(i, ColumnKind::Numeric) && !is_id(&self.columns[i].name))
            .collect();
        if let Some(q) = question.map(str::to_lowercase) {
            let named = candidates.iter().copied().find(|&i| {
                let name = self.columns[i].name.to_lowercase();
                q.contains(&name) || q.contains(&name.replace('_', " "))
            });
            if named.is_some() {
                return named;
            }
        }
        candidates.first().copied()
    }

    fn one_row(&self, row: &Row) -> String {
        if self.columns.len() == 1 {
            return if self.columns[0].masked {
                "One value (masked).".to_owned()
            } else {
                format!("One value: {}.", self.show(0, row))
            };
        }
        let mut parts: Vec<String> = (0..self.columns.len().min(5))
            .map(|i| format!("{} {}", self.labels[i], self.show(i, row)))
            .collect();
        if self.columns.len() > 5 {
            parts.push(format!("and {} more columns", self.columns.len() - 5));
        }
        format!("One row: {}.", parts.join(", "))
    }

    /// A value for people: numbers formatted, long text cut, masked values never shown.
    fn show(&self, i: usize, row: &Row) -> String {
        if self.columns[i].masked {
            return "(masked)".to_owned();
        }
        let v = row.get(i).unwrap_or(&serde_json::Value::Null);
        match (self.kinds[i], v) {
            (_, serde_json::Value::Null) => "null".to_owned(),
            (ColumnKind::Numeric, v) if as_number(v).is_some() => {
                as_number(v).map(fmt_number).unwrap_or_default()
            }
            (ColumnKind::Temporal, serde_json::Value::String(s)) => short_time(s).to_owned(),
            (_, serde_json::Value::String(s)) => cut(s),
            (_, other) => cut(&other.to_string()),
        }
    }

    fn main_sentence(&self, count: &str, question: Option<&str>) -> String {
        let measure = self.measure(question);
        let category = self.first(ColumnKind::String);
        let time = self.first(ColumnKind::Temporal);
        match (category, time, measure) {
            (Some(c), _, Some(m)) => self.shares(count, c, m),
            (None, Some(t), m) => {
                let span = self.span(t);
                match m.and_then(|m| self.range(m)) {
                    Some(range) => format!("{count}{span}; {range}."),
                    None => format!("{count}{span}."),
                }
            }
            (None, None, Some(m)) => match self.range(m) {
                Some(range) => format!("{count}; {range}."),
                None => format!("{count}."),
            },
            (Some(c), _, None) => {
                let distinct = self
                    .stats
                    .get(&self.labels[c])
                    .and_then(|s| s.string.as_ref())
                    .map(|s| (s.distinct_count, s.distinct_approx));
                match distinct {
                    Some((d, approx)) => format!(
                        "{count}; {} has {}{} distinct {}.",
                        self.labels[c],
                        if approx { "about " } else { "" },
                        fmt_count(d),
                        if d == 1 { "value" } else { "values" }
                    ),
                    None => format!("{count}."),
                }
            }
            (None, None, None) => format!("{count}, {} columns.", self.columns.len()),
        }
    }

    /// "Europe leads with 41% of revenue (1,234.5 of 3,010); Asia is last with 12%."
    fn shares(&self, count: &str, c: usize, m: usize) -> String {
        // Sum the measure per category, in order of first appearance.
        let mut groups: Vec<(String, f64)> = Vec::new();
        let mut nonnegative = true;
        for row in self.rows {
            let (Some(serde_json::Value::String(cat)), Some(x)) =
                (row.get(c), row.get(m).and_then(as_number))
            else {
                continue;
            };
            nonnegative &= x >= 0.0;
            match groups.iter_mut().find(|(g, _)| g == cat) {
                Some((_, sum)) => *sum += x,
                None => groups.push((cat.clone(), x)),
            }
        }
        let measure = &self.labels[m];
        if groups.is_empty() {
            return format!("{count}.");
        }
        let total: f64 = groups.iter().map(|(_, x)| x).sum();
        // Stable: ties keep the order of first appearance.
        let mut ranked = groups.clone();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (top, top_v) = &ranked[0];
        let (last, last_v) = &ranked[ranked.len() - 1];
        let (top, last) = (cut(top), cut(last));
        if ranked.len() == 1 {
            return format!(
                "{count}. {top} has all of {measure} ({}).",
                fmt_number(*top_v)
            );
        }
        if nonnegative && total > 0.0 {
            format!(
                "{count}. {top} leads with {} of {measure} ({} of {}); {last} is last with {}.",
                percent(*top_v / total),
                fmt_number(*top_v),
                fmt_number(total),
                percent(*last_v / total)
            )
        } else {
            format!(
                "{count}. {top} has the highest {measure} ({}); {last} the lowest ({}).",
                fmt_number(*top_v),
                fmt_number(*last_v)
            )
        }
    }

    /// " between 2024-01-03 and 2024-12-30"
    fn span(&self, t: usize) -> String {
        let temporal = self
            .stats
            .get(&self.labels[t])
            .and_then(|s| s.temporal.as_ref());
        match temporal.and_then(|s| Some((s.min.as_deref()?, s.max.as_deref()?))) {
            Some((a, b)) if a == b => format!(", all at {}", short_time(a)),
            Some((a, b)) => format!(" between {} and {}", short_time(a), short_time(b)),
            None => String::new(),
        }
    }

    /// "amount ranges from 3.2 to 990 (mean 210.4)"
    fn range(&self, m: usize) -> Option<String> {
        let n = self.stats.get(&self.labels[m])?.numeric.as_ref()?;
        let (min, max, mean) = (n.min?, n.max?, n.mean?);
        let name = &self.labels[m];
        Some(if min == max {
            format!("{name} is {} throughout", fmt_number(min))
        } else {
            format!(
                "{name} ranges from {} to {} (mean {})",
                fmt_number(min),
                fmt_number(max),
                fmt_number(mean)
            )
        })
    }
}

/// `id`, `user_id`, `orderId`: identifiers, not measures.
fn is_id(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower == "id" || lower.ends_with("_id") || (name.ends_with("Id") && name.len() > 2)
}

fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 1.0 {
        "<1%".to_owned()
    } else {
        format!("{}%", p.round())
    }
}

fn fmt_count(n: u64) -> String {
    fmt_number(n as f64)
}

/// A date-time at midnight UTC (or without offset) reads as its date.
fn short_time(s: &str) -> &str {
    match parse_iso(s) {
        Some(c) if c.has_date && c.nanos == 0 && c.offset_secs.unwrap_or(0) == 0 => {
            s.get(..10).unwrap_or(s)
        }
        _ => s,
    }
}

/// Text cut to 40 characters.
fn cut(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(39).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::compute_stats;
    use serde_json::json;

    fn col(name: &str, t: &str) -> ColumnMeta {
        ColumnMeta {
            name: name.into(),
            type_name: t.into(),
            masked: false,
        }
    }

    fn say(columns: &[ColumnMeta], rows: &[Row], total: u64, truncated: bool) -> String {
        let stats = compute_stats(columns, rows);
        summarize(None, columns, rows, &stats, total, truncated)
    }

    #[test]
    fn summaries_of_common_shapes() {
        let region = [col("region", "text"), col("revenue", "numeric")];
        let rows = vec![
            vec![json!("Europe"), json!("1234.5")],
            vec![json!("America"), json!("1414.3")],
            vec![json!("Asia"), json!("361.2")],
        ];
        let orders = [col("ordered_at", "date"), col("amount", "float8")];
        let order_rows: Vec<Row> = [
            ("2024-01-03", 3.2),
            ("2024-06-01", 990.0),
            ("2024-12-30", 10.0),
        ]
        .iter()
        .map(|(d, a)| vec![json!(d), json!(a)])
        .collect();
        let ids = [col("id", "int4"), col("name", "text")];
        let id_rows = vec![vec![json!(1), json!("a")], vec![json!(2), json!("b")]];
        let profit = [col("branch", "text"), col("profit", "int8")];
        let profit_rows = vec![
            vec![json!("North"), json!(120)],
            vec![json!("South"), json!(-30)],
        ];
        let shapes = [
            say(&region, &rows, 3, false),
            say(&[col("count", "int8")], &[vec![json!(42)]], 1, false),
            say(&region, &[], 0, false),
            say(&orders, &order_rows, 3, false),
            say(&ids, &id_rows, 2, false),
            say(&profit, &profit_rows, 2, false),
            say(&region, &rows[..2], 1_000, true),
            say(&region, &rows, 3, true),
            say(&region, &rows[..1], 1, false),
            say(
                &[col("x", "float8")],
                &[vec![json!(1.5)], vec![json!(2.5)]],
                2,
                false,
            ),
        ];
        insta::assert_debug_snapshot!(shapes);
    }

    #[test]
    fn the_question_picks_the_measure() {
        let columns = [
            col("region", "text"),
            col("units", "int4"),
            col("unit_price", "numeric"),
        ];
        let rows = vec![
            vec![json!("A"), json!(1), json!("30")],
            vec![json!("B"), json!(3), json!("10")],
        ];
        let stats = compute_stats(&columns, &rows);
        let s = summarize(
            Some("Unit price by region"),
            &columns,
            &rows,
            &stats,
            2,
            false,
        );
        assert!(s.contains("of unit_price"), "{s}");
        let s = summarize(None, &columns, &rows, &stats, 2, false);
        assert!(s.contains("of units"), "{s}");
    }

    #[test]
    fn masked_values_are_never_mentioned() {
        let columns = [
            ColumnMeta {
                name: "email".into(),
                type_name: "text".into(),
                masked: true,
            },
            col("orders", "int4"),
        ];
        let rows = vec![
            vec![json!("alice@example.com"), json!(3)],
            vec![json!("bob@example.com"), json!(5)],
        ];
        let s = say(&columns, &rows, 2, false);
        assert!(!s.contains("example.com"), "{s}");
        assert_eq!(s, "2 rows; orders ranges from 3 to 5 (mean 4).");
        let one = say(&columns, &rows[..1], 1, false);
        assert_eq!(one, "One row: email (masked), orders 3.");
        let only = say(
            &columns[..1],
            &rows[..1]
                .iter()
                .map(|r| r[..1].to_vec())
                .collect::<Vec<_>>(),
            1,
            false,
        );
        assert_eq!(only, "One value (masked).");
    }
}
