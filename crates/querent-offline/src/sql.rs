//! The small query model the planner fills in, and its rendering to SQL text in each
//! dialect and to a plain-English explanation.

use std::fmt::Write as _;

use querent_domain::Dialect;
use querent_domain::text::{identifier_words, singular};

use crate::index::{Index, Kind, Piece};
use crate::time::Grain;

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Agg {
    /// `COUNT`.
    Count,
    /// `SUM`.
    Sum,
    /// `AVG`.
    Avg,
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
}

impl Agg {
    fn sql(self) -> &'static str {
        match self {
            Agg::Count => "COUNT",
            Agg::Sum => "SUM",
            Agg::Avg => "AVG",
            Agg::Min => "MIN",
            Agg::Max => "MAX",
        }
    }
    fn words(self) -> &'static str {
        match self {
            Agg::Count => "number of distinct",
            Agg::Sum => "total",
            Agg::Avg => "average",
            Agg::Min => "minimum",
            Agg::Max => "maximum",
        }
    }
}

/// A select-list or ordering expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A column.
    Col(usize),
    /// `COUNT(*)`.
    CountStar,
    /// An aggregate of a column (the flag: `DISTINCT`).
    Agg(Agg, usize, bool),
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lit {
    /// A string.
    Str(String),
    /// A number as written.
    Num(String),
}

/// A time range relative to the current date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rel {
    /// Today.
    Today,
    /// Yesterday.
    Yesterday,
    /// The current week.
    ThisWeek,
    /// The previous week.
    LastWeek,
    /// The current month.
    ThisMonth,
    /// The previous month.
    LastMonth,
    /// The current quarter.
    ThisQuarter,
    /// The previous quarter.
    LastQuarter,
    /// The current year.
    ThisYear,
    /// The previous year.
    LastYear,
    /// The last N days up to now.
    LastDays(u32),
    /// The last N months up to now.
    LastMonths(u32),
}

/// A condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cond {
    /// `col op literal`.
    Cmp(usize, &'static str, Lit),
    /// `col LIKE '%text%'` (or `NOT LIKE`).
    Like(usize, String, bool),
    /// `col BETWEEN a AND b`.
    Between(usize, Lit, Lit),
    /// `col >= a AND col < b`.
    Range(usize, Lit, Lit),
    /// `col NOT IN (subquery)`.
    NotIn(usize, Box<Select>),
    /// `col IN (subquery)`: rows that have a related row, counted once.
    In(usize, Box<Select>),
    /// `col IS NOT NULL`.
    NotNull(usize),
    /// `col IS NULL` ("employees without a manager").
    IsNull(usize),
    /// `col op (SELECT AVG(col) FROM its table)`.
    CmpAvg(usize, &'static str),
    /// Rows for each of these conditions (`INTERSECT`); split before rendering.
    Both(Vec<Cond>),
    /// A relative time range on a date column.
    Relative(usize, Rel),
    /// Any of these.
    Or(Vec<Cond>),
}

/// One `SELECT`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Select {
    /// Select list.
    pub items: Vec<Expr>,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// The first table.
    pub from: usize,
    /// Join steps: (column already in the query, column of the newly joined table).
    pub joins: Vec<(usize, usize)>,
    /// Conditions, AND-ed.
    pub conds: Vec<Cond>,
    /// Grouping columns.
    pub group: Vec<usize>,
    /// `HAVING COUNT(*) op n` (or `having_of` instead of the count).
    pub having: Option<(&'static str, String)>,
    /// What `HAVING` compares when not the count ("customers whose orders total more than
    /// 5,000": `SUM(total_amount)`).
    pub having_of: Option<Expr>,
    /// Ordering.
    pub order: Vec<(Expr, bool)>,
    /// Row limit.
    pub limit: Option<u64>,
    /// A second query whose rows must also appear (`INTERSECT`).
    pub intersect: Option<Box<Select>>,
    /// A time series: this date column cut to the grain is the first output column and the
    /// first grouping, and orders the rows when nothing else does.
    pub bucket: Option<(usize, Grain)>,
    /// The measure as a share of its whole ("what percentage of orders were cancelled").
    pub share: Option<Share>,
    /// A ratio of two numbers ("the ratio of publications to authors").
    pub ratio: Option<Ratio>,
    /// The average of the query's one measure over its groups ("the average number of
    /// lines per order": each order's count of lines, averaged).
    pub over_groups: bool,
    /// An output column said in a larger unit ("the population in millions"): item `k`
    /// divided by the unit.
    pub scale: Option<(usize, Scale)>,
}

/// A unit a number is said in: thousands, millions or billions of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// 1,000.
    Thousands,
    /// 1,000,000.
    Millions,
    /// 1,000,000,000.
    Billions,
}

impl Scale {
    /// The unit's word, as said after "in".
    pub(crate) fn from_word(w: &str) -> Option<Self> {
        match w {
            "thousands" => Some(Self::Thousands),
            "millions" => Some(Self::Millions),
            "billions" => Some(Self::Billions),
            _ => None,
        }
    }

    /// The unit's word.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Thousands => "thousands",
            Self::Millions => "millions",
            Self::Billions => "billions",
        }
    }

    /// The divisor, as a decimal literal (the division is never an integer one).
    fn divisor(self) -> &'static str {
        match self {
            Self::Thousands => "1000.0",
            Self::Millions => "1000000.0",
            Self::Billions => "1000000000.0",
        }
    }
}

/// A ratio the query computes: the first number divided by the second.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ratio {
    /// Item `k` divided by item `k + 1`, shown as one column (per row or per group).
    Items(usize),
    /// The query's one value divided by this query's one value.
    Over(Box<Select>),
}

/// A measure as a share of its whole: the rows meeting `part` against all the rows the
/// query's own conditions keep (per group when grouped, of the overall total when the
/// part is the group itself).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Share {
    /// Conditions that pick the part; empty when each group is the part.
    pub part: Vec<Cond>,
    /// In percent (× 100) rather than as a fraction.
    pub percent: bool,
}

