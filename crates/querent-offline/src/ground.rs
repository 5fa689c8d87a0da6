//! Grounding: the words of a question that name nothing in the schema, read through the
//! lexicon as words that do ("vocalists" → `singer`, "clients" → `customers`, "American"
//! → the stored value `USA`), and the content words left unknown after that.
//!
//! A word is rewritten only when the schema does not know it and an alternative reading
//! names something it does know (a table, column, sampled value or semantic-model name), so
//! a database that has a `staff` table keeps "staff" as it is. Every rewrite is reported,
//! so the explanation can say how a word was read.

use crate::index::{Index, Kind};
use crate::lexicon::{Alt, CUE_WORDS, EMPTY_WORDS, FILLER_PHRASES, RATIO_WORDS, lexicon, month};
use crate::text::{Tok, is_stopword, root, synonyms};

/// A question word read as other words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReadAs {
    /// The word as written.
    pub said: String,
    /// The schema words it was read as.
    pub read_as: String,
    /// What the reading rests on.
    pub via: Via,
}

/// What a reading of a word the schema does not use rests on, from the surest to the
/// loosest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// A synonym: the semantic model's, the built-in business words' or WordNet's.
    Synonym,
    /// Having a row in a table of trades ("customers who bought something").
    Trade,
    /// A place or a sex named by its adjective or abbreviation ("American", "TX").
    Place,
    /// An age group said in words ("teenagers").
    Age,
    /// A misspelling of the one close word.
    Spelling,
    /// The one abbreviation of the word the schema names with ("shipments" → `shpmt`).
    Abbreviation,
    /// The one word of the schema made of the word's letters in order, dropping more than
    /// abbreviations usually drop ("shipments" → `shpt`): weaker evidence.
    LooseAbbreviation,
    /// A broader or narrower word of WordNet's ("vessels" for ships).
    Related,
    /// A word of money ("price", "worth") the schema does not use, read as the one amount
    /// of money of the rows asked about (`nightly_rate_amt` of rooms).
    Money,
}

/// Whether the schema knows a token: one of its words, directly, by the built-in synonyms
/// or by a shared root.
pub(crate) fn known(idx: &Index, tok: &Tok) -> bool {
    if idx.vocab.contains(&tok.stem) || idx.vocab.contains(&tok.low) {
        return true;
    }
    if synonyms(&tok.low)
        .iter()
        .chain(synonyms(&tok.stem))
        .any(|s| idx.vocab.contains(*s))
    {
        return true;
    }
    if tok.low.len() >= 4 && idx.roots.contains(root(&tok.low)) {
        return true;
    }
    // Part of a compound name: "towns" in `hometown`, "member" in `membership_level`.
    tok.stem.len() >= 4 && (idx.word_ending(&tok.stem) || idx.word_starting(&tok.stem))
}

/// Whether grounding leaves a token alone whatever it is: quoted literals, numbers,
/// stop words, the planner's cue words, month names, currency words, short words.
pub(crate) fn fixed(tok: &Tok) -> bool {
    if RATIO_WORDS.contains(&tok.low.as_str()) {
        return false;
    }
    tok.quoted
        || tok.number().is_some()
        || tok.low.chars().count() < 3
        || !tok.low.chars().any(char::is_alphabetic)
        || is_stopword(&tok.low)
        || CUE_WORDS.contains(&tok.low.as_str())
        || CUE_WORDS.contains(&tok.stem.as_str())
        || EMPTY_WORDS.contains(&tok.low.as_str())
        || month(&tok.low).is_some()
        || crate::text::CURRENCY_WORDS.contains(&tok.stem.as_str())
}

/// The edit distance between two words (insertions, deletions, substitutions and swaps of
/// neighbours), or `None` when it is above `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        if cur.iter().min().copied().unwrap_or(0) > max {
            return None;
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// The one word of the schema or of the planner's cues a misspelt word is closest to
/// ("alphaetical" → "alphabetical", "popuation" → `population`): one edit for words of
/// five to seven letters, two from eight; `None` when no word or several are that close.
fn spelling(idx: &Index, word: &str) -> Option<String> {
    let n = word.chars().count();
    if n < 5 || !word.chars().all(char::is_alphabetic) || lexicon().is_word(word) {
        return None;
    }
    let max = if n >= 8 { 2 } else { 1 };
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    let candidates = idx
        .vocab
        .iter()
        .map(String::as_str)
        .chain(CUE_WORDS.iter().copied());
    let first = word.chars().next();
    for w in candidates {
        // A misspelling keeps the first letter, nearly always.
        if w.len() < 4 || w.len().abs_diff(n) > max || w.chars().next() != first {
            continue;
        }
        if let Some(d) = distance(word, w, max) {
            match best {
                Some((bd, bw)) if d == bd && bw != w => tie = true,
                Some((bd, _)) if d >= bd => {}
                _ => {
                    best = Some((d, w));
                    tie = false;
                }
            }
        }
    }
    best.filter(|_| !tie).map(|(_, w)| w.to_owned())
}

/// Whether `short` abbreviates `word` as identifiers do: the same first letter, then the
/// word with some letters dropped the way abbreviations drop them — vowels, a doubled
/// letter, an `n`/`m` before a consonant (`amt` of amount, `pymt` of payment), the `c` of
/// `ck` (`trk` of truck) — and the rest cut off (`cust` of customer, `drv` of driver), at
/// least two letters shorter. Other consonants are never dropped: `instl` is install, not
/// "industrial" ([`abbreviates_loosely`] allows that, as weaker evidence).
pub(crate) fn abbreviates(short: &str, word: &str) -> bool {
    abbreviates_to(short, word, false)
}

/// Whether `short` abbreviates `word` with nothing cut off but an ending ("active" →
/// `actv`, "activity" not): [`abbreviates`] to the word's end.
pub(crate) fn abbreviates_whole(short: &str, word: &str) -> bool {
    abbreviates_to(short, word, true)
}

fn abbreviates_to(short: &str, word: &str, whole: bool) -> bool {
    let s: Vec<char> = short.chars().collect();
    let w: Vec<char> = word.chars().collect();
    // (No identifier abbreviates a word of more than 40 letters.)
    if s.is_empty() || s.first() != w.first() || s.len() + 2 > w.len() || w.len() > 40 {
        return false;
    }
    // (States already found to fail, so that a long word costs |s|·|w| steps at most.)
    let mut failed = vec![false; (s.len() + 1) * (w.len() + 1)];
    drops_to(&s, &w, 1, 1, whole, &mut failed)
}

/// Whether `s[i..]` is `w[j..]` with droppable letters left out and its end cut off (only
/// vowels or an inflection when `whole`).
fn drops_to(s: &[char], w: &[char], i: usize, j: usize, whole: bool, failed: &mut [bool]) -> bool {
    if i == s.len() {
        let rest: String = w[j.min(w.len())..].iter().collect();
        return !whole
            || rest.chars().all(|c| "aeiouy".contains(c))
            || matches!(rest.as_str(), "d" | "ed" | "s" | "es" | "ing");
    }
    let Some(&c) = w.get(j) else {
        return false;
    };
    let state = i * (w.len() + 1) + j;
    if failed[state] {
        return false;
    }
    let vowel = |c: char| "aeiouy".contains(c);
    let next_consonant = w.get(j + 1).is_some_and(|&n| !vowel(n));
    let droppable = vowel(c)
        || w[j - 1] == c
        || (matches!(c, 'n' | 'm') && next_consonant)
        || (c == 'c' && w.get(j + 1) == Some(&'k'));
    let fits = (s[i] == c && drops_to(s, w, i + 1, j + 1, whole, failed))
        || (droppable && drops_to(s, w, i, j + 1, whole, failed));
    if !fits {
        failed[state] = true;
    }
    fits
}

/// Whether `short` is some of `word`'s letters in order, the first kept, two letters
/// shorter at least: abbreviations that drop syllables (`mfg` of manufacturing, `shpt` of
/// shipment) — and letters of unrelated words (`instl` of "industrial").
pub(crate) fn abbreviates_loosely(short: &str, word: &str) -> bool {
    let mut letters = word.chars();
    short.chars().next() == word.chars().next()
        && short.chars().count() + 2 <= word.chars().count()
        && short.chars().all(|c| letters.any(|w| w == c))
}

/// The one word of the schema's names (never a stored value: 'TWN' is Taiwan, not "town")
/// that is the question word without its vowels after the first letter (`itm` of "items",
/// `brnch` of "branches"), three letters at least and no English word, unless identifiers
/// are known to spell it out as another word (`shp` is ship, not "shop").
fn skeleton_name(idx: &Index, tok: &Tok) -> Option<String> {
    if tok.quoted || !tok.low.chars().all(char::is_alphabetic) {
        return None;
    }
    let lex = lexicon();
    let vowel = |w: &str| w.chars().any(|c| "aeiouy".contains(c));
    let mut found: Option<&String> = None;
    for w in &idx.name_words {
        let fits = w.chars().count() >= 3
            && !(vowel(w) && lex.is_word(w))
            && [&tok.stem, &tok.low]
                .iter()
                .any(|x| w.chars().count() < x.chars().count() && is_skeleton(w, x))
            && querent_domain::text::abbreviation(w)
                .is_none_or(|meant| meant == tok.stem || meant == tok.low);
        if fits {
            if found.is_some_and(|f| f != w) {
                return None;
            }
            found = Some(w);
        }
    }
    found.cloned()
}

/// A two-letter word of a column name that is the question word without its vowels, right
/// after the column's word before it ("hourly wage" → `hrly_wg`): alone, two letters fit
/// too many words, but beside the rest of the name they are that name.
fn paired_skeleton(idx: &Index, tok: &Tok, before: &[Tok]) -> Option<String> {
    let prev = before.last().filter(|p| !p.quoted && !p.comma && !p.stop)?;
    if tok.quoted || tok.low.chars().count() < 3 || !tok.low.chars().all(char::is_alphabetic) {
        return None;
    }
    idx.cols.iter().find_map(|c| {
        c.words.windows(2).find_map(|w| {
            (w[1].chars().count() == 2
                && (w[0] == prev.low || w[0] == prev.stem)
                && [&tok.stem, &tok.low].iter().any(|x| is_skeleton(&w[1], x)))
            .then(|| w[1].clone())
        })
    })
}

