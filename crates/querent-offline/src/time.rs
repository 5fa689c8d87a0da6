//! Dates said in words: calendar windows ("in May 2025", "in Q3 2024", "since January
//! 2024", "between March and June 2023", "the second quarter of 2022") and series grains
//! ("by month", "per quarter", "monthly", "year over year").
//!
//! The phrases are taken out of the question before planning, so their words are not read
//! as names or values (a month is not a first name), and handed to the planner as a
//! [`TimeFrame`]: a half-open window of dates written as `YYYY-MM-DD` literals (the same
//! SQL in every dialect, and no clock read) and the grain of a series. A grain word the
//! schema uses as a name (a `month` column) is left in the question for the planner.

use crate::index::Index;
use crate::lexicon::month;
use crate::text::Tok;

/// The unit of a time series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Grain {
    /// Calendar days.
    Day,
    /// ISO weeks.
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years.
    Year,
    /// Days of the week, by name ("Monday"), whatever the date.
    Weekday,
}

impl Grain {
    /// The grain's name, as a column label.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
            Grain::Weekday => "weekday",
        }
    }

    pub(crate) fn from_word(w: &str) -> Option<Self> {
        Some(match w {
            "day" | "days" | "daily" | "date" => Grain::Day,
            "week" | "weeks" | "weekly" => Grain::Week,
            "month" | "months" | "monthly" => Grain::Month,
            "quarter" | "quarters" | "quarterly" => Grain::Quarter,
            "year" | "years" | "yearly" | "annually" | "annual" => Grain::Year,
            "weekday" | "weekdays" => Grain::Weekday,
            _ => return None,
        })
    }
}

/// A half-open window of dates: `from <= d < until`, either end open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// First date inside, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// First date after, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// The phrase as said, for explanations.
    pub said: String,
}

/// What a question says about time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimeFrame {
    /// A calendar window and the token position where its phrase stood.
    pub window: Option<(Window, usize)>,
    /// The grain of a series ("by month").
    pub grain: Option<Grain>,
    /// The question asks which period ("Which month had the most orders?"): one period of
    /// the series, ranked by its measure.
    pub pick: bool,
}

/// A calendar day: year, month, day.
type Day = (i32, u32, u32);

/// A calendar period: first day and first day after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Period {
    start: Day,
    end: Day,
}

impl Period {
    /// The whole month `(y, m)` and the `n - 1` months after it.
    fn months(start: (i32, u32), n: u32) -> Self {
        let (ey, em) = add_months(start, n);
        Self {
            start: (start.0, start.1, 1),
            end: (ey, em, 1),
        }
    }

    /// One day.
    fn day(d: Day) -> Self {
        Self {
            start: d,
            end: next_day(d),
        }
    }
}

fn date((y, m, d): Day) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

