//! The English of questions and schema names, decided once for every crate that reads
//! them: the offline translator, the schema linker, the semantic cache and prompt
//! rendering. It splits text and identifiers into words, gives a word's singular and its
//! stem, expands identifier abbreviations, and names the classes of words that never say
//! *which* table or column is meant.
//!
//! Readers compose what they ignore from these classes instead of keeping their own lists
//! (four lists disagreed on 51 words before): a word is a **stop word** when it belongs to
//! any class below, and **filler** — a word that changes nothing about what is asked, the
//! only words the cache may drop when it compares two questions — is a subset of the
//! function and request words (checked by the tests).
//!
//! Plain functions over `&str`, no I/O and no allocation beyond the returned words.

/// Articles, prepositions, conjunctions, pronouns, auxiliary and modal verbs, question
/// words and discourse adverbs: grammar, never a name.
#[rustfmt::skip]
pub const FUNCTION_WORDS: &[&str] = &[
    "a", "about", "above", "after", "all", "along", "alongside", "also", "an", "and", "any", "are", "as",
    "at", "be", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "could", "currently", "did", "do", "does", "each", "either", "ever", "every", "for", "from",
    "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "just", "many",
    "me", "much", "my", "neither", "never", "no", "nor", "not", "of", "on", "one", "ones",
    "or", "our", "out", "over", "per", "s", "should", "so", "some", "such", "t", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to",
    "together", "under", "up", "us", "was", "we", "well", "were", "what", "when", "where",
    "which", "who", "whom", "whose", "why", "will", "with", "without", "would", "yet", "you",
    "your",
];

/// Words that ask for an answer without saying what it is ("show me", "please list").
#[rustfmt::skip]
pub const REQUEST_WORDS: &[&str] = &[
    "display", "find", "get", "give", "got", "kindly", "know", "list", "need", "please", "pls",
    "return", "show", "tell", "want",
];

/// Words that name a computation, not a thing: "total", "average", "count".
#[rustfmt::skip]
pub const AGGREGATE_WORDS: &[&str] = &[
    "average", "count", "max", "maximum", "mean", "min", "minimum", "sum", "total",
];

/// Comparatives, superlatives and sorting words: they order or compare, never name.
/// ("first", "last", "number" and "order" are not here: they are also names of columns
/// and tables — `first_name`, `order_number`, `orders`.)
#[rustfmt::skip]
pub const ORDERING_WORDS: &[&str] = &[
    "alphabetical", "ascending", "bigger", "biggest", "bottom", "descending", "greater",
    "greatest", "highest", "larger", "largest", "least", "less", "lowest", "more", "most",
    "smaller", "smallest", "sort", "sorted", "top",
];

/// Words that qualify a listing ("distinct", "respective") without naming anything.
#[rustfmt::skip]
pub const QUALIFIER_WORDS: &[&str] = &[
    "corresponding", "different", "distinct", "known", "other", "respective", "same",
    "unique",
];

/// Words that change nothing about what is asked: "Could you please show me the number of
/// customers" asks what "number customers" asks. Direction ("to", "from"), grouping ("by",
/// "per"), place ("in"), negation and every class but function and request words stay
/// out, because they change the answer's shape.
#[rustfmt::skip]
pub const FILLER: &[&str] = &[
    "a", "all", "an", "are", "can", "could", "currently", "did", "display", "do", "does",
    "find", "for", "get", "give", "got", "has", "have", "i", "is", "kindly", "know", "list",
    "me", "of", "our", "please", "pls", "show", "tell", "the", "there", "to", "us", "want",
    "was", "we", "were", "what", "which", "would", "you",
];

/// Whether `word` (lower case) never names a table or column on its own: a function,
/// request, aggregate, ordering or qualifier word.
pub fn is_stopword(word: &str) -> bool {
    [
        FUNCTION_WORDS,
        REQUEST_WORDS,
        AGGREGATE_WORDS,
        ORDERING_WORDS,
        QUALIFIER_WORDS,
    ]
    .iter()
    .any(|class| class.binary_search(&word).is_ok())
}

/// Whether `word` (lower case) changes nothing about what a question asks ([`FILLER`]).
pub fn is_filler(word: &str) -> bool {
    FILLER.binary_search(&word).is_ok()
}

