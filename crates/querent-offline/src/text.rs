//! Tokenising questions into the translator's tokens. Only generic English rules live
//! here: no word list is tied to a particular database. Words, singulars, identifier
//! splitting and stop words are the ones every reader of questions shares
//! (`querent_domain::text`), re-exported under the names the translator uses.

/// The singular of a word, the words of an identifier, and whether a word never names a
/// table or column on its own — shared with the linker, the cache and prompt rendering.
pub(crate) use querent_domain::text::{
    identifier_words as split_ident, is_stopword, singular as stem,
};

/// One token of a question.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tok {
    /// The text as written (without surrounding quotes for quoted literals).
    pub text: String,
    /// Lower-case text.
    pub low: String,
    /// Lower-case, singularised text.
    pub stem: String,
    /// Whether the token was a quoted literal in the question.
    pub quoted: bool,
    /// Whether a comma follows the token.
    pub comma: bool,
    /// Whether the token ends a sentence (`.`, `?`, `!`, `;` follows).
    pub stop: bool,
    /// Whether the token is an amount of money: a number after a currency sign (`$3,000`)
    /// or before a currency word (`500 dollars`).
    pub money: bool,
}

impl Tok {
    /// A word the translator puts into a question it rewrites ("how many").
    pub(crate) fn word(text: &str) -> Self {
        Self::new(text, false)
    }

    fn new(text: &str, quoted: bool) -> Self {
        let low = text.to_lowercase();
        let stem = if quoted { low.clone() } else { stem(&low) };
        Self {
            text: text.to_string(),
            low,
            stem,
            quoted,
            comma: false,
            stop: false,
            money: false,
        }
    }

    /// Takes on the comma or full stop after a token left out after it ("…, the number." →
    /// the comma or stop stays with the word before).
    pub(crate) fn take_marks(&mut self, of: &Tok) {
        self.comma |= of.comma;
        self.stop |= of.stop;
    }

    /// Whether the token starts with an upper-case letter or is a code such as `BK`.
    pub fn capitalised(&self) -> bool {
        !self.quoted && self.text.chars().next().is_some_and(|c| c.is_uppercase())
    }

    /// The numeric value of the token, if it is a number (digits or a small number word).
    pub fn number(&self) -> Option<f64> {
        if self.quoted {
            return None;
        }
        if let Ok(v) = self.low.replace(',', "").parse::<f64>()
            && self.low.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            return Some(v);
        }
        let words = [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ];
        if let Some(p) = words.iter().position(|w| *w == self.low) {
            return Some(p as f64);
        }
        match self.low.as_str() {
            "once" => Some(1.0),
            "twice" => Some(2.0),
            "thirty" => Some(30.0),
            "forty" => Some(40.0),
            "fifty" => Some(50.0),
            "hundred" => Some(100.0),
            "thousand" => Some(1000.0),
            _ => None,
        }
    }

    /// Whether the token is literally written in digits.
    pub fn is_digits(&self) -> bool {
        !self.quoted && self.low.chars().next().is_some_and(|c| c.is_ascii_digit())
    }
}

/// Words that name a piece of text the question then gives unquoted ("names that have
/// the word computer", "containing the letter w", "with the substring ing").
const TEXT_PIECE_WORDS: &[&str] = &["word", "substring", "letter", "string", "phrase"];

/// Reads the piece of text a question names after "the word", "the letter", "the
/// substring" … as a literal, as if it had been quoted: "the word computer" is the text
/// `computer`, whatever the schema calls so. Only a single following word that is not a
/// stop word or number, and only where the piece word is not itself followed by "of"
/// ("the word of …") or preceded by a number ("3 letters").
pub(crate) fn quote_text_pieces(toks: &mut [Tok], idx: &crate::index::Index) {
    for i in 0..toks.len().saturating_sub(1) {
        let t = &toks[i];
        if t.quoted || !TEXT_PIECE_WORDS.contains(&t.low.as_str()) || t.comma || t.stop {
            continue;
        }
        let before = i.checked_sub(1).map(|p| toks[p].low.as_str());
        if !matches!(before, Some("the" | "a" | "an")) {
            continue;
        }
        let mut k = i + 1;
        if toks[k].low == "the" && k + 1 < toks.len() {
            k += 1;
        }
        let next = &toks[k];
        if next.quoted || next.number().is_some() || is_stopword(&next.low) {
            continue;
        }
        // "the letter grade", "the word count": a column's name, not a piece of text.
        let named = idx.cols.iter().any(|c| {
            c.names()
                .any(|w| w.len() == 2 && w[0] == t.stem && w[1] == next.stem)
        });
        if !next.low.chars().all(char::is_alphanumeric) || named {
            continue;
        }
        let (comma, stop) = (next.comma, next.stop);
        let mut lit = Tok::new(&next.text, true);
        lit.comma = comma;
        lit.stop = stop;
        toks[k] = lit;
    }
}

