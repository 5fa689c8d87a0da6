//! From a tokenised question to a [`Select`]: link words to tables, columns and values,
//! read the cues (counts, aggregates, grouping, ordering, superlatives, comparisons,
//! negation, time ranges), pick the main table and connect everything along foreign keys.

use std::collections::BTreeSet;

use crate::TranslatorOptions;
use crate::index::{Index, Kind};
use crate::lexicon::KEY_WORDS;
use crate::sql::{Agg, Cond, Expr, Lit, Rel, Select, cond_cols};
use crate::text::{Tok, capitalised_inside, fmt_num, is_stopword, stem, word_matches};
use crate::time::TimeFrame;

/// What a span of the question was linked to.
#[derive(Clone, Debug, PartialEq)]
enum MK {
    /// Tables and/or columns whose names match.
    Ent {
        tables: Vec<usize>,
        cols: Vec<usize>,
        partial: bool,
    },
    /// A sampled value of one of these columns (`text`), or a phrase the semantic model
    /// maps to a stored value (`mapped`: the value per column, which wins over `text`).
    Value {
        cols: Vec<usize>,
        text: String,
        mapped: Vec<(usize, String)>,
    },
    /// A quoted or capitalised literal not found among the samples.
    Literal(String),
    /// A number.
    Number(f64, String),
}

#[derive(Clone, Debug)]
struct Ment {
    s: usize,
    e: usize,
    kind: MK,
}

/// A select-list entry before columns are resolved to one table.
#[derive(Clone, Debug)]
enum Item {
    Col(usize),
    Agg(Agg, usize, bool),
    CountStar,
    CountDistinct(usize),
    /// One of these columns, resolved for mention `.1`.
    Cands(Vec<usize>, usize),
}

const SUP_DESC: &[&str] = &[
    "highest",
    "largest",
    "biggest",
    "greatest",
    "most",
    "maximum",
    "max",
    "longest",
    "heaviest",
    "tallest",
    "latest",
    "newest",
    "oldest",
    "top",
    "richest",
    "wealthiest",
    "hottest",
    "warmest",
    "busiest",
    "best",
    "last",
    "priciest",
    "costliest",
];
const SUP_ASC: &[&str] = &[
    "lowest", "smallest", "least", "fewest", "minimum", "min", "shortest", "lightest", "youngest",
    "earliest", "worst", "cheapest", "poorest", "coldest", "quietest",
];
/// Whether a superlative picks rows by a value of theirs ("the oldest", "the cheapest"),
/// rather than counting ("most", "fewest"), cutting ("top") or naming an aggregate
/// ("maximum").
pub(crate) fn ranks_by_value(w: &str) -> bool {
    (SUP_DESC.contains(&w) || SUP_ASC.contains(&w))
        && !matches!(
            w,
            "most"
                | "maximum"
                | "max"
                | "top"
                | "best"
                | "last"
                | "least"
                | "fewest"
                | "minimum"
                | "min"
                | "worst"
        )
}

const DESC_WORDS: &[&str] = &[
    "descending",
    "decreasing",
    "desc",
    "reverse",
    "reversed",
    "descend",
];

struct P<'a> {
    toks: Vec<Tok>,
    idx: &'a Index,
    opts: &'a TranslatorOptions,
    ms: Vec<Ment>,
    used: Vec<bool>,
    /// An open negated clause: (negation position, index of its NOT IN, tables inside).
    neg: Option<(usize, usize, BTreeSet<usize>)>,
    /// Calendar window and series grain said in words, taken out of `toks`.
    time: TimeFrame,
    /// Mentions a rule carried out without a column of their own in the query: a key said
    /// to be set or not ("without a manager"), the verb of a value's column ("shipped to").
    placed_by_rule: Vec<usize>,
}

/// Plans the query for a question, and which tokens name something (a table, column,
/// value, literal or number); `Err` carries what was understood.
pub(crate) fn plan(
    toks: Vec<Tok>,
    time: TimeFrame,
    idx: &Index,
    opts: &TranslatorOptions,
) -> Result<Planned, String> {
    let mut toks = toks;
    ordinals_of_time(&mut toks, idx);
    single_as_one(&mut toks);
    let mut ms = find_mentions(&toks, idx);
    let roles = roles_as_rows(&mut ms, &toks, idx);
    let used = vec![false; ms.len()];
    let mut p = P {
        toks,
        idx,
        opts,
        ms,
        used,
        neg: None,
        time,
        placed_by_rule: Vec::new(),
    };
    let mut q = p.run()?;
    only_rows_in_their_role(&mut q, &roles, idx);
    let mut covered = vec![false; p.toks.len()];
    for m in &p.ms {
        for c in covered.iter_mut().take(m.e).skip(m.s) {
            *c = true;
        }
    }
    let (tables, cols) = query_refs(&q, idx);
    // "earn more than the average salary": the metric `average salary` is carried out as
    // the comparison with the column's average.
    let compared_to_average: Vec<usize> = q
        .conds
        .iter()
        .filter_map(|c| match c {
            Cond::CmpAvg(c, _) => Some(*c),
            _ => None,
        })
        .collect();
    let averaged_metric = |c: &usize| {
        idx.cols[*c].metric.as_ref().is_some_and(|pieces| {
            pieces.iter().any(
                |p| matches!(p, crate::index::Piece::Col(x) if compared_to_average.contains(x)),
            )
        })
    };
    let mut unplaced: Vec<String> = Vec::new();
    for (k, m) in p.ms.iter().enumerate() {
        let placed = p.placed_by_rule.contains(&k)
            || match &m.kind {
                MK::Ent {
                    tables: mt,
                    cols: mc,
                    partial: false,
                } => {
                    mt.iter().any(|t| tables.contains(t))
                        || mc.iter().any(|c| cols.contains(c) || averaged_metric(c))
                }
                MK::Value {
                    cols: mc, mapped, ..
                } => {
                    mc.iter().any(|c| cols.contains(c))
                        || mapped.iter().any(|(c, _)| cols.contains(c))
                }
                _ => true,
            };
        // Generic and cue words ("name", "number", "average") name columns in passing.
        let telling = p.toks[m.s..m.e].iter().any(|t| {
            !is_generic(&t.stem)
                && !crate::lexicon::CUE_WORDS.contains(&t.low.as_str())
                && !crate::lexicon::CUE_WORDS.contains(&t.stem.as_str())
                && !is_stopword(&t.low)
        });
        // "How many sales did each salesperson make?": the verb closing a question after
        // "do/does/did" is no column (`cars.make`).
        let closing_verb = m.e == m.s + 1
            && matches!(&m.kind, MK::Ent { tables, .. } if tables.is_empty())
            && p.toks[m.s].stop
            && (m.s.saturating_sub(6)..m.s)
                .any(|j| matches!(p.toks[j].low.as_str(), "do" | "does" | "did"))
            && crate::lexicon::lexicon().lemma(&p.toks[m.s].low).is_some();
        if !placed && telling && !closing_verb {
            let words: Vec<&str> = p.toks[m.s..m.e].iter().map(|t| t.text.as_str()).collect();
            unplaced.push(words.join(" "));
        }
    }
    // "… by department", "… per country", "for each stadium": a breakdown the query must
    // show (checked once metrics have their grouping).
    let mut breakdown = None;
    let mut breakdown_table = None;
    // ("units sold by product": after a verb, "by" and the bare noun of a table ending the
    // clause is a breakdown too when something is computed — a product sells nothing;
    // "sold by the clerk" is who did it, and "tracks recorded by artists" lists tracks.)
    let computed = q.items.iter().any(|e| p.computed(e));
    for (i, t) in p.toks.iter().enumerate() {
        let prev = if i > 0 {
            p.toks[i - 1].low.as_str()
        } else {
            ""
        };
        let bare_table_next = computed
            && p.ms.iter().any(|m| {
                // (It ends the clause: "surface area covered by countries in Asia" is
                // whose, read as a filter.)
                let last = &p.toks[m.e - 1];
                m.s == i + 1
                    && (m.e == p.toks.len() || last.stop || last.comma)
                    && matches!(&m.kind, MK::Ent { tables, cols, partial: false, .. }
                        if !tables.is_empty() && cols.is_empty())
            });
        // ("How many hotels opened each year?" with an `opened_yr`: a period word left to
        // the planner is a breakdown too, whatever it names.)
        if matches!(t.low.as_str(), "per" | "each" | "every")
            && let Some(g) = p.toks.get(i + 1).filter(|g| {
                !g.quoted
                    && matches!(
                        g.low.as_str(),
                        "day" | "week" | "month" | "quarter" | "year" | "weekday"
                    )
            })
        {
            breakdown = Some(format!("{} {}", t.text, g.text));
            break;
        }
        let cue = match t.low.as_str() {
            "per" | "each" | "every" => true,
            "by" => {
                (!crate::lexicon::lexicon().is_verb(prev) || bare_table_next)
                    && !matches!(prev, "sort" | "order" | "rank" | "group")
            }
            _ => false,
        };
        if let Some(m) = p.ms.iter().find(|m| {
            cue && m.s > i && m.s <= i + 2 && matches!(m.kind, MK::Ent { partial: false, .. })
        }) {
            let words: Vec<&str> = p.toks[m.s..m.e].iter().map(|t| t.text.as_str()).collect();
            breakdown = Some(format!("{} {}", t.text, words.join(" ")));
            if let MK::Ent { tables, cols, .. } = &m.kind
                && cols.is_empty()
                && let [t] = tables.as_slice()
            {
                breakdown_table = Some(*t);
            }
            break;
        }
    }
    Ok(Planned {
        select: q,
        covered,
        unplaced,
        breakdown,
        breakdown_table,
    })
}

/// A planned query and what the planner made of the question's words.
pub(crate) struct Planned {
    /// The query.
    pub select: Select,
    /// Which tokens name something (a table, column, value, literal or number).
    pub covered: Vec<bool>,
    /// Phrases that named a table, column or value the query does not use.
    pub unplaced: Vec<String>,
    /// A breakdown the question asks for ("by department"), as said.
    pub breakdown: Option<String>,
    /// The table that breakdown names, when it names one table and no column.
    pub breakdown_table: Option<usize>,
}

/// The tables and columns a query reads, subqueries included.
/// "Which customer signed up first?", "the last order", "who was hired last": an ordinal
/// that names no name part ("first name"), no count ("first 5") and no period ("last
/// year", "first quarter") reads as the superlative of time it stands for ("earliest",
/// "latest"), so the row is chosen by its date.
fn ordinals_of_time(toks: &mut [Tok], idx: &Index) {
    for i in 0..toks.len() {
        let to = match toks[i].low.as_str() {
            "first" => "earliest",
            "last" => "latest",
            _ => continue,
        };
        if toks[i].quoted {
            continue;
        }
        // "most expensive first", "newest first", "highest paid first": the order a list
        // is sorted in, read with the superlative before it.
        let after_superlative = (1..=2).any(|back| {
            i >= back && {
                let w = toks[i - back].low.as_str();
                SUP_DESC.contains(&w) || SUP_ASC.contains(&w)
            }
        }) || i >= 2
            && matches!(toks[i - 2].low.as_str(), "most" | "least");
        if after_superlative {
            continue;
        }
        let next = toks.get(i + 1).map_or("", |t| t.low.as_str());
        // The ordinal closes the clause: "… signed up first?", "… joined last, and …".
        let closes = toks[i].stop
            || toks[i].comma
            || next.is_empty()
            || matches!(
                next,
                "in" | "on"
                    | "at"
                    | "among"
                    | "and"
                    | "or"
                    | "for"
                    | "from"
                    | "within"
                    | "ever"
                    | "overall"
                    | "of"
            ) && !matches!(
                toks.get(i + 2).map_or("", |t| t.low.as_str()),
                "all" | "them"
            );
        // "the first order", "our last customer": the ordinal picks one of a table's rows.
        let picks_row = i > 0
            && matches!(
                toks[i - 1].low.as_str(),
                "the" | "our" | "their" | "its" | "my"
            )
            && toks
                .get(i + 1)
                .is_some_and(|t| !t.quoted && idx.table_named_by(&t.stem).is_some())
            && idx.cols.iter().all(|c| {
                c.words.len() < 2
                    || c.words[c.words.len() - 2] != toks[i].low
                    || c.words[c.words.len() - 1] != toks[i + 1].stem
            });
        let before_is_number = i > 0 && toks[i - 1].number().is_some();
        // "the first, middle, and last name": name parts listed before "name".
        let name_part = toks[i + 1..].iter().take(5).any(|t| t.stem == "name");
        if (closes && i > 0 || picks_row) && !before_is_number && !name_part {
            toks[i].low = to.to_owned();
            toks[i].stem = to.to_owned();
        }
    }
}

/// "more than a single document" is more than 1; "not a single car maker" is no car
/// maker; elsewhere "a single order" is an order ("spent more than 5,000 on a single
/// order" compares each order, it is no order of amount 1).
pub(crate) fn single_as_one(toks: &mut Vec<Tok>) {
    let mut i = 1;
    while i < toks.len() {
        if toks[i].low != "single" || toks[i].quoted || toks[i - 1].low != "a" {
            i += 1;
            continue;
        }
        if i >= 2 && toks[i - 2].low == "not" {
            let t = &mut toks[i - 2];
            t.low = "no".into();
            t.stem = "no".into();
            t.text = "no".into();
            toks.drain(i - 1..=i);
            continue;
        }
        // ("used only by a single country": a count of one.)
        let counted = i >= 2
            && (matches!(toks[i - 2].low.as_str(), "than" | "least" | "most" | "by")
                || toks[i.saturating_sub(5)..i - 1]
                    .iter()
                    .any(|t| matches!(t.low.as_str(), "only" | "exactly")));
        if !counted {
            toks.remove(i);
            continue;
        }
        let t = &mut toks[i];
        t.low = "1".into();
        t.stem = "1".into();
        t.text = "1".into();
        toks.remove(i - 1);
    }
}

fn query_refs(q: &Select, idx: &Index) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let mut tables = BTreeSet::from([q.from]);
    let mut cols = BTreeSet::new();
    for (a, b) in &q.joins {
        tables.insert(idx.cols[*b].table);
        cols.insert(*a);
        cols.insert(*b);
    }
    let expr_col = |e: &Expr| match e {
        Expr::Col(c) | Expr::Agg(_, c, _) => Some(*c),
        Expr::CountStar => None,
    };
    cols.extend(q.items.iter().filter_map(expr_col));
    cols.extend(q.order.iter().filter_map(|(e, _)| expr_col(e)));
    cols.extend(q.group.iter().copied());
    cols.extend(q.bucket.iter().map(|(c, _)| *c));
    for c in &q.conds {
        cols.extend(cond_cols(c));
        if let Cond::NotIn(_, sub) | Cond::In(_, sub) = c {
            let (t, k) = query_refs(sub, idx);
            tables.extend(t);
            cols.extend(k);
        }
    }
    if let Some(other) = &q.intersect {
        let (t, k) = query_refs(other, idx);
        tables.extend(t);
        cols.extend(k);
    }
    for &c in &cols {
        tables.insert(idx.cols[c].table);
    }
    (tables, cols)
}

fn is_generic(w: &str) -> bool {
    matches!(
        w,
        "id" | "name"
            | "code"
            | "type"
            | "date"
            | "number"
            | "year"
            | "time"
            | "detail"
            | "info"
            | "description"
            | "value"
            | "status"
            | "count"
    )
}

/// Whether the unquoted words at `i` say a stored value of column `col` (its words `w`; a
/// value of one short word only where it cannot be a common word, or before its table's
/// noun).
fn value_said_at(
    toks: &[Tok],
    i: usize,
    idx: &Index,
    w: &[String],
    mapped: bool,
    col: usize,
) -> bool {
    let len = w.len();
    i + len <= toks.len()
        && (0..len).all(|k| {
            let q = &toks[i + k];
            !q.quoted && (q.low == w[k] || (k + 1 == len && q.stem == stem(&w[k])))
        })
        && (len != 1
            || w[0].len() > 3
            || toks[i].capitalised()
            || mapped
            || (w[0].chars().count() == 3
                && (short_value_word(&toks[i]) || stored_verb_before_its_table(toks, i, idx, col))))
}

/// Whether a value `vlen` words long (mapped by the model or not) is the reading of a word
/// rather than an entity (`elen` words, naming no table, partial).
fn value_wins(
    t: &Tok,
    vlen: usize,
    mapped: bool,
    (elen, no_table, partial): (usize, bool, bool),
) -> bool {
    vlen > 0
        && (vlen > elen
            || (mapped && vlen == elen)
            || (vlen == elen && (no_table || t.capitalised()))
            || (partial && vlen >= elen))
}

/// A role a foreign key plays, named without its key ("sales reps" for `sales_rep_id` and
/// `orders.employee_id` → employees): the rows it points at, not the key's numbers. Only
/// when every column named is such a numeric key into one table with a name column, and
/// the words say no `id`, number, code or key.
fn roles_as_rows(ms: &mut [Ment], toks: &[Tok], idx: &Index) -> Vec<(usize, Vec<usize>)> {
    let mut roles = Vec::new();
    for m in ms.iter_mut() {
        let MK::Ent { tables, cols, .. } = &m.kind else {
            continue;
        };
        if !tables.is_empty() || cols.is_empty() {
            continue;
        }
        let said_key = (m.s..m.e).any(|j| KEY_WORDS.contains(&toks[j].stem.as_str()));
        if said_key {
            continue;
        }
        let target = |c: usize| {
            idx.edges
                .iter()
                .find(|e| e.from == c)
                .map(|e| idx.cols[e.to].table)
        };
        let Some(first) = target(cols[0]) else {
            continue;
        };
        // (A table with two keys into the same rows — opened by, handled by — leaves the
        // join to the other key: not read so.)
        let parallel = cols.iter().any(|&c| {
            idx.edges.iter().any(|e| {
                e.from != c
                    && idx.cols[e.from].table == idx.cols[c].table
                    && idx.cols[e.to].table == first
            })
        });
        if parallel {
            continue;
        }
        // (A text key — an airport's code, a channel's — reads as it is; a number does not.)
        let numeric = cols.iter().all(|&c| idx.cols[c].kind == Kind::Number);
        if numeric
            && cols.iter().all(|&c| target(c) == Some(first))
            && idx.label_col(first).is_some()
        {
            roles.push((first, cols.clone()));
            m.kind = MK::Ent {
                tables: vec![first],
                cols: Vec::new(),
                partial: false,
            };
        }
    }
    roles
}

/// "List the sales reps": rows asked for by a role are those some row points at through
/// its key (employees who are some customer's rep), unless the query joins rows that point
/// at them.
fn only_rows_in_their_role(q: &mut Select, roles: &[(usize, Vec<usize>)], idx: &Index) {
    for (table, keys) in roles {
        // Joined to rows that point at it ("the sales rep with the most customers"), the
        // join already says so.
        let points_here = |t: usize| {
            idx.edges
                .iter()
                .any(|e| idx.cols[e.from].table == t && idx.cols[e.to].table == *table)
        };
        if q.from != *table || q.joins.iter().any(|(_, n)| points_here(idx.cols[*n].table)) {
            continue;
        }
        let mut each: Vec<Cond> = keys
            .iter()
            .filter_map(|&k| {
                // The column the key points at, not the table's key by guess.
                let to = idx.edges.iter().find(|e| e.from == k)?.to;
                let sub = Select {
                    items: vec![Expr::Col(k)],
                    from: idx.cols[k].table,
                    conds: vec![Cond::NotNull(k)],
                    ..Select::default()
                };
                Some(Cond::In(to, Box::new(sub)))
            })
            .collect();
        if each.is_empty() {
            continue;
        }
        let cond = if each.len() == 1 {
            each.remove(0)
        } else {
            Cond::Or(each)
        };
        q.conds.push(cond);
    }
}

