//! How sure a translation is: each doubt the translator has about its reading of the
//! question lowers a confidence that starts at 1, and a translation below the threshold
//! ([`crate::TranslatorOptions::min_confidence`]) is refused with the doubts named.
//!
//! The doubts are kinds of evidence, not questions: a word nothing in the schema explains,
//! a word read through a loose relation (a broader noun, a misspelling), a word the schema
//! knows that the query leaves out, a table joined or read that the question never names.
//! Their weights were set on half `a` of the open suites and checked on half `b` and on
//! question sets written apart (docs/ACCURACY.md, "Seventh step").

use crate::ground::{ReadAs, Via};
use crate::index::Index;
use crate::sql::{self, Expr, Select};
use crate::text::Tok;

/// One reason for doubt, with how much it lowers the confidence (a factor in (0, 1]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Doubt {
    /// In plain words, for the user.
    pub said: String,
    /// The factor the confidence is multiplied by.
    pub factor: f32,
    /// Whether it is about a word (unknown, read loosely, left out) rather than the shape
    /// of the query: the advice differs.
    pub about_a_word: bool,
}

/// The confidence of a translation and the doubts behind it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Assessment {
    /// In [0, 1].
    pub confidence: f32,
    /// Why it is below 1, largest doubt first.
    pub doubts: Vec<Doubt>,
}

/// From how many words a question is long enough that a rule-based reading likely misses
/// part of it.
const LONG_QUESTION: usize = 25;

/// How much a reading through each kind of relation lowers the confidence.
fn reading_factor(via: Via) -> (f32, &'static str) {
    match via {
        Via::Synonym => (0.95, "a synonym"),
        Via::Trade => (0.95, "having a row there"),
        Via::Place => (0.95, "the place or sex it names"),
        Via::Age => (0.9, "an age range"),
        Via::Spelling => (0.85, "a misspelling"),
        Via::Abbreviation => (0.9, "its abbreviation"),
        Via::LooseAbbreviation => (0.75, "letters of it"),
        Via::Related => (0.8, "a broader or narrower word"),
        Via::Money => (0.9, "the amount of money kept there"),
    }
}

/// Whether a question opens by asking for a figure: "how many …", "how much …", "what is
/// the total / average / number …".
fn asks_for_a_figure(toks: &[Tok]) -> bool {
    let words: Vec<&str> = toks
        .iter()
        .take_while(|t| !t.quoted)
        .take(4)
        .map(|t| t.low.as_str())
        .collect();
    let figure = |w: &str| {
        matches!(
            w,
            "total" | "average" | "mean" | "sum" | "number" | "count" | "median"
        )
    };
    match words.as_slice() {
        ["how", "many" | "much", ..] => true,
        ["what", "is" | "was" | "are" | "were", "the", w, ..] => figure(w),
        // ("What's the total …": the tokenizer keeps "what" alone.)
        ["what", "the", w, ..] => figure(w),
        _ => false,
    }
}

/// Whether `q` shows numbers row by row — nothing computed, grouped or cut — of rows that
/// no condition narrows to one (its key or its name equal to a value).
fn lists_a_number_per_row(q: &Select, idx: &Index) -> bool {
    let number =
        |e: &Expr| matches!(e, Expr::Col(c) if idx.cols[*c].kind == crate::index::Kind::Number);
    let one_row = q.conds.iter().any(|c| {
        matches!(c, sql::Cond::Cmp(c, "=", _)
            if idx.cols[*c].pk
                || idx.key_col(idx.cols[*c].table) == Some(*c)
                || idx.label_col(idx.cols[*c].table) == Some(*c))
    });
    q.items.iter().any(number)
        && !q.items.iter().any(|e| sql::is_measure(e, idx))
        && q.group.is_empty()
        && q.bucket.is_none()
        && q.limit.is_none()
        && q.share.is_none()
        && q.ratio.is_none()
        && !one_row
}

/// A figure asked and none shown ("What was the total spent on shots?" as the dogs'
/// names), or one asked and a column of them shown.
fn figure_doubt(q: &Select, idx: &Index, toks: &[Tok]) -> Option<Doubt> {
    if !asks_for_a_figure(toks) || q.share.is_some() || q.ratio.is_some() {
        return None;
    }
    // (A key is no figure: "How many orders did Alice place?" as `order_id`s.)
    let figure = |e: &Expr| {
        sql::is_measure(e, idx)
            || matches!(e, Expr::Col(c) if idx.cols[*c].kind == crate::index::Kind::Number
                && !idx.cols[*c].pk
                && !idx.cols[*c].fk)
    };
    if !q.items.iter().any(figure) {
        // "What was the total spent on shots for the dogs?" answered with the dogs' names.
        return Some(Doubt {
            said: "the question asks for a number, but the answer shows none".into(),
            factor: 0.5,
            about_a_word: false,
        });
    }
    // "What was the total amount paid by customers in Germany?" answered with each order's
    // `total_amount`: one figure asked, a column of them shown ("How much does each charge
    // cost?" asks for one per row).
    let per_row = toks
        .iter()
        .any(|t| !t.quoted && matches!(t.low.as_str(), "each" | "every" | "per" | "respective"));
    (lists_a_number_per_row(q, idx) && !per_row).then(|| Doubt {
        said: "the question asks for one figure, but the answer lists a number for each row".into(),
        factor: 0.6,
        about_a_word: false,
    })
}

