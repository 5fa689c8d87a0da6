//! The scoped checker: resolves every table and column reference the way the database
//! will, through the full chain of scopes (CTEs, aliases, derived tables, `LATERAL`,
//! correlated references to outer queries), refuses what the policy excludes and what it
//! cannot resolve for certain, checks every expression against the allow-lists, expands
//! wildcards, and records each table reference so that [`Checker::substitute`] can replace
//! governed tables by derived tables in the text that runs.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

use querent_domain::Dialect;
use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, CastKind, Distinct, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentClause, FunctionArguments, GroupByExpr, Ident, InTarget,
    JoinConstraint, JoinOperator, JsonTableColumn, LimitClause, ObjectName, ObjectNamePart, Offset,
    OffsetRows, OrderBy, OrderByKind, Query, Select, SelectFlavor, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableAliasColumnDef, TableFactor,
    TableWithJoins, UnaryOperator, Value, VisitMut, VisitorMut, WildcardAdditionalOptions,
};
use sqlparser::tokenizer::{Location, Span};

use crate::GuardError;
use crate::functions::{self, ArgRule, TableFn};
use crate::names::{self, exact_ident, fold, make_ident};
use crate::rules::{Fence, Rules, rules};
use crate::schema::{GuardPolicy, GuardSchema, GuardTable, suggest};

/// The text masked values are replaced with.
pub(crate) const MASK: &str = "****";

/// One output column of a query.
#[derive(Clone, Debug)]
pub(crate) struct OutCol {
    /// Its name as the database reports it; `None` when the guard cannot tell (an
    /// unaliased expression whose name differs between dialects).
    pub name: Option<String>,
    /// Whether its values come from a masked column.
    pub masked: bool,
}

/// What a table reference in `FROM` resolved to, indexed by the id the checker gives it.
#[derive(Clone, Debug)]
enum Factor<'a> {
    /// A CTE in scope, with the identifier it was defined with.
    Cte(Ident),
    /// A schema table.
    Table {
        table: &'a GuardTable,
        /// The name outer references use: the alias, or the table's last name part as
        /// written.
        binding: Ident,
        /// Whether `binding` is an alias written in the query.
        aliased: bool,
        /// SQLite's implicit row id, under the names the query used for it.
        rowid: Vec<String>,
    },
}

/// A row source of a `FROM` scope.
#[derive(Clone, Debug)]
enum Source<'a> {
    /// A schema table.
    Table {
        /// Lower-cased name outer references use (alias or table name).
        binding: String,
        /// The qualifier as written, for expanded column references.
        qualifier: Ident,
        table: &'a GuardTable,
        /// Index into the checker's factors.
        factor: usize,
        /// Whether it was referenced without an alias (so `schema.table.column` works).
        unaliased: bool,
    },
    /// A CTE, derived table, `VALUES`, table function or table with column aliases.
    Derived {
        binding: Option<String>,
        qualifier: Option<Ident>,
        columns: Vec<OutCol>,
    },
}

impl Source<'_> {
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
}

/// Which clause of a select is being checked: select-list aliases are visible in some.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Clause {
    Projection,
    Where,
    GroupBy,
    Having,
    OrderBy,
    Other,
}

#[derive(Clone, Debug)]
struct Scope<'a> {
    sources: Vec<Source<'a>>,
    /// Select-list aliases (lower-cased) and whether they are masked.
    aliases: Vec<(String, bool)>,
    /// Output names of bare column references in the select list (lower-cased).
    outputs: Vec<String>,
    /// Columns of `USING (…)` joins (lower-cased).
    using: Vec<String>,
    /// Whether a `NATURAL` join is part of the scope.
    natural: bool,
    clause: Clause,
}

impl Scope<'_> {
    fn new() -> Self {
        Scope {
            sources: Vec::new(),
            aliases: Vec::new(),
            outputs: Vec::new(),
            using: Vec::new(),
            natural: false,
            clause: Clause::Other,
        }
    }
}

/// A CTE in scope and its output columns (`None` while a recursive CTE's own columns are
/// not known yet).
struct CteInfo {
    /// The name as the database resolves it (folded in PostgreSQL).
    name: String,
    /// The name as defined, printed for every reference so the database resolves each one
    /// to this CTE whatever its rules for case.
    ident: Ident,
    columns: Option<Vec<OutCol>>,
}

/// A column from an expanded wildcard.
struct Expanded {
    expr: Expr,
    name: String,
    masked: bool,
}

pub(crate) struct Checker<'a> {
    dialect: Dialect,
    /// The guard's rules for `dialect`.
    rules: &'static Rules,
    schema: &'a GuardSchema,
    policy: &'a GuardPolicy,
    scopes: Vec<Scope<'a>>,
    ctes: Vec<CteInfo>,
    referenced: BTreeSet<String>,
    factors: Vec<Factor<'a>>,
    /// Per factor, the columns the query uses, so a governed table's derived table only
    /// carries those (less to print, check and run).
    usage: RefCell<Vec<Usage>>,
}

/// The columns of one table reference that the query uses.
#[derive(Clone, Debug, Default)]
struct Usage {
    /// Every column (whole-row references, `*` over `USING`/`NATURAL` joins, column
    /// aliases, `NATURAL` joins).
    all: bool,
    /// Catalog names of the columns used.
    columns: Vec<String>,
}

/// The line number given to table references the checker resolved (the parser starts at
/// line 1, generated identifiers have line 0 and column 0).
const FACTOR_LINE: u64 = 0;
/// The column number given to table references inside the derived tables the
/// substitution builds: already resolved, not to be visited again.
const BUILT_FACTOR: u64 = u64::MAX;

fn factor_span(id: u64) -> Span {
    Span::new(
        Location::new(FACTOR_LINE, id),
        Location::new(FACTOR_LINE, id),
    )
}

/// The factor id stored in a table name's last part, if any.
fn factor_id(name: &ObjectName) -> Option<u64> {
    let ident = name.0.last()?.as_ident()?;
    (ident.span.start.line == FACTOR_LINE && ident.span.start.column > 0)
        .then_some(ident.span.start.column)
}

fn set_factor_id(name: &mut ObjectName, id: u64) {
    if let Some(ObjectNamePart::Identifier(ident)) = name.0.last_mut() {
        ident.span = factor_span(id);
    }
}

fn last_ident(name: &ObjectName) -> Option<&Ident> {
    name.0.last().and_then(|p| p.as_ident())
}

fn ident_parts(name: &ObjectName) -> Option<Vec<Ident>> {
    name.0.iter().map(|p| p.as_ident().cloned()).collect()
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
        | JoinOperator::CrossJoin(c) => Some(c),
        _ => None,
    }
}

fn unsupported(feature: impl Into<String>) -> GuardError {
    GuardError::Unsupported {
        feature: feature.into(),
    }
}

