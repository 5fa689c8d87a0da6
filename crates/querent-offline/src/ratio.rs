//! Shares and percentages: "what percentage of orders were cancelled?", "what share of
//! revenue does each customer segment bring, in percent?", "what fraction of the payroll
//! goes to Engineering?". The ratio phrase is taken out of the question, the rest is
//! planned as the measure it names (a count of rows, a sum, a metric), and the measure's
//! conditions are split into the part the share is of and the whole it is taken from:
//! conditions on dates (a year, "last month") bound both, the others pick the part. When
//! nothing picks a part, each group of a grouped measure is the part.

use crate::index::{Index, Kind};
use crate::sql::{Agg, Cond, Expr, Ratio, Select, Share, cond_cols, explain, is_measure};
use crate::text::Tok;
use crate::{CannotTranslate, Reading};

/// Words that ask for a share when followed by "of".
const SHARE_WORDS: &[&str] = &["percentage", "percent", "fraction", "share", "proportion"];

/// Words that may open a share question before the share word ("what is the share of").
const OPENERS: &[&str] = &[
    "what",
    "which",
    "is",
    "was",
    "were",
    "the",
    "a",
    "an",
    "give",
    "me",
    "show",
    "tell",
    "us",
    "find",
    "compute",
    "calculate",
    "'s",
];

/// A share the question asks for: whether in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Asked {
    pub percent: bool,
}

/// Takes the share phrase out of the question ("what percentage of orders were cancelled"
/// → "how many orders were cancelled"), with the words saying it is wanted in percent.
/// `None` (tokens unchanged) when the question asks no share in a form read here.
pub(crate) fn strip(toks: &mut Vec<Tok>, idx: &Index) -> Option<Asked> {
    let said = toks.clone();
    each_group_last(toks);
    let asked = strip_share(toks, idx);
    if asked.is_none() {
        *toks = said;
    }
    asked
}

/// [`strip`] once the groups said first are moved to the end.
fn strip_share(toks: &mut Vec<Tok>, idx: &Index) -> Option<Asked> {
    let i = toks.iter().enumerate().position(|(i, t)| {
        SHARE_WORDS.contains(&t.low.as_str()) && toks.get(i + 1).is_some_and(|n| n.low == "of")
    })?;
    if !toks[..i].iter().all(|t| OPENERS.contains(&t.low.as_str())) {
        return None;
    }
    let mut percent = matches!(toks[i].low.as_str(), "percentage" | "percent");
    // "…, in percent?", "… as a percentage", "… (%)".
    let mut j = i + 2;
    while j < toks.len() {
        let low = toks[j].low.as_str();
        let span = match low {
            "percent" | "percentage" | "%" => {
                let mut s = j;
                while s > i + 2 && matches!(toks[s - 1].low.as_str(), "in" | "as" | "a") {
                    s -= 1;
                }
                Some(s)
            }
            _ => None,
        };
        if let Some(s) = span {
            percent = true;
            crate::text::drain_keeping_marks(toks, s, j);
            j = s;
        } else {
            j += 1;
        }
    }
    toks.drain(..i + 2);
    while toks
        .first()
        .is_some_and(|t| matches!(t.low.as_str(), "the" | "all" | "our" | "their" | "its"))
    {
        toks.remove(0);
    }
    // "orders were cancelled" counts orders; "revenue came from …" is a measure already.
    if toks
        .first()
        .is_some_and(|t| !t.quoted && idx.table_named_by(&t.stem).is_some())
    {
        toks.insert(0, Tok::word("many"));
        toks.insert(0, Tok::word("how"));
    }
    Some(Asked { percent })
}