/// Weighs what the translator did not fully understand about `q`.
pub(crate) fn assess(
    q: &Select,
    idx: &Index,
    toks: &[Tok],
    covered: &[bool],
    unknown: &[(String, f32)],
    read_as: &[ReadAs],
) -> Assessment {
    let mut doubts: Vec<Doubt> = Vec::new();
    for (word, w) in unknown {
        doubts.push(Doubt {
            said: format!("I do not know the word \"{word}\""),
            factor: 1.0 - 0.5 * w.clamp(0.0, 1.0),
            about_a_word: true,
        });
    }
    for (i, r) in read_as.iter().enumerate() {
        // A word said twice and read the same way twice is one doubt.
        let again = read_as[..i].iter().any(|p| {
            p.via == r.via && p.read_as == r.read_as && p.said.eq_ignore_ascii_case(&r.said)
        });
        if again {
            continue;
        }
        let (factor, how) = reading_factor(r.via);
        doubts.push(Doubt {
            said: format!("I read \"{}\" as {} ({how})", r.said, r.read_as),
            factor,
            about_a_word: true,
        });
    }
    for word in ignored_known(idx, toks, covered) {
        doubts.push(Doubt {
            said: format!("the query does not use \"{word}\", which the database knows"),
            factor: 0.85,
            about_a_word: true,
        });
    }
    let named: Vec<usize> = toks
        .iter()
        .filter_map(|t| idx.table_named_by(&t.stem))
        .collect();
    doubts.extend(guessed_values(q, idx, toks, &named));
    doubts.extend(values_yet_to_come(q, toks));
    doubts.extend(dates_not_kept_as_dates(q, idx));
    doubts.extend(current_not_applied(q, idx, toks));
    doubts.extend(shape_doubts(q, idx, toks));
    doubts.extend(state_not_applied(q, idx, toks, covered));
    // "Who is the manager of the sales department?" answered with a sum: a question about
    // someone is never answered by a computed number alone.
    let asks_who = toks
        .iter()
        .find(|t| !t.quoted)
        .is_some_and(|t| matches!(t.low.as_str(), "who" | "whom"));
    if asks_who && q.items.iter().all(|e| sql::is_measure(e, idx)) {
        doubts.push(Doubt {
            said: "the question asks who, but the answer is a computed number".into(),
            factor: 0.6,
            about_a_word: false,
        });
    } else if asks_who
        && !q.items.iter().any(|e| {
            matches!(e, Expr::Col(c)
                if idx.cols[*c].kind == crate::index::Kind::Text
                    && idx.label_col(idx.cols[*c].table) == Some(*c))
        })
    {
        // "Who placed the biggest order?" answered with the order's row: nobody is named.
        doubts.push(Doubt {
            said: "the question asks who, but the answer names no one".into(),
            factor: 0.7,
            about_a_word: false,
        });
    }
    doubts.extend(figure_doubt(q, idx, toks));
    let unnamed = unnamed_tables(q, idx, &named);
    doubts.extend(counted_elsewhere(q, idx, toks, &unnamed));
    // ("How many ensembles does each label have?" counting orchestras joined with their
    // performances: the rows counted are the table asked about, and a table the question
    // does not name whose rows point at them repeats each once per row of its own.)
    let counts_main = q.items.iter().any(|e| matches!(e, Expr::CountStar))
        && toks.windows(2).any(|w| {
            matches!(w[0].low.as_str(), "many" | "of" | "count")
                && !w[1].quoted
                && idx.table_named_by(&w[1].stem) == Some(q.from)
        });
    let used = used_tables(q, idx);
    for &t in &unnamed {
        // (Not a bridge to a table the query uses: "the number of concerts of each singer"
        // counts the singers' rows in `singer_in_concert`.)
        let bridge = used
            .iter()
            .any(|&u| u != q.from && u != t && idx.adjacent(t, u));
        let multiplies = counts_main && !bridge && t != q.from && idx.rolls_up(t, q.from, 1);
        doubts.push(Doubt {
            said: if multiplies {
                format!(
                    "the query reads `{}`, which the question does not name, and counts each \
                     row of `{}` once per row of it",
                    idx.tables[t].name, idx.tables[q.from].name
                )
            } else {
                format!(
                    "the query reads `{}`, which the question does not name",
                    idx.tables[t].name
                )
            },
            factor: if multiplies { 0.7 } else { 0.9 },
            about_a_word: false,
        });
    }
    // Each table past the second is one more join path chosen without being asked (a
    // bridge the question does not name is counted above already).
    let tables = 1 + q.joins.len() - unnamed.len().min(q.joins.len());
    if tables >= 3 {
        doubts.push(Doubt {
            said: format!("the answer joins {} tables", 1 + q.joins.len()),
            factor: 0.9_f32.powi(i32::try_from(tables - 2).unwrap_or(i32::MAX)),
            about_a_word: false,
        });
    }
    if q.items.len() >= 4 {
        doubts.push(Doubt {
            said: format!("the answer shows {} columns", q.items.len()),
            factor: 0.9,
            about_a_word: false,
        });
    }
    let words = toks.iter().filter(|t| !t.quoted).count();
    if words >= LONG_QUESTION {
        doubts.push(Doubt {
            said: format!("the question is long ({words} words): part of it may be misread"),
            factor: 0.85,
            about_a_word: false,
        });
    }
    doubts.sort_by(|a, b| a.factor.total_cmp(&b.factor));
    let confidence = doubts
        .iter()
        .map(|d| d.factor)
        .product::<f32>()
        .clamp(0.0, 1.0);
    Assessment { confidence, doubts }
}

/// The shape doubts of the query as finally built (a sentence of what to show may add
/// columns or a measure after the question was read), added to `sure` unless already
/// there.
pub(crate) fn reassess_shape(sure: &mut Assessment, q: &Select, idx: &Index, toks: &[Tok]) {
    let mut added = false;
    for d in shape_doubts(q, idx, toks) {
        if !sure.doubts.iter().any(|k| k.said == d.said) {
            sure.confidence = (sure.confidence * d.factor).clamp(0.0, 1.0);
            sure.doubts.push(d);
            added = true;
        }
    }
    if added {
        sure.doubts.sort_by(|a, b| a.factor.total_cmp(&b.factor));
    }
}

/// The item of `q` that repeats a figure another item already computes ("Show the
/// department name and headcount" after "How many people work in each department?": the
/// count of rows and the count of their keys), to be dropped.
pub(crate) fn repeated_figure(q: &Select, idx: &Index) -> Option<usize> {
    let key_of_rows = |c: usize| idx.cols[c].pk && idx.cols[c].table == q.from;
    let counts_keys = |e: &Expr| match e {
        Expr::Agg(sql::Agg::Count, c, _) => key_of_rows(*c),
        // (A metric of the model that counts them: `headcount` as `COUNT(DISTINCT id)`.)
        Expr::Col(m) => idx.cols[*m].metric.as_ref().is_some_and(|pieces| {
            let over = computed_over(e, idx);
            over.len() == 1
                && key_of_rows(over[0])
                && pieces.iter().any(|p| {
                    matches!(p, crate::index::Piece::Text(t)
                        if t.to_ascii_uppercase().contains("COUNT("))
                })
        }),
        Expr::Agg(..) | Expr::CountStar => false,
    };
    let exact = (0..q.items.len()).find(|&i| q.items[..i].contains(&q.items[i]));
    let counted = q.items.iter().position(|e| *e == Expr::CountStar);
    // (Even where a join repeats the rows, the count of their distinct keys is the one
    // the question asks for: the plain count is the one that goes.)
    exact.or_else(|| counted.filter(|_| q.items.iter().any(counts_keys)))
}

