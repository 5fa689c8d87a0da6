//! The schema linker: a lexical BM25-style index over a [`SchemaSnapshot`] plus its
//! foreign-key graph, ranking the tables and columns a question needs.

use std::collections::{HashMap, HashSet, VecDeque};

use querent_domain::PrivacyPolicy;
use querent_domain::schema::{SchemaSnapshot, TableInfo};
use querent_domain::semantic::{Metric, SemanticModel, SemanticTable};

use crate::text::{identifier_terms, question_words, text_terms};

/// BM25 saturation.
const K1: f32 = 1.2;
/// Field weights: a hit on the table name is the strongest evidence.
const W_NAME: f32 = 3.0;
const W_COLUMN: f32 = 1.0;
const W_COMMENT: f32 = 0.6;
const W_VALUE: f32 = 0.5;
/// Length normalisation per field.
const B_NAME: f32 = 0.75;
const B_COLUMN: f32 = 0.3;
const B_TEXT: f32 = 0.5;
/// A whole sampled value found in the question.
const W_VALUE_PHRASE: f32 = 2.0;
/// Maximum words of a question phrase compared with sampled values.
const MAX_VALUE_WORDS: usize = 5;
/// Sampled values longer than this are not indexed (free text, not a category).
const MAX_VALUE_LEN: usize = 80;
/// The longest FK path searched to connect two picks.
const MAX_HOPS: usize = 3;

/// How [`LinkIndex::link`] picks tables.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkOptions {
    /// At most this many tables picked by score (join tables added on FK paths come on
    /// top).
    pub max_tables: usize,
    /// Tables scoring below this are never picked.
    pub min_score: f32,
    /// Tables scoring below this fraction of the best score are not picked (0 disables).
    pub min_relative_score: f32,
    /// Whether to add the tables on the shortest FK paths connecting the picks.
    pub include_fk_paths: bool,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            max_tables: 8,
            min_score: 0.5,
            min_relative_score: 0.2,
            include_fk_paths: true,
        }
    }
}

/// The tables a question was linked to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Linked {
    /// Picked tables, best first (score descending, then name).
    pub tables: Vec<LinkedTable>,
    /// Tables added only because they lie on an FK path between picks (indexes into
    /// `snapshot.tables`), in the order they were added.
    pub join_tables_added: Vec<usize>,
}

impl Linked {
    /// All linked table indexes: the picks, then the join tables.
    pub fn table_indexes(&self) -> Vec<usize> {
        self.tables
            .iter()
            .map(|t| t.index)
            .chain(self.join_tables_added.iter().copied())
            .collect()
    }
}

/// One picked table.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkedTable {
    /// Index into `snapshot.tables`.
    pub index: usize,
    /// Lexical score (higher is better; comparable only within one question).
    pub score: f32,
    /// The question terms (stemmed) and sampled values that matched, sorted.
    pub matched_terms: Vec<String>,
    /// Indexes of the columns with hits (name, comment or sampled value), ascending.
    pub columns: Vec<usize>,
}

/// Which field of a table document a term occurs in, with counts.
#[derive(Clone, Copy, Debug, Default)]
struct Posting {
    table: u32,
    name_tf: u8,
    column_tf: u8,
    comment_tf: u8,
    value_tf: u8,
}

/// Per-table data kept for scoring and column hits.
#[derive(Clone, Debug, Default)]
struct TableDoc {
    /// `schema.name` or `name`, for ordering and display.
    key: String,
    /// Term ids of the table name (digits included).
    name_terms: Vec<u32>,
    /// Term ids of each column (name and comment), by column index; empty for excluded
    /// columns.
    column_terms: Vec<Vec<u32>>,
    /// Field lengths.
    name_len: f32,
    column_len: f32,
    text_len: f32,
    /// Whether the policy left it out.
    excluded: bool,
}

/// A lexical index over one schema snapshot: built once, queried per question.
///
/// Holds the term dictionary, per-term postings with field counts (table name, column
/// names, comments, sampled-value words), the whole sampled values, and the undirected FK
/// adjacency. Excluded tables and columns (see [`LinkIndex::new_with_policy`]) are not
/// indexed and not used as join paths.
#[derive(Clone, Debug, Default)]
pub struct LinkIndex {
    terms: HashMap<String, u32>,
    /// Term text by id.
    term_strings: Vec<Box<str>>,
    postings: Vec<Vec<Posting>>,
    idf: Vec<f32>,
    docs: Vec<TableDoc>,
    /// Lowercased whole sampled value → (table, column).
    values: HashMap<String, Vec<(u32, u32)>>,
    /// Undirected FK neighbours, sorted, without excluded tables.
    adjacency: Vec<Vec<u32>>,
    avg_name_len: f32,
    avg_column_len: f32,
    avg_text_len: f32,
    indexed_tables: usize,
}

impl LinkIndex {
    /// Indexes every table and column of the snapshot.
    pub fn new(snapshot: &SchemaSnapshot) -> Self {
        Self::new_with_policy(snapshot, &PrivacyPolicy::default())
    }

    /// Indexes the snapshot without the tables and columns the policy excludes: they are
    /// never linked, their sampled values are not indexed, and no FK path goes through an
    /// excluded table.
    pub fn new_with_policy(snapshot: &SchemaSnapshot, policy: &PrivacyPolicy) -> Self {
        Self::new_with_model(snapshot, policy, None)
    }

