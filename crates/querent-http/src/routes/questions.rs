//! `/api/v1/questions`: questions answered in the background — asked with one call
//! (`202 {question_id}` at once), collected with another (`{state}` until done, then the
//! results: data frame, SQL, statistics and summary, as asked for).

use actix_web::body::BoxBody;
use actix_web::web::{Path, Query};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post};
use querent_app::questions::{AskQuestion, QuestionAccepted, QuestionView, ResultsQuery};
use querent_domain::QuestionId;
use serde::Serialize;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(ask).service(get);
}

/// `202 Accepted` with a JSON body: the work goes on after the answer.
pub struct Accepted<T>(pub T);

impl<T> From<T> for Accepted<T> {
    fn from(value: T) -> Self {
        Accepted(value)
    }
}

impl<T: Serialize> Responder for Accepted<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Accepted().json(self.0)
    }
}

/// Asks a question to be answered in the background (viewer or above on the connection).
///
/// Answers at once with the question's id; a worker then answers it through the chat
/// pipeline (the team's default provider unless `provider` or the assistant names one; the
/// connection's execution mode and row cap). Collect the answer with
/// `GET /questions/{id}`. While too many questions are waiting, 429 `rate_limited` with
/// `Retry-After`.
#[utoipa::path(tag = "questions", request_body = AskQuestion,
    responses((status = 202, body = QuestionAccepted),
        (status = 404, description = "no such connection or assistant", body = ErrorBody),
        (status = 422, description = "invalid question, unknown provider", body = ErrorBody),
        (status = 429, description = "too many questions waiting", body = ErrorBody)))]
#[post("/questions")]
pub async fn ask(caller: Caller, body: Json<AskQuestion>) -> ApiResult<Accepted<QuestionAccepted>> {
    caller
        .reply(|app, actor| async move { app.ask_question(&actor, body.0).await })
        .await
}

/// A question: its state (`PENDING`, `IN_PROGRESS`, `COMPLETED`, `FAILED`), its error when
/// it failed, and once completed the parts of its results named by `include`: `dataframe`
/// (the default: column names first, then at most `max_rows` rows, default 1000),
/// `statistics` (per column, over every row delivered), `sqlquery` and `summary`.
#[utoipa::path(tag = "questions", params(ResultsQuery),
    responses((status = 200, body = QuestionView),
        (status = 404, description = "no such question", body = ErrorBody)))]
#[get("/questions/{id}")]
pub async fn get(
    caller: Caller,
    id: Path<QuestionId>,
    q: Query<ResultsQuery>,
) -> ApiResult<Json<QuestionView>> {
    caller
        .reply(|app, actor| async move { app.question(&actor, *id, &q).await })
        .await
}