/// Whether a question word is the abbreviated word of a yes/no column's name (`is_actv`
/// of "active", `pd_yn` of "paid", `chrnc_flg` of "chronic"): a name word that is no English
/// word, which the question word abbreviates as identifiers do (to its end unless it is an
/// adjective or a participle: "activity" is no `actv`); two letters only when they are the
/// word without its vowels ("paid" is `pd`, "pending" is not).
pub(crate) fn spells_flag_word(tok: &Tok, flag_word: &str) -> bool {
    let lex = lexicon();
    if tok.quoted || lex.is_word(flag_word) || !flag_word.chars().all(char::is_alphabetic) {
        return false;
    }
    // (Said of the rows: an adjective or a participle abbreviated to any length, another
    // word only to its end — "active" is `actv`, "activity" is not.)
    let w = tok.low.as_str();
    let participle = w.ends_with("ed") || lex.lemma(w).is_some_and(|l| l != w);
    let cut = lex.is_adjective(w) || participle;
    [&tok.low, &tok.stem].iter().any(|w| {
        is_skeleton(flag_word, w)
            || (flag_word.chars().count() >= 3
                && if cut {
                    abbreviates(flag_word, w)
                } else {
                    abbreviates_whole(flag_word, w)
                })
    })
}

/// Whether `short` is `word` without its vowels after the first letter (`itm` of item,
/// `brnch` of branch).
fn is_skeleton(short: &str, word: &str) -> bool {
    let mut w = word.chars();
    w.next()
        .into_iter()
        .chain(w.filter(|c| !"aeiou".contains(*c)))
        .eq(short.chars())
}