/// `CASE WHEN <expr> IS NULL THEN NULL ELSE '****' END`: the value is hidden, `NULL`
/// stays `NULL`. Valid in PostgreSQL, MySQL/MariaDB and SQLite.
pub(crate) fn mask_expr(expr: Expr) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: Expr::IsNull(Box::new(expr)),
            result: Expr::value(Value::Null),
        }],
        else_result: Some(Box::new(Expr::value(Value::SingleQuotedString(
            MASK.into(),
        )))),
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn new(dialect: Dialect, schema: &'a GuardSchema, policy: &'a GuardPolicy) -> Self {
        Self {
            dialect,
            rules: rules(dialect),
            schema,
            policy,
            scopes: Vec::new(),
            ctes: Vec::new(),
            referenced: BTreeSet::new(),
            factors: Vec::new(),
            usage: RefCell::new(Vec::new()),
        }
    }

    /// Records that the query uses `column` (its catalog name) of table reference `factor`.
    fn note_used(&self, factor: usize, column: &str) {
        let mut usage = self.usage.borrow_mut();
        if let Some(u) = usage.get_mut(factor)
            && !u.all
            && !u.columns.iter().any(|c| c == column)
        {
            u.columns.push(column.to_string());
        }
    }

    /// Records that the query may use every column of table reference `factor`.
    fn note_all(&self, factor: usize) {
        if let Some(u) = self.usage.borrow_mut().get_mut(factor) {
            u.all = true;
        }
    }

    fn note_source_all(&self, source: &Source<'_>) {
        if let Source::Table { factor, .. } = source {
            self.note_all(*factor);
        }
    }

    /// The schema tables read, as `schema.name` or `name`, sorted.
    pub(crate) fn referenced(&self) -> Vec<String> {
        self.referenced.iter().cloned().collect()
    }

    fn name_of(&self, ident: &Ident) -> String {
        fold(self.dialect, ident)
    }

    /// The innermost CTE in scope that `ident` names, the way the database matches names:
    /// exactly after folding in PostgreSQL and MySQL (where a name differing in case is a
    /// table, and tables are printed schema-qualified so no CTE can capture them), without
    /// regard to case in SQLite.
    fn find_cte(&self, ident: &Ident) -> Option<usize> {
        let name = self.name_of(ident);
        self.ctes.iter().rposition(|c| {
            if self.rules.cte_names_ignore_case {
                c.name.eq_ignore_ascii_case(&name)
            } else {
                c.name == name
            }
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

    fn in_clause<T>(
        &mut self,
        clause: Clause,
        f: impl FnOnce(&mut Self) -> Result<T, GuardError>,
    ) -> Result<T, GuardError> {
        let saved = self.scopes.last().map(|s| s.clause);
        if let Some(scope) = self.scopes.last_mut() {
            scope.clause = clause;
        }
        let result = f(self);
        if let (Some(scope), Some(saved)) = (self.scopes.last_mut(), saved) {
            scope.clause = saved;
        }
        result
    }

    // ----------------------------------------------------------------------------------
    // queries

    pub(crate) fn check_query(&mut self, query: &mut Query) -> Result<Vec<OutCol>, GuardError> {
        let ctes_before = self.ctes.len();
        let result = self.check_query_inner(query);
        self.ctes.truncate(ctes_before);
        result
    }

    fn check_query_inner(&mut self, query: &mut Query) -> Result<Vec<OutCol>, GuardError> {
        if !query.locks.is_empty() {
            return Err(GuardError::LockingClause);
        }
        if query.for_clause.is_some()
            || !query.pipe_operators.is_empty()
            || query.settings.is_some()
            || query.format_clause.is_some()
        {
            return Err(unsupported("FOR, SETTINGS, FORMAT or pipe clauses"));
        }
        if let Some(with) = &mut query.with {
            for cte in &with.cte_tables {
                if cte.materialized.is_some() && !self.rules.materialized_ctes {
                    return Err(unsupported("MATERIALIZED CTEs"));
                }
            }
            for cte in &mut with.cte_tables {
                let mut ident = cte.alias.name.clone();
                ident.span = Span::empty();
                self.check_alias_columns(&cte.alias.columns)?;
                let columns = if with.recursive {
                    self.check_recursive_cte(&ident, &mut cte.query, &cte.alias.columns)?
                } else {
                    let out = self.check_query(&mut cte.query)?;
                    self.rename(out, &cte.alias.columns)?
                };
                self.ctes.push(CteInfo {
                    name: self.name_of(&ident),
                    ident,
                    columns: Some(columns),
                });
            }
        }
        let out = self.check_set_expr(&mut query.body, query.order_by.as_mut())?;
        // LIMIT/OFFSET/FETCH: no column of this query is in scope there.
        self.with_scope(Scope::new(), |ck| {
            ck.check_node(&mut query.limit_clause)?;
            ck.check_node(&mut query.fetch)
        })?;
        Ok(out)
    }

    /// A recursive CTE: the anchor (left branch) is checked without the CTE in scope, its
    /// columns become the CTE's, then the recursive branch is checked with it.
    fn check_recursive_cte(
        &mut self,
        ident: &Ident,
        query: &mut Query,
        aliases: &[TableAliasColumnDef],
    ) -> Result<Vec<OutCol>, GuardError> {
        let plain = query.with.is_none()
            && query.order_by.is_none()
            && query.limit_clause.is_none()
            && query.fetch.is_none();
        if let (true, SetExpr::SetOperation { left, right, .. }) = (plain, query.body.as_mut()) {
            let anchor = self.check_set_expr(left, None)?;
            let mut columns = self.rename(anchor, aliases)?;
            let position = self.ctes.len();
            self.ctes.push(CteInfo {
                name: self.name_of(ident),
                ident: ident.clone(),
                columns: Some(columns.clone()),
            });
            let recursive = self.check_set_expr(right, None);
            self.ctes.truncate(position);
            let recursive = recursive?;
            if recursive.len() == columns.len() {
                for (c, r) in columns.iter_mut().zip(recursive) {
                    c.masked |= r.masked;
                }
            }
            return Ok(columns);
        }
        // Not of the anchor-UNION-recursive shape: the CTE is visible only with the
        // columns its alias names.
        let position = self.ctes.len();
        let named: Vec<OutCol> = aliases
            .iter()
            .map(|a| OutCol {
                name: Some(self.name_of(&a.name)),
                masked: false,
            })
            .collect();
        self.ctes.push(CteInfo {
            name: self.name_of(ident),
            ident: ident.clone(),
            columns: (!named.is_empty()).then_some(named),
        });
        let out = self.check_query(query);
        self.ctes.truncate(position);
        self.rename(out?, aliases)
    }

    fn check_alias_columns(&self, columns: &[TableAliasColumnDef]) -> Result<(), GuardError> {
        for c in columns {
            if let Some(t) = &c.data_type {
                names::check_type(self.dialect, t)?;
            }
        }
        Ok(())
    }

    /// Applies column aliases (`AS t(a, b)`) to output columns.
    fn rename(
        &self,
        mut cols: Vec<OutCol>,
        aliases: &[TableAliasColumnDef],
    ) -> Result<Vec<OutCol>, GuardError> {
        if aliases.len() > cols.len() {
            return Err(unsupported(format!(
                "{} column aliases for {} columns",
                aliases.len(),
                cols.len()
            )));
        }
        for (col, alias) in cols.iter_mut().zip(aliases) {
            col.name = Some(self.name_of(&alias.name));
        }
        Ok(cols)
    }

    fn check_set_expr(
        &mut self,
        body: &mut SetExpr,
        order_by: Option<&mut OrderBy>,
    ) -> Result<Vec<OutCol>, GuardError> {
        let out = match body {
            SetExpr::Select(select) => return self.check_select(select, order_by),
            SetExpr::Query(q) => self.check_query(q)?,
            SetExpr::SetOperation { left, right, .. } => {
                let mut out = self.check_set_expr(left, None)?;
                let right_out = self.check_set_expr(right, None)?;
                if out.len() == right_out.len() {
                    for (l, r) in out.iter_mut().zip(right_out) {
                        l.masked |= r.masked;
                    }
                }
                out
            }
            SetExpr::Values(values) => {
                let mut masked: Vec<bool> = Vec::new();
                for row in &mut values.rows {
                    for (i, expr) in row.iter_mut().enumerate() {
                        let m = self.with_scope(Scope::new(), |ck| ck.check_masked(expr))?;
                        if masked.len() <= i {
                            masked.resize(i + 1, false);
                        }
                        masked[i] |= m;
                    }
                }
                masked
                    .into_iter()
                    .enumerate()
                    .map(|(i, masked)| OutCol {
                        // MariaDB names VALUES columns after the first row's values.
                        name: self
                            .rules
                            .values_column_names
                            .then(|| format!("column{}", i + 1)),
                        masked,
                    })
                    .collect()
            }
            SetExpr::Table(_) => return Err(unsupported("TABLE statements; use SELECT")),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                return Err(GuardError::DataModifyingCte);
            }
        };
        // ORDER BY of a set operation refers to its output columns.
        if let Some(order_by) = order_by {
            let mut scope = Scope::new();
            scope.sources.push(Source::Derived {
                binding: None,
                qualifier: None,
                columns: out.clone(),
            });
            self.with_scope(scope, |ck| {
                ck.in_clause(Clause::OrderBy, |ck| ck.check_node(order_by))
            })?;
        }
        Ok(out)
    }

    // ----------------------------------------------------------------------------------
    // FROM

    /// Resolves a table name: a CTE in scope, or a schema table (recorded; exclusion and
    /// catalogs enforced).
    fn resolve_table(&mut self, parts: &[Ident]) -> Result<Option<&'a GuardTable>, GuardError> {
        let (schema_part, name_part) = match parts {
            [t] => (None, t),
            [s, t] => (Some(s), t),
            [_, s, t] if self.rules.three_part_table_names => (Some(s), t),
            _ => {
                return Err(GuardError::UnknownTable {
                    name: parts
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                    suggestions: Vec::new(),
                });
            }
        };
        let name = &name_part.value;
        if schema_part.is_none() && self.find_cte(name_part).is_some() {
            return Ok(None);
        }
        let schema_name = schema_part.map(|s| s.value.as_str());
        let written = match schema_name {
            Some(s) => format!("{s}.{name}"),
            None => name.clone(),
        };
        if !self.policy.allow_catalogs && names::is_catalog(self.dialect, schema_name, name) {
            return Err(GuardError::CatalogNotAllowed { name: written });
        }
        let Some(table) = self.schema.find(schema_name, name) else {
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
        if !self.policy.allow_catalogs
            && names::is_catalog(self.dialect, table.schema.as_deref(), &table.name)
        {
            return Err(GuardError::CatalogNotAllowed { name: written });
        }
        if self.policy.table_excluded(table) {
            return Err(GuardError::PolicyViolation {
                object: table.qualified_name(),
            });
        }
        self.referenced.insert(table.qualified_name());
        Ok(Some(table))
    }

    fn add_table_with_joins(
        &mut self,
        twj: &mut TableWithJoins,
        scope: &mut Scope<'a>,
    ) -> Result<(), GuardError> {
        self.add_factor(&mut twj.relation, scope)?;
        for join in &mut twj.joins {
            if join.global {
                return Err(unsupported("GLOBAL joins"));
            }
            self.add_factor(&mut join.relation, scope)?;
            let Some(constraint) = join_constraint(&join.join_operator) else {
                return Err(unsupported("this kind of join"));
            };
            match constraint {
                JoinConstraint::Using(names) => {
                    for n in names {
                        let Some(ident) = last_ident(n) else {
                            return Err(unsupported("this USING column"));
                        };
                        scope.using.push(ident.value.to_lowercase());
                    }
                }
                JoinConstraint::Natural => {
                    scope.natural = true;
                    for source in &scope.sources {
                        self.note_source_all(source);
                    }
                }
                JoinConstraint::On(_) | JoinConstraint::None => {}
                JoinConstraint::UsingAlias(..) => return Err(unsupported("USING … AS")),
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_lines)] // one arm per kind of FROM item, each short
    fn add_factor(
        &mut self,
        factor: &mut TableFactor,
        scope: &mut Scope<'a>,
    ) -> Result<(), GuardError> {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_directives,
                inheritance,
            } => {
                if !with_hints.is_empty()
                    || version.is_some()
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_directives.is_empty()
                    || inheritance.is_some()
                {
                    return Err(unsupported("table hints, partitions, samples or versions"));
                }
                if let Some(alias) = alias.as_ref() {
                    self.check_alias_columns(&alias.columns)?;
                }
                if let Some(args) = args {
                    if args.settings.is_some() {
                        return Err(unsupported("SETTINGS on a table function"));
                    }
                    let function = name.clone();
                    let mut columns = self.table_function(
                        &function,
                        args.args.len(),
                        alias.as_ref(),
                        *with_ordinality,
                    )?;
                    // Arguments may refer to earlier FROM items (functions are implicitly
                    // lateral in PostgreSQL).
                    let partial = scope.clone();
                    let masked =
                        self.with_scope(partial, |ck| ck.check_function_args(&mut args.args))?;
                    columns.iter_mut().for_each(|c| c.masked = masked);
                    scope.sources.push(Source::Derived {
                        binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                        qualifier: alias.as_ref().map(|a| a.name.clone()),
                        columns,
                    });
                    return Ok(());
                }
                if *with_ordinality {
                    return Err(unsupported("WITH ORDINALITY on a table"));
                }
                let Some(parts) = ident_parts(name) else {
                    return Err(unsupported("this table name"));
                };
                let Some(written_last) = parts.last().cloned() else {
                    return Err(unsupported("an empty table name"));
                };
                let id = self.factors.len() as u64 + 1;
                set_factor_id(name, id);
                let alias_columns = alias
                    .as_ref()
                    .map(|a| a.columns.clone())
                    .unwrap_or_default();
                let binding_ident = alias.as_ref().map(|a| a.name.clone());
                match self.resolve_table(&parts)? {
                    None => {
                        let Some(cte) = self.find_cte(&written_last) else {
                            return Err(unsupported("a CTE reference the guard lost"));
                        };
                        let (cte_ident, columns) = {
                            let info = &self.ctes[cte];
                            (info.ident.clone(), info.columns.clone())
                        };
                        self.factors.push(Factor::Cte(cte_ident));
                        self.usage.borrow_mut().push(Usage::default());
                        let Some(columns) = columns else {
                            return Err(unsupported(format!(
                                "the columns of the recursive CTE `{}` are not known; name them: WITH RECURSIVE {}(col, …)",
                                written_last.value, written_last.value
                            )));
                        };
                        let columns = self.rename(columns, &alias_columns)?;
                        let qualifier = binding_ident
                            .clone()
                            .unwrap_or_else(|| written_last.clone());
                        scope.sources.push(Source::Derived {
                            binding: Some(qualifier.value.to_lowercase()),
                            qualifier: Some(qualifier),
                            columns,
                        });
                    }
                    Some(table) => {
                        let qualifier = binding_ident.clone().unwrap_or_else(|| {
                            let mut i = written_last.clone();
                            i.span = Span::empty();
                            i
                        });
                        self.factors.push(Factor::Table {
                            table,
                            binding: qualifier.clone(),
                            aliased: binding_ident.is_some(),
                            rowid: Vec::new(),
                        });
                        self.usage.borrow_mut().push(Usage {
                            // Column aliases rename by position: every column stays.
                            all: !alias_columns.is_empty(),
                            columns: Vec::new(),
                        });
                        if alias_columns.is_empty() {
                            scope.sources.push(Source::Table {
                                binding: qualifier.value.to_lowercase(),
                                qualifier,
                                table,
                                factor: self.factors.len() - 1,
                                unaliased: binding_ident.is_none(),
                            });
                        } else {
                            // `t AS x(a, b)` renames the table's columns by position: only
                            // when no column is left out, so positions stay what they are.
                            if let Some(col) = self.policy.first_excluded_column(table) {
                                return Err(GuardError::PolicyViolation { object: col });
                            }
                            let columns = table
                                .columns
                                .iter()
                                .map(|c| OutCol {
                                    name: Some(c.clone()),
                                    masked: self.policy.column_masked(table, c),
                                })
                                .collect();
                            let columns = self.rename(columns, &alias_columns)?;
                            scope.sources.push(Source::Derived {
                                binding: Some(qualifier.value.to_lowercase()),
                                qualifier: Some(qualifier),
                                columns,
                            });
                        }
                    }
                }
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if sample.is_some() {
                    return Err(unsupported("TABLESAMPLE"));
                }
                if let Some(alias) = alias.as_ref() {
                    self.check_alias_columns(&alias.columns)?;
                }
                let out = if *lateral {
                    let partial = scope.clone();
                    self.with_scope(partial, |ck| ck.check_query(subquery))?
                } else {
                    self.check_query(subquery)?
                };
                let alias_columns = alias.as_ref().map(|a| a.columns.as_slice()).unwrap_or(&[]);
                scope.sources.push(Source::Derived {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                    qualifier: alias.as_ref().map(|a| a.name.clone()),
                    columns: self.rename(out, alias_columns)?,
                });
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                if alias.is_some() {
                    return Err(unsupported("an alias on a parenthesised join"));
                }
                self.add_table_with_joins(table_with_joins, scope)?;
            }
            TableFactor::Function {
                lateral: _,
                name,
                args,
                with_ordinality,
                alias,
            } => {
                if let Some(alias) = alias.as_ref() {
                    self.check_alias_columns(&alias.columns)?;
                }
                let mut columns =
                    self.table_function(name, args.len(), alias.as_ref(), *with_ordinality)?;
                let partial = scope.clone();
                let masked = self.with_scope(partial, |ck| ck.check_function_args(args))?;
                columns.iter_mut().for_each(|c| c.masked = masked);
                scope.sources.push(Source::Derived {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                    qualifier: alias.as_ref().map(|a| a.name.clone()),
                    columns,
                });
            }
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset,
                with_offset_alias,
                with_ordinality,
            } => {
                if !self.rules.unnest || *with_offset || with_offset_alias.is_some() {
                    return Err(unsupported("UNNEST here"));
                }
                if let Some(alias) = alias.as_ref() {
                    self.check_alias_columns(&alias.columns)?;
                }
                let name = ObjectName::from(vec![Ident::new("unnest")]);
                let mut columns = self.table_function(
                    &name,
                    array_exprs.len(),
                    alias.as_ref(),
                    *with_ordinality,
                )?;
                let partial = scope.clone();
                let masked = self.with_scope(partial, |ck| {
                    let mut masked = false;
                    for e in array_exprs.iter_mut() {
                        masked |= ck.check_masked(e)?;
                    }
                    Ok(masked)
                })?;
                columns.iter_mut().for_each(|c| c.masked = masked);
                scope.sources.push(Source::Derived {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                    qualifier: alias.as_ref().map(|a| a.name.clone()),
                    columns,
                });
            }
            TableFactor::JsonTable {
                json_expr,
                json_path: _,
                columns,
                alias,
            } => {
                if !self.rules.json_table {
                    return Err(unsupported("JSON_TABLE outside MySQL/MariaDB"));
                }
                let mut names = Vec::new();
                json_table_columns(columns, &mut names);
                for c in columns.iter() {
                    check_json_table_column(self.dialect, c)?;
                }
                let partial = scope.clone();
                self.with_scope(partial, |ck| ck.check_node(json_expr))?;
                scope.sources.push(Source::Derived {
                    binding: alias.as_ref().map(|a| a.name.value.to_lowercase()),
                    qualifier: alias.as_ref().map(|a| a.name.clone()),
                    columns: names
                        .into_iter()
                        .map(|n| OutCol {
                            name: Some(n),
                            masked: false,
                        })
                        .collect(),
                });
            }
            _ => return Err(unsupported("this kind of FROM item")),
        }
        Ok(())
    }

    /// The columns of an allowed table function, or the refusal.
    fn table_function(
        &self,
        name: &ObjectName,
        arg_count: usize,
        alias: Option<&TableAlias>,
        with_ordinality: bool,
    ) -> Result<Vec<OutCol>, GuardError> {
        let written = name.to_string();
        let Some(parts) = ident_parts(name) else {
            return Err(GuardError::FunctionNotAllowed { name: written });
        };
        let [ident] = parts.as_slice() else {
            return Err(GuardError::FunctionNotAllowed { name: written });
        };
        let folded = names::function_name(self.dialect, ident);
        let Some(kind) = functions::table(self.dialect, &folded) else {
            return Err(GuardError::FunctionNotAllowed { name: written });
        };
        let default_name = alias
            .map(|a| self.name_of(&a.name))
            .unwrap_or_else(|| folded.clone());
        let mut names: Vec<String> = match kind {
            TableFn::Single => vec![default_name],
            TableFn::PerArgument => vec![default_name; arg_count.max(1)],
            TableFn::Columns(cols) => cols.iter().map(|c| c.to_string()).collect(),
        };
        if with_ordinality {
            names.push("ordinality".into());
        }
        let cols = names
            .into_iter()
            .map(|n| OutCol {
                name: Some(n),
                masked: false,
            })
            .collect();
        let aliases = alias.map(|a| a.columns.as_slice()).unwrap_or(&[]);
        self.rename(cols, aliases)
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
            let constraint = match &mut join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c) => c,
                _ => return Err(unsupported("this kind of join")),
            };
            match constraint {
                JoinConstraint::On(expr) => self.check_node(expr)?,
                JoinConstraint::Using(names) => {
                    for name in names.iter() {
                        let Some(ident) = last_ident(name) else {
                            return Err(unsupported("this USING column"));
                        };
                        let ident = ident.clone();
                        self.resolve_using(&ident)?;
                    }
                }
                JoinConstraint::Natural | JoinConstraint::None => {}
                JoinConstraint::UsingAlias(..) => return Err(unsupported("USING … AS")),
            }
        }
        Ok(())
    }

    /// A `USING` column must exist in the joined sources and not be excluded.
    fn resolve_using(&mut self, ident: &Ident) -> Result<(), GuardError> {
        let name = self.name_of(ident);
        let Some(scope) = self.scopes.last() else {
            return Err(unsupported("USING outside a FROM"));
        };
        let mut found = false;
        for source in &scope.sources {
            match source {
                Source::Table { table, factor, .. } => {
                    if let Some(col) = table.column(&name) {
                        if self.policy.column_excluded(table, col) {
                            return Err(GuardError::PolicyViolation {
                                object: format!("{}.{col}", table.name),
                            });
                        }
                        self.note_used(*factor, col);
                        found = true;
                    }
                }
                Source::Derived { columns, .. } => {
                    found |= find_out_col(columns, &name).is_some();
                }
            }
        }
        if found {
            Ok(())
        } else {
            Err(GuardError::UnknownColumn {
                name: ident.value.clone(),
                suggestions: Vec::new(),
            })
        }
    }

    // ----------------------------------------------------------------------------------
    // SELECT

    fn check_select(
        &mut self,
        select: &mut Select,
        order_by: Option<&mut OrderBy>,
    ) -> Result<Vec<OutCol>, GuardError> {
        if select.into.is_some() {
            return Err(GuardError::SelectInto);
        }
        if !select.optimizer_hints.is_empty() {
            return Err(unsupported("optimizer hints"));
        }
        if select.select_modifiers.is_some()
            || select.top.is_some()
            || select.exclude.is_some()
            || !select.lateral_views.is_empty()
            || select.prewhere.is_some()
            || !select.connect_by.is_empty()
            || !select.cluster_by.is_empty()
            || !select.distribute_by.is_empty()
            || !select.sort_by.is_empty()
            || select.qualify.is_some()
            || select.value_table_mode.is_some()
            || select.flavor != SelectFlavor::Standard
        {
            return Err(unsupported(
                "select modifiers (TOP, QUALIFY, SQL_CALC_FOUND_ROWS, …)",
            ));
        }
        let mut scope = Scope::new();
        for twj in &mut select.from {
            self.add_table_with_joins(twj, &mut scope)?;
        }
        self.with_scope(scope, |ck| {
            for twj in &mut select.from {
                ck.check_joins(twj)?;
            }
            let outputs = ck.in_clause(Clause::Projection, |ck| {
                ck.check_projection(&mut select.projection)
            })?;
            // Select-list aliases, visible from here on where the dialect allows them.
            let mut aliases = Vec::new();
            let mut bare = Vec::new();
            for (item, out) in select.projection.iter().zip(&outputs) {
                match item {
                    SelectItem::ExprWithAlias { alias, .. } => {
                        aliases.push((alias.value.to_lowercase(), out.masked));
                    }
                    SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => {
                        if let Some(n) = &out.name {
                            bare.push(n.to_lowercase());
                        }
                    }
                    _ => {}
                }
            }
            if let Some(scope) = ck.scopes.last_mut() {
                scope.aliases = aliases;
                scope.outputs = bare;
            }
            ck.in_clause(Clause::Where, |ck| ck.check_node(&mut select.selection))?;
            match &mut select.group_by {
                GroupByExpr::Expressions(exprs, modifiers) => {
                    let _ = modifiers;
                    ck.in_clause(Clause::GroupBy, |ck| {
                        for e in exprs.iter_mut() {
                            ck.check_node(e)?;
                        }
                        Ok(())
                    })?;
                }
                GroupByExpr::All(_) => return Err(unsupported("GROUP BY ALL")),
            }
            ck.in_clause(Clause::Having, |ck| ck.check_node(&mut select.having))?;
            ck.in_clause(Clause::Other, |ck| ck.check_node(&mut select.named_window))?;
            if let Some(Distinct::On(exprs)) = &mut select.distinct {
                ck.in_clause(Clause::OrderBy, |ck| {
                    for e in exprs.iter_mut() {
                        ck.check_node(e)?;
                    }
                    Ok(())
                })?;
            }
            if let Some(o) = order_by {
                if matches!(o.kind, OrderByKind::All(_)) {
                    return Err(unsupported("ORDER BY ALL"));
                }
                if o.interpolate.is_some() {
                    return Err(unsupported("INTERPOLATE"));
                }
                ck.in_clause(Clause::OrderBy, |ck| ck.check_node(o))?;
            }
            Ok(outputs)
        })
    }

    /// Checks the select list and expands wildcards; returns the output columns.
    fn check_projection(
        &mut self,
        projection: &mut Vec<SelectItem>,
    ) -> Result<Vec<OutCol>, GuardError> {
        let old = std::mem::take(projection);
        let mut outputs = Vec::new();
        for item in old {
            match item {
                SelectItem::Wildcard(opts) => {
                    check_plain_wildcard(&opts)?;
                    match self.expand(None)? {
                        Some(cols) => {
                            for col in cols {
                                outputs.push(OutCol {
                                    name: Some(col.name),
                                    masked: col.masked,
                                });
                                projection.push(SelectItem::UnnamedExpr(col.expr));
                            }
                        }
                        None => {
                            outputs.extend(self.unexpanded_outputs());
                            projection.push(SelectItem::Wildcard(opts));
                        }
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(name),
                    opts,
                ) => {
                    check_plain_wildcard(&opts)?;
                    match self.expand(Some(&name))? {
                        Some(cols) => {
                            for col in cols {
                                outputs.push(OutCol {
                                    name: Some(col.name),
                                    masked: col.masked,
                                });
                                projection.push(SelectItem::UnnamedExpr(col.expr));
                            }
                        }
                        None => {
                            return Err(unsupported(format!("`{name}.*` here")));
                        }
                    }
                }
                SelectItem::QualifiedWildcard(..) | SelectItem::ExprWithAliases { .. } => {
                    return Err(unsupported("this select-list form"));
                }
                SelectItem::UnnamedExpr(mut expr) => {
                    let masked = self.check_masked(&mut expr)?;
                    let name = match &expr {
                        Expr::Identifier(i) => Some(self.name_of(i)),
                        Expr::CompoundIdentifier(parts) => parts.last().map(|i| self.name_of(i)),
                        other => self.default_label(other),
                    };
                    outputs.push(OutCol { name, masked });
                    projection.push(SelectItem::UnnamedExpr(expr));
                }
                SelectItem::ExprWithAlias { mut expr, alias } => {
                    let masked = self.check_masked(&mut expr)?;
                    outputs.push(OutCol {
                        name: Some(self.name_of(&alias)),
                        masked,
                    });
                    projection.push(SelectItem::ExprWithAlias { expr, alias });
                }
            }
        }
        Ok(outputs)
    }

    /// The name PostgreSQL gives an unaliased expression, where it is certain; MySQL and
    /// SQLite name it after its text, which the guard does not try to reproduce.
    fn default_label(&self, expr: &Expr) -> Option<String> {
        if !self.rules.default_labels {
            return None;
        }
        match expr {
            Expr::Function(f) => last_ident(&f.name).map(|i| self.name_of(i)),
            Expr::Cast { expr, .. } | Expr::Nested(expr) => self.default_label(expr),
            Expr::Case { .. } => Some("case".into()),
            Expr::Exists { .. } => Some("exists".into()),
            _ => None,
        }
    }

    /// The outputs of a `*` that stays as written (over `USING`/`NATURAL` joins): each
    /// source's columns, a joined column once.
    fn unexpanded_outputs(&self) -> Vec<OutCol> {
        let Some(scope) = self.scopes.last() else {
            return Vec::new();
        };
        let mut out: Vec<OutCol> = Vec::new();
        for source in &scope.sources {
            for col in self.source_columns(source) {
                let merged = out.iter().any(|o| {
                    o.name
                        .as_deref()
                        .zip(col.name.as_deref())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
                        && (scope.natural || scope.using.contains(&b_lower(&col)))
                });
                if !merged {
                    out.push(col);
                }
            }
        }
        out
    }

    /// A source's visible columns (excluded ones left out).
    fn source_columns(&self, source: &Source<'_>) -> Vec<OutCol> {
        match source {
            Source::Table { table, .. } => table
                .columns
                .iter()
                .filter(|c| !self.policy.column_excluded(table, c))
                .map(|c| OutCol {
                    name: Some(c.clone()),
                    masked: self.policy.column_masked(table, c),
                })
                .collect(),
            Source::Derived { columns, .. } => columns.clone(),
        }
    }

    /// The columns of a `*` or `t.*`, or `None` when the wildcard stays as written (over
    /// `USING`/`NATURAL` joins, where the database merges columns).
    fn expand(&self, qualifier: Option<&ObjectName>) -> Result<Option<Vec<Expanded>>, GuardError> {
        let scope = self.scopes.last();
        let sources: Vec<Source<'a>> = match qualifier {
            None => {
                let sources = scope.map(|s| s.sources.clone()).unwrap_or_default();
                if sources.is_empty() {
                    return Err(unsupported("`*` without FROM"));
                }
                if scope.is_some_and(|s| s.natural || !s.using.is_empty()) {
                    // The `*` stays as written: every column may come out.
                    for source in &sources {
                        self.note_source_all(source);
                    }
                    return Ok(None);
                }
                sources
            }
            Some(name) => {
                let Some(q) = last_ident(name) else {
                    return Err(unsupported("this qualified `*`"));
                };
                match self.find_binding(&q.value) {
                    Some(source) => vec![source],
                    None => return Err(self.unknown_qualifier(&q.value)),
                }
            }
        };
        let multi = sources.len() > 1 || qualifier.is_some();
        let mut list = Vec::new();
        for source in &sources {
            let qual: Vec<Ident> = match qualifier {
                Some(name) => ident_parts(name).unwrap_or_default(),
                None if multi => source.qualifier().cloned().into_iter().collect(),
                None => Vec::new(),
            };
            let cols = self.source_columns(source);
            if let Source::Table { factor, .. } = source {
                for c in cols.iter().filter_map(|c| c.name.as_deref()) {
                    self.note_used(*factor, c);
                }
            }
            let mut seen: Vec<String> = Vec::new();
            for col in &cols {
                let Some(name) = col.name.clone() else {
                    return Err(unsupported(
                        "`*` over an expression without a name; give it an alias",
                    ));
                };
                if seen.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                    // Two columns of one name cannot be referenced one by one.
                    return Err(unsupported(format!(
                        "`*` over two columns named `{name}`; give them aliases"
                    )));
                }
                seen.push(name.clone());
                if multi && qual.is_empty() {
                    return Err(unsupported(
                        "`*` over a subquery without an alias; give it one",
                    ));
                }
                let label = make_ident(self.dialect, &name);
                let expr = if qual.is_empty() {
                    Expr::Identifier(label)
                } else {
                    let mut parts = qual.clone();
                    parts.push(label);
                    Expr::CompoundIdentifier(parts)
                };
                list.push(Expanded {
                    expr,
                    name,
                    masked: col.masked,
                });
            }
        }
        if list.is_empty() {
            return Err(GuardError::PolicyViolation {
                object: "every column of the table".into(),
            });
        }
        Ok(Some(list))
    }

    // ----------------------------------------------------------------------------------
    // names

    fn find_binding(&self, qualifier: &str) -> Option<Source<'a>> {
        for scope in self.scopes.iter().rev() {
            for source in &scope.sources {
                if source
                    .binding()
                    .is_some_and(|b| b.eq_ignore_ascii_case(qualifier))
                {
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

    /// Whether select-list aliases are visible in this clause, for this dialect.
    fn aliases_visible(&self, clause: Clause) -> bool {
        match clause {
            Clause::OrderBy | Clause::GroupBy => true,
            Clause::Having => self.rules.aliases_in_having,
            Clause::Where => self.rules.aliases_in_where,
            Clause::Projection | Clause::Other => false,
        }
    }

    /// Resolves an unqualified column through the scope chain, innermost first; returns
    /// whether its values are masked.
    fn resolve_column(&mut self, ident: &Ident) -> Result<bool, GuardError> {
        match self.find_column(ident)? {
            Some(masked) => Ok(masked),
            None => Err(self.unknown_column(&ident.value, None)),
        }
    }

    /// [`Checker::resolve_column`], with `None` for a name no scope has (so a caller that
    /// has another reading for it builds no error and no suggestions).
    fn find_column(&mut self, ident: &Ident) -> Result<Option<bool>, GuardError> {
        let name = self.name_of(ident);
        let lower = name.to_lowercase();
        for depth in (0..self.scopes.len()).rev() {
            let innermost = depth + 1 == self.scopes.len();
            let scope = &self.scopes[depth];
            // ORDER BY looks at output names first.
            if innermost
                && scope.clause == Clause::OrderBy
                && let Some((_, masked)) = scope.aliases.iter().find(|(a, _)| *a == lower)
            {
                return Ok(Some(*masked));
            }
            // The sources that have the column are counted; they are only named (in
            // `column_sources`) when the reference is ambiguous.
            let mut hits = 0usize;
            let mut used: Vec<(usize, &'a str)> = Vec::new();
            let mut masked = false;
            let mut rowid_factor = None;
            for source in &scope.sources {
                match source {
                    Source::Table { table, factor, .. } => {
                        let table: &'a GuardTable = table;
                        if let Some(col) = table.column(&name) {
                            if self.policy.column_excluded(table, col) {
                                return Err(GuardError::PolicyViolation {
                                    object: format!("{}.{col}", table.name),
                                });
                            }
                            hits += 1;
                            used.push((*factor, col));
                            masked |= self.policy.column_masked(table, col);
                        } else if self.rules.rowid_columns && names::is_rowid(&name) {
                            hits += 1;
                            rowid_factor = Some(*factor);
                        }
                    }
                    Source::Derived { columns, .. } => {
                        if let Some(col) = find_out_col(columns, &name) {
                            hits += 1;
                            masked |= col.masked;
                        }
                    }
                }
            }
            let merged = scope.natural || scope.using.contains(&lower);
            let output_name = innermost
                && scope.clause == Clause::OrderBy
                && self.rules.order_by_output_names
                && scope.outputs.contains(&lower);
            if hits > 1 && !merged && !output_name {
                return Err(GuardError::AmbiguousColumn {
                    name: ident.value.clone(),
                    candidates: self.column_sources(scope, &name),
                });
            }
            if hits > 0 {
                if let (1, Some(f)) = (hits, rowid_factor) {
                    self.note_rowid(f, &name);
                }
                for &(factor, col) in &used {
                    self.note_used(factor, col);
                }
                return Ok(Some(masked));
            }
            if innermost
                && self.aliases_visible(scope.clause)
                && let Some((_, masked)) = scope.aliases.iter().find(|(a, _)| *a == lower)
            {
                return Ok(Some(*masked));
            }
            // PostgreSQL: a bare table alias is a whole-row reference.
            if self.rules.whole_row_references
                && let Some(source) = scope
                    .sources
                    .iter()
                    .find(|s| s.binding().is_some_and(|b| b == lower))
            {
                self.note_source_all(source);
                return Ok(Some(self.whole_row_masked(source)));
            }
        }
        Ok(None)
    }

    /// The bindings of the sources of `scope` that have column `name` (as
    /// [`Checker::find_column`] counts them), in order: the candidates of an ambiguous
    /// reference.
    fn column_sources(&self, scope: &Scope<'_>, name: &str) -> Vec<String> {
        scope
            .sources
            .iter()
            .filter_map(|source| match source {
                Source::Table { table, binding, .. } => (table.column(name).is_some()
                    || (self.rules.rowid_columns && names::is_rowid(name)))
                .then(|| binding.clone()),
                Source::Derived {
                    columns, binding, ..
                } => find_out_col(columns, name)
                    .map(|_| binding.clone().unwrap_or_else(|| "(subquery)".into())),
            })
            .collect()
    }

    fn note_rowid(&mut self, factor: usize, name: &str) {
        if let Some(Factor::Table { rowid, .. }) = self.factors.get_mut(factor)
            && !rowid.iter().any(|r| r.eq_ignore_ascii_case(name))
        {
            rowid.push(name.to_string());
        }
    }

    fn whole_row_masked(&self, source: &Source<'_>) -> bool {
        self.source_columns(source).iter().any(|c| c.masked)
    }

    /// A qualified column `q.c` (or `schema.table.c`, `db.schema.table.c`, or a composite
    /// field in PostgreSQL). References through a table's schema-qualified name are
    /// rewritten to `table.c`, the name outer references have once tables are substituted.
    fn resolve_compound(&mut self, parts: &mut Vec<Ident>) -> Result<bool, GuardError> {
        match parts.len() {
            0 => Err(unsupported("an empty name")),
            1 => {
                let ident = parts[0].clone();
                self.resolve_column(&ident)
            }
            n => {
                // `schema.table.column` / `db.schema.table.column`: the table part must be
                // an unaliased table source whose schema matches.
                if n >= 3 {
                    let table_part = parts[n - 2].value.clone();
                    let schema_part = parts[n - 3].value.clone();
                    let found = self.scopes.iter().rev().find_map(|scope| {
                        scope.sources.iter().find_map(|s| match s {
                            Source::Table {
                                table,
                                unaliased: true,
                                qualifier,
                                ..
                            } if table.name.eq_ignore_ascii_case(&table_part)
                                && table
                                    .schema
                                    .as_deref()
                                    .is_some_and(|sc| sc.eq_ignore_ascii_case(&schema_part)) =>
                            {
                                Some(qualifier.clone())
                            }
                            _ => None,
                        })
                    });
                    if let Some(qualifier) = found {
                        let column = parts[n - 1].clone();
                        *parts = vec![qualifier, column];
                        return self.resolve_compound(parts);
                    }
                    if !self.rules.field_access {
                        return Err(self.unknown_qualifier(&format!("{schema_part}.{table_part}")));
                    }
                }
                let qualifier = parts[0].value.clone();
                let column = parts[1].clone();
                match self.find_binding(&qualifier) {
                    Some(source) => {
                        let masked = self.resolve_in_source(&source, &qualifier, &column)?;
                        // PostgreSQL composite fields beyond the column: `t.c.field`.
                        if n > 2 && !self.rules.field_access {
                            return Err(unsupported("field access"));
                        }
                        Ok(masked)
                    }
                    None if self.rules.field_access => {
                        // `column.field` of a composite column.
                        let first = parts[0].clone();
                        match self.resolve_column(&first) {
                            Ok(masked) => Ok(masked),
                            Err(GuardError::UnknownColumn { .. }) => {
                                Err(self.unknown_qualifier(&qualifier))
                            }
                            Err(e) => Err(e),
                        }
                    }
                    None => Err(self.unknown_qualifier(&qualifier)),
                }
            }
        }
    }

    fn resolve_in_source(
        &mut self,
        source: &Source<'a>,
        qualifier: &str,
        column: &Ident,
    ) -> Result<bool, GuardError> {
        let name = self.name_of(column);
        match source {
            Source::Table { table, factor, .. } => {
                if let Some(col) = table.column(&name) {
                    if self.policy.column_excluded(table, col) {
                        return Err(GuardError::PolicyViolation {
                            object: format!("{}.{col}", table.name),
                        });
                    }
                    self.note_used(*factor, col);
                    return Ok(self.policy.column_masked(table, col));
                }
                if self.rules.rowid_columns && names::is_rowid(&name) {
                    self.note_rowid(*factor, &name);
                    return Ok(false);
                }
                let candidates: Vec<String> = table
                    .columns
                    .iter()
                    .filter(|c| !self.policy.column_excluded(table, c))
                    .map(|c| format!("{qualifier}.{c}"))
                    .collect();
                Err(GuardError::UnknownColumn {
                    name: format!("{qualifier}.{}", column.value),
                    suggestions: suggest(
                        &format!("{qualifier}.{}", column.value),
                        candidates.iter().map(String::as_str),
                    ),
                })
            }
            Source::Derived { columns, .. } => match find_out_col(columns, &name) {
                Some(col) => Ok(col.masked),
                None => {
                    let candidates: Vec<String> = columns
                        .iter()
                        .filter_map(|c| c.name.as_deref())
                        .map(|c| format!("{qualifier}.{c}"))
                        .collect();
                    let hint = columns.iter().any(|c| c.name.is_none());
                    let mut e = GuardError::UnknownColumn {
                        name: format!("{qualifier}.{}", column.value),
                        suggestions: suggest(
                            &format!("{qualifier}.{}", column.value),
                            candidates.iter().map(String::as_str),
                        ),
                    };
                    if hint {
                        e = unsupported(format!(
                            "`{qualifier}.{}`: name the subquery's expressions with AS so they can be referenced",
                            column.value
                        ));
                    }
                    Err(e)
                }
            },
        }
    }

    /// Whether a source in scope has an expression column without a name, which an
    /// unresolved name might have meant (so it is refused as such, not as unknown).
    fn unnamed_columns_in_scope(&self) -> bool {
        self.scopes.iter().any(|s| {
            s.sources.iter().any(|src| match src {
                Source::Derived { columns, .. } => columns.iter().any(|c| c.name.is_none()),
                Source::Table { .. } => false,
            })
        })
    }

    fn unknown_column(&self, name: &str, _qualifier: Option<&str>) -> GuardError {
        let mut candidates: Vec<String> = Vec::new();
        for scope in &self.scopes {
            for source in &scope.sources {
                for c in self.source_columns(source) {
                    if let Some(n) = c.name {
                        candidates.push(n);
                    }
                }
            }
        }
        if self.unnamed_columns_in_scope() {
            return unsupported(format!(
                "`{name}` is not a column the guard can resolve; name the subquery's expressions with AS"
            ));
        }
        GuardError::UnknownColumn {
            name: name.to_string(),
            suggestions: suggest(name, candidates.iter().map(String::as_str)),
        }
    }

    /// A whole-row reference (`t.*` or `t` as a value).
    fn resolve_whole_row(&self, name: &ObjectName) -> Result<bool, GuardError> {
        let Some(q) = last_ident(name) else {
            return Err(unsupported("this whole-row reference"));
        };
        if name.0.len() != 1 {
            return Err(unsupported("a schema-qualified whole-row reference"));
        }
        match self.find_binding(&q.value) {
            Some(source) => {
                self.note_source_all(&source);
                Ok(self.whole_row_masked(&source))
            }
            None => Err(self.unknown_qualifier(&q.value)),
        }
    }

    // ----------------------------------------------------------------------------------
    // expressions

    fn check_node<V: VisitMut + ?Sized>(&mut self, node: &mut V) -> Result<(), GuardError> {
        self.check_masked(node).map(|_| ())
    }

    /// Checks a node; returns whether masked values flow into it (outside `COUNT(…)`).
    fn check_masked<V: VisitMut + ?Sized>(&mut self, node: &mut V) -> Result<bool, GuardError> {
        let mut checker = ExprCheck {
            ck: self,
            depth: 0,
            count_depth: 0,
            masked: false,
            skip: Vec::new(),
        };
        match node.visit(&mut checker) {
            ControlFlow::Break(e) => Err(e),
            ControlFlow::Continue(()) => Ok(checker.masked),
        }
    }

    /// Checks a table function's arguments; returns whether masked values flow into them.
    fn check_function_args(&mut self, args: &mut [FunctionArg]) -> Result<bool, GuardError> {
        let mut masked = false;
        for arg in args {
            match arg {
                FunctionArg::Named { arg, .. }
                | FunctionArg::ExprNamed { arg, .. }
                | FunctionArg::Unnamed(arg) => match arg {
                    FunctionArgExpr::Expr(e) => masked |= self.check_masked(e)?,
                    FunctionArgExpr::QualifiedWildcard(name) => {
                        masked |= self.resolve_whole_row(name)?;
                    }
                    FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => {
                        return Err(unsupported("`*` as a table function argument"));
                    }
                },
            }
        }
        Ok(masked)
    }

    /// Checks a function call against the allow-list and its argument rule. Returns the
    /// arguments the expression walk must not resolve as columns (unit keywords).
    fn check_function(&mut self, f: &Function) -> Result<Vec<usize>, GuardError> {
        let written = f.name.to_string();
        let not_allowed = || GuardError::FunctionNotAllowed {
            name: written.clone(),
        };
        let Some(parts) = ident_parts(&f.name) else {
            return Err(not_allowed());
        };
        let [ident] = parts.as_slice() else {
            return Err(not_allowed());
        };
        if f.uses_odbc_syntax || !matches!(f.parameters, FunctionArguments::None) {
            return Err(not_allowed());
        }
        let name = names::function_name(self.dialect, ident);
        let Some(rule) = functions::scalar(self.dialect, &name) else {
            return Err(not_allowed());
        };
        let mut skip = Vec::new();
        let list = match &f.args {
            FunctionArguments::None => return Ok(skip),
            FunctionArguments::Subquery(_) => {
                return if name == "array" {
                    Ok(skip)
                } else {
                    Err(unsupported(format!(
                        "a subquery as the argument of {written}"
                    )))
                };
            }
            FunctionArguments::List(list) => list,
        };
        for clause in &list.clauses {
            match clause {
                FunctionArgumentClause::IgnoreOrRespectNulls(_)
                | FunctionArgumentClause::OrderBy(_)
                | FunctionArgumentClause::Separator(_)
                | FunctionArgumentClause::JsonNullClause(_) => {}
                _ => return Err(unsupported(format!("this clause in {written}(…)"))),
            }
        }
        for (i, arg) in list.args.iter().enumerate() {
            let arg = match arg {
                FunctionArg::Unnamed(a) => a,
                FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => {
                    if !self.rules.named_arguments {
                        return Err(unsupported("named arguments"));
                    }
                    arg
                }
            };
            match arg {
                FunctionArgExpr::Wildcard => {
                    if name != "count" {
                        return Err(unsupported(format!("`*` as an argument of {written}")));
                    }
                }
                FunctionArgExpr::WildcardWithOptions(_) => {
                    return Err(unsupported(format!("`*` with options in {written}")));
                }
                FunctionArgExpr::QualifiedWildcard(name) => {
                    self.resolve_whole_row(name)?;
                }
                FunctionArgExpr::Expr(e) => match rule {
                    ArgRule::UnitFirst if i == 0 => match e {
                        Expr::Identifier(unit)
                            if unit.quote_style.is_none() && names::is_time_unit(&unit.value) =>
                        {
                            skip.push(e as *const Expr as usize);
                        }
                        _ => {
                            return Err(GuardError::FunctionArgument {
                                function: written.clone(),
                                detail: "the first argument must be a unit such as DAY or MONTH"
                                    .into(),
                            });
                        }
                    },
                    ArgRule::Size(pos) if pos == i => {
                        let ok = matches!(e, Expr::Value(v) if matches!(&v.value,
                            Value::Number(n, false) if n.parse::<u64>().is_ok_and(|n| n <= functions::MAX_SIZE_ARGUMENT)));
                        if !ok {
                            return Err(GuardError::FunctionArgument {
                                function: written.clone(),
                                detail: format!(
                                    "the length must be a number up to {}",
                                    functions::MAX_SIZE_ARGUMENT
                                ),
                            });
                        }
                    }
                    ArgRule::Format(pos) if pos == i => {
                        let ok = match e {
                            Expr::Value(v) => v
                                .value
                                .clone()
                                .into_string()
                                .is_some_and(|s| functions::format_is_bounded(&s)),
                            _ => false,
                        };
                        if !ok {
                            return Err(GuardError::FunctionArgument {
                                function: written.clone(),
                                detail: format!(
                                    "the format must be a literal with fields at most {} wide",
                                    functions::MAX_FORMAT_WIDTH
                                ),
                            });
                        }
                    }
                    _ => {}
                },
            }
        }
        Ok(skip)
    }

    // ----------------------------------------------------------------------------------
    // substitution

    /// Rewrites the table references of a checked query for execution: every table the
    /// policy governs becomes a derived table exposing only its allowed columns, masked
    /// ones masked and row filters applied inside; every other table is referenced by its
    /// exact catalog name, schema-qualified, so the database reads exactly the table the
    /// guard checked.
    ///
    /// This is the walk itself: [`crate::render::substitute_print_and_verify`] runs it in
    /// the same walk as the printer of the text that runs.
    pub(crate) fn substitution(&self) -> Substitute<'_, 'a> {
        Substitute { ck: self }
    }

    /// The name that reads exactly `table`: `schema.name` (quoted as needed). SQLite
    /// targets are one file opened read-only, with nothing attached and no temporary
    /// tables, so there the name alone is exact.
    fn exact_name(&self, table: &GuardTable) -> ObjectName {
        let mut parts = Vec::new();
        if let (Some(s), true) = (&table.schema, self.dialect.qualifies_tables()) {
            parts.push(exact_ident(self.dialect, s));
        }
        let mut last = exact_ident(self.dialect, &table.name);
        last.span = factor_span(BUILT_FACTOR);
        parts.push(last);
        ObjectName::from(parts)
    }

    fn derived_table(
        &self,
        table: &GuardTable,
        usage: &Usage,
        rowid: &[String],
    ) -> Result<Box<Query>, GuardError> {
        let mut projection = Vec::new();
        for c in &table.columns {
            if self.policy.column_excluded(table, c)
                || !(usage.all || usage.columns.iter().any(|u| u == c))
            {
                continue;
            }
            let ident = exact_ident(self.dialect, c);
            if self.policy.column_masked(table, c) {
                projection.push(SelectItem::ExprWithAlias {
                    expr: mask_expr(Expr::Identifier(ident.clone())),
                    alias: ident,
                });
            } else {
                projection.push(SelectItem::UnnamedExpr(Expr::Identifier(ident)));
            }
        }
        for r in rowid {
            projection.push(SelectItem::ExprWithAlias {
                expr: Expr::Identifier(Ident::new("rowid")),
                alias: exact_ident(self.dialect, r),
            });
        }
        if projection.is_empty() {
            projection.push(SelectItem::ExprWithAlias {
                expr: Expr::value(Value::Null),
                alias: Ident::new("querent_no_columns"),
            });
        }
        let mut selection: Option<Expr> = None;
        for filter in self.policy.row_filters_for(table) {
            let predicate = crate::guard::parse_row_filter(self.dialect, &filter.predicate)
                .map_err(|e| GuardError::InvalidPolicy {
                    detail: format!("row filter on {}: {e}", filter.table),
                })?;
            let mut predicate = predicate;
            self.check_row_filter(table, &mut predicate).map_err(|e| {
                GuardError::InvalidPolicy {
                    detail: format!("row filter on {}: {e}", filter.table),
                }
            })?;
            selection = Some(match selection {
                None => Expr::Nested(Box::new(predicate)),
                Some(prev) => Expr::BinaryOp {
                    left: Box::new(prev),
                    op: BinaryOperator::And,
                    right: Box::new(Expr::Nested(Box::new(predicate))),
                },
            });
        }
        let fenced = selection.is_some();
        let select = Select {
            select_token: AttachedToken::empty(),
            optimizer_hints: Vec::new(),
            distinct: None,
            select_modifiers: None,
            top: None,
            top_before_distinct: false,
            projection,
            exclude: None,
            into: None,
            from: vec![TableWithJoins {
                relation: TableFactor::Table {
                    name: self.exact_name(table),
                    alias: None,
                    args: None,
                    with_hints: Vec::new(),
                    version: None,
                    with_ordinality: false,
                    partitions: Vec::new(),
                    json_path: None,
                    sample: None,
                    index_directives: Vec::new(),
                    inheritance: None,
                },
                joins: Vec::new(),
            }],
            lateral_views: Vec::new(),
            prewhere: None,
            selection,
            connect_by: Vec::new(),
            group_by: GroupByExpr::Expressions(Vec::new(), Vec::new()),
            cluster_by: Vec::new(),
            distribute_by: Vec::new(),
            sort_by: Vec::new(),
            having: None,
            named_window: Vec::new(),
            qualify: None,
            window_before_qualify: false,
            value_table_mode: None,
            flavor: SelectFlavor::Standard,
        };
        // With a row filter, keep the database from evaluating outer conditions before it:
        // a LIMIT/OFFSET keeps the derived table from being merged or having conditions
        // pushed into it (PostgreSQL, MariaDB and SQLite alike).
        let limit_clause = fenced.then(|| match self.rules.fence {
            Fence::OffsetZero => LimitClause::LimitOffset {
                limit: None,
                offset: Some(Offset {
                    value: Expr::value(Value::Number("0".into(), false)),
                    rows: OffsetRows::None,
                }),
                limit_by: Vec::new(),
            },
            Fence::LimitMax => LimitClause::LimitOffset {
                limit: Some(Expr::value(Value::Number(u64::MAX.to_string(), false))),
                offset: None,
                limit_by: Vec::new(),
            },
            Fence::LimitNone => LimitClause::LimitOffset {
                limit: Some(Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr: Box::new(Expr::value(Value::Number("1".into(), false))),
                }),
                offset: None,
                limit_by: Vec::new(),
            },
        });
        Ok(Box::new(Query {
            with: None,
            body: Box::new(SetExpr::Select(Box::new(select))),
            order_by: None,
            limit_clause,
            fetch: None,
            locks: Vec::new(),
            for_clause: None,
            settings: None,
            format_clause: None,
            pipe_operators: Vec::new(),
        }))
    }

    /// A row filter may use the table's columns and allowed functions, nothing else.
    fn check_row_filter(
        &self,
        table: &'a GuardTable,
        predicate: &mut Expr,
    ) -> Result<(), GuardError> {
        let mut inner = Checker::new(self.dialect, self.schema, &NO_POLICY);
        let mut scope = Scope::new();
        scope.sources.push(Source::Table {
            binding: table.name.to_lowercase(),
            qualifier: Ident::new(&table.name),
            table,
            factor: usize::MAX,
            unaliased: true,
        });
        let mut subquery = false;
        let _ = predicate.visit(&mut FindSubquery(&mut subquery));
        if subquery {
            return Err(unsupported("a subquery in a row filter"));
        }
        inner.with_scope(scope, |ck| {
            ck.in_clause(Clause::Where, |ck| ck.check_node(predicate))
        })
    }
}

static NO_POLICY: GuardPolicy = GuardPolicy {
    excluded_tables: Vec::new(),
    excluded_columns: Vec::new(),
    masked_column_patterns: Vec::new(),
    row_filters: Vec::new(),
    allow_catalogs: false,
    max_rows: None,
};

struct FindSubquery<'f>(&'f mut bool);

impl VisitorMut for FindSubquery<'_> {
    type Break = ();
    fn pre_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        *self.0 = true;
        ControlFlow::Break(())
    }
}

