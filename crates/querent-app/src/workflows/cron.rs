//! Cron expressions and the slots they fire at, in an IANA time zone.
//!
//! An expression has 5 fields (minute hour day-of-month month day-of-week) or 6 with
//! seconds first (`*/5 * * * * *`). Each field is a list (`a,b`) of `*`, a value, a range
//! `a-b`, or a step `*/n`, `a/n` or `a-b/n`; months and days of the week may be named
//! (`JAN`…`DEC`, `SUN`…`SAT`, any case); day-of-week 0 and 7 are both Sunday. As in Vixie
//! cron, when both day fields are restricted (neither starts with `*`), a day matches when
//! **either** does (`0 9 1 * MON` is the 1st of the month and every Monday). The macros
//! `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight` and `@hourly` stand
//! for their usual expressions.
//!
//! Slots are civil times in the schedule's zone, turned into instants with the zone's rules
//! (jiff's bundled tz database, so every machine reads a schedule the same way):
//! - a civil time that does not exist (the hour skipped when daylight saving time starts)
//!   is skipped: the next slot is the next matching time that exists;
//! - a civil time that happens twice (the hour repeated when it ends) fires once, at its
//!   first occurrence.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use querent_domain::UnixMillis;

/// How far ahead [`Cron::next_after`] looks: past this an expression is taken never to
/// fire (`0 0 30 2 *`). Nine years cover the longest wait for a 29 February (2096 → 2104).
const SEARCH_YEARS: i32 = 9;

/// A parsed cron expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Whether each day field is unrestricted (starts with `*`), for the OR rule.
    days_star: bool,
    weekdays_star: bool,
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECOND: Field = Field {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
};
const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const WEEKDAY: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};

impl Field {
    fn value(&self, text: &str) -> Result<u32, String> {
        let upper = text.to_ascii_uppercase();
        if let Some(i) = self.names.iter().position(|n| *n == upper) {
            // Month names start at 1 (JAN), day names at 0 (SUN).
            return Ok(i as u32 + if self.min == 1 { 1 } else { 0 });
        }
        let v: u32 = text.parse().map_err(|_| {
            let named = if self.names.is_empty() {
                String::new()
            } else {
                format!(" or a name ({}…)", self.names[..3].join(", "))
            };
            format!(
                "the {} field has `{text}`, which is not a number{named}",
                self.name
            )
        })?;
        if v < self.min || v > self.max {
            return Err(format!(
                "the {} field has {v}, out of its range {}–{}",
                self.name, self.min, self.max
            ));
        }
        Ok(v)
    }

    /// The set of values `text` (one field) selects, as bits.
    fn parse(&self, text: &str) -> Result<u64, String> {
        let mut bits = 0u64;
        for part in text.split(',') {
            if part.is_empty() {
                return Err(format!(
                    "the {} field `{text}` has an empty list item",
                    self.name
                ));
            }
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!(
                            "the {} field has the step `/{s}`; a step is a whole number of at least 1",
                            self.name
                        )
                    })?;
                    (r, Some(step))
                }
                None => (part, None),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if a > b {
                    return Err(format!(
                        "the {} field has the range {range}, which runs backwards",
                        self.name
                    ));
                }
                (a, b)
            } else {
                let v = self.value(range)?;
                // `a/n` is `a-max/n`, as in most crons.
                (v, if step.is_some() { self.max } else { v })
            };
            let step = step.unwrap_or(1);
            let mut v = lo;
            while v <= hi {
                bits |= 1 << v;
                v += step;
            }
        }
        Ok(bits)
    }
}

fn next_bit(bits: u64, from: u32, max: u32) -> Option<u32> {
    (from..=max).find(|v| bits & (1 << v) != 0)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Day of the week, 0 = Sunday (Sakamoto's method).
fn weekday(year: i32, month: u32, day: u32) -> u32 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let w = (y + y / 4 - y / 100 + y / 400 + T[month as usize - 1] + day as i32) % 7;
    w.rem_euclid(7) as u32
}

/// A civil time being searched, always valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    fn next_month(&mut self) {
        (self.year, self.month) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        (self.day, self.hour, self.minute, self.second) = (1, 0, 0, 0);
    }

    fn next_day(&mut self) {
        if self.day >= days_in_month(self.year, self.month) {
            self.next_month();
        } else {
            self.day += 1;
            (self.hour, self.minute, self.second) = (0, 0, 0);
        }
    }

    fn next_hour(&mut self) {
        if self.hour >= 23 {
            self.next_day();
        } else {
            self.hour += 1;
            (self.minute, self.second) = (0, 0);
        }
    }

    fn next_minute(&mut self) {
        if self.minute >= 59 {
            self.next_hour();
        } else {
            self.minute += 1;
            self.second = 0;
        }
    }

    fn next_second(&mut self) {
        if self.second >= 59 {
            self.next_minute();
        } else {
            self.second += 1;
        }
    }

    fn to_jiff(self) -> Option<DateTime> {
        DateTime::new(
            i16::try_from(self.year).ok()?,
            self.month as i8,
            self.day as i8,
            self.hour as i8,
            self.minute as i8,
            self.second as i8,
            0,
        )
        .ok()
    }
}

