//! Rendering a [`GenerateRequest`] into chat messages, within a token budget.
//!
//! The conversation has this shape:
//!
//! - a **system** message: the task, the dialect, the rules (exactly one read-only
//!   `SELECT`, the dialect's syntax, `LIMIT` at most `max_rows`, the SQL in a ```` ```sql ````
//!   fence, `CANNOT_TRANSLATE:` when the schema cannot answer) and the schema as
//!   `CREATE TABLE` statements — only the tables and columns the privacy policy allows, with
//!   types, `NOT NULL`, primary and foreign keys, comments and sampled values (never for
//!   masked columns);
//! - the session's earlier turns as alternating **user** (the question) and **assistant**
//!   (the SQL that answered it) messages, oldest first;
//! - a final **user** message with the question and, on self-correction, the refused SQL,
//!   the guard's or the database's error (with its "did you mean" suggestions) and a request
//!   for a corrected statement.
//!
//! Tokens are estimated with tiktoken's `cl100k_base` (exact for OpenAI's GPT-4 family, a
//! good-enough estimate for other models). When the estimate exceeds the
//! [`PromptBudget`], the prompt is trimmed in this order, stopping as soon as it fits:
//! sample values, then comments, then tables whose names and columns share no word with the
//! question (those not joined by a foreign key to a matching table first, the last ones
//! listed first), then the oldest history turns. What was trimmed is reported in
//! [`Prompt::trimmed`].

use std::collections::HashSet;
use std::sync::OnceLock;

use querent_domain::query::GenerateRequest;
use querent_domain::schema::{ColumnInfo, TableInfo, TableKind};
use querent_domain::{Dialect, PrivacyPolicy};
use serde::{Deserialize, Serialize};

/// Who speaks a chat message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions and context.
    System,
    /// The person asking.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The wire spelling (`system`, `user`, `assistant`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// How large a rendered prompt may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptBudget {
    /// Estimated prompt tokens (all messages, with per-message overhead) at most.
    pub max_prompt_tokens: usize,
}

impl Default for PromptBudget {
    fn default() -> Self {
        Self {
            max_prompt_tokens: 8_000,
        }
    }
}

/// What trimming removed to fit the budget.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    /// Sample values were left out.
    pub sample_values: bool,
    /// Table and column comments were left out.
    pub comments: bool,
    /// Tables left out (qualified names), in the order they were dropped.
    pub tables: Vec<String>,
    /// Oldest history turns left out.
    pub history_turns: usize,
}

impl Trimmed {
    /// Whether anything was left out.
    pub fn any(&self) -> bool {
        self.sample_values || self.comments || !self.tables.is_empty() || self.history_turns > 0
    }
}

/// A rendered prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// The messages: system first, then history, then the question.
    pub messages: Vec<ChatMessage>,
    /// Estimated tokens of the whole prompt (may still exceed the budget when even the
    /// fully trimmed prompt does not fit).
    pub estimated_tokens: usize,
    /// What was left out to fit the budget.
    pub trimmed: Trimmed,
}

impl Prompt {
    /// The system message's text.
    pub fn system(&self) -> &str {
        self.messages
            .iter()
            .find(|m| m.role == Role::System)
            .map_or("", |m| m.content.as_str())
    }

    /// The messages after the system message (history and question).
    pub fn conversation(&self) -> &[ChatMessage] {
        match self.messages.first() {
            Some(m) if m.role == Role::System => &self.messages[1..],
            _ => &self.messages,
        }
    }
}

/// Tokens per message for role and framing, as OpenAI documents for its chat models.
const PER_MESSAGE_TOKENS: usize = 4;
/// Tokens that prime the reply.
const REPLY_PRIMING_TOKENS: usize = 3;
/// Sample values shown per column at most.
const MAX_SAMPLES: usize = 12;
/// Characters shown per sample value at most.
const MAX_SAMPLE_CHARS: usize = 40;

fn bpe() -> &'static tiktoken_rs::CoreBPE {
    static BPE: OnceLock<tiktoken_rs::CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().expect("the embedded cl100k_base encoding loads"))
}

/// Tokens of a text in `cl100k_base`.
pub fn count_tokens(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    bpe().encode_ordinary(text).len()
}

