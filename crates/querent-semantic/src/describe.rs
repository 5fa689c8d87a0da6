//! Provider-assisted drafting: the instruction that asks a language model to describe a
//! drafted model's tables and columns, and the merge of its JSON reply into the model. The
//! model only ever sees what the draft holds — tables and columns the privacy policy
//! allows, sampled values only of unmasked columns — and its reply can only add
//! descriptions and synonyms to names that exist: it cannot add tables, columns, joins,
//! value mappings or metrics.

use serde::Deserialize;

use querent_domain::semantic::SemanticModel;

/// Tables described at most (the rest keep their rule-based draft).
pub const DESCRIBE_MAX_TABLES: usize = 100;
/// Tables per request, so a reply fits a model's output limit.
pub const DESCRIBE_TABLES_PER_REQUEST: usize = 20;
/// Longest description kept.
const MAX_DESCRIPTION: usize = 400;
/// Synonyms kept per table or column from a reply.
const MAX_SYNONYMS: usize = 5;
/// Longest synonym kept.
const MAX_SYNONYM: usize = 60;

/// The requests describing `model`'s first [`DESCRIBE_MAX_TABLES`] tables, each a system
/// and a user message covering [`DESCRIBE_TABLES_PER_REQUEST`] tables.
pub fn describe_requests(model: &SemanticModel) -> Vec<(String, String)> {
    let n = model.tables.len().min(DESCRIBE_MAX_TABLES);
    (0..n)
        .step_by(DESCRIBE_TABLES_PER_REQUEST)
        .map(|start| describe_request(model, start..(start + DESCRIBE_TABLES_PER_REQUEST).min(n)))
        .collect()
}

/// The system and user messages asking for descriptions of `model`'s tables in `tables`
/// (indexes) and their columns.
pub fn describe_request(model: &SemanticModel, tables: std::ops::Range<usize>) -> (String, String) {
    let system = "You document databases for business users. You reply with one JSON object \
                  and nothing else."
        .to_owned();
    let mut listing = String::new();
    for t in model.tables.get(tables).unwrap_or_default() {
        listing.push_str(&format!("table {}", t.table));
        if let Some(d) = &t.description {
            listing.push_str(&format!(" -- {}", one_line(d)));
        }
        listing.push('\n');
        for c in &t.columns {
            listing.push_str(&format!(
                "  {} {}",
                c.column,
                c.data_type.as_deref().unwrap_or("")
            ));
            if !c.values.is_empty() {
                let shown: Vec<&str> = c.values.iter().take(5).map(String::as_str).collect();
                listing.push_str(&format!(" (e.g. {})", shown.join(", ")));
            }
            if let Some(d) = &c.description {
                listing.push_str(&format!(" -- {}", one_line(d)));
            }
            listing.push('\n');
        }
    }
    let about = model
        .description
        .as_deref()
        .map(|d| format!("The database: {}\n\n", one_line(d)))
        .unwrap_or_default();
    let user = format!(
        "{about}Describe this database's tables and the columns whose meaning is not obvious \
         from their name: one short sentence each, in business terms, plus up to three \
         synonyms people would use for it. Use only the table and column names listed.\n\
         Reply with JSON: {{\"tables\": [{{\"table\": \"<name>\", \"description\": \"…\", \
         \"synonyms\": [\"…\"], \"columns\": [{{\"column\": \"<name>\", \"description\": \"…\", \
         \"synonyms\": [\"…\"]}}]}}]}}\n\n{listing}"
    );
    (system, user)
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    tables: Option<Vec<TableReply>>,
}

#[derive(Deserialize)]
struct TableReply {
    table: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    synonyms: Option<Vec<String>>,
    #[serde(default)]
    columns: Option<Vec<ColumnReply>>,
}