impl Cron {
    /// Parses an expression; the error says which field is wrong and why.
    pub fn parse(expr: &str) -> Result<Cron, String> {
        let expr = expr.trim();
        let expanded = match expr.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            m if m.starts_with('@') => {
                return Err(format!(
                    "`{expr}` is not a known macro (@yearly, @monthly, @weekly, @daily, @hourly)"
                ));
            }
            _ => expr,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let (second, rest) = match fields.len() {
            5 => ("0", &fields[..]),
            6 => (fields[0], &fields[1..]),
            n => {
                return Err(format!(
                    "has {n} fields; a cron expression has 5 (minute hour day-of-month month \
                     day-of-week) or 6 with seconds first"
                ));
            }
        };
        let mut weekdays = WEEKDAY.parse(rest[4])?;
        // 7 is Sunday too.
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays | 1) & !(1 << 7);
        }
        let cron = Cron {
            seconds: SECOND.parse(second)?,
            minutes: MINUTE.parse(rest[0])?,
            hours: HOUR.parse(rest[1])?,
            days: DAY.parse(rest[2])?,
            months: MONTH.parse(rest[3])?,
            weekdays,
            days_star: rest[2].starts_with('*'),
            weekdays_star: rest[4].starts_with('*'),
        };
        if cron.days_star || !cron.weekdays_star {
            return Ok(cron);
        }
        // Only day-of-month restricts the day: it must exist in some chosen month.
        let possible = (1..=12u32)
            .filter(|m| cron.months & (1 << m) != 0)
            .any(|m| {
                let longest = if m == 2 { 29 } else { days_in_month(2001, m) };
                (1..=longest).any(|d| cron.days & (1 << d) != 0)
            });
        if possible {
            Ok(cron)
        } else {
            Err("never fires: no chosen month has the chosen day of the month".into())
        }
    }

    /// Whether a day matches the two day fields (the OR rule when both are restricted).
    fn day_matches(&self, year: i32, month: u32, day: u32) -> bool {
        let dom = self.days & (1 << day) != 0;
        let dow = self.weekdays & (1 << weekday(year, month, day)) != 0;
        match (self.days_star, self.weekdays_star) {
            (false, false) => dom || dow,
            _ => dom && dow,
        }
    }

    /// The first civil time at or after `c` that matches, within the search bound.
    fn next_civil(&self, mut c: Civil, until_year: i32) -> Option<Civil> {
        while c.year <= until_year {
            if self.months & (1 << c.month) == 0 {
                c.next_month();
                continue;
            }
            if !self.day_matches(c.year, c.month, c.day) {
                c.next_day();
                continue;
            }
            let Some(h) = next_bit(self.hours, c.hour, 23) else {
                c.next_day();
                continue;
            };
            if h != c.hour {
                (c.hour, c.minute, c.second) = (h, 0, 0);
            }
            let Some(m) = next_bit(self.minutes, c.minute, 59) else {
                c.next_hour();
                continue;
            };
            if m != c.minute {
                (c.minute, c.second) = (m, 0);
            }
            let Some(s) = next_bit(self.seconds, c.second, 59) else {
                c.next_minute();
                continue;
            };
            c.second = s;
            return Some(c);
        }
        None
    }

    /// The first slot strictly after `after` (Unix milliseconds), reading the expression
    /// in `tz`; `None` when it never fires again within nine years.
    pub fn next_after(&self, after: UnixMillis, tz: &TimeZone) -> Option<UnixMillis> {
        let after_ts = Timestamp::from_millisecond(after).ok()?;
        let start = tz.to_datetime(after_ts);
        let mut c = Civil {
            year: i32::from(start.year()),
            month: start.month() as u32,
            day: start.day() as u32,
            hour: start.hour() as u32,
            minute: start.minute() as u32,
            second: start.second() as u32,
        };
        // Strictly after: the next whole second.
        c.next_second();
        let until = c.year + SEARCH_YEARS;
        loop {
            c = self.next_civil(c, until)?;
            let instant = match tz.to_ambiguous_timestamp(c.to_jiff()?).offset() {
                AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(c.to_jiff()?).ok(),
                // The time does not exist today: skipped.
                AmbiguousOffset::Gap { .. } => None,
                // It happens twice: the first occurrence only.
                AmbiguousOffset::Fold { before, .. } => before.to_timestamp(c.to_jiff()?).ok(),
            };
            match instant.map(|t| t.as_millisecond()) {
                Some(ms) if ms > after => return Some(ms),
                _ => c.next_second(),
            }
        }
    }
}

