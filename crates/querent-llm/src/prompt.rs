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
//! - when the request carries a semantic model, its business context next to each table it
//!   describes (and only for tables in the rendered schema, never for excluded objects): the
//!   table's name and description and synonyms as a comment line above the table, each
//!   column's name, description, synonyms and value mappings (`"Germany" means 'DE'`) as a
//!   comment on its line, the metrics computed from the table (`revenue = SUM(...)`) and the
//!   join paths from it that are not declared foreign keys as comment lines below it; the
//!   model's description of the database comes before the schema;
//! - when the request carries an assistant's instructions, an **Instructions** section of
//!   the system message after the database description, between `<<<INSTRUCTIONS` and
//!   `INSTRUCTIONS>>>` lines (they refine the answer; the rules above come first, and the
//!   guard checks the SQL whatever they say);
//! - when the request carries verified examples, a **Verified examples** section of the
//!   system message (question, then its SQL), most similar first. They are reference
//!   material, not conversation: rendered as prior user/assistant turns they would read as
//!   things this user already asked, so a follow-up ("and only in Germany?") could be
//!   resolved against an example instead of the real session;
//! - the session's earlier turns as alternating **user** (the question) and **assistant**
//!   (the SQL that answered it) messages, oldest first;
//! - a final **user** message with the question and, on self-correction, the refused SQL,
//!   the guard's or the database's error (with its "did you mean" suggestions) and a request
//!   for a corrected statement.
//!
//! Tokens are estimated with tiktoken's `cl100k_base` (exact for OpenAI's GPT-4 family, a
//! good-enough estimate for other models). When the estimate exceeds the
//! [`PromptBudget`], the prompt is trimmed in this order, stopping as soon as it fits:
//! sample values, then comments (with the model's descriptions, display names and
//! synonyms), then tables whose names and columns share no word with the question (those
//! not joined by a foreign key to a matching table first, the last ones listed first), then
//! the examples (the least similar first), then the oldest history turns. Value mappings,
//! metrics and join paths stay as long as their table does: they decide which literal or
//! expression the SQL must use. What was trimmed is reported in [`Prompt::trimmed`].

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use querent_domain::query::GenerateRequest;
use querent_domain::schema::{ColumnInfo, TableInfo, TableKind};
use querent_domain::semantic::{FewShot, Metric, SemanticColumn, SemanticModel, SemanticTable};
use querent_domain::{Dialect, PrivacyPolicy, text};
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
    /// Table and column comments were left out, with the semantic model's descriptions,
    /// display names and synonyms.
    pub comments: bool,
    /// Tables left out (qualified names), in the order they were dropped.
    pub tables: Vec<String>,
    /// Verified examples left out (the least similar ones).
    pub examples: usize,
    /// Oldest history turns left out.
    pub history_turns: usize,
}

impl Trimmed {
    /// Whether anything was left out.
    pub fn any(&self) -> bool {
        self.sample_values
            || self.comments
            || !self.tables.is_empty()
            || self.examples > 0
            || self.history_turns > 0
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
/// Characters shown of a model description at most.
const MAX_DESCRIPTION_CHARS: usize = 300;
/// Synonyms shown per table or column at most.
const MAX_SYNONYMS: usize = 8;
/// Value mappings shown per column at most.
const MAX_MAPPINGS: usize = 20;

fn bpe() -> &'static tiktoken_rs::CoreBPE {
    static BPE: OnceLock<tiktoken_rs::CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().expect("the embedded cl100k_base encoding loads"))
}

/// Texts at least this long have their token count remembered (see [`count_tokens`]).
const MEMO_MIN_BYTES: usize = 256;
/// Counts remembered at most; the memo starts over when full.
const MEMO_MAX_ENTRIES: usize = 4_096;

/// Token counts of long texts already counted, by (length, hash of the text).
fn memo() -> &'static Mutex<HashMap<(usize, u64), usize>> {
    static MEMO: OnceLock<Mutex<HashMap<(usize, u64), usize>>> = OnceLock::new();
    MEMO.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Tokens of a text in `cl100k_base`. The counts of long texts are remembered: the schema's
