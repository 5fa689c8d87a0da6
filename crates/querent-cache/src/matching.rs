//! What makes two questions the same question: normalisation, the guards that must agree
//! for a similarity hit, and a deterministic lexical embedding (hashed character
//! trigrams) used when no model embedder is configured.
//!
//! The guards hold the question's *shape* ([`canonical`]): every word that is not filler,
//! in order, with phrasings of one operation brought to one token ("how many" / "number of"
//! → `count`, "per" / "for each" / "broken down by" → `by`, "more than" / "over" → `>`,
//! "in total" → nothing) and plurals stemmed. So a similar hit differs from the cached
//! question only in wording that cannot change the SQL — filler, inflection, number words,
//! phrasings of the same operation — while a grouping ("per country"), an ordering or
//! limit ("top 5", "cheapest"), a comparison, an aggregate, a value or any other content
//! word never goes unnoticed. An embedding (lexical or a model's) ranks candidates; it
//! never makes two differently shaped questions one.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

// Words, singulars and filler (words that change nothing about what is asked) are the ones
// every reader of questions shares; a word's singular is its stem for shape comparison.
use querent_domain::text::{is_filler, singular as stem, words};

/// Words for small numbers, so "top five" and "top 5" agree.
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fifteen", 15),
    ("twenty", 20),
    ("fifty", 50),
    ("hundred", 100),
];

/// Words that move a question in time.
const RELATIVE_TIME: &[&str] = &[
    "today",
    "yesterday",
    "tomorrow",
    "now",
    "current",
    "this",
    "last",
    "next",
    "previous",
    "past",
    "ago",
    "recent",
    "recently",
    "latest",
    "week",
    "month",
    "quarter",
    "year",
    "day",
    "days",
    "weeks",
    "months",
    "years",
    "ytd",
    "mtd",
    "weekly",
    "monthly",
    "yearly",
    "daily",
];

/// Words that turn a question around.
const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "without",
    "except",
    "excluding",
    "exclude",
    "none",
    "nobody",
    "neither",
    "nor",
    "didn't",
    "don't",
    "doesn't",
    "isn't",
    "aren't",
    "haven't",
    "hasn't",
    "never",
    "non",
    "unpaid",
    "inactive",
];

/// Phrases rewritten to one canonical token (or dropped, for "") before shapes are
/// compared: each a sequence of lower-case words. Longer phrases first where they overlap.
const PHRASES: &[(&[&str], &str)] = &[
    // Wording that adds nothing to what is counted or summed.
    (&["in", "total"], ""),
    (&["in", "all"], ""),
    (&["all", "together"], ""),
    (&["altogether"], ""),
    (&["overall"], ""),
    // Counting.
    (&["total", "number", "of"], "count"),
    (&["the", "number", "of"], "count"),
    (&["number", "of"], "count"),
    (&["how", "many"], "count"),
    (&["count", "of"], "count"),
    (&["count"], "count"),
    // Summing and averaging.
    (&["sum", "of"], "sum"),
    (&["total"], "sum"),
    (&["sum"], "sum"),
    (&["on", "average"], "avg"),
    (&["average"], "avg"),
    (&["mean"], "avg"),
    (&["avg"], "avg"),
    // Grouping.
    (&["broken", "down", "by"], "by"),
    (&["break", "down", "by"], "by"),
    (&["breakdown", "by"], "by"),
    (&["split", "by"], "by"),
    (&["grouped", "by"], "by"),
    (&["group", "by"], "by"),
    (&["for", "each"], "by"),
    (&["for", "every"], "by"),
    (&["per"], "by"),
    (&["each"], "by"),
    (&["every"], "by"),
    // Comparisons.
    (&["more", "than"], ">"),
    (&["greater", "than"], ">"),
    (&["higher", "than"], ">"),
    (&["larger", "than"], ">"),
    (&["bigger", "than"], ">"),
    (&["over"], ">"),
    (&["above"], ">"),
    (&["exceeding"], ">"),
    (&["less", "than"], "<"),
    (&["fewer", "than"], "<"),
    (&["lower", "than"], "<"),
    (&["smaller", "than"], "<"),
    (&["under"], "<"),
    (&["below"], "<"),
    (&["at", "least"], ">="),
    (&["or", "more"], ">="),
    (&["at", "most"], "<="),
    (&["or", "less"], "<="),
    (&["or", "fewer"], "<="),
    (&["no", "more", "than"], "<="),
    (&["equal", "to"], "="),
    (&["exactly"], "="),
    // Shares.
    (&["percentage", "of"], "percent"),
    (&["percent", "of"], "percent"),
    (&["percentage"], "percent"),
    (&["pct"], "percent"),
    (&["proportion", "of"], "fraction"),
    (&["fraction", "of"], "fraction"),
    (&["share", "of"], "fraction"),
    (&["proportion"], "fraction"),
    (&["share"], "fraction"),
];

/// Prepositions that only place a value ("in Germany", "at Acme"); "to" and "from" stay
/// (they tell directions apart).
const PLACING: &[&str] = &["in", "at", "on", "within", "during", "inside"];