/// The columns an item adds up, averages or counts: an aggregate's column, or the columns
/// a metric of the semantic model computes over.
fn computed_over(e: &Expr, idx: &Index) -> Vec<usize> {
    match e {
        Expr::Agg(_, c, _) => vec![*c],
        Expr::Col(c) => idx.cols[*c]
            .metric
            .as_ref()
            .map_or_else(Vec::new, |pieces| {
                pieces
                    .iter()
                    .filter_map(|p| match p {
                        crate::index::Piece::Col(k) => Some(*k),
                        crate::index::Piece::Text(_) => None,
                    })
                    .collect()
            }),
        Expr::CountStar => Vec::new(),
    }
}

/// Shapes no reading of a question wants, whatever its words: rows grouped by the very
/// number the query adds up ("units sold per category" grouped by `quantity`), a breakdown
/// said ("per category", "for each region") that a query computing a figure does not make,
/// and a number of one table listed row by row beside another table's "per" dimension ("the
/// amount of orders per country" as each order's amount next to its country).
fn shape_doubts(q: &Select, idx: &Index, toks: &[Tok]) -> Vec<Doubt> {
    let mut doubts = Vec::new();
    let exprs = || {
        q.items
            .iter()
            .chain(q.order.iter().map(|(e, _)| e))
            .chain(q.having_of.iter())
    };
    // (The columns the figures are computed over, a metric's among them.)
    let computed: Vec<usize> = exprs().flat_map(|e| computed_over(e, idx)).collect();
    let aggregates = exprs().any(|e| sql::is_measure(e, idx));
    if let Some(&g) = q.group.iter().find(|g| computed.contains(g)) {
        doubts.push(Doubt {
            said: format!(
                "the query groups by `{}`, the very number it computes",
                idx.cols[g].name
            ),
            factor: 0.5,
            about_a_word: false,
        });
    }
    // ("Who has people reporting to them, and how many?" as one count beside the first
    // row's names: a column shown beside a figure over all rows, nothing grouped.)
    let bare = q.items.iter().find_map(|e| match e {
        Expr::Col(c) if idx.cols[*c].metric.is_none() => Some(*c),
        _ => None,
    });
    // (Grouped, a column of a table whose rows the groups do not pick one of: "the number of
    // customers per segment and country" grouped by segment alone.)
    let loose = q.items.iter().find_map(|e| match e {
        Expr::Col(c) if idx.cols[*c].metric.is_none() && !determined_by_groups(q, idx, *c) => {
            Some(*c)
        }
        _ => None,
    });
    if let Some(c) = loose.filter(|_| aggregates && !q.group.is_empty()) {
        doubts.push(Doubt {
            said: format!(
                "the query shows `{}` beside figures per group, but does not group by it",
                idx.cols[c].name
            ),
            factor: 0.5,
            about_a_word: false,
        });
    }
    if let Some(c) = bare.filter(|_| aggregates && q.group.is_empty() && q.bucket.is_none()) {
        doubts.push(Doubt {
            said: format!(
                "the query shows `{}` beside a figure computed over all rows, without \
                 grouping",
                idx.cols[c].name
            ),
            factor: 0.5,
            about_a_word: false,
        });
    }
    if q.over_groups || q.ratio.is_some() || q.bucket.is_some() {
        return doubts;
    }
    doubts.extend(breakdown_doubts(q, idx, toks, aggregates));
    doubts
}

/// A breakdown said ("per category", "for each region") that a query computing a figure
/// does not make, or a number of one table listed row by row beside another table's "per"
/// dimension: at most one doubt.
fn breakdown_doubts(q: &Select, idx: &Index, toks: &[Tok], aggregates: bool) -> Vec<Doubt> {
    let mut doubts = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let per = t.low == "per";
        // ("across every order" is all of them, no breakdown.)
        let for_each = matches!(t.low.as_str(), "each" | "every")
            && !(i >= 1 && matches!(toks[i - 1].low.as_str(), "across" | "over"));
        if !(per || for_each) {
            continue;
        }
        // The noun after it ("for each of the departments": departments).
        let Some(at) = (i + 1..toks.len().min(i + 4))
            .find(|&j| !crate::text::is_stopword(&toks[j].low) || toks[j].quoted)
        else {
            continue;
        };
        let x = &toks[at];
        if x.quoted {
            continue;
        }
        // (A period is a series of its own; "per order item" over `order_items` is each
        // of the rows aggregated.)
        let own = &idx.tables[q.from].words;
        let said_own = toks[at..]
            .iter()
            .map(|t| &t.stem)
            .take(own.len())
            .eq(own.iter());
        // ("per order line": the last word of a two-word name names the rows, unless a
        // column is named by both words: "per product line" is `products.product_line`.)
        let next = toks
            .get(at + 1)
            .filter(|n| !x.comma && !x.stop && !n.quoted);
        let both_name_a_column = next.is_some_and(|n| {
            idx.cols.iter().any(|c| {
                c.names()
                    .any(|w| w.contains(&x.stem) && w.contains(&n.stem))
            })
        });
        let head_own = next.is_some_and(|n| idx.table_named_by(&n.stem) == Some(q.from))
            && !both_name_a_column
            || idx.table_named_by(&x.stem) == Some(q.from);
        if crate::time::Grain::from_word(&x.low).is_some()
            || said_own && !own.is_empty()
            || head_own
        {
            continue;
        }
        // The word after "per", and the next when they make one name ("per sales rep").
        let words: Vec<&Tok> = std::iter::once(x)
            .chain(next.filter(|n| !crate::text::is_stopword(&n.low)))
            .collect();
        let says = |c: usize, w: &Tok| idx.cols[c].names().any(|n| n.contains(&w.stem));
        let used = q
            .items
            .iter()
            .filter_map(|e| match e {
                Expr::Col(c) | Expr::Agg(_, c, _) => Some(*c),
                Expr::CountStar => None,
            })
            .chain(q.conds.iter().flat_map(sql::cond_cols))
            .chain(q.group.iter().copied())
            .collect::<Vec<_>>();
        let breaks_down = |g: usize, w: &Tok| {
            let gt = idx.cols[g].table;
            says(g, w)
                || idx
                    .table_named_by(&w.stem)
                    .is_some_and(|t| gt == t || idx.points_at(g, t))
        };
        let grounded = |w: &Tok| {
            idx.table_named_by(&w.stem).is_some() || (0..idx.cols.len()).any(|c| says(c, w))
        };
        if !grounded(x) {
            continue;
        }
        let made = words
            .iter()
            .any(|w| q.group.iter().any(|&g| breaks_down(g, w)));
        // (A word of a column an ungrouped query uses: "the average price per unit" is
        // `unit_price`.)
        let said_by_a_column =
            q.group.is_empty() && used.iter().any(|&c| words.iter().any(|w| says(c, w)));
        let says_x = |c: usize| says(c, x);
        if aggregates && !made && !said_by_a_column {
            doubts.push(Doubt {
                said: format!(
                    "the question asks for a figure per {}, but the query does not break it \
                     down that way",
                    x.low
                ),
                factor: 0.5,
                about_a_word: false,
            });
            break;
        }
        if per && !aggregates && q.group.is_empty() {
            let shown = |c: usize| q.items.contains(&Expr::Col(c));
            let dims: Vec<usize> = (0..idx.cols.len())
                .filter(|&c| shown(c) && says_x(c))
                .collect();
            let rolled = q.items.iter().any(|e| match e {
                Expr::Col(m) => {
                    let mt = idx.cols[*m].table;
                    // (Or a key listed for "the number of channels per language".)
                    (numeric_measure(idx, *m) || idx.references(*m))
                        && dims.iter().any(|&d| {
                            idx.cols[d].table != mt && idx.rolls_up(mt, idx.cols[d].table, 2)
                        })
                }
                _ => false,
            });
            if rolled {
                doubts.push(Doubt {
                    said: format!(
                        "the question asks for a figure per {}, but the query lists rows \
                         one by one",
                        x.low
                    ),
                    factor: 0.5,
                    about_a_word: false,
                });
                break;
            }
        }
    }
    doubts
}