/// Estimated prompt tokens of a conversation (content plus per-message overhead).
pub fn estimate_tokens(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|m| count_tokens(&m.content) + PER_MESSAGE_TOKENS)
        .sum::<usize>()
        + REPLY_PRIMING_TOKENS
}

/// The dialect's name as people write it.
pub fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
        Dialect::Sqlite => "SQLite",
    }
}

fn dialect_hints(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "double quotes for identifiers that need quoting, single quotes for strings, \
             ILIKE for case-insensitive matching, date_trunc() and interval arithmetic \
             (now() - interval '7 days') for dates"
        }
        Dialect::Mysql => {
            "backticks for identifiers that need quoting, single quotes for strings, \
             DATE_SUB(CURDATE(), INTERVAL 7 DAY) and DATE_FORMAT() for dates, no FULL OUTER JOIN"
        }
        Dialect::Sqlite => {
            "double quotes for identifiers that need quoting, single quotes for strings, \
             date('now', '-7 days') and strftime() for dates, LIKE (case-insensitive for \
             ASCII) instead of ILIKE"
        }
    }
}

/// How much detail a table block shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detail {
    Full,
    NoSamples,
    Bare,
}

/// A table as the prompt may show it: the policy already applied.
struct View<'a> {
    table: &'a TableInfo,
    qualified: String,
    columns: Vec<&'a ColumnInfo>,
    masked: Vec<bool>,
    /// Visible foreign keys: index into `table.foreign_keys` and the target's qualified name.
    foreign_keys: Vec<(usize, String)>,
    words: HashSet<String>,
}

/// Renders a request into chat messages within the budget.
pub fn render(request: &GenerateRequest, budget: &PromptBudget) -> Prompt {
    let policy = &request.policy;
    let tables: Vec<View<'_>> = visible_tables(request, policy);
    let question_words = words_of_question(&request.question);
    let scores: Vec<usize> = tables
        .iter()
        .map(|t| t.words.intersection(&question_words).count())
        .collect();

    let mut header = system_header(request);
    header.push_str("\n\nSchema:\n");
    let header_tokens = count_tokens(&header) + PER_MESSAGE_TOKENS + REPLY_PRIMING_TOKENS;
    let history: Vec<[ChatMessage; 2]> = request.history.iter().map(turn_messages).collect();
    let history_tokens: Vec<usize> = history
        .iter()
        .map(|pair| estimate_tokens(pair) - REPLY_PRIMING_TOKENS)
        .collect();
    let final_user = final_message(request);
    let final_tokens = count_tokens(&final_user) + PER_MESSAGE_TOKENS;
    let block_tokens = |detail: Detail| -> Vec<usize> {
        tables
            .iter()
            .map(|t| count_tokens(&format!("\n{}\n", table_block(t, detail))))
            .collect()
    };

    // Tables that may be dropped: those sharing no word with the question; those not
    // linked by a foreign key to a matching table first, the last listed first.
    let matching: HashSet<&str> = tables
        .iter()
        .zip(&scores)
        .filter(|(_, s)| **s > 0)
        .map(|(t, _)| t.qualified.as_str())
        .collect();
    // Linked: has a foreign key to a matching table, or a matching table has one to it.
    let mut linked = vec![false; tables.len()];
    let mut referenced_by_matching: HashSet<&str> = HashSet::new();
    for (t, score) in tables.iter().zip(&scores) {
        if *score > 0 {
            referenced_by_matching.extend(t.foreign_keys.iter().map(|(_, q)| q.as_str()));
        }
    }
    for (i, t) in tables.iter().enumerate() {
        linked[i] = referenced_by_matching.contains(t.qualified.as_str())
            || t.foreign_keys
                .iter()
                .any(|(_, target)| matching.contains(target.as_str()));
    }
    let mut drop_order: Vec<usize> = (0..tables.len()).filter(|i| scores[*i] == 0).collect();
    drop_order.sort_by_key(|i| (linked[*i], std::cmp::Reverse(*i)));

    let mut state = TrimState {
        detail: Detail::Full,
        table_tokens: block_tokens(Detail::Full),
        kept_sum: 0,
        kept: vec![true; tables.len()],
        dropped: 0,
        first_turn: 0,
    };
    state.kept_sum = state.table_tokens.iter().sum();
    // One more trimming step; false when nothing is left to trim.
    let step = |state: &mut TrimState| -> bool {
        match state.detail {
            Detail::Full | Detail::NoSamples => {
                state.detail = if state.detail == Detail::Full {
                    Detail::NoSamples
                } else {
                    Detail::Bare
                };
                state.table_tokens = block_tokens(state.detail);
                state.kept_sum = state
                    .table_tokens
                    .iter()
                    .zip(&state.kept)
                    .filter(|(_, k)| **k)
                    .map(|(t, _)| t)
                    .sum();
                return true;
            }
            Detail::Bare => {}
        }
        if let Some(&i) = drop_order.get(state.dropped) {
            state.kept[i] = false;
            state.kept_sum -= state.table_tokens[i];
            state.dropped += 1;
            return true;
        }
        if state.first_turn < history.len() {
            state.first_turn += 1;
            return true;
        }
        false
    };
    let approx = |state: &TrimState| -> usize {
        header_tokens
            + state.kept_sum
            + history_tokens[state.first_turn..].iter().sum::<usize>()
            + final_tokens
    };
    let max = budget.max_prompt_tokens;

    // Trim on the cheap per-part estimate first, then confirm on the whole prompt (token
    // boundaries between parts make the two differ slightly).
    while approx(&state) > max && step(&mut state) {}
    loop {
        let mut system = header.clone();
        let mut any = false;
        for (t, k) in tables.iter().zip(&state.kept) {
            if *k {
                system.push('\n');
                system.push_str(&table_block(t, state.detail));
                system.push('\n');
                any = true;
            }
        }
        if !any {
            system.push_str("\n(no tables are available)\n");
        }
        let mut messages = vec![ChatMessage::new(Role::System, system.trim_end())];
        for pair in &history[state.first_turn..] {
            messages.extend(pair.iter().cloned());
        }
        messages.push(ChatMessage::new(Role::User, final_user.clone()));
        let estimated_tokens = estimate_tokens(&messages);
        if estimated_tokens <= max || !step(&mut state) {
            let trimmed = Trimmed {
                sample_values: state.detail != Detail::Full,
                comments: state.detail == Detail::Bare,
                tables: drop_order[..state.dropped]
                    .iter()
                    .map(|i| tables[*i].qualified.clone())
                    .collect(),
                history_turns: state.first_turn,
            };
            return Prompt {
                messages,
                estimated_tokens,
                trimmed,
            };
        }
    }
}