/// The one word of the schema (a name or a stored value) that abbreviates a question
/// word it does not know: "customers" → `cust`, "shipments" → `shpmt`, "truck" → `trk`,
/// "manufacturing" → 'MFG'. Only words of three to five letters that are no English word
/// (or have no vowel) are abbreviations (two letters fit too many words: "rs" of release),
/// and not of a verb's past ("carried" is no `crd`); a word dropping only what
/// abbreviations drop wins over any other subsequence, then the longest; two of the same
/// standing are no reading.
fn abbreviated(idx: &Index, tok: &Tok) -> Option<(String, Via)> {
    let word = &tok.stem;
    if tok.quoted || word.chars().count() < 4 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    if crate::lexicon::STILL.contains(&tok.low.as_str())
        || crate::lexicon::ENDED.contains(&tok.low.as_str())
    {
        return None;
    }
    let lex = lexicon();
    // (A place is read through its own codes and names, never through letters it shares
    // with another's: "Switzerland" is no `SWE`, Sweden's code.)
    if !lex.place_names(&tok.low).is_empty() {
        return None;
    }
    let past = !tok.low.ends_with("ing") && lex.lemma(&tok.low).is_some_and(|l| l != tok.low);
    if lex.is_verb(&tok.low) && past {
        return None;
    }
    let vowel = |w: &str| w.chars().any(|c| "aeiouy".contains(c));
    // The closest fit wins (dropping only what abbreviations drop before dropping any
    // letter), then the longest; two different words that fit as well are no reading.
    let mut best: Option<(bool, usize, &str)> = None;
    let mut tie = false;
    for w in &idx.vocab {
        let n = w.chars().count();
        if !(3..=5).contains(&n)
            || !w.chars().all(char::is_alphabetic)
            || is_stopword(w)
            || (vowel(w) && lex.is_word(w))
        {
            continue;
        }
        let strict = abbreviates(w, word) || abbreviates(w, &tok.low);
        if !(strict || abbreviates_loosely(w, word) || abbreviates_loosely(w, &tok.low)) {
            continue;
        }
        let rank = (strict, n);
        match best {
            Some((s, l, b)) if (s, l) == rank => tie = tie || b != w,
            Some((s, l, _)) if (s, l) > rank => {}
            _ => {
                best = Some((strict, n, w));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(strict, _, w)| {
        (
            w.to_owned(),
            if strict {
                Via::Abbreviation
            } else {
                Via::LooseAbbreviation
            },
        )
    })
}

/// "Which country do most of our guests come from?": the value most rows have, as "which
/// country has the most guests come from" (what follows the rows stays).
fn most_of_the_rows(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let at = |i: usize| toks.get(i).map_or("", |t| t.low.as_str());
    let Some(i) = (0..toks.len()).find(|&i| {
        matches!(at(i), "which" | "what")
            && matches!(at(i + 2), "do" | "does" | "did")
            && at(i + 3) == "most"
    }) else {
        return toks;
    };
    let mut k = i + 4;
    while matches!(at(k), "of" | "the" | "our" | "their" | "its" | "your") {
        k += 1;
    }
    if !toks
        .get(k)
        .is_some_and(|t| !t.quoted && idx.table_named_by(&t.stem).is_some())
    {
        return toks;
    }
    let mut out: Vec<Tok> = toks[..=i + 1].to_vec();
    out.extend(["has", "the", "most"].map(Tok::word));
    out.extend(toks[k..].iter().cloned());
    out
}

/// "orders shipped to each country" where orders keep a `ship_country` and customers a
/// `country`: a noun said a few words after a verb, when a column is named by the verb's
/// stem and the noun and another by the noun alone, is the first ("ship country"); the
/// verb only said which one (it is no value `shipped`).
fn verb_of_a_column(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let lex = lexicon();
    let mut toks = toks;
    let mut i = 0;
    while i < toks.len() {
        let noun = &toks[i];
        // Before the noun a verb's inflection ("shipped to each country"); after it, its
        // bare form after a subject ("Which country did we ship the most orders to?").
        let after = (i + 1..(i + 4).min(toks.len()))
            .filter(|&j| j >= 1 && matches!(toks[j - 1].low.as_str(), "we" | "they" | "you" | "i"));
        let found = (i.saturating_sub(3)..i).rev().chain(after).find_map(|j| {
            let verb = &toks[j];
            if verb.quoted || noun.quoted || is_stopword(&noun.low) {
                return None;
            }
            // (After a subject even a noun too is its verb: "we ship".)
            let lemma = if j > i {
                lex.lemma(&verb.low)?
            } else {
                lex.lemma(&verb.low).filter(|l| *l != verb.low)?
            };
            // (Only where the noun alone names another column: "declared a major" with
            // only a `declare_major` stays as said.)
            let alone = idx
                .cols
                .iter()
                .any(|c| c.words == [noun.stem.clone()] || c.short == [noun.stem.clone()]);
            (alone
                && idx.cols.iter().any(|c| {
                    [&c.words, &c.short, &c.spelled]
                        .into_iter()
                        .any(|n| n.len() == 2 && n[0] == lemma && n[1] == noun.stem)
                }))
            .then_some((j, lemma))
        });
        if let Some((j, lemma)) = found {
            let said = toks.remove(j);
            let at = if j < i { i - 1 } else { i };
            if let Some(p) = toks.get_mut(j.saturating_sub(1)).filter(|_| j > 0) {
                p.take_marks(&said);
            }
            toks.insert(at, Tok::word(&lemma));
            i = at + 1;
        }
        i += 1;
    }
    toks
}

/// "the shipment count" is the count of shipments; "the distribution of shipments by
/// carrier" their count by carrier; "the grade distribution", "the distribution of
/// grades" a count by grade — when the schema has no column or value of its own named
/// "count" or "distribution".
fn counts_and_distributions(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let at = |i: usize| toks.get(i).map_or("", |t| t.low.as_str());
    // (A column named so alone — `count` — or with the word before — `shipment_count` —
    // keeps it; `last_count_dt` does not.)
    let word = |t: &Tok, w: &str, before: Option<&Tok>| {
        !t.quoted
            && t.low == w
            && !idx.holds_said(w)
            && !idx.cols.iter().any(|c| {
                [&c.words, &c.short, &c.spelled].into_iter().any(|n| {
                    n.last().is_some_and(|l| l == w)
                        && (n.len() == 1
                            || before.is_some_and(|b| n.ends_with(&[b.stem.clone(), w.to_owned()])))
                })
            })
    };
    let names_rows = |t: &Tok| !t.quoted && idx.table_named_by(&t.stem).is_some();
    let names_col = |t: &Tok| !t.quoted && !is_stopword(&t.low) && idx.says(&t.stem);
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len() + 2);
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let next = toks.get(i + 1);
        // (A noun after an article or a possessive: not "Which orders count as late?".)
        let determined = i > 0
            && (toks[i - 1].comma
                || matches!(
                    toks[i - 1].low.as_str(),
                    "the" | "a" | "our" | "their" | "its" | "total" | "overall" | "and"
                ));
        // "the shipment count" → "the count of shipment"; "the grade distribution" → "the
        // count by grade" ("the shipment distribution": of shipments).
        if let Some(n) = next
            && determined
            && (word(n, "count", Some(t)) && names_rows(t)
                || word(n, "distribution", Some(t)) && names_col(t))
        {
            let mut noun = t.clone();
            noun.take_marks(n);
            out.push(Tok::word("count"));
            out.push(Tok::word(if names_rows(t) { "of" } else { "by" }));
            out.push(noun);
            i += 2;
            continue;
        }
        // "the distribution of shipments" → "the count of shipments"; "the distribution of
        // grades" → "the count by grades".
        if word(t, "distribution", None) && at(i + 1) == "of" {
            let rows = toks.get(i + 2).is_some_and(names_rows);
            out.push(Tok::word("count"));
            out.push(Tok::word(if rows { "of" } else { "by" }));
            i += 2;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// Verbs that only say the rows yield a measure ("bring in", "generate", "earn", "make"):
/// said of the rows asked about before a superlative, they add nothing to "has". (Not
/// verbs that pick which of the related rows count — "won", "lost", "cancelled" — nor
/// spending, which the trade readings take.)
const YIELDING: &[&str] = &[
    "bring",
    "brings",
    "brought",
    "generate",
    "generates",
    "generated",
    "earn",
    "earns",
    "earned",
    "make",
    "makes",
    "made",
    "produce",
    "produces",
    "produced",
    "yield",
    "yields",
    "yielded",
    "rack",
    "racks",
    "racked",
    "pull",
    "pulls",
    "pulled",
    "account",
    "accounts",
    "accounted",
    "drive",
    "drives",
    "drove",
    "deliver",
    "delivers",
    "delivered",
];

/// Verbs (lemmas) that say rows were made, sent or dealt with, not which of them count:
/// "sent out the most shipments", "handled the most tickets", "placed the most orders".
const HANDLING: &[&str] = &[
    "send", "ship", "dispatch", "deliver", "receive", "handle", "process", "place", "issue",
    "write", "record", "host", "serve", "sell", "book", "publish", "create", "submit", "file",
    "log", "get", "take", "do", "run", "manage", "teach", "treat", "see", "visit",
];

/// "Which categories bring in the most revenue?", "Which customers generate the highest
/// sales?": a verb of [`YIELDING`] (or of [`HANDLING`] before rows joined by one key) the
/// schema does not know between the rows asked about and a superlative is "has" ("Which categories has the most revenue?"), the form the
/// planner ranks rows by a measure of theirs in.
fn verb_before_best(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let at = |i: usize| toks.get(i).map_or("", |t| t.low.as_str());
    let Some(i) = (0..toks.len()).find(|&i| {
        matches!(at(i), "which" | "what")
            && toks
                .get(i + 1)
                .is_some_and(|t| !t.quoted && idx.table_named_by(&t.stem).is_some())
            && toks
                .get(i + 2)
                .is_some_and(|t| !t.quoted && !idx.says(&t.low) && !idx.says(&t.stem))
    }) else {
        return toks;
    };
    // ("brings in", "racks up", "pulls in", "accounts for": the particle goes with it.)
    let mut k = i + 3;
    if matches!(at(k), "in" | "up" | "out" | "for") {
        k += 1;
    }
    let best = (at(k) == "the"
        && matches!(
            at(k + 1),
            "most" | "highest" | "largest" | "greatest" | "biggest"
        ))
        || matches!(at(k), "most");
    // A verb of handling ("Which warehouse sent out the most shipments?") only before
    // rows that point at the ones asked about by one key: the verb then picks nothing
    // ("won the most matches", with a winner's and a loser's key, keeps its verb; verbs
    // that pick some rows, "cancelled", "rejected", are never read so).
    let one_key = || {
        let rows = toks[k..]
            .iter()
            .find(|t| !matches!(t.low.as_str(), "the" | "most"))
            .and_then(|t| idx.table_named_by(&t.stem));
        let asked = toks.get(i + 1).and_then(|t| idx.table_named_by(&t.stem));
        let (Some(rows), Some(asked)) = (rows, asked) else {
            return false;
        };
        rows != asked
            && idx
                .edges
                .iter()
                .filter(|e| {
                    let (from, to) = (idx.cols[e.from].table, idx.cols[e.to].table);
                    from == rows && to == asked || from == asked && to == rows
                })
                .count()
                == 1
            && lexicon()
                .lemma(at(i + 2))
                .is_some_and(|l| HANDLING.contains(&l.as_str()))
    };
    if !best || !(YIELDING.contains(&at(i + 2)) || one_key()) {
        return toks;
    }
    let mut out: Vec<Tok> = toks[..=i + 1].to_vec();
    out.push(Tok::word("has"));
    out.extend(toks[k..].iter().cloned());
    out
}

/// "Break down the rows by status": counts per status (or, when an amount is asked, "break
/// down" is only the grouping: "break down revenue by country"); "by which status they
/// have" is "by status" when the clause is only a verb and a preposition.
fn break_down_by(toks: Vec<Tok>) -> Vec<Tok> {
    let at = |i: usize| toks.get(i).map_or("", |t| t.low.as_str());
    let opens = matches!(
        (at(0), at(1)),
        ("break" | "broken", "down") | ("breakdown", "of")
    );
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    if opens {
        let amount = toks.iter().any(|t| {
            matches!(
                t.low.as_str(),
                "average" | "mean" | "total" | "sum" | "revenue" | "sales" | "maximum" | "minimum"
            )
        });
        if !amount {
            out.push(Tok::word("count"));
        }
        i = 2;
    }
    let lex = lexicon();
    while i < toks.len() {
        // "by which hand they play with," → "by hand,": the clause after the pronoun is
        // only its verb and a preposition (anything more is kept and the rewrite not made).
        let by_which = toks[i].low == "by"
            && at(i + 1) == "which"
            && i + 2 < toks.len()
            && matches!(at(i + 3), "they" | "it" | "he" | "she");
        let clause_end = (by_which)
            .then(|| {
                (i + 4..toks.len())
                    .find(|&j| toks[j].comma || toks[j].stop)
                    .unwrap_or(toks.len() - 1)
            })
            .filter(|&end| {
                i + 4 <= end
                    && toks[i + 4..=end].iter().enumerate().all(|(k, t)| {
                        let w = t.low.as_str();
                        k == 0 && (lex.is_verb(w) || lex.noun_too(w))
                            || k > 0
                                && matches!(w, "with" | "in" | "on" | "at" | "for" | "to" | "from")
                    })
            });
        if let Some(j) = clause_end {
            out.push(toks[i].clone());
            let mut noun = toks[i + 2].clone();
            noun.comma = toks[j].comma;
            noun.stop = toks[j].stop;
            out.push(noun);
            i = j + 1;
            continue;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// "our three best-selling products", "the 5 best customers": a small count said before
/// "best" or "top" is the cut ("top 3 selling products").
fn count_before_best(mut toks: Vec<Tok>) -> Vec<Tok> {
    for i in 0..toks.len().saturating_sub(1) {
        let small = toks[i]
            .number()
            .is_some_and(|v| (1.0..=100.0).contains(&v) && v.fract() == 0.0);
        // (Not a count compared: "more than 3 top products".)
        let compared = i > 0
            && matches!(
                toks[i - 1].low.as_str(),
                "than" | "least" | "most" | "over" | "under" | "exactly"
            );
        if small
            && !compared
            && !toks[i].quoted
            && matches!(toks[i + 1].low.as_str(), "best" | "top")
        {
            let n = crate::text::fmt_num(toks[i].number().unwrap_or_default());
            toks[i] = Tok::word("top");
            toks[i + 1] = Tok::word(&n);
        }
    }
    toks
}

/// "How many units have we sold?": units (pieces) of a quantity the schema keeps, never
/// another name of a table ("units" of an organisation are its departments).
fn units_of_a_quantity(tok: &Tok, idx: &Index) -> bool {
    matches!(tok.stem.as_str(), "unit" | "piece")
        && idx.cols.iter().any(|c| {
            c.kind == crate::index::Kind::Number
                && c.words
                    .iter()
                    .chain(&c.spelled)
                    .any(|w| matches!(w.as_str(), "quantity" | "qty" | "unit"))
        })
}

/// Rewrites the tokens the schema does not know into the first lexicon reading whose words
/// it all knows. Returns the new tokens and what was rewritten.
pub(crate) fn ground(toks: Vec<Tok>, idx: &Index) -> (Vec<Tok>, Vec<ReadAs>) {
    let (toks, mut read) = places(toks, idx);
    let toks = age_groups(toks, idx, &mut read);
    // "the best 3 sales reps by revenue": a cut like "top 3".
    let toks: Vec<Tok> = toks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // (A small count, not a year: "the best 2019 albums".)
            let cut = t.low == "best"
                && toks.get(i + 1).is_some_and(|n| {
                    n.is_digits() && n.number().is_some_and(|v| (1.0..=100.0).contains(&v))
                });
            if cut { Tok::word("top") } else { t.clone() }
        })
        .collect();
    let toks = count_before_best(toks);
    let toks = break_down_by(verb_before_best(
        most_of_the_rows(
            counts_and_distributions(verb_of_a_column(toks, idx), idx),
            idx,
        ),
        idx,
    ));
    let mut out = Vec::with_capacity(toks.len());
    let lex = lexicon();
    // Tokens read with an earlier one ("in total" after "spent", which says it).
    let mut taken = vec![false; toks.len()];
    let said_tables: Vec<usize> = toks
        .iter()
        .filter(|t| !t.quoted)
        .filter_map(|t| idx.table_named_by(&t.stem))
        .collect();
    for (i, tok) in toks.iter().cloned().enumerate() {
        if taken[i] {
            if let Some(p) = out.last_mut() {
                let p: &mut Tok = p;
                p.take_marks(&tok);
            }
            continue;
        }
        // "customers who bought something": buying is having a row in the table of orders
        // (or purchases, sales …), when the schema has no word of its own for it and the
        // verb names no table it relates to ("customers who bought products").
        let object = toks[i + 1..]
            .iter()
            .find(|t| !matches!(t.low.as_str(), "the" | "a" | "an" | "any" | "some" | "our"))
            .is_some_and(|t| idx.table_named_by(&t.stem).is_some());
        // "customers who spent more than 5,000": the total of their orders (the table of
        // buying, when it keeps an amount of money).
        let compared = matches!(
            (
                toks.get(i + 1).map_or("", |t| t.low.as_str()),
                toks.get(i + 2).map_or("", |t| t.low.as_str())
            ),
            ("more" | "less" | "fewer", "than")
                | ("at", "least" | "most")
                | ("over" | "under" | "above" | "below", _)
        );
        // (Not time spent: "spent over 3 years in the company".)
        let of_time = toks[i + 1..].iter().take(5).any(|t| {
            crate::time::is_period(&t.stem)
                || matches!(t.stem.as_str(), "hour" | "minute" | "second" | "night")
        });
        if compared
            && !of_time
            && !tok.quoted
            && SPENDING.contains(&tok.low.as_str())
            && !idx.names(&tok.stem)
            && let Some(table_word) = trade_table(&Tok::word("bought"), idx)
            && let Some(money) = idx
                .table_named_by(&table_word)
                .and_then(|t| idx.money_col(t))
        {
            let money_words = idx.cols[money].words.clone();
            read.push(ReadAs {
                said: tok.low.clone(),
                read_as: format!("{table_word} {}", money_words.join(" ")),
                via: Via::Trade,
            });
            // ("have spent": the auxiliary goes with the verb.)
            if out
                .last()
                .is_some_and(|p: &Tok| matches!(p.low.as_str(), "have" | "has" | "had"))
            {
                out.pop();
            }
            out.push(Tok::word(&table_word));
            out.extend(money_words.iter().map(|w| Tok::word(w)));
            if let Some(j) = (i + 1..toks.len().saturating_sub(1))
                .find(|&j| toks[j].low == "in" && toks[j + 1].low == "total")
            {
                taken[j] = true;
                taken[j + 1] = true;
            }
            continue;
        }
        if !object && let Some(table_word) = trade_table(&tok, idx) {
            read.push(ReadAs {
                said: tok.text.clone(),
                read_as: table_word.clone(),
                via: Via::Trade,
            });
            let mut t = tok;
            t.low.clone_from(&table_word);
            t.stem = table_word.clone();
            t.text = table_word;
            out.push(t);
            continue;
        }
        // Share words are never read as something else: they are refused as said; nor is
        // "types of …", which `kinds_of` reads next.
        let kind_of = KIND_WORDS.contains(&tok.stem.as_str())
            && toks.get(i + 1).is_some_and(|n| n.low == "of");
        // "How many people currently work in …": a verb after its subject or an adverb is
        // no noun to read as a table ("work" is no `job`).
        let prev = if i > 0 { toks[i - 1].low.as_str() } else { "" };
        let verb_here = (lex.is_verb(&tok.low) || lex.noun_too(&tok.low))
            && (ADVERBS.contains(&prev)
                || matches!(
                    prev,
                    "who" | "that" | "they" | "we" | "he" | "she" | "people"
                ));
        if fixed(&tok)
            || known(idx, &tok)
            || kind_of
            || verb_here
            || units_of_a_quantity(&tok, idx)
            || RATIO_WORDS.contains(&tok.low.as_str())
        {
            out.push(tok);
            continue;
        }
        let reading = reading_of(&tok, toks.get(i + 1), &said_tables, &out, idx);
        let Some((alt, via)) = reading else {
            out.push(tok);
            continue;
        };
        read.push(ReadAs {
            said: tok.text.clone(),
            read_as: alt.join(" "),
            via,
        });
        let last = alt.len() - 1;
        for (i, w) in alt.iter().enumerate() {
            let mut t = tok.clone();
            t.low.clone_from(w);
            t.stem.clone_from(w);
            // Keep the written word's capital so value rules still see a name.
            if i > 0 || !tok.capitalised() {
                t.text.clone_from(w);
            }
            if i != last {
                t.comma = false;
                t.stop = false;
            }
            out.push(t);
        }
    }
    (out, read)
}

/// What an unknown word may be read as: a synonym, a money word as the amount of the rows
/// said, a broader or narrower word, an abbreviation, a misspelling — the first found.
fn reading_of(
    tok: &Tok,
    after: Option<&Tok>,
    said: &[usize],
    before: &[Tok],
    idx: &Index,
) -> Option<(Alt, Via)> {
    let synonym = || {
        lexicon()
            .readings(&tok.low, &tok.stem)
            .into_iter()
            .find(|alt| alt.iter().all(|w| idx.vocab.contains(w) || is_stopword(w)))
            .filter(|alt| alt.iter().any(|w| !is_stopword(w)))
            .map(|alt| (alt.clone(), Via::Synonym))
    };
    // (The word itself without its vowels, `itm` of "items", before any other sense's
    // synonym: "items" is no "point".)
    let skeleton = || skeleton_name(idx, tok).map(|w| (vec![w], Via::Abbreviation));
    skeleton()
        .or_else(|| paired_skeleton(idx, tok, before).map(|w| (vec![w], Via::Abbreviation)))
        .or_else(synonym)
        .or_else(|| money_word(tok, after, said, idx))
        .map(|(alt, via)| {
            if via != Via::Money {
                return (alt, via);
            }
            // ("the nightly price": `nightly` already said.)
            let near: Vec<&str> = before
                .iter()
                .rev()
                .take(3)
                .map(|t| t.stem.as_str())
                .collect();
            let rest: Alt = alt
                .iter()
                .filter(|w| !near.contains(&w.as_str()))
                .cloned()
                .collect();
            (if rest.is_empty() { alt } else { rest }, Via::Money)
        })
        .or_else(|| related_name(idx, tok))
        .or_else(|| abbreviated(idx, tok).map(|(w, via)| (vec![w], via)))
        .or_else(|| {
            // Not a plural or inflection of a known word: perhaps a misspelling.
            let singular = crate::text::stem(&tok.low);
            spelling(idx, &tok.low)
                .filter(|w| crate::text::stem(w) != singular)
                .map(|w| (vec![w], Via::Spelling))
        })
}

/// Words of money said of rows, read as their amount when the schema names no column so.
/// (Not "value", "charge": "the values of status", "in charge of".)
const MONEY_WORDS: &[&str] = &["price", "cost", "fee", "worth", "amount"];

/// "the average nightly price of rooms" where rooms keep a `nightly_rate_amt`: a word of
/// [`MONEY_WORDS`] the schema does not know (and no synonym reads) is the money column of
/// the tables said (else of their neighbours), when they have one between them.
fn money_word(tok: &Tok, after: Option<&Tok>, said: &[usize], idx: &Index) -> Option<(Alt, Via)> {
    // ("the amount of orders per customer" is a count.)
    if tok.quoted
        || !MONEY_WORDS.contains(&tok.stem.as_str())
        || tok.stem == "amount" && after.is_some_and(|a| a.low == "of")
    {
        return None;
    }
    let one = |tables: &mut dyn Iterator<Item = usize>| {
        let mut cols: Vec<usize> = tables.filter_map(|t| idx.money_col(t)).collect();
        cols.sort_unstable();
        cols.dedup();
        match cols.as_slice() {
            [c] => Some((idx.cols[*c].words.clone(), Via::Money)),
            _ => None,
        }
    };
    // The tables said, else their neighbours ("the price of our suites across all
    // hotels": rooms, between the hotels and their room types); never the schema at large.
    one(&mut said.iter().copied()).or_else(|| {
        one(&mut (0..idx.tables.len()).filter(|&t| said.iter().any(|&s| idx.adjacent(s, t))))
    })
}

/// A broader or narrower word of an unknown token where it names one table ("guests" →
/// visitor), or a verb's synonym where a column is named by its participle ("established"
/// → `year_of_founded`); never a stored value ("area" is not the district 'Arena').
fn related_name(idx: &Index, tok: &Tok) -> Option<(Alt, Via)> {
    let (nouns, verbs) = lexicon().related(&tok.low, &tok.stem);
    // Only a table, and only when one table is so named: broader and narrower words are
    // too loose for a column ("revenue" is no `gate`) or a choice between tables.
    let tables: Vec<(&Alt, usize)> = nouns
        .into_iter()
        .filter(|alt| alt.iter().all(|w| is_stopword(w) || idx.names(w)))
        .filter_map(|alt| Some((alt, idx.table_named_by(alt.last()?)?)))
        .collect();
    if let Some(&(alt, t)) = tables.first()
        && tables.iter().all(|(_, u)| *u == t)
    {
        return Some((alt.clone(), Via::Related));
    }
    // A word broader than one table's noun: "animals" for `Dogs`, "vehicles" for `cars`
    // (when no other table's noun is under it).
    if tables.is_empty() {
        let lex = lexicon();
        let under: Vec<usize> = (0..idx.tables.len())
            .filter(|&t| {
                idx.tables[t]
                    .words
                    .last()
                    .is_some_and(|n| lex.is_broader(n, &tok.stem) || lex.is_broader(n, &tok.low))
            })
            .collect();
        // (`dogs` rather than the link table `owner_dog` of the same last noun.)
        let plain: Vec<usize> = under
            .iter()
            .copied()
            .filter(|&t| idx.tables[t].words.len() == 1)
            .collect();
        let one = match (under.as_slice(), plain.as_slice()) {
            ([t], _) | (_, [t]) => Some(*t),
            _ => None,
        };
        if let Some(t) = one {
            return Some((idx.tables[t].words.clone(), Via::Related));
        }
    }
    // A verb's synonym names a column by its past participle: "established" → `founded`.
    verbs
        .into_iter()
        .filter(|alt| alt.len() == 1)
        .find_map(|alt| {
            let w = &alt[0];
            let participle = if w.ends_with('e') {
                format!("{w}d")
            } else {
                format!("{w}ed")
            };
            idx.names(&participle)
                .then(|| (vec![participle], Via::Synonym))
        })
}

/// Forms of the verbs of buying, read through the lexicon's entry for "buy".
const TRADE_VERBS: &[&str] = &["buy", "buys", "bought", "buying", "purchased", "purchasing"];

/// Adverbs said between a subject and its verb ("people currently work in …"): a list, as
/// "monthly", "family" or "July" end the same way.
const ADVERBS: &[&str] = &[
    "currently",
    "presently",
    "actually",
    "really",
    "usually",
    "normally",
    "typically",
    "generally",
    "mostly",
    "mainly",
    "primarily",
    "regularly",
    "frequently",
    "recently",
    "formerly",
    "previously",
    "still",
    "now",
    "already",
    "also",
    "often",
    "always",
    "never",
];

/// Verbs of spending: "customers who spent more than 5,000" compares the total of their
/// purchases' amounts.
pub(crate) const SPENDING: &[&str] = &["spent", "spend", "spends", "paid"];

/// The table word a verb of buying stands for in this schema ("bought" → `order` when
/// there is an `orders` table), unless the schema names the verb itself or stores it as a
/// value (a transaction's type 'buy').
fn trade_table(tok: &Tok, idx: &Index) -> Option<String> {
    if tok.quoted
        || !TRADE_VERBS.contains(&tok.low.as_str())
        || idx.names(&tok.stem)
        || idx.value_words.contains(&tok.low)
    {
        return None;
    }
    lexicon()
        .readings("buy", "buy")
        .into_iter()
        .filter(|alt| alt.len() == 1)
        .find(|alt| idx.table_named_by(&alt[0]).is_some())
        .map(|alt| alt[0].clone())
}

/// Whether the word at `i` stands right before a word the query read (in the same
/// clause): it qualifies that word ("unpaid fines", "failed transactions").
pub(crate) fn before_read_word(toks: &[Tok], covered: &[bool], i: usize) -> bool {
    !toks[i].stop
        && !toks[i].comma
        && covered.get(i + 1).copied().unwrap_or(false)
        && toks.get(i + 1).is_some_and(|n| !n.quoted)
}

/// How telling an unknown word is: a noun names what the question is about (1), an
/// adjective qualifies it (½; 1 right before the words read as the rows); verbs ("arriving", "taught", "concerts play there") say how
/// two things relate, which a join already says, and adverbs ("temporarily") only colour
/// the question (0).
fn weight(toks: &[Tok], i: usize, covered: &[bool]) -> f32 {
    let lex = lexicon();
    let w = toks[i].low.as_str();
    if w.len() > 4 && w.ends_with("ly") {
        return 0.0;
    }
    if lex.is_verb(w) {
        return 0.0;
    }
    // A word that is a verb and a noun, right after its subject or an auxiliary, is the verb.
    let prev = if i > 0 { toks[i - 1].low.as_str() } else { "" };
    // "How many models does each car maker produce?": after "do/does/did" and its subject.
    let clause_end = toks[i].stop
        || toks[i].comma
        || toks.get(i + 1).is_none_or(|n| {
            matches!(
                n.low.as_str(),
                "in" | "on" | "at" | "for" | "to" | "from" | "with" | "by" | "and" | "or"
            )
        });
    // "How many ballots were cast?": a passive participle right after "was/were" that ends
    // the clause.
    let after_auxiliary = clause_end
        && ((i.saturating_sub(5)..i)
            .any(|j| matches!(toks[j].low.as_str(), "do" | "does" | "did"))
            || matches!(prev, "was" | "were" | "been"));
    if lex.noun_too(w)
        && (after_auxiliary
            || matches!(
                prev,
                "do" | "does"
                    | "did"
                    | "not"
                    | "to"
                    | "who"
                    | "that"
                    | "which"
                    | "can"
                    | "will"
                    | "never"
                    | "also"
                    | "they"
                    | "we"
                    | "you"
                    | "all"
            )
            || i > 0 && toks[i - 1].stem != toks[i - 1].low
            // "people currently work in …": after an adverb.
            || ADVERBS.contains(&prev))
    {
        return 0.0;
    }
    // "Which products are low on stock?": an adjective said of the rows picks some of
    // them; left out, the answer is every row. Right before the word the query read as
    // the rows ("the unpaid fines"), it is as telling as a noun: the answer without it is
    // about all of them.
    if lex.is_adjective(w) && !matches!(prev, "are" | "is" | "were" | "was") {
        return if before_read_word(toks, covered, i) {
            1.0
        } else {
            0.5
        };
    }
    1.0
}

/// "for each severity level", "the CO2 level": a word that only says a column's (or a
/// stored value's) reading is a level, figure or reading, when the schema has no name of
/// that word, is left out ("each severity").
pub(crate) fn level_of_a_name(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for t in toks {
        let level = !t.quoted
            && matches!(t.stem.as_str(), "level" | "figure")
            && !idx.names(&t.stem)
            && out.last().is_some_and(|p: &Tok| {
                !p.quoted && !p.comma && !p.stop && (idx.names(&p.stem) || idx.holds_said(&p.low))
            });
        if level {
            if let Some(p) = out.last_mut() {
                p.take_marks(&t);
            }
            continue;
        }
        out.push(t);
    }
    out
}

/// "products that are out of stock": none left of a count the schema keeps. "out of X",
/// where X is the last word of exactly one numeric column (`units_in_stock`), reads as
/// "with 0 <that column>" ("out of service" is no `service_years = 0`). Not after a number ("3 out of 5"), and not when X names a table.
pub(crate) fn out_of(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let is_out = toks[i].low == "out"
            && !toks[i].quoted
            && toks.get(i + 1).is_some_and(|t| t.low == "of")
            && out.last().is_none_or(|p| p.number().is_none());
        let col = toks.get(i + 2).filter(|_| is_out).and_then(|x| {
            if x.quoted || x.number().is_some() || idx.table_named_by(&x.stem).is_some() {
                return None;
            }
            let cols: Vec<usize> = (0..idx.cols.len())
                .filter(|&c| {
                    idx.cols[c].kind == crate::index::Kind::Number
                        && !idx.cols[c].pk
                        && !idx.cols[c].fk
                        && idx.cols[c]
                            .words
                            .last()
                            .is_some_and(|w| *w == x.stem || *w == x.low)
                })
                .collect();
            match cols.as_slice() {
                [c] => Some(*c),
                _ => None,
            }
        });
        let Some(c) = col else {
            out.push(toks[i].clone());
            i += 1;
            continue;
        };
        let last = &toks[i + 2];
        out.push(Tok::word("with"));
        out.push(Tok::word("0"));
        let words = &idx.cols[c].words;
        for (j, w) in words.iter().enumerate() {
            let mut t = Tok::word(w);
            t.comma = j + 1 == words.len() && last.comma;
            t.stop = j + 1 == words.len() && last.stop;
            out.push(t);
        }
        i += 3;
    }
    out
}

/// "year of independence", "date of birth", "place of birth": a column named the other
/// way round (`IndepYear`, `birth_date`). "<a> of <b>" becomes "<b> <a>" when a column (or
/// one of its other names) is exactly those two words in that order, and no column is
/// named by "<a> <b>". Not for counts ("number of flights" is no `flight_number`) nor
/// when `<b>` names a table ("name of the feature" is the feature's name). The same holds
/// across an article and for roles a column is prefixed with: "the names of the winner
/// and loser" (`winner_name`, `loser_name`), "the rank for winners" (`winner_rank`).
/// "the singer and song names": one attribute said once for two things the schema names
/// is each one's ("singer names and song names"; "first and last name" alike).
pub(crate) fn shared_attribute(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let attribute = |t: &Tok| !t.quoted && crate::index::ATTRIBUTE_ENDS.contains(&t.stem.as_str());
    let thing = |t: &Tok| {
        !t.quoted
            && !t.comma
            && !t.stop
            && !is_stopword(&t.low)
            && !attribute(t)
            && (known(idx, t) || matches!(t.low.as_str(), "first" | "last" | "middle"))
    };
    let mut out = Vec::with_capacity(toks.len() + 1);
    for (i, t) in toks.iter().enumerate() {
        let shared = i + 3 < toks.len()
            && thing(t)
            && toks[i + 1].low == "and"
            && thing(&toks[i + 2])
            && attribute(&toks[i + 3])
            && toks
                .get(i + 4)
                .is_none_or(|t| !known(idx, t) || t.stop || is_stopword(&t.low));
        out.push(t.clone());
        if shared {
            let mut said = toks[i + 3].clone();
            said.stop = false;
            said.comma = false;
            out.push(said);
        }
    }
    out
}

pub(crate) fn of_compounds(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let named = |a: &str, b: &str| {
        idx.cols
            .iter()
            .any(|c| c.names().any(|w| w.len() == 2 && w[0] == a && w[1] == b))
    };
    // `<b> <a>` names a column and `<a> <b>` none; `<b>` is no table.
    let reversed = |a: &Tok, b: &Tok| {
        !b.quoted
            && idx.table_named_by(&b.stem).is_none()
            && named(&b.stem, &a.stem)
            && !named(&a.stem, &b.stem)
    };
    let article = |t: &Tok| matches!(t.low.as_str(), "the" | "a" | "an" | "all");
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let a = &toks[i];
        let linked = toks
            .get(i + 1)
            .is_some_and(|t| t.low == "of" || t.low == "for");
        let mut j = i + 2;
        while toks.get(j).is_some_and(&article) {
            j += 1;
        }
        if let Some(b) = toks.get(j)
            && linked
            && !a.quoted
            && !a.comma
            && !matches!(a.stem.as_str(), "number" | "count" | "amount" | "total")
            && (toks[i + 1].low == "of" || j == i + 2)
            && reversed(a, b)
        {
            out.push(compound_word(b, false, false));
            out.push(compound_word(a, b.comma, b.stop));
            i = j + 1;
            // "… of the winner and (the) loser": the second role takes the same column word.
            let mut k = i + 1;
            while toks.get(k).is_some_and(&article) {
                k += 1;
            }
            if !b.comma
                && !b.stop
                && toks.get(i).is_some_and(|t| t.low == "and")
                && let Some(c) = toks.get(k)
                && reversed(a, c)
            {
                out.push(toks[i].clone());
                out.push(compound_word(c, false, false));
                out.push(compound_word(a, c.comma, c.stop));
                i = k + 1;
            }
            continue;
        }
        out.push(a.clone());
        i += 1;
    }
    out
}

/// A word of a rewritten compound, with the punctuation that follows it set.
fn compound_word(t: &Tok, comma: bool, stop: bool) -> Tok {
    let mut w = t.clone();
    w.comma = comma;
    w.stop = stop;
    w
}

/// "countries that speak French", "where Dutch is spoken", "English-speaking countries":
/// a language named by the verb, said the way the planner reads a value of a column
/// ("with language French", "where the language is Dutch"). Only when a text column of
/// the schema is named "language" and the value is a name (capitalised or quoted).
pub(crate) fn spoken_languages(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let has_language = idx.cols.iter().any(|c| {
        c.kind == Kind::Text && c.names().any(|w| w.last().is_some_and(|l| l == "language"))
    });
    if !has_language {
        return toks;
    }
    let name =
        |t: Option<&Tok>| t.is_some_and(|t| (t.capitalised() || t.quoted) && !is_stopword(&t.low));
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len() + 2);
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let verb = !t.quoted && matches!(t.low.as_str(), "speak" | "speaks" | "spoke" | "speaking");
        // "speak French" → "with language French".
        if verb && name(toks.get(i + 1)) {
            out.push(Tok::word("with"));
            out.push(Tok::word("language"));
            i += 1;
            continue;
        }
        // "(where) Dutch is spoken" → "(where) the language is Dutch".
        if name(Some(t))
            && toks
                .get(i + 1)
                .is_some_and(|b| matches!(b.low.as_str(), "is" | "are" | "was"))
            && toks
                .get(i + 2)
                .is_some_and(|v| !v.quoted && v.low == "spoken")
        {
            out.push(Tok::word("the"));
            out.push(Tok::word("language"));
            out.push(toks[i + 1].clone());
            out.push(compound_word(t, toks[i + 2].comma, toks[i + 2].stop));
            i += 3;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// "the most recently hired employee" → "the employee hired most recently", the form the
/// planner reads as picking the row by its date (not the latest date itself).
pub(crate) fn recently_after_noun(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let lex = lexicon();
    let i = (0..toks.len()).find(|&i| {
        toks[i].low == "most"
            // Only when the row itself is asked for ("Who is the most recently hired
            // employee?"), not its columns ("the code of the most recently aired cartoon"),
            // nor after a count ("the 3 most recently hired").
            && i <= 3
            && toks
                .first()
                .is_some_and(|t| matches!(t.low.as_str(), "who" | "what" | "which"))
            && (i == 0 || toks[i - 1].number().is_none())
            && toks.get(i + 1).is_some_and(|t| t.low == "recently" && !t.stop && !t.comma)
            && toks
                .get(i + 2)
                .is_some_and(|t| !t.stop && !t.comma && lex.lemma(&t.low).is_some())
            && toks
                .get(i + 3)
                .is_some_and(|t| !t.quoted && idx.table_named_by(&t.stem).is_some())
    });
    let Some(i) = i else {
        return toks;
    };
    let mut out = toks;
    let most = out.remove(i);
    let mut recently = out.remove(i);
    // Now: … participle (i), noun (i + 1) …
    let noun = &mut out[i + 1];
    recently.stop = noun.stop;
    recently.comma = noun.comma;
    noun.stop = false;
    noun.comma = false;
    let noun = out.remove(i + 1);
    out.insert(i, noun);
    out.insert(i + 2, most);
    out.insert(i + 3, recently);
    out
}

/// "How many laptops do we sell?", "the cheapest phone": a value of the name column of a
/// table of kinds (`categories`: a key, a name, a description) used as a noun stands for
/// the rows of the one table that points at it ("products in the Laptops category"), not
/// for the kind's own row (counting categories named Laptops gives 1). Only when that
/// table is not named in the question and no table is named right beside the value.
pub(crate) fn members_of_kinds(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len() + 3);
    // The table each token names, looked up once (not once per candidate).
    let table_of: Vec<Option<usize>> = toks.iter().map(|k| idx.table_named_by(&k.stem)).collect();
    let named = |t: usize| table_of.contains(&Some(t));
    for (i, tok) in toks.iter().enumerate() {
        let rewrite = (!tok.quoted && tok.low.len() >= 3)
            .then(|| kind_member(tok, idx))
            .flatten()
            .filter(|(_, member, _)| {
                // Not a name qualifying a table said next to it ("feature AirCon",
                // "Masters and Bachelors students").
                let near_table = (i.saturating_sub(1)..(i + 4).min(toks.len()))
                    .filter(|&j| j != i)
                    .any(|j| table_of[j].is_some());
                !named(*member) && !near_table
            });
        let Some((kind, member, value)) = rewrite else {
            out.push(tok.clone());
            continue;
        };
        let (Some(member_noun), Some(kind_noun)) = (
            idx.tables[member].words.last(),
            idx.tables[kind].words.last(),
        ) else {
            out.push(tok.clone());
            continue;
        };
        out.push(compound_word(&Tok::word(member_noun), false, false));
        out.push(Tok::word("in"));
        let mut v = Tok::word(&value);
        v.text.clone_from(&value);
        out.push(v);
        out.push(compound_word(&Tok::word(kind_noun), tok.comma, tok.stop));
    }
    out
}

/// For a token that is a one-word value of the label column of a table of kinds: that
/// table, the one table pointing at it, and the value as stored.
fn kind_member(tok: &Tok, idx: &Index) -> Option<(usize, usize, String)> {
    // (Length and first letter first: stemming every value per token is slow on big schemas.)
    let first = tok.stem.chars().next()?;
    let v = idx.values.iter().find(|v| {
        !v.mapped
            && v.words.len() == 1
            && v.words[0].len().abs_diff(tok.stem.len()) <= 3
            && v.words[0].starts_with(first)
            && crate::text::stem(&v.words[0]) == tok.stem
    })?;
    let kind = idx.cols[v.col].table;
    if idx.label_col(kind) != Some(v.col) {
        return None;
    }
    // A table of kinds: a key, a name and at most a description (`categories`), not a
    // table of things with attributes of their own (`artists(id, name, country)`).
    let attributes = idx.tables[kind].cols.iter().any(|&c| {
        let col = &idx.cols[c];
        c != v.col
            && !col.pk
            && !col.fk
            && !col.words.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "description" | "desc" | "detail" | "details" | "note" | "notes"
                )
            })
    });
    // A name said as a name ("Adele") is that row; a kind is said as a noun ("laptops").
    let as_noun = !tok.capitalised() || tok.low.ends_with('s');
    if attributes || !as_noun {
        return None;
    }
    let mut members = idx
        .edges
        .iter()
        .filter(|e| idx.cols[e.to].table == kind && idx.cols[e.from].table != kind)
        .map(|e| idx.cols[e.from].table);
    let member = members.next()?;
    if members.any(|m| m != member) {
        return None;
    }
    Some((kind, member, v.value.clone()))
}

