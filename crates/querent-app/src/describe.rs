//! A connection's schema described for an agent (the MCP tool `describe_schema`): the
//! tables and columns of the stored snapshot with their comments, joined with the
//! semantic model's names, descriptions and synonyms, **under the caller's policy** —
//! excluded tables and columns are left out entirely (not only their values), masked
//! columns are marked, and no sample value the policy hides is served (the snapshot and
//! the model come through `App::stored_schema` and the model's own stripping).

use querent_domain::schema::TableKind;
use querent_domain::semantic::SemanticModel;
use querent_domain::{ConnectionId, ExecutionMode, TeamRole};
use serde::Serialize;

use crate::{Actor, App, ServiceResult};

/// A connection's schema as the caller may see it.
#[derive(Clone, Debug, Serialize)]
pub struct SchemaDescription {
    /// The connection.
    pub connection_id: ConnectionId,
    /// Its name.
    pub connection: String,
    /// The SQL dialect by its display name (`PostgreSQL`, `MySQL`, `SQLite`).
    pub dialect: String,
    /// What a question does on this connection: `auto_execute` runs the SQL,
    /// `review_first` waits for an editor's approval, `generate_only` never runs it.
    pub execution_mode: ExecutionMode,
    /// The semantic model's description of the database, when there is a model.
    pub description: Option<String>,
    /// The semantic model's version, when there is one.
    pub semantic_model_version: Option<u32>,
    /// Tables and views the policy does not exclude, in catalog order.
    pub tables: Vec<TableDescription>,
    /// Named business metrics of the semantic model (on tables not excluded).
    pub metrics: Vec<MetricDescription>,
}

/// One table or view.
#[derive(Clone, Debug, Serialize)]
pub struct TableDescription {
    /// The name to use in SQL (`schema.table` where the dialect has schemas).
    pub name: String,
    /// `table`, `view` or `materialized_view`.
    pub kind: &'static str,
    /// The catalog's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The semantic model's name for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The semantic model's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other words people use for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// The catalog's row estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_estimate: Option<u64>,
    /// Primary key columns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// Foreign keys as `column(s) -> table(column(s))`, excluded columns and tables left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<String>,
    /// Columns the policy does not exclude.
    pub columns: Vec<ColumnDescription>,
}

/// One column.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnDescription {
    /// Its name.
    pub name: String,
    /// The database type.
    pub data_type: String,
    /// Whether it may be NULL.
    pub nullable: bool,
    /// Whether its values come back masked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
    /// The catalog's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The semantic model's name for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The semantic model's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other words people use for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// Sample values (never of a masked or excluded column).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_values: Vec<String>,
}

/// A named metric of the semantic model.
#[derive(Clone, Debug, Serialize)]
pub struct MetricDescription {
    /// Its name.
    pub name: String,
    /// What it measures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The SQL expression.
    pub expression: String,
    /// The table it is computed on.
    pub table: String,
}

fn kind_name(kind: &TableKind) -> &'static str {
    match kind {
        TableKind::Table => "table",
        TableKind::View => "view",
        TableKind::MaterializedView => "materialized_view",
    }
}

impl App {
    /// The schema of a connection as the caller may see it (viewer or above): the stored
    /// snapshot (read from the catalog on first use) under the connection's current policy
    /// and the caller's view of it, with the semantic model's names when there is one.
    pub async fn describe_schema(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<SchemaDescription> {
        let conn = self.load_connection(actor, id, TeamRole::Viewer).await?;
        let snapshot = self.get_schema(actor, id).await?;
        let model: Option<SemanticModel> = match self.store().latest_semantic_model(id).await? {
            Some(mut m) => {
                m.strip_protected_values(&conn.privacy);
                Some(m)
            }
            None => None,
        };
        let policy = &conn.privacy;
        let mut tables = Vec::new();
        for t in &snapshot.tables {
            let schema = t.schema.as_deref();
            if policy.excludes_table(schema, &t.name) {
                continue;
            }
            let name = match schema {
                Some(s) => format!("{s}.{}", t.name),
                None => t.name.clone(),
            };
            let semantic = model.as_ref().and_then(|m| {
                m.tables.iter().find(|st| {
                    st.table.eq_ignore_ascii_case(&name) || st.table.eq_ignore_ascii_case(&t.name)
                })
            });
            let hidden = |c: &str| policy.excludes_column(schema, &t.name, c);
            let columns = t
                .columns
                .iter()
                .filter(|c| !hidden(&c.name))
                .map(|c| {
                    let sc = semantic.and_then(|st| {
                        st.columns
                            .iter()
                            .find(|sc| sc.column.eq_ignore_ascii_case(&c.name))
                    });
                    ColumnDescription {
                        name: c.name.clone(),
                        data_type: c.data_type.clone(),
                        nullable: c.nullable,
                        masked: policy.masks_column(schema, &t.name, &c.name),
                        comment: c.comment.clone(),
                        display_name: sc.and_then(|s| s.display_name.clone()),
                        description: sc.and_then(|s| s.description.clone()),
                        synonyms: sc.map(|s| s.synonyms.clone()).unwrap_or_default(),
                        sample_values: c.sample_values.clone(),
                    }
                })
                .collect();
            let foreign_keys = t
                .foreign_keys
                .iter()
                .filter(|fk| {
                    !fk.columns.iter().any(|c| hidden(c))
                        && !policy
                            .excludes_table(fk.referenced_schema.as_deref(), &fk.referenced_table)
                        && !fk.referenced_columns.iter().any(|c| {
                            policy.excludes_column(
                                fk.referenced_schema.as_deref(),
                                &fk.referenced_table,
                                c,
                            )
                        })
                })
                .map(|fk| {
                    let target = match &fk.referenced_schema {
                        Some(s) => format!("{s}.{}", fk.referenced_table),
                        None => fk.referenced_table.clone(),
                    };
                    format!(
                        "{} -> {target}({})",
                        fk.columns.join(", "),
                        fk.referenced_columns.join(", ")
                    )
                })
                .collect();
            tables.push(TableDescription {
                name,
                kind: kind_name(&t.kind),
                comment: t.comment.clone(),
                display_name: semantic.and_then(|s| s.display_name.clone()),
                description: semantic.and_then(|s| s.description.clone()),
                synonyms: semantic.map(|s| s.synonyms.clone()).unwrap_or_default(),
                row_estimate: t.row_estimate,
                primary_key: t
                    .primary_key
                    .iter()
                    .filter(|c| !hidden(c))
                    .cloned()
                    .collect(),
                foreign_keys,
                columns,
            });
        }
        let metrics = model
            .as_ref()
            .map(|m| {
                m.metrics
                    .iter()
                    .filter(|x| {
                        tables.iter().any(|t| {
                            t.name.eq_ignore_ascii_case(&x.table)
                                || t.name
                                    .rsplit('.')
                                    .next()
                                    .is_some_and(|n| n.eq_ignore_ascii_case(&x.table))
                        })
                    })
                    .map(|x| MetricDescription {
                        name: x.name.clone(),
                        description: x.description.clone(),
                        expression: x.expression.clone(),
                        table: x.table.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(SchemaDescription {
            connection_id: conn.id,
            connection: conn.name.clone(),
            dialect: conn.target.dialect.display_name().to_owned(),
            execution_mode: conn.execution_mode,
            description: model.as_ref().and_then(|m| m.description.clone()),
            semantic_model_version: model.as_ref().map(|m| m.version),
            tables,
            metrics,
        })
    }
}
