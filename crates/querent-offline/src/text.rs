//! Tokenising, normalising and stemming of questions and identifiers. Only generic English
//! rules live here: no word list is tied to a particular database.

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
}

impl Tok {
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
        }
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
    out
}

/// Lower-case singular form of an English word (simple rules, with the common irregulars).
pub(crate) fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    let irregular = [
        ("people", "person"),
        ("persons", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("mice", "mouse"),
        ("feet", "foot"),
        ("teeth", "tooth"),
        ("geese", "goose"),
        ("indices", "index"),
        ("criteria", "criterion"),
        ("data", "data"),
        ("media", "media"),
        ("series", "series"),
        ("species", "species"),
        ("news", "news"),
        ("statuses", "status"),
        ("addresses", "address"),
        ("businesses", "business"),
        ("aliases", "alias"),
        ("analyses", "analysis"),
    ];
    if let Some((_, s)) = irregular.iter().find(|(p, _)| *p == w) {
        return (*s).to_string();
    }
    if w.len() <= 3 || !w.chars().all(|c| c.is_alphabetic()) {
        return w;
    }
    if let Some(b) = w.strip_suffix("ies")
        && b.len() >= 2
    {
        return format!("{b}y");
    }
    if let Some(b) = w.strip_suffix("sses") {
        return format!("{b}ss");
    }
    for suf in ["ches", "shes", "xes", "zes"] {
        if let Some(b) = w.strip_suffix(suf) {
            return format!("{b}{}", &suf[..suf.len() - 2]);
        }
    }
    if w.ends_with("ss") || w.ends_with("us") || w.ends_with("is") || w.ends_with("ous") {
        return w;
    }
    if let Some(b) = w.strip_suffix('s') {
        return b.to_string();
    }
    w
}

/// Splits an identifier into lower-case words: snake_case, kebab-case, camelCase, digits.
pub(crate) fn split_ident(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = if let Some(&p) = i.checked_sub(1).and_then(|k| chars.get(k)) {
            (p.is_lowercase() && c.is_uppercase())
                || (p.is_alphabetic() && c.is_ascii_digit())
                || (p.is_ascii_digit() && c.is_alphabetic())
                || (p.is_uppercase()
                    && c.is_uppercase()
                    && chars.get(i + 1).is_some_and(|n| n.is_lowercase()))
        } else {
            false
        };
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Words that never name a table or column on their own.
pub(crate) fn is_stopword(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "of"
            | "in"
            | "on"
            | "at"
            | "to"
            | "for"
            | "by"
            | "with"
            | "and"
            | "or"
            | "is"
            | "are"
            | "was"
            | "were"
            | "be"
            | "been"
            | "do"
            | "does"
            | "did"
            | "what"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "how"
            | "many"
            | "much"
            | "that"
            | "this"
            | "these"
            | "those"
            | "there"
            | "their"
            | "its"
            | "it"
            | "they"
            | "them"
            | "we"
            | "i"
            | "you"
            | "me"
            | "my"
            | "our"
            | "all"
            | "each"
            | "every"
            | "any"
            | "some"
            | "show"
            | "list"
            | "give"
            | "find"
            | "return"
            | "tell"
            | "get"
            | "display"
            | "have"
            | "has"
            | "had"
            | "not"
            | "no"
            | "from"
            | "as"
            | "than"
            | "also"
            | "please"
            | "where"
            | "when"
            | "s"
            | "out"
            | "up"
            | "into"
            | "about"
            | "both"
            | "either"
            | "neither"
            | "nor"
            | "only"
            | "other"
            | "more"
            | "less"
            | "most"
            | "least"
            | "than."
            | "if"
            | "will"
            | "can"
            | "could"
            | "would"
            | "should"
            | "one"
            | "ones"
            | "so"
            | "such"
            | "then"
            | "same"
            | "different"
            | "distinct"
            | "unique"
            | "total"
            | "average"
            | "mean"
            | "sum"
            | "maximum"
            | "minimum"
            | "max"
            | "min"
            | "highest"
            | "lowest"
            | "largest"
            | "smallest"
            | "biggest"
            | "greatest"
            | "count"
            | "but"
            | "order"
            | "ordered"
            | "sorted"
            | "sort"
            | "descending"
            | "ascending"
            | "corresponding"
            | "respective"
            | "along"
            | "together"
            | "well"
            | "known"
            | "after"
            | "before"
            | "between"
            | "over"
            | "under"
            | "above"
            | "below"
            | "just"
            | "yet"
            | "being"
            | "ever"
            | "never"
            | "currently"
    )
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
    }
}