/// Leaves out tokens `from..=to`, the comma or full stop after the last going to the token
/// before them.
pub(crate) fn drain_keeping_marks(toks: &mut Vec<Tok>, from: usize, to: usize) {
    let last = toks[to].clone();
    toks.drain(from..=to);
    if let Some(prev) = from.checked_sub(1).and_then(|p| toks.get_mut(p)) {
        prev.take_marks(&last);
    }
}

/// A personal pronoun's contracted verb: "we've" → ("we", "have"), "they're" → ("they",
/// "are"), "I'd" → ("I", "would").
fn contraction(word: &str) -> Option<(&str, &'static str)> {
    let (base, tail) = word.rsplit_once('\'')?;
    let verb = match tail.to_ascii_lowercase().as_str() {
        "ve" => "have",
        "re" => "are",
        "ll" => "will",
        "d" => "would",
        "m" => "am",
        _ => return None,
    };
    matches!(
        base.to_ascii_lowercase().as_str(),
        "i" | "you" | "we" | "they" | "he" | "she" | "it"
    )
    .then_some((base, verb))
}

/// A question's words as written between spaces, lower case, without the punctuation
/// around them ("Ratio," → "ratio").
pub(crate) fn plain_words(question: &str) -> Vec<String> {
    question
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect()
}

/// Phrases that only say "anywhere" or "all of them" ("the most populous towns in the
/// world", "how many people in the database …", "the best player of all time"), or how to
/// lay the answer out ("side by side").
const SCOPE_FILLERS: [&[&str]; 13] = [
    &["side", "by", "side"],
    // ("How many visits took place in March?": happened, no place.)
    &["took", "place"],
    &["take", "place"],
    &["takes", "place"],
    &["taking", "place"],
    &["taken", "place"],
    &["in", "the", "world"],
    &["in", "the", "database"],
    &["in", "our", "database"],
    &["in", "the", "system"],
    &["on", "record"],
    &["of", "all", "time"],
    &["in", "the", "data"],
];

/// The question's tokens without [`SCOPE_FILLERS`] whose last word the schema does not
/// say (`known`: a table `world` keeps "in the world").
pub(crate) fn without_scope_fillers(toks: Vec<Tok>, known: impl Fn(&str) -> bool) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    // ("Where did the final take place?": there "place" is what is asked.)
    let where_asked = toks.iter().any(|t| t.low == "where");
    let mut i = 0;
    while i < toks.len() {
        let filler = SCOPE_FILLERS.iter().find(|f| {
            toks.len() >= i + f.len()
                && f.iter()
                    .zip(&toks[i..])
                    .all(|(w, t)| t.low == *w && !t.quoted)
                && !known(f[f.len() - 1])
                && !(where_asked && f[f.len() - 1] == "place")
        });
        if let Some(f) = filler {
            // (Its comma or stop stays with the word before.)
            let last = toks[i + f.len() - 1].clone();
            if let Some(prev) = out.last_mut() {
                prev.take_marks(&last);
            }
            i += f.len();
        } else {
            out.push(toks[i].clone());
            i += 1;
        }
    }
    out
}

/// "check-in date", "best-selling", "one-way": a hyphenated word of letters the schema does
/// not know as a whole (`known`) is its parts, as said apart ("check in date" names
/// `check_in_date`). Anything with a digit ("2024-07-01", "F-150") stays whole.
pub(crate) fn split_hyphens(toks: Vec<Tok>, known: impl Fn(&str) -> bool) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        let parts: Vec<&str> = t.text.split('-').filter(|p| !p.is_empty()).collect();
        // (Only words: "F-150", "covid-19", "SKU-123" and dates stay whole.)
        let split = !t.quoted
            && parts.len() >= 2
            && parts.iter().all(|p| p.chars().all(char::is_alphabetic))
            && !known(&t.low);
        if !split {
            out.push(t);
            continue;
        }
        let last = parts.len() - 1;
        for (i, p) in parts.into_iter().enumerate() {
            let mut w = Tok::word(p);
            if i == last {
                w.comma = t.comma;
                w.stop = t.stop;
            }
            out.push(w);
        }
    }
    out
}

