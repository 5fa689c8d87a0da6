//! The validation pipeline: parse, statement kind, global checks, scoped existence and
//! privacy checks with wildcard expansion and masking, row cap.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use querent_domain::Dialect;
use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    CaseWhen, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause, ObjectName, OrderBy, Query,
    Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAliasColumnDef,
    TableFactor, TableWithJoins, Value, Visit, VisitMut, Visitor, VisitorMut,
    WildcardAdditionalOptions,
};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::deny::is_denied;
use crate::schema::{GuardPolicy, GuardSchema, GuardTable, suggest};
use crate::{GuardError, ValidatedSql};

/// How deeply the parser may recurse before the statement is refused as too deep.
pub const RECURSION_LIMIT: usize = 64;

/// The longest SQL text accepted, in bytes.
pub const MAX_SQL_LEN: usize = 64 * 1024;

/// The most operator tokens (`+`, `=`, `AND`, `::`, …) a statement may contain. Operator
/// chains build trees as deep as they are long, and walking a very deep tree would
/// overflow the stack; real analytic queries stay far below this.
pub const MAX_OPERATORS: usize = 2_000;

/// Validates one statement for `dialect` against `schema` and `policy`.
///
/// On success the statement is a single read-only query whose tables and columns exist,
/// which touches nothing the policy excludes, calls no denied function, and carries a
/// `LIMIT` of at most `policy.max_rows + 1`. The SQL is rewritten on the way: wildcards over
/// known columns are expanded to the allowed ones and select-list items that show masked
/// columns are replaced by a mask (see the crate documentation).
pub fn validate(
    dialect: Dialect,
    sql: &str,
    schema: &GuardSchema,
    policy: &GuardPolicy,
) -> Result<ValidatedSql, GuardError> {
    if sql.len() > MAX_SQL_LEN {
        return Err(GuardError::TooLong {
            max_bytes: MAX_SQL_LEN,
        });
    }
    let mut statements = parse(dialect, sql)?;
    let mut statement = match statements.len() {
        0 => return Err(GuardError::Empty),
        1 => statements.remove(0),
        count => return Err(GuardError::MultipleStatements { count }),
    };
    let Statement::Query(query) = &mut statement else {
        return Err(GuardError::NotAQuery {
            kind: statement_kind(&statement),
        });
    };
    if let SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) =
        query.body.as_ref()
    {
        return Err(GuardError::NotAQuery {
            kind: statement_kind(s),
        });
    }
    let mut global = GlobalCheck { dialect };
    if let ControlFlow::Break(e) = Visit::visit(&**query, &mut global) {
        return Err(e);
    }
    let mut ctx = Ctx {
        dialect,
        schema,
        policy,
        scopes: Vec::new(),
        ctes: Vec::new(),
        referenced: BTreeSet::new(),
        output: true,
    };
    let outputs = ctx.check_query(query)?;
    let masked_columns = outputs
        .into_iter()
        .flatten()
        .filter(|c| c.masked)
        .filter_map(|c| c.name)
        .collect();
    let referenced = ctx.referenced.into_iter().collect();
    let row_limit = cap_rows(query, policy.max_rows);
    Ok(ValidatedSql {
        sql: query.to_string(),
        dialect,
        tables: referenced,
        max_rows: policy.max_rows,
        row_limit,
        masked_columns,
    })
}

fn parse(dialect: Dialect, sql: &str) -> Result<Vec<Statement>, GuardError> {
    let (pg, my, lite) = (PostgreSqlDialect {}, MySqlDialect {}, SQLiteDialect {});
    let parser_dialect: &dyn SqlDialect = match dialect {
        Dialect::Postgres => &pg,
        Dialect::Mysql => &my,
        Dialect::Sqlite => &lite,
    };
    let to_guard = |e: ParserError| match e {
        ParserError::RecursionLimitExceeded => GuardError::TooDeep,
        other => GuardError::Parse {
            message: other.to_string(),
        },
    };
    // Chains of binary operators (`1+1+…`) build trees as deep as they are long without
    // counting against the parser's recursion limit, so their number is bounded first.
    let tokens = Tokenizer::new(parser_dialect, sql)
        .tokenize_with_location()
        .map_err(|e| GuardError::Parse {
            message: e.to_string(),
        })?;
    if tokens.iter().filter(|t| is_operator(&t.token)).count() > MAX_OPERATORS {
        return Err(GuardError::TooDeep);
    }
    Parser::new(parser_dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(to_guard)
}

/// Whether the token can join two expressions (or negate one).
fn is_operator(token: &Token) -> bool {
    match token {
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::AND
                | Keyword::OR
                | Keyword::NOT
                | Keyword::XOR
                | Keyword::IS
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::RLIKE
                | Keyword::REGEXP
                | Keyword::SIMILAR
                | Keyword::BETWEEN
                | Keyword::IN
                | Keyword::COLLATE
                | Keyword::DIV
                | Keyword::MOD
                | Keyword::AT
                | Keyword::OVERLAPS
                | Keyword::GLOB
                | Keyword::MATCH
                | Keyword::ESCAPE
        ),
        Token::Whitespace(_)
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Comma
        | Token::Period
        | Token::SemiColon
        | Token::LParen
        | Token::RParen
        | Token::EOF => false,
        _ => true,
    }
}

/// The first keyword of the statement, e.g. `INSERT`, `DROP`.
fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    text.split_whitespace()
        .next()
        .unwrap_or("statement")
        .to_ascii_uppercase()
}

fn last_part(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default()
}

fn ident_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| p.as_ident().map(|i| i.value.clone()).unwrap_or_default())
        .collect()
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c)
        | JoinOperator::AsOf { constraint: c, .. } => Some(c),
        _ => None,
    }
}

/// Checks that do not need scoping: denied functions, locking clauses, `SELECT INTO`,
/// data-modifying subqueries and CTEs.
struct GlobalCheck {
    dialect: Dialect,
}

impl GlobalCheck {
    fn function(&self, name: &ObjectName) -> ControlFlow<GuardError> {
        let last = last_part(name);
        if is_denied(self.dialect, &last) {
            return ControlFlow::Break(GuardError::DeniedFunction {
                name: name.to_string(),
            });
        }
        ControlFlow::Continue(())
    }
}

fn modifies(body: &SetExpr) -> bool {
    match body {
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => true,
        SetExpr::SetOperation { left, right, .. } => modifies(left) || modifies(right),
        _ => false,
    }
}

