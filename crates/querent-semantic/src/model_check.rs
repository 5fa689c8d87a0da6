//! Checking a semantic model against a schema: every table and column it names
//! ([`references`], each with its location in the model), whether they resolve in a
//! snapshot under a privacy policy ([`check_model`], with "did you mean" suggestions), and
//! the small SQL statements that let the guard check its joins and metric expressions
//! ([`join_check_sql`], [`metric_check_sql`]) without this crate parsing SQL.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use querent_domain::schema::{SchemaSnapshot, TableInfo};
use querent_domain::semantic::{JoinPath, Metric, SemanticModel};
use querent_domain::{Dialect, PrivacyPolicy};

/// A table or column a semantic model names, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Where it is in the model, JSON-pointer-like: `tables[2].columns[0].column`,
    /// `joins[1].from_columns[0]`, `metrics[3].table`.
    pub location: String,
    /// The table, as the model spells it (`table` or `schema.table`).
    pub table: String,
    /// The column, for a column reference.
    pub column: Option<String>,
}

impl Reference {
    /// `table` or `table.column`.
    pub fn name(&self) -> String {
        match &self.column {
            Some(c) => format!("{}.{c}", self.table),
            None => self.table.clone(),
        }
    }
}

/// Everything `model` names: each described table and column, both ends of each join
/// with their columns, and each metric's table, in model order.
pub fn references(model: &SemanticModel) -> Vec<Reference> {
    let mut out = Vec::new();
    let table = |location: String, table: &str| Reference {
        location,
        table: table.to_owned(),
        column: None,
    };
    let column = |location: String, table: &str, column: &str| Reference {
        location,
        table: table.to_owned(),
        column: Some(column.to_owned()),
    };
    for (i, t) in model.tables.iter().enumerate() {
        out.push(table(format!("tables[{i}].table"), &t.table));
        for (j, c) in t.columns.iter().enumerate() {
            out.push(column(
                format!("tables[{i}].columns[{j}].column"),
                &t.table,
                &c.column,
            ));
        }
    }
    for (k, j) in model.joins.iter().enumerate() {
        out.push(table(format!("joins[{k}].from_table"), &j.from_table));
        for (m, c) in j.from_columns.iter().enumerate() {
            out.push(column(
                format!("joins[{k}].from_columns[{m}]"),
                &j.from_table,
                c,
            ));
        }
        out.push(table(format!("joins[{k}].to_table"), &j.to_table));
        for (m, c) in j.to_columns.iter().enumerate() {
            out.push(column(
                format!("joins[{k}].to_columns[{m}]"),
                &j.to_table,
                c,
            ));
        }
    }
    for (k, m) in model.metrics.iter().enumerate() {
        out.push(table(format!("metrics[{k}].table"), &m.table));
    }
    out
}

/// Something wrong with a semantic model, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelProblem {
    /// Where it is in the model (see [`Reference::location`]).
    pub location: String,
    /// What is wrong, with a suggestion when there is one.
    pub message: String,
}

impl fmt::Display for ModelProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a reference does not resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// No such table.
    MissingTable,
    /// The unqualified name exists in several schemas.
    AmbiguousTable(Vec<String>),
    /// The policy excludes the table.
    ExcludedTable,
    /// The table has no such column.
    MissingColumn,
    /// The policy excludes the column.
    ExcludedColumn,
}

/// Checks the shape of `model` (names present, nothing described twice, joins with
/// matching column lists, metrics with a name and an expression) and that every
/// [`reference`](references) resolves in `snapshot` and is not excluded by `policy`. Empty
/// when the model is fine. Columns of a table that does not resolve are not reported again.
pub fn check_model(
    model: &SemanticModel,
    snapshot: &SchemaSnapshot,
    policy: &PrivacyPolicy,
) -> Vec<ModelProblem> {
    let mut problems = shape_problems(model);
    let mut bad_tables: HashSet<String> = HashSet::new();
    for r in references(model) {
        let outcome = resolve_reference(snapshot, policy, &r);
        let Err(why) = outcome else { continue };
        if r.column.is_none() {
            bad_tables.insert(r.table.clone());
        } else if bad_tables.contains(&r.table) {
            continue;
        }
        problems.push(ModelProblem {
            message: describe(snapshot, policy, &r, &why, None),
            location: r.location,
        });
    }
    problems
}