/// table blocks and the system message come back unchanged from one question to the next,
/// and counting them again was most of a cache miss's CPU time (issue 19).
pub fn count_tokens(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    if text.len() < MEMO_MIN_BYTES {
        return bpe().encode_ordinary(text).len();
    }
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        (text.len(), h.finish())
    };
    let lock = || {
        memo()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(n) = lock().get(&key) {
        return *n;
    }
    let n = bpe().encode_ordinary(text).len();
    let mut memo = lock();
    if memo.len() >= MEMO_MAX_ENTRIES {
        memo.clear();
    }
    memo.insert(key, n);
    n
}

/// Estimated prompt tokens of a conversation (content plus per-message overhead).
pub fn estimate_tokens(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|m| count_tokens(&m.content) + PER_MESSAGE_TOKENS)
        .sum::<usize>()
        + REPLY_PRIMING_TOKENS
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
    /// The index of each of `columns` in `table.columns`.
    column_indices: Vec<usize>,
    masked: Vec<bool>,
    /// Visible foreign keys: index into `table.foreign_keys` and the target's qualified name.
    foreign_keys: Vec<(usize, String)>,
    /// The words a question may share with it (kept between requests, see [`lock_words`]).
    words: Arc<HashSet<String>>,
    /// What the semantic model says about the table, if anything.
    sem: Option<&'a SemanticTable>,
    /// What the semantic model says about each visible column (parallel to `columns`).
    sem_columns: Vec<Option<&'a SemanticColumn>>,
    /// Metrics computed from this table that reference nothing excluded.
    metrics: Vec<&'a Metric>,
    /// Join paths from this table that are not declared foreign keys, rendered.
    joins: Vec<String>,
    /// Where its block is kept between requests (see [`table_block`]); `None` when the
    /// snapshot has no fingerprint.
    block_slot: Option<u64>,
}