/// The lower-case words of a question or any prose: letters and digits, an apostrophe
/// inside a word (`customer's`), a decimal point inside a number (`2.5`); everything else
/// separates. Trailing apostrophes and points are dropped.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        let w = cur.trim_end_matches(['\'', '.']);
        if !w.is_empty() {
            out.push(w.to_owned());
        }
        cur.clear();
    };
    for c in text.chars() {
        let in_number = !cur.is_empty() && cur.chars().all(|d| d.is_ascii_digit());
        if c.is_alphanumeric() || (c == '\'' && !cur.is_empty()) || (c == '.' && in_number) {
            cur.extend(c.to_lowercase());
        } else {
            flush(&mut cur, &mut out);
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// The lower-case words of an identifier: split on anything that is not a letter or
/// digit, at lower→upper case changes (`FullName`), before the last capital of a capital
/// run followed by a lower-case letter (`XMLFile` → `xml`, `file`) and at letter↔digit
/// changes (`address2` → `address`, `2`).
pub fn identifier_words(ident: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in ident.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = chunk.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (p, c) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() && c.is_numeric())
                || (p.is_numeric() && c.is_alphabetic());
            if boundary {
                out.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        if start < chars.len() {
            out.push(chars[start..].iter().collect::<String>().to_lowercase());
        }
    }
    out
}

/// Irregular plurals and the plurals the suffix rules would get wrong, with their
/// singular (words that are their own plural map to themselves).
const IRREGULAR_PLURALS: &[(&str, &str)] = &[
    ("addresses", "address"),
    ("aliases", "alias"),
    ("analyses", "analysis"),
    ("businesses", "business"),
    ("children", "child"),
    ("criteria", "criterion"),
    ("data", "data"),
    ("feet", "foot"),
    ("geese", "goose"),
    ("indices", "index"),
    ("media", "media"),
    ("men", "man"),
    ("mice", "mouse"),
    ("news", "news"),
    ("people", "person"),
    ("persons", "person"),
    ("series", "series"),
    ("species", "species"),
    ("status", "status"),
    ("statuses", "status"),
    ("teeth", "tooth"),
    ("women", "woman"),
];

/// The lower-case singular of an English noun: the irregular plurals, then `-ies` → `-y`,
/// `-sses`/`-ches`/`-shes`/`-xes`/`-zes` lose `es`, and a final `s` goes unless the word
/// ends in `ss`, `us` or `is`. Words of three letters or fewer and words with digits or
/// signs stay as they are.
pub fn singular(word: &str) -> String {
    let w = word.to_lowercase();
    if let Ok(i) = IRREGULAR_PLURALS.binary_search_by(|(p, _)| (*p).cmp(w.as_str())) {
        return IRREGULAR_PLURALS[i].1.to_owned();
    }
    if w.chars().count() <= 3 || !w.chars().all(char::is_alphabetic) {
        return w;
    }
    if let Some(b) = w.strip_suffix("ies")
        && b.len() >= 2
    {
        return format!("{b}y");
    }
    for suffix in ["sses", "ches", "shes", "xes", "zes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_owned();
        }
    }
    if w.ends_with("ss") || w.ends_with("us") || w.ends_with("is") {
        return w;
    }
    match w.strip_suffix('s') {
        Some(b) => b.to_owned(),
        None => w,
    }
}

/// Irregular verb and comparison forms, mapped to what [`stem`] gives their relatives.
const IRREGULAR_STEMS: &[(&str, &str)] = &[
    ("best", "good"),
    ("better", "good"),
    ("born", "birth"),
    ("bought", "buy"),
    ("paid", "pay"),
    ("sold", "sell"),
];

/// A lower-case stem that makes a word's noun and verb forms meet: [`singular`], then
/// `-ied` → `-y`, `-ing` and `-ed` stripped (a doubled final consonant undone), and a final
/// `e` dropped — `categories`/`category`, `ordered`/`orders`/`order`, `created`/`create`,
/// `shipping`/`ship`. For comparing words, not for showing them.
pub fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if let Ok(i) = IRREGULAR_STEMS.binary_search_by(|(p, _)| (*p).cmp(lower.as_str())) {
        return IRREGULAR_STEMS[i].1.to_owned();
    }
    let irregular = IRREGULAR_PLURALS
        .binary_search_by(|(p, _)| (*p).cmp(lower.as_str()))
        .is_ok();
    let mut w = singular(&lower);
    if irregular || w.len() <= 3 || !w.chars().all(|c| c.is_ascii_alphabetic()) {
        return w;
    }
    if w.len() == lower.len() {
        // Not a plural: verb endings.
        if w.ends_with("ied") && w.len() > 4 {
            w.truncate(w.len() - 3);
            w.push('y');
        } else if w.ends_with("ing") && w.len() >= 6 {
            w.truncate(w.len() - 3);
            undouble(&mut w);
        } else if w.ends_with("ed") && w.len() >= 5 {
            w.truncate(w.len() - 2);
            undouble(&mut w);
        }
    }
    if w.ends_with('e') && w.len() >= 4 {
        w.truncate(w.len() - 1);
    }
    w
}