    /// Indexes the snapshot like [`LinkIndex::new_with_policy`], plus what the semantic
    /// `model` says (only about tables and columns the policy allows):
    /// - a table's display name and synonyms count as its name ("clients" links
    ///   `customers`), its description as a comment;
    /// - a column's display name and synonyms count as column names, its description as a
    ///   comment, its value list as sampled values, and each value mapping's phrase
    ///   ("Germany" for `DE`) as a whole value of that column, so a question naming it links
    ///   the column's table;
    /// - a metric's name and synonyms count as column names of the metric's table, its
    ///   description as a comment.
    ///
    /// Without a model this is exactly [`LinkIndex::new_with_policy`].
    pub fn new_with_model(
        snapshot: &SchemaSnapshot,
        policy: &PrivacyPolicy,
        model: Option<&SemanticModel>,
    ) -> Self {
        let mut b = Builder::default();
        let n = snapshot.tables.len();
        b.index.docs.reserve(n);
        b.index.adjacency = vec![Vec::new(); n];
        let described = model.map(|m| ModelByTable::new(m, snapshot));
        for (ti, table) in snapshot.tables.iter().enumerate() {
            let excluded = table_excluded(policy, table);
            let about = described.as_ref().map(|d| d.about(ti)).unwrap_or_default();
            b.add_table(ti as u32, table, excluded, policy, about);
        }
        b.finish(snapshot)
    }

    /// How many tables are indexed (not excluded).
    pub fn indexed_tables(&self) -> usize {
        self.indexed_tables
    }

