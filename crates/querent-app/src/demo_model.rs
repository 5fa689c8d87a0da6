//! The semantic model of the demo database (`demo_model.json`): display names, business
//! synonyms ("clients", "staff", "turnover"), value mappings ("American" → `US`, "SMB" →
//! `small business`), join paths and metrics (revenue, order count, average order value,
//! headcount, payroll, shipping time, …), so a new user's everyday questions find their
//! tables, values and measures. It is saved as version 1 of the demo connection's model
//! when the demo is registered, and at start on servers whose demo connection has no model
//! yet; a connection that has a model keeps it (a saved model is never replaced).

use querent_domain::ConnectionId;
use querent_domain::ports::Page;

use crate::connections::DEMO_CONNECTION_NAME;
use crate::semantic::SemanticModelRequest;
use crate::{App, ServiceError, ServiceResult};

/// The model, in the JSON of `PUT /api/v1/connections/{id}/semantic-model`.
pub const DEMO_MODEL_JSON: &str = include_str!("demo_model.json");

/// The demo model as a save request based on "no model yet" (version 0), so it never
/// lands on top of a model someone saved meanwhile.
pub fn demo_model_request() -> ServiceResult<SemanticModelRequest> {
    let mut req: SemanticModelRequest =
        serde_json::from_str(DEMO_MODEL_JSON).map_err(ServiceError::internal)?;
    req.version = Some(0);
    Ok(req)
}

impl App {
    /// Saves the demo model on connection `id` unless it has a model; `Ok(true)` when it
    /// was saved. Acts as the oldest administrator (the model is checked against the
    /// database like any save).
    pub(crate) async fn install_demo_model(&self, id: ConnectionId) -> ServiceResult<bool> {
        if self.store().latest_semantic_model(id).await?.is_some() {
            return Ok(false);
        }
        let actor = self.local_actor(None).await?;
        match self
            .put_semantic_model(&actor, id, demo_model_request()?)
            .await
        {
            Ok(_) => Ok(true),
            // Someone saved a model first: theirs stays.
            Err(e) if e.code == querent_domain::ErrorCode::Conflict => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// At start: gives every demo connection (named `demo`, on the configured demo
    /// database) that has no semantic model the demo model; returns how many got it.
    /// Connections with a model, and connections named `demo` on other databases, are
    /// left alone.
    pub async fn ensure_demo_models(&self) -> ServiceResult<usize> {
        let Some(demo) = self.config().demo_database.clone() else {
            return Ok(0);
        };
        let Ok(Some(demo)) =
            tokio::task::spawn_blocking(move || crate::connections::canonical_file(&demo)).await
        else {
            return Ok(0);
        };
        let demo = demo.to_string_lossy().into_owned();
        let mut installed = 0;
        let teams = self.store().list_teams(None, &Page::first(1000)).await?;
        for team in teams {
            let connections = self
                .store()
                .list_connections(&[team.id], &Page::first(1000))
                .await?;
            for c in connections {
                if c.name == DEMO_CONNECTION_NAME
                    && c.target.path.as_deref() == Some(demo.as_str())
                    && self.install_demo_model(c.id).await?
                {
                    installed += 1;
                }
            }
        }
        Ok(installed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_model_parses_and_names_its_measures() {
        let req = demo_model_request().unwrap();
        assert_eq!(req.version, Some(0));
        let metrics: Vec<&str> = req.metrics.iter().map(|m| m.name.as_str()).collect();
        for m in ["revenue", "order_count", "average_order_value", "headcount"] {
            assert!(metrics.contains(&m), "{m} missing from {metrics:?}");
        }
        let customers = req.tables.iter().find(|t| t.table == "customers").unwrap();
        assert!(customers.synonyms.iter().any(|s| s == "clients"));
        let country = customers
            .columns
            .iter()
            .find(|c| c.column == "country")
            .unwrap();
        assert!(
            country
                .value_mappings
                .iter()
                .any(|m| m.phrase == "American" && m.value == "United States")
        );
    }
}