impl Visitor for GlobalCheck {
    type Break = GuardError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<GuardError> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(GuardError::LockingClause);
        }
        if query.for_clause.is_some() || !query.pipe_operators.is_empty() {
            return ControlFlow::Break(GuardError::Unsupported {
                feature: "FOR/pipe clause".into(),
            });
        }
        if modifies(&query.body) {
            return ControlFlow::Break(GuardError::DataModifyingCte);
        }
        if let Some(with) = &query.with
            && with.cte_tables.iter().any(|c| modifies(&c.query.body))
        {
            return ControlFlow::Break(GuardError::DataModifyingCte);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<GuardError> {
        if select.into.is_some() {
            return ControlFlow::Break(GuardError::SelectInto);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<GuardError> {
        // Nested statements only appear inside data-modifying query bodies.
        if !matches!(statement, Statement::Query(_)) {
            return ControlFlow::Break(GuardError::DataModifyingCte);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<GuardError> {
        match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.function(name),
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<GuardError> {
        if let Expr::Function(f) = expr {
            return self.function(&f.name);
        }
        ControlFlow::Continue(())
    }
}

/// One output column of a query, as far as the guard knows it.
#[derive(Clone, Debug)]
struct OutCol {
    /// Its name as the database reports it; `None` for unaliased expressions, whose names
    /// differ between dialects.
    name: Option<String>,
    /// Whether its values are masked.
    masked: bool,
}

/// The output columns of a query, `None` when the guard does not know them (e.g. `*` over
/// a table function).
type Outputs = Option<Vec<OutCol>>;

/// How a reference relates to masking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mask {
    /// Nothing masked.
    None,
    /// The value comes from an output column that is already masked (CTE, derived table,
    /// subquery).
    Carried,
    /// A masked column of a schema table.
    Base,
}

/// A row source in a `FROM` clause.
#[derive(Clone, Debug)]
enum Source<'a> {
    /// A table of the schema.
    Table {
        /// The lower-cased name it is referred to by (alias or table name).
        binding: String,
        /// The qualifier as written, for expanded column references.
        qualifier: Ident,
        table: &'a GuardTable,
        /// Whether the alias renames the columns (`AS t(a, b)`).
        renamed: bool,
    },
    /// A CTE, derived table or table function.
    Derived {
        binding: Option<String>,
        qualifier: Option<Ident>,
        columns: Outputs,
    },
}

impl Source<'_> {
    fn unknown(binding: Option<String>) -> Self {
        Source::Derived {
            binding,
            qualifier: None,
            columns: None,
        }
    }

    fn binding(&self) -> Option<&str> {
        match self {
            Source::Table { binding, .. } => Some(binding),
            Source::Derived { binding, .. } => binding.as_deref(),
        }
    }

    fn qualifier(&self) -> Option<&Ident> {
        match self {
            Source::Table { qualifier, .. } => Some(qualifier),
            Source::Derived { qualifier, .. } => qualifier.as_ref(),
        }
    }

    /// The output columns of a derived source when every one of them has a known name.
    fn known(&self) -> Option<&[OutCol]> {
        match self {
            Source::Derived {
                columns: Some(cols),
                ..
            } if cols.iter().all(|c| c.name.is_some()) => Some(cols),
            _ => None,
        }
    }
}

fn find_out_col<'c>(cols: &'c [OutCol], name: &str) -> Option<&'c OutCol> {
    cols.iter().find(|c| {
        c.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

#[derive(Clone, Debug, Default)]
struct Scope<'a> {
    sources: Vec<Source<'a>>,
    /// Select-list aliases (lower-cased).
    aliases: Vec<String>,
    /// Output names of bare column references in the select list (lower-cased);
    /// PostgreSQL's and MySQL's `ORDER BY` may use them, so there they are not ambiguous
    /// (SQLite only looks at `AS` aliases).
    outputs: Vec<String>,
    /// Columns of `USING (…)` joins (lower-cased).
    using: Vec<String>,
    /// Whether a `NATURAL` join is part of the scope.
    natural: bool,
    /// Whether the select's `ORDER BY` is being checked (output names are visible there).
    in_order_by: bool,
}

impl Scope<'_> {
    fn opaque() -> Self {
        Scope {
            sources: vec![Source::unknown(None)],
            ..Scope::default()
        }
    }

    /// Whether some source has columns the guard does not know: names are then not checked.
    fn has_unknown(&self) -> bool {
        self.sources
            .iter()
            .any(|s| matches!(s, Source::Derived { .. }) && s.known().is_none())
    }
}

/// A CTE in scope and its output columns.
struct CteInfo {
    name: String,
    columns: Outputs,
}

/// What a table name resolved to.
enum Resolved<'a> {
    Table(&'a GuardTable),
    Cte(Outputs),
}

/// One rewritten select-list item, for `GROUP BY` fix-ups.
struct ItemInfo {
    /// Lower-cased output label.
    label: Option<String>,
    /// The expression before masking, when the item was masked by the rewrite.
    original: Option<Expr>,
}

/// A column from an expanded wildcard.
struct Expanded {
    expr: Expr,
    label: Ident,
    name: String,
    mask: Mask,
}

struct Ctx<'a> {
    dialect: Dialect,
    schema: &'a GuardSchema,
    policy: &'a GuardPolicy,
    scopes: Vec<Scope<'a>>,
    ctes: Vec<CteInfo>,
    referenced: BTreeSet<String>,
    /// Whether the SELECT being checked can reach the result (outermost query, CTEs,
    /// derived tables, set-operation branches, subqueries in the select list); only those
    /// have their masked columns rewritten. Subqueries in `WHERE`, `ON`, `GROUP BY`,
    /// `HAVING`, `ORDER BY` and `LIMIT` only filter or order.
    output: bool,
}

impl<'a> Ctx<'a> {
    /// The name the database gives an identifier: PostgreSQL folds unquoted names to lower
    /// case, MySQL and SQLite keep them as written.
    fn ident_name(&self, ident: &Ident) -> String {
        if ident.quote_style.is_none() && self.dialect == Dialect::Postgres {
            ident.value.to_lowercase()
        } else {
            ident.value.clone()
        }
    }

    /// An identifier for `name`, quoted when it has to be.
    fn make_ident(&self, name: &str) -> Ident {
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            && (self.dialect != Dialect::Postgres || !name.chars().any(|c| c.is_ascii_uppercase()))
            && !is_reserved(name);
        if plain {
            Ident::new(name)
        } else if self.dialect == Dialect::Mysql {
            Ident::with_quote('`', name)
        } else {
            Ident::with_quote('"', name)
        }
    }

