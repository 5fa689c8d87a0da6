//! Tokenising identifiers, comments, sample values and questions into comparable terms:
//! split snake_case / camelCase / letter-digit boundaries, lowercase, expand a few generic
//! abbreviations, map a few irregular forms and strip common English suffixes. The word
//! rules themselves are the ones every reader of questions shares (`querent_domain::text`);
//! this module turns them into the linker's terms.

pub(crate) use querent_domain::text::{
    abbreviation as identifier_abbreviation, identifier_words as words, is_stopword, stem,
};

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