/// "How many shipments were cancelled?" answered by counting every shipment: a state said
/// of the rows (a past participle after "was", "were", "is", "are" or "been") that the
/// query leaves out, while a table it reads keeps a status among a few stored values and
/// compares none: the state asked for is likely one of them, under a code the question
/// does not spell ('CNL').
fn state_not_applied(q: &Select, idx: &Index, toks: &[Tok], covered: &[bool]) -> Vec<Doubt> {
    let lex = crate::lexicon::lexicon();
    // Every participle said of the rows is weighed, the first left out is the doubt.
    toks.iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let made = lex
                .lemma(&t.low)
                .is_some_and(|l| crate::lexicon::MAKING_VERBS.contains(&l.as_str()));
            let participle = t.low.ends_with("ed") || lex.lemma(&t.low).is_some_and(|l| l != t.low);
            let after_be = (i.saturating_sub(2)..i)
                .any(|j| matches!(toks[j].low.as_str(), "was" | "were" | "is" | "are" | "been"));
            // "How many failed transactions …": the participle before the rows it qualifies.
            let before_rows = crate::ground::before_read_word(toks, covered, i);
            (!covered.get(i).copied().unwrap_or(true)
                && !crate::ground::fixed(t)
                && lex.is_verb(&t.low)
                && participle
                && !made
                && (after_be || before_rows))
                .then_some((t, !after_be))
        })
        .find_map(|(said, before_only)| state_left_out(q, idx, said, before_only))
        .into_iter()
        .collect()
}

/// The doubt for a state said of the rows (`said`, a participle; `before_only` when only
/// said before the rows) that the query leaves out while a table it reads keeps a status.
fn state_left_out(q: &Select, idx: &Index, said: &Tok, before_only: bool) -> Option<Doubt> {
    let lex = crate::lexicon::lexicon();
    // A time range the verb names dates the rows ("orders shipped in 2025" compares
    // `shipped_date`): the verb says when, not a state. Any other date ("appointments
    // cancelled between January and March" on the appointment's date) leaves the state
    // unsaid.
    let verb = lex.lemma(&said.low).unwrap_or_else(|| said.stem.clone());
    let dated = q
        .conds
        .iter()
        .flat_map(sql::cond_cols)
        .chain(q.bucket.map(|(c, _)| c))
        .filter(|&c| idx.cols[c].kind == crate::index::Kind::Date)
        .any(|c| {
            idx.cols[c].names().flatten().any(|w| {
                *w == verb
                    || *w == said.low
                    || *w == said.stem
                    || lex.lemma(w).is_some_and(|l| l == verb)
            })
        });
    if dated {
        return None;
    }
    let compared: Vec<usize> = q.conds.iter().flat_map(sql::cond_cols).collect();
    let status = sql::tables_of(q, idx).into_iter().find_map(|t| {
        idx.tables[t].cols.iter().copied().find_map(|c| {
            let col = &idx.cols[c];
            let named = col.names().flatten().any(|w| {
                matches!(
                    w.as_str(),
                    "status"
                        | "sts"
                        | "stat"
                        | "state"
                        | "stage"
                        | "phase"
                        | "outcome"
                        | "result"
                        | "disposition"
                        | "condition"
                )
            });
            let values: Vec<&str> = idx
                .values
                .iter()
                .filter(|v| v.col == c && !v.mapped)
                .map(|v| v.value.as_str())
                .collect();
            let places = values
                .iter()
                .any(|v| !lex.place_names(&v.to_lowercase()).is_empty());
            // Before the rows ("failed transactions"), a participle may as well say how
            // they came to be ("rented cars"): a state only where a stored state spells it
            // ('fail', 'CMP' of "completed").
            let spelled = !before_only
                || values.iter().any(|v| {
                    let v = v.to_lowercase();
                    v.chars().count() >= 3
                        && (verb.starts_with(&v)
                            || v.starts_with(&verb)
                            || crate::ground::abbreviates_loosely(&v, &verb)
                            || crate::ground::abbreviates_loosely(&v, &said.low))
                });
            (named
                && spelled
                && col.kind == crate::index::Kind::Text
                && (2..=15).contains(&values.len())
                && !places
                && !compared.contains(&c))
            .then_some((c, values))
        })
    });
    let (c, values) = status?;
    let shown: Vec<String> = values.iter().take(4).map(|v| format!("'{v}'")).collect();
    Some(Doubt {
        said: format!(
            "the query does not use \"{}\"; `{}.{}` keeps states such as {}",
            said.low,
            idx.tables[idx.cols[c].table].name,
            idx.cols[c].name,
            shown.join(", ")
        ),
        factor: 0.6,
        about_a_word: true,
    })
}