fn shape_problems(model: &SemanticModel) -> Vec<ModelProblem> {
    let mut out = Vec::new();
    let mut push = |location: String, message: String| out.push(ModelProblem { location, message });
    let mut seen_tables: HashMap<&str, usize> = HashMap::new();
    for (i, t) in model.tables.iter().enumerate() {
        if t.table.trim().is_empty() {
            push(format!("tables[{i}].table"), "must not be empty".into());
        } else if let Some(first) = seen_tables.insert(&t.table, i) {
            push(
                format!("tables[{i}].table"),
                format!(
                    "table \"{}\" is already described by tables[{first}]",
                    t.table
                ),
            );
        }
        let mut seen_columns: HashMap<&str, usize> = HashMap::new();
        for (j, c) in t.columns.iter().enumerate() {
            if c.column.trim().is_empty() {
                push(
                    format!("tables[{i}].columns[{j}].column"),
                    "must not be empty".into(),
                );
            } else if let Some(first) = seen_columns.insert(&c.column, j) {
                push(
                    format!("tables[{i}].columns[{j}].column"),
                    format!(
                        "column \"{}\" is already described by tables[{i}].columns[{first}]",
                        c.column
                    ),
                );
            }
            for (m, vm) in c.value_mappings.iter().enumerate() {
                if vm.phrase.trim().is_empty() {
                    push(
                        format!("tables[{i}].columns[{j}].value_mappings[{m}].phrase"),
                        "must not be empty".into(),
                    );
                }
            }
        }
    }
    for (k, j) in model.joins.iter().enumerate() {
        if j.from_columns.is_empty() {
            push(
                format!("joins[{k}].from_columns"),
                "must name at least one column".into(),
            );
        }
        if j.to_columns.len() != j.from_columns.len() {
            push(
                format!("joins[{k}].to_columns"),
                format!(
                    "has {} column(s) but from_columns has {}",
                    j.to_columns.len(),
                    j.from_columns.len()
                ),
            );
        }
    }
    let mut seen_metrics: HashMap<String, usize> = HashMap::new();
    for (k, m) in model.metrics.iter().enumerate() {
        if m.name.trim().is_empty() {
            push(format!("metrics[{k}].name"), "must not be empty".into());
        } else if let Some(first) = seen_metrics.insert(m.name.trim().to_lowercase(), k) {
            push(
                format!("metrics[{k}].name"),
                format!(
                    "metric \"{}\" is already defined by metrics[{first}]",
                    m.name
                ),
            );
        }
        if m.expression.trim().is_empty() {
            push(
                format!("metrics[{k}].expression"),
                "must not be empty".into(),
            );
        } else if let Err(why) = single_expression(&m.expression) {
            push(
                format!("metrics[{k}].expression"),
                format!("metric \"{}\": {why}", m.name),
            );
        }
    }
    out
}

/// Checks that a metric is one SQL expression: no comments, no `;`, and — outside
/// parentheses and quotes — no commas and no clause keywords (`AS`, `FROM`, `WHERE`,
/// `UNION`, …). The guard accepts `SUM(x) AS a, COUNT(*)` or `SUM(x) FROM t UNION …` once
/// wrapped in `SELECT … FROM t`, yet pasted into another query they change its shape.
pub(crate) fn single_expression(expr: &str) -> Result<(), String> {
    const CLAUSES: [&str; 14] = [
        "as",
        "from",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "union",
        "intersect",
        "except",
        "select",
        "into",
        "offset",
        "window",
    ];
    if expr.contains(';') {
        return Err("must be one expression: `;` is not allowed".into());
    }
    // Backslash escapes (MySQL, PostgreSQL `E''`), `$$` quoting and MySQL `#` comments
    // would let text this scanner reads as quoted end a string in the database's eyes.
    for (c, what) in [('\\', "a backslash"), ('$', "`$`"), ('#', "`#`")] {
        if expr.contains(c) {
            return Err(format!("must be one expression: {what} is not allowed"));
        }
    }
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut word = String::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let check_word = |w: &mut String, depth: i32| -> Result<(), String> {
        if depth == 0 && CLAUSES.contains(&w.to_ascii_lowercase().as_str()) {
            let found = w.to_ascii_uppercase();
            w.clear();
            return Err(format!(
                "must be one expression (like `SUM(quantity * unit_price)`): `{found}` is not allowed outside parentheses"
            ));
        }
        w.clear();
        Ok(())
    };
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                check_word(&mut word, depth)?;
                quote = Some(c);
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                return Err("must be one expression: comments are not allowed".into());
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                return Err("must be one expression: comments are not allowed".into());
            }
            '(' => {
                check_word(&mut word, depth)?;
                depth += 1;
            }
            ')' => {
                check_word(&mut word, depth)?;
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced parentheses".into());
                }
            }
            ',' if depth == 0 => {
                return Err(
                    "must be one expression: a comma outside parentheses is not allowed".into(),
                );
            }
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            _ => check_word(&mut word, depth)?,
        }
        i += 1;
    }
    check_word(&mut word, depth)?;
    if quote.is_some() {
        return Err("unterminated quoted text".into());
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    Ok(())
}