/// The shape of a question: its words with number words as digits, the [`PHRASES`]
/// rewritten to their canonical token, filler and placing prepositions dropped, the rest
/// stemmed — in order. Two questions with the same shape ask the same thing in other
/// words ("How many customers are there in total?" / "number of customers"); any other
/// difference ("per country", "top 5", "over 100", "Germany", "average") changes it.
pub fn canonical(question: &str) -> Vec<String> {
    let ws = normalize_keep_all(question);
    let mut out = Vec::with_capacity(ws.len());
    let mut i = 0;
    'words: while i < ws.len() {
        for (phrase, token) in PHRASES {
            let end = i + phrase.len();
            if end <= ws.len() && ws[i..end].iter().zip(phrase.iter()).all(|(w, p)| w == p) {
                if !token.is_empty() {
                    out.push((*token).to_owned());
                }
                i = end;
                continue 'words;
            }
        }
        let w = &ws[i];
        if !is_filler(w) && !PLACING.contains(&w.as_str()) {
            out.push(stem(w));
        }
        i += 1;
    }
    out
}

/// The question as the exact-match key: lower case, punctuation and filler words gone,
/// number words as digits, one space between words. "Show me the top five customers!" and
/// "top 5 customers" normalise alike.
pub fn normalize(question: &str) -> String {
    words(question)
        .into_iter()
        .map(|w| {
            NUMBER_WORDS
                .iter()
                .find(|(n, _)| *n == w)
                .map_or(w, |(_, v)| v.to_string())
        })
        .map(|w| if w == "per" { "by".to_owned() } else { w })
        .filter(|w| !is_filler(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What must be equal for two questions to share an answer by similarity: their shape
/// ([`canonical`]: every content word, with groupings, orderings, comparisons and
/// aggregates), numbers (years included), relative-time words, negations and entity values
/// (quoted strings and capitalised words that do not start the sentence).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Guards {
    /// Numbers, in order of appearance, as written after number words became digits.
    pub numbers: Vec<String>,
    /// Relative-time words, sorted.
    pub time_words: BTreeSet<String>,
    /// Negations, sorted.
    pub negations: BTreeSet<String>,
    /// Entity values (lower case), sorted.
    pub entities: BTreeSet<String>,
    /// The question's shape ([`canonical`]).
    #[serde(default)]
    pub shape: Vec<String>,
}

impl Guards {
    /// The guards of a question.
    pub fn of(question: &str) -> Self {
        let mut g = Guards::default();
        for w in normalize_keep_all(question) {
            if w.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                g.numbers.push(w);
            } else if RELATIVE_TIME.contains(&w.as_str()) {
                g.time_words.insert(w);
            } else if NEGATIONS.contains(&w.as_str()) || w.ends_with("n't") {
                g.negations.insert(w);
            }
        }
        g.entities = entities(question);
        g.shape = canonical(question);
        g
    }

    /// A short stable hash of the guards, to bucket entries so only questions whose
    /// guards agree are ever compared.
    pub fn bucket(&self) -> u64 {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            self.numbers, self.time_words, self.negations, self.entities, self.shape
        );
        fnv1a(text.as_bytes())
    }
}

/// Words with number words as digits, filler kept (guards need "no", "not", "this").
fn normalize_keep_all(question: &str) -> Vec<String> {
    words(question)
        .into_iter()
        .map(|w| {
            NUMBER_WORDS
                .iter()
                .find(|(n, _)| *n == w)
                .map_or(w, |(_, v)| v.to_string())
        })
        .collect()
}