impl Select {
    /// `items` over the rows of table `from` that meet `conds`: nothing joined, grouped,
    /// ordered or cut.
    pub(crate) fn plain(from: usize, items: Vec<Expr>, conds: Vec<Cond>) -> Self {
        Self {
            items,
            distinct: false,
            from,
            joins: Vec::new(),
            conds,
            group: Vec::new(),
            having: None,
            having_of: None,
            order: Vec::new(),
            limit: None,
            intersect: None,
            bucket: None,
            share: None,
            ratio: None,
            over_groups: false,
            scale: None,
        }
    }

    /// Whether the query lists rows as they are: no grouping, `HAVING`, series, share or
    /// second query whose rows must also appear.
    pub(crate) fn is_listing(&self) -> bool {
        self.group.is_empty()
            && self.having.is_none()
            && self.bucket.is_none()
            && self.share.is_none()
            && self.ratio.is_none()
            && self.intersect.is_none()
    }

    /// The columns a condition fixes to one value (`col = literal`).
    pub(crate) fn fixed_cols(&self) -> Vec<usize> {
        self.conds
            .iter()
            .filter_map(|c| match c {
                Cond::Cmp(c, "=", _) => Some(*c),
                _ => None,
            })
            .collect()
    }
}

impl Share {
    fn scale(&self) -> &'static str {
        if self.percent { "100.0" } else { "1.0" }
    }
    fn name(&self) -> &'static str {
        if self.percent {
            "percentage"
        } else {
            "fraction"
        }
    }
}

/// The tables a query reads: its first table and every joined one.
pub(crate) fn tables_of(q: &Select, idx: &Index) -> Vec<usize> {
    std::iter::once(q.from)
        .chain(q.joins.iter().map(|(_, c)| idx.cols[*c].table))
        .collect()
}

/// "the average age of dogs that had treatments": an aggregate of the first table's rows
/// filtered through a table they have many rows in counts each row once per related row
/// (a dog with three treatments weighs three times). The related table and what hangs
/// off it move into `key IN (subquery)`, so each row is aggregated once.
pub(crate) fn semi_join_fan_out(q: &mut Select, idx: &Index) {
    let own_aggregate = |e: &Expr| match e {
        Expr::CountStar => true,
        Expr::Agg(a, c, false) => {
            !matches!(a, Agg::Count)
                && idx.cols[*c].table == q.from
                && idx.cols[*c].metric.is_none()
        }
        _ => false,
    };
    if q.items.is_empty()
        || !q.items.iter().all(own_aggregate)
        || !q.group.is_empty()
        || q.having.is_some()
        || q.bucket.is_some()
        || q.share.is_some()
        || q.intersect.is_some()
        || !q.order.is_empty()
    {
        return;
    }
    // The first step from the first table into rows that point at it.
    let Some(at) = q.joins.iter().position(|(old, new)| {
        idx.cols[*old].table == q.from && idx.edges.iter().any(|e| e.from == *new && e.to == *old)
    }) else {
        return;
    };
    let (outer_key, inner_key) = q.joins[at];
    let mut inner_tables = vec![idx.cols[inner_key].table];
    let mut inner_joins = Vec::new();
    let mut outer_joins = Vec::new();
    for (i, &(old, new)) in q.joins.iter().enumerate() {
        if i == at {
            continue;
        }
        if inner_tables.contains(&idx.cols[old].table) {
            inner_tables.push(idx.cols[new].table);
            inner_joins.push((old, new));
        } else {
            outer_joins.push((old, new));
        }
    }
    let mut inner_conds = Vec::new();
    let mut outer_conds = Vec::new();
    for c in &q.conds {
        let tables: Vec<usize> = cond_cols(c).iter().map(|&k| idx.cols[k].table).collect();
        if tables.iter().all(|t| inner_tables.contains(t)) {
            inner_conds.push(c.clone());
        } else if tables.iter().all(|t| !inner_tables.contains(t)) {
            outer_conds.push(c.clone());
        } else {
            return;
        }
    }
    let sub = Select {
        items: vec![Expr::Col(inner_key)],
        from: idx.cols[inner_key].table,
        joins: inner_joins,
        conds: inner_conds,
        ..Select::default()
    };
    outer_conds.push(Cond::In(outer_key, Box::new(sub)));
    q.joins = outer_joins;
    q.conds = outer_conds;
    q.distinct = false;
}

/// Every column a condition reads (a subquery's own columns excluded: it is planned on its own).
pub(crate) fn cond_cols(c: &Cond) -> Vec<usize> {
    match c {
        Cond::Cmp(c, _, _)
        | Cond::Like(c, _, _)
        | Cond::Between(c, _, _)
        | Cond::Relative(c, _)
        | Cond::NotIn(c, _)
        | Cond::In(c, _)
        | Cond::Range(c, _, _)
        | Cond::NotNull(c)
        | Cond::IsNull(c)
        | Cond::CmpAvg(c, _) => vec![*c],
        Cond::Both(cs) | Cond::Or(cs) => cs.iter().flat_map(cond_cols).collect(),
    }
}

/// The tables whose columns the query reads (select list and ordering first, then
/// conditions, grouping and series), in that order, each once.
fn read_tables(q: &Select, idx: &Index) -> Vec<usize> {
    let mut read: Vec<usize> = Vec::new();
    let mut cols: Vec<usize> = Vec::new();
    for e in q.items.iter().chain(q.order.iter().map(|(e, _)| e)) {
        match e {
            Expr::Col(c) | Expr::Agg(_, c, _) => {
                cols.push(*c);
                if idx.cols[*c].metric.is_some() {
                    read.extend(idx.metric_tables(*c));
                }
            }
            Expr::CountStar => {}
        }
    }
    cols.extend(q.group.iter().copied());
    cols.extend(q.conds.iter().flat_map(cond_cols));
    cols.extend(q.bucket.map(|(c, _)| c));
    read.extend(cols.iter().map(|&c| idx.cols[c].table));
    let mut seen = Vec::new();
    read.retain(|t| {
        let first = !seen.contains(t);
        seen.push(*t);
        first
    });
    read
}