/// Where trimming stands.
struct TrimState {
    detail: Detail,
    table_tokens: Vec<usize>,
    /// Sum of `table_tokens` over the kept tables.
    kept_sum: usize,
    kept: Vec<bool>,
    dropped: usize,
    first_turn: usize,
}

fn system_header(request: &GenerateRequest) -> String {
    let name = dialect_name(request.dialect);
    let max_rows = request.max_rows;
    format!(
        "You translate questions about a {name} database into SQL.\n\
         \n\
         Rules:\n\
         1. Answer with exactly one read-only SELECT statement (WITH ... SELECT is fine). \
         Never write INSERT, UPDATE, DELETE, MERGE, CREATE, ALTER, DROP, GRANT or any other \
         statement, and never more than one statement.\n\
         2. Write {name} syntax: {hints}.\n\
         3. Use only the tables and columns listed in the schema below.\n\
         4. Return at most {max_rows} rows: end the query with LIMIT {max_rows} or a smaller \
         limit, unless it returns a single aggregated row.\n\
         5. Put the SQL in one ```sql fenced code block, then write one sentence saying what \
         it does.\n\
         6. If the schema cannot answer the question, reply with `CANNOT_TRANSLATE:` followed \
         by the reason, and no SQL.",
        hints = dialect_hints(request.dialect),
    )
}

fn turn_messages(turn: &querent_domain::query::Turn) -> [ChatMessage; 2] {
    let answer = match &turn.sql {
        Some(sql) => format!("```sql\n{}\n```", sql.trim()),
        None => "I could not write SQL for that question.".to_owned(),
    };
    [
        ChatMessage::new(Role::User, turn.question.trim()),
        ChatMessage::new(Role::Assistant, answer),
    ]
}