/// Whether the groups of `q` fix column `c` to one value each: it is grouped, or the key of
/// its table is, or a grouped key points at its table ("customers.name" grouped by
/// `orders.customer_id`).
pub(crate) fn determined_by_groups(q: &Select, idx: &Index, c: usize) -> bool {
    let t = idx.cols[c].table;
    q.group
        .iter()
        .any(|&g| g == c || idx.key_col(t) == Some(g) || idx.points_at(g, t))
}

/// A number rows carry as a measure: numeric, no key.
fn numeric_measure(idx: &Index, c: usize) -> bool {
    let col = &idx.cols[c];
    col.kind == crate::index::Kind::Number && !col.pk && !idx.references(c) && col.metric.is_none()
}

/// "How many channels are there for each language?" counting the cartoons that point at
/// the channels: the rows counted are of a table the question does not name, while the one
/// it counts is only joined.
fn counted_elsewhere(q: &Select, idx: &Index, toks: &[Tok], unnamed: &[usize]) -> Option<Doubt> {
    let counted_said = toks.iter().enumerate().find_map(|(i, t)| {
        if !matches!(t.low.as_str(), "many" | "count" | "number") {
            return None;
        }
        // (After "the", "of", "all": "count the channels", "the number of channels".)
        let noun = toks[i + 1..]
            .iter()
            .find(|n| !matches!(n.low.as_str(), "the" | "of" | "all" | "our"))?;
        (!noun.quoted)
            .then(|| idx.table_named_by(&noun.stem))
            .flatten()
    })?;
    let t = counted_said;
    (q.items.contains(&Expr::CountStar)
        && t != q.from
        && unnamed.contains(&q.from)
        && sql::tables_of(q, idx).contains(&t))
    .then(|| Doubt {
        said: format!(
            "the query counts rows of `{}`, but the question counts {}",
            idx.tables[q.from].name,
            idx.table_words(t)
        ),
        factor: 0.5,
        about_a_word: false,
    })
}

/// Words of the question the schema knows (a table's, column's or value's word) that the
/// planner placed nowhere: the query may answer a question without them.
fn ignored_known(idx: &Index, toks: &[Tok], covered: &[bool]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if covered.get(i).copied().unwrap_or(true) || crate::ground::fixed(t) {
            continue;
        }
        if (idx.vocab.contains(&t.stem) || idx.vocab.contains(&t.low)) && !out.contains(&t.low) {
            out.push(t.low.clone());
        }
    }
    out
}

/// The tables whose columns the query shows, compares, groups or orders by.
fn used_tables(q: &Select, idx: &Index) -> Vec<usize> {
    let mut used: Vec<usize> = Vec::new();
    for e in q.items.iter().chain(q.order.iter().map(|(e, _)| e)) {
        if let Expr::Col(c) | Expr::Agg(_, c, _) = e {
            used.push(idx.cols[*c].table);
        }
    }
    for c in q.conds.iter().flat_map(sql::cond_cols) {
        used.push(idx.cols[c].table);
    }
    used.extend(q.group.iter().map(|c| idx.cols[*c].table));
    used
}

/// Tables the query joins or reads that no word of the question names and whose columns
/// the query shows or filters on nowhere but in a join (a bridge the translator chose).
fn unnamed_tables(q: &Select, idx: &Index, named: &[usize]) -> Vec<usize> {
    let used = used_tables(q, idx);
    let mut tables = vec![q.from];
    tables.extend(q.joins.iter().map(|(_, c)| idx.cols[*c].table));
    tables
        .into_iter()
        .filter(|t| !named.contains(t) && !used.contains(t))
        .collect()
}

/// A string compared with a column that does not hold it as far as the samples tell: a
/// sampled column (whose values are all known) without it; a person's first or last name
/// that is a place or its adjective ("Swiss players"); a name said right before another
/// table's noun, compared with a column of a table the question does not name ("Wimbledon
/// matches" is no player's first name).
fn guessed_values(q: &Select, idx: &Index, toks: &[Tok], named: &[usize]) -> Vec<Doubt> {
    fn strings<'a>(conds: &'a [sql::Cond], out: &mut Vec<(usize, &'a str)>) {
        for c in conds {
            match c {
                sql::Cond::Cmp(col, _, sql::Lit::Str(text)) => out.push((*col, text)),
                sql::Cond::Both(cs) | sql::Cond::Or(cs) => strings(cs, out),
                _ => {}
            }
        }
    }
    let mut compared = Vec::new();
    strings(&q.conds, &mut compared);
    let lex = crate::lexicon::lexicon();
    let mut doubts = Vec::new();
    for (c, text) in compared {
        // Whether the column has stored (sampled) values, and whether any of its values,
        // stored or mapped, is this one: one pass over the index's values.
        let (mut sampled, mut held) = (false, false);
        for v in idx.values.iter().filter(|v| v.col == c) {
            sampled |= !v.mapped;
            held |= v.value == text || (!v.mapped && v.value.eq_ignore_ascii_case(text));
        }
        if held {
            continue;
        }
        let form = idx.code_width(c).filter(|_| crate::index::is_code(text));
        let col = &idx.cols[c];
        let table = &idx.tables[col.table].name;
        let low = text.to_lowercase();
        let place = lex.place_kind(&low).is_some() || !lex.place_names(&low).is_empty();
        let person_part = col
            .names()
            .any(|n| n.len() == 2 && n[1] == "name" && matches!(n[0].as_str(), "first" | "last"));
        // (Last names may be several words: "De La Cruz".)
        let first_name = col
            .names()
            .any(|n| n.len() == 2 && n[1] == "name" && n[0] == "first");
        // The token right after the value's last word.
        let last = text.split_whitespace().last().unwrap_or_default();
        let before_other_table = toks.windows(2).any(|w| {
            w[0].text == last
                && idx
                    .table_named_by(&w[1].stem)
                    .is_some_and(|t| t != col.table)
        });
        // "Japanese", "Texan": where something is from (not a place's own name or code).
        let from_a_place =
            lex.place_kind(&low).is_none() && low.len() > 3 && !lex.place_names(&low).is_empty();
        let a_name = col.names().any(|n| n.last().is_some_and(|w| w == "name"));
        let why = if sampled && !place {
            format!("'{text}' is not among the values of `{table}.{}`", col.name)
        } else if let Some(n) = form
            && text.chars().count() != n
        {
            // "UK" compared with codes of three letters ('GBR'): not how they are kept.
            format!(
                "'{text}' is not kept as `{table}.{}` keeps its codes ({n} characters)",
                col.name
            )
        } else if place && person_part || from_a_place && a_name {
            format!("'{text}' is a place, not a name in `{table}.{}`", col.name)
        } else if first_name && text.split_whitespace().count() > 1 {
            // ("units of the Pulse Pro" as `employees.first_name = 'Pulse Pro'`.)
            format!(
                "'{text}' is more than one word for `{table}.{}`, a person's first name",
                col.name
            )
        } else if before_other_table && !named.contains(&col.table) && !place {
            format!(
                "I compared '{text}' with `{table}.{}`, whose table the question does not name",
                col.name
            )
        } else {
            continue;
        };
        doubts.push(Doubt {
            said: why,
            factor: 0.7,
            about_a_word: true,
        });
    }
    doubts
}