/// "For each hotel, what percentage of its bookings were cancelled?": the groups said
/// first, before a share question, go to its end ("… were cancelled for each hotel").
fn each_group_last(toks: &mut Vec<Tok>) {
    let opens = toks.len() > 3
        && matches!(toks[0].low.as_str(), "for" | "in" | "within")
        && matches!(toks[1].low.as_str(), "each" | "every");
    let Some(end) = toks.iter().take(6).position(|t| t.comma).filter(|_| opens) else {
        return;
    };
    let share_next = toks[end + 1..]
        .iter()
        .take_while(|t| OPENERS.contains(&t.low.as_str()))
        .count();
    let asks_share = toks
        .get(end + 1 + share_next)
        .is_some_and(|t| SHARE_WORDS.contains(&t.low.as_str()));
    if !asks_share {
        return;
    }
    let mut clause: Vec<Tok> = toks.drain(..=end).collect();
    let stop = toks.last().is_some_and(|t| t.stop);
    if let Some(last) = toks.last_mut() {
        last.stop = false;
    }
    if let Some(last) = clause.last_mut() {
        last.comma = false;
        last.stop = stop;
    }
    toks.extend(clause);
}

/// Turns the planned measure into the share asked for, or says why it cannot.
pub(crate) fn apply(q: &mut Select, asked: Asked, idx: &Index) -> Result<(), String> {
    let understood = explain(q, idx);
    let measures: Vec<&Expr> = q.items.iter().filter(|e| is_measure(e, idx)).collect();
    let plain_ok = q.items.iter().all(|e| match e {
        // (A grouped row's own columns: each hotel's name, grouped by its key.)
        Expr::Col(c) => {
            idx.cols[*c].metric.is_some()
                || q.group.contains(c)
                || q.group
                    .iter()
                    .any(|g| idx.cols[*g].pk && idx.cols[*g].table == idx.cols[*c].table)
        }
        _ => true,
    });
    if measures.len() != 1 || !plain_ok || q.intersect.is_some() {
        return Err(format!(
            "the question asks for a share, but I did not find the one amount or count it \
             is a share of; I would have answered: {} Rephrase the question, or use an LLM \
             provider.",
            understood
        ));
    }
    let measure = measures[0].clone();
    if q.limit.is_some() && q.group.is_empty() && q.bucket.is_none() {
        return Err(format!(
            "the question asks for a share of a cut list, which I do not compute; I would \
             have answered: {}",
            understood
        ));
    }
    let mut part = Vec::new();
    let mut whole = Vec::new();
    for c in std::mem::take(&mut q.conds) {
        let dated = matches!(c, Cond::Relative(..))
            || cond_cols(&c)
                .iter()
                .all(|&k| idx.cols[k].kind == Kind::Date);
        if matches!(c, Cond::Both(_)) {
            q.conds = whole;
            return Err(format!(
                "the question asks for a share of rows meeting two conditions of one column \
                 at once, which I do not compute; I would have answered: {}",
                understood
            ));
        }
        if dated {
            whole.push(c);
        } else {
            part.push(c);
        }
    }
    let grouped = !q.group.is_empty() || q.bucket.is_some();
    if part.is_empty() && !grouped {
        q.conds = whole;
        return Err(format!(
            "the question asks for a share, but I did not find what part of the whole it is \
             about; I would have computed the whole: {} Say which rows make the part (a \
             value, a condition), or use an LLM provider.",
            understood
        ));
    }
    let countable = matches!(measure, Expr::CountStar | Expr::Agg(Agg::Sum, _, false))
        && !matches!(measure, Expr::Agg(_, c, _) if idx.cols[c].metric.is_some());
    if !part.is_empty() && grouped && !countable {
        q.conds = whole;
        return Err(format!(
            "the question asks for a share within each group of a measure I can only compute \
             as a whole; I would have answered: {}",
            understood
        ));
    }
    q.conds = whole;
    if !grouped {
        q.order.clear();
    }
    q.share = Some(Share {
        part,
        percent: asked.percent,
    });
    Ok(())
}

/// Words that open what a ratio is taken over rather than one of its two numbers ("the
/// ratio of one-way to round-trip costs **for each fare**", "… **in** New York").
const OVER: &[&str] = &[
    "for", "per", "in", "by", "across", "during", "among", "within", "over", "grouped", "broken",
    "each",
];