fn final_message(request: &GenerateRequest) -> String {
    let question = request.question.trim();
    match &request.previous_error {
        None => question.to_owned(),
        Some((sql, error)) => format!(
            "{question}\n\n\
             Your previous answer to this question was:\n\
             ```sql\n{}\n```\n\
             It was refused with this error:\n\
             {}\n\n\
             Write a corrected SQL statement that answers the question. If the error \
             suggests alternatives (\"did you mean ...\"), use the one that fits the question.",
            sql.trim(),
            error.trim(),
        ),
    }
}

fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(s) => format!("{s}.{name}"),
        None => name.to_owned(),
    }
}

fn table_excluded(policy: &PrivacyPolicy, t: &TableInfo) -> bool {
    let q = qualified(t.schema.as_deref(), &t.name);
    policy
        .excluded_tables
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&t.name) || e.eq_ignore_ascii_case(&q))
}

fn column_excluded(policy: &PrivacyPolicy, schema: Option<&str>, table: &str, col: &str) -> bool {
    let short = format!("{table}.{col}");
    let long = format!("{}.{col}", qualified(schema, table));
    policy
        .excluded_columns
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&short) || e.eq_ignore_ascii_case(&long))
}

fn column_masked(policy: &PrivacyPolicy, t: &TableInfo, col: &str) -> bool {
    policy.masked_column_patterns.iter().any(|pattern| {
        let parts: Vec<&str> = pattern.split('.').collect();
        match parts.as_slice() {
            [c] => glob(c, col),
            [tp, c] => glob(tp, &t.name) && glob(c, col),
            [s, tp, c] => {
                glob(s, t.schema.as_deref().unwrap_or("")) && glob(tp, &t.name) && glob(c, col)
            }
            _ => false,
        }
    })
}

/// `*`-wildcard match, ASCII case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            back = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((bp, bt)) = back {
            pi = bp + 1;
            ti = bt + 1;
            back = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn visible_tables<'a>(request: &'a GenerateRequest, policy: &PrivacyPolicy) -> Vec<View<'a>> {
    let schema = &request.schema;
    let visible: Vec<&TableInfo> = schema
        .tables
        .iter()
        .filter(|t| !table_excluded(policy, t))
        .collect();
    let mut by_name: std::collections::HashMap<&str, Vec<&TableInfo>> =
        std::collections::HashMap::new();
    for t in &visible {
        by_name.entry(t.name.as_str()).or_default().push(t);
    }
    visible
        .iter()
        .map(|t| {
            let s = t.schema.as_deref();
            let columns: Vec<&ColumnInfo> = t
                .columns
                .iter()
                .filter(|c| !column_excluded(policy, s, &t.name, &c.name))
                .collect();
            let masked = columns
                .iter()
                .map(|c| column_masked(policy, t, &c.name))
                .collect();
            let visible_cols: HashSet<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            let foreign_keys = t
                .foreign_keys
                .iter()
                .enumerate()
                .filter(|(_, fk)| fk.columns.iter().all(|c| visible_cols.contains(c.as_str())))
                .filter_map(|(i, fk)| {
                    let target_schema = fk.referenced_schema.as_deref().or(s);
                    let target = by_name
                        .get(fk.referenced_table.as_str())?
                        .iter()
                        .find(|o| o.schema.as_deref() == target_schema || o.schema.is_none())?;
                    let ts = target.schema.as_deref();
                    fk.referenced_columns
                        .iter()
                        .all(|c| !column_excluded(policy, ts, &target.name, c))
                        .then(|| (i, qualified(ts, &target.name)))
                })
                .collect();
            let mut words = HashSet::new();
            words.extend(split_words(&t.name));
            for c in &columns {
                words.extend(split_words(&c.name));
            }
            View {
                table: t,
                qualified: qualified(s, &t.name),
                columns,
                masked,
                foreign_keys,
                words,
            }
        })
        .collect()
}

