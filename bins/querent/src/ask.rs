//! `querent ask`: a question from the terminal through the same service pipeline as
//! `POST /api/v1/chat` (provider, guard, execution mode, history), printed as SQL and a
//! table.

use comfy_table::{ContentArrangement, Table, TableComponent, presets};
use querent_app::ListParams;
use querent_app::chat::{ChatRequest, ChatResponse, Events};
use querent_domain::MessageStatus;
use querent_domain::chat::ChatOptions;
use querent_domain::query::TruncationReason;

use crate::Parts;

/// What to ask and how.
#[derive(Clone, Debug)]
pub struct AskArgs {
    /// The question.
    pub question: String,
    /// Connection name (default: `demo`, or the only connection there is).
    pub connection: Option<String>,
    /// Act as this user (default: the oldest administrator).
    pub user: Option<String>,
    /// Rows to show at most.
    pub max_rows: u32,
}

/// Asks and renders the answer; `Err` carries a message for the terminal.
pub async fn ask(parts: &Parts, args: AskArgs) -> Result<String, String> {
    let app = &parts.app;
    let actor = app
        .local_actor(args.user.as_deref())
        .await
        .map_err(|e| e.detail)?;
    let connections = app
        .list_connections(
            &actor,
            &ListParams {
                limit: Some(200),
                cursor: None,
            },
        )
        .await
        .map_err(|e| e.detail)?
        .items;
    let wanted = args.connection.as_deref().unwrap_or("demo");
    let conn = connections
        .iter()
        .find(|c| c.name == wanted)
        .or_else(|| (args.connection.is_none() && connections.len() == 1).then(|| &connections[0]))
        .ok_or_else(|| {
            let names: Vec<&str> = connections.iter().map(|c| c.name.as_str()).collect();
            format!(
                "no connection named `{wanted}`; available: {}",
                if names.is_empty() {
                    "none (run `querent demo`)".to_owned()
                } else {
                    names.join(", ")
                }
            )
        })?;
    let prepared = app
        .prepare_chat(
            &actor,
            ChatRequest {
                connection_id: conn.id,
                session_id: None,
                message: args.question,
                provider: None,
                options: ChatOptions {
                    show_query: true,
                    max_rows: args.max_rows,
                    explain_results: true,
                    ..ChatOptions::default()
                },
            },
        )
        .await
        .map_err(|e| e.detail)?;
    let response = app.run_chat(prepared, Events::none()).await;
    render(&response)
}

/// The terminal rendering of an answer.
pub fn render(r: &ChatResponse) -> Result<String, String> {
    let mut out = String::new();
    if let Some(q) = &r.query {
        out.push_str(&format!("SQL ({}):\n  {q}\n\n", r.query_dialect));
    }
    match r.status {
        MessageStatus::Error => {
            let e = r
                .error
                .clone()
                .unwrap_or_else(|| querent_app::chat::ChatError {
                    code: querent_domain::ErrorCode::Internal,
                    detail: "failed".into(),
                });
            return Err(format!("{out}{}: {}", e.code, e.detail));
        }
        MessageStatus::PendingApproval => {
            out.push_str(&format!(
                "pending approval: the connection reviews queries first; approve with \
                 POST /api/v1/chat/execute/{}\n",
                r.message_id
            ));
        }
        MessageStatus::QueryOnly => out.push_str("not run: the connection is generate_only\n"),
        _ => {}
    }
    if let Some(results) = &r.results {
        out.push_str(&table(results.columns.iter().cloned(), &results.rows));
        out.push_str(&format!(
            "{} row{}{} in {} ms\n",
            results.row_count,
            if results.row_count == 1 { "" } else { "s" },
            match (results.truncated, results.truncated_reason) {
                (false, _) => "",
                (true, Some(TruncationReason::ResultBytes)) => {
                    " (more exist: cut off at the result size limit)"
                }
                (true, Some(TruncationReason::ValueBytes)) => " (long values were shortened)",
                (true, _) => " (more exist: cut off at the row limit)",
            },
            results.execution_time_ms
        ));
    }
    if let Some(e) = &r.explanation {
        out.push_str(&format!("\n{e}\n"));
    }
    Ok(out)
}

/// Rows as an ASCII table: a `+===+===+` line under the header (with the column
/// junctions), no rules between rows.
fn table(header: impl IntoIterator<Item = String>, rows: &[Vec<serde_json::Value>]) -> String {
    let mut table = Table::new();
    table.load_preset(presets::ASCII_FULL_CONDENSED);
    table.set_style(TableComponent::MiddleHeaderIntersections, '+');
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(header);
    for row in rows {
        table.add_row(row.iter().map(|v| match v {
            serde_json::Value::Null => "NULL".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    format!("{table}\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_table_header_line_has_its_junctions() {
        let t = super::table(
            ["AVG(salary)".to_owned(), "name".to_owned()],
            &[
                vec![json!(79710.5), json!("Sales")],
                vec![json!(null), json!("Support")],
            ],
        );
        assert_eq!(
            t,
            "+-------------+---------+\n\
             | AVG(salary) | name    |\n\
             +=============+=========+\n\
             | 79710.5     | Sales   |\n\
             | NULL        | Support |\n\
             +-------------+---------+\n"
        );
    }
}