    /// Runs `f` with `output` off: clauses that filter or order rather than produce rows.
    fn not_output<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, GuardError>,
    ) -> Result<T, GuardError> {
        let saved = std::mem::replace(&mut self.output, false);
        let result = f(self);
        self.output = saved;
        result
    }

    fn check_query(&mut self, query: &mut Query) -> Result<Outputs, GuardError> {
        let ctes_before = self.ctes.len();
        let result = self.check_query_inner(query);
        self.ctes.truncate(ctes_before);
        result
    }

    fn check_query_inner(&mut self, query: &mut Query) -> Result<Outputs, GuardError> {
        if let Some(with) = &mut query.with {
            let first = self.ctes.len();
            if with.recursive {
                for cte in &with.cte_tables {
                    self.ctes.push(CteInfo {
                        name: cte.alias.name.value.to_lowercase(),
                        columns: None,
                    });
                }
            }
            for (i, cte) in with.cte_tables.iter_mut().enumerate() {
                let out = self.check_query(&mut cte.query)?;
                let columns = self.rename(out, &cte.alias.columns);
                if with.recursive {
                    self.ctes[first + i].columns = columns;
                } else {
                    self.ctes.push(CteInfo {
                        name: cte.alias.name.value.to_lowercase(),
                        columns,
                    });
                }
            }
        }
        let out = self.check_set_expr(&mut query.body, query.order_by.as_mut())?;
        // LIMIT/OFFSET/FETCH expressions: no column references are meaningful there.
        self.with_scope(Scope::default(), |ctx| {
            ctx.not_output(|ctx| {
                ctx.check_node(&mut query.limit_clause)?;
                ctx.check_node(&mut query.fetch)
            })
        })?;
        Ok(out)
    }

    /// Applies column aliases (`AS t(a, b)`) to known output columns.
    fn rename(&self, out: Outputs, aliases: &[TableAliasColumnDef]) -> Outputs {
        if aliases.is_empty() {
            return out;
        }
        let mut cols = out?;
        if aliases.len() > cols.len() {
            return None;
        }
        for (col, alias) in cols.iter_mut().zip(aliases) {
            col.name = Some(self.ident_name(&alias.name));
        }
        Some(cols)
    }

    fn with_scope<T>(
        &mut self,
        scope: Scope<'a>,
        f: impl FnOnce(&mut Self) -> Result<T, GuardError>,
    ) -> Result<T, GuardError> {
        self.scopes.push(scope);
        let result = f(self);
        self.scopes.pop();
        result
    }

    fn check_set_expr(
        &mut self,
        body: &mut SetExpr,
        order_by: Option<&mut OrderBy>,
    ) -> Result<Outputs, GuardError> {
        let out = match body {
            SetExpr::Select(select) => return self.check_select(select, order_by),
            SetExpr::Query(q) => self.check_query(q)?,
            SetExpr::SetOperation { left, right, .. } => {
                let left_out = self.check_set_expr(left, None)?;
                let right_out = self.check_set_expr(right, None)?;
                match (left_out, right_out) {
                    (Some(mut out), Some(right_out)) if out.len() == right_out.len() => {
                        for (l, r) in out.iter_mut().zip(right_out) {
                            l.masked |= r.masked;
                        }
                        if self.output && self.dialect == Dialect::Postgres {
                            let positions: Vec<usize> = out
                                .iter()
                                .enumerate()
                                .filter(|(_, c)| c.masked)
                                .map(|(i, _)| i)
                                .collect();
                            if !positions.is_empty() {
                                cast_to_text(left, &positions);
                                cast_to_text(right, &positions);
                            }
                        }
                        Some(out)
                    }
                    (left, _) => left,
                }
            }
            SetExpr::Values(values) => {
                self.with_scope(Scope::default(), |ctx| ctx.check_node(values))?;
                None
            }
            SetExpr::Table(table) => {
                let name = table
                    .table_name
                    .as_ref()
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let schema_name = table.schema_name.as_ref().map(|i| i.value.clone());
                match self.resolve_table(schema_name.as_deref(), &name)? {
                    Resolved::Table(t) => {
                        if let Some(col) = self.policy.first_excluded_column(t) {
                            return Err(GuardError::PolicyViolation { object: col });
                        }
                        if self.policy.any_masked(t) {
                            return Err(GuardError::Unsupported {
                                feature: format!(
                                    "TABLE {} has masked columns; select the columns instead",
                                    t.name
                                ),
                            });
                        }
                        Some(
                            t.columns
                                .iter()
                                .map(|c| OutCol {
                                    name: Some(c.clone()),
                                    masked: false,
                                })
                                .collect(),
                        )
                    }
                    Resolved::Cte(cols) => cols,
                }
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                return Err(GuardError::DataModifyingCte);
            }
        };
        // ORDER BY of a set operation refers to output columns: only subqueries and
        // functions in it are checked.
        if let Some(order_by) = order_by {
            self.with_scope(Scope::opaque(), |ctx| {
                ctx.not_output(|ctx| ctx.check_node(order_by))
            })?;
        }
        Ok(out)
    }

    /// Resolves a table name; records schema tables; enforces table exclusion.
    fn resolve_table(
        &mut self,
        schema_name: Option<&str>,
        name: &str,
    ) -> Result<Resolved<'a>, GuardError> {
        if schema_name.is_none()
            && let Some(cte) = self
                .ctes
                .iter()
                .rev()
                .find(|c| c.name.eq_ignore_ascii_case(name))
        {
            return Ok(Resolved::Cte(cte.columns.clone()));
        }
        let Some(table) = self.schema.find(schema_name, name) else {
            let written = match schema_name {
                Some(s) => format!("{s}.{name}"),
                None => name.to_string(),
            };
            let mut candidates: Vec<&str> = self
                .schema
                .tables()
                .iter()
                .filter(|t| !self.policy.table_excluded(t))
                .map(|t| t.name.as_str())
                .collect();
            candidates.extend(self.ctes.iter().map(|c| c.name.as_str()));
            return Err(GuardError::UnknownTable {
                suggestions: suggest(name, candidates),
                name: written,
            });
        };
        if self.policy.table_excluded(table) {
            return Err(GuardError::PolicyViolation {
                object: table.qualified_name(),
            });
        }
        self.referenced.insert(table.qualified_name());
        Ok(Resolved::Table(table))
    }

    fn add_table_with_joins(
        &mut self,
        twj: &mut TableWithJoins,
        scope: &mut Scope<'a>,
    ) -> Result<(), GuardError> {
        self.add_factor(&mut twj.relation, scope)?;
        for join in &mut twj.joins {
            self.add_factor(&mut join.relation, scope)?;
            match join_constraint(&join.join_operator) {
                Some(JoinConstraint::Using(names) | JoinConstraint::UsingAlias(names, _)) => {
                    scope
                        .using
                        .extend(names.iter().map(|n| last_part(n).to_lowercase()));
                }
                Some(JoinConstraint::Natural) => scope.natural = true,
                _ => {}
            }
        }
        Ok(())
    }

    fn add_factor(
        &mut self,
        factor: &mut TableFactor,
        scope: &mut Scope<'a>,
    ) -> Result<(), GuardError> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let binding = alias.as_ref().map(|a| a.name.value.to_lowercase());
                if let Some(args) = args {
                    // A table-valued function: check its arguments, columns unknown.
                    let partial = scope.clone();
                    self.with_scope(partial, |ctx| ctx.check_node(args))?;
                    scope.sources.push(Source::unknown(binding));
                    return Ok(());
                }
                let parts = ident_parts(name);
                let (schema_name, table_name) = match parts.as_slice() {
                    [t] => (None, t.clone()),
                    [.., s, t] => (Some(s.clone()), t.clone()),
                    [] => (None, String::new()),
                };
                let qualifier = alias
                    .as_ref()
                    .map(|a| a.name.clone())
                    .or_else(|| name.0.last().and_then(|p| p.as_ident()).cloned())
                    .unwrap_or_else(|| Ident::new(&table_name));
                let alias_columns = alias.as_ref().map(|a| a.columns.as_slice()).unwrap_or(&[]);
                match self.resolve_table(schema_name.as_deref(), &table_name)? {
                    Resolved::Table(table) => scope.sources.push(Source::Table {
                        binding: binding.unwrap_or_else(|| table.name.to_lowercase()),
                        qualifier,
                        table,
                        renamed: !alias_columns.is_empty(),
                    }),
                    Resolved::Cte(columns) => scope.sources.push(Source::Derived {
                        binding: Some(binding.unwrap_or_else(|| table_name.to_lowercase())),
                        qualifier: Some(qualifier),
                        columns: self.rename(columns, alias_columns),
                    }),
                }
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let out = if *lateral {
                    let partial = scope.clone();
                    self.with_scope(partial, |ctx| ctx.check_query(subquery))?
                } else {
                    self.check_query(subquery)?
                };
                let alias_columns = alias.as_ref().map(|a| a.columns.as_slice()).unwrap_or(&[]);
                scope.sources.push(Source::Derived {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                    qualifier: alias.as_ref().map(|a| a.name.clone()),
                    columns: self.rename(out, alias_columns),
                });
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                self.add_table_with_joins(table_with_joins, scope)?;
                if let Some(alias) = alias {
                    scope
                        .sources
                        .push(Source::unknown(Some(alias.name.value.to_lowercase())));
                }
            }
            TableFactor::TableFunction { alias, .. }
            | TableFactor::Function { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::JsonTable { alias, .. } => {
                let binding = alias.as_ref().map(|a| a.name.value.to_lowercase());
                let partial = scope.clone();
                self.with_scope(partial, |ctx| ctx.check_node(factor))?;
                scope.sources.push(Source::unknown(binding));
            }
            _ => {
                return Err(GuardError::Unsupported {
                    feature: "this kind of FROM item".into(),
                });
            }
        }
        Ok(())
    }

    /// Checks the join conditions of a `FROM` item (in the scope of the whole `FROM`).
    fn check_joins(&mut self, twj: &mut TableWithJoins) -> Result<(), GuardError> {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = &mut twj.relation
        {
            self.check_joins(table_with_joins)?;
        }
        for join in &mut twj.joins {
            if let TableFactor::NestedJoin {
                table_with_joins, ..
            } = &mut join.relation
            {
                self.check_joins(table_with_joins)?;
            }
            self.check_node(&mut join.join_operator)?;
            if let Some(JoinConstraint::Using(names) | JoinConstraint::UsingAlias(names, _)) =
                join_constraint(&join.join_operator)
            {
                for name in names {
                    self.check_ident(&Ident::new(last_part(name)))?;
                }
            }
        }
        Ok(())
    }

    fn check_select(
        &mut self,
        select: &mut Select,
        order_by: Option<&mut OrderBy>,
    ) -> Result<Outputs, GuardError> {
        if select.into.is_some() {
            return Err(GuardError::SelectInto);
        }
        let mut scope = Scope::default();
        for twj in &mut select.from {
            self.add_table_with_joins(twj, &mut scope)?;
        }
        if !select.lateral_views.is_empty() {
            scope.sources.push(Source::unknown(None));
        }
        for item in &select.projection {
            match item {
                SelectItem::ExprWithAlias { alias, .. } => {
                    scope.aliases.push(alias.value.to_lowercase());
                }
                SelectItem::UnnamedExpr(Expr::Identifier(i)) => {
                    scope.outputs.push(i.value.to_lowercase());
                }
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
                    if let Some(last) = parts.last() {
                        scope.outputs.push(last.value.to_lowercase());
                    }
                }
                _ => {}
            }
        }
        self.with_scope(scope, |ctx| {
            ctx.not_output(|ctx| {
                for twj in &mut select.from {
                    ctx.check_joins(twj)?;
                }
                Ok(())
            })?;
            let (outputs, items) = ctx.check_projection(&mut select.projection)?;
            if let GroupByExpr::Expressions(exprs, _) = &mut select.group_by {
                ctx.regroup(exprs, &items);
            }
            ctx.not_output(|ctx| {
                ctx.check_node(&mut select.selection)?;
                ctx.check_node(&mut select.prewhere)?;
                if let GroupByExpr::Expressions(exprs, _) = &mut select.group_by {
                    for e in exprs {
                        ctx.check_node(e)?;
                    }
                }
                ctx.check_node(&mut select.having)?;
                ctx.check_node(&mut select.qualify)?;
                ctx.check_node(&mut select.named_window)?;
                ctx.check_node(&mut select.sort_by)?;
                ctx.check_node(&mut select.cluster_by)?;
                ctx.check_node(&mut select.distribute_by)?;
                ctx.check_node(&mut select.connect_by)?;
                ctx.check_node(&mut select.top)?;
                ctx.check_node(&mut select.distinct)?;
                match order_by {
                    Some(o) => {
                        if let Some(scope) = ctx.scopes.last_mut() {
                            scope.in_order_by = true;
                        }
                        ctx.check_node(o)
                    }
                    None => Ok(()),
                }
            })?;
            Ok(outputs)
        })
    }

    /// Checks the select list, expands wildcards and masks what the policy masks. Returns
    /// the output columns and, per output position, what the `GROUP BY` fix-up needs.
    fn check_projection(
        &mut self,
        projection: &mut Vec<SelectItem>,
    ) -> Result<(Outputs, Vec<ItemInfo>), GuardError> {
        let old = std::mem::take(projection);
        let mut outputs = Some(Vec::new());
        let mut infos = Vec::new();
        for item in old {
            match item {
                SelectItem::Wildcard(opts) => match self.expand(None, &opts)? {
                    Some(cols) => {
                        for col in cols {
                            self.push_expr(
                                projection,
                                &mut outputs,
                                &mut infos,
                                col.expr,
                                None,
                                Some((col.label, col.name)),
                                col.mask,
                            );
                        }
                    }
                    None => {
                        projection.push(SelectItem::Wildcard(opts));
                        outputs = None;
                    }
                },
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    opts,
                ) => match self.expand(Some(&name), &opts)? {
                    Some(cols) => {
                        for col in cols {
                            self.push_expr(
                                projection,
                                &mut outputs,
                                &mut infos,
                                col.expr,
                                None,
                                Some((col.label, col.name)),
                                col.mask,
                            );
                        }
                    }
                    None => {
                        projection.push(SelectItem::QualifiedWildcard(
                            SelectItemQualifiedWildcardKind::ObjectName(name),
                            opts,
                        ));
                        outputs = None;
                    }
                },
                mut item @ (SelectItem::QualifiedWildcard(..)
                | SelectItem::ExprWithAliases { .. }) => {
                    if self.check_masked(&mut item)? != Mask::None && self.output {
                        return Err(GuardError::Unsupported {
                            feature: "this select-list form over masked columns".into(),
                        });
                    }
                    projection.push(item);
                    outputs = None;
                }
                SelectItem::UnnamedExpr(mut expr) => {
                    let mask = self.check_masked(&mut expr)?;
                    let label = match &expr {
                        Expr::Identifier(i) => Some(i.clone()),
                        Expr::CompoundIdentifier(parts) => parts.last().cloned(),
                        _ => None,
                    }
                    .map(|i| {
                        let name = self.ident_name(&i);
                        (i, name)
                    });
                    self.push_expr(
                        projection,
                        &mut outputs,
                        &mut infos,
                        expr,
                        None,
                        label,
                        mask,
                    );
                }
                SelectItem::ExprWithAlias { mut expr, alias } => {
                    let mask = self.check_masked(&mut expr)?;
                    let name = self.ident_name(&alias);
                    self.push_expr(
                        projection,
                        &mut outputs,
                        &mut infos,
                        expr,
                        Some(alias.clone()),
                        Some((alias, name)),
                        mask,
                    );
                }
            }
        }
        Ok((outputs, infos))
    }

    /// Adds one select-list expression, masked when it has to be. `label` is the output
    /// name (identifier as written, name as reported) when known.
    #[allow(clippy::too_many_arguments)]
    fn push_expr(
        &self,
        projection: &mut Vec<SelectItem>,
        outputs: &mut Outputs,
        infos: &mut Vec<ItemInfo>,
        expr: Expr,
        alias: Option<Ident>,
        label: Option<(Ident, String)>,
        mask: Mask,
    ) {
        let bare = matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
        // A bare reference to an already masked output stays as it is; so does an
        // expression that is already the mask (validating rewritten SQL again).
        let rewrite = self.output
            && (mask == Mask::Base || (mask == Mask::Carried && !bare))
            && !is_mask(&expr);
        let masked = mask != Mask::None;
        if rewrite {
            let (ident, name) = label.unwrap_or_else(|| {
                let name = self.default_label(&expr);
                (self.make_ident(&name), name)
            });
            projection.push(SelectItem::ExprWithAlias {
                expr: mask_expr(expr.clone()),
                alias: ident,
            });
            infos.push(ItemInfo {
                label: Some(name.to_lowercase()),
                original: Some(expr),
            });
            if let Some(outputs) = outputs {
                outputs.push(OutCol {
                    name: Some(name),
                    masked: true,
                });
            }
            return;
        }
        let name = label.map(|(_, name)| name);
        infos.push(ItemInfo {
            label: name.as_ref().map(|n| n.to_lowercase()),
            original: None,
        });
        if let Some(outputs) = outputs {
            outputs.push(OutCol { name, masked });
        }
        projection.push(match alias {
            Some(alias) => SelectItem::ExprWithAlias { expr, alias },
            None => SelectItem::UnnamedExpr(expr),
        });
    }

    /// The output name a dialect gives an unaliased expression (approximately).
    fn default_label(&self, expr: &Expr) -> String {
        fn pg(ctx: &Ctx<'_>, expr: &Expr) -> Option<String> {
            match expr {
                Expr::Identifier(i) => Some(ctx.ident_name(i)),
                Expr::CompoundIdentifier(parts) => parts.last().map(|i| ctx.ident_name(i)),
                Expr::Function(f) => f.name.0.last()?.as_ident().map(|i| ctx.ident_name(i)),
                Expr::Cast { expr, .. } | Expr::Nested(expr) => pg(ctx, expr),
                Expr::Case { .. } => Some("case".into()),
                Expr::Exists { .. } => Some("exists".into()),
                Expr::Subquery(q) => match q.body.as_ref() {
                    SetExpr::Select(select) => match select.projection.as_slice() {
                        [SelectItem::ExprWithAlias { alias, .. }] => Some(ctx.ident_name(alias)),
                        [SelectItem::UnnamedExpr(e)] => pg(ctx, e),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            }
        }
        match self.dialect {
            Dialect::Postgres => pg(self, expr).unwrap_or_else(|| "?column?".into()),
            Dialect::Mysql | Dialect::Sqlite => expr.to_string().chars().take(64).collect(),
        }
    }

    /// The columns of a `*` or `t.*`, or `None` when they cannot be listed (then the
    /// wildcard stays, unless an excluded or masked column could come out of it).
    fn expand(
        &self,
        qualifier: Option<&ObjectName>,
        opts: &WildcardAdditionalOptions,
    ) -> Result<Option<Vec<Expanded>>, GuardError> {
        let plain = opts.opt_ilike.is_none()
            && opts.opt_exclude.is_none()
            && opts.opt_except.is_none()
            && opts.opt_replace.is_none()
            && opts.opt_rename.is_none()
            && opts.opt_alias.is_none();
        let scope = self.scopes.last();
        let (sources, qualified_by) = match qualifier {
            None => (scope.map(|s| s.sources.clone()).unwrap_or_default(), None),
            Some(name) => {
                let q = last_part(name).to_lowercase();
                match self.find_binding(&q) {
                    Some(source) => {
                        let parts: Option<Vec<Ident>> =
                            name.0.iter().map(|p| p.as_ident().cloned()).collect();
                        (vec![source], parts)
                    }
                    None => return Err(self.unknown_qualifier(&q)),
                }
            }
        };
        let join_columns =
            qualifier.is_none() && scope.is_some_and(|s| s.natural || !s.using.is_empty());
        let multi = sources.len() > 1;
        let mut expanded = (plain && !join_columns).then(Vec::new);
        for source in &sources {
            let Some(list) = expanded.as_mut() else { break };
            let qual: Option<Vec<Ident>> = match &qualified_by {
                Some(parts) => Some(parts.clone()),
                None if multi => source.qualifier().map(|i| vec![i.clone()]),
                None => Some(Vec::new()),
            };
            match (self.source_columns(source), qual) {
                (Some(cols), Some(qual)) => {
                    for (name, mask) in cols {
                        let label = self.make_ident(&name);
                        let expr = if qual.is_empty() {
                            Expr::Identifier(label.clone())
                        } else {
                            let mut parts = qual.clone();
                            parts.push(label.clone());
                            Expr::CompoundIdentifier(parts)
                        };
                        list.push(Expanded {
                            expr,
                            label,
                            name,
                            mask,
                        });
                    }
                }
                _ => expanded = None,
            }
        }
        match expanded {
            Some(list) if !list.is_empty() => Ok(Some(list)),
            _ => {
                for source in &sources {
                    if let Source::Table { table, .. } = source {
                        if let Some(col) = self.policy.first_excluded_column(table) {
                            return Err(GuardError::PolicyViolation { object: col });
                        }
                        if self.output && self.policy.any_masked(table) {
                            return Err(GuardError::Unsupported {
                                feature: format!(
                                    "`*` that cannot be expanded over `{}`, which has masked \
                                     columns; list the columns instead",
                                    table.name
                                ),
                            });
                        }
                    }
                }
                Ok(None)
            }
        }
    }

    /// The columns a wildcard over this source yields, with their masking, or `None` when
    /// the guard does not know them.
    fn source_columns(&self, source: &Source<'_>) -> Option<Vec<(String, Mask)>> {
        match source {
            Source::Table { renamed: true, .. } => None,
            Source::Table { table, .. } => Some(
                table
                    .columns
                    .iter()
                    .filter(|c| !self.policy.column_excluded(table, c))
                    .map(|c| {
                        let mask = if self.policy.column_masked(table, c) {
                            Mask::Base
                        } else {
                            Mask::None
                        };
                        (c.clone(), mask)
                    })
                    .collect(),
            ),
            Source::Derived { .. } => {
                let cols = source.known()?;
                let mut names: Vec<String> = Vec::new();
                for c in cols {
                    let name = c.name.clone()?;
                    if names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                        // duplicate names cannot be referenced one by one
                        return None;
                    }
                    names.push(name);
                }
                Some(
                    names
                        .into_iter()
                        .zip(cols)
                        .map(|(n, c)| (n, if c.masked { Mask::Carried } else { Mask::None }))
                        .collect(),
                )
            }
        }
    }

    /// `GROUP BY alias` and `GROUP BY 1` refer to the select-list expression; when that
    /// one was masked, group by the original expression so the groups stay the same.
    fn regroup(&self, exprs: &mut [Expr], items: &[ItemInfo]) {
        let scope = self.scopes.last();
        for e in exprs {
            let target = match &*e {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => n
                        .parse::<usize>()
                        .ok()
                        .and_then(|n| n.checked_sub(1))
                        .and_then(|i| items.get(i)),
                    _ => None,
                },
                Expr::Identifier(id) => {
                    let is_column = scope.is_some_and(|s| {
                        s.sources.iter().any(|src| match src {
                            Source::Table { table, .. } => table.has_column(&id.value),
                            Source::Derived { columns, .. } => columns
                                .as_deref()
                                .is_none_or(|cols| find_out_col(cols, &id.value).is_some()),
                        })
                    });
                    if is_column {
                        None
                    } else {
                        let name = id.value.to_lowercase();
                        items
                            .iter()
                            .find(|i| i.original.is_some() && i.label.as_deref() == Some(&name))
                    }
                }
                _ => None,
            };
            if let Some(original) = target.and_then(|t| t.original.as_ref()) {
                *e = original.clone();
            }
        }
    }

    fn find_binding(&self, qualifier: &str) -> Option<Source<'a>> {
        for scope in self.scopes.iter().rev() {
            for source in &scope.sources {
                let hit = match source {
                    Source::Table { binding, table, .. } => {
                        binding.eq_ignore_ascii_case(qualifier)
                            || table.name.eq_ignore_ascii_case(qualifier)
                    }
                    Source::Derived {
                        binding: Some(binding),
                        ..
                    } => binding.eq_ignore_ascii_case(qualifier),
                    Source::Derived { .. } => false,
                };
                if hit {
                    return Some(source.clone());
                }
            }
        }
        None
    }

    fn unknown_qualifier(&self, qualifier: &str) -> GuardError {
        let bindings: Vec<&str> = self
            .scopes
            .iter()
            .flat_map(|s| s.sources.iter())
            .filter_map(Source::binding)
            .collect();
        GuardError::UnknownTable {
            name: qualifier.to_string(),
            suggestions: suggest(qualifier, bindings),
        }
    }

    fn check_node<V: VisitMut + ?Sized>(&mut self, node: &mut V) -> Result<(), GuardError> {
        self.check_masked(node).map(|_| ())
    }

    /// Checks a node; returns how its column references relate to masking (references
    /// inside `COUNT(…)` do not count).
    fn check_masked<V: VisitMut + ?Sized>(&mut self, node: &mut V) -> Result<Mask, GuardError> {
        let mut checker = ExprCheck {
            ctx: self,
            depth: 0,
            count_depth: 0,
            mask: Mask::None,
        };
        match node.visit(&mut checker) {
            ControlFlow::Break(e) => Err(e),
            ControlFlow::Continue(()) => Ok(checker.mask),
        }
    }

    fn check_ident(&self, ident: &Ident) -> Result<Mask, GuardError> {
        let name = ident.value.as_str();
        for scope in self.scopes.iter().rev() {
            let mut hits: Vec<String> = Vec::new();
            let mut mask = Mask::None;
            for source in &scope.sources {
                match source {
                    Source::Table { table, binding, .. } if table.has_column(name) => {
                        if self.policy.column_excluded(table, name) {
                            return Err(GuardError::PolicyViolation {
                                object: format!("{}.{name}", table.name),
                            });
                        }
                        hits.push(binding.clone());
                        if self.policy.column_masked(table, name) {
                            mask = mask.max(Mask::Base);
                        }
                    }
                    Source::Derived {
                        columns: Some(cols),
                        binding,
                        ..
                    } => {
                        if let Some(col) = find_out_col(cols, name) {
                            hits.push(binding.clone().unwrap_or_else(|| "(subquery)".into()));
                            if col.masked {
                                mask = mask.max(Mask::Carried);
                            }
                        }
                    }
                    _ => {}
                }
            }
            let lower = name.to_lowercase();
            let is_alias = scope.aliases.contains(&lower);
            let exempt = is_alias
                || scope.natural
                || scope.using.contains(&lower)
                || (scope.in_order_by
                    && self.dialect != Dialect::Sqlite
                    && scope.outputs.contains(&lower));
            if hits.len() > 1 && !exempt {
                return Err(GuardError::AmbiguousColumn {
                    name: name.to_string(),
                    candidates: hits,
                });
            }
            if !hits.is_empty() {
                return Ok(mask);
            }
            if scope.has_unknown() || is_alias {
                return Ok(Mask::None);
            }
            // A whole-row reference such as `SELECT c FROM customers c` (PostgreSQL).
            for source in &scope.sources {
                if source
                    .binding()
                    .is_some_and(|b| b.eq_ignore_ascii_case(name))
                {
                    return match source {
                        Source::Table { table, .. } => {
                            match self.policy.first_excluded_column(table) {
                                Some(col) => Err(GuardError::PolicyViolation { object: col }),
                                None if self.policy.any_masked(table) => Ok(Mask::Base),
                                None => Ok(Mask::None),
                            }
                        }
                        Source::Derived { columns, .. } => {
                            Ok(if columns.iter().flatten().any(|c| c.masked) {
                                Mask::Carried
                            } else {
                                Mask::None
                            })
                        }
                    };
                }
            }
        }
        // MySQL and SQLite read unknown double-quoted identifiers as strings.
        if self.dialect != Dialect::Postgres && ident.quote_style == Some('"') {
            return Ok(Mask::None);
        }
        let mut candidates: Vec<&str> = Vec::new();
        for scope in &self.scopes {
            for source in &scope.sources {
                match source {
                    Source::Table { table, .. } => candidates.extend(
                        table
                            .columns
                            .iter()
                            .filter(|c| !self.policy.column_excluded(table, c))
                            .map(String::as_str),
                    ),
                    Source::Derived {
                        columns: Some(cols),
                        ..
                    } => candidates.extend(cols.iter().filter_map(|c| c.name.as_deref())),
                    Source::Derived { .. } => {}
                }
            }
            candidates.extend(scope.aliases.iter().map(String::as_str));
        }
        Err(GuardError::UnknownColumn {
            name: name.to_string(),
            suggestions: suggest(name, candidates),
        })
    }

    /// A whole-row reference `t.*` (or `*`: every source of the current scope) inside an
    /// expression: refused when a table under it has an excluded column; masked when one
    /// has a masked column.
    fn check_whole_row(&self, qualifier: Option<&ObjectName>) -> Result<Mask, GuardError> {
        let sources = match qualifier {
            Some(name) => {
                let q = last_part(name).to_lowercase();
                match self.find_binding(&q) {
                    Some(source) => vec![source],
                    None => return Err(self.unknown_qualifier(&q)),
                }
            }
            None => self
                .scopes
                .last()
                .map(|s| s.sources.clone())
                .unwrap_or_default(),
        };
        let mut mask = Mask::None;
        for source in &sources {
            match source {
                Source::Table { table, .. } => {
                    if let Some(col) = self.policy.first_excluded_column(table) {
                        return Err(GuardError::PolicyViolation { object: col });
                    }
                    if self.policy.any_masked(table) {
                        mask = Mask::Base;
                    }
                }
                Source::Derived { columns, .. } => {
                    if columns.iter().flatten().any(|c| c.masked) {
                        mask = mask.max(Mask::Carried);
                    }
                }
            }
        }
        Ok(mask)
    }

    fn check_compound(&self, parts: &[Ident]) -> Result<Mask, GuardError> {
        // `table.col`, `schema.table.col`, `db.schema.table.col`: the last two parts decide.
        let (qualifier, column) = match parts {
            [.., q, c] => (q.value.as_str(), c.value.as_str()),
            _ => return Ok(Mask::None),
        };
        let unknown = |candidates: Vec<&str>| GuardError::UnknownColumn {
            name: format!("{qualifier}.{column}"),
            suggestions: suggest(column, candidates)
                .into_iter()
                .map(|c| format!("{qualifier}.{c}"))
                .collect(),
        };
        match self.find_binding(qualifier) {
            Some(Source::Table { table, .. }) => {
                if !table.has_column(column) {
                    return Err(unknown(
                        table
                            .columns
                            .iter()
                            .filter(|c| !self.policy.column_excluded(table, c))
                            .map(String::as_str)
                            .collect(),
                    ));
                }
                if self.policy.column_excluded(table, column) {
                    return Err(GuardError::PolicyViolation {
                        object: format!("{}.{column}", table.name),
                    });
                }
                Ok(if self.policy.column_masked(table, column) {
                    Mask::Base
                } else {
                    Mask::None
                })
            }
            Some(source @ Source::Derived { .. }) => {
                let Source::Derived { columns, .. } = &source else {
                    return Ok(Mask::None);
                };
                match columns
                    .as_deref()
                    .and_then(|cols| find_out_col(cols, column))
                {
                    Some(col) if col.masked => Ok(Mask::Carried),
                    Some(_) => Ok(Mask::None),
                    None => match source.known() {
                        Some(cols) => Err(unknown(
                            cols.iter().filter_map(|c| c.name.as_deref()).collect(),
                        )),
                        None => Ok(Mask::None),
                    },
                }
            }
            None => {
                // A column of composite type, `col.field`, resolves like a column.
                let as_column = Ident::new(qualifier);
                if parts.len() == 2
                    && let Ok(mask) = self.check_ident(&as_column)
                {
                    return Ok(mask);
                }
                Err(self.unknown_qualifier(qualifier))
            }
        }
    }
}

