//! Tokenising identifiers, comments, sample values and questions into comparable terms:
//! split snake_case / camelCase / letter-digit boundaries, lowercase, expand a few generic
//! abbreviations, map a few irregular forms and strip common English suffixes.

/// Splits text into lowercase words: on anything that is not a letter or digit, at
/// lower→upper case changes (`FullName`), before the last capital of a capital run
/// followed by a lowercase letter (`XMLFile` → `xml`, `file`) and at letter↔digit changes.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split(|c: char| !c.is_alphanumeric()) {
        if chunk.is_empty() {
            continue;
        }
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
        out.push(chars[start..].iter().collect::<String>().to_lowercase());
    }
    out
}

/// Abbreviations common in identifiers (only applied to schema names, where `no` means
/// number; in questions it is a negation).
pub(crate) fn identifier_abbreviation(word: &str) -> Option<&'static str> {
    Some(match word {
        "qty" | "qnty" => "quantity",
        "num" | "no" | "nbr" | "nr" => "number",
        "dept" | "dep" => "department",
        "emp" | "empl" => "employee",
        "cust" => "customer",
        "addr" => "address",
        "amt" => "amount",
        "desc" | "descr" => "description",
        "prod" => "product",
        "acct" | "acc" => "account",
        "txn" | "trx" => "transaction",
        "yr" => "year",
        "org" => "organization",
        "mgr" => "manager",
        "pct" => "percent",
        "avg" => "average",
        "tel" => "phone",
        "dob" => "birthday",
        "cnt" => "count",
        "cat" => "category",
        "loc" => "location",
        "inv" => "invoice",
        "pos" => "position",
        _ => return None,
    })
}

/// Irregular forms mapped to the form the stemmer produces for their relatives.
fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "people" => "person",
        "children" => "child",
        "men" => "man",
        "women" => "woman",
        "bought" => "buy",
        "sold" => "sell",
        "paid" => "pay",
        "born" => "birth",
        "countries" => "country",
        "cities" => "city",
        "best" | "better" => "good",
        "data" => "data",
        "status" | "statuses" => "status",
        "series" => "series",
        "address" | "addresses" => "address",
        "business" | "businesses" => "business",
        _ => return None,
    })
}

/// Words of a question that say nothing about which table is meant.
pub(crate) fn is_stopword(word: &str) -> bool {
    matches!(
        word,
        "a" | "an"
            | "the"
            | "of"
            | "in"
            | "on"
            | "at"
            | "to"
            | "for"
            | "from"
            | "by"
            | "with"
            | "without"
            | "and"
            | "or"
            | "not"
            | "no"
            | "is"
            | "are"
            | "was"
            | "were"
            | "be"
            | "been"
            | "being"
            | "do"
            | "does"
            | "did"
            | "have"
            | "has"
            | "had"
            | "what"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "when"
            | "where"
            | "why"
            | "how"
            | "many"
            | "much"
            | "all"
            | "any"
            | "each"
            | "every"
            | "some"
            | "show"
            | "list"
            | "give"
            | "find"
            | "return"
            | "tell"
            | "me"
            | "i"
            | "we"
            | "our"
            | "us"
            | "you"
            | "your"
            | "their"
            | "them"
            | "they"
            | "it"
            | "its"
            | "this"
            | "that"
            | "these"
            | "those"
            | "there"
            | "than"
            | "then"
            | "as"
            | "please"
            | "also"
            | "both"
            | "either"
            | "only"
            | "distinct"
            | "different"
            | "most"
            | "least"
            | "more"
            | "less"
            | "greater"
            | "larger"
            | "smaller"
            | "bigger"
            | "highest"
            | "lowest"
            | "top"
            | "bottom"
            | "descending"
            | "ascending"
            | "alphabetical"
            | "sorted"
            | "sort"
            | "into"
            | "per"
            | "can"
            | "could"
            | "would"
            | "should"
            | "will"
            | "about"
            | "over"
            | "under"
            | "between"
            | "other"
            | "one"
            | "s"
            | "t"
            | "if"
            | "such"
            | "get"
            | "display"
            | "out"
            | "up"
    )
}