/// A listing whose first table nothing reads ("airline names in the USA" planned from
/// `airports` through `flights` to `airlines`) is planned again from the tables it does
/// read, joined along the shortest foreign-key paths: the detour only repeated or dropped
/// rows. Only plain listings (no aggregate, grouping, share or series), only when the new
/// joins are steps the planner took, and never dropping a table the question names.
pub(crate) fn reroot_unread_from(q: &mut Select, idx: &Index, max_hops: u8, named: &[usize]) {
    let plain = q
        .items
        .iter()
        .all(|e| matches!(e, Expr::Col(c) if idx.cols[*c].metric.is_none()));
    if q.joins.is_empty() || !plain || !q.is_listing() {
        return;
    }
    let read = read_tables(q, idx);
    let Some((&root, rest)) = read.split_first() else {
        return;
    };
    if read.contains(&q.from) {
        return;
    }
    let mut tables = std::collections::BTreeSet::from([root]);
    let mut joins = Vec::new();
    for &t in rest {
        let Some(steps) = idx.path(&tables, t, max_hops) else {
            return;
        };
        for (old, new) in steps {
            tables.insert(idx.cols[new].table);
            joins.push((old, new));
        }
    }
    // Only a shortening of the planned joins: every step one the planner took (the same
    // key, not another key between the same tables), and no table dropped that the
    // question names ("airlines that have flights" needs the flights).
    let same_step = |(a, b): (usize, usize)| {
        q.joins
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    };
    let mut before: Vec<usize> = vec![q.from];
    before.extend(q.joins.iter().map(|(_, new)| idx.cols[*new].table));
    let dropped_named = before
        .iter()
        .any(|t| !tables.contains(t) && named.contains(t));
    if !joins.iter().all(|&j| same_step(j)) || dropped_named {
        return;
    }
    q.from = root;
    q.joins = joins;
}

/// Drops joined tables nothing in the query reads any more (last first), so a whole
/// counted without the part's conditions is not narrowed by the part's join.
pub(crate) fn prune_joins(q: &mut Select, idx: &Index) {
    loop {
        let mut read = read_tables(q, idx);
        read.push(q.from);
        let unread = (0..q.joins.len()).rev().find(|&j| {
            let t = idx.cols[q.joins[j].1].table;
            !read.contains(&t)
                && !q.joins[j + 1..]
                    .iter()
                    .any(|(old, _)| idx.cols[*old].table == t)
        });
        match unread {
            Some(j) => {
                q.joins.remove(j);
            }
            None => return,
        }
    }
}

/// Tables whose rows the joins repeat: a table joined through a column that references
/// the table it joins to (a customer's orders, a student's pets through `has_pet`) has
/// several rows for one row before it, and so has every table joined after it.
fn fanned_out(q: &Select, idx: &Index) -> Vec<usize> {
    let mut fanned: Vec<usize> = Vec::new();
    for &(old, new) in &q.joins {
        let (t_old, t_new) = (idx.cols[old].table, idx.cols[new].table);
        let to_many = idx.edges.iter().any(|e| e.from == new && e.to == old);
        if to_many || fanned.contains(&t_old) {
            fanned.push(t_new);
        }
    }
    fanned
}

/// A listing of one side of a join that the other side only filters ("students who have
/// a cat or a dog", "customers who ordered in May") shows each row once: the joined rows
/// that meet the condition would otherwise repeat it once per match. Only plain listings
/// of names, labels and keys: no aggregate, grouping, cut or ordering by anything but what
/// is shown.
pub(crate) fn distinct_over_fan_out(q: &mut Select, idx: &Index) {
    if q.distinct || q.items.is_empty() || !q.is_listing() || q.limit.is_some() {
        return;
    }
    let fanned = fanned_out(q, idx);
    if fanned.is_empty() {
        return;
    }
    // Names, labels and keys: a number (a weight, a price) of two rows may be equal, and
    // is not folded.
    let shown_only = q.items.iter().all(|e| {
        matches!(e, Expr::Col(c) if !fanned.contains(&idx.cols[*c].table)
            && (idx.cols[*c].kind != Kind::Number || idx.cols[*c].pk))
    }) && q.order.iter().all(|(e, _)| q.items.contains(e));
    if shown_only {
        q.distinct = true;
    }
}

/// Words the translator quotes whatever the dialect (keywords and type or function names
/// of one dialect or another), so that its SQL reads the same on every database; the
/// dialect's own rule for bare identifiers ([`Dialect::is_bare_identifier`]) comes first.
const RESERVED: &[&str] = &[
    "all",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "group",
    "having",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "primary",
    "references",
    "right",
    "select",
    "set",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "with",
    "window",
    "match",
    "range",
    "rows",
    "row",
    "rank",
    "div",
    "mod",
    "xor",
    "regexp",
    "glob",
    "year",
    "month",
    "day",
    "time",
    "date",
    "timestamp",
    "current",
    "view",
    "option",
    "analyze",
    "explain",
    "replace",
];

/// An identifier, quoted only when it has to be: when the dialect would not read it as
/// itself unquoted, or it is one of the [`RESERVED`] words.
pub(crate) fn ident(name: &str, dialect: Dialect) -> String {
    if dialect.is_bare_identifier(name) && !RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        name.to_string()
    } else {
        dialect.quote_identifier(name)
    }
}

fn string_lit(s: &str, dialect: Dialect) -> String {
    dialect.string_literal(s)
}

struct R<'a> {
    idx: &'a Index,
    dialect: Dialect,
    aliases: Vec<(usize, String)>,
}