/// Resolves a reference in `snapshot` under `policy`.
pub(crate) fn resolve_reference<'a>(
    snapshot: &'a SchemaSnapshot,
    policy: &PrivacyPolicy,
    r: &Reference,
) -> Result<&'a TableInfo, Unresolved> {
    let table = resolve_table(snapshot, &r.table)?;
    if table_excluded(policy, table) {
        return Err(Unresolved::ExcludedTable);
    }
    if let Some(c) = &r.column {
        if table.column(c).is_none() {
            return Err(Unresolved::MissingColumn);
        }
        if column_excluded(policy, table, c) {
            return Err(Unresolved::ExcludedColumn);
        }
    }
    Ok(table)
}

/// The table `name` (`table` or `schema.table`) names in `snapshot`. A name the catalog
/// spells with a dot is found as is; an unqualified name present in several schemas is
/// ambiguous.
pub(crate) fn resolve_table<'a>(
    snapshot: &'a SchemaSnapshot,
    name: &str,
) -> Result<&'a TableInfo, Unresolved> {
    let unqualified: Vec<&TableInfo> = snapshot.tables.iter().filter(|t| t.name == name).collect();
    match unqualified.as_slice() {
        [one] => return Ok(one),
        [] => {}
        many => {
            return Err(Unresolved::AmbiguousTable(
                many.iter()
                    .map(|t| t.schema.clone().unwrap_or_default())
                    .collect(),
            ));
        }
    }
    if let Some((schema, table)) = name.split_once('.')
        && let Some(t) = snapshot.table(Some(schema), table)
    {
        return Ok(t);
    }
    Err(Unresolved::MissingTable)
}

/// The message for an unresolved reference; `renamed` names the live name a drift report
/// paired it with.
pub(crate) fn describe(
    snapshot: &SchemaSnapshot,
    policy: &PrivacyPolicy,
    r: &Reference,
    why: &Unresolved,
    renamed: Option<&str>,
) -> String {
    let hint = |candidate: Option<String>| match (renamed, candidate) {
        (Some(to), _) => format!(" (renamed to \"{to}\"?)"),
        (None, Some(c)) => format!(" (did you mean \"{c}\"?)"),
        (None, None) => String::new(),
    };
    match why {
        Unresolved::MissingTable => {
            let names = snapshot
                .tables
                .iter()
                .filter(|t| !table_excluded(policy, t))
                .map(|t| reference_name(snapshot, t));
            format!(
                "table \"{}\" does not exist{}",
                r.table,
                hint(closest(&r.table, names))
            )
        }
        Unresolved::AmbiguousTable(schemas) => format!(
            "table \"{}\" exists in several schemas ({}); qualify it as schema.table",
            r.table,
            schemas.join(", ")
        ),
        Unresolved::ExcludedTable => format!(
            "table \"{}\" is excluded by the connection's privacy policy",
            r.table
        ),
        Unresolved::MissingColumn => {
            let column = r.column.as_deref().unwrap_or_default();
            let candidates: Vec<String> = resolve_table(snapshot, &r.table)
                .map(|t| {
                    t.columns
                        .iter()
                        .filter(|c| !column_excluded(policy, t, &c.name))
                        .map(|c| c.name.clone())
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "column \"{}\" does not exist{}",
                r.name(),
                hint(closest(column, candidates.into_iter()))
            )
        }
        Unresolved::ExcludedColumn => format!(
            "column \"{}\" is excluded by the connection's privacy policy",
            r.name()
        ),
    }
}

/// How a model should name `table`: its bare name when no other schema has a table of that
/// name, else `schema.table`.
pub(crate) fn reference_name(snapshot: &SchemaSnapshot, table: &TableInfo) -> String {
    let clashes = snapshot
        .tables
        .iter()
        .filter(|t| t.name == table.name)
        .count();
    match (&table.schema, clashes) {
        (Some(s), n) if n > 1 => format!("{s}.{}", table.name),
        _ => table.name.clone(),
    }
}

/// The candidate closest to `name` (case-insensitive edit distance), if close enough to be
/// a plausible typo or rename.
pub(crate) fn closest(name: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    let target = name.to_lowercase();
    let limit = (target.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(&target, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                prev.min(cur).min(row[j]) + 1
            };
            prev = cur;
        }
    }
    row[b.len()]
}