fn table_block(v: &View<'_>, detail: Detail) -> String {
    let t = v.table;
    let mut out = String::new();
    if detail != Detail::Bare
        && let Some(comment) = t.comment.as_deref().map(one_line).filter(|c| !c.is_empty())
    {
        out.push_str(&format!("-- {comment}\n"));
    }
    let kind = match t.kind {
        TableKind::Table => "TABLE",
        TableKind::View => "VIEW",
        TableKind::MaterializedView => "MATERIALIZED VIEW",
    };
    out.push_str(&format!("CREATE {kind} {} (\n", v.qualified));
    let mut items: Vec<(String, Option<String>)> = Vec::new();
    for (c, masked) in v.columns.iter().zip(&v.masked) {
        let mut def = format!("{} {}", c.name, c.data_type);
        if !c.nullable {
            def.push_str(" NOT NULL");
        }
        let mut notes = Vec::new();
        if detail != Detail::Bare
            && let Some(comment) = c.comment.as_deref().map(one_line).filter(|c| !c.is_empty())
        {
            notes.push(comment);
        }
        if detail == Detail::Full && !masked && !c.sample_values.is_empty() {
            let values: Vec<String> = c
                .sample_values
                .iter()
                .take(MAX_SAMPLES)
                .map(|v| format!("'{}'", sample(v)))
                .collect();
            let more = if c.sample_values.len() > MAX_SAMPLES {
                ", ..."
            } else {
                ""
            };
            notes.push(format!("values: {}{more}", values.join(", ")));
        }
        items.push((def, (!notes.is_empty()).then(|| notes.join("; "))));
    }
    let pk: Vec<&str> = t
        .primary_key
        .iter()
        .filter(|k| v.columns.iter().any(|c| &c.name == *k))
        .map(String::as_str)
        .collect();
    if !pk.is_empty() && pk.len() == t.primary_key.len() {
        items.push((format!("PRIMARY KEY ({})", pk.join(", ")), None));
    }
    for (i, target) in &v.foreign_keys {
        let fk = &t.foreign_keys[*i];
        items.push((
            format!(
                "FOREIGN KEY ({}) REFERENCES {target} ({})",
                fk.columns.join(", "),
                fk.referenced_columns.join(", ")
            ),
            None,
        ));
    }
    let n = items.len();
    for (i, (def, note)) in items.into_iter().enumerate() {
        out.push_str("  ");
        out.push_str(&def);
        if i + 1 < n {
            out.push(',');
        }
        if let Some(note) = note {
            out.push_str(" -- ");
            out.push_str(&note);
        }
        out.push('\n');
    }
    out.push_str(");");
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sample(value: &str) -> String {
    let flat = one_line(value).replace('\'', "''");
    if flat.chars().count() > MAX_SAMPLE_CHARS {
        let cut: String = flat.chars().take(MAX_SAMPLE_CHARS).collect();
        format!("{cut}...")
    } else {
        flat
    }
}

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "what", "which", "who", "whom", "how", "many", "much",
    "show", "list", "all", "each", "per", "are", "was", "were", "has", "have", "had", "that",
    "this", "these", "those", "there", "their", "give", "get", "find", "tell", "me", "by", "of",
    "in", "on", "to", "is", "a", "an", "or", "not", "do", "does", "did", "top", "most", "least",
    "than", "more", "less", "number", "count", "total", "average", "sum", "max", "min", "any",
    "every", "some", "them", "they", "our", "your", "its", "been", "be", "into", "over", "under",
    "between", "about", "last", "first", "please",
];

/// Lower-case words of an identifier (`customerOrders`, `order_items`), stemmed.
fn split_words(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in ident.chars() {
        if !ch.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_lowercase() || ch.is_numeric();
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

fn words_of_question(question: &str) -> HashSet<String> {
    question.split_whitespace().flat_map(split_words).collect()
}

/// A crude plural stemmer: enough to match `orders` with `order` and `categories` with
/// `category`.
fn stem(word: &str) -> String {
    if let Some(base) = word.strip_suffix("ies")
        && base.len() >= 2
    {
        return format!("{base}y");
    }
    if let Some(base) = word.strip_suffix("ses")
        && base.len() >= 3
    {
        return format!("{base}s");
    }
    if let Some(base) = word.strip_suffix('s')
        && base.len() >= 3
        && !base.ends_with('s')
    {
        return base.to_owned();
    }
    word.to_owned()
}

#[cfg(test)]
mod tests;