#[derive(Deserialize)]
struct ColumnReply {
    column: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    synonyms: Option<Vec<String>>,
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean_description(d: Option<String>) -> Option<String> {
    let d = one_line(&d?);
    if d.is_empty() {
        return None;
    }
    Some(if d.chars().count() > MAX_DESCRIPTION {
        d.chars().take(MAX_DESCRIPTION).collect::<String>() + "…"
    } else {
        d
    })
}

/// A name as a phrase: lower case, `_` as spaces (`order_date` → `order date`).
fn phrase(s: &str) -> String {
    one_line(&s.replace('_', " ")).to_lowercase()
}

fn merge_synonyms(into: &mut Vec<String>, new: Option<Vec<String>>, taken: &[String]) {
    let mut added = 0;
    for s in new.unwrap_or_default() {
        let s = one_line(&s);
        let lower = phrase(&s);
        if s.is_empty()
            || s.chars().count() > MAX_SYNONYM
            || added == MAX_SYNONYMS
            || taken.contains(&lower)
            || into.iter().any(|x| phrase(x) == lower)
        {
            continue;
        }
        into.push(s);
        added += 1;
    }
}

/// Merges a model's reply into `model`: descriptions fill only empty ones (a comment from
/// the catalog stays), synonyms are added unless they name a table or column. Names the
/// model does not have are ignored. Returns how many tables and columns got something; an
/// error when the reply holds no JSON object of the expected shape.
pub fn apply_descriptions(model: &mut SemanticModel, reply: &str) -> Result<usize, String> {
    let (Some(start), Some(end)) = (reply.find('{'), reply.rfind('}')) else {
        return Err("the provider's reply holds no JSON object".into());
    };
    let parsed: Reply = serde_json::from_str(&reply[start..=end])
        .map_err(|e| format!("the provider's reply is not the expected JSON: {e}"))?;
    // Names a synonym must not take: every table's and column's own name.
    let mut taken: Vec<String> = Vec::new();
    for t in &model.tables {
        taken.push(phrase(&t.table));
        taken.extend(t.columns.iter().map(|c| phrase(&c.column)));
    }
    let mut touched = 0;
    for tr in parsed.tables.unwrap_or_default() {
        let Some(t) = model
            .tables
            .iter_mut()
            .find(|t| t.table.eq_ignore_ascii_case(tr.table.trim()))
        else {
            continue;
        };
        let mut any = false;
        if t.description.is_none()
            && let Some(d) = clean_description(tr.description)
        {
            t.description = Some(d);
            any = true;
        }
        let before = t.synonyms.len();
        merge_synonyms(&mut t.synonyms, tr.synonyms, &taken);
        any |= t.synonyms.len() > before;
        touched += usize::from(any);
        for cr in tr.columns.unwrap_or_default() {
            let Some(c) = t
                .columns
                .iter_mut()
                .find(|c| c.column.eq_ignore_ascii_case(cr.column.trim()))
            else {
                continue;
            };
            let mut any = false;
            if c.description.is_none()
                && let Some(d) = clean_description(cr.description)
            {
                c.description = Some(d);
                any = true;
            }
            let before = c.synonyms.len();
            merge_synonyms(&mut c.synonyms, cr.synonyms, &taken);
            any |= c.synonyms.len() > before;
            touched += usize::from(any);
        }
    }
    Ok(touched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::ConnectionId;
    use querent_domain::semantic::{SemanticColumn, SemanticTable};

    fn model() -> SemanticModel {
        let col = |name: &str, ty: &str, values: &[&str]| SemanticColumn {
            column: name.into(),
            data_type: Some(ty.into()),
            display_name: None,
            description: None,
            synonyms: vec![],
            values: values.iter().map(|v| (*v).into()).collect(),
            value_mappings: vec![],
        };
        SemanticModel {
            connection_id: ConnectionId::new(),
            version: 0,
            schema_fingerprint: "f".into(),
            description: None,
            tables: vec![SemanticTable {
                table: "customers".into(),
                display_name: Some("Customers".into()),
                description: Some("From the catalog.".into()),
                synonyms: vec!["customer".into()],
                columns: vec![
                    col("id", "integer", &[]),
                    col("segment", "text", &["SMB", "Enterprise"]),
                ],
            }],
            joins: vec![],
            metrics: vec![],
            updated_at: 0,
        }
    }

    #[test]
    fn the_request_lists_only_what_the_draft_holds() {
        let (system, user) = describe_request(&model(), 0..1);
        assert_eq!(describe_requests(&model()).len(), 1);
        assert!(system.contains("JSON"));
        assert!(user.contains("table customers -- From the catalog."));
        assert!(user.contains("  segment text (e.g. SMB, Enterprise)"));
    }

    #[test]
    fn a_reply_adds_descriptions_and_synonyms_to_known_names_only() {
        let mut m = model();
        let reply = "Sure!\n```json\n{\"tables\": [{\"table\": \"Customers\", \"description\": \"Overwritten?\", \
            \"synonyms\": [\"clients\", \"segment\", \"Customer\", \"buyers\"], \
            \"columns\": [{\"column\": \"segment\", \"description\": \"Size class of the customer.\", \
            \"synonyms\": [\"tier\"]}, {\"column\": \"ghost\", \"description\": \"x\"}]}, \
            {\"table\": \"invented\", \"description\": \"y\"}]}\n```";
        let n = apply_descriptions(&mut m, reply).unwrap();
        assert_eq!(n, 2);
        let t = &m.tables[0];
        assert_eq!(t.description.as_deref(), Some("From the catalog."), "kept");
        assert_eq!(t.synonyms, ["customer", "clients", "buyers"]);
        assert_eq!(
            t.columns[1].description.as_deref(),
            Some("Size class of the customer.")
        );
        assert_eq!(t.columns[1].synonyms, ["tier"]);
        assert_eq!(m.tables.len(), 1, "no table is invented");
        assert!(apply_descriptions(&mut m, "no json here").is_err());
        // Nulls are tolerated; a synonym spelling another column's name is not taken.
        let n = apply_descriptions(
            &mut m,
            "{\"tables\": [{\"table\": \"customers\", \"synonyms\": null, \"columns\": \
             [{\"column\": \"id\", \"synonyms\": [\"Segment\", \"customer number\"]}]}]}",
        )
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(m.tables[0].columns[0].synonyms, ["customer number"]);
        assert!(apply_descriptions(&mut m, "{\"tables\": 3}").is_err());
    }
}