fn add_months((y, m): (i32, u32), n: u32) -> (i32, u32) {
    let total = y * 12 + (m as i32 - 1) + n as i32;
    (total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn next_day((y, m, d): Day) -> Day {
    if d < days_in_month(y, m) {
        (y, m, d + 1)
    } else {
        let (y, m) = add_months((y, m), 1);
        (y, m, 1)
    }
}

/// A day of the month as written: "1", "21", "1st", "22nd", "3rd", "4th".
fn day_of_month(w: &str) -> Option<u32> {
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| w.strip_suffix(s))
        .unwrap_or(w);
    if digits.is_empty() || digits.len() > 2 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// A date said with its day ("1 September 2026", "the 1st of September 2026",
/// "September 1, 2026", "Sept 1st 2026") at token `k`, and the index after it. A year is
/// required (or given by the caller); a day the month does not have is no date.
fn day_at(toks: &[Tok], k: usize, year: Option<i32>) -> Option<(Day, usize)> {
    let low = |i: usize| toks.get(i).map_or("", |t| t.low.as_str());
    let (d, m, after) = if let Some(d) = day_of_month(low(k)) {
        let mut j = k + 1;
        if low(j) == "of" {
            j += 1;
        }
        (d, month(low(j))?, j + 1)
    } else {
        let m = month(low(k))?;
        (day_of_month(low(k + 1))?, m, k + 2)
    };
    let (y, end) = match year_of(toks.get(after)) {
        Some(y) => (y, after + 1),
        None => (year?, after),
    };
    (d <= days_in_month(y, m)).then_some(((y, m, d), end))
}

fn year_of(tok: Option<&Tok>) -> Option<i32> {
    let t = tok?;
    if !t.is_digits() || t.low.len() != 4 {
        return None;
    }
    let y: i32 = t.low.parse().ok()?;
    (1900..=2100).contains(&y).then_some(y)
}

/// Whether a word (singular) names a period of the calendar ("last year", "past week").
pub(crate) fn is_period(w: &str) -> bool {
    matches!(
        w,
        "day" | "week" | "month" | "quarter" | "year" | "decade" | "season"
    )
}

/// The first year of a decade said as "1990s", "2000s", "the 90s" or "the nineties" (two
/// digits or a word from the thirties to the nineties only: "the 20s" may be either
/// century).
pub(crate) fn decade(w: &str) -> Option<i32> {
    const WORDS: [&str; 7] = [
        "thirties",
        "forties",
        "fifties",
        "sixties",
        "seventies",
        "eighties",
        "nineties",
    ];
    if let Some(k) = WORDS.iter().position(|d| *d == w) {
        return Some(1930 + 10 * i32::try_from(k).ok()?);
    }
    let y: i32 = w.strip_suffix('s')?.parse().ok()?;
    match w.len() {
        5 => (y % 10 == 0 && (1900..=2090).contains(&y)).then_some(y),
        3 => (y % 10 == 0 && (30..=90).contains(&y)).then_some(1900 + y),
        _ => None,
    }
}

/// A decade as said: "1990s" anywhere, "90s" or "nineties" only after "the" (`after_the`):
/// "in their 30s" is an age.
fn decade_said(w: &str, after_the: bool) -> Option<i32> {
    decade(w).filter(|_| w.len() == 5 || after_the)
}

/// "in the 1990s" where the schema keeps years as numbers (a `year` column): "between
/// 1990 and 1999", which the planner compares with that column.
fn decades_of_year_columns(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    // (Only where no column holds dates, which the window reads instead.)
    let dated = idx.cols.iter().any(|c| c.kind == crate::index::Kind::Date);
    if dated || !idx.names("year") || !toks.iter().any(|t| decade(&t.low).is_some()) {
        return toks;
    }
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len() + 2);
    for t in toks {
        let n = out.len();
        // Only "in/during (the) 1990s": "since" or "before the 2000s" is no range of ten.
        let the = n >= 1 && out[n - 1].low == "the";
        let prep_at = if the {
            n.checked_sub(2)
        } else {
            n.checked_sub(1)
        };
        let after_in = prep_at.is_some_and(|p| matches!(out[p].low.as_str(), "in" | "during"));
        match decade_said(&t.low, the) {
            Some(y) if !t.quoted && after_in => {
                out.truncate(prep_at.unwrap_or(n));
                let mut hi = Tok::word(&(y + 9).to_string());
                hi.comma = t.comma;
                hi.stop = t.stop;
                out.extend([
                    Tok::word("between"),
                    Tok::word(&y.to_string()),
                    Tok::word("and"),
                    hi,
                ]);
            }
            _ => out.push(t),
        }
    }
    out
}

fn ordinal(w: &str) -> Option<u32> {
    Some(match w {
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" | "last" => 4,
        _ => return None,
    })
}

/// A period starting at token `i`, and how many tokens it takes: "May 2025", "Q3 2024",
/// "third quarter of 2024", "the 2nd quarter 2022". `year` fills a missing year ("between
/// March and May 2024").
fn period_at(toks: &[Tok], i: usize, year: Option<i32>) -> Option<(Period, usize)> {
    let low = |k: usize| toks.get(k).map_or("", |t| t.low.as_str());
    let mut k = i;
    if low(k) == "the" {
        k += 1;
    }
    if let Some((d, end)) = day_at(toks, k, year) {
        return Some((Period::day(d), end - i));
    }
    if let Some(m) = month(low(k)) {
        // "may" is also a verb: a month only next to a year (or when the caller knows one).
        if let Some(y) = year_of(toks.get(k + 1)) {
            return Some((Period::months((y, m), 1), k + 2 - i));
        }
        if let Some(y) = year
            && (low(k) != "may" || toks[k].capitalised())
        {
            return Some((Period::months((y, m), 1), k + 1 - i));
        }
        return None;
    }
    // "the first half of 2024", "H2 2023": six months.
    let half = low(k)
        .strip_prefix('h')
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|h| (1..=2).contains(h))
        .map(|h| (h, 1))
        .or_else(|| {
            let h = ordinal(low(k)).filter(|h| *h <= 2 && low(k) != "last")?;
            (low(k + 1) == "half").then_some((h, 2))
        });
    if let Some((h, used)) = half {
        let mut j = k + used;
        if low(j) == "of" || low(j) == "in" {
            j += 1;
        }
        let y = year_of(toks.get(j))?;
        return Some((Period::months((y, (h - 1) * 6 + 1), 6), j + 1 - i));
    }
    // "the 1990s", "the 2000s": ten years ("the 90s", "the nineties" only after "the":
    // "in their 30s" is an age).
    if let Some(y) = decade_said(low(k), k > i) {
        return Some((Period::months((y, 1), 120), k + 1 - i));
    }
    let quarter = low(k)
        .strip_prefix('q')
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|q| (1..=4).contains(q))
        .map(|q| (q, 1))
        .or_else(|| {
            let q = ordinal(low(k))?;
            (low(k + 1) == "quarter").then_some((q, 2))
        });
    if let Some((q, used)) = quarter {
        let mut j = k + used;
        if low(j) == "of" || low(j) == "in" {
            j += 1;
        }
        let y = year_of(toks.get(j)).or(year)?;
        let taken = if year_of(toks.get(j)).is_some() {
            j + 1
        } else {
            k + used
        };
        return Some((Period::months((y, (q - 1) * 3 + 1), 3), taken - i));
    }
    None
}