/// "the ratio of A to B …" (or "of A per B", "between A and B"): for each way of cutting the two
/// numbers apart, the question asked for each of them — the words before the ratio, the
/// number ("the number of A" when A names rows) and what the ratio is taken over, said
/// after B, which applies to both unless A carries its own ("restaurants in Boston to
/// restaurants in Denver"). Empty when the question asks no ratio in this form.
pub(crate) fn sides(question: &str, idx: &Index) -> Vec<(String, String)> {
    let words: Vec<&str> = question.split_whitespace().collect();
    let low = crate::text::plain_words(question);
    let Some(i) = (0..low.len().saturating_sub(1))
        .find(|&i| low[i] == "ratio" && matches!(low[i + 1].as_str(), "of" | "between"))
    else {
        return Vec::new();
    };
    // ("the ratio of population per area": "per" divides too.)
    let joiners: &[&str] = if low[i + 1] == "between" {
        &["and"]
    } else {
        &["to", "per"]
    };
    let prefix = &words[..i];
    let mut out = Vec::new();
    for j in i + 3..low.len().saturating_sub(1) {
        if !joiners.contains(&low[j].as_str()) {
            continue;
        }
        let a = &words[i + 2..j];
        let tail = &words[j + 1..];
        let own = low[i + 2..j].iter().any(|w| OVER.contains(&w.as_str()));
        let k = if own {
            tail.len()
        } else {
            (1..tail.len())
                .find(|&k| OVER.contains(&low[j + 1 + k].as_str()))
                .unwrap_or(tail.len())
        };
        let (b, over) = tail.split_at(k);
        let side = |number: &[&str]| {
            let mut v: Vec<&str> = prefix.to_vec();
            if names_rows(number, idx) {
                v.extend(["number", "of"]);
            }
            v.extend(number);
            v.extend(over);
            v.join(" ")
        };
        out.push((side(a), side(b)));
    }
    out
}

/// Whether a number's words are rows of a table ("restaurants with a rating above 4",
/// "cancelled orders"), not an amount ("the total of orders", "the price"): such a number
/// is their count. The rows' noun comes within the first words, before any word of an
/// amount or of what qualifies them.
fn names_rows(words: &[&str], idx: &Index) -> bool {
    let toks = crate::text::tokenize(&words.join(" "));
    for t in toks.iter().take(4) {
        if !t.quoted && idx.table_named_by(&t.stem).is_some() {
            return true;
        }
        if AMOUNT_OR_QUALIFIER.contains(&t.low.as_str()) {
            return false;
        }
    }
    false
}

/// Words before a table's noun that make a number something else than its count.
const AMOUNT_OR_QUALIFIER: &[&str] = &[
    "number", "count", "total", "sum", "average", "mean", "amount", "maximum", "minimum", "max",
    "min", "highest", "lowest", "of", "with", "who", "that", "which", "whose",
];

/// The ratio of the two numbers read from the way of cutting them apart that gives two
/// numbers to divide (refused when two ways do, differently): one column of the same rows
/// over another (per row or per group), or one single number over another.
pub(crate) fn of_sides(
    sides: &[(String, String)],
    read: impl Fn(&str) -> Result<Reading, CannotTranslate>,
    idx: &Index,
) -> Result<Reading, String> {
    let mut why = None;
    let mut found: Option<Reading> = None;
    for (a, b) in sides {
        let (ra, rb) = match (read(a), read(b)) {
            (Ok(ra), Ok(rb)) => (ra, rb),
            (Err(e), _) | (_, Err(e)) => {
                why.get_or_insert(e.understood);
                continue;
            }
        };
        match divided(ra, rb, idx) {
            // Two ways of cutting the numbers apart that both read, differently ("orders
            // shipped to Canada to orders shipped to Mexico"): no guess between them.
            Ok(r) if found.as_ref().is_some_and(|f| f.q != r.q) => {
                return Err(format!(
                    "the question asks for a ratio, and I could read its two numbers in more \
                     than one way: {} — or — {}. Ask for each number on its own, or use an \
                     LLM provider.",
                    explain(&found.map(|f| f.q).unwrap_or_default(), idx).trim_end_matches('.'),
                    explain(&r.q, idx).trim_end_matches('.')
                ));
            }
            Ok(r) => {
                found.get_or_insert(r);
            }
            Err(e) => {
                why.get_or_insert(e);
            }
        }
    }
    if let Some(r) = found {
        return Ok(r);
    }
    Err(format!(
        "the question asks for a ratio of two numbers, and I could not compute both: {}",
        why.unwrap_or_default()
    ))
}