/// Whether a word is a date format's notation (`YYYY-MM`, `yyyy/mm/dd`, `MM-YYYY`): only
/// the letters Y, M and D in runs of two or four, joined by `-`, `/` or `.`, with a year.
pub(crate) fn date_format(word: &str) -> bool {
    let parts: Vec<&str> = word.split(['-', '/', '.']).collect();
    parts.iter().any(|p| p.eq_ignore_ascii_case("yyyy"))
        && parts.iter().all(|p| {
            matches!(p.len(), 2 | 4)
                && p.chars()
                    .all(|c| matches!(c, 'Y' | 'M' | 'D' | 'y' | 'm' | 'd'))
                && p.chars()
                    .all(|c| c.eq_ignore_ascii_case(&p.chars().next().unwrap_or('Y')))
        })
}

/// The question without the notation of a date format it asks the answer in ("Show the
/// month as YYYY-MM", "dates in YYYY-MM-DD format"): how a period is written is not a
/// value to look for (a grain is read from the words around it, "month").
pub(crate) fn without_date_formats(question: &str) -> std::borrow::Cow<'_, str> {
    let words: Vec<&str> = question.split_whitespace().collect();
    fn bare(w: &str) -> &str {
        w.trim_matches(|c: char| matches!(c, '(' | ')' | ',' | '.' | '?' | '!' | '"' | '\''))
    }
    if !words.iter().any(|w| date_format(bare(w))) {
        return question.into();
    }
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < words.len() {
        let w = words[k];
        // (A quoted notation is a value asked for: "'YYYY-MM'".)
        let quoted = w.starts_with(['\'', '"']);
        if quoted || !date_format(bare(w)) {
            out.push(w.to_owned());
            k += 1;
            continue;
        }
        // "as", "in", "like" before it, "format" after it go with it.
        if out
            .last()
            .is_some_and(|p| matches!(bare(p).to_lowercase().as_str(), "as" | "in" | "like"))
        {
            out.pop();
        }
        let mut end = k;
        if words
            .get(k + 1)
            .is_some_and(|n| bare(n).eq_ignore_ascii_case("format"))
        {
            end = k + 1;
        }
        // The punctuation after the notation stays ("… as YYYY-MM." keeps its stop).
        let tail: String = words[end]
            .chars()
            .rev()
            .take_while(|c| matches!(c, ',' | '.' | '?' | '!'))
            .collect();
        if let Some(p) = out.last_mut() {
            p.push_str(&tail.chars().rev().collect::<String>());
        }
        k = end + 1;
    }
    out.join(" ").into()
}