/// The first year written anywhere after token `i` (for "between March and May 2024").
fn later_year(toks: &[Tok], i: usize) -> Option<i32> {
    toks.iter().skip(i).take(8).find_map(|t| year_of(Some(t)))
}

/// "by day of the week", "which day of week", "on which days of the week": one word,
/// "weekday", the grain of the days' names (unless the schema names a weekday, a day of
/// the week or `dow` in a column, or keeps weekdays by name itself).
fn day_of_the_week(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    // (A column that keeps weekdays by name answers it itself: `checkin.day`.)
    let kept = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .any(|d| idx.holds_said(d));
    let column = idx.cols.iter().any(|c| {
        let has = |w: &str| c.words.iter().any(|x| x == w);
        has("weekday") || has("dow") || has("day") && has("week")
    });
    if kept || column || idx.names("weekday") {
        return toks;
    }
    fn at(toks: &[Tok], i: usize) -> &str {
        toks.get(i).map_or("", |t| t.low.as_str())
    }
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let day = matches!(at(&toks, i), "day" | "days") && at(&toks, i + 1) == "of";
        let n = if day && at(&toks, i + 2) == "the" && at(&toks, i + 3) == "week" {
            4
        } else if day && at(&toks, i + 2) == "week" {
            3
        } else {
            0
        };
        if n == 0 {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        let mut t = Tok::word("weekday");
        t.take_marks(&toks[i + n - 1]);
        out.push(t);
        i += n;
    }
    out
}

/// Whether the schema names `word` where the question looks: a table or a column of a
/// table the question names, or of a neighbour of one (anywhere, when it names none).
/// "How many bookings were there each year?" is a yearly series when only the hotels
/// (two keys away) keep an `opened_yr`.
fn names_near(idx: &Index, toks: &[Tok], word: &str) -> bool {
    if !idx.names(word) {
        return false;
    }
    let said: Vec<usize> = toks
        .iter()
        .filter(|t| !t.quoted)
        .filter_map(|t| idx.table_named_by(&t.stem))
        .collect();
    if said.is_empty() || idx.table_named_by(word).is_some() {
        return true;
    }
    idx.cols.iter().any(|c| {
        let named = c
            .words
            .iter()
            .chain(&c.short)
            .chain(&c.spelled)
            .any(|w| w == word)
            || c.aliases.iter().flatten().any(|w| w == word);
        named
            && said
                .iter()
                .any(|&t| t == c.table || idx.adjacent(t, c.table))
    })
}