/// Renders a request into chat messages within the budget.
#[allow(clippy::too_many_lines)] // the prompt's sections in order, trimmed to the budget
pub fn render(request: &GenerateRequest, budget: &PromptBudget) -> Prompt {
    let policy = &request.policy;
    let tables: Vec<View<'_>> = visible_tables(request, policy);
    let question_words = words_of_question(&request.question);
    let scores: Vec<usize> = tables
        .iter()
        .map(|t| t.words.intersection(&question_words).count())
        .collect();

    let mut header = system_header(request);
    if let Some(about) = request
        .semantic
        .as_deref()
        .and_then(|m| m.description.as_deref())
        .map(description)
        .filter(|d| !d.is_empty())
    {
        header.push_str(&format!("\n\nAbout the database: {about}"));
    }
    if let Some(text) = request
        .instructions
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        header.push_str(&format!(
            "\n\n{INSTRUCTIONS_HEADER}\n<<<INSTRUCTIONS\n{text}\nINSTRUCTIONS>>>"
        ));
    }
    header.push_str("\n\nSchema:\n");
    let examples: Vec<String> = request
        .examples
        .iter()
        .filter(|e| example_allowed(e, policy))
        .map(example_block)
        .collect();
    let example_tokens: Vec<usize> = examples
        .iter()
        .map(|e| count_tokens(&format!("\n{e}\n")))
        .collect();
    let examples_header_tokens = count_tokens(EXAMPLES_HEADER);
    let header_tokens = count_tokens(&header) + PER_MESSAGE_TOKENS + REPLY_PRIMING_TOKENS;
    let history: Vec<[ChatMessage; 2]> = request.history.iter().map(turn_messages).collect();
    let history_tokens: Vec<usize> = history
        .iter()
        .map(|pair| estimate_tokens(pair) - REPLY_PRIMING_TOKENS)
        .collect();
    let final_user = final_message(request);
    let final_tokens = count_tokens(&final_user) + PER_MESSAGE_TOKENS;
    // Each table's block as the system message holds it (`\n{block}\n`), rendered once
    // per trim level, with its tokens.
    let blocks = |detail: Detail| -> (Vec<String>, Vec<usize>) {
        tables.iter().map(|t| table_block(t, detail)).unzip()
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

    let (full_blocks, full_tokens) = blocks(Detail::Full);
    let mut state = TrimState {
        detail: Detail::Full,
        blocks: full_blocks,
        table_tokens: full_tokens,
        kept_sum: 0,
        kept: vec![true; tables.len()],
        dropped: 0,
        examples: examples.len(),
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
                (state.blocks, state.table_tokens) = blocks(state.detail);
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
        if state.examples > 0 {
            state.examples -= 1;
            return true;
        }
        if state.first_turn < history.len() {
            state.first_turn += 1;
            return true;
        }
        false
    };
    let approx = |state: &TrimState| -> usize {
        let examples_sum = if state.examples > 0 {
            examples_header_tokens + example_tokens[..state.examples].iter().sum::<usize>()
        } else {
            0
        };
        header_tokens
            + state.kept_sum
            + examples_sum
            + history_tokens[state.first_turn..].iter().sum::<usize>()
            + final_tokens
    };
    let max = budget.max_prompt_tokens;

    // Trim on the cheap per-part estimate first, then confirm on the whole prompt (token
    // boundaries between parts make the two differ slightly).
    while approx(&state) > max && step(&mut state) {}
    loop {
        let kept_blocks = || {
            state
                .blocks
                .iter()
                .zip(&state.kept)
                .filter(|(_, k)| **k)
                .map(|(b, _)| b)
        };
        let mut system = String::with_capacity(
            header.len()
                + kept_blocks().map(String::len).sum::<usize>()
                + examples.iter().map(|e| e.len() + 2).sum::<usize>()
                + EXAMPLES_HEADER.len()
                + 32,
        );
        system.push_str(&header);
        let mut any = false;
        for block in kept_blocks() {
            system.push_str(block);
            any = true;
        }
        if !any {
            system.push_str("\n(no tables are available)\n");
        }
        if state.examples > 0 {
            system.push_str(EXAMPLES_HEADER);
            for e in &examples[..state.examples] {
                system.push('\n');
                system.push_str(e);
                system.push('\n');
            }
        }
        system.truncate(system.trim_end().len());
        let mut messages = Vec::with_capacity(2 + 2 * (history.len() - state.first_turn));
        messages.push(ChatMessage::new(Role::System, system));
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
                examples: examples.len() - state.examples,
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
    /// Each table's block at `detail` (`\n{block}\n`).
    blocks: Vec<String>,
    table_tokens: Vec<usize>,
    /// Sum of `table_tokens` over the kept tables.
    kept_sum: usize,
    kept: Vec<bool>,
    dropped: usize,
    /// Examples kept (the first ones, most similar first).
    examples: usize,
    first_turn: usize,
}

/// The heading of an assistant's instructions section (its text follows between
/// `<<<INSTRUCTIONS` and `INSTRUCTIONS>>>` lines).
const INSTRUCTIONS_HEADER: &str = "Instructions for this assistant (they say how to answer; \
                                   the rules above still apply and come first):";

/// The heading of the examples section.
const EXAMPLES_HEADER: &str = "\nVerified examples (questions about this database with SQL \
                               that answers them correctly, most similar first):\n";

fn example_block(example: &FewShot) -> String {
    format!(
        "Question: {}\n```sql\n{}\n```",
        one_line(&example.question),
        example.sql.trim()
    )
}

/// Whether an example's SQL names nothing the policy excludes (examples passed the guard
/// when stored, but the policy may have changed since), and writes no literal where it
/// names a masked column (`WHERE email = 'ann@…'` or `salary > 100000` would show the
/// provider a masked value). Masked columns are matched by name against the patterns
/// alone — the prompt's schema is only the linked subset — so a bare column name matching
/// any pattern counts.
fn example_allowed(example: &FewShot, policy: &PrivacyPolicy) -> bool {
    let words = sql_identifiers(&example.sql);
    if mentions_excluded(&words, None, policy) {
        return false;
    }
    if policy.masked_column_patterns.is_empty() || !has_literal(&example.sql) {
        return true;
    }
    !words.iter().any(|w| masked_name(policy, w))
}

/// Whether SQL text holds a string or numeric literal.
fn has_literal(sql: &str) -> bool {
    sql.contains('\'')
        || sql
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|t| t.starts_with(|c: char| c.is_ascii_digit()))
}

/// Whether an identifier (`col`, `t.col`, `alias.col`) may name a masked column: its last
/// part matches the column part of a pattern (tables cannot be told from aliases here, so
/// `orders.email` also catches `o.email` and `c.email`: cautious on purpose).
fn masked_name(policy: &PrivacyPolicy, word: &str) -> bool {
    let col = word.rsplit('.').next().unwrap_or(word);
    policy
        .masked_column_patterns
        .iter()
        .any(|pattern| glob(pattern.rsplit('.').next().unwrap_or(pattern), col))
}