/// "the lowest priced product", "the highest paid employee" → "the product with the
/// lowest price", "the employee with the highest pay": the participle names what the rows
/// are ranked by (when the schema knows its verb), the noun after it the rows.
pub(crate) fn ranked_by_participle(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let lex = lexicon();
    let at = (0..toks.len()).find_map(|i| {
        let [sup, part, noun] = toks.get(i..i + 3)? else {
            return None;
        };
        let ranked = matches!(sup.low.as_str(), "highest" | "lowest")
            && !sup.stop
            && !sup.comma
            && !part.stop
            && !part.comma
            && !noun.quoted
            && idx.table_named_by(&noun.stem).is_some()
            // The rows themselves, not something of theirs ("… employee's salary").
            && (noun.stop
                || noun.comma
                || toks.get(i + 3).is_none_or(|n| {
                    matches!(
                        n.low.as_str(),
                        "in" | "of" | "at" | "for" | "from" | "with" | "who" | "that" | "which"
                            | "is" | "was" | "and" | "by" | "on"
                    )
                }));
        let lemma = lex
            .lemma(&part.low)
            .filter(|_| ranked && part.low != noun.low)?;
        known(idx, &Tok::word(&lemma)).then_some((i, lemma))
    });
    let Some((i, lemma)) = at else {
        return toks;
    };
    let mut out = toks[..i].to_vec();
    out.push(compound_word(&toks[i + 2], false, false));
    out.push(Tok::word("with"));
    out.push(Tok::word("the"));
    out.push(toks[i].clone());
    out.push(compound_word(
        &Tok::word(&lemma),
        toks[i + 2].comma,
        toks[i + 2].stop,
    ));
    out.extend_from_slice(&toks[i + 3..]);
    out
}