/// Takes the calendar window and the series grain out of the question.
pub(crate) fn extract(toks: Vec<Tok>, idx: &Index) -> (Vec<Tok>, TimeFrame) {
    let toks = day_of_the_week(decades_of_year_columns(toks, idx), idx);
    let mut frame = TimeFrame::default();
    let mut keep = vec![true; toks.len()];
    let low = |k: usize| toks.get(k).map_or("", |t| t.low.as_str());
    let mut i = 0;
    while i < toks.len() {
        if frame.window.is_none() {
            let prep = low(i);
            // "between P1 and P2", "from P1 to/until P2"
            if matches!(prep, "between" | "from")
                && let Some((p1, n1)) = period_at(&toks, i + 1, later_year(&toks, i + 1))
                && matches!(low(i + 1 + n1), "and" | "to" | "until" | "through" | "till")
                && let Some((p2, n2)) = period_at(&toks, i + 2 + n1, None)
            {
                let span = i..i + 2 + n1 + n2;
                frame.window = Some((window(&toks, span.clone(), Some(p1.start), Some(p2.end)), i));
                span.for_each(|k| keep[k] = false);
                i += 2 + n1 + n2;
                continue;
            }
            // "Compare revenue in 2024 and 2025", "orders for 2023 vs 2024": both years,
            // one row each (a yearly series over the two), when no column is named for
            // years. (Consecutive only: "2023 and 2025" is no window.)
            if matches!(prep, "in" | "for" | "during")
                && let (Some(y1), Some(y2)) = (year_of(toks.get(i + 1)), year_of(toks.get(i + 3)))
                && matches!(low(i + 2), "and" | "vs" | "versus" | "or")
                && y2 == y1 + 1
                && !idx.names("year")
            {
                let span = i..i + 4;
                let (p1, p2) = (Period::months((y1, 1), 12), Period::months((y2, 1), 12));
                frame.window = Some((window(&toks, span.clone(), Some(p1.start), Some(p2.end)), i));
                frame.grain.get_or_insert(Grain::Year);
                span.for_each(|k| keep[k] = false);
                i += 4;
                continue;
            }
            let at = match prep {
                "in" | "during" | "for" | "of" | "on" | "since" | "after" | "before" | "until"
                | "till" | "from" => i + 1,
                _ => i,
            };
            let period = period_at(&toks, at, None).or_else(|| {
                // A bare year ("in 2024", "for 2024"), when no column is named for years
                // (then the planner compares it with that column).
                // A year before what it dates ("2025 revenue", "our 2024 orders").
                let modifies = at == i
                    && !(i > 0
                        && matches!(
                            low(i - 1),
                            "than" | "over" | "above" | "under" | "below" | "is" | "top"
                        ))
                    && toks.get(i + 1).is_some_and(|t| {
                        !t.quoted
                            && t.number().is_none()
                            && (idx.names(&t.stem) || idx.names(&t.low))
                    });
                let y = year_of(toks.get(at))
                    .filter(|_| (at > i && prep != "of" || modifies) && !idx.names("year"))?;
                Some((Period::months((y, 1), 12), 1))
            });
            if let Some((p, n)) = period {
                let (from, until) = match prep {
                    "since" | "from" => (Some(p.start), None),
                    "after" => (Some(p.end), None),
                    "before" => (None, Some(p.start)),
                    "until" | "till" => (None, Some(p.end)),
                    _ => (Some(p.start), Some(p.end)),
                };
                let span = i..at + n;
                frame.window = Some((window(&toks, span.clone(), from, until), i));
                span.for_each(|k| keep[k] = false);
                i = at + n;
                continue;
            }
        }
        if frame.grain.is_none() {
            // "by month", "per quarter", "for each year", "each week", "monthly", "year over
            // year", "month by month" — unless the schema names a column so.
            let w = low(i);
            // "by segment and year": a grain coordinated with a breakdown just before.
            let coordinated =
                w == "and" && (i.saturating_sub(4)..i).any(|j| matches!(low(j), "by" | "per"));
            // "Which month had the most orders?", "in what year …": one period asked for.
            let which = matches!(w, "which" | "what")
                && Grain::from_word(low(i + 1)).is_some_and(|g| g != Grain::Day)
                && !low(i + 1).ends_with('s')
                && !low(i + 1).ends_with("ly");
            let after_cue = (matches!(w, "by" | "per" | "each" | "every")
                && !(w == "by" && matches!(low(i + 1), "the" | "a")))
                || coordinated
                || which;
            let grain_at = if after_cue { i + 1 } else { i };
            let g = Grain::from_word(low(grain_at));
            let adjective = matches!(
                low(grain_at),
                "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually" | "annual"
            );
            let over = !after_cue
                && g.is_some()
                && matches!(low(i + 1), "over" | "by")
                && Grain::from_word(low(i + 2)) == g;
            let named = toks
                .get(grain_at)
                .is_some_and(|t| names_near(idx, &toks, &t.stem) || names_near(idx, &toks, &t.low));
            if let Some(g) = g
                && (after_cue || adjective || over)
                && !named
                && (g != Grain::Day || low(grain_at) == "daily" || after_cue)
            {
                frame.grain = Some(g);
                frame.pick = which;
                let end = if over { i + 3 } else { grain_at + 1 };
                // "for each" takes the "for" too.
                let start = if w == "each" && i > 0 && low(i - 1) == "for" {
                    i - 1
                } else {
                    i
                };
                (start..end).for_each(|k| keep[k] = false);
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let out = toks
        .into_iter()
        .zip(keep)
        .filter_map(|(t, k)| k.then_some(t))
        .collect();
    (out, frame)
}

fn window(
    toks: &[Tok],
    span: std::ops::Range<usize>,
    from: Option<Day>,
    until: Option<Day>,
) -> Window {
    let said: Vec<&str> = toks[span].iter().map(|t| t.text.as_str()).collect();
    Window {
        from: from.map(date),
        until: until.map(date),
        said: said.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;
    use querent_domain::PrivacyPolicy;
    use querent_domain::schema::SchemaSnapshot;

    fn index(month_column: bool) -> Index {
        let mut cols =
            vec![serde_json::json!({"name": "order_date", "data_type": "date", "nullable": false})];
        if month_column {
            cols.push(serde_json::json!({"name": "month", "data_type": "text", "nullable": false}));
        }
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "orders", "kind": "table", "columns": cols}]
        }))
        .unwrap();
        Index::new(&schema, &PrivacyPolicy::default(), None)
    }

    fn run(q: &str) -> (String, TimeFrame) {
        let (toks, frame) = extract(tokenize(q), &index(false));
        let words: Vec<&str> = toks.iter().map(|t| t.low.as_str()).collect();
        (words.join(" "), frame)
    }

    fn win(frame: &TimeFrame) -> (Option<&str>, Option<&str>) {
        let w = &frame.window.as_ref().unwrap().0;
        (w.from.as_deref(), w.until.as_deref())
    }

    #[test]
    fn months_and_quarters_with_a_year_become_windows() {
        let (q, f) = run("How many orders were placed in May 2025?");
        assert_eq!(q, "how many orders were placed");
        assert_eq!(win(&f), (Some("2025-05-01"), Some("2025-06-01")));
        let (_, f) = run("revenue in Q4 2024");
        assert_eq!(win(&f), (Some("2024-10-01"), Some("2025-01-01")));
        let (_, f) = run("orders in the third quarter of 2023");
        assert_eq!(win(&f), (Some("2023-07-01"), Some("2023-10-01")));
        let (_, f) = run("orders in December 2024");
        assert_eq!(win(&f), (Some("2024-12-01"), Some("2025-01-01")));
    }

    #[test]
    fn halves_and_decades_become_windows() {
        let (q, f) = run("revenue in the first half of 2024");
        assert_eq!(q, "revenue");
        assert_eq!(win(&f), (Some("2024-01-01"), Some("2024-07-01")));
        let (_, f) = run("orders in H2 2023");
        assert_eq!(win(&f), (Some("2023-07-01"), Some("2024-01-01")));
        let (_, f) = run("orders in the 1990s");
        assert_eq!(win(&f), (Some("1990-01-01"), Some("2000-01-01")));
        assert_eq!(decade("nineties"), Some(1990));
        assert_eq!(decade("40s"), Some(1940));
        assert_eq!(decade("20s"), None);
        // ("the last half" is no half-year; "1995s" no decade.)
        assert_eq!(run("orders in the last half of 2024").1.window, None);
        assert_eq!(decade("1995s"), None);
        // Years kept as numbers: a range the planner compares with the year column.
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "songs", "kind": "table", "columns": [
                {"name": "release_year", "data_type": "integer", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let (toks, f) = extract(tokenize("songs released in the 2000s?"), &idx);
        let words: Vec<&str> = toks.iter().map(|t| t.low.as_str()).collect();
        assert_eq!(words.join(" "), "songs released between 2000 and 2009");
        assert!(f.window.is_none());
        // "since the 1990s" is no range of ten years.
        let (toks, f) = extract(tokenize("songs released since the 1990s"), &idx);
        assert!(!toks.iter().any(|t| t.low == "between"));
        assert_eq!(win(&f), (Some("1990-01-01"), None));
    }

    #[test]
    fn days_with_their_month_and_year_become_windows() {
        let (q, f) = run("How many orders have come in since 1 September 2026?");
        assert_eq!(q, "how many orders have come in");
        assert_eq!(win(&f), (Some("2026-09-01"), None));
        let (_, f) = run("orders placed on September 30, 2025");
        assert_eq!(win(&f), (Some("2025-09-30"), Some("2025-10-01")));
        let (_, f) = run("orders before the 1st of March 2024");
        assert_eq!(win(&f), (None, Some("2024-03-01")));
        let (_, f) = run("orders on 31 December 2024");
        assert_eq!(win(&f), (Some("2024-12-31"), Some("2025-01-01")));
        let (_, f) = run("orders between 28 February 2024 and 2 March 2024");
        assert_eq!(win(&f), (Some("2024-02-28"), Some("2024-03-03")));
        // A day the month does not have is no date; the month alone still is.
        let (_, f) = run("orders in 31 April 2024");
        assert_eq!(win(&f), (Some("2024-04-01"), Some("2024-05-01")));
    }

    #[test]
    fn open_and_two_sided_windows() {
        let (_, f) = run("orders since January 2024");
        assert_eq!(win(&f), (Some("2024-01-01"), None));
        let (_, f) = run("orders before March 2023");
        assert_eq!(win(&f), (None, Some("2023-03-01")));
        let (q, f) = run("orders between March and June 2023 by status");
        assert_eq!(win(&f), (Some("2023-03-01"), Some("2023-07-01")));
        assert_eq!(q, "orders by status");
    }

    #[test]
    fn a_may_that_is_a_verb_or_a_name_stays() {
        let (q, f) = run("which customers may order more");
        assert!(f.window.is_none());
        assert_eq!(q, "which customers may order more");
    }

    #[test]
    fn grains() {
        let (q, f) = run("number of orders by month");
        assert_eq!(
            (q.as_str(), f.grain),
            ("number of orders", Some(Grain::Month))
        );
        assert_eq!(run("monthly revenue").1.grain, Some(Grain::Month));
        assert_eq!(run("orders for each quarter").0, "orders");
        assert_eq!(run("revenue year over year").1.grain, Some(Grain::Year));
        assert_eq!(run("orders by the month").1.grain, None);
        assert_eq!(
            run("revenue by segment and year").1.grain,
            Some(Grain::Year)
        );
        assert_eq!(run("customers and year").1.grain, None);
        // A column called `month` is the planner's to use.
        let (q, f) = extract(tokenize("orders by month"), &index(true));
        assert_eq!((q.len(), f.grain), (3, None));
    }
}