/// `a` divided by `b`: the same rows with one number different (that number of `a` over
/// that of `b`), or two single numbers.
fn divided(a: Reading, b: Reading, idx: &Index) -> Result<Reading, String> {
    // (A key is no quantity: a ratio of ids means nothing.)
    let number = |e: &Expr| {
        is_measure(e, idx)
            || matches!(e, Expr::Col(c)
                if idx.cols[*c].kind == Kind::Number && !idx.cols[*c].pk && !idx.cols[*c].fk)
    };
    let plain = |q: &Select| {
        q.limit.is_none() && q.share.is_none() && q.ratio.is_none() && q.intersect.is_none()
    };
    let (qa, qb) = (a.q, b.q);
    let mut q = None;
    if plain(&qa) && plain(&qb) && qa.items.len() == qb.items.len() {
        let differ: Vec<usize> = (0..qa.items.len())
            .filter(|&k| qa.items[k] != qb.items[k])
            .collect();
        let rows = |q: &Select| Select {
            items: Vec::new(),
            order: Vec::new(),
            ..q.clone()
        };
        if let [k] = differ[..]
            && rows(&qa) == rows(&qb)
            && number(&qa.items[k])
            && number(&qb.items[k])
        {
            let mut items = qa.items.clone();
            items.insert(k + 1, qb.items[k].clone());
            // A ratio per row is shown beside the row's label: a column of ratios alone
            // does not say whose they are.
            // (Not beside aggregates over all the rows: no row is theirs.)
            let per_row = qa.group.is_empty()
                && qa.bucket.is_none()
                && !items.iter().any(|e| is_measure(e, idx));
            if let Some(label) = idx.label_col(qa.from).filter(|l| {
                per_row && !items.contains(&Expr::Col(*l)) && !qa.fixed_cols().contains(l)
            }) {
                items.insert(0, Expr::Col(label));
            }
            let k = items.len() - qa.items.len() + k - 1;
            q = Some(Select {
                items,
                order: Vec::new(),
                ratio: Some(Ratio::Items(k)),
                ..qa.clone()
            });
        }
    }
    let single = |q: &Select| {
        plain(q)
            && matches!(q.items.as_slice(), [e] if is_measure(e, idx))
            && q.group.is_empty()
            && q.bucket.is_none()
    };
    let q = match q {
        Some(q) => q,
        None if single(&qa) && single(&qb) => Select {
            order: Vec::new(),
            ratio: Some(Ratio::Over(Box::new(qb))),
            ..qa
        },
        None => {
            return Err(format!(
                "I read its first number as \"{}\" and its second as \"{}\", which are not \
                 two numbers of the same rows nor two single numbers. Ask for each number on \
                 its own, or use an LLM provider.",
                explain(&qa, idx).trim_end_matches('.'),
                explain(&qb, idx).trim_end_matches('.')
            ));
        }
    };
    // The less sure side's confidence, and the doubts of both.
    let confidence = a.sure.confidence.min(b.sure.confidence);
    let mut sure = a.sure;
    sure.confidence = confidence;
    for d in b.sure.doubts {
        if !sure.doubts.iter().any(|x| x.said == d.said) {
            sure.doubts.push(d);
        }
    }
    // Each word once, in the order said (both sides may name the same unknown word apart).
    let both = |mut v: Vec<String>, w: Vec<String>| {
        for x in w {
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v
    };
    let unknown_words = both(a.unknown_words, b.unknown_words);
    let unplaced = both(a.unplaced, b.unplaced);
    Ok(Reading {
        q,
        sure,
        unknown_words,
        unplaced,
        toks: a.toks,
    })
}