/// Splits a question into tokens: words, numbers (with decimals), and quoted literals.
pub(crate) fn tokenize(question: &str) -> Vec<Tok> {
    let chars: Vec<char> = question.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '“' || c == '”' || c == '\'' || c == '‘' || c == '’' || c == '`'
        {
            let prev_alnum = i > 0 && chars[i - 1].is_alphanumeric();
            let close: &[char] = match c {
                '"' => &['"'],
                '“' | '”' => &['”', '"'],
                '‘' | '’' => &['’', '\''],
                '`' => &['`'],
                _ => &['\''],
            };
            if !prev_alnum {
                // A quoted literal ends at the matching quote followed by a non-letter.
                let mut j = i + 1;
                let mut found = None;
                while j < chars.len() {
                    if close.contains(&chars[j])
                        && (j + 1 == chars.len() || !chars[j + 1].is_alphanumeric())
                    {
                        found = Some(j);
                        break;
                    }
                    j += 1;
                }
                if let Some(j) = found {
                    let inner: String = chars[i + 1..j].iter().collect();
                    let inner = inner.trim();
                    if !inner.is_empty() && j - i < 80 {
                        out.push(Tok::new(inner, true));
                        i = j + 1;
                        continue;
                    }
                }
            }
            i += 1;
            continue;
        }
        if c.is_alphanumeric() {
            let mut j = i;
            while j < chars.len() {
                let d = chars[j];
                let numeric_sep = (d == '.' || d == ',')
                    && chars[i].is_ascii_digit()
                    && j + 1 < chars.len()
                    && chars[j + 1].is_ascii_digit()
                    && chars[i..j]
                        .iter()
                        .all(|x| x.is_ascii_digit() || *x == '.' || *x == ',');
                if d.is_alphanumeric() || d == '_' || numeric_sep {
                    j += 1;
                } else if (d == '\'' || d == '’')
                    && j + 1 < chars.len()
                    && chars[j + 1].is_alphabetic()
                {
                    // Contractions and possessives: "what's", "singer's", "don't".
                    j += 1;
                } else if d == '-' && j + 1 < chars.len() && chars[j + 1].is_alphanumeric() {
                    j += 1;
                } else {
                    break;
                }
            }
            let word: String = chars[i..j].iter().collect();
            let word = word.replace('’', "'");
            // Possessive "'s" goes away; "n't" becomes its own negation token.
            let next = chars[j..].iter().find(|c| !c.is_whitespace());
            let comma = next == Some(&',');
            let stop = matches!(next, Some('.' | '?' | '!' | ';'));
            if let Some(base) = word.strip_suffix("n't") {
                let base = if base.eq_ignore_ascii_case("ca") {
                    "can"
                } else if base.eq_ignore_ascii_case("wo") {
                    "will"
                } else {
                    base
                };
                out.push(Tok::new(base, false));
                out.push(Tok::new("not", false));
            } else if let Some(base) = word.strip_suffix("'s") {
                out.push(Tok::new(base, false));
            } else if let Some((base, verb)) = contraction(&word) {
                // "we've", "they're", "I'd", "you'll": the pronoun and its verb.
                out.push(Tok::new(base, false));
                out.push(Tok::new(verb, false));
            } else {
                out.push(Tok::new(&word, false));
            }
            if let Some(last) = out.last_mut() {
                last.comma = comma;
                last.stop = stop;
            }
            i = j;
            continue;
        }
        if c == '>' || c == '<' || c == '=' {
            let mut s = c.to_string();
            if i + 1 < chars.len() && chars[i + 1] == '=' {
                s.push('=');
                i += 1;
            }
            out.push(Tok::new(&s, false));
        }
        i += 1;
    }
    mark_money(question, &mut out);
    scale_numbers(out)
}

/// A number as SQL text: whole numbers without a fraction (`50000000`, not `50000000.0`).
pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Words that scale the number before them, and suffixes that scale the number they end.
const SCALE_WORDS: &[(&str, f64)] = &[
    ("thousand", 1e3),
    ("million", 1e6),
    ("billion", 1e9),
    ("trillion", 1e12),
];
const SCALE_SUFFIXES: &[(&str, f64)] = &[("k", 1e3), ("bn", 1e9)];

/// "50 million", "300 thousand", "2.5 billion", "10k", "3bn": one number, scaled ("more
/// than 50 million people" compares with 50000000). An amount of money stays one, also
/// when its currency word follows the scale ("3 million dollars").
fn scale_numbers(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut it = toks.into_iter().peekable();
    while let Some(mut t) = it.next() {
        let digits = !t.quoted && t.low.starts_with(|c: char| c.is_ascii_digit());
        let scale_after = it
            .peek()
            .and_then(|n| SCALE_WORDS.iter().find(|(w, _)| *w == n.low))
            .map(|(_, f)| *f);
        let suffixed = SCALE_SUFFIXES.iter().find_map(|(suffix, f)| {
            let v = t
                .low
                .strip_suffix(suffix)?
                .replace(',', "")
                .parse::<f64>()
                .ok()?;
            Some((v, *f))
        });
        // (A year is no amount: "in 2019 thousand …" is not read.)
        let year = t.low.len() == 4 && t.number().is_some_and(|v| (1900.0..=2100.0).contains(&v));
        // ("more than a million residents", "one thousand": the article is the number 1.)
        let one = !t.quoted && matches!(t.low.as_str(), "a" | "an" | "one");
        let scaled = match (digits && !year, scale_after, suffixed) {
            (false, Some(f), _) if one && !t.comma && !t.stop => {
                let scale = it.next();
                t.comma = scale.as_ref().is_some_and(|s| s.comma);
                t.stop = scale.as_ref().is_some_and(|s| s.stop);
                Some(f)
            }
            (true, Some(f), _) if !t.comma && !t.stop => {
                let scale = it.next();
                t.comma = scale.as_ref().is_some_and(|s| s.comma);
                t.stop = scale.as_ref().is_some_and(|s| s.stop);
                t.number().map(|v| v * f)
            }
            (true, None, Some((v, f))) => Some(v * f),
            _ => None,
        };
        // (Rounded to what was written: "2.01 thousand" is 2010, not 2009.9999999999998.)
        let scaled = scaled.map(|v| (v * 1e6).round() / 1e6);
        if let Some(v) = scaled.filter(|v| v.is_finite() && v.abs() < 1e15) {
            let text = fmt_num(v);
            let money = t.money
                || it
                    .peek()
                    .is_some_and(|n| CURRENCY_WORDS.contains(&n.stem.as_str()));
            t = Tok {
                money,
                comma: t.comma,
                stop: t.stop,
                ..Tok::new(&text, false)
            };
        }
        out.push(t);
    }
    out
}

