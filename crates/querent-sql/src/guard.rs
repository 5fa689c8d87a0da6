//! The validation pipeline: parse, statement kind, global checks, scoped existence and
//! privacy checks, row cap.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use querent_domain::Dialect;
use sqlparser::ast::{
    Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause, ObjectName, OrderBy,
    Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor,
    Value, Visit, Visitor,
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
/// `LIMIT` of at most `policy.max_rows + 1`.
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
    if let ControlFlow::Break(e) = query.visit(&mut global) {
        return Err(e);
    }
    let mut ctx = Ctx {
        dialect,
        schema,
        policy,
        scopes: Vec::new(),
        ctes: Vec::new(),
        referenced: BTreeSet::new(),
    };
    ctx.check_query(query)?;
    let referenced = ctx.referenced.into_iter().collect();
    let row_limit = cap_rows(query, policy.max_rows);
    Ok(ValidatedSql {
        sql: query.to_string(),
        dialect,
        tables: referenced,
        max_rows: policy.max_rows,
        row_limit,
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

/// A row source in a `FROM` clause.
#[derive(Clone, Debug)]
enum Source<'a> {
    /// A table of the schema.
    Table {
        binding: String,
        table: &'a GuardTable,
    },
    /// A CTE, derived table or table function: columns are not checked.
    Opaque { binding: Option<String> },
}

#[derive(Clone, Debug, Default)]
struct Scope<'a> {
    sources: Vec<Source<'a>>,
    aliases: Vec<String>,
}

impl Scope<'_> {
    fn opaque() -> Self {
        Scope {
            sources: vec![Source::Opaque { binding: None }],
            aliases: Vec::new(),
        }
    }

    fn has_opaque(&self) -> bool {
        self.sources
            .iter()
            .any(|s| matches!(s, Source::Opaque { .. }))
    }
}

struct Ctx<'a> {
    dialect: Dialect,
    schema: &'a GuardSchema,
    policy: &'a GuardPolicy,
    scopes: Vec<Scope<'a>>,
    ctes: Vec<String>,
    referenced: BTreeSet<String>,
}

impl<'a> Ctx<'a> {
    fn check_query(&mut self, query: &Query) -> Result<(), GuardError> {
        let ctes_before = self.ctes.len();
        let result = self.check_query_inner(query);
        self.ctes.truncate(ctes_before);
        result
    }

    fn check_query_inner(&mut self, query: &Query) -> Result<(), GuardError> {
        if let Some(with) = &query.with {
            if with.recursive {
                for cte in &with.cte_tables {
                    self.ctes.push(cte.alias.name.value.to_lowercase());
                }
            }
            for cte in &with.cte_tables {
                self.check_query(&cte.query)?;
                if !with.recursive {
                    self.ctes.push(cte.alias.name.value.to_lowercase());
                }
            }
        }
        self.check_set_expr(&query.body, query.order_by.as_ref())?;
        // LIMIT/OFFSET/FETCH expressions: no column references are meaningful there.
        self.with_scope(Scope::default(), |ctx| {
            ctx.check_node(&query.limit_clause)?;
            ctx.check_node(&query.fetch)
        })
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
        body: &SetExpr,
        order_by: Option<&OrderBy>,
    ) -> Result<(), GuardError> {
        match body {
            SetExpr::Select(select) => return self.check_select(select, order_by),
            SetExpr::Query(q) => self.check_query(q)?,
            SetExpr::SetOperation { left, right, .. } => {
                self.check_set_expr(left, None)?;
                self.check_set_expr(right, None)?;
            }
            SetExpr::Values(values) => {
                self.with_scope(Scope::default(), |ctx| ctx.check_node(values))?;
            }
            SetExpr::Table(table) => {
                let name = table
                    .table_name
                    .as_ref()
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                let schema_name = table.schema_name.as_ref().map(|i| i.value.clone());
                let resolved = self.resolve_table(schema_name.as_deref(), &name)?;
                if let Some(t) = resolved
                    && let Some(col) = self.policy.first_excluded_column(t)
                {
                    return Err(GuardError::PolicyViolation { object: col });
                }
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                return Err(GuardError::DataModifyingCte);
            }
        }
        // ORDER BY of a set operation refers to output columns: only subqueries and
        // functions in it are checked.
        if let Some(order_by) = order_by {
            self.with_scope(Scope::opaque(), |ctx| ctx.check_node(order_by))?;
        }
        Ok(())
    }