/// "the average product price", "the highest employee salary" → "the average price of
/// product", "the highest salary of employee": an aggregate said before a table's noun
/// and one of its columns is the aggregate of that column of that table.
pub(crate) fn table_then_column(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let at = (0..toks.len()).find(|&i| {
        let (Some(agg), Some(noun), Some(col)) = (toks.get(i), toks.get(i + 1), toks.get(i + 2))
        else {
            return false;
        };
        let Some(t) = idx.table_named_by(&noun.stem) else {
            return false;
        };
        // (Not a name of its own: `total_amount`, the metric "average order value".)
        let named = |words: &[&Tok]| {
            idx.cols.iter().any(|c| {
                c.names().any(|n| {
                    n.len() == words.len() && n.iter().zip(words).all(|(a, b)| *a == b.stem)
                })
            })
        };
        matches!(
            agg.low.as_str(),
            "average" | "mean" | "total" | "highest" | "lowest" | "maximum" | "minimum"
        ) && !named(&[agg, noun, col])
            && !named(&[agg, col])
            && !noun.comma
            && !noun.stop
            && !noun.quoted
            && !col.quoted
            && idx.table_named_by(&col.stem).is_none()
            && idx.tables[t].cols.iter().any(|&c| {
                idx.cols[c]
                    .names()
                    .any(|w| w.last().is_some_and(|l| crate::text::word_matches(col, l)))
            })
    });
    let Some(i) = at else {
        return toks;
    };
    let mut out = toks[..=i].to_vec();
    out.push(compound_word(&toks[i + 2], false, false));
    out.push(Tok::word("of"));
    out.push(compound_word(
        &toks[i + 1],
        toks[i + 2].comma,
        toks[i + 2].stop,
    ));
    out.extend_from_slice(&toks[i + 3..]);
    out
}