/// Currency signs that make the number after them an amount of money.
const CURRENCY_SIGNS: &[char] = &['$', '€', '£', '¥'];
/// Currency words (singular) that make the number before them an amount of money.
pub(crate) const CURRENCY_WORDS: &[&str] = &[
    "dollar", "euro", "pound", "usd", "eur", "gbp", "buck", "yen",
];

/// Marks the number tokens that are amounts of money: written right after a currency sign,
/// or followed by a currency word.
fn mark_money(question: &str, toks: &mut [Tok]) {
    // Numbers written right after a sign, in order of appearance.
    let mut signed: Vec<String> = Vec::new();
    let chars: Vec<char> = question.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if CURRENCY_SIGNS.contains(c) {
            let digits: String = chars[i + 1..]
                .iter()
                .take_while(|d| d.is_ascii_digit() || matches!(d, ',' | '.'))
                .collect();
            let digits = digits.trim_end_matches([',', '.']);
            if !digits.is_empty() {
                signed.push(digits.to_owned());
            }
        }
    }
    for k in 0..toks.len() {
        if toks[k].quoted || toks[k].number().is_none() {
            continue;
        }
        let word_after = toks
            .get(k + 1)
            .is_some_and(|t| CURRENCY_WORDS.contains(&t.stem.as_str()));
        if let Some(p) = signed.iter().position(|d| *d == toks[k].text) {
            signed.remove(p);
            toks[k].money = true;
        } else if word_after {
            toks[k].money = true;
        }
    }
}

/// Whether token `i` is capitalised where a sentence does not start — a name or a code
/// ("in Germany", "code BK"), not the capital every sentence begins with.
pub(crate) fn capitalised_inside(toks: &[Tok], i: usize) -> bool {
    i > 0 && !toks[i - 1].stop && toks[i].capitalised()
}

/// A crude root for verb and noun forms: "arriving", "arrived", "arrives" → "arriv".
pub(crate) fn root(w: &str) -> &str {
    for suf in ["ing", "ed", "es", "e", "s"] {
        if let Some(b) = w.strip_suffix(suf)
            && b.len() >= 4
        {
            return b;
        }
    }
    w
}

/// Generic synonyms used when matching question words to identifier words.
pub(crate) fn synonyms(word: &str) -> &'static [&'static str] {
    match word {
        "nation" => &["country", "nationality"],
        "nationality" => &["country", "citizenship", "nation"],
        "citizenship" => &["nationality", "country"],
        "country" => &["nation", "nationality"],
        "old" | "older" | "young" | "younger" | "aged" => &["age"],
        "born" => &["birth"],
        "wage" | "pay" => &["salary"],
        "cost" => &["price"],
        "price" => &["cost"],
        "gender" => &["sex"],
        "sex" => &["gender"],
        "telephone" => &["phone"],
        "mail" | "e-mail" => &["email"],
        "identifier" => &["id"],
        "people" | "person" | "populated" | "populous" | "inhabitants" => &["population"],

        "town" => &["city"],
        "job" => &["title"],
        "surname" => &["last"],
        "heavy" | "heavier" | "heaviest" | "weigh" | "weighs" | "weighing" | "weighed"
        | "light" | "lighter" | "lightest" => &["weight"],
        "tall" | "taller" => &["height"],
        "earning" | "earn" => &["earnings"],
        "produced" => &["production"],
        "describe" => &["description"],
        _ => &[],
    }
}