/// `CASE WHEN (<expr>) IS NULL THEN NULL ELSE '****' END`: the value is hidden, `NULL`
/// stays `NULL`. Valid in PostgreSQL, MySQL/MariaDB and SQLite.
fn mask_expr(expr: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: Expr::IsNull(Box::new(Expr::Nested(Box::new(expr)))),
            result: Expr::value(Value::Null),
        }],
        else_result: Some(Box::new(Expr::value(Value::SingleQuotedString(
            MASK.into(),
        )))),
    }
}

/// PostgreSQL requires matching column types across set-operation branches, and a masked
/// value is text: at the masked positions, every branch that is not the mask itself is cast
/// to text (PostgreSQL keeps the column name through a cast).
fn cast_to_text(body: &mut SetExpr, positions: &[usize]) {
    match body {
        SetExpr::Select(select) => {
            for &i in positions {
                let Some(SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) =
                    select.projection.get_mut(i)
                else {
                    continue;
                };
                if is_mask(expr)
                    || matches!(
                        expr,
                        Expr::Cast {
                            data_type: DataType::Text,
                            ..
                        }
                    )
                {
                    continue;
                }
                let inner = std::mem::replace(expr, Expr::value(Value::Null));
                *expr = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(inner),
                    data_type: DataType::Text,
                    format: None,
                };
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            cast_to_text(left, positions);
            cast_to_text(right, positions);
        }
        SetExpr::Query(q) => cast_to_text(&mut q.body, positions),
        _ => {}
    }
}