/// Lower-cased identifiers of a SQL text, split at dots (`s.t.c` → `s`, `t`, `c`), with the
/// dotted forms too (`t.c`).
fn sql_identifiers(sql: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let lower = sql.to_lowercase();
    for token in lower.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')) {
        let token = token.trim_matches('.');
        if token.is_empty() {
            continue;
        }
        let parts: Vec<&str> = token.split('.').filter(|p| !p.is_empty()).collect();
        for p in &parts {
            out.insert((*p).to_owned());
        }
        if parts.len() >= 2 {
            out.insert(parts[parts.len() - 2..].join("."));
        }
        out.insert(token.to_owned());
    }
    out
}

/// Whether these identifiers name an excluded table, or an excluded column (`table.col`
/// written out, or the bare column when `home` is the excluded column's table).
fn mentions_excluded(words: &HashSet<String>, home: Option<&str>, policy: &PrivacyPolicy) -> bool {
    let excluded_table = policy.excluded_tables.iter().any(|e| {
        let e = e.to_lowercase();
        let bare = e.rsplit('.').next().unwrap_or(&e).to_owned();
        words.contains(&e) || words.contains(&bare)
    });
    excluded_table
        || policy.excluded_columns.iter().any(|e| {
            let e = e.to_lowercase();
            let parts: Vec<&str> = e.split('.').collect();
            let (table, column) = match parts.as_slice() {
                [.., t, c] => (*t, *c),
                _ => return false,
            };
            words.contains(&format!("{table}.{column}"))
                || (words.contains(column)
                    && (words.contains(table)
                        || home.is_some_and(|h| h.eq_ignore_ascii_case(table))))
        })
}