fn qualified(table: &TableInfo) -> String {
    match &table.schema {
        Some(s) => format!("{s}.{}", table.name),
        None => table.name.clone(),
    }
}

/// Whether the policy excludes the table (`name` or `schema.name`, case-insensitive), as
/// the guard decides it.
pub(crate) fn table_excluded(policy: &PrivacyPolicy, table: &TableInfo) -> bool {
    let q = qualified(table);
    policy
        .excluded_tables
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&table.name) || e.eq_ignore_ascii_case(&q))
}

/// Whether the policy excludes the column (`table.column` or `schema.table.column`).
pub(crate) fn column_excluded(policy: &PrivacyPolicy, table: &TableInfo, column: &str) -> bool {
    if policy.excluded_columns.is_empty() {
        return false;
    }
    let short = format!("{}.{column}", table.name);
    let long = format!("{}.{column}", qualified(table));
    policy
        .excluded_columns
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&short) || e.eq_ignore_ascii_case(&long))
}

/// Whether a masking pattern (`column`, `table.column` or `schema.table.column`, `*`
/// wildcards, case-insensitive) matches the column.
pub(crate) fn column_masked(policy: &PrivacyPolicy, table: &TableInfo, column: &str) -> bool {
    policy.masked_column_patterns.iter().any(|pattern| {
        let parts: Vec<&str> = pattern.split('.').collect();
        match parts.as_slice() {
            [c] => glob(c, column),
            [t, c] => glob(t, &table.name) && glob(c, column),
            [s, t, c] => {
                glob(s, table.schema.as_deref().unwrap_or(""))
                    && glob(t, &table.name)
                    && glob(c, column)
            }
            _ => false,
        }
    })
}

/// `*`-wildcard match, case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A statement built for the guard to check part of a model, and the tables it may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSql {
    /// The SQL text (one `SELECT`).
    pub sql: String,
    /// The tables (as the model names them) the statement's `FROM` clause reads; a checked
    /// statement reading anything else smuggled a table in through the expression.
    pub tables: Vec<String>,
}

/// Quotes one identifier for `dialect`.
fn quote(dialect: Dialect, ident: &str) -> String {
    dialect.quote_identifier(ident)
}

/// Quotes a table name (`table` or `schema.table`) for `dialect`, each part separately.
fn quote_table(dialect: Dialect, name: &str) -> String {
    name.split('.')
        .map(|part| quote(dialect, part))
        .collect::<Vec<_>>()
        .join(".")
}

/// `SELECT 1 FROM a AS j0 JOIN b AS j1 ON j0.x = j1.y [AND …]`: the guard accepts it when
/// both tables and all join columns exist and are allowed.
pub fn join_check_sql(join: &JoinPath, dialect: Dialect) -> CheckSql {
    let on = join
        .from_columns
        .iter()
        .zip(&join.to_columns)
        .map(|(f, t)| format!("j0.{} = j1.{}", quote(dialect, f), quote(dialect, t)))
        .collect::<Vec<_>>()
        .join(" AND ");
    CheckSql {
        sql: format!(
            "SELECT 1 FROM {} AS j0 JOIN {} AS j1 ON {on}",
            quote_table(dialect, &join.from_table),
            quote_table(dialect, &join.to_table)
        ),
        tables: vec![join.from_table.clone(), join.to_table.clone()],
    }
}