/// The text masked values are replaced with.
const MASK: &str = "****";

/// Whether the expression is already the mask built by [`mask_expr`].
fn is_mask(expr: &Expr) -> bool {
    match expr {
        Expr::Case {
            operand: None,
            conditions,
            else_result: Some(else_result),
            ..
        } => {
            matches!(conditions.as_slice(), [CaseWhen {
                condition: Expr::IsNull(_),
                result: Expr::Value(null),
            }] if null.value == Value::Null)
                && matches!(else_result.as_ref(), Expr::Value(v)
                    if v.value == Value::SingleQuotedString(MASK.into()))
        }
        _ => false,
    }
}

/// Words that cannot be used as bare column names in at least one of the dialects.
fn is_reserved(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "add",
        "all",
        "alter",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "between",
        "both",
        "by",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "cross",
        "current_date",
        "current_time",
        "current_timestamp",
        "current_user",
        "database",
        "default",
        "delete",
        "desc",
        "distinct",
        "div",
        "do",
        "drop",
        "else",
        "end",
        "except",
        "exists",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "if",
        "in",
        "index",
        "inner",
        "insert",
        "interval",
        "intersect",
        "into",
        "is",
        "join",
        "key",
        "keys",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "match",
        "mod",
        "natural",
        "not",
        "null",
        "offset",
        "on",
        "or",
        "order",
        "outer",
        "over",
        "partition",
        "primary",
        "range",
        "rank",
        "references",
        "regexp",
        "rename",
        "replace",
        "right",
        "row",
        "rows",
        "select",
        "session_user",
        "set",
        "show",
        "some",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "update",
        "usage",
        "user",
        "using",
        "values",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&name.to_ascii_lowercase().as_str())
}