/// A time zone by its IANA name; the error is for the person who typed it.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name.trim())
        .map_err(|_| format!("`{name}` is not a known IANA time zone (like UTC or Europe/Berlin)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> UnixMillis {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn show(ms: UnixMillis) -> String {
        Timestamp::from_millisecond(ms).unwrap().to_string()
    }

    fn next(expr: &str, tz: &str, after: &str) -> Option<String> {
        Cron::parse(expr)
            .unwrap()
            .next_after(at(after), &time_zone(tz).unwrap())
            .map(show)
    }

    fn slots(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
        let cron = Cron::parse(expr).unwrap();
        let tz = time_zone(tz).unwrap();
        let mut t = at(after);
        (0..n)
            .map(|_| {
                t = cron.next_after(t, &tz).unwrap();
                show(t)
            })
            .collect()
    }

    #[test]
    fn every_five_seconds() {
        assert_eq!(
            slots("*/5 * * * * *", "UTC", "2024-01-01T00:00:00Z", 3),
            [
                "2024-01-01T00:00:05Z",
                "2024-01-01T00:00:10Z",
                "2024-01-01T00:00:15Z"
            ]
        );
        // Strictly after, even from inside a second.
        assert_eq!(
            next("*/5 * * * * *", "UTC", "2024-01-01T00:00:04.999Z").unwrap(),
            "2024-01-01T00:00:05Z"
        );
        assert_eq!(
            next("*/5 * * * * *", "UTC", "2024-01-01T00:00:05.001Z").unwrap(),
            "2024-01-01T00:00:10Z"
        );
        assert_eq!(
            next("*/5 * * * * *", "UTC", "2024-12-31T23:59:58Z").unwrap(),
            "2025-01-01T00:00:00Z"
        );
    }

    #[test]
    fn minute_ranges_lists_and_steps() {
        assert_eq!(
            slots("10-20/5,45 9 * * *", "UTC", "2024-03-01T09:00:00Z", 5),
            [
                "2024-03-01T09:10:00Z",
                "2024-03-01T09:15:00Z",
                "2024-03-01T09:20:00Z",
                "2024-03-01T09:45:00Z",
                "2024-03-02T09:10:00Z"
            ]
        );
        // `a/n` runs to the end of the range.
        assert_eq!(
            slots("50/5 * * * *", "UTC", "2024-03-01T09:00:00Z", 3),
            [
                "2024-03-01T09:50:00Z",
                "2024-03-01T09:55:00Z",
                "2024-03-01T10:50:00Z"
            ]
        );
    }

    #[test]
    fn names_and_sunday_as_seven() {
        // 2024-03-01 is a Friday.
        assert_eq!(
            next("0 8 * * MON-fri", "UTC", "2024-03-01T09:00:00Z").unwrap(),
            "2024-03-04T08:00:00Z"
        );
        assert_eq!(
            next("0 8 * * 7", "UTC", "2024-03-01T09:00:00Z").unwrap(),
            "2024-03-03T08:00:00Z"
        );
        assert_eq!(
            next("0 8 * * 0", "UTC", "2024-03-01T09:00:00Z").unwrap(),
            "2024-03-03T08:00:00Z"
        );
        assert_eq!(
            next("0 0 1 jun *", "UTC", "2024-03-01T09:00:00Z").unwrap(),
            "2024-06-01T00:00:00Z"
        );
        assert_eq!(
            next("@monthly", "UTC", "2024-03-01T09:00:00Z").unwrap(),
            "2024-04-01T00:00:00Z"
        );
    }

    #[test]
    fn both_day_fields_restricted_is_or() {
        // The 15th, or any Monday: from Fri 1 March 2024, Monday the 4th comes first.
        assert_eq!(
            slots("0 0 15 * MON", "UTC", "2024-03-01T09:00:00Z", 3),
            [
                "2024-03-04T00:00:00Z",
                "2024-03-11T00:00:00Z",
                "2024-03-15T00:00:00Z"
            ]
        );
        // A starred field keeps the AND rule: every other day of the month that is a Monday.
        assert_eq!(
            next("0 0 */2 * MON", "UTC", "2024-03-01T09:00:00Z").unwrap(),
            "2024-03-11T00:00:00Z"
        );
    }

    #[test]
    fn month_ends_and_leap_days() {
        assert_eq!(
            slots("0 0 31 * *", "UTC", "2024-01-31T12:00:00Z", 2),
            ["2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z"]
        );
        assert_eq!(
            slots("0 0 29 2 *", "UTC", "2024-03-01T00:00:00Z", 2),
            ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"]
        );
        // 2100 is not a leap year.
        assert_eq!(
            next("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z").unwrap(),
            "2104-02-29T00:00:00Z"
        );
        assert_eq!(
            next("59 23 28-31 2 *", "UTC", "2023-02-28T23:59:00Z").unwrap(),
            "2024-02-28T23:59:00Z"
        );
    }

    #[test]
    fn never_firing_expressions_are_refused() {
        let e = Cron::parse("0 0 30 2 *").unwrap_err();
        assert!(e.contains("never fires"), "{e}");
        assert!(Cron::parse("0 0 31 4,6 *").is_err());
        // With a weekday too, the OR rule makes it fire.
        assert!(Cron::parse("0 0 30 2 MON").is_ok());
    }

    #[test]
    fn berlin_daylight_saving_time() {
        // 2024-03-31: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
        assert_eq!(
            slots("30 2 * * *", "Europe/Berlin", "2024-03-30T00:00:00Z", 2),
            ["2024-03-30T01:30:00Z", "2024-04-01T00:30:00Z"]
        );
        // Every 30 minutes across the gap: 01:30 CET, then 03:00 CEST.
        assert_eq!(
            slots("0,30 * * * *", "Europe/Berlin", "2024-03-31T00:00:00Z", 3),
            [
                "2024-03-31T00:30:00Z",
                "2024-03-31T01:00:00Z",
                "2024-03-31T01:30:00Z"
            ]
        );
        // 2024-10-27: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, fires once.
        assert_eq!(
            slots("30 2 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", 2),
            ["2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]
        );
        // Asked from inside the second 02:xx hour, it is not fired again.
        assert_eq!(
            next("30 2 * * *", "Europe/Berlin", "2024-10-27T01:10:00Z").unwrap(),
            "2024-10-28T01:30:00Z"
        );
        // Hourly at :15 across the fold: 02:15 CEST once, then 03:15 CET.
        assert_eq!(
            slots("15 * * * *", "Europe/Berlin", "2024-10-26T23:30:00Z", 3),
            [
                "2024-10-27T00:15:00Z",
                "2024-10-27T02:15:00Z",
                "2024-10-27T03:15:00Z"
            ]
        );
        // A daily schedule at 09:00 local moves with the offset.
        assert_eq!(
            slots("0 9 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", 2),
            ["2024-03-31T07:00:00Z", "2024-04-01T07:00:00Z"]
        );
    }

    #[test]
    fn invalid_expressions_say_why() {
        let cases = [
            ("* * * *", "has 4 fields"),
            ("* * * * * * *", "has 7 fields"),
            ("61 * * * *", "minute field has 61, out of its range 0–59"),
            ("* 24 * * *", "hour field has 24"),
            ("* * 0 * *", "day-of-month field has 0"),
            ("* * * 13 *", "month field has 13"),
            (
                "* * * FOO *",
                "month field has `FOO`, which is not a number or a name",
            ),
            ("* * * * 8", "day-of-week field has 8"),
            ("*/0 * * * *", "step `/0`"),
            ("5-1 * * * *", "range 5-1, which runs backwards"),
            ("1,,2 * * * *", "empty list item"),
            ("x * * * * *", "second field has `x`"),
            ("@sometimes", "not a known macro"),
        ];
        for (expr, want) in cases {
            let e = Cron::parse(expr).unwrap_err();
            assert!(e.contains(want), "{expr}: {e}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(time_zone("Europe/Berlin").is_ok());
        assert!(time_zone("UTC").is_ok());
        let e = time_zone("Mars/Olympus").unwrap_err();
        assert!(e.contains("not a known IANA time zone"), "{e}");
    }
}