/// `shipp` → `ship`, `runn` → `run`; `call`, `pass`, `buzz` keep their doubles.
fn undouble(w: &mut String) {
    let b = w.as_bytes();
    if b.len() >= 3 {
        let (x, y) = (b[b.len() - 2], b[b.len() - 1]);
        if x == y && !matches!(y, b'l' | b's' | b'z' | b'a' | b'e' | b'i' | b'o' | b'u') {
            w.pop();
        }
    }
}

/// Abbreviations common in identifiers, with the word they stand for. For schema names
/// only: in a question `no` is a negation, not a number.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("acc", "account"),
    ("acct", "account"),
    ("acft", "aircraft"),
    ("ack", "acknowledged"),
    ("actv", "active"),
    ("addr", "address"),
    ("amt", "amount"),
    ("appt", "appointment"),
    ("asgn", "assignment"),
    ("avg", "average"),
    ("bal", "balance"),
    ("bldg", "building"),
    ("cat", "category"),
    ("ccy", "currency"),
    ("cd", "code"),
    ("chg", "charge"),
    ("cmnt", "comment"),
    ("cmpy", "company"),
    ("cnt", "count"),
    ("cntry", "country"),
    ("corp", "corporation"),
    ("crs", "course"),
    ("ctr", "center"),
    ("ctry", "country"),
    ("cty", "city"),
    ("cust", "customer"),
    ("ded", "deduction"),
    ("dep", "department"),
    ("dept", "department"),
    ("desc", "description"),
    ("descr", "description"),
    ("dest", "destination"),
    ("dlv", "delivery"),
    ("dlvry", "delivery"),
    ("dob", "birthday"),
    ("drv", "driver"),
    ("dscnt", "discount"),
    ("dt", "date"),
    ("dur", "duration"),
    ("eml", "email"),
    ("emp", "employee"),
    ("empl", "employee"),
    ("enrl", "enrollment"),
    ("evt", "event"),
    ("flg", "flag"),
    ("flt", "flight"),
    ("freq", "frequency"),
    ("gndr", "gender"),
    ("govt", "government"),
    ("grad", "graduation"),
    ("grd", "grade"),
    ("grs", "gross"),
    ("gst", "guest"),
    ("hist", "history"),
    ("hosp", "hospital"),
    ("ht", "height"),
    ("htl", "hotel"),
    ("indep", "independence"),
    ("info", "information"),
    ("instr", "instructor"),
    ("intl", "international"),
    ("inv", "invoice"),
    ("lang", "language"),
    ("loc", "location"),
    ("lvl", "level"),
    ("max", "maximum"),
    ("mbr", "member"),
    ("mdl", "model"),
    ("mfg", "manufacturing"),
    ("mfr", "manufacturer"),
    ("mgr", "manager"),
    ("mkt", "market"),
    ("msg", "message"),
    ("mth", "month"),
    ("natl", "national"),
    ("nbr", "number"),
    ("nm", "name"),
    ("no", "number"),
    ("nr", "number"),
    ("num", "number"),
    ("ord", "order"),
    ("org", "organization"),
    ("pax", "passenger"),
    ("pct", "percent"),
    ("phn", "phone"),
    ("pmt", "payment"),
    ("pop", "population"),
    ("pos", "position"),
    ("prc", "price"),
    ("prod", "product"),
    ("prof", "professor"),
    ("pstl", "postal"),
    ("pwd", "password"),
    ("pymt", "payment"),
    ("qnty", "quantity"),
    ("qtr", "quarter"),
    ("qty", "quantity"),
    ("rcpt", "receipt"),
    ("req", "request"),
    ("rgn", "region"),
    ("rm", "room"),
    ("rqst", "request"),
    ("rsv", "reservation"),
    ("rsvn", "reservation"),
    ("rte", "route"),
    ("rtg", "rating"),
    ("sal", "salary"),
    ("sched", "schedule"),
    ("shp", "ship"),
    ("shpmt", "shipment"),
    ("sls", "sales"),
    ("src", "source"),
    ("stdnt", "student"),
    ("strt", "start"),
    ("sts", "status"),
    ("sttl", "settlement"),
    ("stu", "student"),
    ("supp", "supplier"),
    ("svc", "service"),
    ("sz", "size"),
    ("tel", "phone"),
    ("terr", "territory"),
    ("tot", "total"),
    ("trx", "transaction"),
    ("ts", "timestamp"),
    ("tx", "transaction"),
    ("txn", "transaction"),
    ("typ", "type"),
    ("univ", "university"),
    ("usr", "user"),
    ("veh", "vehicle"),
    ("ver", "version"),
    ("vnd", "vendor"),
    ("vndr", "vendor"),
    ("wgt", "weight"),
    ("whse", "warehouse"),
    ("wk", "week"),
    ("wt", "weight"),
    ("yr", "year"),
];