/// Quoted strings and capitalised words not at the start of a sentence, lower-cased.
fn entities(question: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // Quoted values.
    for q in ['\'', '"', '“', '‘'] {
        let close = match q {
            '“' => '”',
            '‘' => '’',
            c => c,
        };
        let mut rest = question;
        while let Some(start) = rest.find(q) {
            let after = &rest[start + q.len_utf8()..];
            match after.find(close) {
                Some(end) if end > 0 => {
                    out.insert(after[..end].trim().to_lowercase());
                    rest = &after[end + close.len_utf8()..];
                }
                _ => break,
            }
        }
    }
    // Capitalised words, except the first word of a sentence and "I".
    let mut sentence_start = true;
    for token in question.split_whitespace() {
        let word: String = token
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_owned();
        let starts_upper = word.chars().next().is_some_and(char::is_uppercase);
        if starts_upper && !sentence_start && word != "I" {
            out.insert(word.to_lowercase());
        }
        sentence_start = token.ends_with(['.', '?', '!', ':']);
    }
    out
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Dimensions of the lexical embedding.
pub const LEXICAL_DIMS: usize = 256;

/// A deterministic embedding of a normalised question: hashed character trigrams of each
/// word (with boundary marks) and of each word pair, L2-normalised. Close rephrasings
/// ("how many customers" / "number of customers") share most trigrams.
pub fn lexical_embedding(normalized: &str) -> Vec<f32> {
    let mut v = vec![0f32; LEXICAL_DIMS];
    let ws: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    for w in &ws {
        let marked: Vec<char> = format!("^{w}$").chars().collect();
        for tri in marked.windows(3) {
            let s: String = tri.iter().collect();
            let h = fnv1a(s.as_bytes());
            v[(h % LEXICAL_DIMS as u64) as usize] += 1.0;
        }
        let h = fnv1a(w.as_bytes());
        v[(h % LEXICAL_DIMS as u64) as usize] += 2.0;
    }
    for pair in ws.windows(2) {
        let h = fnv1a(format!("{} {}", pair[0], pair[1]).as_bytes());
        v[(h % LEXICAL_DIMS as u64) as usize] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// Cosine similarity of two L2-normalised vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_drops_filler_case_and_number_words() {
        assert_eq!(
            normalize("Show me the TOP five customers, please!"),
            normalize("top 5 customers")
        );
        assert_eq!(normalize("How many orders?"), "how many orders");
        assert_ne!(normalize("top 5 customers"), normalize("top 10 customers"));
    }

    #[test]
    fn guards_catch_what_must_not_differ() {
        let g = |q: &str| Guards::of(q);
        assert_ne!(g("top 5 products"), g("top 10 products"));
        assert_ne!(g("revenue in 2023"), g("revenue in 2024"));
        assert_ne!(g("orders this month"), g("orders last month"));
        assert_ne!(g("customers with orders"), g("customers without orders"));
        assert_ne!(
            g("customers who did not order"),
            g("customers who did order")
        );
        assert_ne!(
            g("How many customers live in Germany?"),
            g("How many customers live in France?")
        );
        assert_ne!(
            g("orders with status 'shipped'"),
            g("orders with status 'pending'")
        );
        // Rephrasings keep their guards.
        assert_eq!(
            g("How many customers are in Germany?"),
            g("Number of customers in Germany")
        );
        assert_eq!(g("top five products"), g("Top 5 products"));
        assert_eq!(
            g("top 5 products").bucket(),
            g("the top five products").bucket()
        );
    }

    #[test]
    fn rephrasings_are_close_and_different_questions_are_not() {
        let e = |q: &str| lexical_embedding(&normalize(q));
        let a = e("how many customers do we have");
        let b = e("how many customers are there");
        let c = e("average salary per department");
        assert!(cosine(&a, &b) > 0.99, "filler words go: {}", cosine(&a, &b));
        assert!(cosine(&e("how many customers in total"), &e("how many customers")) > 0.8);
        assert_eq!(
            normalize("average salary per department"),
            normalize("average salary by department")
        );
        assert!(cosine(&a, &c) < 0.4, "{}", cosine(&a, &c));
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert_eq!(e("x"), e("x"), "deterministic");
    }

    #[test]
    fn questions_of_another_shape_never_share_an_answer() {
        let g = |q: &str| Guards::of(q);
        // Each pair asks for differently shaped SQL (grouping, ordering, limit, aggregate,
        // comparison, value): its guards differ, so no similarity can join them.
        let pairs = [
            (
                "How many customers are there?",
                "How many customers per country?",
            ),
            (
                "How many customers are there?",
                "How many customers by country?",
            ),
            (
                "How many customers are there?",
                "How many customers for each country?",
            ),
            ("customers per country", "customers per city"),
            ("revenue by month", "revenue by year"),
            ("total revenue", "average revenue"),
            ("total revenue", "revenue"),
            ("list the products", "how many products"),
            ("top products by revenue", "products by revenue"),
            ("cheapest product", "most expensive product"),
            ("orders over 100 dollars", "orders under 100 dollars"),
            (
                "orders with more than 3 items",
                "orders with at least 3 items",
            ),
            ("customers in germany", "customers in france"),
            ("orders shipped to japan", "orders shipped from japan"),
            ("share of orders returned", "number of orders returned"),
            (
                "percentage of orders returned",
                "fraction of orders returned",
            ),
            ("distinct cities of customers", "cities of customers"),
            ("orders by customers", "customers by orders"),
            ("employees sorted by salary", "employees"),
            ("average salary", "average salary of managers"),
        ];
        for (a, b) in pairs {
            assert_ne!(g(a), g(b), "{a:?} and {b:?} must not share an answer");
            assert_ne!(g(a).bucket(), g(b).bucket(), "{a:?} / {b:?}");
        }
    }

    #[test]
    fn rephrasings_of_one_question_keep_one_shape() {
        let same = [
            (
                "How many customers are there?",
                "how many customers in total?",
            ),
            (
                "How many customers are there?",
                "What is the number of customers?",
            ),
            ("How many customers are there?", "count of customers"),
            (
                "number of orders per country",
                "how many orders for each country",
            ),
            (
                "revenue broken down by segment",
                "show me the revenue by segment please",
            ),
            ("average salary per department", "mean salary by department"),
            ("orders over 100", "orders more than 100"),
            ("top five products", "Top 5 products"),
            ("customers in Germany", "customers at Germany"),
            (
                "How many employees were hired?",
                "how many employee was hired",
            ),
        ];
        for (a, b) in same {
            assert_eq!(canonical(a), canonical(b), "{a:?} / {b:?}");
        }
        assert_eq!(
            canonical("How many customers per country?"),
            ["count", "customer", "by", "country"]
        );
    }
}