#[allow(clippy::too_many_lines)] // the translator's rules, one per mention kind; reworked by the translator issue
fn find_mentions(toks: &[Tok], idx: &Index) -> Vec<Ment> {
    let samples = &idx.values;
    let n = toks.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let t = &toks[i];
        // "last year", "past 3 months", "previous quarter": a time range, never a name
        // part's column (`last_name`).
        if !t.quoted
            && matches!(t.low.as_str(), "last" | "past" | "previous")
            && toks.get(i + 1).is_some_and(|u| {
                !u.quoted && (u.number().is_some() || crate::time::is_period(&u.stem))
            })
        {
            i += 1;
            continue;
        }
        // Values from samples.
        let mut vlen = 0;
        let mut vcols: Vec<usize> = Vec::new();
        let mut vtext = String::new();
        let mut vmapped: Vec<(usize, String)> = Vec::new();
        for crate::index::Value {
            col: ci,
            value: v,
            said,
            words: w,
            mapped,
        } in samples
        {
            let len = w.len();
            let hit = if t.quoted {
                len >= 1 && t.low == *said
            } else {
                value_said_at(toks, i, idx, w, *mapped, *ci)
            };
            let len = if t.quoted { 1 } else { len };
            if hit && len >= vlen {
                if len > vlen {
                    vcols.clear();
                    vmapped.clear();
                    vlen = len;
                    vtext = v.clone();
                }
                if *mapped && !vmapped.iter().any(|(c, _)| c == ci) {
                    vmapped.push((*ci, v.clone()));
                }
                if !vcols.contains(ci) {
                    vcols.push(*ci);
                }
            }
        }
        // A phrase the model maps to a value speaks for those columns only.
        if !vmapped.is_empty() {
            vcols = vmapped.iter().map(|(c, _)| *c).collect();
            vtext = vmapped[0].1.clone();
        }
        if t.quoted {
            let kind = if vlen > 0 {
                MK::Value {
                    cols: vcols,
                    text: vtext,
                    mapped: vmapped,
                }
            } else {
                MK::Literal(t.text.clone())
            };
            out.push(Ment {
                s: i,
                e: i + 1,
                kind,
            });
            i += 1;
            continue;
        }
        let imperative = i == 0
            && matches!(
                t.low.as_str(),
                "show"
                    | "list"
                    | "give"
                    | "find"
                    | "return"
                    | "count"
                    | "tell"
                    | "get"
                    | "display"
                    | "sort"
                    | "order"
            );
        let (elen, tables, cols, partial) = if imperative {
            (0, Vec::new(), Vec::new(), false)
        } else {
            best_entity(toks, i, idx)
        };
        let entity = (elen, tables.is_empty(), partial);
        if value_wins(t, vlen, !vmapped.is_empty(), entity) {
            out.push(Ment {
                s: i,
                e: i + vlen,
                kind: MK::Value {
                    cols: vcols,
                    text: vtext,
                    mapped: vmapped,
                },
            });
            i += vlen;
            continue;
        }
        let cap_literal = capitalised_inside(toks, i) && !is_stopword(&t.low) && t.low != "i";
        if elen > 0 && !(partial && cap_literal && tables.is_empty()) {
            out.push(Ment {
                s: i,
                e: i + elen,
                kind: MK::Ent {
                    tables,
                    cols,
                    partial,
                },
            });
            i += elen;
            continue;
        }
        if let Some(v) = t.number() {
            let prev = if i > 0 { toks[i - 1].low.as_str() } else { "" };
            let word_ok = t.is_digits()
                || (t.low != "one"
                    || matches!(prev, "than" | "least" | "most" | "exactly" | "top" | "only"));
            if word_ok {
                out.push(Ment {
                    s: i,
                    e: i + 1,
                    kind: MK::Number(v, t.low.replace(',', "")),
                });
                i += 1;
                continue;
            }
        }
        if cap_literal {
            let mut j = i + 1;
            while j < n
                && !toks[j].quoted
                && (toks[j].capitalised() || toks[j].is_digits())
                && best_entity(toks, j, idx).0 == 0
            {
                j += 1;
            }
            let text: Vec<&str> = toks[i..j].iter().map(|t| t.text.as_str()).collect();
            out.push(Ment {
                s: i,
                e: j,
                kind: MK::Literal(text.join(" ")),
            });
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

fn seq_matches(span: &[Tok], words: &[String]) -> bool {
    span.len() == words.len() && span.iter().zip(words).all(|(t, w)| word_matches(t, w))
}

fn concat_matches(span: &[Tok], words: &[String]) -> bool {
    if span.len() < 2 || span.iter().any(|t| t.quoted) {
        return false;
    }
    let joined: String = words.concat();
    let q: String = span.iter().map(|t| t.low.as_str()).collect();
    if q == joined || stem(&q) == joined || stem(&q) == stem(&joined) {
        return true;
    }
    // "first name" → `fname`, "student id" → `stuid`: a prefix of the first word + the rest.
    if span.len() == 2 && words.len() == 1 {
        let first = &span[0].low;
        let rest = &span[1].stem;
        let w = &words[0];
        if let Some(pre) = w.strip_suffix(rest.as_str()) {
            return !pre.is_empty() && pre.len() < first.len() && first.starts_with(pre);
        }
    }
    false
}

/// The longest table/column name match starting at `i`: (length, tables, columns, partial).
#[allow(clippy::too_many_lines)] // the translator's rules, one per mention kind; reworked by the translator issue
fn best_entity(toks: &[Tok], i: usize, idx: &Index) -> (usize, Vec<usize>, Vec<usize>, bool) {
    let n = toks.len();
    for len in (1..=4usize).rev() {
        if i + len > n {
            continue;
        }
        let span = &toks[i..i + len];
        if span
            .iter()
            .any(|t| t.quoted || t.number().is_some() && t.is_digits())
        {
            continue;
        }
        let edge_stop = is_stopword(&span[0].low) || is_stopword(&span[len - 1].low);
        let mut tables = Vec::new();
        let mut cols = Vec::new();
        for (ti, t) in idx.tables.iter().enumerate() {
            let exact = ((!edge_stop || exact_low(span, &t.words)) && seq_matches(span, &t.words))
                || (!t.alt.is_empty() && seq_matches(span, &t.alt) && !edge_stop)
                || t.aliases
                    .iter()
                    .any(|a| (!edge_stop || exact_low(span, a)) && seq_matches(span, a));
            if exact || (len >= 2 && concat_matches(span, &t.words)) {
                tables.push(ti);
            }
        }
        for (ci, c) in idx.cols.iter().enumerate() {
            let mut hit = false;
            // The model's other names match as written, word for word.
            if c.aliases
                .iter()
                .any(|a| (!edge_stop || exact_low(span, a)) && seq_matches(span, a))
            {
                hit = true;
            }
            // (`hotel_nm` of hotels is said "name": its short name spelled out.)
            let spelled = Some(&c.spelled).filter(|s| s.len() == 1);
            for w in [&c.short, &c.words].into_iter().chain(spelled) {
                if (!edge_stop || exact_low(span, w)) && seq_matches(span, w) {
                    hit = true;
                }
                if len >= 2 && concat_matches(span, w) {
                    hit = true;
                }
                if len == 2
                    && w.len() == 2
                    && !is_generic(&w[0])
                    && !is_generic(&w[1])
                    && word_matches(&span[0], &w[1])
                    && word_matches(&span[1], &w[0])
                {
                    hit = true;
                }
                if len == 2
                    && w.len() == 2
                    && is_generic(&w[0])
                    && !is_generic(&w[1])
                    && span[0].low.len() > 4
                    && word_matches(&span[0], &w[1])
                    && word_matches(&span[1], &w[0])
                {
                    hit = true;
                }
                if len == 3
                    && w.len() == 2
                    && span[1].low == "of"
                    && word_matches(&span[0], &w[0])
                    && word_matches(&span[2], &w[1])
                {
                    hit = true;
                }
                if len == 3
                    && w.len() == 2
                    && span[1].low == "of"
                    && word_matches(&span[0], &w[1])
                    && word_matches(&span[2], &w[0])
                    && !is_generic(&w[0])
                {
                    hit = true;
                }
            }
            if hit {
                cols.push(ci);
            }
        }
        if !tables.is_empty() || !cols.is_empty() {
            return (len, tables, cols, false);
        }
    }
    // Partial: two words that are the start or the end of a longer column name.
    if i + 2 <= n {
        let span = &toks[i..i + 2];
        if !span
            .iter()
            .any(|t| t.quoted || is_stopword(&t.low) || t.number().is_some())
        {
            let mut cols = Vec::new();
            for (ci, c) in idx.cols.iter().enumerate() {
                let w = &c.words;
                if w.len() > 2
                    && (seq_matches(span, &w[w.len() - 2..]) || seq_matches(span, &w[..2]))
                {
                    cols.push(ci);
                }
            }
            if !cols.is_empty() {
                return (2, Vec::new(), cols, true);
            }
        }
    }
    // Partial: one meaningful word that is the first or last word of a longer name.
    let t = &toks[i];
    if t.quoted
        || is_stopword(&t.low)
        || is_generic(&t.stem)
        || t.low.len() < 3
        || t.number().is_some()
    {
        return (0, Vec::new(), Vec::new(), false);
    }
    let mut tables = Vec::new();
    let mut cols = Vec::new();
    let said = |w: &String| word_matches(t, w);
    for (ti, tb) in idx.tables.iter().enumerate() {
        if tb.words.len() > 1 && (said(&tb.words[tb.words.len() - 1]) || said(&tb.words[0])) {
            tables.push(ti);
        }
    }
    for (ci, c) in idx.cols.iter().enumerate() {
        // (`sal_amt` is also salary amount: a question may say its first word only.)
        let hit = [&c.short, &c.spelled].into_iter().any(|w| {
            // "students" alone does not ask for `student_id`.
            let id = w.len() == 2 && w[1] == "id";
            let middle = t.low.len() >= 5 && w.iter().any(|x| word_matches(t, x));
            !id && w.len() > 1
                && w.len() <= 3
                && (word_matches(t, &w[0]) || word_matches(t, &w[w.len() - 1]) || middle)
        });
        if hit {
            cols.push(ci);
        }
    }
    if tables.is_empty() && cols.is_empty() {
        return (0, tables, cols, false);
    }
    // "degree names" → `degree_summary_name`: the next word is another word of the column.
    if let Some(nt) = toks
        .get(i + 1)
        .filter(|t| !t.quoted && !is_stopword(&t.low))
    {
        let wider: Vec<usize> = cols
            .iter()
            .copied()
            .filter(|&c| {
                idx.cols[c]
                    .words
                    .iter()
                    .skip(1)
                    .any(|w| word_matches(nt, w))
            })
            .collect();
        if !wider.is_empty() {
            return (2, Vec::new(), wider, true);
        }
    }
    // (Menu items are items: the last word of a compound names the thing, so a table's
    // last word alone names it when no other table holds it, nor any other table's column
    // but a key pointing at it (`enrolment.degree_program_id` of `degree_programs`),
    // as `series_name` of the channels holds the last word of `TV_series`; a verb, as
    // listed of `model_list`, names none.)
    let lex = crate::lexicon::lexicon();
    if let [only] = tables[..]
        && idx.tables[only].words.last().is_some_and(said)
        && cols
            .iter()
            .all(|&c| idx.cols[c].table == only || idx.points_at(c, only))
        && (!lex.is_verb(&t.low) || lex.noun_too(&t.low))
    {
        return (1, vec![only], Vec::new(), false);
    }
    (1, tables, cols, true)
}

fn exact_low(span: &[Tok], words: &[String]) -> bool {
    span.len() == words.len()
        && span
            .iter()
            .zip(words)
            .all(|(t, w)| t.stem == *w || t.low == *w)
}

fn is_marker(w: &str) -> bool {
    matches!(
        w,
        "who"
            | "whose"
            | "that"
            | "where"
            | "with"
            | "without"
            | "having"
            | "has"
            | "have"
            | "had"
            | "whom"
            | "when"
            | "from"
            | "in"
            | "for"
            | "ordered"
            | "sorted"
            | "order"
            | "by"
            | "on"
            | "at"
            | "after"
            | "before"
            | "than"
            | "between"
            | "under"
            | "over"
            | "above"
            | "below"
            | "not"
            | "born"
            | "since"
            | "during"
            | "among"
            | "sort"
            | "within"
            | "to"
            | "except"
            | "excluding"
            | "but"
            | "ranked"
            | "located"
            | "made"
            | "written"
            | "directed"
            | "played"
            | "owned"
            | "belong"
            | "belongs"
            | "if"
            | "across"
    )
}

fn is_verb_marker(w: &str) -> bool {
    matches!(w, "is" | "are" | "was" | "were" | "do" | "does" | "did")
}

pub(crate) fn agg_word(w: &str) -> Option<(Agg, bool)> {
    Some(match w {
        "average" | "mean" | "avg" => (Agg::Avg, false),
        "total" | "sum" | "combined" => (Agg::Sum, false),
        "maximum" | "max" => (Agg::Max, false),
        "minimum" | "min" => (Agg::Min, false),
        "highest" | "largest" | "biggest" | "greatest" | "most" | "latest" => (Agg::Max, true),
        "lowest" | "smallest" | "least" | "fewest" | "earliest" => (Agg::Min, true),
        _ => return None,
    })
}

impl P<'_> {
    fn low(&self, i: usize) -> &str {
        self.toks.get(i).map(|t| t.low.as_str()).unwrap_or("")
    }

    /// Whether token `j` can be how many rows to keep: a small number in digits, or
    /// spelled out after a determiner or a verb of listing ("the five customers", "list
    /// three products"; never "one", which is a pronoun as often).
    fn cut_number(&self, j: usize) -> bool {
        let t = &self.toks[j];
        // "Which of the three departments…": the rows chosen among, not how many to keep.
        if j >= 3
            && self.low(j - 2) == "of"
            && self.low(j - 1) == "the"
            && matches!(self.low(j - 3), "which" | "who" | "one")
        {
            return false;
        }
        if t.is_digits() {
            return t.low.len() < 4;
        }
        t.number().is_some_and(|v| (2.0..=20.0).contains(&v))
            && j > 0
            && matches!(
                self.low(j - 1),
                "the" | "which" | "top" | "list" | "show" | "give" | "name" | "find" | "what"
            )
    }

    fn ment_at(&self, i: usize) -> Option<usize> {
        self.ms.iter().position(|m| m.s == i)
    }

    /// The next mention starting at or after `i`, skipping filler words only.
    fn next_ment(&self, i: usize, fillers: &[&str]) -> Option<usize> {
        let mut j = i;
        while j < self.toks.len() {
            if let Some(k) = self.ment_at(j) {
                // A mention made only of filler words ("types") is skipped like them.
                let m = &self.ms[k];
                if (m.s..m.e).all(|x| fillers.contains(&self.low(x))) {
                    j = m.e;
                    continue;
                }
                return Some(k);
            }
            if fillers.contains(&self.low(j)) {
                j += 1;
                continue;
            }
            return None;
        }
        None
    }

    fn ent(&self, k: usize) -> Option<(&[usize], &[usize])> {
        match &self.ms[k].kind {
            MK::Ent { tables, cols, .. } => Some((tables, cols)),
            _ => None,
        }
    }

    fn table_mentions(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for m in &self.ms {
            if let MK::Ent {
                tables,
                partial: false,
                ..
            } = &m.kind
            {
                for &t in tables {
                    v.push((t, m.s));
                }
            }
        }
        v
    }

    /// How many other mentions name a column (or value) of table `t`.
    fn support(&self, t: usize, except: usize) -> i64 {
        self.ms
            .iter()
            .enumerate()
            .filter(|(k, m)| {
                *k != except
                    && match &m.kind {
                        MK::Ent { cols, .. } | MK::Value { cols, .. } => {
                            cols.iter().any(|c| self.idx.cols[*c].table == t)
                        }
                        // (A country or state named but not sampled speaks for the table of
                        // countries or states: "the population of China" is the country's.)
                        MK::Literal(text) => {
                            // (A code says its place too: "the UK" is the United Kingdom.)
                            let lex = crate::lexicon::lexicon();
                            let low = text.to_lowercase();
                            lex.place_kind(&low)
                                .or_else(|| {
                                    let kinds: Vec<_> = lex
                                        .place_names(&low)
                                        .iter()
                                        .filter_map(|n| lex.place_kind(n))
                                        .collect();
                                    kinds
                                        .first()
                                        .copied()
                                        .filter(|k| kinds.iter().all(|x| x == k))
                                })
                                .is_some_and(|kind| self.idx.table_named_by(kind.word()) == Some(t))
                        }
                        _ => false,
                    }
            })
            .count() as i64
    }

    /// The table a column mention is qualified by: "stadium name", "name of the stadium".
    fn qualifier(&self, k: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let m = &self.ms[k];
        if k > 0
            && self.ms[k - 1].e == m.s
            && let Some((t, _)) = self.ent(k - 1)
        {
            out.extend_from_slice(t);
        }
        // "the customer names and cities": the table said before the first of coordinated
        // columns qualifies the others too.
        let column = |x: usize| {
            self.ent(x)
                .is_some_and(|(t, c)| t.is_empty() && !c.is_empty())
        };
        let joined_to_previous = |x: usize| {
            let mut p = self.ms[x].s;
            while p > 0 && matches!(self.low(p - 1), "their" | "its" | "the") {
                p -= 1;
            }
            let prev_end = self.ms[x - 1].e;
            p >= 1 && self.low(p - 1) == "and" && prev_end + 1 == p
                || prev_end == p && self.toks[prev_end - 1].comma
        };
        let mut back = k;
        while out.is_empty() && back >= 2 && joined_to_previous(back) && column(back - 1) {
            back -= 1;
            if self.ms[back - 1].e == self.ms[back].s
                && let Some((t, _)) = self.ent(back - 1)
            {
                out.extend_from_slice(t);
            }
        }
        // "the names and cities of customers": "of customers" qualifies every column of the
        // coordination before it.
        let mut j = m.e;
        while matches!(self.low(j), "and" | "their" | "its")
            && let Some(nk) = self.next_ment(j + 1, &["their", "its", "the"])
            && column(nk)
            && self.ms[nk].s <= j + 2
        {
            j = self.ms[nk].e;
        }
        if matches!(self.low(j), "of" | "for" | "in") {
            j += 1;
            while matches!(
                self.low(j),
                "the" | "all" | "each" | "every" | "a" | "an" | "this" | "that"
            ) {
                j += 1;
            }
            if let Some(nk) = self.ment_at(j)
                && let Some((t, _)) = self.ent(nk)
            {
                out.extend_from_slice(t);
            }
        }
        out
    }

    /// Picks one column among candidates for mention `k`, preferring the table the mention
    /// is qualified by, the main table, tables named in the question (nearest first), tables
    /// holding the other columns mentioned, and foreign-key neighbours.
    fn pick(
        &self,
        cands: &[usize],
        k: usize,
        main: Option<usize>,
        kind: Option<Kind>,
    ) -> Option<usize> {
        let pos = self.ms[k].s;
        let tm = self.table_mentions();
        let qual = self.qualifier(k);
        let mut best: Option<(i64, usize)> = None;
        for &c in cands {
            let col = &self.idx.cols[c];
            let t = col.table;
            let mut s: i64 = 0;
            if let Some(kd) = kind {
                if col.kind == kd || (kd == Kind::Number && col.kind == Kind::Date) {
                    s += 30;
                } else if kd == Kind::Number {
                    s -= 200;
                }
            }
            if qual.contains(&t) {
                s += 150;
            }
            if Some(t) == main {
                s += 100;
            }
            if let Some(d) = tm
                .iter()
                .filter(|(mt, _)| *mt == t)
                .map(|(_, p)| p.abs_diff(pos) as i64)
                .min()
            {
                s += 60 - d.min(40);
            }
            if let Some(m) = main
                && self.idx.adjacent(m, t)
            {
                s += 20;
            }
            // A row's own attributes (through its keys) before the rows that point at it:
            // "employees in Berlin" are in Berlin's department, not its customers.
            // (Direct keys only: a path search per candidate is too slow on big schemas.)
            if let Some(m) = main
                && t != m
                && self
                    .idx
                    .edges
                    .iter()
                    .any(|e| self.idx.cols[e.from].table == t && self.idx.cols[e.to].table == m)
                && !self
                    .idx
                    .edges
                    .iter()
                    .any(|e| self.idx.cols[e.from].table == m && self.idx.cols[e.to].table == t)
            {
                s -= 15;
            }
            if tm.iter().any(|(mt, _)| self.idx.adjacent(*mt, t)) {
                s += 10;
            }
            s += 15 * self.support(t, k).min(4);
            // Words of the column name not covered by the mention but present nearby.
            let lo = pos.saturating_sub(4);
            let hi = (self.ms[k].e + 4).min(self.toks.len());
            for w in &col.words {
                let in_mention =
                    (self.ms[k].s..self.ms[k].e).any(|j| word_matches(&self.toks[j], w));
                if !in_mention && !is_generic(w) && (lo..hi).any(|j| word_matches(&self.toks[j], w))
                {
                    s += 12;
                }
            }
            if col.fk || col.pk {
                s -= 5;
            }
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, c));
            }
        }
        best.map(|(_, c)| c)
    }

    /// The best of several tables a mention could name: the one holding most of the
    /// other columns mentioned.
    fn best_table(&self, tables: &[usize], k: usize) -> usize {
        let mut best = (i64::MIN, tables[0]);
        for &t in tables {
            let s = self.support(t, k);
            if s > best.0 {
                best = (s, t);
            }
        }
        best.1
    }

    #[allow(clippy::too_many_lines)] // the translator's rules, one per question shape; reworked by the translator issue
    fn run(&mut self) -> Result<Select, String> {
        let n = self.toks.len();
        let has_ent = self
            .ms
            .iter()
            .any(|m| matches!(m.kind, MK::Ent { partial: false, .. } | MK::Value { .. }));
        if !has_ent {
            return Err(
                "I did not recognise any table, column or stored value of this database in the question"
                    .into(),
            );
        }
        // ---- Head: what is asked for.
        // A leading phrase set off by a comma ("For each stadium, how many …") is not
        // what is asked for.
        let mut head_start = 0;
        if matches!(
            self.low(0),
            "for"
                | "in"
                | "among"
                | "of"
                | "across"
                | "from"
                | "with"
                | "by"
                | "at"
                | "on"
                | "after"
                | "before"
        ) && let Some(c) = self.toks.iter().take(10).position(|t| t.comma)
        {
            head_start = c + 1;
        }
        // "Which makers designed more than 3 models? List full name and id." / "…, and return
        // the name": a later imperative names the output.
        let mut first_which: Option<usize> = None;
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for i in 1..n.saturating_sub(1) {
            let prev = &self.toks[i - 1];
            let brk = prev.stop
                || (prev.comma && self.low(i) == "and")
                || self.low(i - 1) == "and"
                    && self.toks.get(i.saturating_sub(2)).is_some_and(|t| t.comma);
            let verb = matches!(
                self.low(i),
                "list" | "show" | "return" | "give" | "find" | "display" | "report"
            );
            if brk && verb && i > head_start {
                if matches!(self.low(head_start), "which" | "what" | "who") {
                    first_which = Some(head_start + 1);
                } else if matches!(
                    self.low(head_start),
                    "find" | "show" | "list" | "give" | "return" | "count" | "tell" | "how"
                ) {
                    // "Find the number of employees in each shop; show the shop name as
                    // well": both clauses name outputs.
                    ranges.push((head_start, self.head_end_from(head_start).min(i - 1)));
                }
                head_start = i + 1;
                break;
            }
        }
        let head_end = self.head_end_from(head_start);
        // "the ids of all documents": the table's key is shown, not its label.
        let asks_ids = (0..head_end.min(n))
            .any(|j| matches!(self.low(j), "id" | "ids" | "identifier" | "identifiers"));
        ranges.push((head_start, head_end));
        let mut in_head = vec![false; n];
        for &(a, b) in &ranges {
            for x in in_head.iter_mut().take(b).skip(a) {
                *x = true;
            }
        }
        let mut items: Vec<(usize, Item)> = Vec::new();
        let mut item_ments: Vec<usize> = Vec::new();
        let mut head_tables: Vec<usize> = Vec::new();
        let mut count_table: Option<usize> = None;
        let mut count_cue = false;
        let mut distinct = false;
        let mut pending: Vec<(Agg, bool, usize)> = Vec::new();
        let mut cue_tok = vec![false; n];
        // "the names of the winner and loser": a generic output word (name, id, …) and the
        // index of its item, refined by the words that follow.
        let mut generic: Option<(String, usize, Option<usize>)> = None;
        for &(range_start, range_end) in &ranges {
            let mut i = range_start;
            while i < range_end {
                let w = self.low(i).to_string();
                if w == "how" && matches!(self.low(i + 1), "many" | "much") {
                    if self.low(i + 1) == "many" {
                        count_cue = true;
                    }
                    i += 2;
                    continue;
                }
                let compound = i > 0
                    && !matches!(
                        self.low(i - 1),
                        "the"
                            | "a"
                            | "total"
                            | "and"
                            | "what"
                            | "is"
                            | "are"
                            | "of"
                            | "find"
                            | "show"
                            | "list"
                            | "give"
                            | "return"
                            | "count"
                            | "how"
                            | "average"
                            | "maximum"
                            | "minimum"
                            | "max"
                            | "min"
                            | "their"
                            | "its"
                            | "his"
                            | "her"
                            | "with"
                            | "largest"
                            | "smallest"
                            | "highest"
                            | "lowest"
                            | "greatest"
                            | "most"
                            | "least"
                            | "overall"
                            | "different"
                            | "by"
                            | "mean"
                            | "whose"
                            | "tell"
                            | "corresponding"
                            | "respective"
                    );
                let column_named = self.ment_at(i).is_some_and(|k| self.ms[k].e > i + 1);
                // "the total amount of grants" where grants keep an amount (`amt`): the
                // column is summed, the rows are not counted.
                let amount_kept = w == "amount"
                    && self
                        .ment_at(i)
                        .and_then(|k| self.ent(k))
                        .is_some_and(|(_, cols)| {
                            self.next_ment(i + 1, &["of", "the", "all", "a"])
                                .and_then(|k| self.ent(k))
                                .is_some_and(|(tables, _)| {
                                    cols.iter().any(|&c| {
                                        tables.contains(&self.idx.cols[c].table)
                                            && self.idx.cols[c].kind == Kind::Number
                                    })
                                })
                        });
                if (w == "number" || w == "count" || w == "amount")
                    && (self.low(i + 1) == "of" || w == "count" && i == 0)
                    && !compound
                    && !column_named
                    && !amount_kept
                {
                    let nk = self.next_ment(
                        i + 1,
                        &["of", "the", "different", "distinct", "unique", "all", "a"],
                    );
                    let table_next = nk.is_some_and(|k| {
                        self.ent(k)
                            .is_some_and(|(t, c)| !t.is_empty() || c.is_empty())
                            || matches!(self.ms[k].kind, MK::Value { .. })
                    });
                    let distinct_next =
                        matches!(self.low(i + 2), "different" | "distinct" | "unique");
                    if distinct_next {
                        distinct = true;
                    }
                    if table_next || nk.is_none() || w == "count" || distinct_next {
                        if pending.iter().any(|(a, _, _)| *a == Agg::Sum) {
                            pending.retain(|(a, _, _)| *a != Agg::Sum);
                        }
                        count_cue = true;
                        i += 1;
                        continue;
                    }
                }
                if matches!(w.as_str(), "different" | "distinct" | "unique") {
                    distinct = true;
                }
                // "the most common status": a ranking by how often, read with the
                // superlatives below, not the greatest status.
                if matches!(w.as_str(), "most" | "least")
                    && matches!(self.low(i + 1), "common" | "frequent" | "popular" | "usual")
                {
                    i += 1;
                    continue;
                }
                if let Some(a) = agg_word(&w)
                    && !(a.0 == Agg::Sum && self.low(i + 1) == "number")
                {
                    // A cue word that is also a column name ("average", "total") stays a cue
                    // only when another column follows in the head.
                    match self.ment_at(i) {
                        Some(k) => {
                            let later = self.ms.iter().any(|m| {
                                m.s > i
                                    && in_head[m.s]
                                    && matches!(&m.kind, MK::Ent { cols, .. } if !cols.is_empty())
                            });
                            if later && self.ms[k].e == i + 1 {
                                pending.push((a.0, a.1, i));
                                i += 1;
                                continue;
                            }
                            // "the total of orders": the aggregate of the column so named.
                            if !a.1
                                && pending.is_empty()
                                && !count_cue
                                && self.low(i + 1) == "of"
                                && self.ent(k).is_some_and(|(_, c)| {
                                    c.iter().any(|c| self.idx.cols[*c].kind == Kind::Number)
                                })
                            {
                                items.push((i, Item::Agg(a.0, k, false)));
                                cue_tok[i] = true;
                                self.used[k] = true;
                                i = self.ms[k].e;
                                continue;
                            }
                        }
                        None => {
                            pending.push((a.0, a.1, i));
                        }
                    }
                }
                // "each X" / "per X" is left to the grouping cue.
                if i > 0
                    && matches!(self.low(i - 1), "each" | "every" | "per")
                    && let Some(k) = self.ment_at(i)
                {
                    i = self.ms[k].e;
                    continue;
                }
                if let Some(k) = self.ment_at(i) {
                    let m = self.ms[k].clone();
                    if let MK::Ent {
                        tables,
                        cols,
                        partial,
                    } = &m.kind
                    {
                        let as_table = !tables.is_empty() && (!*partial || cols.is_empty());
                        if let Some((g, gend, gitem)) = generic.clone()
                            && !count_cue
                            && pending.is_empty()
                            && (gend..i).all(|j| {
                                matches!(self.low(j), "of" | "the" | "all" | "and" | "a" | "an")
                            })
                        {
                            let combo: Vec<usize> = (0..self.idx.cols.len())
                                .filter(|&c| {
                                    let w = &self.idx.cols[c].words;
                                    w.len() > 1
                                        && w.contains(&g)
                                        && (m.s..m.e).all(|j| {
                                            w.iter()
                                                .any(|x| x != &g && word_matches(&self.toks[j], x))
                                        })
                                })
                                .collect();
                            if !combo.is_empty() {
                                match gitem {
                                    Some(ix) => items[ix] = (items[ix].0, Item::Cands(combo, k)),
                                    None => items.push((i, Item::Cands(combo, k))),
                                }
                                generic = Some((g, m.e, None));
                                self.used[k] = true;
                                i = m.e;
                                continue;
                            }
                        }
                        // "how many different store locations": the table word qualifies
                        // the column counted after it.
                        if count_cue
                            && distinct
                            && as_table
                            && cols.is_empty()
                            && let Some(nk) = self.ment_at(m.e)
                            && let Some((_, nc)) = self.ent(nk)
                            && nc.iter().any(|c| tables.contains(&self.idx.cols[*c].table))
                        {
                            self.used[k] = true;
                            i = m.e;
                            continue;
                        }
                        if count_cue {
                            if as_table && (cols.is_empty() || !distinct) {
                                count_table = Some(self.best_table(tables, k));
                                items.push((i, Item::CountStar));
                                head_tables.push(self.best_table(tables, k));
                            } else if !cols.is_empty() && distinct {
                                items.push((i, Item::CountDistinct(k)));
                            } else if !cols.is_empty() {
                                items.push((i, Item::CountStar));
                                item_ments.push(k);
                            } else {
                                items.push((i, Item::CountStar));
                            }
                            self.used[k] = true;
                            count_cue = false;
                            distinct = false;
                        } else if !pending.is_empty() && !cols.is_empty() {
                            for (a, _, at) in pending.drain(..) {
                                cue_tok[at] = true;
                                items.push((i, Item::Agg(a, k, false)));
                            }
                            self.used[k] = true;
                        } else if !(cols.is_empty()
                            || as_table && cols.len() > 1 && tables.len() == 1 && !*partial)
                        {
                            // "the average age of losers and winners", "different series and
                            // contents": an aggregate carries over a list joined by "and".
                            let carried: Vec<Item> = match items.last() {
                                Some((p, last @ (Item::Agg(..) | Item::CountDistinct(_))))
                                    if (self.ms.iter().find(|m| m.s == *p).map_or(*p, |m| m.e)
                                        ..i)
                                        .all(|j| {
                                            matches!(self.low(j), "and" | "the" | "of" | "its")
                                        })
                                        && (*p..i).any(|j| self.low(j) == "and") =>
                                {
                                    let lp = *p;
                                    items
                                        .iter()
                                        .filter(|(q, _)| *q == lp)
                                        .map(|(_, it)| match it {
                                            Item::Agg(a, _, d) => Item::Agg(*a, k, *d),
                                            _ => Item::CountDistinct(k),
                                        })
                                        .filter(|_| {
                                            matches!(last, Item::Agg(..) | Item::CountDistinct(_))
                                        })
                                        .collect()
                                }
                                _ => Vec::new(),
                            };
                            let numeric =
                                cols.iter().any(|c| self.idx.cols[*c].kind == Kind::Number);
                            let carried: Vec<Item> = carried
                                .into_iter()
                                .filter(|it| numeric || matches!(it, Item::CountDistinct(_)))
                                .collect();
                            if carried.is_empty() {
                                items.push((i, Item::Col(k)));
                                let words: Vec<&str> =
                                    (m.s..m.e).map(|j| self.toks[j].stem.as_str()).collect();
                                if let [
                                    g @ ("name" | "id" | "code" | "type" | "date" | "number"
                                    | "year"),
                                ] = words.as_slice()
                                {
                                    generic = Some(((*g).to_string(), m.e, Some(items.len() - 1)));
                                }
                            } else {
                                items.extend(carried.into_iter().map(|it| (i, it)));
                            }
                            self.used[k] = true;
                        } else if as_table {
                            head_tables.push(self.best_table(tables, k));
                            self.used[k] = true;
                            pending.clear();
                        }
                    }
                    i = self.ms[k].e;
                    continue;
                }
                i += 1;
            }
        }
        if count_cue {
            items.push((head_end, Item::CountStar));
        }
        if let Some(p) = first_which
            && let Some(k) = self.ment_at(p)
            && let Some((t, _)) = self.ent(k)
            && !t.is_empty()
        {
            head_tables.insert(0, self.best_table(t, k));
        }
        // A second clause "…, and how many likes does each have?" adds a count.
        let mut late_count: Option<usize> = None;
        if !items.iter().any(|(_, it)| matches!(it, Item::CountStar)) {
            for i in head_end..n.saturating_sub(1) {
                let and_before = (i.saturating_sub(2)..i).any(|j| self.low(j) == "and");
                let cue = (self.low(i) == "how" && self.low(i + 1) == "many")
                    || (self.low(i) == "number" && self.low(i + 1) == "of");
                if and_before && cue {
                    if let Some(k) = self.next_ment(i + 2, &["the", "different", "distinct"])
                        && let Some((t, _)) = self.ent(k)
                        && !t.is_empty()
                    {
                        late_count = Some(self.best_table(t, k));
                        self.used[k] = true;
                    }
                    items.push((i, Item::CountStar));
                    break;
                }
            }
        }
        // Superlative words that turned into MAX/MIN next to other plain columns are
        // orderings, not aggregates.
        let plain_cols = items
            .iter()
            .filter(|(_, it)| matches!(it, Item::Col(_)))
            .count();
        let mut head_order: Option<(usize, bool, usize)> = None;
        if plain_cols > 0 {
            let mut keep = Vec::new();
            for (pos, it) in items.drain(..) {
                if let Item::Agg(a, k, _) = &it {
                    // Where the superlative word stands ("the 3 most populated …").
                    let sup_at = (pos.saturating_sub(3)..pos)
                        .rev()
                        .find(|&j| agg_word(self.low(j)).is_some_and(|x| x.1));
                    if let Some(at) = sup_at
                        && head_order.is_none()
                    {
                        head_order = Some((*k, matches!(a, Agg::Max), at));
                        continue;
                    }
                }
                keep.push((pos, it));
            }
            items = keep;
        }

        // ---- Main table.
        let tm = self.table_mentions();
        let mut main: Option<usize> = count_table;
        if main.is_none()
            && let Some((_, Item::Col(k) | Item::Agg(_, k, _) | Item::CountDistinct(k))) = items
                .iter()
                .find(|(_, it)| !matches!(it, Item::CountStar))
                .cloned()
        {
            let cols = self.ent(k).map(|(_, c)| c.to_vec()).unwrap_or_default();
            let head_main = head_tables.first().copied();
            main = self
                .pick(&cols, k, head_main, None)
                .map(|c| self.idx.cols[c].table);
        }
        if main.is_none() {
            main = head_tables.first().copied();
        }
        if main.is_none() {
            main = tm.first().map(|(t, _)| *t);
        }
        if main.is_none() {
            for m in &self.ms {
                match &m.kind {
                    MK::Ent { cols, .. } | MK::Value { cols, .. } if !cols.is_empty() => {
                        main = Some(self.idx.cols[cols[0]].table);
                        break;
                    }
                    _ => {}
                }
            }
        }
        let Some(main) = main else {
            return Err("I could not tell which table the question is about".into());
        };

        let mut q = Select {
            from: main,
            ..Select::default()
        };
        let mut extra_tables: Vec<usize> = Vec::new();
        let mut not_understood: Vec<String> = Vec::new();
        let mut group_target: Option<(usize, bool)> = None; // (col or table, is_table)
        let mut count_order: Option<(bool, usize)> = None; // (desc, table counted)
        // What a counted superlative ranks by instead of the count: "the highest average
        // rating" of the rows of another table.
        let mut ranked_measure: Option<Expr> = None;
        let mut having: Option<(&'static str, String, usize)> = None;
        let mut limit: Option<u64> = None;

        // A table grouped by ("for each concert") is where plain output columns come from
        // when the question also aggregates.
        let fill: &[&str] = &[
            "the",
            "a",
            "an",
            "of",
            "all",
            "its",
            "their",
            "his",
            "her",
            "different",
            "number",
        ];
        let mut group_pref = None;
        for i in 0..n {
            if matches!(self.low(i), "each" | "every" | "per")
                && let Some(k) = self.next_ment(i + 1, fill)
                && let Some((t, c)) = self.ent(k)
                && !t.is_empty()
                && c.is_empty()
            {
                group_pref = Some(self.best_table(t, k));
            }
        }
        let aggregated = items.iter().any(|(_, it)| !matches!(it, Item::Col(_)));
        let col_main = if aggregated {
            group_pref.or(Some(main))
        } else {
            Some(main)
        };
        // Resolve head items.
        let mut sel: Vec<Expr> = Vec::new();
        let mut sel_pos: Vec<usize> = Vec::new();
        for (pos, it) in &items {
            sel_pos.push(*pos);
            match it {
                Item::CountStar => sel.push(Expr::CountStar),
                Item::Col(k) => {
                    let cols = self.ent(*k).map(|(_, c)| c.to_vec()).unwrap_or_default();
                    let generic_name = (self.ms[*k].s..self.ms[*k].e)
                        .all(|j| matches!(self.toks[j].stem.as_str(), "name" | "title"));
                    let qual = self.qualifier(*k);
                    let labelled = qual
                        .iter()
                        .copied()
                        .find(|t| !cols.iter().any(|c| self.idx.cols[*c].table == *t))
                        .and_then(|t| self.idx.label_col(t));
                    if generic_name
                        && qual
                            .iter()
                            .all(|t| !cols.iter().any(|c| self.idx.cols[*c].table == *t))
                        && let Some(l) = labelled
                    {
                        sel.push(Expr::Col(l));
                    } else if let Some(c) = self.pick(&cols, *k, col_main, None) {
                        sel.push(Expr::Col(c));
                    }
                }
                Item::Agg(a, k, d) => {
                    let cols = self.ent(*k).map(|(_, c)| c.to_vec()).unwrap_or_default();
                    if let Some(c) = self.pick(&cols, *k, Some(main), Some(Kind::Number)) {
                        sel.push(Expr::Agg(*a, c, *d));
                    }
                }
                Item::CountDistinct(k) => {
                    let cols = self.ent(*k).map(|(_, c)| c.to_vec()).unwrap_or_default();
                    if let Some(c) = self.pick(&cols, *k, Some(main), None) {
                        sel.push(Expr::Agg(Agg::Count, c, true));
                    }
                }
                Item::Cands(cols, k) => {
                    if let Some(c) = self.pick(cols, *k, col_main, None) {
                        sel.push(Expr::Col(c));
                    }
                }
            }
            if sel.len() < sel_pos.len() {
                sel_pos.pop();
            }
        }
        if let Some(t) = late_count
            && t != main
        {
            extra_tables.push(t);
        }
        for t in &head_tables {
            if *t != main && !extra_tables.contains(t) {
                extra_tables.push(*t);
            }
        }
        // The same column asked twice is shown once.
        let mut seen = Vec::new();
        let mut keep_pos = Vec::new();
        let mut kept = Vec::new();
        for (e, p) in sel.iter().zip(sel_pos.iter()) {
            if !seen.contains(e) {
                seen.push(e.clone());
                kept.push(e.clone());
                keep_pos.push(*p);
            }
        }
        sel = kept;
        sel_pos = keep_pos;
        if let Some((k, desc, at)) = head_order {
            let cols = self.ent(k).map(|(_, c)| c.to_vec()).unwrap_or_default();
            if let Some(c) = self.pick(&cols, k, Some(main), Some(Kind::Number)) {
                q.order.push((Expr::Col(c), desc));
                // "the 3 most populated countries": the number before the superlative is
                // how many rows to keep.
                let cut = at
                    .checked_sub(1)
                    .filter(|&j| self.cut_number(j))
                    .and_then(|j| Some((j, self.toks[j].number()?)));
                limit = Some(cut.map_or(1, |(_, v)| (v as u64).max(1)));
                if let Some(nk) = cut.and_then(|(j, _)| self.ment_at(j)) {
                    self.used[nk] = true;
                }
            }
        }

        // ---- Cues over the whole question.
        let mut group_pos = 0;
        let mut avg_conds: Vec<(usize, Cond)> = Vec::new();
        let mut i = 0;
        while i < n {
            let w = self.low(i).to_string();
            // Grouping.
            let group_cue = matches!(w.as_str(), "each" | "every" | "per")
                || (w == "for" && matches!(self.low(i + 1), "different" | "various"))
                || (w == "different"
                    && (!in_head[i]
                        || (i.saturating_sub(3)..i)
                            .any(|j| matches!(self.low(j), "for" | "across" | "by")))
                    && sel.iter().any(|e| self.computed(e)))
                || (w == "by"
                    && i > 0
                    && !sel.is_empty()
                    && sel.iter().any(|e| self.computed(e))
                    && !{
                        // ("bookings made by guests", "written by": who did it; "units
                        // sold by product", a singular noun, is still a breakdown.)
                        let p = self.low(i - 1);
                        let plural_next = self
                            .toks
                            .get(i + 1)
                            .is_some_and(|t| !t.quoted && t.low != t.stem);
                        p.ends_with("ed")
                            || p.ends_with("en")
                            || p == "order"
                            || p == "sort"
                            || crate::lexicon::lexicon().irregular_past(p) && plural_next
                    });
            if group_cue
                && let Some(k) = self.next_ment(i + 1, fill)
                && !self.used[k]
                && let Some((tables, cols)) = self.ent(k)
            {
                let (mut tables, mut cols) = (tables.to_vec(), cols.to_vec());
                // "each menu category": a table's noun, then a column of that table, is
                // that column.
                let mut k = k;
                if cols.is_empty()
                    && let Some(next) = self.ment_at(self.ms[k].e)
                    && !self.used[next]
                    && let Some((next_tables, next_cols)) = self.ent(next)
                    && next_tables.is_empty()
                    && next_cols
                        .iter()
                        .any(|&c| tables.contains(&self.idx.cols[c].table))
                {
                    cols = next_cols
                        .iter()
                        .copied()
                        .filter(|&c| tables.contains(&self.idx.cols[c].table))
                        .collect();
                    tables = Vec::new();
                    self.used[k] = true;
                    k = next;
                }
                if !tables.is_empty()
                    && (cols.is_empty() || !tables.contains(&main) || tables[0] == main)
                {
                    group_target = Some((self.best_table(&tables, k), true));
                } else if let Some(c) = self.pick(&cols, k, Some(main), None) {
                    group_target = Some((c, false));
                }
                self.used[k] = true;
                group_pos = self.ms[k].s;
                i = self.ms[k].e;
                continue;
            }
            // Comparison with the average: "weight below the average", "longer than average".
            if w == "average" && !in_head[i] {
                let cmp = (i.saturating_sub(3)..i).rev().find_map(|j| {
                    let x = self.low(j);
                    if matches!(
                        x,
                        "more"
                            | "greater"
                            | "larger"
                            | "bigger"
                            | "higher"
                            | "longer"
                            | "older"
                            | "above"
                            | "over"
                            | "exceeds"
                            | "exceed"
                            | "heavier"
                            | "taller"
                    ) {
                        Some((j, ">"))
                    } else if matches!(
                        x,
                        "less"
                            | "fewer"
                            | "smaller"
                            | "lower"
                            | "shorter"
                            | "younger"
                            | "below"
                            | "under"
                            | "lighter"
                    ) {
                        Some((j, "<"))
                    } else {
                        None
                    }
                });
                if let Some((cj, op)) = cmp {
                    let after = self
                        .next_ment(i + 1, &["of", "the", "all"])
                        .filter(|&k| self.ent(k).is_some_and(|(_, c)| !c.is_empty()));
                    let before = (0..self.ms.len()).rev().find(|&k| {
                        self.ms[k].e <= cj
                            && cj - self.ms[k].e <= 3
                            && self.ent(k).is_some_and(|(_, c)| !c.is_empty())
                    });
                    // The comparative itself may name the column ("older" → age).
                    let itself = self
                        .ment_at(cj)
                        .filter(|&k| self.ent(k).is_some_and(|(_, c)| !c.is_empty()));
                    if let Some(mk) = after.or(itself).or(before) {
                        let cols = self.ent(mk).map(|(_, c)| c.to_vec()).unwrap_or_default();
                        if let Some(c) = self.pick(&cols, mk, Some(main), Some(Kind::Number))
                            && self.idx.cols[c].kind == Kind::Number
                        {
                            self.used[mk] = true;
                            avg_conds.push((i, Cond::CmpAvg(c, op)));
                            if let Some(e) = after {
                                i = self.ms[e].e;
                                continue;
                            }
                        }
                    }
                }
            }
            // Explicit ordering ("order" inside a longer name, as in "average order value
            // by country", is that name's).
            let in_longer_name = self
                .ms
                .iter()
                .any(|m| m.s <= i && i < m.e && m.e - m.s > 1 && matches!(m.kind, MK::Ent { .. }));
            if matches!(
                w.as_str(),
                "order" | "ordered" | "sorted" | "sort" | "ranked" | "arranged" | "ordering"
            ) && !in_longer_name
                && ((i + 1)..(i + 4).min(n))
                    .chain(i.saturating_sub(2)..i)
                    .any(|j| {
                        matches!(
                            self.low(j),
                            "by" | "in"
                                | "of"
                                | "from"
                                | "alphabetically"
                                | "alphabetical"
                                | "ascending"
                                | "descending"
                                | "asc"
                                | "desc"
                                | "increasing"
                                | "decreasing"
                                | "reverse"
                                | "reversed"
                        )
                    })
            {
                let win_lo = i.saturating_sub(4);
                let win_hi = (i + 8).min(n);
                let mut desc = (win_lo..win_hi).any(|j| DESC_WORDS.contains(&self.low(j)));
                let from_hi = (win_lo..win_hi).any(|j| {
                    self.low(j) == "from"
                        && matches!(
                            self.low(j + 1),
                            "highest"
                                | "largest"
                                | "most"
                                | "biggest"
                                | "greatest"
                                | "high"
                                | "large"
                                | "big"
                                | "oldest"
                                | "old"
                                | "longest"
                                | "latest"
                                | "newest"
                                | "the"
                        )
                        && (!matches!(self.low(j + 1), "the")
                            || matches!(
                                self.low(j + 2),
                                "highest"
                                    | "largest"
                                    | "most"
                                    | "biggest"
                                    | "greatest"
                                    | "oldest"
                                    | "longest"
                                    | "latest"
                                    | "newest"
                            ))
                });
                if from_hi {
                    desc = true;
                }
                let alpha = (win_lo..win_hi)
                    .any(|j| matches!(self.low(j), "alphabetical" | "alphabetically"));
                let by = (i + 1..(i + 5).min(n)).find(|&j| matches!(self.low(j), "by" | "of"));
                let mut j = by.map_or(i + 1, |b| b + 1);
                let mut target = None;
                while j < (i + 9).min(n) {
                    if let Some(k) = self.ment_at(j) {
                        if let Some((_, cols)) = self.ent(k)
                            && !cols.is_empty()
                        {
                            target = Some(k);
                            break;
                        }
                        if !matches!(self.ms[k].kind, MK::Ent { .. }) {
                            break;
                        }
                    }
                    j += 1;
                }
                let by_count = (i + 1..(i + 6).min(n)).any(|j| {
                    matches!(self.low(j), "count" | "frequency" | "popularity")
                        || (self.low(j) == "number" && self.low(j + 1) == "of" && target.is_none())
                });
                if by_count && target.is_none() && count_order.is_none() {
                    count_order = Some((desc, main));
                    i += 1;
                    continue;
                }
                let mut col = None;
                if let Some(k) = target {
                    let cols = self.ent(k).map(|(_, c)| c.to_vec()).unwrap_or_default();
                    col = self.pick(&cols, k, Some(main), None);
                    self.used[k] = true;
                    if let Some(c) = col {
                        let oldword = (win_lo..win_hi).any(|j| self.low(j) == "oldest");
                        if oldword && self.idx.cols[c].kind != Kind::Number {
                            desc = !desc;
                        }
                    }
                }
                if col.is_none() && q.order.is_empty() {
                    col = sel.iter().find_map(|e| match e {
                        Expr::Col(c) if alpha => {
                            (self.idx.cols[*c].kind == Kind::Text).then_some(*c)
                        }
                        Expr::Col(c) => Some(*c),
                        _ => None,
                    });
                    if col.is_none() && alpha {
                        col = self.idx.label_col(main);
                    }
                }
                if let Some(c) = col
                    && !q.order.iter().any(|(e, _)| *e == Expr::Col(c))
                {
                    q.order.push((Expr::Col(c), desc));
                }
                i += 1;
                continue;
            }
            // Superlatives.
            let is_sup = (SUP_DESC.contains(&w.as_str()) || SUP_ASC.contains(&w.as_str()))
                && !(w == "top" && self.toks.get(i + 1).is_some_and(|t| t.number().is_some()));
            let in_range = i > 0 && matches!(self.low(i - 1), "from" | "to")
                || i > 1 && matches!(self.low(i - 2), "from" | "to") && self.low(i - 1) == "the";
            // "What is the largest order?": the row ranked by its one amount, no aggregate.
            let size_row = self
                .next_ment(i + 1, &[])
                .is_some_and(|mk| self.row_rank_col(&w, mk).is_some());
            let head_agg = cue_tok[i] && !size_row;
            if is_sup
                && !head_agg
                && !in_range
                && q.order.is_empty()
                && count_order.is_none()
                && (!in_head[i]
                    || size_row
                    || matches!(
                        w.as_str(),
                        "oldest"
                            | "youngest"
                            | "latest"
                            | "newest"
                            | "earliest"
                            | "most"
                            | "top"
                            | "cheapest"
                            | "priciest"
                            | "costliest"
                    ))
            {
                if w == "last" && self.low(i + 1) != "one" {
                    i += 1;
                    continue;
                }
                let mut desc = SUP_DESC.contains(&w.as_str());
                if w == "most" && matches!(self.low(i + 1), "recent" | "recently") {
                    desc = true;
                }
                if w == "top"
                    && let Some(v) = self.toks.get(i + 1).and_then(|t| t.number())
                {
                    limit = Some(v as u64);
                }
                // (Not across a clause break: "above 500, most expensive first".)
                let k_before = if i > 0 && !self.toks[i - 1].comma {
                    self.toks[i - 1]
                        .number()
                        .filter(|_| self.toks[i - 1].is_digits() || i >= 1)
                } else {
                    None
                };
                // "the 3 countries with the fewest people", "3 most highly rated": a number
                // shortly before the superlative is how many rows to keep.
                let k_near = (i.saturating_sub(6)..i).rev().find_map(|j| {
                    let t = &self.toks[j];
                    let before = self.low(j.saturating_sub(1));
                    (self.cut_number(j)
                        && !matches!(
                            before,
                            "than"
                                | "least"
                                | "most"
                                | "over"
                                | "under"
                                | "of"
                                | "above"
                                | "below"
                                | "exceeding"
                                | "between"
                                | "and"
                        )
                        && self
                            .ment_at(j)
                            .is_some_and(|k| matches!(self.ms[k].kind, MK::Number(..)))
                        && self
                            .next_ment(j + 1, &[])
                            .is_some_and(|k| self.ent(k).is_some_and(|(t, _)| !t.is_empty())))
                    .then(|| t.number().map(|v| (v, j)))
                    .flatten()
                });
                // The number kept is the cut: its mention is placed.
                let k_at = if k_before.is_some() {
                    Some(i - 1)
                } else {
                    k_near.map(|(_, j)| j)
                };
                if let Some(mk) = k_at.and_then(|j| self.ment_at(j))
                    && matches!(self.ms[mk].kind, MK::Number(..))
                {
                    self.used[mk] = true;
                }
                let k = k_before
                    .or(k_near.map(|(v, _)| v))
                    .map(|v| v as u64)
                    .or(limit)
                    .unwrap_or(1)
                    .max(1);
                // "most expensive first", "newest first": an order, not a cut.
                let limit_before = limit;
                // ("the highest first serve percentage": a column's word, not an order.)
                let sort_only = k_before.is_none()
                    && k_near.is_none()
                    && [i + 1, i + 2].iter().any(|&j| {
                        matches!(self.low(j), "first" | "last")
                            && (self.toks[j].stop || self.toks[j].comma || j + 1 == n)
                            && !self.ms.iter().any(|m| m.s <= j && j < m.e && m.e - m.s > 1)
                    });
                let skip: &[&str] = &[
                    "the", "number", "of", "amount", "count", "total", "recent", "recently", "a",
                    "an", "many", "highest", "largest", "greatest", "most", "value",
                ];
                let recent = w == "most" && matches!(self.low(i + 1), "recent" | "recently");
                // "Which hotel has the highest average rating?": an average (or total) of
                // a number of the rows of another table, per row of this one.
                let of_related = matches!(self.low(i + 1), "average" | "mean" | "total")
                    .then(|| self.next_ment(i + 2, &[]))
                    .flatten()
                    .filter(|&mk| !self.used[mk] && self.ms[mk].s <= i + 3)
                    .and_then(|mk| {
                        let (_, cols) = self.ent(mk)?;
                        let c = cols.iter().copied().find(|&c| {
                            self.idx.cols[c].kind == Kind::Number
                                && self.idx.cols[c].table != main
                                && !self.idx.cols[c].pk
                                && !self.idx.cols[c].fk
                        })?;
                        let t = self.idx.cols[c].table;
                        let only = cols.iter().all(|&o| self.idx.cols[o].table != main);
                        // (Or its rows roll up to this one's through another table:
                        // an agent's sales through the agent's listings.)
                        (only && (self.idx.adjacent(t, main) || self.idx.rolls_up(t, main, 2)))
                            .then_some((mk, c, t))
                    });
                if let Some((mk, c, t)) = of_related
                    && count_order.is_none()
                {
                    let agg = if self.low(i + 1) == "total" {
                        Agg::Sum
                    } else {
                        Agg::Avg
                    };
                    count_order = Some((desc, t));
                    ranked_measure = Some(Expr::Agg(agg, c, false));
                    limit = Some(k);
                    self.used[mk] = true;
                    cue_tok[i + 1] = true;
                    i += 1;
                    continue;
                }
                let nk = self
                    .next_ment(i + 1, skip)
                    .filter(|&k| !self.used[k] && !recent);
                let count_words = !recent && matches!(w.as_str(), "most" | "fewest" | "least")
                    || (i + 2 < n && self.low(i + 1) == "number" && self.low(i + 2) == "of");
                let mut done = false;
                if let Some(mk) = nk
                    && let Some((tables, cols)) = self.ent(mk)
                {
                    let (tables, cols) = (tables.to_vec(), cols.to_vec());
                    let numeric_col = self.pick(&cols, mk, Some(main), Some(Kind::Number));
                    let numeric_ok = numeric_col.is_some_and(|c| {
                        matches!(self.idx.cols[c].kind, Kind::Number | Kind::Date)
                            && self.idx.cols[c].table == main
                    });
                    if count_words
                        && !tables.is_empty()
                        && (!numeric_ok || tables.iter().any(|t| *t != main))
                    {
                        count_order = Some((desc, self.best_table(&tables, mk)));
                        limit = Some(k);
                        done = true;
                    } else if let Some(c) = numeric_col {
                        // (Never by a name: "the smallest team" is no name that sorts
                        // first.)
                        let label = self.idx.label_col(self.idx.cols[c].table) == Some(c);
                        if matches!(self.idx.cols[c].kind, Kind::Number | Kind::Date)
                            || !count_words && !label
                        {
                            q.order.push((Expr::Col(c), desc));
                            limit = Some(k);
                            done = true;
                        } else if !tables.is_empty() {
                            count_order = Some((desc, self.best_table(&tables, mk)));
                            limit = Some(k);
                            done = true;
                        } else if count_words && self.idx.cols[c].table != main {
                            // "the largest number of languages": count the rows holding them.
                            count_order = Some((desc, self.idx.cols[c].table));
                            limit = Some(k);
                            done = true;
                        }
                    }
                    if done {
                        self.used[mk] = true;
                    }
                }
                // "the cheapest product", "the most expensive one": ordered by its price.
                let pricey = matches!(self.low(i + 1), "expensive" | "costly" | "pricey");
                let by_price = matches!(w.as_str(), "cheapest" | "priciest" | "costliest")
                    || matches!(w.as_str(), "most" | "least") && pricey;
                if !done && by_price {
                    let mut look: Vec<usize> = nk
                        .and_then(|mk| self.ent(mk))
                        .map(|(t, _)| t.to_vec())
                        .unwrap_or_default();
                    look.push(main);
                    look.extend(extra_tables.iter().copied());
                    if let Some(c) = look.iter().find_map(|&t| self.price_col(t)) {
                        let desc = w != "cheapest" && w != "least";
                        q.order.push((Expr::Col(c), desc));
                        limit = Some(k);
                        done = true;
                        if let Some(mk) = nk {
                            self.used[mk] = true;
                        }
                    }
                }
                if !done {
                    let adj = matches!(
                        w.as_str(),
                        "oldest"
                            | "youngest"
                            | "latest"
                            | "newest"
                            | "earliest"
                            | "most"
                            | "last"
                            | "longest"
                            | "shortest"
                    ) && (w != "most"
                        || matches!(self.low(i + 1), "recent" | "recently"));
                    // The noun after the adjective names where to look ("the youngest dog").
                    let mut look = extra_tables.clone();
                    if let Some(mk) = nk
                        && let Some((t, _)) = self.ent(mk)
                    {
                        look.splice(0..0, t.iter().copied());
                    }
                    look.extend(self.table_mentions().iter().map(|(t, _)| *t));
                    if adj && let Some((c, d)) = self.age_or_date(main, &look, &w) {
                        q.order.push((Expr::Col(c), d));
                        limit = Some(k);
                        done = true;
                    }
                }
                if !done && nk.is_none() {
                    // "whose number of products is the largest": the column comes before.
                    if let Some(pk) = (0..self.ms.len()).rev().find(|&pk| {
                        self.ms[pk].e <= i
                            && i - self.ms[pk].e <= 3
                            && (self.ms[pk].e..i).all(|j| {
                                matches!(self.low(j), "is" | "the" | "was" | "are" | "were" | "be")
                            })
                    }) && let Some((_, cols)) = self.ent(pk)
                    {
                        let cols = cols.to_vec();
                        if let Some(c) = self.pick(&cols, pk, Some(main), Some(Kind::Number))
                            && matches!(self.idx.cols[c].kind, Kind::Number | Kind::Date)
                        {
                            self.consume_item(pk, &mut sel);
                            q.order.push((Expr::Col(c), desc));
                            limit = Some(k);
                            done = true;
                        }
                    }
                }
                // "the largest order", "our 5 biggest orders": the size of a row whose table
                // has one amount of money and nothing else measured is that amount.
                // (The rows' noun may be the output already: "What is the highest mountain?")
                if !done
                    && !recent
                    && let Some(mk) = self.next_ment(i + 1, skip)
                    && let Some(c) = self.row_rank_col(&w, mk)
                {
                    q.order.push((Expr::Col(c), desc));
                    limit = Some(k);
                    done = true;
                    let t = self.idx.cols[c].table;
                    if t != main {
                        extra_tables.push(t);
                    }
                }
                if !done
                    && count_words
                    && i + 1 < n
                    && matches!(
                        self.low(i + 1),
                        "times" | "often" | "frequent" | "common" | "popular"
                    )
                {
                    count_order = Some((desc, main));
                    limit = Some(k);
                }
                if sort_only {
                    limit = limit_before;
                }
                i += 1;
                continue;
            }
            if (w == "top" || (w == "first" && self.toks.get(i + 1).is_some_and(|t| t.is_digits())))
                && let Some(v) = self.toks.get(i + 1).and_then(|t| t.number())
            {
                limit = Some(v as u64);
                // "top 5 X by Y": order by Y (summed across a child table when needed).
                let mut j = i + 2;
                while j < n && self.low(j) != "by" {
                    j += 1;
                }
                if j < n {
                    let summed = matches!(self.low(j + 1), "total" | "sum");
                    let from = if summed { j + 2 } else { j + 1 };
                    if let Some(k) = self.next_ment(from, &["the", "of", "their", "its"])
                        && let Some((_, cols)) = self.ent(k)
                    {
                        let cols = cols.to_vec();
                        if let Some(c) = self.pick(&cols, k, Some(main), Some(Kind::Number)) {
                            self.used[k] = true;
                            if self.idx.cols[c].table != main || summed {
                                q.order.push((Expr::Agg(Agg::Sum, c, false), true));
                                group_target.get_or_insert((main, true));
                                if self.idx.cols[c].table != main {
                                    extra_tables.push(self.idx.cols[c].table);
                                }
                            } else {
                                q.order.push((Expr::Col(c), true));
                            }
                        }
                    }
                }
            }
            i += 1;
        }

        // ---- Values, literals, numbers, negation of related tables.
        let mut conds: Vec<(usize, Cond)> = avg_conds;
        let mut negated_end: Option<usize> = None;
        for k in 0..self.ms.len() {
            if self.used[k] {
                continue;
            }
            let m = self.ms[k].clone();
            // "leaving out cancelled and returned orders": a value coordinated with a
            // negated value just before it is negated too.
            let coordinated = negated_end.is_some_and(|e| {
                (m.s == e + 1 && matches!(self.low(e), "and" | "or" | "nor"))
                    || (m.s == e && e > 0 && self.toks[e - 1].comma)
            });
            let negated = coordinated || (m.s.saturating_sub(3)..m.s).any(|j| self.negates(j));
            negated_end = (negated && matches!(m.kind, MK::Value { .. })).then_some(m.e);
            if self.verb_of_next_value(k) {
                // "orders shipped to Japan": the verb of the column Japan is of
                // (`ship_country`), not the status 'shipped'.
                self.used[k] = true;
                self.placed_by_rule.push(k);
                continue;
            }
            if let Some((c, absent)) = self.key_said(k, main) {
                // "employees without a manager": the key to the one named is not set;
                // "employees who have a manager": it is.
                self.used[k] = true;
                self.placed_by_rule.push(k);
                let cond = if absent {
                    Cond::IsNull(c)
                } else {
                    Cond::NotNull(c)
                };
                self.push_cond(&mut conds, m.s, cond, main);
                continue;
            }
            match &m.kind {
                MK::Value { cols, text, mapped } => {
                    let mut col = None;
                    if let Some(pk) = self.prev_ent(k, 3, false) {
                        let pcols = self.ent(pk).map(|(_, c)| c.to_vec()).unwrap_or_default();
                        if let Some(c) = pcols.iter().find(|c| cols.contains(c)) {
                            col = Some(*c);
                            self.consume_item(pk, &mut sel);
                        }
                    }
                    // "customers in India", "customers from Japan": a value said right after
                    // a table's noun and "in"/"from" is of that table's column.
                    if col.is_none()
                        && m.s >= 2
                        && matches!(self.low(m.s - 1), "in" | "from")
                        && let Some(pk) = k.checked_sub(1)
                        && self.ms[pk].e == m.s - 1
                        && let Some((ptables, _)) = self.ent(pk)
                    {
                        col = cols
                            .iter()
                            .copied()
                            .find(|c| ptables.contains(&self.idx.cols[*c].table));
                    }
                    // "German customers": a value said before a table's noun is of that
                    // table's column.
                    if col.is_none()
                        && let Some(nk) = self.ment_at(m.e)
                        && let Some((tables, _)) = self.ent(nk)
                    {
                        col = cols
                            .iter()
                            .copied()
                            .find(|c| tables.contains(&self.idx.cols[*c].table));
                    }
                    let col = col.or_else(|| self.pick(cols, k, Some(main), None));
                    if let Some(c) = col
                        && negated
                        && self.neg.is_none()
                        && self.idx.cols[c].table != main
                        && self.fans_out(main, self.idx.cols[c].table)
                        && let Some(cue) = self.neg_cue(m.s)
                        && let Some((a, mut sub, scope)) = self.not_in(main, self.idx.cols[c].table)
                    {
                        // "students who do not have a cat": no related row with that value.
                        sub.conds
                            .push(Cond::Cmp(c, "=", self.value_lit(c, text, mapped)));
                        conds.push((m.s, Cond::NotIn(a, Box::new(sub))));
                        self.neg = Some((cue, conds.len() - 1, scope));
                        continue;
                    }
                    if let Some(c) = col {
                        let lit = self.value_lit(c, text, mapped);
                        let cond = Cond::Cmp(c, if negated { "!=" } else { "=" }, lit);
                        self.push_cond(&mut conds, m.s, cond, main);
                    }
                }
                MK::Literal(text) => {
                    let like = (m.s.saturating_sub(2)..m.s).any(|j| {
                        matches!(
                            self.low(j),
                            "like"
                                | "contain"
                                | "contains"
                                | "containing"
                                | "include"
                                | "includes"
                                | "including"
                                | "substring"
                                | "word"
                                | "letter"
                                | "string"
                                | "phrase"
                        )
                    }) || (self.low(m.e) == "in"
                        && self
                            .next_ment(m.e + 1, &["the", "its", "their", "his", "her"])
                            .is_some());
                    let mut col = None;
                    if self.low(m.e) == "in"
                        && let Some(nk) =
                            self.next_ment(m.e + 1, &["the", "its", "their", "his", "her"])
                        && self.ent(nk).is_some()
                    {
                        col = self.text_col_of(nk, text, like, main);
                        self.used[nk] = true;
                    }
                    // "Aberdeen or Abilene": the same column as the value just before.
                    if col.is_none()
                        && matches!(self.low(m.s.saturating_sub(1)), "or" | "and")
                        && let Some((_, last)) = conds.last()
                    {
                        let prev_col = match last {
                            Cond::Cmp(c, _, Lit::Str(_)) | Cond::Like(c, _, _) => Some(*c),
                            Cond::Or(parts) => parts.last().and_then(|p| match p {
                                Cond::Cmp(c, _, Lit::Str(_)) => Some(*c),
                                _ => None,
                            }),
                            _ => None,
                        };
                        col = prev_col.filter(|c| self.fits_as(*c, text, like));
                    }
                    // "in Gelderland district", "in Aberdeen city": after a preposition, the
                    // value names the column said right after it.
                    if col.is_none()
                        && !like
                        && matches!(self.low(m.s.saturating_sub(1)), "in" | "from" | "at" | "of")
                        && let Some(nk) = self.ment_at(m.e)
                        && !self.used[nk]
                        && let Some(c) = self.text_col_of(nk, text, false, main)
                    {
                        col = Some(c);
                        self.used[nk] = true;
                    }
                    // "English and French as official languages", "the Dutch language": the
                    // column a name is a value of, said after it in the same clause.
                    if col.is_none()
                        && !like
                        && let Some((c, nk)) = self.col_named_after(k, text, main)
                    {
                        col = Some(c);
                        self.used[nk] = true;
                    }
                    // A country or state the samples miss, and the column that holds it.
                    let place = if like || col.is_some() {
                        None
                    } else {
                        self.place_col(main, text, &extra_tables)
                    };
                    let reach = if like { 6 } else { 4 };
                    if col.is_none()
                        && let Some(pk) = self.prev_ent(k, reach, like)
                    {
                        let (ptables, pcols) = self
                            .ent(pk)
                            .map(|(t, c)| (t.to_vec(), c.to_vec()))
                            .unwrap_or_default();
                        let text_cols: Vec<usize> = pcols
                            .iter()
                            .copied()
                            .filter(|c| self.fits_as(*c, text, like))
                            .collect();
                        let ptable = ptables.first().map(|_| self.best_table(&ptables, pk));
                        let plabel = ptable.and_then(|t| self.text_key_col(t, text));
                        if !text_cols.is_empty() && (ptables.is_empty() || plabel.is_none()) {
                            col = self.pick(&text_cols, pk, Some(main), Some(Kind::Text));
                            self.consume_item(pk, &mut sel);
                        } else if place.is_some() {
                            // "cities in Texas": a place, not a city's name (below).
                        } else if let (Some(t), Some(l)) = (ptable, plabel) {
                            col = Some(l);
                            if t != main {
                                extra_tables.push(t);
                            }
                        }
                    }
                    if col.is_none() && like {
                        // "whose names contain 'Al'": a text column the question asks for.
                        col = sel.iter().find_map(|e| match e {
                            Expr::Col(c) if self.fits_as(*c, text, true) => Some(*c),
                            _ => None,
                        });
                    }
                    if col.is_none()
                        && let Some((c, kind)) = place
                    {
                        // "cities of Brazil" → `countrycode = 'BRA'`, "in Texas" →
                        // `district = 'Texas'`: a place's column, not a row's name.
                        if self.idx.cols[c].table != main {
                            extra_tables.push(self.idx.cols[c].table);
                        }
                        let cond =
                            Cond::Cmp(c, if negated { "!=" } else { "=" }, Lit::Str(text.clone()));
                        self.push_cond(&mut conds, m.s, cond, main);
                        // "What is the population of Texas?": one amount of a state, whose
                        // rows here are many (its cities), is their sum, when no rows are
                        // asked for. (A country has a row of its own as often.)
                        let many_rows = self.idx.label_col(main) != Some(c)
                            && kind == crate::lexicon::Place::State;
                        if many_rows
                            && self.table_mentions().is_empty()
                            && q.order.is_empty()
                            && limit.is_none()
                            && let [Expr::Col(x)] = sel.as_slice()
                            && self.idx.cols[*x].table == main
                            && self.idx.cols[*x].kind == Kind::Number
                            && !self.idx.cols[*x].pk
                        {
                            sel = vec![Expr::Agg(Agg::Sum, *x, false)];
                        }
                        continue;
                    }
                    if col.is_none() {
                        col = self.text_key_col(main, text);
                    }
                    if col.is_none() {
                        // A neighbouring table's name column ("languages spoken in Aruba").
                        let mut near: Vec<usize> = self
                            .table_mentions()
                            .iter()
                            .map(|(t, _)| *t)
                            .filter(|t| *t != main)
                            .collect();
                        near.extend(
                            (0..self.idx.tables.len()).filter(|t| self.idx.adjacent(main, *t)),
                        );
                        if let Some((t, c)) = near
                            .into_iter()
                            .find_map(|t| self.text_key_col(t, text).map(|c| (t, c)))
                        {
                            col = Some(c);
                            extra_tables.push(t);
                        }
                    }
                    match col {
                        Some(c) => {
                            let text = self.in_column_form(c, text);
                            let cond = if like {
                                Cond::Like(c, text, negated)
                            } else {
                                Cond::Cmp(c, if negated { "!=" } else { "=" }, Lit::Str(text))
                            };
                            self.push_cond(&mut conds, m.s, cond, main);
                        }
                        None => not_understood.push(format!("the value '{text}'")),
                    }
                }
                MK::Number(v, text) => {
                    let rel_unit = matches!(
                        self.low(m.e),
                        "days" | "day" | "weeks" | "week" | "months" | "month" | "years" | "year"
                    ) && matches!(
                        self.low(m.s.saturating_sub(1)),
                        "last" | "past" | "previous"
                    );
                    if rel_unit {
                        continue;
                    }
                    let limit_number = limit == Some(*v as u64)
                        && (self
                            .next_ment(m.e, &["most", "highly", "least"])
                            .is_some_and(|k| self.ent(k).is_some_and(|(t, _)| !t.is_empty()))
                            || SUP_DESC.contains(&self.low(m.e))
                            || SUP_ASC.contains(&self.low(m.e)));
                    if limit_number {
                        continue;
                    }
                    if self.handle_number(
                        k,
                        *v,
                        text,
                        main,
                        &mut conds,
                        &mut having,
                        &extra_tables,
                        &mut sel,
                    ) {
                        continue;
                    }
                    // Numbers that set a limit were consumed earlier.
                    let prev = self.low(m.s.saturating_sub(1));
                    if matches!(prev, "top" | "first") || limit == Some(*v as u64) {
                        continue;
                    }
                    not_understood.push(format!("the number {text}"));
                }
                MK::Ent { tables, .. } => {
                    if tables.is_empty() {
                        continue;
                    }
                    let t = self.best_table(tables, k);
                    // Inside a negated clause: the table joins the subquery.
                    if let Some((cue, ci, scope)) = self.neg.clone()
                        && !self.boundary(cue, m.s)
                        && t != main
                    {
                        if !scope.contains(&t)
                            && let Some((_, Cond::NotIn(_, sub))) = conds.get_mut(ci)
                            && let Some(steps) = self.idx.path(&scope, t, 2)
                        {
                            let mut scope = scope.clone();
                            for (a, b) in steps {
                                if scope.insert(self.idx.cols[b].table) {
                                    sub.joins.push((a, b));
                                }
                            }
                            self.neg = Some((cue, ci, scope));
                        }
                        continue;
                    }
                    if let Some(cue) = self.neg_cue(m.s)
                        && t != main
                        && let Some((a, sub, scope)) = self.not_in(main, t)
                    {
                        conds.push((m.s, Cond::NotIn(a, Box::new(sub))));
                        self.neg = Some((cue, conds.len() - 1, scope));
                        continue;
                    }
                    if !tables.is_empty()
                        && !tables.contains(&main)
                        && !extra_tables.contains(&tables[0])
                    {
                        let t = self.best_table(tables, k);
                        let near = self.idx.path(&BTreeSet::from([main]), t, 2).is_some();
                        if near && !matches!(&m.kind, MK::Ent { partial: true, .. }) {
                            extra_tables.push(t);
                        }
                    }
                }
            }
        }
        // Relative time ranges.
        if let Some((rel, at)) = self.relative() {
            // ("bought last year but not this year": two ranges, which one query with one
            // window cannot tell apart.)
            if self.relative_from(at + 2).is_some() {
                not_understood.push("two time ranges".into());
            }
            let measures: Vec<&Expr> = sel.iter().chain(q.order.iter().map(|(e, _)| e)).collect();
            let negated = self.negated_date(at, &conds);
            let col = negated
                .or_else(|| self.measure_date(main, &measures))
                .or_else(|| self.date_col(main, &extra_tables))
                .or_else(|| {
                    let (c, p) = self.parent_date(main)?;
                    extra_tables.push(p);
                    Some(c)
                });
            match col {
                // (Inside the negated clause's subquery when it dates those rows.)
                Some(c) if negated == Some(c) => {
                    self.push_cond(&mut conds, at, Cond::Relative(c, rel), main);
                }
                Some(c) => conds.push((at, Cond::Relative(c, rel))),
                None => not_understood.push("a time range, but no date column".into()),
            }
        }
        if let Some((w, at)) = self.time.window.clone() {
            // The dates of the table named nearest before the window ("customers who
            // ordered in 2023": the orders' dates), unless a date column is named.
            let near = self
                .table_mentions()
                .iter()
                .filter(|(_, p)| *p < at)
                .max_by_key(|(_, p)| *p)
                .map(|(t, _)| *t);
            let own = self.date_col(main, &extra_tables);
            let negated = self.negated_date(at, &conds);
            // A measure of the main table's rows ("revenue of consumer customers in 2024")
            // or their count when the table named nearest is one each row points at ("How
            // many orders did Brazilian customers place in 2023?"; not "How many customers
            // purchased in 2023?") falls in the window by the main table's own dates.
            // (Not across a relative clause that dates the other rows: "orders from
            // customers who joined in 2023".)
            let relative = self
                .table_mentions()
                .iter()
                .filter(|(_, p)| *p < at)
                .map(|(_, p)| *p)
                .max()
                .is_some_and(|p| {
                    (p..at).any(|j| matches!(self.low(j), "who" | "that" | "which" | "whose"))
                });
            let points_at_near = !relative
                && near.is_some_and(|t| {
                    self.idx.edges.iter().any(|e| {
                        self.idx.cols[e.from].table == main && self.idx.cols[e.to].table == t
                    })
                });
            let measured = sel.iter().any(|e| match e {
                Expr::CountStar => points_at_near,
                Expr::Agg(_, c, _) => self.idx.cols[*c].table == main,
                Expr::Col(c) => {
                    self.idx.cols[*c].metric.is_some() && self.idx.cols[*c].table == main
                }
            });
            let col = match (own, near) {
                _ if negated.is_some() => negated,
                (Some(c), _) if self.mentioned(c) => Some(c),
                (Some(c), Some(t)) if t != main && measured && !self.date_named(t) => Some(c),
                (_, Some(t)) if t != main => self.date_col(t, &[]).or(own),
                (c, _) => c,
            };
            // "Which sales rep brought in the most revenue in 2024?": the window dates the
            // rows the ranking measure adds up, not the reps (unless their date is said).
            let measures: Vec<&Expr> = sel.iter().chain(q.order.iter().map(|(e, _)| e)).collect();
            let col = match self.measure_date(main, &measures) {
                Some(m)
                    if col.is_none_or(|c| self.idx.cols[c].table == main && !self.mentioned(c)) =>
                {
                    Some(m)
                }
                _ => col,
            };
            // "units sold in 2024" of order lines without dates: the dates of the one table
            // they belong to (their order).
            let col = col.or_else(|| {
                let (c, p) = self.parent_date(main)?;
                extra_tables.push(p);
                Some(c)
            });
            match col {
                Some(c) => {
                    let lit = |d: &Option<String>| d.clone().map(Lit::Str);
                    let cond = match (lit(&w.from), lit(&w.until)) {
                        (Some(a), Some(b)) => Cond::Range(c, a, b),
                        (Some(a), None) => Cond::Cmp(c, ">=", a),
                        (None, Some(b)) => Cond::Cmp(c, "<", b),
                        (None, None) => Cond::NotNull(c),
                    };
                    if negated == Some(c) {
                        self.push_cond(&mut conds, at, cond, main);
                    } else {
                        conds.push((at, cond));
                    }
                }
                None => not_understood.push(format!("\"{}\", but no date column", w.said)),
            }
        }
        if !not_understood.is_empty() && sel.is_empty() && conds.is_empty() {
            return Err(format!(
                "I recognised the table `{}` but not {}",
                self.idx.tables[main].name,
                not_understood.join(", ")
            ));
        }
        if !not_understood.is_empty() {
            return Err(format!(
                "I recognised the table `{}` but could not place {}",
                self.idx.tables[main].name,
                not_understood.join(", ")
            ));
        }
        q.conds = conds.into_iter().map(|(_, c)| c).collect();

        if count_order.is_none() && having.is_none() {
            self.sum_fanned_order(&mut q, &sel, main, limit, &mut group_target);
        }

        // ---- Grouping, having, counted superlatives.
        let key = |t: usize| self.idx.key_col(t).or_else(|| self.idx.label_col(t));
        let needs_group = count_order.is_some() || having.is_some();
        let aggregated = sel.iter().any(|e| !matches!(e, Expr::Col(_)))
            || q.order.iter().any(|(e, _)| !matches!(e, Expr::Col(_)));
        match group_target {
            Some((g, true)) if !aggregated && !needs_group && g != main => extra_tables.push(g),
            // "List each charge type and its amount": a listed column, not a grouping.
            Some((g, false)) if !aggregated && !needs_group && !sel.contains(&Expr::Col(g)) => {
                let at = sel_pos
                    .iter()
                    .filter(|p| **p < group_pos)
                    .count()
                    .min(sel.len());
                sel.insert(at, Expr::Col(g));
            }
            _ => {}
        }
        // A table keyed by several columns (`countrylanguage`: country and language) has no
        // one row identity to group by: "the language spoken by the most countries" groups
        // by the language shown. (A table with no declared key keeps its `id`-like key.)
        let composite_key = |t: usize| self.idx.key_width(t) >= 2;
        if let (Some((g, is_table)), true) = (group_target, aggregated || needs_group) {
            let shown_of = |t: usize| {
                sel.iter().find_map(|e| match e {
                    Expr::Col(c) if self.idx.cols[*c].table == t => Some(*c),
                    _ => None,
                })
            };
            let (gcol, label) = if is_table && composite_key(g) {
                let c = shown_of(g).or_else(|| self.idx.label_col(g));
                (c, c)
            } else if is_table {
                (key(g), self.idx.label_col(g))
            } else {
                (Some(g), None)
            };
            if let Some(gc) = gcol {
                if is_table && g != main {
                    extra_tables.push(g);
                }
                q.group.push(gc);
                let show = if asks_ids && is_table {
                    gc
                } else {
                    label.unwrap_or(gc)
                };
                let has_plain = sel.iter().any(|e| matches!(e, Expr::Col(_)));
                if !(sel.contains(&Expr::Col(show)) || is_table && has_plain) {
                    let at = sel_pos
                        .iter()
                        .filter(|p| **p < group_pos)
                        .count()
                        .min(sel.len());
                    sel.insert(at, Expr::Col(show));
                }
            }
        } else if needs_group {
            let plain: Vec<usize> = sel
                .iter()
                .filter_map(|e| match e {
                    Expr::Col(c) => Some(*c),
                    _ => None,
                })
                .collect();
            let counted = count_order.map(|(_, t)| t).or(having.as_ref().map(|h| h.2));
            let group_by_plain = !plain.is_empty()
                && (counted == Some(main) || composite_key(main))
                && plain.iter().all(|c| {
                    self.idx.cols[*c].table == main
                        && (!self.idx.cols[*c].pk || composite_key(main))
                });
            if group_by_plain {
                q.group.extend(plain);
            } else if let Some(k) = key(main) {
                q.group.push(k);
            }
        } else {
            let has_agg = sel.iter().any(|e| !matches!(e, Expr::Col(_)));
            let plain: Vec<usize> = sel
                .iter()
                .filter_map(|e| match e {
                    Expr::Col(c) => Some(*c),
                    _ => None,
                })
                .collect();
            if has_agg && !plain.is_empty() {
                q.group.extend(plain);
            }
        }
        if needs_group && q.group.is_empty() {
            let plain: Vec<usize> = sel
                .iter()
                .filter_map(|e| match e {
                    Expr::Col(c) => Some(*c),
                    _ => None,
                })
                .collect();
            if plain.is_empty() {
                return Err(format!(
                    "I recognised the table `{}` but not what to group its rows by",
                    self.idx.tables[main].name
                ));
            }
            q.group.extend(plain);
        }
        if let Some((desc, t)) = count_order {
            if t != main {
                extra_tables.push(t);
            }
            // (Rows with no value to average are no candidates: PostgreSQL would rank their
            // NULL average first.)
            if let Some(Expr::Agg(_, c, _)) = ranked_measure {
                q.conds.push(Cond::NotNull(c));
            }
            q.order
                .insert(0, (ranked_measure.take().unwrap_or(Expr::CountStar), desc));
        }
        if let Some((op, v, t)) = having {
            if t != main {
                extra_tables.push(t);
            }
            q.having = Some((op, v));
        }
        // "the names and ids of all documents": the ids were no column mention of their own.
        let id_shown = sel.iter().any(|e| {
            matches!(e, Expr::Col(c) if self.idx.cols[*c].short.last().is_some_and(|w| w == "id"))
        });
        if asks_ids
            && !id_shown
            && !sel.is_empty()
            && sel.iter().all(|e| matches!(e, Expr::Col(_)))
            && let Some(t) = head_tables.first().copied().or(Some(main))
            && let Some(c) = self
                .idx
                .key_col(t)
                .filter(|&c| self.idx.cols[c].short.last().is_some_and(|w| w == "id"))
            && sel
                .iter()
                .all(|e| matches!(e, Expr::Col(k) if self.idx.cols[*k].table == t))
        {
            let id_at = (0..head_end.min(n)).find(|&j| matches!(self.low(j), "id" | "ids"));
            let other_at = (0..head_end.min(n))
                .find(|&j| self.ment_at(j).is_some() && !matches!(self.low(j), "id" | "ids"));
            if id_at < other_at {
                sel.insert(0, Expr::Col(c));
            } else {
                sel.push(Expr::Col(c));
            }
        }
        if sel.is_empty() {
            let t = head_tables.first().copied().unwrap_or(main);
            let key = self
                .idx
                .key_col(t)
                .filter(|&c| self.idx.cols[c].short.last().is_some_and(|w| w == "id"));
            if asks_ids && let Some(c) = key {
                sel.push(Expr::Col(c));
                if t != main {
                    extra_tables.push(t);
                }
            } else if let Some(l) = self.idx.label_col(t) {
                sel.push(Expr::Col(l));
                if t != main {
                    extra_tables.push(t);
                }
            } else {
                for &c in &self.idx.tables[main].cols {
                    sel.push(Expr::Col(c));
                }
            }
        }
        if distinct && !sel.iter().any(|e| !matches!(e, Expr::Col(_))) {
            q.distinct = true;
        }
        q.items = sel;
        q.limit = limit;

        // ---- Joins.
        let mut needed: Vec<usize> = Vec::new();
        let mut note = |t: usize| {
            if t != main && !needed.contains(&t) {
                needed.push(t);
            }
        };
        let col_t = |c: usize| self.idx.cols[c].table;
        for e in q.items.iter().chain(q.order.iter().map(|(e, _)| e)) {
            match e {
                Expr::Col(c) | Expr::Agg(_, c, _) => note(col_t(*c)),
                Expr::CountStar => {}
            }
        }
        for c in &q.conds {
            for col in cond_cols(c) {
                note(col_t(col));
            }
        }
        for g in &q.group {
            note(col_t(*g));
        }
        for t in &extra_tables {
            note(*t);
        }
        let mut tree = BTreeSet::from([main]);
        for t in needed {
            if tree.contains(&t) {
                continue;
            }
            match self.idx.path(&tree, t, self.opts.max_join_hops) {
                Some(steps) => {
                    for (a, b) in steps {
                        let nt = col_t(b);
                        if tree.insert(nt) {
                            q.joins.push((a, b));
                        }
                    }
                }
                None => {
                    return Err(format!(
                        "I recognised the tables `{}` and `{}` but found no foreign-key path between them",
                        self.idx.tables[main].name, self.idx.tables[t].name
                    ));
                }
            }
        }
        // "both X and Y": the same query for each, intersected.
        if let Some(bi) = q.conds.iter().position(|c| matches!(c, Cond::Both(_)))
            && q.order.is_empty()
            && q.limit.is_none()
            && q.items.iter().all(|e| matches!(e, Expr::Col(_)))
            && let Cond::Both(parts) = q.conds[bi].clone()
            && parts.len() == 2
        {
            let mut second = q.clone();
            q.conds[bi] = parts[0].clone();
            second.conds[bi] = parts[1].clone();
            q.intersect = Some(Box::new(second));
        }
        // Counting rows of the main table through a one-to-many join counts each row once.
        let fans_out = q.joins.iter().any(|(_, b)| {
            self.idx
                .edges
                .iter()
                .any(|e| e.from == *b && tree.contains(&self.idx.cols[e.to].table))
        });
        if q.items == [Expr::CountStar]
            && q.group.is_empty()
            && fans_out
            && let Some(k) = self.idx.key_col(main).filter(|&c| self.idx.cols[c].pk)
        {
            q.items = vec![Expr::Agg(Agg::Count, k, true)];
        }
        if q.items.is_empty() {
            return Err(format!(
                "I recognised the table `{}` but not what to compute",
                self.idx.tables[main].name
            ));
        }
        if let Some(g) = self.time.grain {
            let in_query: Vec<usize> = tree.iter().copied().filter(|&t| t != main).collect();
            let Some(c) = self.date_col(main, &in_query) else {
                return Err(format!(
                    "I understood a series by {}, but `{}` has no date column",
                    g.name(),
                    self.idx.tables[main].name
                ));
            };
            // "orders by month": the rows of each month are counted.
            let listing = q
                .items
                .iter()
                .all(|e| matches!(e, Expr::Col(c) if self.idx.cols[*c].metric.is_none()));
            if listing && q.group.is_empty() {
                q.items = vec![Expr::CountStar];
                q.distinct = false;
            }
            if self.time.pick {
                // "Which month had the most orders?": the periods ranked by the measure (the
                // count of rows unless one is named; "the highest revenue" is the metric
                // itself, ranked), the first one (or as many as asked).
                let is_measure =
                    |e: &Expr| !matches!(e, Expr::Col(c) if self.idx.cols[*c].metric.is_none());
                let ranked = |e: &Expr, desc: bool| match e {
                    Expr::Agg(a @ (Agg::Max | Agg::Min), c, _)
                        if self.idx.cols[*c].metric.is_some() =>
                    {
                        (Expr::Col(*c), *a == Agg::Max)
                    }
                    _ => (e.clone(), desc),
                };
                let fewest = self.toks.iter().any(|t| SUP_ASC.contains(&t.low.as_str()));
                let (by, desc) = q
                    .order
                    .iter()
                    .find(|(e, _)| is_measure(e))
                    .map(|(e, d)| ranked(e, *d))
                    .or_else(|| {
                        q.items
                            .iter()
                            .find(|e| is_measure(e))
                            .map(|e| ranked(e, !fewest))
                    })
                    .unwrap_or((Expr::CountStar, !fewest));
                q.items = vec![by.clone()];
                q.group.clear();
                q.distinct = false;
                q.order = vec![(by, desc)];
                q.limit = Some(q.limit.unwrap_or(1));
            }
            q.bucket = Some((c, g));
        }
        Ok(q)
    }

    /// Where the head (the part naming the output) that starts at `start` ends: at the
    /// first relative word, preposition or verb after a mention.
    fn head_end_from(&self, start: usize) -> usize {
        let n = self.toks.len();
        let mut seen_ment = false;
        let mut seen_table = false;
        // ("List employees hired in 2022": the rows asked for by a verb of listing too.)
        let listing = |w: &str| matches!(w, "list" | "show" | "give" | "display" | "find" | "get");
        let asks_which = matches!(self.low(start), "which" | "what")
            || self.low(start) == "how" && self.low(start + 1) == "many";
        let lists = listing(self.low(start)) || start > 0 && listing(self.low(start - 1));
        let lex = crate::lexicon::lexicon();
        for i in start..n {
            let w = self.low(i);
            if self.ms.iter().any(|m| m.s < i && i < m.e) {
                continue;
            }
            // "Which products cost less than 20 dollars?", "Which customers signed up
            // before 2023?": a verb after the rows asked for starts what they must meet.
            // (A noun-verb is the verb after a plural subject: "products cost", not "the
            // product cost".)
            let plural_before = i > 0 && self.low(i - 1).ends_with('s');
            let verb =
                lex.is_verb(w) || lex.lemma(w).is_some() && !w.ends_with('s') && plural_before;
            let compared = self.toks.get(i + 1).is_some_and(|t| {
                t.number().is_some()
                    || matches!(
                        t.low.as_str(),
                        "less"
                            | "more"
                            | "fewer"
                            | "over"
                            | "under"
                            | "above"
                            | "below"
                            | "before"
                            | "after"
                            | "since"
                            | "between"
                            | "at"
                            | "up"
                    )
            });
            // ("line 1" is a column, not a verb and a number.)
            let one_word = !self
                .ms
                .iter()
                .any(|m| m.s == i && (m.s..m.e).any(|j| self.toks[j].number().is_some()));
            // (An irregular past before an article or a superlative ends it like a regular
            // one: "Which author wrote the most papers?", "Which player won the most
            // matches?"; not "customers bought products".)
            let past = lex.irregular_past(w)
                && matches!(
                    self.low(i + 1),
                    "the" | "a" | "an" | "most" | "fewest" | "least"
                );
            let ends =
                compared || lex.is_verb(w) && (self.toks[i].stop || w.ends_with("ed") || past);
            // (After a verb of listing, only a participle or a comparison: "employees hired
            // in 2022", "products priced above 100".)
            let clause = asks_which || lists && (compared || w.ends_with("ed"));
            let first_word = if asks_which || listing(self.low(start)) {
                start + 1
            } else {
                start
            };
            if clause && seen_table && i > first_word && verb && ends && one_word {
                return i;
            }
            let along =
                w == "with" && matches!(self.low(i.saturating_sub(1)), "along" | "together");
            if i > start && !along && (is_marker(w) || (w == "which" && i > start + 1)) {
                return i;
            }
            if i > start && is_verb_marker(w) && seen_ment {
                return i;
            }
            if let Some(k) = self.ment_at(i)
                && let MK::Ent { tables, .. } = &self.ms[k].kind
            {
                seen_ment = true;
                seen_table |= !tables.is_empty();
            }
        }
        n
    }

    fn prev_ent(&self, k: usize, max_gap: usize, any_gap: bool) -> Option<usize> {
        let s = self.ms[k].s;
        let pk = k.checked_sub(1)?;
        let pm = &self.ms[pk];
        if !matches!(pm.kind, MK::Ent { .. }) || s - pm.e > max_gap {
            return None;
        }
        let gap_ok = any_gap
            || (pm.e..s).all(|j| {
                matches!(
                    self.low(j),
                    "is" | "named"
                        | "called"
                        | "the"
                        | "of"
                        | "as"
                        | "equal"
                        | "equals"
                        | "to"
                        | "="
                        | "not"
                        | "a"
                        | "an"
                        | "with"
                        | "are"
                        | "was"
                        | "were"
                        | "titled"
                        | "being"
                        | "by"
                        | "in"
                        | "for"
                )
            });
        gap_ok.then_some(pk)
    }

    /// The text column a name (mention `k`) is a value of when the clause names it after
    /// the name: "English and French as official languages", "the Dutch language". Only
    /// joining words, other names and at most one mention whose columns cannot hold the
    /// name may stand between; the column is named as a column (not a table) and not yet
    /// placed. Not across a negation ("English is not the official language" asks about
    /// the countries without it).
    fn col_named_after(&self, k: usize, text: &str, main: usize) -> Option<(usize, usize)> {
        let m = &self.ms[k];
        let mut j = m.e;
        let mut skipped = false;
        while j < self.toks.len() && j < m.e + 6 {
            if self.toks[j - 1].comma || self.toks[j - 1].stop {
                return None;
            }
            if let Some(nk) = self.ment_at(j) {
                let nm = &self.ms[nk];
                match &nm.kind {
                    MK::Literal(_) => {
                        j = nm.e;
                        continue;
                    }
                    MK::Ent { tables, .. } if tables.is_empty() && !self.used[nk] => {
                        if let Some(c) = self.text_col_of(nk, text, false, main) {
                            return Some((c, nk));
                        }
                        if skipped {
                            return None;
                        }
                        skipped = true;
                        j = nm.e;
                        continue;
                    }
                    _ => return None,
                }
            }
            if !matches!(
                self.low(j),
                "and"
                    | "or"
                    | "as"
                    | "is"
                    | "are"
                    | "was"
                    | "were"
                    | "the"
                    | "a"
                    | "an"
                    | "its"
                    | "their"
            ) {
                return None;
            }
            j += 1;
        }
        None
    }

    /// Whether `text` can be a value of column `c`: a text column, and one of its sampled
    /// values when the samples are known (sampled columns list all their values).
    fn fits(&self, c: usize, text: &str) -> bool {
        self.fits_as(c, text, false)
    }

    /// [`Self::fits`], or for a `LIKE` pattern: some sampled value contains the text.
    fn fits_as(&self, c: usize, text: &str, like: bool) -> bool {
        let col = &self.idx.cols[c];
        let t = text.trim().to_lowercase();
        col.kind == Kind::Text
            && (col.samples.is_empty()
                || col.samples.iter().any(|v| {
                    let v = v.trim().to_lowercase();
                    if like { v.contains(&t) } else { v == t }
                }))
    }

    /// The text column of mention `k` a literal may be a value of (its samples hold it, or
    /// it has none), the best placed one for `main`.
    fn text_col_of(&self, k: usize, text: &str, like: bool, main: usize) -> Option<usize> {
        let (_, cols) = self.ent(k)?;
        let cols: Vec<usize> = cols
            .iter()
            .copied()
            .filter(|c| self.fits_as(*c, text, like))
            .collect();
        self.pick(&cols, k, Some(main), Some(Kind::Text))
    }

    /// For a literal that names a country or a US state, the one column of `main` (else of
    /// a table already joined) that holds such places by name — named for a country or
    /// nation, or for a state, district, province or region, unsampled, not a code — or the
    /// name column of a table of countries, with the kind of place. `None` for any other
    /// literal, or when two columns could hold it.
    fn place_col(
        &self,
        main: usize,
        text: &str,
        joined: &[usize],
    ) -> Option<(usize, crate::lexicon::Place)> {
        use crate::lexicon::{
            COUNTRY_COLUMN, COUNTRY_TABLE, PLACE_CODE_COLUMN, Place, STATE_COLUMN,
        };
        let place = crate::lexicon::lexicon().place_kind(&text.to_lowercase())?;
        let words = match place {
            Place::Country => COUNTRY_COLUMN,
            Place::State => STATE_COLUMN,
        };
        let mut tables = vec![main];
        tables.extend(joined.iter().copied());
        let countries =
            |t: usize| COUNTRY_TABLE.contains(&self.idx.tables[t].name.to_lowercase().as_str());
        // A table of countries next to `main` is where a country is named.
        if matches!(place, Place::Country) {
            tables.extend(
                (0..self.idx.tables.len()).filter(|&t| countries(t) && self.idx.adjacent(main, t)),
            );
        }
        for &t in &tables {
            if matches!(place, Place::Country) && countries(t) {
                return self.idx.label_col(t).map(|c| (c, place));
            }
            // A column whose samples show what it stores, and the place is not among them,
            // holds something else (a `state` of an order); one of codes says which code
            // only by its samples (two or three letters, ISO or not): neither is taken. Of
            // two columns that could hold the place (origin, destination), none is.
            let fitting: Vec<usize> = self.idx.tables[t]
                .cols
                .iter()
                .copied()
                .filter(|&c| {
                    let col = &self.idx.cols[c];
                    col.kind == Kind::Text
                        && col.samples.is_empty()
                        && col.words.iter().any(|w| words.contains(&w.as_str()))
                        && !col
                            .words
                            .iter()
                            .any(|w| PLACE_CODE_COLUMN.contains(&w.as_str()))
                })
                .collect();
            match fitting.as_slice() {
                [c] => return Some((*c, place)),
                [] => {}
                _ => return None,
            }
        }
        None
    }

    /// A place said in another code than its column keeps, in the column's: "UK" where
    /// codes have three letters (`CHAR(3)`, or every sample) is 'GBR'. Anything else as
    /// said.
    fn in_column_form(&self, c: usize, text: &str) -> String {
        let Some(n) = self.idx.code_width(c) else {
            return text.to_owned();
        };
        if text.chars().count() == n
            || !crate::index::is_code(text)
            || self.idx.cols[c].samples.iter().any(|v| v == text)
        {
            return text.to_owned();
        }
        let names = crate::lexicon::lexicon().place_names(&text.to_lowercase());
        let fits: Vec<&&str> = names
            .iter()
            .filter(|w| w.chars().count() == n && w.chars().all(|ch| ch.is_ascii_alphabetic()))
            .collect();
        match fits.as_slice() {
            [one] => one.to_uppercase(),
            _ => text.to_owned(),
        }
    }

    /// The column of `t` a literal most likely names a row by: a code column for short
    /// upper-case codes ("AKO"), else the label column.
    fn text_key_col(&self, t: usize, text: &str) -> Option<usize> {
        let code = text.len() <= 5
            && !text.contains(' ')
            && text
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if code {
            let coded = self.idx.tables[t].cols.iter().copied().find(|&c| {
                let col = &self.idx.cols[c];
                self.fits(c, text)
                    && col.words.iter().any(|w| {
                        matches!(
                            w.as_str(),
                            "code" | "abbreviation" | "abbr" | "symbol" | "acronym"
                        )
                    })
            });
            if coded.is_some() {
                return coded;
            }
        }
        self.idx.label_col(t).filter(|&c| self.fits(c, text))
    }

    /// A column mention that turned out to name the filtered column stops being an output.
    /// The literal a value mention stands for in column `c`: the model's mapped value for
    /// that column when there is one, a number for numeric columns.
    fn value_lit(&self, c: usize, text: &str, mapped: &[(usize, String)]) -> Lit {
        let text = mapped
            .iter()
            .find(|(mc, _)| *mc == c)
            .map_or(text, |(_, v)| v.as_str());
        if self.idx.cols[c].kind == Kind::Number && text.trim().parse::<f64>().is_ok() {
            Lit::Num(text.trim().to_owned())
        } else {
            Lit::Str(text.to_owned())
        }
    }

    fn consume_item(&mut self, k: usize, sel: &mut Vec<Expr>) {
        let cols = self.ent(k).map(|(_, c)| c.to_vec()).unwrap_or_default();
        if self.used[k]
            && sel.len() > 1
            && let Some(p) = sel
                .iter()
                .position(|e| matches!(e, Expr::Col(c) if cols.contains(c)))
        {
            sel.remove(p);
        }
        self.used[k] = true;
    }

    fn push_cond(&self, conds: &mut Vec<(usize, Cond)>, pos: usize, cond: Cond, main: usize) {
        // Conditions on the tables of an open negated clause go into its subquery.
        if let Some((cue, ci, scope)) = &self.neg
            && !self.boundary(*cue, pos)
            && cond_cols(&cond)
                .iter()
                .all(|c| scope.contains(&self.idx.cols[*c].table))
            && let Some((_, Cond::NotIn(_, sub))) = conds.get_mut(*ci)
        {
            sub.conds.push(cond);
            return;
        }
        // "X or Y" ("a cat or a dog") on the same column becomes one OR.
        let mut pos = pos;
        if pos > 1 && matches!(self.low(pos - 1), "a" | "an" | "the") {
            pos -= 1;
        }
        let or_before = pos > 0 && matches!(self.low(pos - 1), "or")
            || (pos > 1 && self.low(pos - 1) == "either");
        // ("not X or Y" excludes both: the conditions stay AND-ed.)
        let excluded = matches!(cond, Cond::Cmp(_, "!=", _) | Cond::Like(_, _, true));
        if or_before
            && !excluded
            && let Some((_, last)) = conds.last_mut()
        {
            let same = cond_cols(last).first() == cond_cols(&cond).first();
            if same || self.low(pos - 1) == "or" {
                let prev = std::mem::replace(last, Cond::Or(Vec::new()));
                let mut parts = match prev {
                    Cond::Or(p) => p,
                    other => vec![other],
                };
                parts.push(cond);
                *last = Cond::Or(parts);
                return;
            }
        }
        // "X and Y" on the same column: rows matching both (INTERSECT) when the question
        // says "both"/"also"/"shared", or when the column is of a table a row has many of
        // ("countries with English and French as languages"); else rows matching either
        // (a row holds one value: "customers in Germany and France").
        if pos > 0
            && self.low(pos - 1) == "and"
            && let Some((_, last)) = conds.last_mut()
            && match (&*last, &cond) {
                (Cond::Cmp(a, "=", x), Cond::Cmp(b, "=", y)) => a == b && x != y,
                (Cond::Range(a, x, _), Cond::Range(b, y, _)) => a == b && x != y,
                _ => false,
            }
        {
            // (Rows with many related rows: "students who have cats and dogs" have both; an
            // aggregate over such an INTERSECT is refused after planning.)
            let many = cond_cols(&cond).first().is_some_and(|c| {
                let t = self.idx.cols[*c].table;
                t != main && self.fans_out(main, t)
            });
            let both = many
                || self
                    .toks
                    .iter()
                    .any(|t| matches!(t.low.as_str(), "both" | "also" | "shared" | "common"));
            let prev = std::mem::replace(last, Cond::Or(Vec::new()));
            *last = if both {
                Cond::Both(vec![prev, cond])
            } else {
                Cond::Or(vec![prev, cond])
            };
            return;
        }
        conds.push((pos, cond));
    }

    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::too_many_lines)] // the translator's rules, one per number role; reworked by the translator issue
    fn handle_number(
        &mut self,
        k: usize,
        v: f64,
        text: &str,
        main: usize,
        conds: &mut Vec<(usize, Cond)>,
        having: &mut Option<(&'static str, String, usize)>,
        extra: &[usize],
        sel: &mut Vec<Expr>,
    ) -> bool {
        let m = self.ms[k].clone();
        let s = m.s;
        let w = |j: usize| self.low(j).to_string();
        let before: Vec<String> = (s.saturating_sub(4)..s).map(w).collect();
        let b = |off: usize| -> &str {
            before
                .len()
                .checked_sub(off)
                .and_then(|i| before.get(i))
                .map(String::as_str)
                .unwrap_or("")
        };
        let after1 = self.low(m.e).to_string();
        let after2 = self.low(m.e + 1).to_string();
        let gt_words = [
            "more",
            "greater",
            "larger",
            "bigger",
            "higher",
            "older",
            "longer",
            "heavier",
            "taller",
            "later",
            "over",
            "above",
            "exceeds",
            "exceed",
            "exceeding",
            "after",
        ];
        let lt_words = [
            "less", "fewer", "smaller", "lower", "younger", "shorter", "lighter", "earlier",
            "under", "below", "before",
        ];
        let mut op: Option<&'static str> = None;
        let mut between_hi: Option<(usize, f64, String)> = None;
        {
            // The nearest comparative before the number, skipping filler and column names:
            // "older than 30", "above age 20", "weight greater than 10", "not higher than 4".
            let mut j = s;
            let mut steps = 0;
            while j > 0 && steps < 6 {
                j -= 1;
                steps += 1;
                let wj = self.low(j);
                let gt = gt_words.contains(&wj);
                if gt || lt_words.contains(&wj) {
                    let neg = (j.saturating_sub(2)..j).any(|x| matches!(self.low(x), "no" | "not"));
                    op = Some(match (gt, neg) {
                        (true, false) => ">",
                        (true, true) => "<=",
                        (false, false) => "<",
                        (false, true) => ">=",
                    });
                    break;
                }
                let in_ent = self
                    .ms
                    .iter()
                    .any(|m| m.s <= j && j < m.e && matches!(m.kind, MK::Ent { .. }));
                if in_ent
                    || matches!(
                        wj,
                        "than"
                            | "the"
                            | "a"
                            | "an"
                            | "of"
                            | "is"
                            | "are"
                            | "was"
                            | "were"
                            | "with"
                            | "has"
                            | "have"
                            | "had"
                            | "value"
                            | "equal"
                            | "to"
                            | "that"
                            | "in"
                            | "year"
                            | "date"
                            | "time"
                    )
                {
                    continue;
                }
                break;
            }
        }
        if b(2) == "at" && b(1) == "least" || b(1) == "since" || (b(2) == "or" && b(1) == "more") {
            op = Some(">=");
        }
        if b(2) == "at" && b(1) == "most" || (b(2) == "up" && b(1) == "to") {
            op = Some("<=");
        }
        // "4 or more", and "4 stars or more" (a unit word between: not "4 or more stars").
        let after3 = self.low(m.e + 2).to_string();
        let (or, bound) = if after1 == "or" {
            (true, after2.as_str())
        } else {
            (
                after2 == "or"
                    && !is_stopword(&after1)
                    && self.toks.get(m.e).is_some_and(|t| !t.stop && !t.comma),
                after3.as_str(),
            )
        };
        if or
            && matches!(
                bound,
                "more" | "greater" | "higher" | "above" | "over" | "later"
            )
        {
            op = Some(">=");
        }
        if or
            && matches!(
                bound,
                "less" | "fewer" | "lower" | "below" | "under" | "earlier" | "before"
            )
        {
            op = Some("<=");
        }
        if (b(1) == "between" || (b(2) == "between" && b(1) == "the"))
            && after1 == "and"
            && let Some(nk) = self.ment_at(m.e + 1)
            && let MK::Number(v2, t2) = &self.ms[nk].kind
        {
            between_hi = Some((nk, *v2, t2.clone()));
            op = Some("between");
        }
        // "from 1901 to 2000", "(18 to 25)": a range of two numbers, the lower first ("with
        // 1 to 2 paragraphs" counts rows named after it).
        if op.is_none()
            && after1 == "to"
            && let Some(nk) = self.ment_at(m.e + 1)
            && let MK::Number(v2, t2) = &self.ms[nk].kind
            && *v2 > v
            && !self.ment_at(self.ms[nk].e).is_some_and(|r| {
                self.ent(r)
                    .is_some_and(|(tables, cols)| !tables.is_empty() && cols.is_empty())
            })
        {
            between_hi = Some((nk, *v2, t2.clone()));
            op = Some("between");
        }
        if op.is_none() && matches!(b(1), "not") {
            op = Some("!=");
        }
        let year_like = v.fract() == 0.0 && (1000.0..3000.0).contains(&v) && text.len() == 4;
        let year_prep = matches!(
            b(1),
            "in" | "during"
                | "of"
                | "year"
                | "before"
                | "after"
                | "since"
                | "until"
                | "from"
                | "both"
                | "either"
                | "between"
        ) || (matches!(b(1), "or" | "and")
            && s >= 2
            && self.toks[s - 2].is_digits()
            && self.toks[s - 2].low.len() == 4)
            || between_hi
                .as_ref()
                .is_some_and(|(_, v2, t2)| t2.len() == 4 && (1000.0..3000.0).contains(v2));
        // Having-count: "more than 3 orders".
        if op.is_some() && (matches!(text, "once" | "twice") || after1 == "times") {
            // "visited more than once": count the rows of the related table named before.
            let related = (0..k).rev().find_map(|pk| {
                self.ent(pk).and_then(|(t, _)| {
                    t.iter().copied().find(|t| {
                        *t != main && self.idx.path(&BTreeSet::from([main]), *t, 2).is_some()
                    })
                })
            });
            *having = Some((op.unwrap_or("="), fmt_num(v), related.unwrap_or(main)));
            return true;
        }
        if let Some(nk) = self.next_ment(
            m.e,
            &[
                "different",
                "distinct",
                "or",
                "more",
                "times",
                "types",
                "type",
                "kinds",
                "kind",
                "of",
                "unique",
            ],
        ) && let Some((tables, cols)) = self.ent(nk)
        {
            let (tables, cols) = (tables.to_vec(), cols.to_vec());
            // "more than 50000000 population": a number of the main table's own, compared.
            let own_number = cols
                .iter()
                .any(|c| self.idx.cols[*c].table == main && self.idx.cols[*c].kind == Kind::Number);
            let is_count_noun = !tables.is_empty() && !own_number;
            // "speak more than 2 languages": a column of a table whose rows point at the
            // main table counts those rows.
            let counted_col_table = cols
                .iter()
                .map(|c| self.idx.cols[*c].table)
                .find(|t| !own_number && *t != main && self.fans_out(main, *t));
            if (is_count_noun || (tables.is_empty() && counted_col_table.is_some()))
                && op.is_some()
                && op != Some("between")
                && !self.used[nk]
            {
                self.used[nk] = true;
                let t = if is_count_noun {
                    self.best_table(&tables, nk)
                } else {
                    counted_col_table.unwrap_or(main)
                };
                *having = Some((op.unwrap_or("="), fmt_num(v), t));
                return true;
            }
        }
        if op.is_none() && matches!(after1.as_str(), "times") {
            // "at least 3 times" without a comparator word handled above.
        }
        // The compared column: a numeric column named right after the number ("8 cylinders"),
        // else a mention just before (possibly the comparative itself), else one after.
        let mut target: Option<usize> = None;
        let mut tk: Option<usize> = None;
        let wants_year = year_like && year_prep;
        let yearish = |c: usize| {
            let col = &self.idx.cols[c];
            col.kind == Kind::Date || col.words.iter().any(|w| w == "year" || w == "date")
        };
        if let Some(nk) = self.ment_at(m.e)
            && let Some((_, cols)) = self.ent(nk)
        {
            let cols = cols.to_vec();
            if let Some(c) = self.pick(&cols, nk, Some(main), Some(Kind::Number))
                && self.idx.cols[c].kind == Kind::Number
                && !wants_year
            {
                target = Some(c);
                tk = Some(nk);
            }
        }
        for pk in (0..k).rev() {
            if target.is_some() {
                break;
            }
            let pm = &self.ms[pk];
            if s - pm.e > 6 {
                break;
            }
            if let Some((_, cols)) = self.ent(pk) {
                let cols = cols.to_vec();
                let kind = if wants_year { None } else { Some(Kind::Number) };
                if let Some(c) = self.pick(&cols, pk, Some(main), kind) {
                    let ck = self.idx.cols[c].kind;
                    let ok = if wants_year {
                        yearish(c)
                    } else {
                        ck == Kind::Number || ck == Kind::Date || ck == Kind::Text
                    };
                    if ok {
                        target = Some(c);
                        tk = Some(pk);
                    }
                }
                if !wants_year {
                    break;
                }
                continue;
            }
            if matches!(pm.kind, MK::Value { .. } | MK::Literal(_)) {
                break;
            }
        }
        if target.is_none()
            && !wants_year
            && let Some(nk) = self.next_ment(m.e, &["the", "in", "of"])
            && let Some((_, cols)) = self.ent(nk)
        {
            let cols = cols.to_vec();
            if let Some(c) = self.pick(&cols, nk, Some(main), Some(Kind::Number))
                && self.idx.cols[c].kind == Kind::Number
            {
                target = Some(c);
                tk = Some(nk);
            }
        }
        // An amount of money ("orders over $3,000") with no column named: the table's one
        // money amount.
        if target.is_none() && self.toks[s].money {
            target = self.idx.money_col(main);
        }
        if target.is_none() && year_like && year_prep {
            let ext = extra.to_vec();
            let mut near: Vec<usize> = self
                .table_mentions()
                .iter()
                .filter(|(_, p)| *p < s)
                .map(|(t, _)| *t)
                .collect();
            near.reverse();
            // The nearest table named before the number ("customers who ordered in 2023"),
            // else the main table.
            let first_near = near.first().copied().filter(|t| *t != main);
            target = first_near
                .and_then(|t| self.year_col(t).or_else(|| self.date_col(t, &[])))
                .or_else(|| self.year_col(main))
                .or_else(|| self.date_col(main, &ext))
                .or_else(|| near.iter().find_map(|t| self.year_col(*t)))
                .or_else(|| self.date_col(near.first().copied().unwrap_or(main), &near));
        }
        let Some(c) = target else {
            return false;
        };
        // A number said in words ("within two days") is no code stored as text.
        if self.idx.cols[c].kind == Kind::Text && !text.chars().any(|ch| ch.is_ascii_digit()) {
            return false;
        }
        // "customers who spent more than 10,000 in total": a sum per row of `main` over
        // the rows it has many of, compared — not built (a condition on each order would
        // answer another question).
        let table = self.idx.cols[c].table;
        if table != main && self.summed_after(m.e) && self.fans_out(main, table) {
            return false;
        }
        if let Some(tk) = tk {
            self.consume_item(tk, sel);
        }
        let ck = self.idx.cols[c].kind;
        let op = op.unwrap_or("=");
        let cond = if ck == Kind::Date && year_like {
            let y = v as i64;
            let lo = Lit::Str(format!("{y}-01-01"));
            let hi = Lit::Str(format!("{}-01-01", y + 1));
            match op {
                "<" => Cond::Cmp(c, "<", lo),
                ">" => Cond::Cmp(c, ">=", hi),
                ">=" if b(1) == "since" => Cond::Cmp(c, ">=", lo),
                ">=" => Cond::Cmp(c, ">=", lo),
                "<=" => Cond::Cmp(c, "<", hi),
                _ => Cond::Range(c, lo, hi),
            }
        } else if op == "between" {
            let (nk, v2, _) = between_hi.clone().unwrap_or((k, v, text.to_string()));
            self.used[nk] = true;
            Cond::Between(c, Lit::Num(fmt_num(v)), Lit::Num(fmt_num(v2)))
        } else if ck == Kind::Text {
            Cond::Cmp(c, op, Lit::Str(text.to_string()))
        } else {
            Cond::Cmp(c, op, Lit::Num(fmt_num(v)))
        };
        self.push_cond(conds, s, cond, main);
        true
    }

    /// "the 5 customers who spent the most": rows of `main` kept by a measure of rows each
    /// has many of are ranked by that measure summed per row of `main` (each listed once),
    /// not by each of the other rows (a customer once per order). Only for a cut of several
    /// rows (the one row with the largest order is that order's row), nothing grouped yet,
    /// and nothing of the other table shown.
    fn sum_fanned_order(
        &self,
        q: &mut Select,
        sel: &[Expr],
        main: usize,
        limit: Option<u64>,
        group_target: &mut Option<(usize, bool)>,
    ) {
        if limit.is_none_or(|k| k < 2) || group_target.is_some() {
            return;
        }
        let plain = |e: &Expr| matches!(e, Expr::Col(_));
        if !sel.iter().all(plain) || !q.order.iter().all(|(e, _)| plain(e)) {
            return;
        }
        for (e, _) in &mut q.order {
            let Expr::Col(c) = *e else { continue };
            let t = self.idx.cols[c].table;
            if t != main
                && self.idx.cols[c].kind == Kind::Number
                && additive(&self.idx.cols[c].words)
                && self.fans_out(main, t)
                && !sel
                    .iter()
                    .any(|s| matches!(s, Expr::Col(x) if self.idx.cols[*x].table == t))
            {
                *e = Expr::Agg(Agg::Sum, c, false);
                *group_target = Some((main, true));
            }
        }
    }

    /// Whether "in total", "altogether", "combined" or "overall" follows within a few words
    /// of `e`, in the same clause.
    fn summed_after(&self, e: usize) -> bool {
        for j in e..(e + 5).min(self.toks.len()) {
            let w = self.low(j);
            if matches!(w, "altogether" | "combined" | "overall")
                || w == "in" && self.low(j + 1) == "total"
            {
                return true;
            }
            if self.toks[j].comma || self.toks[j].stop {
                break;
            }
        }
        false
    }

    /// `main.col NOT IN (SELECT … FROM the tables leading to other)`: the column of `main`
    /// and the subquery, following the foreign-key path from `main` to `other`.
    fn not_in(&self, main: usize, other: usize) -> Option<(usize, Select, BTreeSet<usize>)> {
        let path = self
            .idx
            .path(&BTreeSet::from([main]), other, self.opts.max_join_hops)?;
        let (&(a, b), rest) = path.split_first()?;
        let mut sub = Select {
            items: vec![Expr::Col(b)],
            from: self.idx.cols[b].table,
            joins: rest.to_vec(),
            conds: vec![Cond::NotNull(b)],
            ..Select::default()
        };
        sub.joins.retain(|(_, n)| self.idx.cols[*n].table != main);
        let tables: BTreeSet<usize> = std::iter::once(sub.from)
            .chain(sub.joins.iter().map(|(_, n)| self.idx.cols[*n].table))
            .collect();
        Some((a, sub, tables))
    }

    /// Whether the first foreign-key step from `main` towards `t` goes to rows that point at
    /// `main` (one-to-many), so that "no such row" needs a subquery.
    fn fans_out(&self, main: usize, t: usize) -> bool {
        self.idx
            .path(&BTreeSet::from([main]), t, self.opts.max_join_hops)
            .and_then(|p| p.first().copied())
            .is_some_and(|(a, b)| self.idx.edges.iter().any(|e| e.from == b && e.to == a))
    }

    /// Where the negation governing a mention at `s` is, if any.
    fn neg_cue(&self, s: usize) -> Option<usize> {
        (s.saturating_sub(4)..s).rev().find(|&j| self.negates(j))
    }

    /// Whether a select item is computed: an aggregate, or a metric of the semantic model
    /// (an aggregate already).
    fn computed(&self, e: &Expr) -> bool {
        match e {
            Expr::Col(c) => self.idx.cols[*c].metric.is_some(),
            _ => true,
        }
    }

    /// Whether the word at `j` starts a negation ([`negation_at`]).
    fn negates(&self, j: usize) -> bool {
        negation_at(&self.toks, j)
    }

    /// Whether a clause boundary lies between token positions `a` and `b` (`b` may be the
    /// end of the question: a phrase that ends it, such as a closing "in 2025").
    fn boundary(&self, a: usize, b: usize) -> bool {
        (a..b.min(self.toks.len())).any(|j| {
            self.toks[j].comma
                || self.toks[j].stop
                || (j > a
                    && matches!(
                        self.low(j),
                        "and" | "or" | "but" | "who" | "whose" | "which" | "that"
                    ))
        })
    }

    fn age_or_date(&self, main: usize, extra: &[usize], w: &str) -> Option<(usize, bool)> {
        // The table named right after the adjective comes first, then the main table.
        let mut tables: Vec<usize> = extra.iter().take(1).copied().collect();
        tables.push(main);
        tables.extend(extra.iter().skip(1).copied());
        if matches!(w, "longest" | "shortest") {
            for &t in &tables {
                for &c in &self.idx.tables[t].cols {
                    let col = &self.idx.cols[c];
                    if col.kind == Kind::Number
                        && col.words.iter().any(|x| {
                            matches!(
                                x.as_str(),
                                "length"
                                    | "duration"
                                    | "minute"
                                    | "hour"
                                    | "second"
                                    | "day"
                                    | "time"
                                    | "long"
                            )
                        })
                    {
                        return Some((c, w == "longest"));
                    }
                }
            }
            return None;
        }
        let is_age = matches!(w, "oldest" | "youngest");
        if is_age {
            for &t in &tables {
                for &c in &self.idx.tables[t].cols {
                    let col = &self.idx.cols[c];
                    if col.kind != Kind::Date && col.short.iter().any(|x| x == "age") {
                        return Some((c, w == "oldest"));
                    }
                }
            }
            for &t in &tables {
                for &c in &self.idx.tables[t].cols {
                    let col = &self.idx.cols[c];
                    if col
                        .words
                        .iter()
                        .any(|x| x == "birth" || x == "born" || x == "dob")
                    {
                        return Some((c, w == "youngest"));
                    }
                }
            }
        }
        let c = self.date_col(main, extra).or_else(|| self.year_col(main))?;
        let desc = matches!(w, "latest" | "newest" | "most" | "last" | "youngest");
        Some((c, desc))
    }

    /// What a superlative said of the rows of a table ranks them by, when the table names
    /// no column of the word itself: a dimension the word stands for ("the longest river"
    /// by `length`, "the highest mountain" by `mountain_altitude`), or the one amount of
    /// money of a table with nothing else measured ("the largest order").
    fn row_rank_col(&self, w: &str, mk: usize) -> Option<usize> {
        let (tables, cols) = self.ent(mk)?;
        let [t] = tables else { return None };
        // (A table's noun may also be a word of its columns: `mountain_altitude`.)
        if cols.iter().any(|c| self.idx.cols[*c].table != *t) {
            return None;
        }
        let dims = crate::lexicon::dimensions_of(w);
        let dim = self.idx.tables[*t].cols.iter().copied().find(|&c| {
            let col = &self.idx.cols[c];
            col.kind == Kind::Number && col.words.iter().any(|x| dims.contains(&x.as_str()))
        });
        dim.or_else(|| {
            matches!(w, "largest" | "biggest" | "smallest")
                .then(|| self.sole_amount(*t))
                .flatten()
        })
    }

    /// The one amount of money of table `t` when nothing else there is measured (no other
    /// numeric column but keys and `…_id`s): what "the largest order" is ranked by.
    fn sole_amount(&self, t: usize) -> Option<usize> {
        let money = self.idx.money_col(t)?;
        let others = self.idx.tables[t].cols.iter().any(|&c| {
            let col = &self.idx.cols[c];
            let key = col.pk || col.fk || col.words.last().is_some_and(|w| w == "id");
            c != money && col.kind == Kind::Number && !key && col.metric.is_none()
        });
        (!others).then_some(money)
    }

    /// A table's price: a number column named price or cost, else its money amount.
    fn price_col(&self, t: usize) -> Option<usize> {
        self.idx.tables[t]
            .cols
            .iter()
            .copied()
            .find(|&c| {
                let col = &self.idx.cols[c];
                col.kind == Kind::Number
                    && col.metric.is_none()
                    && col
                        .words
                        .iter()
                        .any(|w| crate::lexicon::PRICE_WORDS.contains(&w.as_str()))
            })
            .or_else(|| self.idx.money_col(t))
    }

    /// "employees without a manager", "customers who have no sales rep", "employees who
    /// have a manager": mention `k`, right after "no"/"without"/"(not) have (a)", names a
    /// key column of the main table (`manager_id`, `sales_rep_id`) by its words before
    /// `id`. The column, and whether it is said to be absent.
    fn key_said(&self, k: usize, main: usize) -> Option<(usize, bool)> {
        let m = &self.ms[k];
        // ("students who have no friends" with `friend.friend_id`: the rows themselves.)
        if self.ent(k).is_some_and(|(t, _)| t.contains(&main)) {
            return None;
        }
        let mut j = m.s.checked_sub(1)?;
        while j > 0 && matches!(self.low(j), "a" | "an" | "any" | "the") {
            j -= 1;
        }
        let has = matches!(self.low(j), "have" | "has" | "had" | "with");
        let not = j > 0 && matches!(self.low(j - 1), "not" | "never");
        let absent = matches!(self.low(j), "no" | "without") || has && not;
        if !absent && !has {
            return None;
        }
        let said: Vec<&str> = (m.s..m.e).map(|x| self.toks[x].stem.as_str()).collect();
        self.idx.tables[main]
            .cols
            .iter()
            .copied()
            .find(|&c| {
                let col = &self.idx.cols[c];
                col.fk
                    && col.words.last().is_some_and(|w| w == "id")
                    && col.words.len() == said.len() + 1
                    && col.words.iter().zip(&said).all(|(w, s)| w == s)
            })
            .map(|c| (c, absent))
    }

    /// "shipped to Japan", "sent from Berlin": value mention `k` is one verb form (a status
    /// such as 'shipped') followed by a preposition and a value whose column the verb names
    /// (`ship_country`): the verb says which column that value is of.
    fn verb_of_next_value(&self, k: usize) -> bool {
        let m = &self.ms[k];
        if !matches!(m.kind, MK::Value { .. }) || m.e != m.s + 1 {
            return false;
        }
        if !matches!(self.low(m.e), "to" | "from" | "into" | "at" | "via") {
            return false;
        }
        let Some(lemma) = crate::lexicon::lexicon().lemma(self.low(m.s)) else {
            return false;
        };
        let Some(nk) = self.next_ment(m.e + 1, &["the", "a", "an"]) else {
            return false;
        };
        let MK::Value { cols, .. } = &self.ms[nk].kind else {
            return false;
        };
        cols.iter()
            .any(|c| self.idx.cols[*c].words.contains(&lemma))
    }

    /// Whether a mention of the question names column `c`.
    fn mentioned(&self, c: usize) -> bool {
        self.ms
            .iter()
            .any(|m| matches!(&m.kind, MK::Ent { cols: mc, .. } if mc.contains(&c)))
    }

    /// Whether the question names a date column of table `t`.
    fn date_named(&self, t: usize) -> bool {
        self.idx.tables[t]
            .cols
            .iter()
            .any(|&c| self.idx.cols[c].kind == Kind::Date && self.mentioned(c))
    }

    fn date_col(&self, main: usize, extra: &[usize]) -> Option<usize> {
        for t in std::iter::once(main).chain(extra.iter().copied()) {
            // A date column the question's verb names wins: "orders we shipped in 2024"
            // (`shipped_date`), "employees hired in 2024" (`hire_date`).
            if let Some(c) = self.verb_named_date(t) {
                return Some(c);
            }
            let mut cols = self.idx.tables[t]
                .cols
                .iter()
                .copied()
                .filter(|&c| self.idx.cols[c].kind == Kind::Date);
            // A date column named in the question wins.
            if let Some(c) = cols.clone().find(|&c| self.mentioned(c)) {
                return Some(c);
            }
            if let Some(c) = cols.next() {
                return Some(c);
            }
        }
        None
    }

    /// The one date column of a table the question's verb names (hired: `hire_date`).
    fn verb_named_date(&self, t: usize) -> Option<usize> {
        let lex = crate::lexicon::lexicon();
        let named: Vec<usize> = self.idx.tables[t]
            .cols
            .iter()
            .copied()
            .filter(|&c| self.idx.cols[c].kind == Kind::Date)
            .filter(|&c| {
                let Some(w0) = self.idx.cols[c].words.first() else {
                    return false;
                };
                let l0 = lex.lemma(w0).unwrap_or_else(|| w0.clone());
                self.toks.iter().any(|t| {
                    !t.quoted
                        && self.idx.table_named_by(&t.stem).is_none()
                        && (t.low == l0 || lex.lemma(&t.low).is_some_and(|l| l == l0))
                })
            })
            .collect();
        match named.as_slice() {
            [c] => Some(*c),
            _ => None,
        }
    }

    /// The date column a time range goes on when the question measures another table's
    /// rows ("the sales rep with the highest sales this year": the orders' dates, not the
    /// rep's hiring) and names no date of the main table.
    fn measure_date(&self, main: usize, measures: &[&Expr]) -> Option<usize> {
        if self.date_named(main) || self.verb_named_date(main).is_some() {
            return None;
        }
        let t = measures.iter().find_map(|e| match e {
            Expr::Agg(_, c, _) => Some(self.idx.cols[*c].table),
            Expr::Col(c) if self.idx.cols[*c].metric.is_some() => Some(self.idx.cols[*c].table),
            _ => None,
        })?;
        (t != main).then(|| self.date_col(t, &[])).flatten()
    }

    /// The date a time range said inside an open negated clause goes on: of the clause's
    /// tables ("customers who have not ordered anything this year": the orders' dates, in
    /// the subquery), a date named or the verb's, else the dates of the one table there
    /// that has any (none when several have: the range is then placed as outside).
    fn negated_date(&self, at: usize, conds: &[(usize, Cond)]) -> Option<usize> {
        let (cue, ci, scope) = self.neg.as_ref()?;
        if *cue > at
            || self.boundary(*cue, at)
            || !matches!(conds.get(*ci), Some((_, Cond::NotIn(..))))
        {
            return None;
        }
        // ("customers who never ordered joined in 2024": another verb between owns it.)
        let lex = crate::lexicon::lexicon();
        let verbs = (*cue + 1..at)
            .filter(|&j| lex.lemma(self.low(j)).is_some_and(|l| l != self.low(j)))
            .count();
        if verbs > 1 {
            return None;
        }
        // (A date named, or the verb's; else the dates of the one table there with any.)
        let named = scope.iter().find_map(|&t| {
            self.verb_named_date(t).or_else(|| {
                self.idx.tables[t]
                    .cols
                    .iter()
                    .copied()
                    .find(|&c| self.idx.cols[c].kind == Kind::Date && self.mentioned(c))
            })
        });
        let dated: Vec<usize> = scope
            .iter()
            .filter_map(|&t| self.date_col(t, &[]))
            .collect();
        named.or(match dated[..] {
            [c] => Some(c),
            _ => None,
        })
    }

    /// The date of the one table `t`'s rows belong to (an order line's order), when `t`
    /// has none, else the nearest date the verb names ([`Self::nearest_date`]): (its date
    /// column, that table).
    fn parent_date(&self, t: usize) -> Option<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = Vec::new();
        for e in &self.idx.edges {
            if self.idx.cols[e.from].table != t || self.idx.cols[e.from].pk {
                continue;
            }
            let p = self.idx.cols[e.to].table;
            if p != t
                && let Some(c) = self.date_col(p, &[])
                && !found.iter().any(|(_, q)| *q == p)
            {
                found.push((c, p));
            }
        }
        match found[..] {
            [one] => Some(one),
            [] => self.nearest_date(t),
            _ => None,
        }
    }

    /// The date the question's verb names of the one table nearest to `t` that has such
    /// a date (at most three keys away), when `t`'s rows and its parents' have none: "How
    /// many hotels were booked in 2025?" dates hotels by their rooms' bookings.
    fn nearest_date(&self, t: usize) -> Option<(usize, usize)> {
        let from = BTreeSet::from([t]);
        let mut best: Vec<(usize, usize, usize)> = Vec::new();
        for p in (0..self.idx.tables.len()).filter(|&p| p != t) {
            // (Only the dates the question's verb names: "hotels booked in 2025" by their
            // bookings' `booked_dt`; "products added in 2024" are not dated by orders.)
            let Some(c) = self.verb_named_date(p) else {
                continue;
            };
            if let Some(steps) = self.idx.path(&from, p, 3) {
                best.push((steps.len(), c, p));
            }
        }
        best.sort_unstable();
        match best[..] {
            [(d, c, p), ref rest @ ..] if rest.first().is_none_or(|r| r.0 > d) => Some((c, p)),
            _ => None,
        }
    }

    fn year_col(&self, main: usize) -> Option<usize> {
        self.idx.tables[main].cols.iter().copied().find(|&c| {
            let col = &self.idx.cols[c];
            matches!(col.kind, Kind::Number | Kind::Text)
                && col.words.last().is_some_and(|w| w == "year")
        })
    }

    /// A relative time phrase ("this month", "last 7 days") and where it starts.
    fn relative(&self) -> Option<(Rel, usize)> {
        self.relative_from(0)
    }

    /// The first relative time phrase at or after token `from`.
    fn relative_from(&self, from: usize) -> Option<(Rel, usize)> {
        let n = self.toks.len();
        for i in from..n {
            let w = self.low(i);
            let nx = self.low(i + 1);
            let r = match (w, nx) {
                ("today", _) => Some(Rel::Today),
                ("yesterday", _) => Some(Rel::Yesterday),
                ("this", "week") => Some(Rel::ThisWeek),
                ("this", "month") => Some(Rel::ThisMonth),
                ("this", "year") => Some(Rel::ThisYear),
                ("this", "quarter") => Some(Rel::ThisQuarter),
                ("last" | "previous" | "past", "quarter") => Some(Rel::LastQuarter),
                ("last" | "previous" | "past", "week") => Some(Rel::LastWeek),
                ("last" | "previous" | "past", "month") => Some(Rel::LastMonth),
                ("last" | "previous" | "past", "year") => Some(Rel::LastYear),
                ("last" | "past" | "previous", _) => {
                    let num = self.toks.get(i + 1).and_then(|t| t.number());
                    let unit = self.low(i + 2);
                    match (num, unit) {
                        (Some(v), "days" | "day") => Some(Rel::LastDays(v as u32)),
                        (Some(v), "weeks" | "week") => Some(Rel::LastDays(v as u32 * 7)),
                        (Some(v), "months" | "month") => Some(Rel::LastMonths(v as u32)),
                        (Some(v), "years" | "year") => Some(Rel::LastMonths(v as u32 * 12)),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(r) = r {
                return Some((r, i));
            }
        }
        None
    }
}

/// Whether a column's words say an amount that adds up across rows (money, quantities),
/// unlike a rating or an age.
fn additive(words: &[String]) -> bool {
    use crate::lexicon::{MONEY_COLUMN, MONEY_MEASURE, QUANTITY_WORDS};
    words.iter().any(|w| {
        let w = w.as_str();
        MONEY_COLUMN.contains(&w) || MONEY_MEASURE.contains(&w) || QUANTITY_WORDS.contains(&w)
    })
}

/// Whether the word after `i` names the table of column `col`: buy transactions are the
/// type 'buy' of a transaction (a verb stored as a value, said before its rows' noun).
fn stored_verb_before_its_table(toks: &[Tok], i: usize, idx: &Index, col: usize) -> bool {
    let t = &toks[i];
    let lex = crate::lexicon::lexicon();
    // ("new customers" is still no status `New`: only a verb, never an adjective, a cue
    // word or a function word.)
    lex.is_verb(&t.low)
        && !lex.is_adjective(&t.low)
        && !is_stopword(&t.low)
        && !crate::lexicon::CUE_WORDS.contains(&t.low.as_str())
        && toks
            .get(i + 1)
            .and_then(|n| idx.table_named_by(&n.stem))
            .is_some_and(|t| t == idx.cols[col].table)
}

/// Whether a lowercase word may be a stored value of three letters by itself (`dog`,
/// `cats` for the values of a pet type): a content word, not a function word, cue word or
/// number.
fn short_value_word(t: &Tok) -> bool {
    let lex = crate::lexicon::lexicon();
    t.low.chars().all(char::is_alphabetic)
        // "new customers" is no status `New`.
        && !lex.is_adjective(&t.low)
        && !lex.is_verb(&t.low)
        && t.number().is_none()
        && !is_stopword(&t.low)
        && !crate::lexicon::CUE_WORDS.contains(&t.low.as_str())
}

/// Whether the word at `j` starts a negation: "not", "except", "without", "ignoring",
/// or a phrase such as "other than", "leaving out", "apart from".
pub(crate) fn negation_at(toks: &[Tok], j: usize) -> bool {
    let low = |i: usize| toks.get(i).map_or("", |t| t.low.as_str());
    matches!(
        low(j),
        "not"
            | "no"
            | "except"
            | "excluding"
            | "exclude"
            | "never"
            | "without"
            | "ignoring"
            | "omitting"
    ) || (low(j) == "other" && low(j + 1) == "than")
        || (matches!(low(j), "leaving" | "leave") && low(j + 1) == "out")
        || (matches!(low(j), "apart" | "aside") && low(j + 1) == "from")
}

/// Words of a measure: a sentence that says them asks for more than columns.
const AGGREGATE_WORDS: &[&str] = &[
    "total", "sum", "number", "count", "average", "mean", "maximum", "minimum", "max", "min",
    "most", "least", "highest", "lowest", "many", "much",
];

/// The columns a sentence that only says what to show names ("Give me its manager and its
/// district"), among the columns of `tables` (the first table's first): each mention of a
/// column, or of a table (its label). `None` when a word of it is something else — a
/// value, a number, a word no name explains — or a column of none of the tables.
pub(crate) fn shown_columns(toks: &[Tok], idx: &Index, tables: &[usize]) -> Option<Vec<usize>> {
    let ments = find_mentions(toks, idx);
    let mut covered = vec![false; toks.len()];
    let mut out = Vec::new();
    // The column the mention just before named, where that mention ended, and whether
    // it named a table (its label shown).
    let mut last: Option<(usize, usize, bool)> = None;
    for m in &ments {
        let MK::Ent {
            tables: named,
            cols,
            ..
        } = &m.kind
        else {
            return None;
        };
        // ("Give me their names": the name of the rows asked about, first.)
        let said_name = m.e == m.s + 1 && toks[m.s].stem == "name";
        // ("the country name": a text column's value is the name said; "the conductor
        // names": a table's name said is its label, taken already.)
        if said_name
            && let Some((c, end, table_said)) = last
            && end == m.s
            && idx.cols[c].kind == Kind::Text
            && (table_said || !idx.cols[c].words.iter().any(|w| w == "name"))
        {
            covered[m.s..m.e].iter_mut().for_each(|c| *c = true);
            continue;
        }
        let col = tables
            .iter()
            .find_map(|&t| cols.iter().copied().find(|&c| idx.cols[c].table == t))
            .filter(|&c| !said_name || idx.cols[c].table == tables[0])
            .or_else(|| said_name.then(|| idx.label_col(tables[0])).flatten())
            .or_else(|| {
                tables
                    .iter()
                    .find(|t| named.contains(t))
                    .and_then(|&t| idx.label_col(t))
            })?;
        if !out.contains(&col) {
            out.push(col);
        }
        last = Some((col, m.e, cols.is_empty()));
        covered[m.s..m.e].iter_mut().for_each(|c| *c = true);
    }
    // (A measure said here — "the total number of credits" — is no column to show.)
    let other = toks.iter().zip(&covered).any(|(t, &c)| {
        !c && (!is_stopword(&t.low) || AGGREGATE_WORDS.contains(&t.low.as_str()))
            && !matches!(
                t.low.as_str(),
                "both"
                    | "also"
                    | "well"
                    | "too"
                    | "each"
                    | "every"
                    | "all"
                    | "respective"
                    | "only"
                    | "just"
            )
    });
    (!other && !out.is_empty()).then_some(out)
}
