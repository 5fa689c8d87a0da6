//! What makes two questions the same question: normalisation, the guards that must agree
//! for a similarity hit, and a deterministic lexical embedding (hashed character
//! trigrams) used when no model embedder is configured.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Words that change nothing about what is asked.
const FILLER: &[&str] = &[
    "please",
    "pls",
    "kindly",
    "can",
    "could",
    "would",
    "you",
    "me",
    "show",
    "tell",
    "give",
    "list",
    "display",
    "find",
    "get",
    "i",
    "want",
    "to",
    "know",
    "the",
    "a",
    "an",
    "of",
    "for",
    "what",
    "which",
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "there",
    "all",
    "us",
    "we",
    "our",
    "have",
    "has",
    "got",
    "currently",
];

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

/// Lower-case words of a text (letters, digits, apostrophes inside words).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_alphanumeric()
            || (c == '\'' && !cur.is_empty())
            || (c == '.' && cur.chars().all(|d| d.is_ascii_digit()) && !cur.is_empty())
        {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(
                std::mem::take(&mut cur)
                    .trim_end_matches(['\'', '.'])
                    .to_owned(),
            );
        }
    }
    if !cur.is_empty() {
        out.push(cur.trim_end_matches(['\'', '.']).to_owned());
    }
    out.retain(|w| !w.is_empty());
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
        .filter(|w| !FILLER.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What must be equal for two questions to share an answer by similarity: their numbers
/// (years included), relative-time words, negations and entity values (quoted strings and
/// capitalised words that do not start the sentence).
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
        g
    }

    /// A short stable hash of the guards, to bucket entries so only questions whose
    /// guards agree are ever compared.
    pub fn bucket(&self) -> u64 {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}",
            self.numbers, self.time_words, self.negations, self.entities
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
            g("Number of customers from Germany")
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
}