impl R<'_> {
    fn table(&self, t: usize) -> String {
        let tab = &self.idx.tables[t];
        let name = ident(&tab.name, self.dialect);
        match &tab.schema {
            Some(s) if self.dialect.qualifies_tables() => {
                format!("{}.{}", ident(s, self.dialect), name)
            }
            _ => name,
        }
    }
    fn col(&self, c: usize) -> String {
        let col = &self.idx.cols[c];
        if let Some(pieces) = &col.metric {
            // A metric of the semantic model: its expression, columns with the query's
            // aliases.
            return pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.clone(),
                    Piece::Col(k) => self.col(*k),
                })
                .collect();
        }
        let name = ident(&col.name, self.dialect);
        match self.aliases.iter().find(|(t, _)| *t == col.table) {
            Some((_, a)) if self.aliases.len() > 1 => format!("{a}.{name}"),
            _ => name,
        }
    }
    /// A date column cut to a grain, as text that sorts in time order (`2024-05`,
    /// `2024-Q2`).
    /// A date column as the dialect's date functions take it: a date kept as text is cast in
    /// PostgreSQL (SQLite and MySQL read the text as a date themselves).
    fn date_col(&self, c: usize) -> String {
        if self.idx.cols[c].text_date && self.dialect == Dialect::Postgres {
            format!("CAST({} AS TIMESTAMP)", self.col(c))
        } else {
            self.col(c)
        }
    }

    fn bucket(&self, c: usize, g: Grain) -> String {
        let c = self.date_col(c);
        match self.dialect {
            Dialect::Sqlite => match g {
                Grain::Day => format!("date({c})"),
                Grain::Week => format!("strftime('%Y-W%W', {c})"),
                Grain::Month => format!("strftime('%Y-%m', {c})"),
                Grain::Quarter => format!(
                    "strftime('%Y', {c}) || '-Q' || ((CAST(strftime('%m', {c}) AS INTEGER) + 2) / 3)"
                ),
                Grain::Year => format!("strftime('%Y', {c})"),
                Grain::Weekday => format!(
                    "CASE CAST(strftime('%w', {c}) AS INTEGER) WHEN 0 THEN 'Sunday' WHEN 1 THEN \
                     'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday' WHEN 4 THEN \
                     'Thursday' WHEN 5 THEN 'Friday' ELSE 'Saturday' END"
                ),
            },
            Dialect::Postgres => match g {
                Grain::Day => format!("to_char({c}, 'YYYY-MM-DD')"),
                Grain::Week => format!("to_char({c}, 'IYYY-\"W\"IW')"),
                Grain::Month => format!("to_char({c}, 'YYYY-MM')"),
                Grain::Quarter => format!("to_char({c}, 'YYYY-\"Q\"Q')"),
                Grain::Year => format!("to_char({c}, 'YYYY')"),
                Grain::Weekday => format!("to_char({c}, 'FMDay')"),
            },
            Dialect::Mysql => match g {
                Grain::Day => format!("DATE_FORMAT({c}, '%Y-%m-%d')"),
                Grain::Week => format!("DATE_FORMAT({c}, '%x-W%v')"),
                Grain::Month => format!("DATE_FORMAT({c}, '%Y-%m')"),
                Grain::Quarter => format!("CONCAT(YEAR({c}), '-Q', QUARTER({c}))"),
                Grain::Year => format!("DATE_FORMAT({c}, '%Y')"),
                Grain::Weekday => format!("DAYNAME({c})"),
            },
        }
    }

    /// What orders a series of `g` in time: the bucket itself, but for weekdays (whose
    /// names sort alphabetically) the first day number of each, Monday first.
    fn bucket_order(&self, c: usize, g: Grain, bucket: &str) -> String {
        if g != Grain::Weekday {
            return bucket.to_owned();
        }
        let c = self.date_col(c);
        match self.dialect {
            Dialect::Sqlite => format!("MIN((CAST(strftime('%w', {c}) AS INTEGER) + 6) % 7)"),
            Dialect::Postgres => format!("MIN(EXTRACT(ISODOW FROM {c}))"),
            Dialect::Mysql => format!("MIN(WEEKDAY({c}))"),
        }
    }

    /// A grouped share: each group's measure over the whole (`part` empty), or the part's
    /// measure over each group's (`CASE` inside the aggregate).
    fn share_expr(&self, e: &Expr, sh: &Share, q: &Select) -> String {
        let scale = sh.scale();
        if sh.part.is_empty() {
            let mut whole = Select {
                items: vec![e.clone()],
                from: q.from,
                joins: q.joins.clone(),
                conds: q.conds.clone(),
                ..Select::default()
            };
            prune_joins(&mut whole, self.idx);
            return format!(
                "{scale} * {} / NULLIF(({}), 0)",
                self.expr(e),
                render(&whole, self.idx, self.dialect)
            );
        }
        let part: Vec<String> = sh.part.iter().map(|c| self.cond(c)).collect();
        let when = part.join(" AND ");
        let (then, all) = match e {
            Expr::Agg(Agg::Sum, c, false) => (self.col(*c), format!("SUM({})", self.col(*c))),
            _ => ("1".to_owned(), "COUNT(*)".to_owned()),
        };
        format!("{scale} * SUM(CASE WHEN {when} THEN {then} ELSE 0 END) / NULLIF({all}, 0)")
    }

    fn expr(&self, e: &Expr) -> String {
        match e {
            Expr::Col(c) => self.col(*c),
            Expr::CountStar => "COUNT(*)".to_string(),
            // A metric is an aggregate already.
            Expr::Agg(_, c, _) if self.idx.cols[*c].metric.is_some() => self.col(*c),
            Expr::Agg(a, c, d) => {
                // Numbers kept as text (`age varchar`) are cast where the database would not
                // add them up itself (PostgreSQL).
                let col = if matches!(a, Agg::Avg | Agg::Sum)
                    && self.idx.cols[*c].kind == Kind::Text
                    && self.dialect == Dialect::Postgres
                {
                    format!("CAST({} AS NUMERIC)", self.col(*c))
                } else {
                    self.col(*c)
                };
                format!("{}({}{col})", a.sql(), if *d { "DISTINCT " } else { "" })
            }
        }
    }
    fn lit(&self, l: &Lit) -> String {
        match l {
            Lit::Str(s) => string_lit(s, self.dialect),
            Lit::Num(n) => n.clone(),
        }
    }
    fn rel(&self, c: &str, r: Rel) -> String {
        let (lo, hi): (String, Option<String>) = match self.dialect {
            Dialect::Sqlite => {
                let d = |m: &str| format!("date('now'{m})");
                match r {
                    Rel::Today => (d(""), Some(d(", '+1 day'"))),
                    Rel::Yesterday => (d(", '-1 day'"), Some(d(""))),
                    Rel::ThisWeek => (d(", 'weekday 0', '-6 days'"), None),
                    Rel::LastWeek => (
                        d(", 'weekday 0', '-13 days'"),
                        Some(d(", 'weekday 0', '-6 days'")),
                    ),
                    Rel::ThisMonth => (
                        d(", 'start of month'"),
                        Some(d(", 'start of month', '+1 month'")),
                    ),
                    Rel::LastMonth => (
                        d(", 'start of month', '-1 month'"),
                        Some(d(", 'start of month'")),
                    ),
                    // The quarter's first day: this month's, back (month - 1) % 3 months.
                    Rel::ThisQuarter | Rel::LastQuarter => {
                        let start = "date('now', 'start of month', '-' || \
                             ((CAST(strftime('%m', 'now') AS INTEGER) - 1) % 3) || ' months')";
                        if r == Rel::ThisQuarter {
                            (start.into(), Some(format!("date({start}, '+3 months')")))
                        } else {
                            (format!("date({start}, '-3 months')"), Some(start.into()))
                        }
                    }
                    Rel::ThisYear => (
                        d(", 'start of year'"),
                        Some(d(", 'start of year', '+1 year'")),
                    ),
                    Rel::LastYear => (
                        d(", 'start of year', '-1 year'"),
                        Some(d(", 'start of year'")),
                    ),
                    Rel::LastDays(n) => (d(&format!(", '-{n} days'")), None),
                    Rel::LastMonths(n) => (d(&format!(", '-{n} months'")), None),
                }
            }
            Dialect::Postgres => {
                let t = |u: &str| format!("date_trunc('{u}', CURRENT_DATE)");
                match r {
                    Rel::Today => (
                        "CURRENT_DATE".into(),
                        Some("CURRENT_DATE + INTERVAL '1 day'".into()),
                    ),
                    Rel::Yesterday => (
                        "CURRENT_DATE - INTERVAL '1 day'".into(),
                        Some("CURRENT_DATE".into()),
                    ),
                    Rel::ThisWeek => (
                        t("week"),
                        Some(format!("{} + INTERVAL '1 week'", t("week"))),
                    ),
                    Rel::LastWeek => (
                        format!("{} - INTERVAL '1 week'", t("week")),
                        Some(t("week")),
                    ),
                    Rel::ThisMonth => (
                        t("month"),
                        Some(format!("{} + INTERVAL '1 month'", t("month"))),
                    ),
                    Rel::LastMonth => (
                        format!("{} - INTERVAL '1 month'", t("month")),
                        Some(t("month")),
                    ),
                    Rel::ThisQuarter => (
                        t("quarter"),
                        Some(format!("{} + INTERVAL '3 months'", t("quarter"))),
                    ),
                    Rel::LastQuarter => (
                        format!("{} - INTERVAL '3 months'", t("quarter")),
                        Some(t("quarter")),
                    ),
                    Rel::ThisYear => (
                        t("year"),
                        Some(format!("{} + INTERVAL '1 year'", t("year"))),
                    ),
                    Rel::LastYear => (
                        format!("{} - INTERVAL '1 year'", t("year")),
                        Some(t("year")),
                    ),
                    Rel::LastDays(n) => (format!("CURRENT_DATE - INTERVAL '{n} days'"), None),
                    Rel::LastMonths(n) => (format!("CURRENT_DATE - INTERVAL '{n} months'"), None),
                }
            }
            Dialect::Mysql => {
                let month = "DATE_FORMAT(CURRENT_DATE, '%Y-%m-01')".to_string();
                let year = "MAKEDATE(YEAR(CURRENT_DATE), 1)".to_string();
                let week = "(CURRENT_DATE - INTERVAL WEEKDAY(CURRENT_DATE) DAY)".to_string();
                match r {
                    Rel::Today => (
                        "CURRENT_DATE".into(),
                        Some("CURRENT_DATE + INTERVAL 1 DAY".into()),
                    ),
                    Rel::Yesterday => (
                        "CURRENT_DATE - INTERVAL 1 DAY".into(),
                        Some("CURRENT_DATE".into()),
                    ),
                    Rel::ThisWeek => (week.clone(), Some(format!("{week} + INTERVAL 1 WEEK"))),
                    Rel::LastWeek => (format!("{week} - INTERVAL 1 WEEK"), Some(week)),
                    Rel::ThisMonth => (month.clone(), Some(format!("{month} + INTERVAL 1 MONTH"))),
                    Rel::LastMonth => (format!("{month} - INTERVAL 1 MONTH"), Some(month)),
                    Rel::ThisQuarter | Rel::LastQuarter => {
                        let start =
                            format!("({year} + INTERVAL (QUARTER(CURRENT_DATE) - 1) QUARTER)");
                        if r == Rel::ThisQuarter {
                            (start.clone(), Some(format!("{start} + INTERVAL 1 QUARTER")))
                        } else {
                            (format!("{start} - INTERVAL 1 QUARTER"), Some(start))
                        }
                    }
                    Rel::ThisYear => (year.clone(), Some(format!("{year} + INTERVAL 1 YEAR"))),
                    Rel::LastYear => (format!("{year} - INTERVAL 1 YEAR"), Some(year)),
                    Rel::LastDays(n) => (format!("CURRENT_DATE - INTERVAL {n} DAY"), None),
                    Rel::LastMonths(n) => (format!("CURRENT_DATE - INTERVAL {n} MONTH"), None),
                }
            }
        };
        match hi {
            Some(h) => format!("{c} >= {lo} AND {c} < {h}"),
            None => format!("{c} >= {lo}"),
        }
    }
    fn cond(&self, c: &Cond) -> String {
        match c {
            Cond::Cmp(col, op, l) => format!("{} {op} {}", self.col(*col), self.lit(l)),
            Cond::Like(col, s, neg) => format!(
                "{} {}LIKE {}",
                self.col(*col),
                if *neg { "NOT " } else { "" },
                string_lit(&format!("%{s}%"), self.dialect)
            ),
            Cond::Between(col, a, b) => {
                format!(
                    "{} BETWEEN {} AND {}",
                    self.col(*col),
                    self.lit(a),
                    self.lit(b)
                )
            }
            Cond::Range(col, a, b) => {
                let c = self.col(*col);
                format!("{c} >= {} AND {c} < {}", self.lit(a), self.lit(b))
            }
            // A reference that points nowhere (`author.oid` NULL) is in no row of the
            // other table either: "authors not part of any organization" keeps them.
            // (Only against all the other table's rows: "movies not directed by a French
            // director" presupposes a director.)
            Cond::NotIn(col, sub)
                if self.idx.references(*col)
                    && sub.conds.iter().all(|c| matches!(c, Cond::NotNull(_))) =>
            {
                format!(
                    "({c} IS NULL OR {c} NOT IN ({}))",
                    render(sub, self.idx, self.dialect),
                    c = self.col(*col)
                )
            }
            Cond::NotIn(col, sub) => format!(
                "{} NOT IN ({})",
                self.col(*col),
                render(sub, self.idx, self.dialect)
            ),
            Cond::In(col, sub) => format!(
                "{} IN ({})",
                self.col(*col),
                render(sub, self.idx, self.dialect)
            ),
            Cond::NotNull(col) => format!("{} IS NOT NULL", self.col(*col)),
            Cond::IsNull(col) => format!("{} IS NULL", self.col(*col)),
            Cond::CmpAvg(col, op) => {
                let c = &self.idx.cols[*col];
                format!(
                    "{} {op} (SELECT AVG({}) FROM {})",
                    self.col(*col),
                    ident(&c.name, self.dialect),
                    self.table(c.table)
                )
            }
            Cond::Both(cs) => {
                let parts: Vec<String> = cs.iter().map(|c| self.cond(c)).collect();
                parts.join(" AND ")
            }
            Cond::Relative(col, r) => self.rel(&self.date_col(*col), *r),
            Cond::Or(cs) => {
                let parts: Vec<String> = cs
                    .iter()
                    .map(|c| {
                        let t = self.cond(c);
                        if t.contains(" AND ") && !t.starts_with('(') {
                            format!("({t})")
                        } else {
                            t
                        }
                    })
                    .collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }
}

/// Whether an output expression is a measure (an aggregate or a metric) rather than a
/// column shown as it is.
pub(crate) fn is_measure(e: &Expr, idx: &Index) -> bool {
    match e {
        Expr::Col(c) => idx.cols[*c].metric.is_some(),
        Expr::CountStar | Expr::Agg(..) => true,
    }
}

/// [`Select::over_groups`]: each group's measure in a query of its own (nothing else
/// shown), averaged.
fn render_over_groups(q: &Select, idx: &Index, dialect: Dialect) -> Option<String> {
    let e = q.items.iter().find(|e| is_measure(e, idx))?;
    let name = over_groups_name(q, idx)?;
    let mut per = q.clone();
    per.over_groups = false;
    per.items = vec![e.clone()];
    per.order.clear();
    per.limit = None;
    Some(format!(
        "SELECT AVG({}) AS {} FROM ({}) AS per_group",
        ident(&name, dialect),
        ident(&format!("avg_{name}"), dialect),
        render(&per, idx, dialect)
    ))
}

/// The name the one measure of an average over groups is given in its inner query (the
/// outer query averages that column): `None` when it has none of its own, or one the
/// series' bucket takes — such a query is not averaged over its groups.
pub(crate) fn over_groups_name(q: &Select, idx: &Index) -> Option<String> {
    let e = q.items.iter().find(|e| is_measure(e, idx))?;
    output_name(e, q.from, idx).filter(|n| q.bucket.is_none_or(|(_, g)| g.name() != n))
}

/// Renders the query in `dialect`.
/// An output column said in a larger unit: "the population in millions" is
/// `population / 1000000.0 AS population_millions`.
fn scaled(
    sql: String,
    name: Option<String>,
    e: &Expr,
    unit: Scale,
    idx: &Index,
) -> (String, Option<String>) {
    let base = name.or_else(|| match e {
        Expr::Col(c) => Some(idx.cols[*c].name.to_lowercase()),
        _ => None,
    });
    (
        format!("{sql} / {}", unit.divisor()),
        base.map(|b| format!("{b}_{}", unit.word())),
    )
}

pub(crate) fn render(q: &Select, idx: &Index, dialect: Dialect) -> String {
    if q.over_groups
        && let Some(s) = render_over_groups(q, idx, dialect)
    {
        return s;
    }
    let mut aliases = vec![(q.from, "T1".to_string())];
    for (i, (_, new)) in q.joins.iter().enumerate() {
        aliases.push((idx.cols[*new].table, format!("T{}", i + 2)));
    }
    if let Some(Ratio::Over(below)) = &q.ratio {
        let mut above = q.clone();
        above.ratio = None;
        return format!(
            "SELECT 1.0 * ({}) / NULLIF(({}), 0) AS ratio",
            render(&above, idx, dialect),
            render(below, idx, dialect)
        );
    }
    if let Some(sh) = &q.share
        && q.group.is_empty()
        && q.bucket.is_none()
    {
        // One share: the part's measure over the whole's, each a query of its own.
        let mut part = q.clone();
        part.share = None;
        part.conds.extend(sh.part.iter().cloned());
        let mut whole = q.clone();
        whole.share = None;
        prune_joins(&mut whole, idx);
        return format!(
            "SELECT {} * ({}) / NULLIF(({}), 0) AS {}",
            sh.scale(),
            render(&part, idx, dialect),
            render(&whole, idx, dialect),
            sh.name()
        );
    }
    let r = R {
        idx,
        dialect,
        aliases,
    };
    let multi = !q.joins.is_empty();
    let mut s = String::from("SELECT ");
    if q.distinct {
        s.push_str("DISTINCT ");
    }
    let bucket = q.bucket.map(|(c, g)| (r.bucket(c, g), g));
    let mut items: Vec<String> = Vec::new();
    if let Some((b, g)) = &bucket {
        items.push(format!("{b} AS {}", ident(g.name(), dialect)));
    }
    // Computed columns get a readable name (`customer_count`, `avg_salary`, a metric's own
    // name); a name that another output column already has is left to the database.
    let mut names: Vec<String> = q
        .items
        .iter()
        .filter_map(|e| match e {
            Expr::Col(c) if idx.cols[*c].metric.is_none() => Some(idx.cols[*c].name.to_lowercase()),
            _ => None,
        })
        .collect();
    names.extend(bucket.iter().map(|(_, g)| g.name().to_owned()));
    let divided = match q.ratio {
        Some(Ratio::Items(k)) => Some(k),
        _ => None,
    };
    for (k, e) in q.items.iter().enumerate() {
        if divided.is_some_and(|d| k == d + 1) {
            continue;
        }
        if divided == Some(k)
            && let Some(below) = q.items.get(k + 1)
        {
            items.push(format!(
                "1.0 * {} / NULLIF({}, 0) AS ratio",
                r.expr(e),
                r.expr(below)
            ));
            continue;
        }
        let shared = q.share.as_ref().filter(|_| is_measure(e, idx));
        let sql = match shared {
            Some(sh) => r.share_expr(e, sh, q),
            None => r.expr(e),
        };
        let name = match shared {
            Some(sh) => Some(sh.name().to_owned()),
            None => output_name(e, q.from, idx),
        };
        let (sql, name) = match q.scale {
            Some((i, unit)) if i == k => scaled(sql, name, e, unit, idx),
            _ => (sql, name),
        };
        match name.filter(|n| !names.contains(n)) {
            Some(name) => {
                items.push(format!("{sql} AS {}", ident(&name, dialect)));
                names.push(name);
            }
            None => items.push(sql),
        }
    }
    s.push_str(&items.join(", "));
    let _ = write!(s, " FROM {}", r.table(q.from));
    if multi {
        s.push_str(" AS T1");
    }
    for (i, (old, new)) in q.joins.iter().enumerate() {
        let _ = write!(
            s,
            " JOIN {} AS T{} ON {} = {}",
            r.table(idx.cols[*new].table),
            i + 2,
            r.col(*old),
            r.col(*new)
        );
    }
    if !q.conds.is_empty() {
        let parts: Vec<String> = q.conds.iter().map(|c| r.cond(c)).collect();
        let _ = write!(s, " WHERE {}", parts.join(" AND "));
    }
    if !q.group.is_empty() || bucket.is_some() {
        let mut parts: Vec<String> = bucket.iter().map(|(b, _)| b.clone()).collect();
        parts.extend(q.group.iter().map(|c| r.col(*c)));
        let _ = write!(s, " GROUP BY {}", parts.join(", "));
    }
    if let Some((op, n)) = &q.having {
        let of = q
            .having_of
            .as_ref()
            .map_or("COUNT(*)".to_owned(), |e| r.expr(e));
        let _ = write!(s, " HAVING {of} {op} {n}");
    }
    if !q.order.is_empty() {
        let parts: Vec<String> = q
            .order
            .iter()
            .map(|(e, d)| format!("{}{}", r.expr(e), if *d { " DESC" } else { "" }))
            .collect();
        let _ = write!(s, " ORDER BY {}", parts.join(", "));
    } else if let (Some((b, g)), Some((c, _))) = (&bucket, q.bucket) {
        let _ = write!(s, " ORDER BY {}", r.bucket_order(c, *g, b));
    }
    if let Some(l) = q.limit {
        let _ = write!(s, " LIMIT {l}");
    }
    if let Some(other) = &q.intersect {
        let _ = write!(s, " INTERSECT {}", render(other, idx, dialect));
    }
    s
}

/// The readable output name of a computed select item: `<table>_count` for `COUNT(*)`
/// (the singular of the counted table, the query's first), `<column>_count` for a count of distinct values,
/// `total_<column>`, `avg_<column>`, `min_<column>`, `max_<column>`, and a metric's own
/// name; `None` for a plain column, which keeps its name.
fn output_name(e: &Expr, counted: usize, idx: &Index) -> Option<String> {
    let snake = |name: &str| {
        let mut ws = identifier_words(name);
        if let Some(last) = ws.last_mut() {
            *last = singular(last);
        }
        ws.join("_")
    };
    let column = |c: usize| identifier_words(&idx.cols[c].name).join("_");
    let name = match e {
        Expr::Col(c) | Expr::Agg(_, c, _) if idx.cols[*c].metric.is_some() => column(*c),
        Expr::Col(_) => return None,
        Expr::CountStar => format!("{}_count", snake(&idx.tables[counted].name)),
        // Distinct keys of a table count its rows: `customer_count`, not `id_count`.
        Expr::Agg(Agg::Count, c, _) if idx.cols[*c].pk => {
            format!("{}_count", snake(&idx.tables[idx.cols[*c].table].name))
        }
        Expr::Agg(Agg::Count, c, _) => format!("{}_count", snake(&idx.cols[*c].name)),
        Expr::Agg(Agg::Sum, c, _) if column(*c).starts_with("total") => column(*c),
        Expr::Agg(a, c, _) => {
            let prefix = match a {
                Agg::Sum => "total",
                Agg::Avg => "avg",
                Agg::Min => "min",
                Agg::Max => "max",
                Agg::Count => "count",
            };
            format!("{prefix}_{}", column(*c))
        }
    };
    (!name.is_empty() && name != "_count").then_some(name)
}

fn lit_words(l: &Lit) -> String {
    match l {
        Lit::Str(s) => format!("'{s}'"),
        Lit::Num(n) => n.clone(),
    }
}

fn op_words(op: &str) -> &'static str {
    match op {
        "=" => "is",
        "!=" => "is not",
        ">" => "is greater than",
        ">=" => "is at least",
        "<" => "is less than",
        "<=" => "is at most",
        _ => "compares to",
    }
}

