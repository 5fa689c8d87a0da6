//! `/dashboards` and `/workflows`: the native bodies and views (the seed's dashboard body is
//! the native one; it documents no workflow body), wrapped in the seed's envelope.

use actix_web::web::Path;
use querent_app::dashboards::{CreateDashboard, DashboardParams, UpdateDashboard};
use querent_app::workflows::{CreateWorkflow, RunParams, UpdateWorkflow};
use querent_domain::{DashboardId, WorkflowId};

use super::{Body, Key, Paging, Reply, created, deleted, id, ok, page};

/// `GET /dashboards` (configurations).
pub async fn list_dashboards(key: Key, paging: Paging) -> Reply {
    let p = key
        .0
        .call(move |app, actor| async move { app.list_dashboards(&actor, &paging).await })
        .await?;
    page(p, |d| d)
}

/// `POST /dashboards`.
pub async fn create_dashboard(key: Key, body: Body<CreateDashboard>) -> Reply {
    let d = key
        .0
        .call(move |app, actor| async move { app.create_dashboard(&actor, &body.0).await })
        .await?;
    created(d)
}

/// `GET /dashboards/{dashboard_id}`: the configuration with each widget's current data.
pub async fn get_dashboard(key: Key, path: Path<String>) -> Reply {
    let did: DashboardId = id(&path, "dashboard")?;
    let d = key
        .0
        .call(move |app, actor| async move {
            app.get_dashboard(&actor, did, &DashboardParams::default())
                .await
        })
        .await?;
    ok(d)
}

/// `PATCH /dashboards/{dashboard_id}`.
pub async fn update_dashboard(key: Key, path: Path<String>, body: Body<UpdateDashboard>) -> Reply {
    let did: DashboardId = id(&path, "dashboard")?;
    let d = key
        .0
        .call(move |app, actor| async move { app.update_dashboard(&actor, did, &body.0).await })
        .await?;
    ok(d)
}

/// `DELETE /dashboards/{dashboard_id}`.
pub async fn delete_dashboard(key: Key, path: Path<String>) -> Reply {
    let did: DashboardId = id(&path, "dashboard")?;
    key.0
        .call(move |app, actor| async move { app.delete_dashboard(&actor, did).await })
        .await?;
    deleted()
}

/// `GET /workflows`.
pub async fn list_workflows(key: Key, paging: Paging) -> Reply {
    let p = key
        .0
        .call(move |app, actor| async move { app.list_workflows(&actor, &paging).await })
        .await?;
    page(p, |w| w)
}

/// `POST /workflows`.
pub async fn create_workflow(key: Key, body: Body<CreateWorkflow>) -> Reply {
    let w = key
        .0
        .call(move |app, actor| async move { app.create_workflow(&actor, &body.0).await })
        .await?;
    created(w)
}

/// `GET /workflows/{workflow_id}`.
pub async fn get_workflow(key: Key, path: Path<String>) -> Reply {
    let wid: WorkflowId = id(&path, "workflow")?;
    let w = key
        .0
        .call(move |app, actor| async move { app.get_workflow(&actor, wid).await })
        .await?;
    ok(w)
}

/// `PATCH /workflows/{workflow_id}` (not in the seed's list; the native update).
pub async fn update_workflow(key: Key, path: Path<String>, body: Body<UpdateWorkflow>) -> Reply {
    let wid: WorkflowId = id(&path, "workflow")?;
    let w = key
        .0
        .call(move |app, actor| async move { app.update_workflow(&actor, wid, &body.0).await })
        .await?;
    ok(w)
}

/// `DELETE /workflows/{workflow_id}` (not in the seed's list; the native delete).
pub async fn delete_workflow(key: Key, path: Path<String>) -> Reply {
    let wid: WorkflowId = id(&path, "workflow")?;
    key.0
        .call(move |app, actor| async move { app.delete_workflow(&actor, wid).await })
        .await?;
    deleted()
}

/// `POST /workflows/{workflow_id}/run`: 202 with the queued run.
pub async fn run_workflow(key: Key, path: Path<String>) -> Reply {
    let wid: WorkflowId = id(&path, "workflow")?;
    let started = key
        .0
        .call(move |app, actor| async move {
            app.run_workflow_now(&actor, wid, &RunParams::default())
                .await
        })
        .await?;
    Ok(actix_web::HttpResponse::Accepted().json(serde_json::json!({ "data": started.run })))
}

/// `GET /workflows/{workflow_id}/runs`: newest first.
pub async fn workflow_runs(key: Key, path: Path<String>, paging: Paging) -> Reply {
    let wid: WorkflowId = id(&path, "workflow")?;
    let p = key
        .0
        .call(move |app, actor| async move { app.list_workflow_runs(&actor, wid, &paging).await })
        .await?;
    page(p, |r| r)
}