/// "orders still waiting to be shipped": a value said after "to be" (or "yet") is a state
/// the rows have not reached, not the value they hold.
fn values_yet_to_come(q: &Select, toks: &[Tok]) -> Vec<Doubt> {
    let mut doubts = Vec::new();
    for c in &q.conds {
        let sql::Cond::Cmp(_, "=", sql::Lit::Str(text)) = c else {
            continue;
        };
        let first = text.split_whitespace().next().unwrap_or_default();
        let ahead = (0..toks.len()).any(|i| {
            toks[i].text.eq_ignore_ascii_case(first)
                && (i >= 2 && toks[i - 2].low == "to" && toks[i - 1].low == "be"
                    || i >= 1 && toks[i - 1].low == "yet")
        });
        if ahead {
            doubts.push(Doubt {
                said: format!("'{text}' is said as still to happen, not as what rows hold"),
                factor: 0.5,
                about_a_word: false,
            });
        }
    }
    doubts
}

/// "How many people currently work in …": "currently" (or "still") where a table the query
/// reads keeps when its rows ended (`term_dt`) and the query does not look at it.
fn current_not_applied(q: &Select, idx: &Index, toks: &[Tok]) -> Vec<Doubt> {
    if !toks
        .iter()
        .any(|t| matches!(t.low.as_str(), "currently" | "still"))
    {
        return Vec::new();
    }
    let used: Vec<usize> = q.conds.iter().flat_map(sql::cond_cols).collect();
    let ends = sql::tables_of(q, idx).into_iter().find_map(|t| {
        idx.tables[t]
            .cols
            .iter()
            .copied()
            .find(|&c| idx.ends_rows(c))
    });
    match ends {
        Some(c) if !used.contains(&c) => vec![Doubt {
            said: format!(
                "the question says \"currently\", and `{}` may say which rows are current",
                idx.cols[c].name
            ),
            factor: 0.7,
            about_a_word: true,
        }],
        _ => Vec::new(),
    }
}

/// A date range on a column whose stored values are text that is no ISO date ('October
/// 5, 2007'): compared as text, the range keeps the wrong rows.
fn dates_not_kept_as_dates(q: &Select, idx: &Index) -> Vec<Doubt> {
    let mut doubts = Vec::new();
    for c in &q.conds {
        let col = match c {
            sql::Cond::Range(col, ..)
            | sql::Cond::Between(col, ..)
            | sql::Cond::Relative(col, _)
            | sql::Cond::Cmp(col, _, _) => *col,
            _ => continue,
        };
        let samples = &idx.cols[col].samples;
        let text_dates = idx.cols[col].kind == crate::index::Kind::Date
            && !samples.is_empty()
            && samples
                .iter()
                .all(|v| !crate::index::iso_date(v) && v.chars().any(char::is_alphabetic));
        if text_dates {
            doubts.push(Doubt {
                said: format!(
                    "`{}` keeps its dates as text like '{}', which does not compare as dates",
                    idx.cols[col].name, samples[0]
                ),
                factor: 0.5,
                about_a_word: false,
            });
        }
    }
    doubts
}

/// Why a translation below the threshold is not answered: how sure it was, the doubts,
/// what it would have answered and what would help.
pub(crate) fn refusal(a: &Assessment, understood: &str) -> String {
    let advice = if a.doubts.iter().any(|d| d.about_a_word) {
        "Ask with the names the database uses, add the words as synonyms or a metric in the \
         connection's semantic model, or use an LLM provider."
    } else {
        "Ask a shorter, more direct question that names the tables to use, or use an LLM \
         provider."
    };
    format!(
        "I am not sure enough of my reading (confidence {:.0}%): {}. I would have answered: \
         {} {advice}",
        a.confidence * 100.0,
        doubt_list(a),
        understood.trim_end_matches('.').to_owned() + "."
    )
}

/// The explanation, followed by the confidence and its doubts when there are any (how
/// words the schema does not use were read among them).
pub(crate) fn explained(explanation: String, a: &Assessment) -> String {
    if a.doubts.is_empty() {
        return explanation;
    }
    format!(
        "{explanation} Confidence {:.0}%: {}.",
        a.confidence * 100.0,
        doubt_list(a)
    )
}