    /// A rough estimate of the heap the index holds, in bytes (for sizing reports).
    pub fn approx_heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let terms: usize = self.term_strings.iter().map(|t| 2 * t.len() + 48).sum();
        let postings: usize = self
            .postings
            .iter()
            .map(|p| p.capacity() * size_of::<Posting>() + size_of::<Vec<Posting>>())
            .sum();
        let docs: usize = self
            .docs
            .iter()
            .map(|d| {
                size_of::<TableDoc>()
                    + d.key.capacity()
                    + d.name_terms.capacity() * 4
                    + d.column_terms
                        .iter()
                        .map(|c| c.capacity() * 4 + size_of::<Vec<u32>>())
                        .sum::<usize>()
            })
            .sum();
        let values: usize = self
            .values
            .iter()
            .map(|(k, v)| k.capacity() + v.capacity() * 8 + 56)
            .sum();
        let adjacency: usize = self
            .adjacency
            .iter()
            .map(|a| a.capacity() * 4 + size_of::<Vec<u32>>())
            .sum();
        terms + postings + docs + values + adjacency + self.idf.capacity() * 4
    }

    /// How many distinct terms the index holds.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Links a question: scores tables, picks the best (at most `max_tables`, above the
    /// score thresholds) and, when asked, adds the tables on the shortest FK paths (at most
    /// three hops) connecting them. Deterministic for the same index, question and options.
    #[allow(clippy::too_many_lines)] // the linking stages in order (score, expand along joins, trim)
    pub fn link(&self, question: &str, options: &LinkOptions) -> Linked {
        let n = self.docs.len();
        if n == 0 || options.max_tables == 0 {
            return Linked::default();
        }
        let qwords = question_words(question);

        // Question terms: stemmed words, plus compounds of two adjacent words when the
        // schema knows them ("high schoolers" → `highschooler`).
        let mut qterms: Vec<u32> = Vec::new();
        let mut seen = HashSet::new();
        for (i, w) in qwords.iter().enumerate() {
            if !w.term.is_empty()
                && let Some(&id) = self.terms.get(&w.term)
                && seen.insert(id)
            {
                qterms.push(id);
            }
            if let Some(next) = qwords.get(i + 1) {
                let compound = crate::text::stem(&format!("{}{}", w.lower, next.lower));
                if let Some(&id) = self.terms.get(&compound)
                    && seen.insert(id)
                {
                    qterms.push(id);
                }
            }
        }

        let mut scores = vec![0f32; n];
        let mut name_hit = vec![false; n];
        // Alphabetic terms first; a number (`top 5`) then only counts for tables whose
        // name already matched a word of the question (`sales order 2731`).
        let (numeric, alpha): (Vec<u32>, Vec<u32>) =
            qterms.iter().partition(|&&t| self.term_is_numeric(t));
        for &t in alpha.iter().chain(numeric.iter()) {
            let idf = self.idf[t as usize];
            let is_numeric = self.term_is_numeric(t);
            for p in &self.postings[t as usize] {
                let ti = p.table as usize;
                if is_numeric && !name_hit[ti] {
                    continue;
                }
                let d = &self.docs[ti];
                let s = W_NAME * sat(p.name_tf, d.name_len / self.avg_name_len, B_NAME)
                    + W_COLUMN * sat(p.column_tf, d.column_len / self.avg_column_len, B_COLUMN)
                    + W_COMMENT * sat(p.comment_tf, d.text_len / self.avg_text_len, B_TEXT)
                    + W_VALUE * sat(p.value_tf, d.text_len / self.avg_text_len, B_TEXT);
                scores[ti] += idf * s;
                if p.name_tf > 0 && !is_numeric {
                    name_hit[ti] = true;
                }
            }
        }
        // Tables whose whole name is in the question get a bonus (`singer` over
        // `singer_in_concert` for "singers").
        let qset: HashSet<u32> = qterms.iter().copied().collect();
        for (ti, score) in scores.iter_mut().enumerate() {
            if !name_hit[ti] {
                continue;
            }
            let d = &self.docs[ti];
            let hit = d.name_terms.iter().filter(|t| qset.contains(t)).count();
            let coverage = hit as f32 / d.name_terms.len().max(1) as f32;
            *score *= 1.0 + 0.5 * coverage;
        }

        // Whole sampled values in the question.
        let mut value_keys: Vec<String> = Vec::new();
        if !self.values.is_empty() {
            let raw = words_with_case(question);
            for start in 0..raw.len() {
                for len in 1..=MAX_VALUE_WORDS.min(raw.len() - start) {
                    let phrase: Vec<&str> = raw[start..start + len]
                        .iter()
                        .map(|w| w.0.as_str())
                        .collect();
                    let key = value_key(&phrase.join(" "));
                    let Some(occ) = self.values.get(&key) else {
                        continue;
                    };
                    let all_stop = raw[start..start + len]
                        .iter()
                        .all(|w| crate::text::is_stopword(&w.0.to_lowercase()));
                    if all_stop || key.chars().all(|c| c.is_ascii_digit()) {
                        continue;
                    }
                    let marked = raw[start..start + len].iter().any(|w| w.1);
                    let strength = if marked { 1.0 } else { 0.4 };
                    let vidf = (1.0 + (n as f32) / (occ.len() as f32)).ln();
                    value_keys.push(key);
                    let mut last = u32::MAX;
                    for &(t, _) in occ {
                        if t != last {
                            scores[t as usize] += W_VALUE_PHRASE * strength * vidf;
                            last = t;
                        }
                    }
                }
            }
        }

        // Pick: the best max_tables above the floors, score descending then name.
        let best = scores.iter().copied().fold(0f32, f32::max);
        let floor = options
            .min_score
            .max(best * options.min_relative_score)
            .max(f32::MIN_POSITIVE);
        let mut ranked: Vec<u32> = (0..n as u32)
            .filter(|&i| scores[i as usize] >= floor && !self.docs[i as usize].excluded)
            .collect();
        let order = |a: &u32, b: &u32| {
            scores[*b as usize]
                .total_cmp(&scores[*a as usize])
                .then_with(|| self.docs[*a as usize].key.cmp(&self.docs[*b as usize].key))
                .then(a.cmp(b))
        };
        if ranked.len() > options.max_tables {
            ranked.select_nth_unstable_by(options.max_tables - 1, order);
            ranked.truncate(options.max_tables);
        }
        ranked.sort_by(order);

        // Neighbour completion: a question word no pick has (e.g. "names" of poker players,
        // kept in `people`) pulls in the best-scoring FK neighbour of a pick that has it.
        if !ranked.is_empty() {
            let has = |t: u32, table: u32| {
                self.postings[t as usize]
                    .binary_search_by_key(&table, |p| p.table)
                    .is_ok()
            };
            let mut extra: Vec<u32> = Vec::new();
            for &t in &alpha {
                if ranked.iter().chain(extra.iter()).any(|&p| has(t, p)) {
                    continue;
                }
                let best_neighbour = ranked
                    .iter()
                    .flat_map(|&p| self.adjacency[p as usize].iter().copied())
                    .filter(|&x| !self.docs[x as usize].excluded && has(t, x))
                    .min_by(|a, b| order(a, b));
                if let Some(x) = best_neighbour
                    && !ranked.contains(&x)
                    && !extra.contains(&x)
                {
                    extra.push(x);
                }
            }
            for x in extra {
                if ranked.len() < options.max_tables {
                    ranked.push(x);
                }
            }
            ranked.sort_by(order);
        }

        let mut tables = Vec::with_capacity(ranked.len());
        for &t in &ranked {
            let d = &self.docs[t as usize];
            let mut terms: Vec<String> = qterms
                .iter()
                .filter(|&&q| {
                    self.postings[q as usize]
                        .binary_search_by_key(&t, |p| p.table)
                        .is_ok()
                })
                .map(|&q| self.term_text(q))
                .collect();
            let mut cols: Vec<usize> = d
                .column_terms
                .iter()
                .enumerate()
                .filter(|(_, ct)| ct.iter().any(|x| qset.contains(x)))
                .map(|(ci, _)| ci)
                .collect();
            for key in &value_keys {
                let occ = &self.values[key];
                let from = occ.partition_point(|&(x, _)| x < t);
                for &(_, c) in occ[from..].iter().take_while(|&&(x, _)| x == t) {
                    cols.push(c as usize);
                    terms.push(key.clone());
                }
            }
            cols.sort_unstable();
            cols.dedup();
            terms.sort();
            terms.dedup();
            tables.push(LinkedTable {
                index: t as usize,
                score: scores[t as usize],
                matched_terms: terms,
                columns: cols,
            });
        }

        let join_tables_added = if options.include_fk_paths {
            self.connect(&ranked, &scores)
        } else {
            Vec::new()
        };
        Linked {
            tables,
            join_tables_added,
        }
    }

    /// Connects the picks along shortest undirected FK paths (≤ [`MAX_HOPS`]): each pick,
    /// in rank order, is joined to the nearest table already in the set. Returns the tables
    /// added on the way. Among equally short paths, neighbours with higher scores (then
    /// lower index) are tried first.
    fn connect(&self, picks: &[u32], scores: &[f32]) -> Vec<usize> {
        let mut in_set: HashSet<u32> = HashSet::new();
        let mut added = Vec::new();
        let mut parent: HashMap<u32, u32> = HashMap::new();
        for (k, &p) in picks.iter().enumerate() {
            if k == 0 || in_set.contains(&p) {
                in_set.insert(p);
                continue;
            }
            // BFS from p until a node already in the set.
            parent.clear();
            parent.insert(p, p);
            let mut queue = VecDeque::from([(p, 0usize)]);
            let mut found = None;
            while let Some((node, depth)) = queue.pop_front() {
                if node != p && in_set.contains(&node) {
                    found = Some(node);
                    break;
                }
                if depth == MAX_HOPS {
                    continue;
                }
                let mut next: Vec<u32> = self.adjacency[node as usize]
                    .iter()
                    .copied()
                    .filter(|x| !parent.contains_key(x))
                    .collect();
                next.sort_by(|&a, &b| {
                    scores[b as usize]
                        .total_cmp(&scores[a as usize])
                        .then(a.cmp(&b))
                });
                for x in next {
                    parent.insert(x, node);
                    queue.push_back((x, depth + 1));
                }
            }
            if let Some(mut node) = found {
                node = parent[&node];
                while node != p {
                    if in_set.insert(node) && !picks.contains(&node) {
                        added.push(node as usize);
                    }
                    node = parent[&node];
                }
            }
            in_set.insert(p);
        }
        added
    }

    fn term_text(&self, id: u32) -> String {
        self.term_strings[id as usize].to_string()
    }

    fn term_is_numeric(&self, id: u32) -> bool {
        self.term_strings[id as usize]
            .chars()
            .all(|c| c.is_ascii_digit())
    }
}

/// BM25 term-frequency saturation with length normalisation.
fn sat(tf: u8, rel_len: f32, b: f32) -> f32 {
    if tf == 0 {
        return 0.0;
    }
    let tf = f32::from(tf);
    tf * (K1 + 1.0) / (tf + K1 * (1.0 - b + b * rel_len))
}