/// `SELECT <expression> AS m FROM <table> [JOIN …]`: the metric's expression over its
/// table, joined (along the model's join paths) to every other table of the model the
/// expression qualifies a column with (`SUM(order_items.quantity)` on `orders`). The
/// expression stands on lines of its own so a trailing `--` comment cannot swallow the
/// `FROM` clause.
pub fn metric_check_sql(model: &SemanticModel, metric: &Metric, dialect: Dialect) -> CheckSql {
    let base = bare(&metric.table).to_lowercase();
    let mut joined: Vec<String> = vec![metric.table.clone()];
    let mut from = quote_table(dialect, &metric.table);
    let mut present: HashSet<String> = HashSet::from([base.clone()]);
    for q in qualifiers(&metric.expression) {
        if present.contains(&q) {
            continue;
        }
        let Some(path) = join_path(model, &base, &q) else {
            continue;
        };
        for step in path {
            let (next, next_cols, prev_cols) = step;
            let next_bare = bare(&next).to_lowercase();
            if !present.insert(next_bare) {
                continue;
            }
            let prev_name = &prev_cols.0;
            let on = prev_cols
                .1
                .iter()
                .zip(&next_cols)
                .map(|(p, n)| {
                    format!(
                        "{}.{} = {}.{}",
                        quote(dialect, bare(prev_name)),
                        quote(dialect, p),
                        quote(dialect, bare(&next)),
                        quote(dialect, n)
                    )
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            from.push_str(&format!(" JOIN {} ON {on}", quote_table(dialect, &next)));
            joined.push(next);
        }
    }
    CheckSql {
        sql: format!("SELECT\n{}\nAS m FROM {from}", metric.expression),
        tables: joined,
    }
}

/// The last dot-separated part of a table name.
fn bare(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

/// One hop of a join path: the table reached, its join columns, and the table it was
/// reached from with that table's join columns.
type Step = (String, Vec<String>, (String, Vec<String>));

/// The shortest path of model joins (either direction, no self-joins) from the table
/// whose bare lowercase name is `from` to the one named `to`.
fn join_path(model: &SemanticModel, from: &str, to: &str) -> Option<Vec<Step>> {
    let key = |t: &str| bare(t).to_lowercase();
    let mut previous: HashMap<String, Step> = HashMap::new();
    let mut queue = VecDeque::from([from.to_owned()]);
    let mut seen: HashSet<String> = HashSet::from([from.to_owned()]);
    while let Some(current) = queue.pop_front() {
        if current == to {
            let mut path = Vec::new();
            let mut at = current;
            while let Some(step) = previous.get(&at) {
                let back = key(&step.2.0);
                path.push(step.clone());
                at = back;
            }
            path.reverse();
            return Some(path);
        }
        for j in &model.joins {
            let (a, b) = (key(&j.from_table), key(&j.to_table));
            if a == b {
                continue;
            }
            let hop = if a == current {
                Some((
                    j.to_table.clone(),
                    j.to_columns.clone(),
                    (j.from_table.clone(), j.from_columns.clone()),
                ))
            } else if b == current {
                Some((
                    j.from_table.clone(),
                    j.from_columns.clone(),
                    (j.to_table.clone(), j.to_columns.clone()),
                ))
            } else {
                None
            };
            if let Some(step) = hop {
                let next = key(&step.0);
                if seen.insert(next.clone()) {
                    previous.insert(next.clone(), step);
                    queue.push_back(next);
                }
            }
        }
    }
    None
}

/// The identifiers an expression qualifies columns with (`t` in `t.c`, `t` in `s.t.c`),
/// lowercased, in order of appearance; string literals are skipped.
fn qualifiers(expression: &str) -> Vec<String> {
    let chars: Vec<char> = expression.chars().collect();
    let mut parts: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let flush = |parts: &mut Vec<String>, out: &mut Vec<String>| {
        if parts.len() >= 2 {
            let q = parts[parts.len() - 2].to_lowercase();
            if !out.contains(&q) {
                out.push(q);
            }
        }
        parts.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            flush(&mut parts, &mut out);
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if c == '"' || c == '`' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == c)
                .map(|p| i + 1 + p);
            let Some(end) = end else { break };
            parts.push(chars[i + 1..end].iter().collect());
            i = end + 1;
            if chars.get(i) == Some(&'.') {
                i += 1;
            } else {
                flush(&mut parts, &mut out);
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            parts.push(chars[start..i].iter().collect());
            if chars.get(i) == Some(&'.') {
                i += 1;
            } else {
                flush(&mut parts, &mut out);
            }
        } else {
            flush(&mut parts, &mut out);
            i += 1;
        }
    }
    flush(&mut parts, &mut out);
    out
}

#[cfg(test)]
mod single_expression_tests {
    use super::single_expression;

    #[test]
    fn metrics_must_be_one_expression() {
        for ok in [
            "SUM(quantity * unit_price)",
            "COUNT(DISTINCT customer_id)",
            "SUM(CASE WHEN status = 'paid, final' THEN amount ELSE 0 END)",
            "AVG(amount) / NULLIF(COUNT(*), 0)",
            "SUM(x) FILTER (WHERE y > 0)",
            "COALESCE(SUM(a), 0)",
        ] {
            assert_eq!(single_expression(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("SUM(amount) AS x, COUNT(*)", "AS"),
            ("SUM(amount) FROM orders UNION SELECT MAX(amount)", "FROM"),
            ("SUM(amount) -- paid and open", "comments"),
            ("SUM(amount) /* x */", "comments"),
            ("SUM(amount); DROP TABLE t", ";"),
            ("SUM(amount), COUNT(*)", "comma"),
            ("SUM(amount", "unbalanced"),
            ("'open", "unterminated"),
            ("'a\\'' AS x, (SELECT 1), 'b\\''", "backslash"),
            ("SUM(x) # note", "`#`"),
            ("$$a$$", "`$`"),
        ] {
            let e = single_expression(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::ConnectionId;
    use querent_domain::schema::{ColumnInfo, TableKind};
    use querent_domain::semantic::{JoinCardinality, JoinSource, SemanticColumn, SemanticTable};

    fn col(name: &str) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: "integer".into(),
            nullable: false,
            default: None,
            comment: None,
            sample_values: vec![],
        }
    }

    fn table(schema: Option<&str>, name: &str, cols: &[&str]) -> TableInfo {
        TableInfo {
            schema: schema.map(str::to_owned),
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            columns: cols.iter().map(|c| col(c)).collect(),
            primary_key: vec!["id".into()],
            unique_constraints: vec![],
            foreign_keys: vec![],
            row_estimate: None,
        }
    }

    fn snapshot() -> SchemaSnapshot {
        let mut s = SchemaSnapshot {
            dialect: Dialect::Postgres,
            database: None,
            fingerprint: String::new(),
            taken_at: 0,
            tables: vec![
                table(Some("public"), "orders", &["id", "customer_id", "total"]),
                table(Some("public"), "customers", &["id", "name", "ssn"]),
                table(Some("public"), "salaries", &["id", "amount"]),
                table(Some("public"), "events", &["id"]),
                table(Some("audit"), "events", &["id"]),
            ],
        };
        s.normalize();
        s
    }

    fn scol(name: &str) -> SemanticColumn {
        SemanticColumn {
            column: name.into(),
            data_type: None,
            display_name: None,
            description: None,
            synonyms: vec![],
            values: vec![],
            value_mappings: vec![],
        }
    }

    fn stable(name: &str, cols: &[&str]) -> SemanticTable {
        SemanticTable {
            table: name.into(),
            display_name: None,
            description: None,
            synonyms: vec![],
            columns: cols.iter().map(|c| scol(c)).collect(),
        }
    }

    fn model() -> SemanticModel {
        SemanticModel {
            connection_id: ConnectionId::new(),
            version: 1,
            schema_fingerprint: String::new(),
            description: None,
            tables: vec![
                stable("customers", &["id", "name"]),
                stable("orders", &["id", "total"]),
            ],
            joins: vec![JoinPath {
                from_table: "orders".into(),
                from_columns: vec!["customer_id".into()],
                to_table: "customers".into(),
                to_columns: vec!["id".into()],
                cardinality: JoinCardinality::ManyToOne,
                source: JoinSource::ForeignKey,
            }],
            metrics: vec![Metric {
                name: "revenue".into(),
                description: None,
                expression: "SUM(orders.total)".into(),
                table: "orders".into(),
                synonyms: vec![],
            }],
            updated_at: 0,
        }
    }

    fn policy() -> PrivacyPolicy {
        PrivacyPolicy {
            excluded_tables: vec!["public.salaries".into()],
            excluded_columns: vec!["customers.ssn".into()],
            masked_column_patterns: vec!["*name*".into()],
            row_filters: Vec::new(),
        }
    }

    #[test]
    fn references_name_every_table_and_column_with_its_location() {
        let refs = references(&model());
        let listed: Vec<(String, String)> = refs
            .iter()
            .map(|r| (r.location.clone(), r.name()))
            .collect();
        let expect = [
            ("tables[0].table", "customers"),
            ("tables[0].columns[0].column", "customers.id"),
            ("tables[0].columns[1].column", "customers.name"),
            ("tables[1].table", "orders"),
            ("tables[1].columns[0].column", "orders.id"),
            ("tables[1].columns[1].column", "orders.total"),
            ("joins[0].from_table", "orders"),
            ("joins[0].from_columns[0]", "orders.customer_id"),
            ("joins[0].to_table", "customers"),
            ("joins[0].to_columns[0]", "customers.id"),
            ("metrics[0].table", "orders"),
        ];
        assert_eq!(
            listed,
            expect
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_sound_model_has_no_problems() {
        assert_eq!(check_model(&model(), &snapshot(), &policy()), vec![]);
    }

    #[test]
    fn problems_name_the_reference_its_location_and_a_suggestion() {
        let mut m = model();
        m.tables[1].columns[1].column = "totl".into();
        m.joins[0].to_table = "customer".into();
        m.tables.push(stable("salaries", &["amount"]));
        m.tables[0].columns.push(scol("ssn"));
        m.metrics[0].table = "events".into();
        let problems: Vec<String> = check_model(&m, &snapshot(), &policy())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "tables[0].columns[2].column: column \"customers.ssn\" is excluded by the connection's privacy policy",
                "tables[1].columns[1].column: column \"orders.totl\" does not exist (did you mean \"total\"?)",
                "tables[2].table: table \"salaries\" is excluded by the connection's privacy policy",
                "joins[0].to_table: table \"customer\" does not exist (did you mean \"customers\"?)",
                "metrics[0].table: table \"events\" exists in several schemas (audit, public); qualify it as schema.table",
            ]
        );
        // Qualified, it resolves.
        m.metrics[0].table = "audit.events".into();
        assert!(
            check_model(&m, &snapshot(), &policy())
                .iter()
                .all(|p| !p.location.starts_with("metrics"))
        );
    }

    #[test]
    fn shape_problems_are_reported() {
        let mut m = model();
        m.tables.push(stable("orders", &[]));
        m.tables[0].columns.push(scol("id"));
        m.joins[0].to_columns.push("name".into());
        m.metrics.push(Metric {
            name: "Revenue".into(),
            description: None,
            expression: " ".into(),
            table: "orders".into(),
            synonyms: vec![],
        });
        let locations: Vec<String> = check_model(&m, &snapshot(), &policy())
            .into_iter()
            .map(|p| p.location)
            .collect();
        assert_eq!(
            locations,
            [
                "tables[0].columns[2].column",
                "tables[2].table",
                "joins[0].to_columns",
                "metrics[1].name",
                "metrics[1].expression",
            ]
        );
    }

    #[test]
    fn masking_patterns_match_like_the_guard() {
        let t = table(Some("public"), "customers", &["email"]);
        let p = |pat: &str| PrivacyPolicy {
            masked_column_patterns: vec![pat.into()],
            ..Default::default()
        };
        assert!(column_masked(&p("*EMAIL*"), &t, "email"));
        assert!(column_masked(&p("customers.e*"), &t, "email"));
        assert!(column_masked(&p("public.*.email"), &t, "email"));
        assert!(!column_masked(&p("orders.email"), &t, "email"));
        assert!(!column_masked(&p("mail"), &t, "email"));
    }

    #[test]
    fn check_statements_quote_per_dialect_and_join_what_metrics_need() {
        let m = model();
        let j = join_check_sql(&m.joins[0], Dialect::Postgres);
        assert_eq!(
            j.sql,
            "SELECT 1 FROM \"orders\" AS j0 JOIN \"customers\" AS j1 ON j0.\"customer_id\" = j1.\"id\""
        );
        let j = join_check_sql(&m.joins[0], Dialect::Mysql);
        assert!(j.sql.contains("FROM `orders` AS j0"), "{}", j.sql);

        let simple = metric_check_sql(&m, &m.metrics[0], Dialect::Sqlite);
        assert_eq!(
            simple.sql,
            "SELECT\nSUM(orders.total)\nAS m FROM \"orders\""
        );
        assert_eq!(simple.tables, ["orders"]);

        let across = Metric {
            name: "names".into(),
            description: None,
            expression: "COUNT(DISTINCT \"customers\".name) + 0 * LENGTH('x.y')".into(),
            table: "orders".into(),
            synonyms: vec![],
        };
        let sql = metric_check_sql(&m, &across, Dialect::Postgres);
        assert_eq!(
            sql.sql,
            "SELECT\nCOUNT(DISTINCT \"customers\".name) + 0 * LENGTH('x.y')\nAS m FROM \"orders\" \
             JOIN \"customers\" ON \"orders\".\"customer_id\" = \"customers\".\"id\""
        );
        assert_eq!(sql.tables, ["orders", "customers"]);
    }

    #[test]
    fn qualifiers_skip_literals_and_take_the_table_part() {
        assert_eq!(
            qualifiers("SUM(public.order_items.qty * o.price) / COUNT('a.b')"),
            ["order_items", "o"]
        );
    }

    #[test]
    fn closest_suggests_only_plausible_names() {
        let c = |n: &str| closest(n, ["total", "customer_id"].iter().map(|s| s.to_string()));
        assert_eq!(c("totl").as_deref(), Some("total"));
        assert_eq!(c("TOTAL").as_deref(), Some("total"));
        assert_eq!(c("zzz"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    /// The statements pass the real guard when the model is sound, and a write or a
    /// smuggled table in a metric expression does not get through.
    #[test]
    fn the_guard_accepts_sound_statements_and_refuses_tricks() {
        let snap = snapshot();
        let schema = querent_sql::GuardSchema::from_snapshot(&snap);
        let policy = querent_sql::GuardPolicy::from_privacy(&policy(), 1);
        let m = model();
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let j = join_check_sql(&m.joins[0], dialect);
            querent_sql::validate(dialect, &j.sql, &schema, &policy)
                .unwrap_or_else(|e| panic!("{}: {e}", j.sql));
            let q = metric_check_sql(&m, &m.metrics[0], dialect);
            let ok = querent_sql::validate(dialect, &q.sql, &schema, &policy)
                .unwrap_or_else(|e| panic!("{}: {e}", q.sql));
            assert!(
                ok.tables().iter().all(|t| t.ends_with("orders")),
                "{:?}",
                ok.tables()
            );
        }
        let expr = |e: &str| Metric {
            name: "m".into(),
            description: None,
            expression: e.into(),
            table: "orders".into(),
            synonyms: vec![],
        };
        for bad in [
            "SUM(total); DROP TABLE orders",
            "SUM(totl)",
            "SUM(total) FROM orders; DELETE FROM orders --",
        ] {
            let q = metric_check_sql(&m, &expr(bad), Dialect::Postgres);
            assert!(
                querent_sql::validate(Dialect::Postgres, &q.sql, &schema, &policy).is_err(),
                "{bad}"
            );
        }
        // A comment cannot swallow the FROM clause; a subquery reads another table, which
        // the caller sees in the checked tables.
        let q = metric_check_sql(
            &m,
            &expr("(SELECT max(id) FROM customers) --"),
            Dialect::Postgres,
        );
        let checked = querent_sql::validate(Dialect::Postgres, &q.sql, &schema, &policy).unwrap();
        assert!(checked.tables().iter().any(|t| t.ends_with("customers")));
        assert_eq!(q.tables, ["orders"]);
    }
}
