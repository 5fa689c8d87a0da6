//! Shares and percentages: "what percentage of orders were cancelled?", "what share of
//! revenue does each customer segment bring, in percent?", "what fraction of the payroll
//! goes to Engineering?". The ratio phrase is taken out of the question, the rest is
//! planned as the measure it names (a count of rows, a sum, a metric), and the measure's
//! conditions are split into the part the share is of and the whole it is taken from:
//! conditions on dates (a year, "last month") bound both, the others pick the part. When
//! nothing picks a part, each group of a grouped measure is the part.

use crate::index::{Index, Kind};
use crate::sql::{Agg, Cond, Expr, Select, Share, cond_cols, explain, is_measure};
use crate::text::Tok;

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
            let (comma, stop) = (toks[j].comma, toks[j].stop);
            toks.drain(s..=j);
            if let Some(prev) = s.checked_sub(1).and_then(|p| toks.get_mut(p)) {
                prev.comma |= comma;
                prev.stop |= stop;
            }
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

/// Turns the planned measure into the share asked for, or says why it cannot.
pub(crate) fn apply(q: &mut Select, asked: Asked, idx: &Index) -> Result<(), String> {
    let understood = explain(q, idx);
    let measures: Vec<&Expr> = q.items.iter().filter(|e| is_measure(e, idx)).collect();
    let plain_ok = q.items.iter().all(|e| match e {
        Expr::Col(c) => idx.cols[*c].metric.is_some() || q.group.contains(c),
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