/// The key a sampled value is looked up by: lowercase alphanumeric runs, stemmed
/// (`Laptops` finds `Laptop`), joined by spaces.
pub(crate) fn value_key(value: &str) -> String {
    value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| crate::text::stem(&w.to_lowercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Question words (alphanumeric runs) with whether they look like a named value: inside
/// quotes, or capitalised and not the first word.
fn words_with_case(question: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = question.chars().collect();
    let mut out = Vec::new();
    let mut open = false;
    let mut current = String::new();
    let mut first = true;
    let mut push = |current: &mut String, open: bool, out: &mut Vec<(String, bool)>| {
        if !current.is_empty() {
            let capital = current.chars().next().is_some_and(char::is_uppercase) && !first;
            out.push((std::mem::take(current), open || capital));
            first = false;
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            current.push(c);
            continue;
        }
        push(&mut current, open, &mut out);
        if matches!(c, '\'' | '"' | '\u{201c}' | '\u{201d}' | '`') {
            let before = i > 0 && chars[i - 1].is_alphanumeric();
            let after = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if !before && after && !open {
                open = true;
            } else if before && !after && open {
                open = false;
            }
        }
    }
    push(&mut current, open, &mut out);
    out
}

fn table_excluded(policy: &PrivacyPolicy, table: &TableInfo) -> bool {
    let qualified = qualified(table);
    policy
        .excluded_tables
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&table.name) || e.eq_ignore_ascii_case(&qualified))
}

fn column_excluded(policy: &PrivacyPolicy, table: &TableInfo, column: &str) -> bool {
    if policy.excluded_columns.is_empty() {
        return false;
    }
    let short = format!("{}.{}", table.name, column);
    let long = format!("{}.{}", qualified(table), column);
    policy
        .excluded_columns
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&short) || e.eq_ignore_ascii_case(&long))
}

fn qualified(table: &TableInfo) -> String {
    match &table.schema {
        Some(s) => format!("{s}.{}", table.name),
        None => table.name.clone(),
    }
}

#[derive(Default)]
struct Builder {
    index: LinkIndex,
}

/// What a semantic model says about one table of the snapshot.
#[derive(Clone, Copy, Default)]
struct About<'m> {
    table: Option<&'m SemanticTable>,
    metrics: &'m [&'m Metric],
}

/// A semantic model's tables and metrics by the snapshot table they describe.
struct ModelByTable<'m> {
    tables: HashMap<usize, &'m SemanticTable>,
    metrics: HashMap<usize, Vec<&'m Metric>>,
}

impl<'m> ModelByTable<'m> {
    fn new(model: &'m SemanticModel, snapshot: &SchemaSnapshot) -> Self {
        // Model references are `schema.table` or `table`, matched case-insensitively.
        let mut by_ref: HashMap<String, usize> = HashMap::new();
        for (i, t) in snapshot.tables.iter().enumerate() {
            by_ref.entry(qualified(t).to_lowercase()).or_insert(i);
        }
        for (i, t) in snapshot.tables.iter().enumerate() {
            by_ref.entry(t.name.to_lowercase()).or_insert(i);
        }
        let mut tables = HashMap::new();
        for st in &model.tables {
            if let Some(&i) = by_ref.get(&st.table.to_lowercase()) {
                tables.entry(i).or_insert(st);
            }
        }
        let mut metrics: HashMap<usize, Vec<&Metric>> = HashMap::new();
        for m in &model.metrics {
            if let Some(&i) = by_ref.get(&m.table.to_lowercase()) {
                metrics.entry(i).or_default().push(m);
            }
        }
        Self { tables, metrics }
    }

    fn about(&self, table: usize) -> About<'_> {
        About {
            table: self.tables.get(&table).copied(),
            metrics: self.metrics.get(&table).map_or(&[], Vec::as_slice),
        }
    }
}

#[derive(Clone, Copy)]
enum Field {
    Name,
    Column,
    Comment,
    Value,
}

