//! The OpenAPI document, served at `/openapi.json`; Swagger UI (vendored assets, works
//! offline) at `/docs/`. Paths and schemas come from the same registration as the router
//! ([`crate::routes::endpoints`]); [`ApiDoc`] adds what is not per endpoint (title, bearer
//! scheme, tags), and [`ErrorResponses`] the error answers every operation can give.

use std::collections::BTreeSet;

use querent_domain::ErrorCode;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt as _;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// What the document says beyond the endpoints. Every operation needs a bearer token
/// unless it says `security(())`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Querent API",
        description = "Ask your databases questions in plain language; get safe, validated SQL and the answer. \
Errors are `{\"detail\": \"…\", \"code\": \"…\"}` with a stable code. Lists take `?limit=&cursor=` and return \
`{items, next_cursor}`."
    ),
    security(("bearer" = [])),
    components(schemas(
        crate::error::ErrorBody, ErrorCode, crate::reply::FileBytes,
        querent_app::export::ExportFormat, querent_app::export::ExportSource,
        querent_domain::UserId, querent_domain::TeamId, querent_domain::ConnectionId,
        querent_domain::SessionId, querent_domain::MessageId, querent_domain::ProviderId,
        querent_domain::ApiClientId, querent_domain::ExampleId, querent_domain::CacheEntryId,
        querent_domain::WorkflowId, querent_domain::WorkflowRunId, querent_domain::InvitationId,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Liveness and readiness"),
        (name = "auth", description = "First-boot setup, login, tokens"),
        (name = "users", description = "User accounts (server administrators)"),
        (name = "teams", description = "Teams and memberships"),
        (name = "api-clients", description = "Machine credentials per team"),
        (name = "connections", description = "Target databases"),
        (name = "semantic", description = "Semantic models of connections: names, synonyms, joins, metrics; drafts and drift"),
        (name = "providers", description = "LLM providers per team, token and cost usage"),
        (name = "chat", description = "Questions, answers, approvals and feedback"),
        (name = "sessions", description = "Chat sessions and their history"),
        (name = "examples", description = "Verified question/SQL examples shown to providers"),
        (name = "cache", description = "The semantic cache of answered questions"),
        (name = "sql", description = "Hand-written SQL through the same guard"),
        (name = "settings", description = "Server settings and audit log"),
        (name = "queries", description = "Saved queries: run again on demand, by dashboards and by workflows"),
        (name = "dashboards", description = "Widgets on a grid, each showing a saved query's current data"),
        (name = "questions", description = "Questions answered in the background, collected later"),
        (name = "assistants", description = "Saved profiles for asking a database: provider, model, instructions, options"),
        (name = "workflows", description = "Steps run in order — saved queries, questions, conditions, webhooks — by hand or on a cron schedule"),
    )
)]
pub struct ApiDoc;

/// Declares what the actix attribute already says once: every `{name}` of a path template
/// is a required path parameter (every one of this API is an id, a UUID); each operation's
/// id is `{tag}_{handler}` (handler names repeat across resources: `connections_list`,
/// `users_list`…); public operations (`security(())`) get `security: []`.
pub struct PathsAndIds;

impl Modify for PathsAndIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for op in operations(item) {
                let params = op.parameters.get_or_insert_with(Vec::new);
                for name in &names {
                    if !params
                        .iter()
                        .any(|p| p.name == *name && p.parameter_in == ParameterIn::Path)
                    {
                        params.push(
                            ParameterBuilder::new()
                                .name(*name)
                                .parameter_in(ParameterIn::Path)
                                .required(Required::True)
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .schema_type(Type::String)
                                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                                ))
                                .build(),
                        );
                    }
                }
                if params.is_empty() {
                    op.parameters = None;
                }
                // `security(())` (one empty requirement) marks a public operation; OpenAPI
                // says that with an empty list, which clients read as "no credentials".
                if op.security.as_ref().is_some_and(|reqs| {
                    reqs.iter()
                        .all(|r| *r == utoipa::openapi::security::SecurityRequirement::default())
                }) {
                    op.security = Some(Vec::new());
                }
                if let (Some(tag), Some(id)) =
                    (op.tags.as_ref().and_then(|t| t.first()), &op.operation_id)
                {
                    op.operation_id = Some(format!("{}_{id}", tag.replace('-', "_")));
                }
            }
        }
    }
}

/// The operations of a path item.
fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// Adds the error answers an operation can give and does not already describe: 401, 403
/// and 429 where a token is needed (the caller's rate limit), 404 where the path (or, for a
/// caller, the body or a parameter) names a resource by id, 422 where a body or parameter is
/// read, 413 where a body is read. Each is an
/// [`crate::error::ErrorBody`], described by the codes of its status.
pub struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Request bodies that name a resource by id (`team_id`, `connection_id`…).
        let ids_in: BTreeSet<String> = openapi
            .components
            .iter()
            .flat_map(|c| c.schemas.iter())
            .filter(|(_, schema)| {
                serde_json::to_value(schema).is_ok_and(|v| {
                    v["properties"]
                        .as_object()
                        .is_some_and(|p| p.keys().any(|k| k.ends_with("_id")))
                })
            })
            .map(|(name, _)| format!("#/components/schemas/{name}"))
            .collect();
        for item in openapi.paths.paths.values_mut() {
            for op in operations(item) {
                let names_an_id = op.request_body.as_ref().is_some_and(|b| {
                    serde_json::to_value(b).is_ok_and(|v| {
                        v["content"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .any(|(_, m)| {
                                m["schema"]["$ref"]
                                    .as_str()
                                    .is_some_and(|r| ids_in.contains(r))
                            })
                    })
                });
                for status in statuses(op, names_an_id) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(status).into());
                }
            }
        }
    }
}

/// The error statuses `op` can answer with; `names_an_id`: its body names a resource.
fn statuses(op: &Operation, names_an_id: bool) -> BTreeSet<u16> {
    // Public operations have `security: []` (see PathsAndIds): no token needed.
    let public = op.security.as_ref().is_some_and(Vec::is_empty);
    let params = op.parameters.as_deref().unwrap_or_default();
    let body = op.request_body.is_some();
    let mut out = BTreeSet::new();
    if !public {
        out.extend([401, 403, 429]);
    }
    // A resource named in the path, a parameter or the body: a team, a connection, a
    // session.
    if (names_an_id && !public)
        || params
            .iter()
            .any(|p| p.parameter_in == ParameterIn::Path || p.name.ends_with("_id"))
    {
        out.insert(404);
    }
    if body || !params.is_empty() {
        out.insert(422);
    }
    if body {
        out.insert(413);
    }
    out
}

/// An error answer: `ErrorBody`, described by the codes served with `status`.
fn error_response(status: u16) -> utoipa::openapi::Response {
    let codes: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| c.http_status() == status)
        .map(|c| c.as_str())
        .collect();
    ResponseBuilder::new()
        .description(codes.join(", "))
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}

/// The whole document: [`ApiDoc`], every endpoint of [`crate::routes::endpoints`], then
/// [`PathsAndIds`] and [`ErrorResponses`].
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::endpoints)
        .split_for_parts();
    PathsAndIds.modify(&mut doc);
    ErrorResponses.modify(&mut doc);
    doc
}
