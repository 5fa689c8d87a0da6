//! `/api/v1/workflows`: workflows, running them by hand, and their runs.

use actix_web::body::BoxBody;
use actix_web::web::{Path, Query};
use actix_web::{HttpRequest, HttpResponse, Responder, delete, get, patch, post};
use querent_app::workflows::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{WorkflowId, WorkflowRunId};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove)
        .service(run)
        .service(runs)
        .service(get_run);
}

/// A run started by hand: 202 while it runs in the background, 200 once it ended
/// (`?wait=true`).
#[derive(Debug)]
pub struct RunReply(StartedRun);

impl From<StartedRun> for RunReply {
    fn from(r: StartedRun) -> Self {
        Self(r)
    }
}

impl Responder for RunReply {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        if self.0.finished {
            HttpResponse::Ok().json(self.0.run)
        } else {
            HttpResponse::Accepted().json(self.0.run)
        }
    }
}

/// Creates a workflow (editor or above). Steps naming another team's query or connection
/// are refused as unknown; webhook URLs must pass the outbound URL policy.
#[utoipa::path(tag = "workflows", request_body = CreateWorkflow,
    responses((status = 201, body = WorkflowView),
        (status = 404, description = "no such team", body = ErrorBody),
        (status = 422, description = "invalid: name, schedule, steps", body = ErrorBody)))]
#[post("/workflows")]
pub async fn create(
    caller: Caller,
    body: Json<CreateWorkflow>,
) -> ApiResult<Created<WorkflowView>> {
    caller
        .reply(|app, actor| async move { app.create_workflow(&actor, &body.0).await })
        .await
}

/// The workflows of the caller's teams.
#[utoipa::path(tag = "workflows", params(ListParams),
    responses((status = 200, body = Paginated<WorkflowView>)))]
#[get("/workflows")]
pub async fn list(
    caller: Caller,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<WorkflowView>>> {
    caller
        .reply(|app, actor| async move { app.list_workflows(&actor, &params).await })
        .await
}

/// One workflow.
#[utoipa::path(tag = "workflows", responses((status = 200, body = WorkflowView)))]
#[get("/workflows/{id}")]
pub async fn get(caller: Caller, id: Path<WorkflowId>) -> ApiResult<Json<WorkflowView>> {
    caller
        .reply(|app, actor| async move { app.get_workflow(&actor, *id).await })
        .await
}

/// Changes a workflow (editor or above). A new schedule, or enabling it, counts from now.
#[utoipa::path(tag = "workflows", request_body = UpdateWorkflow,
    responses((status = 200, body = WorkflowView),
        (status = 422, description = "invalid", body = ErrorBody)))]
#[patch("/workflows/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<WorkflowId>,
    body: Json<UpdateWorkflow>,
) -> ApiResult<Json<WorkflowView>> {
    caller
        .reply(|app, actor| async move { app.update_workflow(&actor, *id, &body.0).await })
        .await
}

/// Deletes a workflow and its runs (editor or above).
#[utoipa::path(tag = "workflows", responses((status = 204, description = "deleted")))]
#[delete("/workflows/{id}")]
pub async fn remove(caller: Caller, id: Path<WorkflowId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_workflow(&actor, *id).await })
        .await
}

/// Runs a workflow now (editor or above), acting as its creator: 202 with the queued run,
/// or with `?wait=true` 200 with the run once it ended.
#[utoipa::path(tag = "workflows", params(RunParams),
    responses((status = 200, description = "the finished run (`wait=true`)", body = WorkflowRunView),
        (status = 202, description = "the run, queued", body = WorkflowRunView)))]
#[post("/workflows/{id}/run")]
pub async fn run(
    caller: Caller,
    id: Path<WorkflowId>,
    params: Query<RunParams>,
) -> ApiResult<RunReply> {
    caller
        .reply(|app, actor| async move { app.run_workflow_now(&actor, *id, &params).await })
        .await
}

/// A workflow's runs, newest first.
#[utoipa::path(tag = "workflows", params(ListParams),
    responses((status = 200, body = Paginated<WorkflowRunView>)))]
#[get("/workflows/{id}/runs")]
pub async fn runs(
    caller: Caller,
    id: Path<WorkflowId>,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<WorkflowRunView>>> {
    caller
        .reply(|app, actor| async move { app.list_workflow_runs(&actor, *id, &params).await })
        .await
}

/// One run.
#[utoipa::path(tag = "workflows", responses((status = 200, body = WorkflowRunView)))]
#[get("/workflows/{id}/runs/{run_id}")]
pub async fn get_run(
    caller: Caller,
    path: Path<(WorkflowId, WorkflowRunId)>,
) -> ApiResult<Json<WorkflowRunView>> {
    let (id, run_id) = path.into_inner();
    caller
        .reply(|app, actor| async move { app.get_workflow_run(&actor, id, run_id).await })
        .await
}