/// The doubts in plain words, largest first: "the answer joins 4 tables; …".
fn doubt_list(a: &Assessment) -> String {
    let doubts: Vec<&str> = a.doubts.iter().map(|d| d.said.as_str()).collect();
    doubts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::PrivacyPolicy;
    use querent_domain::schema::SchemaSnapshot;

    #[test]
    fn a_value_a_fully_sampled_column_does_not_hold_is_a_doubt() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "orders", "kind": "table", "columns": [
                {"name": "id", "data_type": "integer", "nullable": false},
                {"name": "status", "data_type": "text", "nullable": false,
                 "sample_values": ["shipped", "pending"]}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let status = idx.cols.iter().position(|c| c.name == "status").unwrap();
        let query = |text: &str| {
            Select::plain(
                0,
                vec![Expr::CountStar],
                vec![sql::Cond::Cmp(status, "=", sql::Lit::Str(text.into()))],
            )
        };
        let toks = crate::text::tokenize("how many orders");
        let doubts = guessed_values(&query("lost"), &idx, &toks, &[0]);
        assert_eq!(doubts.len(), 1);
        assert!(
            doubts[0]
                .said
                .contains("'lost' is not among the values of `orders.status`")
        );
        // A stored value, in any case, is no doubt.
        assert!(guessed_values(&query("Shipped"), &idx, &toks, &[0]).is_empty());
    }

    #[test]
    fn a_code_not_in_the_form_the_column_keeps_is_a_doubt() {
        // `char(3)` codes, none sampled: "UK" is not how the United Kingdom is kept there.
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "city", "kind": "table", "columns": [
                {"name": "id", "data_type": "integer", "nullable": false},
                {"name": "CountryCode", "data_type": "char(3)", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let code = idx
            .cols
            .iter()
            .position(|c| c.name == "CountryCode")
            .unwrap();
        assert_eq!(idx.cols[code].width, Some(3));
        let query = |text: &str| {
            Select::plain(
                0,
                vec![Expr::CountStar],
                vec![sql::Cond::Cmp(code, "=", sql::Lit::Str(text.into()))],
            )
        };
        let toks = crate::text::tokenize("how many cities are in the UK");
        let doubts = guessed_values(&query("UK"), &idx, &toks, &[0]);
        assert_eq!(doubts.len(), 1);
        assert!(
            doubts[0].said.contains("(3 characters)"),
            "{}",
            doubts[0].said
        );
        assert!(guessed_values(&query("USA"), &idx, &toks, &[0]).is_empty());
    }

    #[test]
    fn shapes_no_reading_wants_are_doubts() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [
                {"name": "customers", "kind": "table", "columns": [
                    {"name": "id", "data_type": "integer", "nullable": false},
                    {"name": "name", "data_type": "text", "nullable": false},
                    {"name": "country", "data_type": "text", "nullable": false}]},
                {"name": "orders", "kind": "table", "columns": [
                    {"name": "id", "data_type": "integer", "nullable": false},
                    {"name": "customer_id", "data_type": "integer", "nullable": false},
                    {"name": "quantity", "data_type": "integer", "nullable": false},
                    {"name": "unit_price", "data_type": "numeric(10,2)", "nullable": false},
                    {"name": "total", "data_type": "numeric(10,2)", "nullable": false}],
                 "foreign_keys": [{"columns": ["customer_id"],
                    "referenced_table": "customers", "referenced_columns": ["id"]}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let col = |t: &str, c: &str| {
            idx.cols
                .iter()
                .position(|k| k.name == c && idx.tables[k.table].name == t)
                .unwrap()
        };
        let (customers, orders) = (0, 1);
        let (country, name) = (col("customers", "country"), col("customers", "name"));
        let (quantity, total) = (col("orders", "quantity"), col("orders", "total"));
        let customer_id = col("orders", "customer_id");
        let joined = |items: Vec<Expr>| {
            let mut q = Select::plain(orders, items, Vec::new());
            q.joins = vec![(customer_id, col("customers", "id"))];
            q
        };
        let doubts = |q: &Select, text: &str| {
            shape_doubts(q, &idx, &crate::text::tokenize(text))
                .into_iter()
                .map(|d| d.said)
                .collect::<Vec<_>>()
        };
        // Grouped by the very number it adds up.
        let mut q = Select::plain(
            orders,
            vec![Expr::Agg(sql::Agg::Sum, quantity, false)],
            vec![],
        );
        q.group = vec![quantity];
        assert!(doubts(&q, "units sold")[0].contains("groups by `quantity`"));
        // A figure per country, not broken down; then broken down.
        let mut q = joined(vec![Expr::Agg(sql::Agg::Sum, total, false)]);
        assert!(doubts(&q, "total of orders per country")[0].contains("per country"));
        assert!(doubts(&q, "total of orders for each country")[0].contains("per country"));
        q.items.push(Expr::Col(country));
        q.group = vec![country];
        assert!(doubts(&q, "total of orders per country").is_empty());
        // Per customer, grouped by the key that refers to customers.
        let mut q = Select::plain(orders, vec![Expr::CountStar], vec![]);
        q.group = vec![customer_id];
        assert!(doubts(&q, "orders per customer").is_empty());
        // "The average price per unit" is a column's own name.
        let q = Select::plain(
            orders,
            vec![Expr::Agg(sql::Agg::Avg, col("orders", "unit_price"), false)],
            vec![],
        );
        assert!(doubts(&q, "average price per unit").is_empty());
        // Each order's amount listed beside its country, "per country".
        let q = joined(vec![Expr::Col(total), Expr::Col(country)]);
        assert!(doubts(&q, "the amount of orders per country")[0].contains("lists rows"));
        assert!(doubts(&q, "the amount and country of each order").is_empty());
        // The same count twice: the plain count goes.
        let mut q = Select::plain(orders, vec![Expr::CountStar], vec![]);
        q.items
            .push(Expr::Agg(sql::Agg::Count, col("orders", "id"), true));
        assert_eq!(repeated_figure(&q, &idx), Some(0));
        q.items[0] = Expr::Col(total);
        assert_eq!(repeated_figure(&q, &idx), None);
        // A column the groups do not determine, shown beside their counts.
        let mut q = Select::plain(
            customers,
            vec![Expr::CountStar, Expr::Col(country), Expr::Col(name)],
            vec![],
        );
        q.group = vec![country];
        assert!(doubts(&q, "customers per country")[0].contains("does not group by it"));
        q.group = vec![country, col("customers", "id")];
        assert!(doubts(&q, "customers per country").is_empty());
        // "Per sales rep": the second word of the name is the one grouped.
        let mut q = joined(vec![
            Expr::Agg(sql::Agg::Sum, total, false),
            Expr::Col(name),
        ]);
        q.group = vec![customer_id];
        assert!(doubts(&q, "total per country customer").is_empty());
        assert!(doubts(&q, "total per country")[0].contains("per country"));
        // The noun after "each of the"; "across every" is all of them.
        assert!(doubts(&q, "the total for each of the customers").is_empty());
        let q = joined(vec![Expr::Agg(sql::Agg::Sum, total, false)]);
        assert!(doubts(&q, "the total across every customer").is_empty());
        // A name shown beside a count of all rows.
        let q = Select::plain(customers, vec![Expr::Col(name), Expr::CountStar], vec![]);
        assert!(doubts(&q, "names and how many")[0].contains("without grouping"));
    }

    #[test]
    fn a_question_opening_with_a_figure_asks_for_a_number() {
        let asks = |q: &str| asks_for_a_figure(&crate::text::tokenize(q));
        assert!(asks("What was the total spent on shots for the dogs?"));
        assert!(asks("How much did we collect in 2024?"));
        assert!(asks("what is the average age"));
        assert!(asks("What's the total revenue?"));
        // A figure that only picks the rows shown is no figure asked.
        assert!(!asks("Which customers spent the most in total?"));
        assert!(!asks("What is the name of the oldest dog?"));
    }

    #[test]
    fn numbers_listed_row_by_row_for_one_figure_asked() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "orders", "kind": "table", "primary_key": ["id"], "columns": [
                {"name": "id", "data_type": "integer", "nullable": false},
                {"name": "total_amount", "data_type": "real", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let amount = idx
            .cols
            .iter()
            .position(|c| c.name == "total_amount")
            .unwrap();
        let id = idx.cols.iter().position(|c| c.name == "id").unwrap();
        let toks = crate::text::tokenize("What was the total amount of the orders?");
        let listed = Select::plain(0, vec![Expr::Col(amount)], vec![]);
        assert!(
            figure_doubt(&listed, &idx, &toks).is_some_and(|d| d.said.contains("for each row"))
        );
        // One row named by its key, or a sum, is one figure.
        let one = Select::plain(
            0,
            vec![Expr::Col(amount)],
            vec![sql::Cond::Cmp(id, "=", sql::Lit::Num("7".into()))],
        );
        assert!(figure_doubt(&one, &idx, &toks).is_none());
        let sum = Select::plain(0, vec![Expr::Agg(sql::Agg::Sum, amount, false)], vec![]);
        assert!(figure_doubt(&sum, &idx, &toks).is_none());
        // Only the key shown is no figure.
        let keys = Select::plain(0, vec![Expr::Col(id)], vec![]);
        assert!(figure_doubt(&keys, &idx, &toks).is_some_and(|d| d.said.contains("shows none")));
    }

    #[test]
    fn a_state_said_of_the_rows_and_left_out_is_a_doubt() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "shpmt", "kind": "table", "columns": [
                {"name": "shpmt_id", "data_type": "integer", "nullable": false},
                {"name": "sts_cd", "data_type": "text", "nullable": false,
                 "sample_values": ["CNL", "DLV", "TRN"]},
                {"name": "ship_dt", "data_type": "date", "nullable": false},
                {"name": "shipping_date", "data_type": "date", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let all = Select::plain(0, vec![Expr::CountStar], Vec::new());
        let doubts = |q: &Select, text: &str| {
            let toks = crate::text::tokenize(text);
            let covered: Vec<bool> = toks
                .iter()
                .map(|t| matches!(t.stem.as_str(), "shipment" | "many"))
                .collect();
            state_not_applied(q, &idx, &toks, &covered)
        };
        let d = doubts(&all, "how many shipments were cancelled");
        assert_eq!(d.len(), 1);
        assert!(
            d[0].said
                .contains("\"cancelled\"; `shpmt.sts_cd` keeps states such as 'CNL'")
        );
        // Verbs of making a row and a status compared are no doubt.
        assert!(doubts(&all, "how many shipments were booked").is_empty());
        let status = idx.cols.iter().position(|c| c.name == "sts_cd").unwrap();
        let cancelled = Select::plain(
            0,
            vec![Expr::CountStar],
            vec![sql::Cond::Cmp(status, "=", sql::Lit::Str("CNL".into()))],
        );
        assert!(doubts(&cancelled, "how many shipments were cancelled").is_empty());
        let date = idx.cols.iter().position(|c| c.name == "ship_dt").unwrap();
        let dated = Select::plain(
            0,
            vec![Expr::CountStar],
            vec![sql::Cond::Cmp(
                date,
                ">=",
                sql::Lit::Str("2024-01-01".into()),
            )],
        );
        // A range on the date the verb names says when ("shipped in 2024"); a range on
        // another date leaves the state unsaid.
        assert!(doubts(&dated, "how many shipments were shipped in 2024").is_empty());
        assert_eq!(
            doubts(&dated, "how many shipments were cancelled in 2024").len(),
            1
        );
        // (The date's own word in another form: `shipping_date` of "shipped".)
        let shipping = idx
            .cols
            .iter()
            .position(|c| c.name == "shipping_date")
            .unwrap();
        let dated = Select::plain(
            0,
            vec![Expr::CountStar],
            vec![sql::Cond::Cmp(
                shipping,
                ">=",
                sql::Lit::Str("2024-01-01".into()),
            )],
        );
        assert!(doubts(&dated, "how many shipments were shipped in 2024").is_empty());
        // Before the rows, only a state a stored code spells: "cancelled" is `CNL`.
        assert_eq!(doubts(&all, "how many cancelled shipments").len(), 1);
        assert!(doubts(&all, "how many inspected shipments").is_empty());
        // A participle excused does not hide a later one.
        assert_eq!(
            doubts(&all, "how many inspected shipments were cancelled").len(),
            1
        );
    }

    #[test]
    fn counting_rows_of_a_table_the_question_does_not_name_is_a_doubt() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [
                {"name": "tv_channel", "kind": "table", "columns": [
                    {"name": "id", "data_type": "integer", "nullable": false},
                    {"name": "language", "data_type": "text", "nullable": false}]},
                {"name": "cartoon", "kind": "table", "columns": [
                    {"name": "id", "data_type": "integer", "nullable": false},
                    {"name": "channel", "data_type": "integer", "nullable": false}],
                 "foreign_keys": [{"columns": ["channel"],
                    "referenced_table": "tv_channel", "referenced_columns": ["id"]}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let col = |c: &str| idx.cols.iter().position(|k| k.name == c).unwrap();
        let channel = idx.cols.iter().rposition(|k| k.name == "channel").unwrap();
        let mut q = Select::plain(1, vec![Expr::CountStar, Expr::Col(col("language"))], vec![]);
        q.joins = vec![(channel, col("id"))];
        q.group = vec![col("language")];
        let toks = crate::text::tokenize("How many channels are there for each language?");
        let d = counted_elsewhere(&q, &idx, &toks, &[1]).unwrap();
        assert!(
            d.said
                .contains("counts rows of `cartoon`, but the question counts tv channel")
        );
        // Counting the channels themselves is no doubt.
        let mut own = Select::plain(0, vec![Expr::CountStar], vec![]);
        own.group = vec![col("language")];
        assert!(counted_elsewhere(&own, &idx, &toks, &[]).is_none());
    }
}