fn system_header(request: &GenerateRequest) -> String {
    let name = request.dialect.display_name();
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
    if policy.excluded_columns.is_empty() {
        return false;
    }
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
    let model_key = request
        .semantic
        .as_deref()
        .map(|m| (m.connection_id, m.version, m.updated_at));
    let policy_key = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        policy.excluded_tables.hash(&mut h);
        policy.excluded_columns.hash(&mut h);
        h.finish()
    };
    // Where a table's block is kept: only to find it again (what decides whether it is
    // used is the comparison in `table_block`).
    let block_slot = |qualified: &str| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        schema.fingerprint.hash(&mut h);
        schema.database.hash(&mut h);
        qualified.hash(&mut h);
        model_key.hash(&mut h);
        policy_key.hash(&mut h);
        policy.masked_column_patterns.hash(&mut h);
        h.finish()
    };
    visible
        .iter()
        .map(|t| {
            let s = t.schema.as_deref();
            let column_indices: Vec<usize> = t
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| !column_excluded(policy, s, &t.name, &c.name))
                .map(|(i, _)| i)
                .collect();
            let columns: Vec<&ColumnInfo> = column_indices.iter().map(|i| &t.columns[*i]).collect();
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
            let model = request.semantic.as_deref();
            let sem = model.and_then(|m| semantic_table(m, t));
            let sem_columns: Vec<Option<&SemanticColumn>> = columns
                .iter()
                .map(|c| {
                    sem.and_then(|st| {
                        st.columns
                            .iter()
                            .find(|sc| sc.column.eq_ignore_ascii_case(&c.name))
                    })
                })
                .collect();
            let metrics: Vec<&Metric> = model
                .map(|m| {
                    m.metrics
                        .iter()
                        .filter(|metric| names_table(&metric.table, t))
                        .filter(|metric| {
                            // Nothing excluded: nothing to look for in the expression.
                            (policy.excluded_tables.is_empty()
                                && policy.excluded_columns.is_empty())
                                || !mentions_excluded(
                                    &sql_identifiers(&metric.expression),
                                    Some(&t.name),
                                    policy,
                                )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let qualified = qualified(s, &t.name);
            let key = (!schema.fingerprint.is_empty()).then(|| WordsKey {
                fingerprint: schema.fingerprint.clone(),
                database: schema.database.clone(),
                table: qualified.clone(),
                model: model_key,
                policy: policy_key,
            });
            let known = key.as_ref().and_then(|k| lock_words().get(k).cloned());
            let words = known.unwrap_or_else(|| {
                let words = Arc::new(table_words(t, &columns, sem, &sem_columns, &metrics));
                if let Some(key) = key {
                    let mut kept = lock_words();
                    if kept.len() >= WORDS_MAX_ENTRIES {
                        kept.clear();
                    }
                    kept.insert(key, Arc::clone(&words));
                }
                words
            });
            let joins = model
                .map(|m| manual_joins(m, t, &visible, policy))
                .unwrap_or_default();
            let block_slot = (!schema.fingerprint.is_empty()).then(|| block_slot(&qualified));
            View {
                table: t,
                qualified,
                columns,
                column_indices,
                masked,
                foreign_keys,
                words,
                sem,
                sem_columns,
                metrics,
                joins,
                block_slot,
            }
        })
        .collect()
}

/// A table's block as [`write_table_block`] writes it at each level of detail, kept with
/// a copy of everything it is written from: the table as the snapshot has it (columns with
/// their types, comments and sample values, keys), the columns the policy lets it show and
/// which of them are masked, its visible foreign keys and their targets, what the semantic
/// model says about it and each shown column, its metrics and its join lines. A kept block
/// is used only when every one of these equals the request's — compared, not hashed — so a
/// changed sample, comment, mask or exclusion, a column dropped by linking or a join whose
/// table is no longer shown writes the block again.
struct KeptBlock {
    table: TableInfo,
    qualified: String,
    column_indices: Vec<usize>,
    masked: Vec<bool>,
    foreign_keys: Vec<(usize, String)>,
    sem: Option<SemanticTable>,
    sem_columns: Vec<Option<SemanticColumn>>,
    metrics: Vec<Metric>,
    joins: Vec<String>,
    /// The block (`\n{block}\n`) and its tokens, per [`Detail`] (full, without samples,
    /// bare), once written.
    texts: [Option<(String, usize)>; 3],
}

impl KeptBlock {
    /// An entry for what `v` shows, with no text yet.
    fn of(v: &View<'_>) -> Self {
        // Every field of the view but its words (which no block shows) and where it is
        // kept: a field added to `View` must be added here (or this stops compiling).
        let View {
            table,
            qualified,
            columns: _,
            column_indices,
            masked,
            foreign_keys,
            words: _,
            sem,
            sem_columns,
            metrics,
            joins,
            block_slot: _,
        } = v;
        Self {
            table: (*table).clone(),
            qualified: qualified.clone(),
            column_indices: column_indices.clone(),
            masked: masked.clone(),
            foreign_keys: foreign_keys.clone(),
            sem: sem.cloned(),
            sem_columns: sem_columns.iter().map(|c| c.cloned()).collect(),
            metrics: metrics.iter().map(|m| (*m).clone()).collect(),
            joins: joins.clone(),
            texts: [None, None, None],
        }
    }

    /// Whether `v` shows exactly what this entry was written from (`columns` are the
    /// table's columns at `column_indices`, so comparing the indices and the table covers
    /// them).
    fn shows(&self, v: &View<'_>) -> bool {
        let View {
            table,
            qualified,
            columns: _,
            column_indices,
            masked,
            foreign_keys,
            words: _,
            sem,
            sem_columns,
            metrics,
            joins,
            block_slot: _,
        } = v;
        self.table == **table
            && self.qualified == *qualified
            && self.column_indices == *column_indices
            && self.masked == *masked
            && self.foreign_keys == *foreign_keys
            && self.sem.as_ref() == *sem
            && self.sem_columns.len() == sem_columns.len()
            && self
                .sem_columns
                .iter()
                .zip(sem_columns)
                .all(|(kept, c)| kept.as_ref() == *c)
            && self.metrics.len() == metrics.len()
            && self.metrics.iter().zip(metrics).all(|(kept, m)| kept == *m)
            && self.joins == *joins
    }
}

/// Tables whose blocks are kept at most; they start over when full.
const BLOCKS_MAX_ENTRIES: usize = 1_024;

/// The tables' blocks already written (see [`KeptBlock`]): writing every table's block on
/// every request was two fifths of a cache miss's instructions (issue 19). Kept only for
/// fingerprinted snapshots.
fn lock_blocks() -> std::sync::MutexGuard<'static, HashMap<u64, KeptBlock>> {
    static BLOCKS: OnceLock<Mutex<HashMap<u64, KeptBlock>>> = OnceLock::new();
    BLOCKS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A table's block as the system message holds it (`\n{block}\n`), with its tokens: the
/// kept one when the table shows exactly what it was written from, else written (and
/// kept).
fn table_block(v: &View<'_>, detail: Detail) -> (String, usize) {
    let level = match detail {
        Detail::Full => 0,
        Detail::NoSamples => 1,
        Detail::Bare => 2,
    };
    if let Some(slot) = v.block_slot
        && let Some(kept) = lock_blocks().get(&slot)
        && let Some((text, tokens)) = &kept.texts[level]
        && kept.shows(v)
    {
        return (text.clone(), *tokens);
    }
    let mut text = String::from("\n");
    write_table_block(&mut text, v, detail);
    text.push('\n');
    let tokens = count_tokens(&text);
    if let Some(slot) = v.block_slot {
        let mut kept = lock_blocks();
        match kept.get_mut(&slot) {
            Some(entry) if entry.shows(v) => entry.texts[level] = Some((text.clone(), tokens)),
            _ => {
                if kept.len() >= BLOCKS_MAX_ENTRIES {
                    kept.clear();
                }
                let mut entry = KeptBlock::of(v);
                entry.texts[level] = Some((text.clone(), tokens));
                kept.insert(slot, entry);
            }
        }
    }
    (text, tokens)
}

/// What a table's words are kept by: the snapshot's structure (its fingerprint covers
/// every table's name and columns), the table, the semantic model's version and what the
/// policy excludes (it hides columns and metrics). Masking changes no word.
#[derive(PartialEq, Eq, Hash)]
struct WordsKey {
    fingerprint: String,
    database: Option<String>,
    /// The qualified table name.
    table: String,
    /// The model's connection, version and save time.
    model: Option<(
        querent_domain::ConnectionId,
        u32,
        querent_domain::UnixMillis,
    )>,
    /// A hash of the excluded tables and columns.
    policy: u64,
}

/// Tables whose words are kept at most; they start over when full.
const WORDS_MAX_ENTRIES: usize = 1_024;

/// The words of the tables already rendered (see [`table_words`]): splitting, stopping and
/// singularising every table's and column's name on every request was a good part of a
/// cache miss's prompt (issue 19). Kept only for fingerprinted snapshots.
fn lock_words() -> std::sync::MutexGuard<'static, HashMap<WordsKey, Arc<HashSet<String>>>> {
    static WORDS: OnceLock<Mutex<HashMap<WordsKey, Arc<HashSet<String>>>>> = OnceLock::new();
    WORDS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The words a question may share with a table (its score): of its name, its visible
/// columns, the model's display names and synonyms of both, and the names and synonyms of
/// its metrics.
fn table_words(
    t: &TableInfo,
    columns: &[&ColumnInfo],
    sem: Option<&SemanticTable>,
    sem_columns: &[Option<&SemanticColumn>],
    metrics: &[&Metric],
) -> HashSet<String> {
    let mut words = HashSet::new();
    words.extend(split_words(&t.name));
    for c in columns {
        words.extend(split_words(&c.name));
    }
    if let Some(st) = sem {
        for name in st.display_name.iter().chain(&st.synonyms) {
            words.extend(split_words(name));
        }
    }
    for sc in sem_columns.iter().flatten() {
        for name in sc.display_name.iter().chain(&sc.synonyms) {
            words.extend(split_words(name));
        }
    }
    for metric in metrics {
        words.extend(split_words(&metric.name));
        for syn in &metric.synonyms {
            words.extend(split_words(syn));
        }
    }
    words
}

/// Whether a model's table reference (`schema.table` or `table`) names `t` (ASCII
/// case-insensitively; compared in place rather than against a formatted qualified name,
/// since it runs for every metric, join and model table against every table shown).
fn names_table(reference: &str, t: &TableInfo) -> bool {
    if reference.eq_ignore_ascii_case(&t.name) {
        return true;
    }
    let Some(schema) = t.schema.as_deref() else {
        return false;
    };
    reference.len() == schema.len() + 1 + t.name.len()
        && reference
            .get(..schema.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(schema))
        && reference.as_bytes()[schema.len()] == b'.'
        && reference
            .get(schema.len() + 1..)
            .is_some_and(|n| n.eq_ignore_ascii_case(&t.name))
}

/// What the model says about `t`.
fn semantic_table<'m>(model: &'m SemanticModel, t: &TableInfo) -> Option<&'m SemanticTable> {
    model.tables.iter().find(|st| names_table(&st.table, t))
}