/// "departments with their budgets" lists the budgets beside the departments, as "and
/// their budgets" does (not a condition on having one).
pub(crate) fn with_their_as_and(mut toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    for i in 1..toks.len().saturating_sub(1) {
        if toks[i].low == "with"
            && matches!(toks[i + 1].low.as_str(), "their" | "its")
            && idx.table_named_by(&toks[i - 1].stem).is_some()
        {
            let and = compound_word(&Tok::word("and"), false, false);
            toks[i] = and;
        }
    }
    toks
}

/// Words that ask for the distinct values of what follows ("types of government").
const KIND_WORDS: &[&str] = &["type", "kind", "sort", "variety"];

/// Last words of a column that holds a row's kind ("pet_type", "category", "class").
const KIND_COLUMN_WORDS: &[&str] = &["type", "kind", "category", "class"];

/// "how many types of government", "the kinds of pets": the distinct values of a column.
/// "types of X" becomes "different X" when X names a column, and "different <X's kind
/// column>" when X names a table that has one column for a row's kind (`PetType`), or
/// one key to the table the kind word itself names ("product types" as a name of
/// `categories`: `category_id`). Left as it is when X names neither.
pub(crate) fn kinds_of(toks: Vec<Tok>, idx: &Index) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let kind_word = !t.quoted
            && KIND_WORDS.contains(&t.stem.as_str())
            && toks.get(i + 1).is_some_and(|n| n.low == "of");
        let mut x = i + 2;
        while toks
            .get(x)
            .is_some_and(|n| matches!(n.low.as_str(), "the" | "all" | "a"))
        {
            x += 1;
        }
        let Some(obj) = toks.get(x).filter(|o| kind_word && !o.quoted) else {
            out.push(t.clone());
            i += 1;
            continue;
        };
        // The schema may call a table of kinds so ("product types" for `categories`).
        let kinds_table = idx.table_named_by(&t.stem);
        let replacement: Option<Vec<String>> = match idx.table_named_by(&obj.stem) {
            Some(tb) => {
                let kind_cols: Vec<usize> = idx.tables[tb]
                    .cols
                    .iter()
                    .copied()
                    .filter(|&c| {
                        // `pet_type`, or a key to a table of kinds (`category_id`).
                        let words = &idx.cols[c].words;
                        let words = match words.split_last() {
                            Some((last, rest)) if last == "id" && !rest.is_empty() => rest,
                            _ => words.as_slice(),
                        };
                        words
                            .last()
                            .is_some_and(|w| KIND_COLUMN_WORDS.contains(&w.as_str()))
                    })
                    .collect();
                // A table of kinds the word names: the key that refers to it.
                let kind_cols = match kinds_table {
                    Some(kt) => idx.tables[tb]
                        .cols
                        .iter()
                        .copied()
                        .filter(|&c| idx.points_at(c, kt))
                        .collect(),
                    None => kind_cols,
                };
                match kind_cols.as_slice() {
                    [c] => Some(idx.cols[*c].words.clone()),
                    _ => None,
                }
            }
            None if kinds_table.is_none()
                && idx
                    .cols
                    .iter()
                    .any(|c| c.words.iter().any(|w| *w == obj.stem || *w == obj.low)) =>
            {
                Some(vec![obj.low.clone()])
            }
            None => None,
        };
        let Some(words) = replacement else {
            out.push(t.clone());
            i += 1;
            continue;
        };
        let prev_different = out
            .last()
            .is_some_and(|p| matches!(p.low.as_str(), "different" | "distinct" | "unique"));
        if !prev_different {
            out.push(Tok::word("different"));
        }
        let last = &toks[x];
        for (j, w) in words.iter().enumerate() {
            let mut tok = Tok::word(w);
            tok.comma = j + 1 == words.len() && last.comma;
            tok.stop = j + 1 == words.len() && last.stop;
            out.push(tok);
        }
        i = x + 1;
    }
    out
}

