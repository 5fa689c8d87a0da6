//! Execution accuracy: do two result sets hold the same answer?
//!
//! The usual rules of text-to-SQL evaluation: rows are compared as a multiset, in order
//! only when the gold query sorts its outermost result (`ORDER BY`); the order of columns
//! does not matter (columns are matched by their values); numbers compare with a tolerance
//! and regardless of how they were typed (`1`, `1.0` and `"1"` are the same number); NULL
//! equals NULL.

use serde_json::Value;

/// A result: rows of JSON values, all of the same width.
pub type Rows = Vec<Vec<Value>>;

/// The canonical text of a value, so equal answers compare equal as strings.
fn canonical(v: &Value) -> String {
    let num = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    match (num, v) {
        (Some(f), _) => {
            if (f - f.round()).abs() < 1e-9 && f.abs() < 9.0e15 {
                format!("n:{}", f.round() as i64)
            } else {
                // Six significant digits after the point absorb float noise (SUM/AVG).
                format!("n:{:.6}", f)
            }
        }
        (None, Value::Null) => "null".to_owned(),
        (None, Value::String(s)) => format!("s:{s}"),
        (None, other) => format!("j:{other}"),
    }
}

/// Whether the outermost query of `sql` has an `ORDER BY` (one inside parentheses does not
/// count).
pub fn is_ordered(sql: &str) -> bool {
    let mut depth = 0i32;
    let mut outer = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => continue,
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => outer.push(c.to_ascii_lowercase()),
                _ => {}
            },
        }
    }
    outer
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .contains("order by")
}

/// Whether `predicted` answers like `gold`.
pub fn same_result(gold: &Rows, predicted: &Rows, ordered: bool) -> bool {
    if gold.len() != predicted.len() {
        return false;
    }
    if gold.is_empty() {
        return true;
    }
    let width = gold[0].len();
    if predicted[0].len() != width {
        return false;
    }
    let g: Vec<Vec<String>> = gold
        .iter()
        .map(|r| r.iter().map(canonical).collect())
        .collect();
    let p: Vec<Vec<String>> = predicted
        .iter()
        .map(|r| r.iter().map(canonical).collect())
        .collect();
    // Columns are matched by the multiset of their values; try every assignment consistent
    // with that (usually exactly one).
    let signature = |rows: &[Vec<String>], c: usize| {
        let mut col: Vec<&str> = rows.iter().map(|r| r[c].as_str()).collect();
        col.sort_unstable();
        col.join("\u{1}")
    };
    let gsig: Vec<String> = (0..width).map(|c| signature(&g, c)).collect();
    let psig: Vec<String> = (0..width).map(|c| signature(&p, c)).collect();
    let mut assignment = vec![usize::MAX; width];
    let mut used = vec![false; width];
    search(0, &gsig, &psig, &mut assignment, &mut used, &mut |perm| {
        rows_equal(&g, &p, perm, ordered)
    })
}

/// Depth-first search over column assignments (gold column `i` ← predicted `perm[i]`).
fn search(
    i: usize,
    gsig: &[String],
    psig: &[String],
    perm: &mut Vec<usize>,
    used: &mut Vec<bool>,
    check: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    if i == gsig.len() {
        return check(perm);
    }
    for j in 0..psig.len() {
        if !used[j] && psig[j] == gsig[i] {
            used[j] = true;
            perm[i] = j;
            if search(i + 1, gsig, psig, perm, used, check) {
                return true;
            }
            used[j] = false;
        }
    }
    false
}

fn rows_equal(g: &[Vec<String>], p: &[Vec<String>], perm: &[usize], ordered: bool) -> bool {
    let mut p: Vec<Vec<&str>> = p
        .iter()
        .map(|r| perm.iter().map(|&j| r[j].as_str()).collect())
        .collect();
    let mut g: Vec<Vec<&str>> = g
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    if !ordered {
        g.sort_unstable();
        p.sort_unstable();
    }
    g == p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Rows {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn order_matters_only_when_the_gold_sorts() {
        let a = rows(json!([[1, "x"], [2, "y"]]));
        let b = rows(json!([[2, "y"], [1, "x"]]));
        assert!(same_result(&a, &b, false));
        assert!(!same_result(&a, &b, true));
        assert!(is_ordered("SELECT a FROM t ORDER BY a DESC LIMIT 3"));
        assert!(!is_ordered(
            "SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3) s"
        ));
        assert!(!is_ordered("SELECT 'order by' FROM t"));
    }

    #[test]
    fn duplicates_count() {
        let a = rows(json!([[1], [1], [2]]));
        let b = rows(json!([[1], [2], [2]]));
        assert!(!same_result(&a, &b, false));
        assert!(!same_result(&a, &rows(json!([[1], [2]])), false));
    }

    #[test]
    fn floats_compare_with_a_tolerance_and_types_do_not_matter() {
        let a = rows(json!([[0.1 + 0.2, 3, "4.50"]]));
        let b = rows(json!([[0.3, 3.0, 4.5]]));
        assert!(same_result(&a, &b, true));
        assert!(!same_result(&a, &rows(json!([[0.31, 3, 4.5]])), true));
    }

    #[test]
    fn nulls_equal_nulls_only() {
        assert!(same_result(
            &rows(json!([[null, 1]])),
            &rows(json!([[null, 1]])),
            false
        ));
        assert!(!same_result(
            &rows(json!([[null]])),
            &rows(json!([[0]])),
            false
        ));
        assert!(!same_result(
            &rows(json!([[null]])),
            &rows(json!([["null"]])),
            false
        ));
    }

    #[test]
    fn column_order_is_ignored_but_width_is_not() {
        let a = rows(json!([["Ann", 3], ["Bob", 5]]));
        let b = rows(json!([[5, "Bob"], [3, "Ann"]]));
        assert!(same_result(&a, &b, false));
        // Swapping columns must keep rows together: pairs differ here.
        let c = rows(json!([[5, "Ann"], [3, "Bob"]]));
        assert!(!same_result(&a, &c, false));
        assert!(!same_result(&a, &rows(json!([["Ann"], ["Bob"]])), false));
        // Two columns with identical values: either assignment works.
        let d = rows(json!([[1, 1], [2, 2]]));
        assert!(same_result(&d, &d, true));
    }

    #[test]
    fn empty_results_match_empty_results() {
        assert!(same_result(&vec![], &vec![], true));
        assert!(!same_result(&vec![], &rows(json!([[1]])), false));
    }
}
