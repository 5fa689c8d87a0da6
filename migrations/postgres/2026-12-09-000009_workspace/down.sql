DROP TABLE async_questions;
DROP TABLE assistants;
DROP TABLE workflow_runs;
DROP TABLE workflows;
DROP TABLE dashboards;
DROP TABLE query_runs;
DROP TABLE saved_query_tags;
DROP TABLE saved_queries;