fn b_lower(col: &OutCol) -> String {
    col.name.as_deref().unwrap_or("").to_lowercase()
}

fn check_plain_wildcard(opts: &WildcardAdditionalOptions) -> Result<(), GuardError> {
    if opts.opt_ilike.is_some()
        || opts.opt_exclude.is_some()
        || opts.opt_except.is_some()
        || opts.opt_replace.is_some()
        || opts.opt_rename.is_some()
        || opts.opt_alias.is_some()
    {
        return Err(unsupported("`*` with EXCEPT, EXCLUDE, REPLACE or RENAME"));
    }
    Ok(())
}

fn find_out_col<'c>(cols: &'c [OutCol], name: &str) -> Option<&'c OutCol> {
    cols.iter().find(|c| {
        c.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn json_table_columns(columns: &[JsonTableColumn], names: &mut Vec<String>) {
    for c in columns {
        match c {
            JsonTableColumn::Named(n) => names.push(n.name.value.clone()),
            JsonTableColumn::ForOrdinality(i) => names.push(i.value.clone()),
            JsonTableColumn::Nested(n) => json_table_columns(&n.columns, names),
        }
    }
}

fn check_json_table_column(dialect: Dialect, c: &JsonTableColumn) -> Result<(), GuardError> {
    match c {
        JsonTableColumn::Named(n) => names::check_type(dialect, &n.r#type),
        JsonTableColumn::ForOrdinality(_) => Ok(()),
        JsonTableColumn::Nested(n) => {
            for c in &n.columns {
                check_json_table_column(dialect, c)?;
            }
            Ok(())
        }
    }
}

/// Whether the expression is a call of the built-in `COUNT`.
fn is_count(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f)
        if f.name.0.len() == 1 && last_ident(&f.name).is_some_and(|i| i.value.eq_ignore_ascii_case("count")))
}

/// The expression walk: resolves names, checks every expression form, function, type and
/// operator against the allow-lists, and checks nested queries as queries of their own
/// with the current scopes as outer scopes.
struct ExprCheck<'c, 'a> {
    ck: &'c mut Checker<'a>,
    depth: usize,
    count_depth: usize,
    masked: bool,
    /// Addresses of expressions that are keywords, not columns (unit arguments, field
    /// names).
    skip: Vec<usize>,
}

impl ExprCheck<'_, '_> {
    fn mark(&mut self, masked: bool) {
        if masked && self.count_depth == 0 {
            self.masked = true;
        }
    }

    #[allow(clippy::too_many_lines)] // one arm per expression form: the guard's allow-list of forms, read as one table
    fn check(&mut self, expr: &mut Expr) -> Result<(), GuardError> {
        let dialect = self.ck.dialect;
        match expr {
            Expr::Identifier(ident) => {
                let ident = ident.clone();
                match self.ck.find_column(&ident)? {
                    Some(m) => self.mark(m),
                    // SQLite reads a double-quoted name that is no column as a string;
                    // say so in the text, so no reader can take it the other way.
                    // (Only where the refusal would have said "unknown column".)
                    None if self.ck.rules.double_quoted_fallback_to_string
                        && ident.quote_style == Some('"')
                        && !self.ck.unnamed_columns_in_scope() =>
                    {
                        *expr = Expr::value(Value::SingleQuotedString(ident.value));
                    }
                    None => return Err(self.ck.unknown_column(&ident.value, None)),
                }
            }
            Expr::CompoundIdentifier(parts) => {
                let m = self.ck.resolve_compound(parts)?;
                self.mark(m);
            }
            Expr::Function(f) => {
                let skip = self.ck.check_function(f)?;
                self.skip.extend(skip);
                if let FunctionArguments::List(list) = &f.args {
                    for arg in &list.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(name))
                        | FunctionArg::Named {
                            arg: FunctionArgExpr::QualifiedWildcard(name),
                            ..
                        } = arg
                        {
                            let m = self.ck.resolve_whole_row(name)?;
                            self.mark(m);
                        }
                    }
                }
                if is_count(expr) {
                    self.count_depth += 1;
                }
            }
            Expr::Cast {
                kind,
                data_type,
                format,
                ..
            } => {
                if format.is_some() || !matches!(kind, CastKind::Cast | CastKind::DoubleColon) {
                    return Err(unsupported("this form of CAST"));
                }
                names::check_type(dialect, data_type)?;
            }
            Expr::TypedString(ts) => {
                if ts.uses_odbc_syntax {
                    return Err(unsupported("ODBC literals"));
                }
                names::check_type(dialect, &ts.data_type)?;
            }
            Expr::Convert {
                is_try,
                data_type,
                charset,
                styles,
                ..
            } => {
                if *is_try || !styles.is_empty() || !self.ck.rules.convert {
                    return Err(unsupported("this form of CONVERT"));
                }
                if let Some(t) = data_type {
                    names::check_type(dialect, t)?;
                }
                if let Some(cs) = charset {
                    names::check_charset(cs)?;
                }
            }
            Expr::Prefixed { prefix, value } => {
                let is_string = matches!(value.as_ref(), Expr::Value(v) if v.value.clone().into_string().is_some());
                if !self.ck.rules.charset_introducers || !names::is_introducer(prefix) || !is_string
                {
                    return Err(unsupported("this prefixed literal"));
                }
            }
            Expr::UnaryOp { op, .. } => {
                if !names::unary_allowed(dialect, op) {
                    return Err(unsupported(format!("the operator {op}")));
                }
            }
            Expr::BinaryOp { op, .. } => {
                if !names::binary_allowed(dialect, op) {
                    return Err(unsupported(format!("the operator {op}")));
                }
            }
            Expr::AnyOp { compare_op, .. } | Expr::AllOp { compare_op, .. } => {
                if !names::binary_allowed(dialect, compare_op) {
                    return Err(unsupported(format!("the operator {compare_op}")));
                }
            }
            Expr::MatchAgainst { columns, .. } => {
                if !self.ck.rules.match_against {
                    return Err(unsupported("MATCH … AGAINST"));
                }
                for c in columns.iter() {
                    let Some(mut parts) = ident_parts(c) else {
                        return Err(unsupported("this MATCH column"));
                    };
                    let before = parts.clone();
                    let m = self.ck.resolve_compound(&mut parts)?;
                    if parts != before {
                        return Err(unsupported("schema-qualified MATCH columns"));
                    }
                    self.mark(m);
                }
            }
            Expr::Collate { collation, .. } => {
                if ident_parts(collation).is_none() {
                    return Err(unsupported("this collation"));
                }
            }
            Expr::QualifiedWildcard(name, _) => {
                let m = self.ck.resolve_whole_row(name)?;
                self.mark(m);
            }
            Expr::In { target, global, .. } => {
                if *global || matches!(target, InTarget::Table { .. } | InTarget::Unnest(_)) {
                    return Err(unsupported("this form of IN"));
                }
            }
            Expr::CompoundFieldAccess { access_chain, .. } => {
                if !self.ck.rules.field_access {
                    return Err(unsupported("field and subscript access"));
                }
                for access in access_chain.iter() {
                    match access {
                        AccessExpr::Dot(Expr::Identifier(_)) => {
                            if let AccessExpr::Dot(e) = access {
                                self.skip.push(e as *const Expr as usize);
                            }
                        }
                        AccessExpr::Dot(_) => return Err(unsupported("this field access")),
                        AccessExpr::Subscript(_) => {}
                    }
                }
            }
            Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. }
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::IsJson { .. }
            | Expr::Between { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Extract { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. }
            | Expr::Position { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Overlay { .. }
            | Expr::Nested(_)
            | Expr::Value(_)
            | Expr::Case { .. }
            | Expr::Exists { .. }
            | Expr::Subquery(_)
            | Expr::GroupingSets(_)
            | Expr::Cube(_)
            | Expr::Rollup(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
            | Expr::Interval(_)
            | Expr::MemberOf(_) => {}
            Expr::Wildcard(_) => return Err(unsupported("`*` here")),
            _ => return Err(unsupported("this kind of expression")),
        }
        Ok(())
    }
}

impl VisitorMut for ExprCheck<'_, '_> {
    type Break = GuardError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<GuardError> {
        if self.depth == 0 {
            match self.ck.check_query(query) {
                Ok(out) => {
                    if out.iter().any(|c| c.masked) {
                        self.mark(true);
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

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<GuardError> {
        if self.depth == 0 {
            return ControlFlow::Break(unsupported(format!(
                "a table reference (`{relation}`) here"
            )));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<GuardError> {
        if self.depth > 0 || self.skip.contains(&(expr as *const Expr as usize)) {
            return ControlFlow::Continue(());
        }
        match self.check(expr) {
            Ok(()) => ControlFlow::Continue(()),
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

/// The substitution walk over the text that will run. It only replaces table factors
/// ([`VisitorMut::pre_visit_table_factor`]), before their children are visited.
pub(crate) struct Substitute<'s, 'a> {
    ck: &'s Checker<'a>,
}

impl VisitorMut for Substitute<'_, '_> {
    type Break = GuardError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<GuardError> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let Some(id) = factor_id(name) else {
            // Every table reference went through the checker; one that did not is a bug,
            // and is refused rather than run unchecked.
            return ControlFlow::Break(unsupported(format!(
                "a table reference the guard did not resolve (`{name}`)"
            )));
        };
        if id == BUILT_FACTOR {
            return ControlFlow::Continue(());
        }
        let Some(info) = usize::try_from(id - 1)
            .ok()
            .and_then(|i| self.ck.factors.get(i))
        else {
            return ControlFlow::Break(unsupported("an unknown table reference"));
        };
        let (table, binding, aliased, rowid) = match info {
            Factor::Table {
                table,
                binding,
                aliased,
                rowid,
            } => (table, binding, aliased, rowid),
            Factor::Cte(ident) => {
                // Printed exactly as defined, so the database finds this CTE.
                let mut ident = ident.clone();
                ident.span = factor_span(BUILT_FACTOR);
                *name = ObjectName::from(vec![ident]);
                return ControlFlow::Continue(());
            }
        };
        let mut binding = binding.clone();
        binding.span = Span::empty();
        let usage = self
            .ck
            .usage
            .borrow()
            .get(usize::try_from(id - 1).unwrap_or(usize::MAX))
            .cloned()
            .unwrap_or(Usage {
                all: true,
                columns: Vec::new(),
            });
        // A governed table, or one whose every column may come out (whole-row references,
        // `*` left as written): only the snapshot's allowed columns, so a column added
        // since the schema was read cannot come out either.
        if self.ck.policy.governs(table) || usage.all {
            let subquery = match self.ck.derived_table(table, &usage, rowid) {
                Ok(q) => q,
                Err(e) => return ControlFlow::Break(e),
            };
            let columns = alias
                .as_ref()
                .map(|a| a.columns.clone())
                .unwrap_or_default();
            *factor = TableFactor::Derived {
                lateral: false,
                subquery,
                alias: Some(TableAlias {
                    explicit: true,
                    name: binding,
                    columns,
                    at: None,
                }),
                sample: None,
            };
        } else {
            *name = self.ck.exact_name(table);
            if !aliased {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: binding,
                    columns: Vec::new(),
                    at: None,
                });
            }
        }
        ControlFlow::Continue(())
    }
}