/// The model's join paths from `t` to another visible table that are not declared foreign
/// keys of either side, over columns the policy allows, rendered as comment lines.
fn manual_joins(
    model: &SemanticModel,
    t: &TableInfo,
    visible: &[&TableInfo],
    policy: &PrivacyPolicy,
) -> Vec<String> {
    let mut out = Vec::new();
    for j in &model.joins {
        if !names_table(&j.from_table, t)
            || j.from_columns.is_empty()
            || j.from_columns.len() != j.to_columns.len()
        {
            continue;
        }
        let Some(target) = visible.iter().find(|o| names_table(&j.to_table, o)) else {
            continue;
        };
        let has = |table: &TableInfo, cols: &[String]| {
            cols.iter().all(|c| {
                table.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c))
                    && !column_excluded(policy, table.schema.as_deref(), &table.name, c)
            })
        };
        if !has(t, &j.from_columns) || !has(target, &j.to_columns) {
            continue;
        }
        let declared = |from: &TableInfo, fc: &[String], to: &TableInfo, tc: &[String]| {
            from.foreign_keys.iter().any(|fk| {
                fk.referenced_table.eq_ignore_ascii_case(&to.name)
                    && fk.columns.len() == fc.len()
                    && fk
                        .columns
                        .iter()
                        .zip(fc)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))
                    && fk
                        .referenced_columns
                        .iter()
                        .zip(tc)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))
            })
        };
        if declared(t, &j.from_columns, target, &j.to_columns)
            || declared(target, &j.to_columns, t, &j.from_columns)
        {
            continue;
        }
        let on: Vec<String> = j
            .from_columns
            .iter()
            .zip(&j.to_columns)
            .map(|(a, b)| format!("{}.{a} = {}.{b}", t.name, target.name))
            .collect();
        let line = format!(
            "-- join: {} ON {} (not a declared foreign key)",
            qualified(target.schema.as_deref(), &target.name),
            on.join(" AND ")
        );
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// A model description on one line, cut to [`MAX_DESCRIPTION_CHARS`].
fn description(text: &str) -> String {
    let flat = one_line(text);
    if flat.chars().count() > MAX_DESCRIPTION_CHARS {
        let cut: String = flat.chars().take(MAX_DESCRIPTION_CHARS).collect();
        format!("{cut}...")
    } else {
        flat
    }
}