/// Places named as the database does not store them: a code for a stored name ("TX" →
/// `Texas`), a name or adjective for a stored code ("Germany", "German" → `DE`). A span of
/// up to three words is read as the one other name of its place that the schema's values
/// know; several candidates (is "CA" Canada or California?) leave it as it is.
fn places(toks: Vec<Tok>, idx: &Index) -> (Vec<Tok>, Vec<ReadAs>) {
    let lex = lexicon();
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut read = Vec::new();
    let mut i = 0;
    'outer: while i < toks.len() {
        for k in (1..=3).rev() {
            let Some(span) = toks.get(i..i + k) else {
                continue;
            };
            if span.iter().any(|t| t.quoted || t.number().is_some()) {
                continue;
            }
            let name: Vec<&str> = span.iter().map(|t| t.low.as_str()).collect();
            let name = name.join(" ");
            // A two-letter word is a code only when written as one ("TX", not "in").
            if k == 1 {
                let t = &span[0];
                let code = t.text.len() <= 3 && t.text.chars().all(|c| c.is_ascii_uppercase());
                if (t.low.len() < 3 && !code) || (t.low.len() >= 3 && fixed(t)) || known(idx, t) {
                    continue;
                }
            } else if span.iter().all(|t| known(idx, t)) {
                continue;
            }
            // A sex word ("women") is a code only of a column named for sex or gender (not
            // a grade F or a size M).
            let names = lex.place_names(&name);
            let sexes = names.iter().any(|n| matches!(*n, "female" | "male"));
            let mut found: Vec<&str> = names
                .into_iter()
                .filter(|n| {
                    idx.values.iter().any(|v| {
                        (v.words.join(" ") == *n || v.said == *n)
                            && (!sexes
                                || idx.cols[v.col]
                                    .words
                                    .iter()
                                    .any(|w| matches!(w.as_str(), "sex" | "gender")))
                    })
                })
                .collect();
            found.dedup();
            let [other] = found.as_slice() else {
                continue;
            };
            let said: Vec<&str> = span.iter().map(|t| t.text.as_str()).collect();
            read.push(ReadAs {
                said: said.join(" "),
                read_as: (*other).to_owned(),
                via: Via::Place,
            });
            let last = &span[k - 1];
            let words: Vec<&str> = other.split(' ').collect();
            for (j, w) in words.iter().enumerate() {
                let mut t = span[0].clone();
                (*w).clone_into(&mut t.low);
                (*w).clone_into(&mut t.stem);
                t.text = w.to_uppercase();
                t.comma = j + 1 == words.len() && last.comma;
                t.stop = j + 1 == words.len() && last.stop;
                out.push(t);
            }
            i += k;
            continue 'outer;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    (out, read)
}

/// People of an age said in words, on a schema with an age column and no word of its own
/// for them: "students who are teenagers" → "students who are aged between 13 and 19",
/// "singers in their thirties" → "singers aged between 30 and 39", "adults" → "aged 18 or
/// more". Only beside a table the question names (a group word alone is no table).
fn age_groups(toks: Vec<Tok>, idx: &Index, read: &mut Vec<ReadAs>) -> Vec<Tok> {
    use crate::lexicon::{AGE_GROUPS, DECADES};
    let said = toks.iter().any(|t| {
        AGE_GROUPS.iter().any(|(w, _, _)| *w == t.stem) || DECADES.iter().any(|(w, _)| *w == t.low)
    });
    // The age column of a table the question names (not of any table of the schema).
    let aged_table = |t: usize| {
        idx.tables[t].cols.iter().any(|&c| {
            idx.cols[c].kind == Kind::Number && idx.cols[c].words.iter().any(|w| w == "age")
        })
    };
    if !said
        || !toks
            .iter()
            .any(|t| idx.table_named_by(&t.stem).is_some_and(aged_table))
    {
        return toks;
    }
    let words = |text: String| -> Vec<Tok> { text.split(' ').map(Tok::word).collect() };
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let unknown = !t.quoted && !known(idx, t);
        // "in their thirties", "in her 40s".
        let decade = (t.low == "in"
            && matches!(
                toks.get(i + 1).map(|n| n.low.as_str()),
                Some("their" | "his" | "her")
            ))
        .then(|| toks.get(i + 2))
        .flatten()
        .and_then(|d| DECADES.iter().find(|(w, _)| *w == d.low));
        let (span, phrase) = if let Some((_, lo)) = decade {
            (3, format!("aged between {lo} and {}", lo + 9))
        } else if let Some((_, lo, hi)) =
            AGE_GROUPS.iter().find(|(w, _, _)| unknown && *w == t.stem)
        {
            let phrase = match (lo, hi) {
                (Some(lo), Some(hi)) => format!("aged between {lo} and {hi}"),
                (Some(lo), None) => format!("aged {lo} or more"),
                (None, Some(hi)) => format!("aged {hi} or less"),
                (None, None) => String::new(),
            };
            (1, phrase)
        } else {
            (0, String::new())
        };
        if span == 0 || phrase.is_empty() {
            out.push(t.clone());
            i += 1;
            continue;
        }
        let said: Vec<&str> = toks[i..i + span].iter().map(|t| t.text.as_str()).collect();
        read.push(ReadAs {
            said: said.join(" "),
            read_as: phrase.clone(),
            via: Via::Age,
        });
        // "the adult students": the rows' noun first ("the students aged 18 or more").
        let noun = toks
            .get(i + span)
            .filter(|n| span == 1 && idx.table_named_by(&n.stem).is_some());
        let mut new = words(phrase);
        if let Some(noun) = noun {
            new.insert(0, noun.clone());
        }
        let last = &toks[i + span - 1 + usize::from(noun.is_some())];
        if let Some(end) = new.last_mut() {
            end.comma = last.comma;
            end.stop = last.stop;
        }
        out.extend(new);
        i += span + usize::from(noun.is_some());
    }
    out
}

/// Whether token `i` is "members" of "staff members" (after a word for the staff table):
/// the staff themselves.
fn staff_member(toks: &[Tok], i: usize) -> bool {
    toks[i].stem == "member"
        && i > 0
        && crate::lexicon::STAFF_TABLE.contains(&toks[i - 1].stem.as_str())
}

/// Whether token `i` is inside a phrase that only colours the question ("at this moment").
fn in_filler(toks: &[Tok], i: usize) -> bool {
    FILLER_PHRASES.iter().any(|phrase| {
        (0..phrase.len()).any(|k| {
            i.checked_sub(k).is_some_and(|start| {
                phrase
                    .iter()
                    .enumerate()
                    .all(|(j, w)| toks.get(start + j).is_some_and(|t| t.low == *w))
            })
        })
    })
}