/// Whether a question token can stand for the identifier word `ident`.
pub(crate) fn word_matches(tok: &Tok, ident: &str) -> bool {
    if tok.quoted {
        return false;
    }
    if tok.stem == ident || tok.low == ident {
        return true;
    }
    let l = tok.low.as_str();
    if l.len() >= 5 {
        if let Some(b) = l.strip_suffix("ed")
            && (b == ident || format!("{b}e") == ident)
        {
            return true;
        }
        if let Some(b) = l.strip_suffix("ing")
            && (b == ident || format!("{b}e") == ident)
        {
            return true;
        }
    }
    if ident.len() >= 4 && l.len() >= 4 {
        let s = stem(ident);
        if s == tok.stem || root(ident) == root(l) {
            return true;
        }
    }
    synonyms(l).contains(&ident) || synonyms(&tok.stem).contains(&ident)
}

#[cfg(test)]
mod tests {
    #[test]
    fn date_format_notation_is_taken_out() {
        use super::without_date_formats as w;
        assert_eq!(
            w("Orders per month in 2026? Show the month as YYYY-MM and the number."),
            "Orders per month in 2026? Show the month and the number."
        );
        assert_eq!(
            w("Which month had most sales (as YYYY-MM)?"),
            "Which month had most sales?"
        );
        assert_eq!(w("List dates in yyyy/mm/dd format."), "List dates.");
        assert_eq!(
            w("Show the code MM-12 and YY"),
            "Show the code MM-12 and YY"
        );
        assert!(!super::date_format("MMDD"));
        assert!(super::date_format("MM-YYYY"));
    }

    use super::*;

    #[test]
    fn stems_plurals() {
        assert_eq!(stem("countries"), "country");
        assert_eq!(stem("orders"), "order");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("boxes"), "box");
        assert_eq!(stem("people"), "person");
    }

    #[test]
    fn scale_words_multiply_the_number_before_them() {
        let words = |q: &str| -> Vec<(String, bool)> {
            tokenize(q).into_iter().map(|t| (t.text, t.money)).collect()
        };
        assert_eq!(
            words("more than 50 million people")[2..],
            [("50000000".to_owned(), false), ("people".to_owned(), false)]
        );
        assert_eq!(words("over 2.5 billion?")[1].0, "2500000000");
        assert_eq!(words("at least 10k fans")[2].0, "10000");
        assert_eq!(words("above $3 million")[1], ("3000000".to_owned(), true));
        assert_eq!(words("3 million dollars")[0], ("3000000".to_owned(), true));
        // Not a scale: a word on its own, or after a number that ends a clause.
        assert_eq!(words("the million songs")[1].0, "million");
        assert_eq!(words("in 2010, thousands")[1].0, "2010");
        // Not a year, nor a plural; rounded to what was written.
        assert_eq!(words("in 2019 thousand users")[1].0, "2019");
        assert_eq!(words("over 3 thousands")[1].0, "3");
        assert_eq!(words("2.01 thousand")[0].0, "2010");
        assert_eq!(words("more than a million people")[2].0, "1000000");
    }

    #[test]
    fn splits_identifiers() {
        assert_eq!(split_ident("GovernmentForm"), vec!["government", "form"]);
        assert_eq!(split_ident("order_items"), vec!["order", "items"]);
        assert_eq!(split_ident("HTTPServer2"), vec!["http", "server", "2"]);
    }

    #[test]
    fn tokenises_quotes_and_contractions() {
        let t = tokenize("Who's in \"New York\" and doesn't pay 1,000.5?");
        let words: Vec<_> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            words,
            vec![
                "Who", "in", "New York", "and", "does", "not", "pay", "1,000.5"
            ]
        );
        assert!(t[2].quoted);
        assert_eq!(t[7].number(), Some(1000.5));
        let t = tokenize("the largest order we've ever had, they're sure");
        let words: Vec<_> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            words,
            vec![
                "the", "largest", "order", "we", "have", "ever", "had", "they", "are", "sure"
            ]
        );
    }
}