/// `also called: a, b` for the synonyms, or nothing.
fn synonyms_note(synonyms: &[String]) -> Option<String> {
    let names: Vec<String> = synonyms
        .iter()
        .map(|s| one_line(s))
        .filter(|s| !s.is_empty())
        .take(MAX_SYNONYMS)
        .collect();
    (!names.is_empty()).then(|| format!("also called: {}", names.join(", ")))
}

/// The model's words about a table or column, for the comment on it: display name,
/// description, synonyms.
fn model_notes(
    display_name: Option<&str>,
    description_text: Option<&str>,
    synonyms: &[String],
    name: &str,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(d) = display_name
        .map(one_line)
        .filter(|d| !d.is_empty() && !same_words(d, name) && !d.eq_ignore_ascii_case(name))
    {
        notes.push(format!("\"{d}\""));
    }
    if let Some(d) = description_text.map(description).filter(|d| !d.is_empty()) {
        notes.push(d);
    }
    notes.extend(synonyms_note(synonyms));
    notes
}

/// Pairs of names [`same_words`] keeps at most; they start over when full.
const SAME_WORDS_MAX_ENTRIES: usize = 4_096;

/// Whether two names have the same words ([`split_words`]), remembered per pair: a table's
/// and each column's display name is compared with its name on every cache miss, and
/// splitting, stopping and singularising both was a tenth of the miss (issue 19).
fn same_words(a: &str, b: &str) -> bool {
    static SAME: OnceLock<Mutex<HashMap<(String, String), bool>>> = OnceLock::new();
    let lock = || {
        SAME.get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let key = (a.to_owned(), b.to_owned());
    if let Some(&same) = lock().get(&key) {
        return same;
    }
    let same = split_words(a) == split_words(b);
    let mut kept = lock();
    if kept.len() >= SAME_WORDS_MAX_ENTRIES {
        kept.clear();
    }
    kept.insert(key, same);
    same
}

/// Appends a table's block (its comment line, `CREATE TABLE`, metric and join lines) to
/// `out`.
fn write_table_block(out: &mut String, v: &View<'_>, detail: Detail) {
    let t = v.table;
    if detail != Detail::Bare {
        let mut notes: Vec<String> = t
            .comment
            .as_deref()
            .map(one_line)
            .filter(|c| !c.is_empty())
            .into_iter()
            .collect();
        if let Some(st) = v.sem {
            notes.extend(model_notes(
                st.display_name.as_deref(),
                st.description.as_deref(),
                &st.synonyms,
                &t.name,
            ));
        }
        if !notes.is_empty() {
            let _ = writeln!(out, "-- {}", notes.join("; "));
        }
    }
    let kind = match t.kind {
        TableKind::Table => "TABLE",
        TableKind::View => "VIEW",
        TableKind::MaterializedView => "MATERIALIZED VIEW",
    };
    let _ = writeln!(out, "CREATE {kind} {} (", v.qualified);
    let mut items: Vec<(String, Option<String>)> = Vec::new();
    for ((c, masked), sc) in v.columns.iter().zip(&v.masked).zip(&v.sem_columns) {
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
        if detail != Detail::Bare
            && let Some(sc) = sc
        {
            notes.extend(model_notes(
                sc.display_name.as_deref(),
                sc.description.as_deref(),
                &sc.synonyms,
                &c.name,
            ));
        }
        if !masked && let Some(sc) = sc {
            let mappings: Vec<String> = sc
                .value_mappings
                .iter()
                .filter(|m| !m.phrase.trim().is_empty())
                .take(MAX_MAPPINGS)
                .map(|m| format!("\"{}\" means '{}'", one_line(&m.phrase), sample(&m.value)))
                .collect();
            if !mappings.is_empty() {
                notes.push(mappings.join(", "));
            }
        }
        // The model's value list stands in for samples the snapshot does not have.
        let values_shown: &[String] = match sc {
            Some(sc) if c.sample_values.is_empty() => &sc.values,
            _ => &c.sample_values,
        };
        if detail == Detail::Full && !masked && !values_shown.is_empty() {
            let values: Vec<String> = values_shown
                .iter()
                .take(MAX_SAMPLES)
                .map(|v| format!("'{}'", sample(v)))
                .collect();
            let more = if values_shown.len() > MAX_SAMPLES {
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
    for m in &v.metrics {
        let mut line = format!("\n-- metric {}", one_line(&m.name));
        if let Some(syn) = synonyms_note(&m.synonyms).filter(|_| detail != Detail::Bare) {
            line.push_str(&format!(" ({syn})"));
        }
        line.push_str(&format!(" = {}", one_line(&m.expression)));
        if detail != Detail::Bare
            && let Some(d) = m
                .description
                .as_deref()
                .map(description)
                .filter(|d| !d.is_empty())
        {
            line.push_str(&format!(": {d}"));
        }
        out.push_str(&line);
    }
    for j in &v.joins {
        out.push('\n');
        out.push_str(j);
    }
}

/// The text's words separated by single spaces. Most texts (names, comments, sample values)
/// already are: they are copied as they are instead of being split into a list of words and
/// joined again (a tenth of a cache miss's instructions, issue 19).
fn one_line(text: &str) -> String {
    // Already one line: no whitespace but single spaces between words.
    let mut after_space = true;
    let plain = text.chars().all(|c| {
        let ok = if c == ' ' {
            !after_space
        } else {
            !c.is_whitespace()
        };
        after_space = c == ' ';
        ok
    }) && (text.is_empty() || !after_space);
    if plain {
        return text.to_owned();
    }
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

/// Words of an identifier (`customerOrders`, `order_items`) of three letters or more, stop
/// words dropped, singular — split, stopped and singularised as every reader of questions
/// does (`querent_domain::text`).
fn split_words(ident: &str) -> Vec<String> {
    text::identifier_words(ident)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !text::is_stopword(w))
        .map(|w| text::singular(&w))
        .collect()
}

fn words_of_question(question: &str) -> HashSet<String> {
    question.split_whitespace().flat_map(split_words).collect()
}

#[cfg(test)]
mod tests;