/// The word an identifier abbreviation stands for (`qty` → `quantity`), if it is one.
pub fn abbreviation(word: &str) -> Option<&'static str> {
    ABBREVIATIONS
        .binary_search_by(|(a, _)| (*a).cmp(word))
        .ok()
        .map(|i| ABBREVIATIONS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_unique(name: &str, list: &[&str]) {
        for pair in list.windows(2) {
            assert!(
                pair[0] < pair[1],
                "{name}: {:?} out of order or repeated",
                pair
            );
        }
    }

    #[test]
    fn word_tables_are_sorted_for_binary_search() {
        for (name, list) in [
            ("FUNCTION_WORDS", FUNCTION_WORDS),
            ("REQUEST_WORDS", REQUEST_WORDS),
            ("AGGREGATE_WORDS", AGGREGATE_WORDS),
            ("ORDERING_WORDS", ORDERING_WORDS),
            ("QUALIFIER_WORDS", QUALIFIER_WORDS),
            ("FILLER", FILLER),
        ] {
            sorted_unique(name, list);
        }
        let keys = |t: &[(&'static str, &'static str)]| t.iter().map(|p| p.0).collect::<Vec<_>>();
        sorted_unique("IRREGULAR_PLURALS", &keys(IRREGULAR_PLURALS));
        sorted_unique("IRREGULAR_STEMS", &keys(IRREGULAR_STEMS));
        sorted_unique("ABBREVIATIONS", &keys(ABBREVIATIONS));
    }

    #[test]
    fn classes_are_disjoint_and_filler_is_function_or_request_words() {
        let classes = [
            FUNCTION_WORDS,
            REQUEST_WORDS,
            AGGREGATE_WORDS,
            ORDERING_WORDS,
            QUALIFIER_WORDS,
        ];
        for (i, a) in classes.iter().enumerate() {
            for b in &classes[i + 1..] {
                for w in *a {
                    assert!(!b.contains(w), "{w} is in two classes");
                }
            }
        }
        for w in FILLER {
            assert!(
                FUNCTION_WORDS.contains(w) || REQUEST_WORDS.contains(w),
                "filler {w} is not a function or request word"
            );
            assert!(is_stopword(w));
        }
        // Words that change a question's shape are never filler.
        for w in [
            "by", "per", "in", "not", "no", "from", "average", "top", "each",
        ] {
            assert!(!is_filler(w), "{w}");
        }
        // Words that are also common column and table names are not stop words.
        for w in ["first", "last", "number", "order", "name", "date", "year"] {
            assert!(!is_stopword(w), "{w}");
        }
    }

    #[test]
    fn words_keep_apostrophes_and_decimals_inside() {
        assert_eq!(
            words("Show me customer's orders over 2.5, please."),
            [
                "show",
                "me",
                "customer's",
                "orders",
                "over",
                "2.5",
                "please"
            ]
        );
        assert_eq!(words("top-5 'quoted'"), ["top", "5", "quoted"]);
        assert!(words(" ,.; ").is_empty());
    }

    #[test]
    fn identifiers_split_at_case_digit_and_punctuation() {
        assert_eq!(identifier_words("customerOrders"), ["customer", "orders"]);
        assert_eq!(identifier_words("XMLFile_id"), ["xml", "file", "id"]);
        assert_eq!(identifier_words("address2"), ["address", "2"]);
        assert_eq!(identifier_words("order-items"), ["order", "items"]);
        assert!(identifier_words("__").is_empty());
    }

    #[test]
    fn singulars() {
        for (plural, one) in [
            ("customers", "customer"),
            ("categories", "category"),
            ("boxes", "box"),
            ("matches", "match"),
            ("classes", "class"),
            ("status", "status"),
            ("bonus", "bonus"),
            ("analysis", "analysis"),
            ("people", "person"),
            ("Species", "species"),
            ("gas", "gas"),
            ("2024s", "2024s"),
        ] {
            assert_eq!(singular(plural), one, "{plural}");
        }
    }

    #[test]
    fn stems_meet_across_noun_and_verb_forms() {
        for group in [
            &["order", "orders", "ordered", "ordering"][..],
            &["category", "categories"],
            &["create", "created", "creates"],
            &["ship", "shipped", "shipping"],
            &["carry", "carried", "carries"],
            &["sell", "sold"],
        ] {
            let s = stem(group[0]);
            for w in group {
                assert_eq!(stem(w), s, "{w} vs {}", group[0]);
            }
        }
        assert_eq!(stem("call"), stem("called"));
        assert_eq!(stem("people"), "person");
    }

    #[test]
    fn abbreviations_expand() {
        assert_eq!(abbreviation("qty"), Some("quantity"));
        assert_eq!(abbreviation("dept"), Some("department"));
        assert_eq!(abbreviation("quantity"), None);
    }
}