/// The content words of a question the schema and the translator know nothing of (not a
/// stop word, cue word, number, literal or month, not covered by a name, value or literal
/// the planner found, not a capitalised word that may be a value the samples miss), with
/// how telling each is ([`weight`]); words of weight 0 are left out.
pub(crate) fn unknown_words(toks: &[Tok], covered: &[bool], idx: &Index) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::new();
    for (i, tok) in toks.iter().enumerate() {
        let ratio =
            RATIO_WORDS.contains(&tok.low.as_str()) || RATIO_WORDS.contains(&tok.stem.as_str());
        if ratio && !covered.get(i).copied().unwrap_or(false) {
            // A share the query does not compute, whatever else the schema calls so.
            if !out.iter().any(|(x, _)| *x == tok.low) {
                out.push((tok.low.clone(), 1.0));
            }
            continue;
        }
        let is_covered = covered.get(i).copied().unwrap_or(false);
        if !is_covered
            && !fixed(tok)
            && (idx.value_words.contains(&tok.low) || idx.value_words.contains(&tok.stem))
        {
            // A value of the data ("cat", "dog") the query does not filter on: it answers
            // a question without it.
            if !out.iter().any(|(x, _)| *x == tok.low) {
                out.push((tok.low.clone(), 1.0));
            }
            continue;
        }
        if is_covered
            || fixed(tok)
            || known(idx, tok)
            || crate::text::capitalised_inside(toks, i)
            || in_filler(toks, i)
            || staff_member(toks, i)
        {
            continue;
        }
        let w = if RATIO_WORDS.contains(&tok.low.as_str())
            || RATIO_WORDS.contains(&tok.stem.as_str())
        {
            1.0
        } else {
            weight(toks, i, covered)
        };
        if w > 0.0 && !out.iter().any(|(x, _)| *x == tok.low) {
            out.push((tok.low.clone(), w));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;
    use querent_domain::PrivacyPolicy;
    use querent_domain::schema::SchemaSnapshot;

    fn index() -> Index {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [
                {"name": "singer", "kind": "table", "columns": [
                    {"name": "singer_id", "data_type": "integer", "nullable": false},
                    {"name": "name", "data_type": "text", "nullable": false},
                    {"name": "country", "data_type": "text", "nullable": false,
                     "sample_values": ["USA", "France"]}]},
                {"name": "customers", "kind": "table", "columns": [
                    {"name": "id", "data_type": "integer", "nullable": false}]}]
        }))
        .unwrap();
        Index::new(&schema, &PrivacyPolicy::default(), None)
    }

    fn grounded(q: &str) -> (String, Vec<ReadAs>) {
        let (toks, read) = ground(tokenize(q), &index());
        let words: Vec<&str> = toks.iter().map(|t| t.low.as_str()).collect();
        (words.join(" "), read)
    }

    #[test]
    fn synonyms_business_words_and_adjectives_find_schema_names() {
        let (q, read) = grounded("how many vocalists are American?");
        assert_eq!(q, "how many singer are usa");
        assert_eq!(read.len(), 2);
        assert!(
            read.iter()
                .any(|r| r.said == "vocalists" && r.read_as == "singer")
        );
        assert_eq!(grounded("list the clients").0, "list the customer");
    }

    #[test]
    fn abbreviations_drop_vowels_doubles_and_nasals_and_cut_the_end() {
        for (short, word) in [
            ("cust", "customer"),
            ("shpmt", "shipment"),
            ("drv", "driver"),
            ("trk", "truck"),
            ("amt", "amount"),
            ("pymt", "payment"),
            ("rdg", "reading"),
            ("acct", "account"),
            ("appt", "appointment"),
            ("instl", "installation"),
            ("mbr", "member"),
            ("tkt", "ticket"),
        ] {
            assert!(abbreviates(short, word), "{short} of {word}");
        }
        // A consonant other than a nasal is never dropped; the first letter is kept; the
        // abbreviation is shorter by two letters at least.
        for (short, word) in [
            ("instl", "industrial"),
            ("mfg", "manufacturing"),
            ("ust", "customer"),
            ("drive", "driver"),
        ] {
            assert!(!abbreviates(short, word), "{short} of {word}");
        }
    }

    #[test]
    fn abbreviated_names_and_codes_are_read_from_the_full_word() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [
                {"name": "cust", "kind": "table", "columns": [
                    {"name": "cust_id", "data_type": "integer", "nullable": false},
                    {"name": "seg", "data_type": "text", "nullable": false,
                     "sample_values": ["MFG", "RTL"]},
                    {"name": "crd_lmt", "data_type": "real", "nullable": false},
                    {"name": "ctry", "data_type": "text", "nullable": false,
                     "sample_values": ["SWE", "NOR", "TWN"]}]},
                {"name": "menu_itm", "kind": "table", "columns": [
                    {"name": "itm_id", "data_type": "integer", "nullable": false}]},
                {"name": "shpt", "kind": "table", "columns": [
                    {"name": "shpt_id", "data_type": "integer", "nullable": false},
                    {"name": "hrly_wg", "data_type": "real", "nullable": false},
                    {"name": "cust_id", "data_type": "integer", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let read = |q: &str| {
            let (toks, read) = ground(tokenize(q), &idx);
            let words: Vec<String> = toks.into_iter().map(|t| t.low).collect();
            (words.join(" "), read)
        };
        let (q, how) = read("shipments of manufacturing customers");
        // ("customers" is known already: `cust_id` spells `cust` out.)
        assert_eq!(q, "shpt of mfg customers");
        assert!(
            how.iter().all(|r| r.via == Via::LooseAbbreviation),
            "{how:?}"
        );
        // A verb's past is no abbreviation ("carried" is not `crd`), nor is a word whose
        // letters do not come in order.
        assert_eq!(read("what was carried").0, "what was carried");
        assert_eq!(read("list the segments").0, "list the seg");
        assert_eq!(read("list the scouts").0, "list the scouts");
        // A place is no abbreviation of another's code; a word without its vowels is one
        // of it, one letter shorter.
        assert_eq!(
            read("customers in Switzerland").0,
            "customers in switzerland"
        );
        assert_eq!(read("the items").0, "the itm");
        // A stored code is no name to spell a word without its vowels ('TWN' is no town).
        assert_eq!(read("the town").0, "the town");
        // Two letters beside the rest of a name, not alone.
        assert_eq!(read("the hourly wage").0, "the hrly wg");
        assert_eq!(read("the wage").0, "the wage");
        // Its own letters before another sense's synonym.
        let (_, how) = read("the items");
        assert!(
            !how.is_empty() && how.iter().all(|r| r.via == Via::Abbreviation),
            "{how:?}"
        );
    }

    #[test]
    fn ages_said_in_words_are_ranges_of_an_age_column() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [{"name": "students", "kind": "table", "columns": [
                {"name": "id", "data_type": "integer", "nullable": false},
                {"name": "age", "data_type": "integer", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let words = |q: &str| {
            let (toks, _) = ground(tokenize(q), &idx);
            toks.iter()
                .map(|t| t.low.clone())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            words("how many students are teenagers"),
            "how many students are aged between 13 and 19"
        );
        assert_eq!(
            words("students in their thirties"),
            "students aged between 30 and 39"
        );
        assert_eq!(
            words("list the adult students"),
            "list the students aged 18 or more"
        );
        // Alone, a group word is no table: left for the refusal to name.
        assert_eq!(words("how many teenagers"), "how many teenagers");
    }

    #[test]
    fn places_by_code_or_name_find_the_stored_form() {
        // Stored "USA": "United States" and "American" read as it (the sample is `USA`).
        assert_eq!(
            grounded("singers from the United States").0,
            "singers from the usa"
        );
        assert_eq!(grounded("singers in FR").0, "singers in france");
        // "in" is a word, not Indiana or India.
        assert_eq!(grounded("singers in France").0, "singers in france");
    }

    #[test]
    fn known_words_cue_words_and_literals_stay() {
        assert_eq!(
            grounded("show the name of singers in 'Paris' sorted by country").0,
            "show the name of singers in paris sorted by country"
        );
    }

    #[test]
    fn misspellings_are_read_as_the_one_close_word() {
        assert_eq!(distance("popuation", "population", 2), Some(1));
        assert_eq!(distance("countires", "countries", 2), Some(1));
        assert_eq!(distance("singer", "dinner", 1), None);
        assert_eq!(
            grounded("list the singers by contry").0,
            "list the singers by country"
        );
        assert_eq!(
            grounded("sorted in alphaetical order").0,
            "sorted in alphabetical order"
        );
    }

    #[test]
    fn roles_named_before_a_column_word_read_as_the_column() {
        let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
            "dialect": "sqlite", "fingerprint": "f", "taken_at": 0,
            "tables": [
                {"name": "matches", "kind": "table", "columns": [
                    {"name": "match_id", "data_type": "integer", "nullable": false},
                    {"name": "winner_name", "data_type": "text", "nullable": false},
                    {"name": "loser_name", "data_type": "text", "nullable": false},
                    {"name": "winner_rank", "data_type": "integer", "nullable": true}]},
                {"name": "players", "kind": "table", "columns": [
                    {"name": "player_id", "data_type": "integer", "nullable": false},
                    {"name": "name", "data_type": "text", "nullable": false}]}]
        }))
        .unwrap();
        let idx = Index::new(&schema, &PrivacyPolicy::default(), None);
        let read = |q: &str| {
            of_compounds(tokenize(q), &idx)
                .iter()
                .map(|t| t.low.clone())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            read("the names of the winner and the loser of the longest match"),
            "the winner names and loser names of the longest match"
        );
        assert_eq!(read("average rank for winners"), "average winners rank");
        // A table's noun keeps "of" its meaning: the name of the players.
        assert_eq!(read("the name of the players"), "the name of the players");
        // "for" with an article between is a filter, not a compound.
        assert_eq!(read("the rank for the winner"), "the rank for the winner");
    }

    #[test]
    fn unknown_content_words_are_named() {
        let idx = index();
        let toks = tokenize("what is the weather of singers in May");
        let covered = vec![false; toks.len()];
        assert_eq!(
            unknown_words(&toks, &covered, &idx),
            vec![("weather".to_owned(), 1.0)]
        );
        let toks = tokenize("which singers sing loudly in cheerful bars");
        let covered = vec![false; toks.len()];
        assert_eq!(
            unknown_words(&toks, &covered, &idx),
            vec![("cheerful".to_owned(), 0.5), ("bars".to_owned(), 1.0)]
        );
        // Phrases that only colour the question, and staff members.
        let toks = tokenize("how many singers does our company have at the moment");
        let covered = vec![false; toks.len()];
        assert!(unknown_words(&toks, &covered, &idx).is_empty());
        let toks = tokenize("staff members");
        let covered = vec![false; toks.len()];
        assert_eq!(
            unknown_words(&toks, &covered, &idx),
            vec![("staff".to_owned(), 1.0)]
        );
        let toks = tokenize("the origin of the company");
        let covered = vec![false; toks.len()];
        assert_eq!(
            unknown_words(&toks, &covered, &idx),
            vec![("origin".to_owned(), 1.0), ("company".to_owned(), 1.0)]
        );
    }
}