/// Light English stemming: plural and `-ing`/`-ed` stripping, a trailing `e` dropped, so
/// that `categories`/`category`, `ordered`/`orders`/`order`, `created`/`create` meet.
pub(crate) fn stem(word: &str) -> String {
    if let Some(w) = irregular(word) {
        return w.to_string();
    }
    if !word.chars().all(|c| c.is_ascii_alphabetic()) || word.len() <= 3 {
        return word.to_string();
    }
    let mut w = word.to_string();
    let es_plural = w.ends_with("sses")
        || ((w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes")) && w.len() > 4);
    if (w.ends_with("ies") || w.ends_with("ied")) && w.len() > 4 {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if es_plural {
        w.truncate(w.len() - 2);
    } else if w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
        && w.len() > 3
    {
        w.truncate(w.len() - 1);
    } else if w.ends_with("ing") && w.len() >= 6 {
        w.truncate(w.len() - 3);
        undouble(&mut w);
    } else if w.ends_with("ed") && w.len() >= 5 {
        w.truncate(w.len() - 2);
        undouble(&mut w);
    }
    if w.ends_with('e') && w.len() >= 4 {
        w.truncate(w.len() - 1);
    }
    w
}

fn undouble(w: &mut String) {
    let b = w.as_bytes();
    if b.len() >= 3 {
        let (x, y) = (b[b.len() - 2], b[b.len() - 1]);
        if x == y && !matches!(y, b'l' | b's' | b'z' | b'a' | b'e' | b'i' | b'o' | b'u') {
            w.pop();
        }
    }
}

/// The terms of a schema identifier (table or column name): words, abbreviations
/// expanded, stemmed. Abbreviations expanding to several words are not needed here.
pub(crate) fn identifier_terms(name: &str) -> Vec<String> {
    words(name)
        .into_iter()
        .map(|w| match identifier_abbreviation(&w) {
            Some(full) => stem(full),
            None => stem(&w),
        })
        .collect()
}

/// The terms of free text in the schema (comments, sample values): words, stemmed,
/// stopwords dropped.
pub(crate) fn text_terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .map(|w| stem(&w))
        .collect()
}

/// A question word with its position, for phrase and compound matching.
#[derive(Clone, Debug)]
pub(crate) struct QuestionWord {
    /// The lowercase word.
    pub(crate) lower: String,
    /// Its stemmed term (empty for a stopword).
    pub(crate) term: String,
}

/// The words of a question, lowercased and stemmed, with sort-order phrases ("ordered by",
/// "in descending order") neutralised so that `order` does not pull in an orders table.
pub(crate) fn question_words(question: &str) -> Vec<QuestionWord> {
    let ws = words(question);
    let mut out = Vec::with_capacity(ws.len());
    for (i, w) in ws.iter().enumerate() {
        let next = ws.get(i + 1).map(String::as_str);
        let prev = if i > 0 {
            Some(ws[i - 1].as_str())
        } else {
            None
        };
        let sort_word = matches!(w.as_str(), "order" | "ordered" | "sorted" | "sort")
            && (next == Some("by")
                || next == Some("of")
                || matches!(
                    prev,
                    Some(
                        "descending"
                            | "ascending"
                            | "alphabetical"
                            | "reverse"
                            | "increasing"
                            | "decreasing"
                            | "lexicographic"
                            | "lexicographical"
                    )
                ));
        let term = if sort_word || is_stopword(w) {
            String::new()
        } else {
            stem(w)
        };
        out.push(QuestionWord {
            lower: w.clone(),
            term,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_identifiers() {
        assert_eq!(words("FullName"), ["full", "name"]);
        assert_eq!(words("order_items"), ["order", "items"]);
        assert_eq!(words("XMLFile2x"), ["xml", "file", "2", "x"]);
        assert_eq!(
            identifier_terms("emp_no"),
            [stem("employee"), stem("number")]
        );
        assert_eq!(identifier_terms("Categories"), ["category"]);
        assert_eq!(identifier_terms("order_qty"), ["order", &stem("quantity")]);
    }

    #[test]
    fn stems_consistently() {
        assert_eq!(stem("ordered"), stem("orders"));
        assert_eq!(stem("created"), stem("create"));
        assert_eq!(stem("shipping"), stem("ship"));
        assert_eq!(stem("boxes"), stem("box"));
        assert_eq!(stem("salaries"), stem("salary"));
        assert_eq!(stem("status"), "status");
    }

    #[test]
    fn sort_phrases_are_not_terms() {
        let q = question_words("List names ordered by age in descending order");
        assert!(q.iter().all(|w| w.term != "order"));
        let q = question_words("How many orders are there");
        assert!(q.iter().any(|w| w.term == "order"));
    }
}