impl Builder {
    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.index.terms.get(term) {
            return id;
        }
        let id = self.index.postings.len() as u32;
        self.index.terms.insert(term.to_string(), id);
        self.index.term_strings.push(term.into());
        self.index.postings.push(Vec::new());
        id
    }

    fn bump(&mut self, table: u32, term: &str, field: Field) -> u32 {
        if term.is_empty() {
            return u32::MAX;
        }
        let id = self.term_id(term);
        let list = &mut self.index.postings[id as usize];
        if list.last().is_none_or(|p| p.table != table) {
            list.push(Posting {
                table,
                ..Posting::default()
            });
        }
        let p = list.last_mut().expect("just pushed");
        let slot = match field {
            Field::Name => &mut p.name_tf,
            Field::Column => &mut p.column_tf,
            Field::Comment => &mut p.comment_tf,
            Field::Value => &mut p.value_tf,
        };
        *slot = slot.saturating_add(1);
        id
    }

    fn add_table(
        &mut self,
        ti: u32,
        table: &TableInfo,
        excluded: bool,
        policy: &PrivacyPolicy,
        about: About<'_>,
    ) {
        let mut doc = TableDoc {
            key: qualified(table).to_lowercase(),
            excluded,
            ..TableDoc::default()
        };
        if excluded {
            doc.column_terms = vec![Vec::new(); table.columns.len()];
            self.index.docs.push(doc);
            return;
        }
        self.index.indexed_tables += 1;
        for term in identifier_terms(&table.name) {
            let id = self.bump(ti, &term, Field::Name);
            doc.name_terms.push(id);
        }
        doc.name_len = doc.name_terms.len() as f32;
        if let Some(c) = &table.comment {
            for term in text_terms(c) {
                self.bump(ti, &term, Field::Comment);
                doc.text_len += 1.0;
            }
        }
        if let Some(st) = about.table {
            // Other names of the table weigh like its name (without lengthening it, so the
            // table's own name keeps its weight); words of its own name are not counted
            // twice.
            let own: Vec<String> = identifier_terms(&table.name);
            let mut added: Vec<String> = Vec::new();
            for name in st.display_name.iter().chain(&st.synonyms) {
                for term in text_terms(name) {
                    if !own.contains(&term) && !added.contains(&term) {
                        self.bump(ti, &term, Field::Name);
                        added.push(term);
                    }
                }
            }
            for term in st.description.iter().flat_map(|d| text_terms(d)) {
                self.bump(ti, &term, Field::Comment);
                doc.text_len += 1.0;
            }
        }
        for m in about.metrics {
            for name in std::iter::once(&m.name).chain(&m.synonyms) {
                for term in text_terms(name) {
                    self.bump(ti, &term, Field::Column);
                    doc.column_len += 1.0;
                }
            }
            for term in m.description.iter().flat_map(|d| text_terms(d)) {
                self.bump(ti, &term, Field::Comment);
                doc.text_len += 1.0;
            }
        }
        for (ci, col) in table.columns.iter().enumerate() {
            let mut ct = Vec::new();
            if column_excluded(policy, table, &col.name) {
                doc.column_terms.push(ct);
                continue;
            }
            for term in identifier_terms(&col.name) {
                ct.push(self.bump(ti, &term, Field::Column));
                doc.column_len += 1.0;
            }
            if let Some(c) = &col.comment {
                for term in text_terms(c) {
                    ct.push(self.bump(ti, &term, Field::Comment));
                    doc.text_len += 1.0;
                }
            }
            let sc = about.table.and_then(|st| {
                st.columns
                    .iter()
                    .find(|sc| sc.column.eq_ignore_ascii_case(&col.name))
            });
            let mut model_values: &[String] = &[];
            if let Some(sc) = sc {
                // Other names of the column: only words its own name does not have.
                let own: Vec<String> = identifier_terms(&col.name);
                let mut added: Vec<String> = Vec::new();
                for name in sc.display_name.iter().chain(&sc.synonyms) {
                    for term in text_terms(name) {
                        if !own.contains(&term) && !added.contains(&term) {
                            ct.push(self.bump(ti, &term, Field::Column));
                            doc.column_len += 1.0;
                            added.push(term);
                        }
                    }
                }
                for term in sc.description.iter().flat_map(|d| text_terms(d)) {
                    ct.push(self.bump(ti, &term, Field::Comment));
                    doc.text_len += 1.0;
                }
                // A phrase people use for a stored value is a value of the column.
                for m in &sc.value_mappings {
                    self.add_value(ti, ci as u32, &m.phrase, &mut doc);
                }
                if col.sample_values.is_empty() {
                    model_values = &sc.values;
                }
            }
            for v in col.sample_values.iter().chain(model_values) {
                if v.is_empty() || v.len() > MAX_VALUE_LEN {
                    continue;
                }
                let key = value_key(v);
                if !key.is_empty() {
                    self.index
                        .values
                        .entry(key)
                        .or_default()
                        .push((ti, ci as u32));
                }
                for term in text_terms(v) {
                    if term.chars().any(|c| c.is_alphabetic()) {
                        self.bump(ti, &term, Field::Value);
                        doc.text_len += 1.0;
                    }
                }
            }
            ct.sort_unstable();
            ct.dedup();
            doc.column_terms.push(ct);
        }
        self.index.docs.push(doc);
    }

    /// Indexes a whole value of column `ci` of table `ti` (for phrase lookup) and its words.
    fn add_value(&mut self, ti: u32, ci: u32, value: &str, doc: &mut TableDoc) {
        if value.is_empty() || value.len() > MAX_VALUE_LEN {
            return;
        }
        let key = value_key(value);
        if !key.is_empty() {
            let occ = self.index.values.entry(key).or_default();
            if !occ.contains(&(ti, ci)) {
                occ.push((ti, ci));
            }
        }
        for term in text_terms(value) {
            if term.chars().any(|c| c.is_alphabetic()) {
                self.bump(ti, &term, Field::Value);
                doc.text_len += 1.0;
            }
        }
    }

    fn finish(mut self, snapshot: &SchemaSnapshot) -> LinkIndex {
        let idx = &mut self.index;
        // FK graph.
        let mut by_name: HashMap<(Option<String>, String), u32> = HashMap::new();
        let mut by_bare: HashMap<String, u32> = HashMap::new();
        for (i, t) in snapshot.tables.iter().enumerate() {
            if idx.docs[i].excluded {
                continue;
            }
            by_name
                .entry((
                    t.schema.as_ref().map(|s| s.to_lowercase()),
                    t.name.to_lowercase(),
                ))
                .or_insert(i as u32);
            by_bare.entry(t.name.to_lowercase()).or_insert(i as u32);
        }
        for (i, t) in snapshot.tables.iter().enumerate() {
            if idx.docs[i].excluded {
                continue;
            }
            for fk in &t.foreign_keys {
                let schema = fk.referenced_schema.as_ref().or(t.schema.as_ref());
                let name = fk.referenced_table.to_lowercase();
                let target = by_name
                    .get(&(schema.map(|s| s.to_lowercase()), name.clone()))
                    .or_else(|| by_bare.get(&name))
                    .copied();
                if let Some(j) = target
                    && j as usize != i
                {
                    idx.adjacency[i].push(j);
                    idx.adjacency[j as usize].push(i as u32);
                }
            }
        }
        for a in &mut idx.adjacency {
            a.sort_unstable();
            a.dedup();
            a.shrink_to_fit();
        }
        // IDF over indexed tables.
        let n = idx.indexed_tables.max(1) as f32;
        idx.idf = idx
            .postings
            .iter()
            .map(|p| {
                let df = p.len() as f32;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        for p in &mut idx.postings {
            p.shrink_to_fit();
        }
        let live: Vec<&TableDoc> = idx.docs.iter().filter(|d| !d.excluded).collect();
        let avg = |f: fn(&TableDoc) -> f32| {
            let s: f32 = live.iter().map(|d| f(d)).sum();
            (s / live.len().max(1) as f32).max(1.0)
        };
        idx.avg_name_len = avg(|d| d.name_len);
        idx.avg_column_len = avg(|d| d.column_len);
        idx.avg_text_len = avg(|d| d.text_len);
        self.index
    }
}

/// The snapshot restricted to the linked tables (picks and join tables, in snapshot
/// order), keeping dialect, database, fingerprint and `taken_at`. Foreign keys pointing at
/// tables left out stay (they are harmless in a prompt).
pub fn subset(snapshot: &SchemaSnapshot, linked: &Linked) -> SchemaSnapshot {
    let mut keep: Vec<usize> = linked.table_indexes();
    keep.sort_unstable();
    keep.dedup();
    SchemaSnapshot {
        dialect: snapshot.dialect,
        database: snapshot.database.clone(),
        fingerprint: snapshot.fingerprint.clone(),
        taken_at: snapshot.taken_at,
        tables: keep
            .into_iter()
            .filter_map(|i| snapshot.tables.get(i).cloned())
            .collect(),
    }
}

/// Like [`subset`], and also drops whatever the policy excludes: excluded tables (should a
/// [`Linked`] built without the policy name them), excluded columns, and foreign keys
/// that use an excluded column or point at an excluded table.
pub fn subset_with_policy(
    snapshot: &SchemaSnapshot,
    linked: &Linked,
    policy: &PrivacyPolicy,
) -> SchemaSnapshot {
    let mut out = subset(snapshot, linked);
    out.tables.retain(|t| !table_excluded(policy, t));
    for t in &mut out.tables {
        let view = t.clone();
        t.columns
            .retain(|c| !column_excluded(policy, &view, &c.name));
        t.primary_key.retain(|c| !column_excluded(policy, &view, c));
        t.unique_constraints
            .retain(|u| u.columns.iter().all(|c| !column_excluded(policy, &view, c)));
        t.foreign_keys.retain(|fk| {
            fk.columns
                .iter()
                .all(|c| !column_excluded(policy, &view, c))
                && !policy.excluded_tables.iter().any(|e| {
                    e.eq_ignore_ascii_case(&fk.referenced_table)
                        || fk.referenced_schema.as_ref().is_some_and(|s| {
                            e.eq_ignore_ascii_case(&format!("{s}.{}", fk.referenced_table))
                        })
                })
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use querent_domain::Dialect;
    use querent_domain::schema::{ColumnInfo, ForeignKey, TableKind};

    use super::*;
    use crate::synthetic_schema;

    fn col(name: &str, samples: &[&str]) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: "text".into(),
            nullable: true,
            default: None,
            comment: None,
            sample_values: samples.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn fk(column: &str, table: &str, to: &str) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec![column.into()],
            referenced_schema: None,
            referenced_table: table.into(),
            referenced_columns: vec![to.into()],
        }
    }

    fn table(name: &str, columns: Vec<ColumnInfo>, fks: Vec<ForeignKey>) -> TableInfo {
        TableInfo {
            schema: None,
            name: name.into(),
            kind: TableKind::Table,
            comment: None,
            primary_key: vec![columns[0].name.clone()],
            columns,
            unique_constraints: Vec::new(),
            foreign_keys: fks,
            row_estimate: None,
        }
    }

    fn company() -> SchemaSnapshot {
        let mut s = SchemaSnapshot {
            dialect: Dialect::Postgres,
            database: Some("shop".into()),
            fingerprint: String::new(),
            taken_at: 0,
            tables: vec![
                table(
                    "customers",
                    vec![
                        col("customer_id", &[]),
                        col("name", &[]),
                        col("email", &[]),
                        col("country", &["Germany", "France", "United States"]),
                        col("city", &["Berlin", "Paris", "Boston"]),
                    ],
                    vec![],
                ),
                table(
                    "orders",
                    vec![
                        col("order_id", &[]),
                        col("customer_id", &[]),
                        col("employee_id", &[]),
                        col("order_date", &[]),
                        col("status", &["shipped", "pending", "cancelled"]),
                    ],
                    vec![
                        fk("customer_id", "customers", "customer_id"),
                        fk("employee_id", "employees", "employee_id"),
                    ],
                ),
                table(
                    "order_items",
                    vec![
                        col("order_item_id", &[]),
                        col("order_id", &[]),
                        col("product_id", &[]),
                        col("quantity", &[]),
                        col("unit_price", &[]),
                    ],
                    vec![
                        fk("order_id", "orders", "order_id"),
                        fk("product_id", "products", "product_id"),
                    ],
                ),
                table(
                    "products",
                    vec![
                        col("product_id", &[]),
                        col("name", &[]),
                        col("category_id", &[]),
                        col("list_price", &[]),
                        col("product_line", &["Laptop", "Phone", "Tablet"]),
                    ],
                    vec![fk("category_id", "categories", "category_id")],
                ),
                table(
                    "categories",
                    vec![
                        col("category_id", &[]),
                        col("name", &["Electronics", "Books", "Toys"]),
                        col("description", &[]),
                    ],
                    vec![],
                ),
                table(
                    "employees",
                    vec![
                        col("employee_id", &[]),
                        col("first_name", &[]),
                        col("last_name", &[]),
                        col("salary", &[]),
                        col("dept_id", &[]),
                        col("hire_date", &[]),
                    ],
                    vec![fk("dept_id", "departments", "department_id")],
                ),
                table(
                    "departments",
                    vec![
                        col("department_id", &[]),
                        col("name", &["Sales", "Engineering", "HR"]),
                        col("location", &[]),
                    ],
                    vec![],
                ),
            ],
        };
        s.normalize();
        s
    }

    fn names(snap: &SchemaSnapshot, idx: &[usize]) -> Vec<String> {
        idx.iter().map(|&i| snap.tables[i].name.clone()).collect()
    }

    fn picks(snap: &SchemaSnapshot, linked: &Linked) -> Vec<String> {
        names(
            snap,
            &linked.tables.iter().map(|t| t.index).collect::<Vec<_>>(),
        )
    }

    fn all(snap: &SchemaSnapshot, linked: &Linked) -> Vec<String> {
        names(snap, &linked.table_indexes())
    }

    #[test]
    fn top_products_by_quantity_links_products_and_order_items() {
        let snap = company();
        let index = LinkIndex::new(&snap);
        let linked = index.link("top 5 products by quantity sold", &LinkOptions::default());
        let got = all(&snap, &linked);
        assert!(got.contains(&"products".to_string()), "{got:?}");
        assert!(got.contains(&"order_items".to_string()), "{got:?}");
        assert_eq!(picks(&snap, &linked)[0], "products");
        let items = linked
            .tables
            .iter()
            .find(|t| snap.tables[t.index].name == "order_items")
            .expect("order_items picked");
        let cols: Vec<&str> = items
            .columns
            .iter()
            .map(|&c| snap.tables[items.index].columns[c].name.as_str())
            .collect();
        assert!(cols.contains(&"quantity"), "{cols:?}");
    }

    #[test]
    fn customers_from_germany_links_customers_via_sampled_value() {
        let snap = company();
        let index = LinkIndex::new(&snap);
        let linked = index.link("customers from Germany", &LinkOptions::default());
        let top = &linked.tables[0];
        assert_eq!(snap.tables[top.index].name, "customers");
        let country = snap.tables[top.index]
            .columns
            .iter()
            .position(|c| c.name == "country")
            .expect("country");
        assert!(top.columns.contains(&country), "{top:?}");
        assert!(
            top.matched_terms.contains(&"germany".to_string()),
            "{top:?}"
        );

        // The value alone is enough to find the table.
        let linked = index.link(
            "How many people live in 'Germany'?",
            &LinkOptions::default(),
        );
        assert_eq!(picks(&snap, &linked)[0], "customers");
    }

    #[test]
    fn salary_per_department_links_employees_and_departments() {
        let snap = company();
        let index = LinkIndex::new(&snap);
        let linked = index.link("average salary per department", &LinkOptions::default());
        let got = picks(&snap, &linked);
        assert!(got.contains(&"employees".to_string()), "{got:?}");
        assert!(got.contains(&"departments".to_string()), "{got:?}");
    }

    #[test]
    fn fk_path_connects_customers_and_products() {
        let snap = company();
        let index = LinkIndex::new(&snap);
        let linked = index.link("which customers bought laptops", &LinkOptions::default());
        let got = picks(&snap, &linked);
        assert!(got.contains(&"customers".to_string()), "{got:?}");
        assert!(got.contains(&"products".to_string()), "{got:?}");
        let every = all(&snap, &linked);
        assert!(every.contains(&"orders".to_string()), "{every:?}");
        assert!(every.contains(&"order_items".to_string()), "{every:?}");
        let joins = names(&snap, &linked.join_tables_added);
        assert!(joins.contains(&"order_items".to_string()), "{joins:?}");

        // Without FK paths nothing is added.
        let linked = index.link(
            "which customers bought laptops",
            &LinkOptions {
                include_fk_paths: false,
                ..LinkOptions::default()
            },
        );
        assert!(linked.join_tables_added.is_empty());

        let sub = subset(
            &snap,
            &index.link("which customers bought laptops", &LinkOptions::default()),
        );
        assert_eq!(sub.fingerprint, snap.fingerprint);
        assert_eq!(sub.dialect, snap.dialect);
        let sub_names: Vec<&str> = sub.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(sub_names.len(), every.len());
        assert!(sub_names.contains(&"order_items"));
    }

    #[test]
    fn excluded_tables_and_columns_never_appear() {
        let snap = company();
        let policy = PrivacyPolicy {
            excluded_tables: vec!["EMPLOYEES".into(), "order_items".into()],
            excluded_columns: vec!["customers.country".into()],
            masked_column_patterns: vec![],
            row_filters: Vec::new(),
        };
        let index = LinkIndex::new_with_policy(&snap, &policy);
        assert_eq!(index.indexed_tables(), 5);
        for q in [
            "average salary per department",
            "employees hired last year",
            "top 5 products by quantity sold",
            "which customers bought laptops",
            "customers from Germany",
            "order items with employee first names",
        ] {
            let linked = index.link(q, &LinkOptions::default());
            let got = all(&snap, &linked);
            assert!(!got.contains(&"employees".to_string()), "{q}: {got:?}");
            assert!(!got.contains(&"order_items".to_string()), "{q}: {got:?}");
            for t in &linked.tables {
                let table = &snap.tables[t.index];
                for &c in &t.columns {
                    assert!(
                        !(table.name == "customers" && table.columns[c].name == "country"),
                        "{q}: excluded column linked"
                    );
                }
            }
            let sub = subset_with_policy(&snap, &linked, &policy);
            for t in &sub.tables {
                assert!(t.name != "employees" && t.name != "order_items");
                assert!(t.name != "customers" || t.column("country").is_none());
            }
        }
        // A Linked built without the policy is still cleaned by subset_with_policy.
        let open =
            LinkIndex::new(&snap).link("average salary per department", &LinkOptions::default());
        let sub = subset_with_policy(&snap, &open, &policy);
        assert!(sub.tables.iter().all(|t| t.name != "employees"));
    }

    #[test]
    fn linking_is_deterministic() {
        let snap = company();
        let options = LinkOptions::default();
        for q in [
            "which customers bought laptops",
            "top 5 products by quantity sold",
            "name",
            "",
        ] {
            let a = LinkIndex::new(&snap).link(q, &options);
            let b = LinkIndex::new(&snap).link(q, &options);
            assert_eq!(a, b, "{q}");
        }
        let big = synthetic_schema(500, 7);
        assert_eq!(big, synthetic_schema(500, 7));
        let q = "total invoice amount by customer country";
        assert_eq!(
            LinkIndex::new(&big).link(q, &options),
            LinkIndex::new(&big).link(q, &options)
        );
    }

    #[test]
    fn finds_named_table_in_large_synthetic_schema() {
        let snap = synthetic_schema(2_000, 42);
        assert_eq!(snap.tables.len(), 2_000);
        let index = LinkIndex::new(&snap);
        let options = LinkOptions::default();
        for k in [3usize, 417, 999, 1_234, 1_999] {
            let name = &snap.tables[k].name;
            for q in [
                format!("how many rows are in {name}?"),
                format!("show the {} records", name.replace('_', " ")),
            ] {
                let linked = index.link(&q, &options);
                assert!(!linked.tables.is_empty(), "{q}");
                assert_eq!(&snap.tables[linked.tables[0].index].name, name, "{q}");
                assert!(linked.tables.len() <= options.max_tables);
            }
        }
    }

    #[test]
    fn respects_max_tables_and_thresholds() {
        let snap = synthetic_schema(300, 3);
        let index = LinkIndex::new(&snap);
        let options = LinkOptions {
            max_tables: 2,
            ..LinkOptions::default()
        };
        let linked = index.link("sales order customer invoice payment status", &options);
        assert!(linked.tables.len() <= 2);
        let scores: Vec<f32> = linked.tables.iter().map(|t| t.score).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]));
        let none = index.link(
            "zzz qqq",
            &LinkOptions {
                min_score: 0.0,
                ..LinkOptions::default()
            },
        );
        assert!(none.tables.is_empty() && none.join_tables_added.is_empty());
    }

    fn semantic_column(name: &str) -> querent_domain::semantic::SemanticColumn {
        querent_domain::semantic::SemanticColumn {
            column: name.into(),
            data_type: None,
            display_name: None,
            description: None,
            synonyms: Vec::new(),
            values: Vec::new(),
            value_mappings: Vec::new(),
        }
    }

    /// The company schema with country codes instead of names, and a model that says
    /// which names people use.
    fn coded_company() -> (SchemaSnapshot, SemanticModel) {
        use querent_domain::semantic::ValueMapping;
        let mut snap = company();
        for t in &mut snap.tables {
            for c in &mut t.columns {
                if c.name == "country" {
                    c.sample_values = vec!["DE".into(), "FR".into(), "US".into()];
                }
            }
        }
        let mut country = semantic_column("country");
        country.value_mappings = vec![
            ValueMapping {
                phrase: "Germany".into(),
                value: "DE".into(),
            },
            ValueMapping {
                phrase: "France".into(),
                value: "FR".into(),
            },
        ];
        let model = SemanticModel {
            connection_id: querent_domain::ConnectionId::new(),
            version: 1,
            schema_fingerprint: String::new(),
            description: None,
            tables: vec![SemanticTable {
                table: "customers".into(),
                display_name: Some("Client accounts".into()),
                description: None,
                synonyms: vec!["clients".into(), "patrons".into()],
                columns: vec![country],
            }],
            joins: Vec::new(),
            metrics: vec![Metric {
                name: "turnover".into(),
                description: None,
                expression: "SUM(quantity)".into(),
                table: "order_items".into(),
                synonyms: vec!["throughput".into()],
            }],
            updated_at: 0,
        };
        (snap, model)
    }

    #[test]
    fn clients_links_customers_via_a_synonym() {
        let (snap, model) = coded_company();
        let question = "How many clients do we have?";
        let plain = LinkIndex::new(&snap).link(question, &LinkOptions::default());
        assert!(!picks(&snap, &plain).contains(&"customers".to_string()));
        let index = LinkIndex::new_with_model(&snap, &PrivacyPolicy::default(), Some(&model));
        let linked = index.link(question, &LinkOptions::default());
        assert_eq!(picks(&snap, &linked)[0], "customers");
        assert!(
            linked.tables[0]
                .matched_terms
                .contains(&"client".to_string())
        );
    }

    #[test]
    fn germany_links_customers_via_a_value_mapping() {
        let (snap, model) = coded_company();
        let question = "Who lives in Germany?";
        let plain = LinkIndex::new(&snap).link(question, &LinkOptions::default());
        assert!(plain.tables.is_empty(), "{:?}", picks(&snap, &plain));
        let index = LinkIndex::new_with_model(&snap, &PrivacyPolicy::default(), Some(&model));
        let linked = index.link(question, &LinkOptions::default());
        let top = &linked.tables[0];
        assert_eq!(snap.tables[top.index].name, "customers");
        let country = snap.tables[top.index]
            .columns
            .iter()
            .position(|c| c.name == "country")
            .expect("country");
        assert!(top.columns.contains(&country), "{top:?}");
        assert!(
            top.matched_terms.contains(&"germany".to_string()),
            "{top:?}"
        );
    }

    #[test]
    fn metric_names_link_the_metric_table() {
        let (snap, model) = coded_company();
        let index = LinkIndex::new_with_model(&snap, &PrivacyPolicy::default(), Some(&model));
        let linked = index.link("weekly throughput", &LinkOptions::default());
        assert_eq!(picks(&snap, &linked)[0], "order_items");
    }

    #[test]
    fn the_model_never_links_excluded_objects() {
        let (snap, model) = coded_company();
        let policy = PrivacyPolicy {
            excluded_columns: vec!["customers.country".into()],
            ..PrivacyPolicy::default()
        };
        let index = LinkIndex::new_with_model(&snap, &policy, Some(&model));
        let linked = index.link("Who lives in Germany?", &LinkOptions::default());
        assert!(linked.tables.is_empty(), "{:?}", picks(&snap, &linked));
        let policy = PrivacyPolicy {
            excluded_tables: vec!["customers".into()],
            ..PrivacyPolicy::default()
        };
        let index = LinkIndex::new_with_model(&snap, &policy, Some(&model));
        let linked = index.link("How many clients in Germany?", &LinkOptions::default());
        assert!(!all(&snap, &linked).contains(&"customers".to_string()));
    }

    #[test]
    fn without_a_model_linking_is_unchanged() {
        let snap = synthetic_schema(500, 5);
        let policy = PrivacyPolicy::default();
        let a = LinkIndex::new_with_policy(&snap, &policy);
        let b = LinkIndex::new_with_model(&snap, &policy, None);
        for q in [
            "total invoice amount by currency for pending invoices",
            "customers from Germany",
            "how many open support tickets have urgent priority",
        ] {
            assert_eq!(
                a.link(q, &LinkOptions::default()),
                b.link(q, &LinkOptions::default())
            );
        }
    }
}