fn rel_words(r: Rel) -> String {
    match r {
        Rel::Today => "today".into(),
        Rel::Yesterday => "yesterday".into(),
        Rel::ThisWeek => "this week".into(),
        Rel::LastWeek => "last week".into(),
        Rel::ThisMonth => "this month".into(),
        Rel::LastMonth => "last month".into(),
        Rel::ThisQuarter => "this quarter".into(),
        Rel::LastQuarter => "last quarter".into(),
        Rel::ThisYear => "this year".into(),
        Rel::LastYear => "last year".into(),
        Rel::LastDays(n) => format!("in the last {n} days"),
        Rel::LastMonths(n) => format!("in the last {n} months"),
    }
}

fn cond_words(c: &Cond, idx: &Index) -> String {
    match c {
        Cond::Cmp(col, op, l) => {
            format!("{} {} {}", idx.col_words(*col), op_words(op), lit_words(l))
        }
        Cond::Like(col, s, neg) => format!(
            "{} {} '{s}'",
            idx.col_words(*col),
            if *neg { "does not contain" } else { "contains" }
        ),
        Cond::Between(col, a, b) => format!(
            "{} is between {} and {}",
            idx.col_words(*col),
            lit_words(a),
            lit_words(b)
        ),
        Cond::Range(col, a, b) => format!(
            "{} is from {} up to (not including) {}",
            idx.col_words(*col),
            lit_words(a),
            lit_words(b)
        ),
        Cond::NotIn(col, sub) | Cond::In(col, sub) => {
            let mut w = format!(
                "the {} {} in {}",
                idx.col_words(*col),
                if matches!(c, Cond::In(..)) {
                    "appears"
                } else {
                    "does not appear"
                },
                idx.table_words(sub.from)
            );
            let inner: Vec<String> = sub
                .conds
                .iter()
                .filter(|c| !matches!(c, Cond::NotNull(_)))
                .map(|c| cond_words(c, idx))
                .collect();
            if !inner.is_empty() {
                let _ = write!(w, " with {}", inner.join(" and "));
            }
            w
        }
        Cond::NotNull(col) => format!("{} is set", idx.col_words(*col)),
        Cond::IsNull(col) => format!("{} is not set", idx.col_words(*col)),
        Cond::CmpAvg(col, op) => format!("{} {} its average", idx.col_words(*col), op_words(op)),
        Cond::Both(cs) => cs
            .iter()
            .map(|c| cond_words(c, idx))
            .collect::<Vec<_>>()
            .join(" and also "),
        Cond::Relative(col, r) => format!("{} falls {}", idx.col_words(*col), rel_words(*r)),
        Cond::Or(cs) => cs
            .iter()
            .map(|c| cond_words(c, idx))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn expr_words(e: &Expr, idx: &Index) -> String {
    match e {
        Expr::Col(c) => idx.col_words(*c),
        Expr::Agg(_, c, _) if idx.cols[*c].metric.is_some() => idx.col_words(*c),
        Expr::CountStar => "the number of rows".into(),
        Expr::Agg(Agg::Count, c, _) => format!("the number of distinct {}", idx.col_words(*c)),
        Expr::Agg(a, c, d) => format!(
            "the {}{} {}",
            a.words(),
            if *d { " distinct" } else { "" },
            idx.col_words(*c)
        ),
    }
}

/// A plain-English description of what the query does.
pub(crate) fn explain(q: &Select, idx: &Index) -> String {
    if q.over_groups {
        let mut per = q.clone();
        per.over_groups = false;
        return format!(
            "Averages over the groups what this computes for each: {}",
            explain(&per, idx)
        );
    }
    if let Some(Ratio::Over(below)) = &q.ratio {
        let mut above = q.clone();
        above.ratio = None;
        return format!(
            "Divides one number by another: {} — divided by: {}",
            explain(&above, idx),
            explain(below, idx)
        );
    }
    let mut tables = vec![idx.table_words(q.from)];
    for (_, new) in &q.joins {
        tables.push(idx.table_words(idx.cols[*new].table));
    }
    let source = if tables.len() == 1 {
        tables[0].clone()
    } else {
        format!("{} joined with {}", tables[0], tables[1..].join(" and "))
    };
    let mut s = if q.items == [Expr::CountStar] && q.group.is_empty() {
        format!("Counts the rows of {source}")
    } else {
        let mut items: Vec<String> = q.items.iter().map(|e| expr_words(e, idx)).collect();
        if let Some((k, unit)) = q.scale
            && let Some(item) = items.get_mut(k)
        {
            item.push_str(&format!(" in {}", unit.word()));
        }
        if let Some(Ratio::Items(k)) = q.ratio
            && k + 1 < items.len()
        {
            let below = items.remove(k + 1);
            items[k] = format!("the ratio of {} to {below}", items[k]);
        }
        format!(
            "Lists {}{} of {source}",
            if q.distinct { "the distinct " } else { "" },
            items.join(", ")
        )
    };
    if !q.conds.is_empty() {
        let parts: Vec<String> = q.conds.iter().map(|c| cond_words(c, idx)).collect();
        let _ = write!(s, " where {}", parts.join(" and "));
    }
    if let Some((c, g)) = q.bucket {
        let _ = write!(s, ", per {} of {}", g.name(), idx.col_words(c));
    }
    if !q.group.is_empty() {
        let parts: Vec<String> = q.group.iter().map(|c| idx.col_words(*c)).collect();
        let _ = write!(s, ", grouped by {}", parts.join(", "));
    }
    if let Some((op, n)) = &q.having {
        let of = q
            .having_of
            .as_ref()
            .map_or("row count".to_owned(), |e| expr_words(e, idx));
        let _ = write!(s, ", keeping groups whose {of} {} {n}", op_words(op));
    }
    if !q.order.is_empty() {
        let parts: Vec<String> = q
            .order
            .iter()
            .map(|(e, d)| {
                format!(
                    "{} ({})",
                    expr_words(e, idx),
                    if *d { "highest first" } else { "lowest first" }
                )
            })
            .collect();
        let _ = write!(s, ", sorted by {}", parts.join(", "));
    }
    if let Some(l) = q.limit {
        if l == 1 {
            s.push_str(", keeping only the first row");
        } else {
            let _ = write!(s, ", keeping the first {l} rows");
        }
    }
    if let Some(sh) = &q.share {
        let of = if sh.part.is_empty() {
            "each group's share of the total".to_owned()
        } else {
            let parts: Vec<String> = sh.part.iter().map(|c| cond_words(c, idx)).collect();
            format!("the share of it where {}", parts.join(" and "))
        };
        let _ = write!(
            s,
            ", as {of}{}",
            if sh.percent {
                ", in percent"
            } else {
                ", as a fraction"
            }
        );
    }
    if let Some(other) = &q.intersect {
        let inner = explain(other, idx);
        let _ = write!(
            s,
            ", keeping only rows also found by: {}",
            inner.trim_end_matches('.').to_lowercase()
        );
    }
    s.push('.');
    s
}