/// Checks column references in expressions against the current scopes; subqueries met on
/// the way are checked (and rewritten) as queries of their own, with the current scopes as
/// outer scopes. Records whether a masked column is referenced outside `COUNT(…)`.
struct ExprCheck<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    depth: usize,
    count_depth: usize,
    mask: Mask,
}

/// Whether the expression is a call of the built-in `COUNT` (unqualified, so a user function
/// `some_schema.count` does not qualify).
fn is_count(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f)
        if f.name.0.len() == 1 && last_part(&f.name).eq_ignore_ascii_case("count"))
}

impl VisitorMut for ExprCheck<'_, '_> {
    type Break = GuardError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<GuardError> {
        if self.depth == 0 {
            match self.ctx.check_query(query) {
                Ok(out) => {
                    if self.count_depth == 0 && out.iter().flatten().any(|c| c.masked) {
                        self.mask = self.mask.max(Mask::Carried);
                    }
                }
                Err(e) => return ControlFlow::Break(e),
            }
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<GuardError> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<GuardError> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        let result = match expr {
            Expr::Identifier(ident) => self.ctx.check_ident(ident),
            Expr::CompoundIdentifier(parts) => self.ctx.check_compound(parts),
            e if is_count(e) => {
                self.count_depth += 1;
                Ok(Mask::None)
            }
            // `t.*` and `*` inside expressions and function arguments (`row_to_json(t.*)`,
            // `ROW(t.*)`) are whole-row references.
            Expr::QualifiedWildcard(name, _) => self.ctx.check_whole_row(Some(name)),
            Expr::Wildcard(_) if self.count_depth == 0 => self.ctx.check_whole_row(None),
            Expr::Function(f) => match &f.args {
                FunctionArguments::List(list) => {
                    let mut mask = Ok(Mask::None);
                    for arg in &list.args {
                        let (FunctionArg::Named { arg, .. }
                        | FunctionArg::ExprNamed { arg, .. }
                        | FunctionArg::Unnamed(arg)) = arg;
                        let found = match arg {
                            FunctionArgExpr::QualifiedWildcard(name) => {
                                self.ctx.check_whole_row(Some(name))
                            }
                            FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => {
                                self.ctx.check_whole_row(None)
                            }
                            FunctionArgExpr::Expr(_) => Ok(Mask::None),
                        };
                        mask = match (mask, found) {
                            (Ok(a), Ok(b)) => Ok(a.max(b)),
                            (Err(e), _) | (_, Err(e)) => Err(e),
                        };
                    }
                    mask
                }
                _ => Ok(Mask::None),
            },
            _ => Ok(Mask::None),
        };
        match result {
            Ok(mask) => {
                if self.count_depth == 0 {
                    self.mask = self.mask.max(mask);
                }
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<GuardError> {
        if self.depth == 0 && is_count(expr) {
            self.count_depth = self.count_depth.saturating_sub(1);
        }
        ControlFlow::Continue(())
    }
}

/// Adds or lowers the outermost `LIMIT`/`FETCH` to `max_rows + 1`; returns the limit in force.
fn cap_rows(query: &mut Query, max_rows: u64) -> u64 {
    let cap = max_rows.saturating_add(1);
    let number = |e: &Expr| -> Option<u64> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.parse::<u64>().ok(),
                _ => None,
            },
            _ => None,
        }
    };
    let cap_expr = || Expr::value(Value::Number(cap.to_string(), false));
    if let Some(fetch) = &mut query.fetch {
        if query.limit_clause.is_none() {
            if let Some(n) = fetch.quantity.as_ref().and_then(number)
                && n <= cap
                && !fetch.percent
            {
                return n;
            }
            // Rewrite FETCH as LIMIT, which all three dialects understand.
            if fetch.percent || fetch.with_ties || fetch.quantity.is_none() {
                query.fetch = None;
            } else {
                fetch.quantity = Some(cap_expr());
                return cap;
            }
        } else {
            query.fetch = None;
        }
    }
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(cap_expr()),
                offset: None,
                limit_by: Vec::new(),
            });
            cap
        }
        Some(LimitClause::LimitOffset { limit, .. }) => match limit.as_ref().and_then(number) {
            Some(n) if n <= cap => n,
            _ => {
                *limit = Some(cap_expr());
                cap
            }
        },
        Some(LimitClause::OffsetCommaLimit { limit, .. }) => match number(limit) {
            Some(n) if n <= cap => n,
            _ => {
                *limit = cap_expr();
                cap
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(sql: &str) -> Box<Query> {
        match parse(Dialect::Postgres, sql).unwrap().remove(0) {
            Statement::Query(q) => q,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn cap_rows_adds_lowers_and_keeps() {
        let mut q = query("SELECT 1");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 LIMIT 500");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 LIMIT 3");
        assert_eq!(cap_rows(&mut q, 10), 3);
        let mut q = query("SELECT 1 LIMIT 11");
        assert_eq!(cap_rows(&mut q, 10), 11);
        let mut q = query("SELECT 1 LIMIT 1 + 1");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 FETCH FIRST 50 PERCENT ROWS ONLY");
        assert_eq!(cap_rows(&mut q, 10), 11);
        assert_eq!(q.to_string(), "SELECT 1 LIMIT 11");
        let mut q = query("SELECT 1 LIMIT 5");
        assert_eq!(cap_rows(&mut q, u64::MAX), 5);
        let mut q = query("SELECT 1");
        assert_eq!(cap_rows(&mut q, u64::MAX), u64::MAX);
    }

    #[test]
    fn operators_are_counted() {
        let tokens = Tokenizer::new(
            &PostgreSqlDialect {},
            "SELECT a + b::int FROM t WHERE a AND NOT b, 'x' || 'y'",
        )
        .tokenize()
        .unwrap();
        assert_eq!(tokens.iter().filter(|t| is_operator(t)).count(), 5);
    }

    #[test]
    fn statement_kinds() {
        let kind = |sql: &str| statement_kind(&parse(Dialect::Postgres, sql).unwrap().remove(0));
        assert_eq!(kind("drop table t"), "DROP");
        assert_eq!(kind("insert into t values (1)"), "INSERT");
        assert_eq!(kind("set x = 1"), "SET");
    }
}