    /// Resolves a table name that is not a CTE; records it; enforces table exclusion.
    /// `Ok(None)` means a CTE of that name is in scope.
    fn resolve_table(
        &mut self,
        schema_name: Option<&str>,
        name: &str,
    ) -> Result<Option<&'a GuardTable>, GuardError> {
        if schema_name.is_none() && self.ctes.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            return Ok(None);
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
            candidates.extend(self.ctes.iter().map(String::as_str));
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
        Ok(Some(table))
    }

    fn add_factor<'q>(
        &mut self,
        factor: &'q TableFactor,
        scope: &mut Scope<'a>,
        joins: &mut Vec<&'q JoinOperator>,
    ) -> Result<(), GuardError> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let alias = alias.as_ref().map(|a| a.name.value.to_lowercase());
                if let Some(args) = args {
                    // A table-valued function: check its arguments, columns unknown.
                    let partial = scope.clone();
                    self.with_scope(partial, |ctx| ctx.check_node(args))?;
                    scope.sources.push(Source::Opaque { binding: alias });
                    return Ok(());
                }
                let parts = ident_parts(name);
                let (schema_name, table_name) = match parts.as_slice() {
                    [t] => (None, t.clone()),
                    [.., s, t] => (Some(s.clone()), t.clone()),
                    [] => (None, String::new()),
                };
                match self.resolve_table(schema_name.as_deref(), &table_name)? {
                    Some(table) => scope.sources.push(Source::Table {
                        binding: alias.unwrap_or_else(|| table.name.to_lowercase()),
                        table,
                    }),
                    None => scope.sources.push(Source::Opaque {
                        binding: Some(alias.unwrap_or_else(|| table_name.to_lowercase())),
                    }),
                }
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    let partial = scope.clone();
                    self.with_scope(partial, |ctx| ctx.check_query(subquery))?;
                } else {
                    self.check_query(subquery)?;
                }
                scope.sources.push(Source::Opaque {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                });
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                self.add_factor(&table_with_joins.relation, scope, joins)?;
                for join in &table_with_joins.joins {
                    self.add_factor(&join.relation, scope, joins)?;
                    joins.push(&join.join_operator);
                }
                if let Some(alias) = alias {
                    scope.sources.push(Source::Opaque {
                        binding: Some(alias.name.value.to_lowercase()),
                    });
                }
            }
            TableFactor::TableFunction { alias, .. }
            | TableFactor::Function { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::JsonTable { alias, .. } => {
                let partial = scope.clone();
                self.with_scope(partial, |ctx| ctx.check_node(factor))?;
                scope.sources.push(Source::Opaque {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                });
            }
            _ => {
                return Err(GuardError::Unsupported {
                    feature: "this kind of FROM item".into(),
                });
            }
        }
        Ok(())
    }

    fn check_select(
        &mut self,
        select: &Select,
        order_by: Option<&OrderBy>,
    ) -> Result<(), GuardError> {
        if select.into.is_some() {
            return Err(GuardError::SelectInto);
        }
        let mut scope = Scope::default();
        let mut joins = Vec::new();
        for twj in &select.from {
            self.add_factor(&twj.relation, &mut scope, &mut joins)?;
            for join in &twj.joins {
                self.add_factor(&join.relation, &mut scope, &mut joins)?;
                joins.push(&join.join_operator);
            }
        }
        if !select.lateral_views.is_empty() {
            scope.sources.push(Source::Opaque { binding: None });
        }
        for item in &select.projection {
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                scope.aliases.push(alias.value.to_lowercase());
            }
        }
        self.with_scope(scope, |ctx| {
            for op in &joins {
                ctx.check_node(*op)?;
                if let Some(JoinConstraint::Using(names) | JoinConstraint::UsingAlias(names, _)) =
                    join_constraint(op)
                {
                    for name in names {
                        ctx.check_ident(&Ident::new(last_part(name)))?;
                    }
                }
            }
            for item in &select.projection {
                ctx.check_select_item(item)?;
            }
            ctx.check_node(&select.selection)?;
            ctx.check_node(&select.prewhere)?;
            if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
                for e in exprs {
                    ctx.check_node(e)?;
                }
            }
            ctx.check_node(&select.having)?;
            ctx.check_node(&select.qualify)?;
            ctx.check_node(&select.named_window)?;
            ctx.check_node(&select.sort_by)?;
            ctx.check_node(&select.cluster_by)?;
            ctx.check_node(&select.distribute_by)?;
            ctx.check_node(&select.connect_by)?;
            ctx.check_node(&select.top)?;
            ctx.check_node(&select.distinct)?;
            match order_by {
                Some(o) => ctx.check_node(o),
                None => Ok(()),
            }
        })
    }

    fn check_select_item(&mut self, item: &SelectItem) -> Result<(), GuardError> {
        match item {
            SelectItem::Wildcard(_) => {
                let scope = self.scopes.last().cloned().unwrap_or_default();
                for source in &scope.sources {
                    if let Source::Table { table, .. } = source
                        && let Some(col) = self.policy.first_excluded_column(table)
                    {
                        return Err(GuardError::PolicyViolation { object: col });
                    }
                }
                Ok(())
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                let qualifier = last_part(name).to_lowercase();
                match self.find_binding(&qualifier) {
                    Some(Source::Table { table, .. }) => {
                        match self.policy.first_excluded_column(table) {
                            Some(col) => Err(GuardError::PolicyViolation { object: col }),
                            None => Ok(()),
                        }
                    }
                    Some(Source::Opaque { .. }) => Ok(()),
                    None => Err(self.unknown_qualifier(&qualifier)),
                }
            }
            other => self.check_node(other),
        }
    }

    fn find_binding(&self, qualifier: &str) -> Option<Source<'a>> {
        for scope in self.scopes.iter().rev() {
            for source in &scope.sources {
                match source {
                    Source::Table { binding, table }
                        if binding.eq_ignore_ascii_case(qualifier)
                            || table.name.eq_ignore_ascii_case(qualifier) =>
                    {
                        return Some(source.clone());
                    }
                    Source::Opaque {
                        binding: Some(binding),
                    } if binding.eq_ignore_ascii_case(qualifier) => return Some(source.clone()),
                    _ => {}
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
            .filter_map(|s| match s {
                Source::Table { binding, .. } => Some(binding.as_str()),
                Source::Opaque { binding } => binding.as_deref(),
            })
            .collect();
        GuardError::UnknownTable {
            name: qualifier.to_string(),
            suggestions: suggest(qualifier, bindings),
        }
    }

    fn check_node<V: Visit + ?Sized>(&mut self, node: &V) -> Result<(), GuardError> {
        let mut checker = ExprCheck {
            ctx: self,
            depth: 0,
        };
        match node.visit(&mut checker) {
            ControlFlow::Break(e) => Err(e),
            ControlFlow::Continue(()) => Ok(()),
        }
    }

    fn check_ident(&self, ident: &Ident) -> Result<(), GuardError> {
        let name = ident.value.as_str();
        for scope in self.scopes.iter().rev() {
            let mut found = false;
            for source in &scope.sources {
                if let Source::Table { table, .. } = source
                    && table.has_column(name)
                {
                    found = true;
                    if self.policy.column_excluded(table, name) {
                        return Err(GuardError::PolicyViolation {
                            object: format!("{}.{name}", table.name),
                        });
                    }
                }
            }
            if found || scope.has_opaque() {
                return Ok(());
            }
            if scope.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)) {
                return Ok(());
            }
            // A whole-row reference such as `SELECT c FROM customers c` (PostgreSQL).
            for source in &scope.sources {
                if let Source::Table { binding, table } = source
                    && binding.eq_ignore_ascii_case(name)
                {
                    return match self.policy.first_excluded_column(table) {
                        Some(col) => Err(GuardError::PolicyViolation { object: col }),
                        None => Ok(()),
                    };
                }
            }
        }
        // MySQL and SQLite read unknown double-quoted identifiers as strings.
        if self.dialect != Dialect::Postgres && ident.quote_style == Some('"') {
            return Ok(());
        }
        let mut candidates: Vec<&str> = Vec::new();
        for scope in &self.scopes {
            for source in &scope.sources {
                if let Source::Table { table, .. } = source {
                    candidates.extend(
                        table
                            .columns
                            .iter()
                            .filter(|c| !self.policy.column_excluded(table, c))
                            .map(String::as_str),
                    );
                }
            }
            candidates.extend(scope.aliases.iter().map(String::as_str));
        }
        Err(GuardError::UnknownColumn {
            name: name.to_string(),
            suggestions: suggest(name, candidates),
        })
    }

    fn check_compound(&self, parts: &[Ident]) -> Result<(), GuardError> {
        // `table.col`, `schema.table.col`, `db.schema.table.col`: the last two parts decide.
        let (qualifier, column) = match parts {
            [.., q, c] => (q.value.as_str(), c.value.as_str()),
            _ => return Ok(()),
        };
        match self.find_binding(qualifier) {
            Some(Source::Table { table, .. }) => {
                if !table.has_column(column) {
                    let candidates = table
                        .columns
                        .iter()
                        .filter(|c| !self.policy.column_excluded(table, c))
                        .map(String::as_str);
                    return Err(GuardError::UnknownColumn {
                        name: format!("{qualifier}.{column}"),
                        suggestions: suggest(column, candidates)
                            .into_iter()
                            .map(|c| format!("{qualifier}.{c}"))
                            .collect(),
                    });
                }
                if self.policy.column_excluded(table, column) {
                    return Err(GuardError::PolicyViolation {
                        object: format!("{}.{column}", table.name),
                    });
                }
                Ok(())
            }
            Some(Source::Opaque { .. }) => Ok(()),
            None => {
                // A column of composite type, `col.field`, resolves like a column.
                let as_column = Ident::new(qualifier);
                if parts.len() == 2 && self.check_ident(&as_column).is_ok() {
                    return Ok(());
                }
                Err(self.unknown_qualifier(qualifier))
            }
        }
    }
}

/// Checks column references in expressions against the current scopes; subqueries met on
/// the way are checked as queries of their own, with the current scopes as outer scopes.
struct ExprCheck<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    depth: usize,
}

impl Visitor for ExprCheck<'_, '_> {
    type Break = GuardError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<GuardError> {
        if self.depth == 0
            && let Err(e) = self.ctx.check_query(query)
        {
            return ControlFlow::Break(e);
        }
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<GuardError> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<GuardError> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        let result = match expr {
            Expr::Identifier(ident) => self.ctx.check_ident(ident),
            Expr::CompoundIdentifier(parts) => self.ctx.check_compound(parts),
            _ => Ok(()),
        };
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
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
