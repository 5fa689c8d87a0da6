//! Enumerations shared by every layer, with their stable wire spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

// `$wire` is a `tt`, not a `literal`: a `literal` fragment reaches derive macros wrapped in
// an invisible group, which utoipa does not read as a rename, so the OpenAPI document would
// spell the variants `Sqlite`, `AutoExecute`… instead of their wire names.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $wire:tt),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable wire spelling.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        kind: stringify!($name),
                        value: s.to_owned(),
                        expected: &[$($wire),+],
                    }),
                }
            }
        }
    };
}

/// A string that is not one of an enum's wire spellings.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {kind} `{value}`, expected one of: {}", expected.join(", "))]
pub struct UnknownVariant {
    /// The enum's name.
    pub kind: &'static str,
    /// What was given.
    pub value: String,
    /// What would have been accepted.
    pub expected: &'static [&'static str],
}

wire_enum!(
    /// The SQL dialect of a target database.
    Dialect {
        /// PostgreSQL (and wire-compatible servers).
        Postgres => "postgres",
        /// MySQL and MariaDB.
        Mysql => "mysql",
        /// SQLite database files.
        Sqlite => "sqlite",
    }
);

wire_enum!(
    /// What the chat pipeline does with a validated query.
    ExecutionMode {
        /// Validate and run immediately.
        AutoExecute => "auto_execute",
        /// Store as pending approval; run only when approved.
        ReviewFirst => "review_first",
        /// Return the SQL; never run it.
        GenerateOnly => "generate_only",
    }
);

wire_enum!(
    /// Where a chat message stands.
    MessageStatus {
        /// The pipeline is working on it.
        Running => "running",
        /// The query ran; results are attached.
        Executed => "executed",
        /// Answered from the semantic cache (and re-executed).
        Cached => "cached",
        /// Waiting for an editor to approve (review_first connections).
        PendingApproval => "pending_approval",
        /// SQL only; never executed (generate_only connections).
        QueryOnly => "query_only",
        /// An editor rejected the pending query.
        Rejected => "rejected",
        /// Failed; `error_code` and `error_detail` say why.
        Error => "error",
    }
);

wire_enum!(
    /// The kind of a configured SQL provider.
    ProviderKind {
        /// Any OpenAI-compatible chat-completions API (OpenAI, Groq, Ollama, vLLM, LM Studio).
        Openai => "openai",
        /// Anthropic's Messages API.
        Anthropic => "anthropic",
        /// The built-in deterministic translator: no network, no model.
        Offline => "offline",
    }
);

wire_enum!(
    /// TLS requirement for a target connection.
    SslMode {
        /// Never use TLS.
        Disable => "disable",
        /// Use TLS when the server offers it (the certificate is not checked).
        Prefer => "prefer",
        /// Fail unless TLS is established (the certificate is not checked).
        Require => "require",
        /// TLS, with a certificate signed by the connection's CA (or a public one).
        VerifyCa => "verify-ca",
        /// TLS, with a certificate signed by the CA and naming the host connected to.
        VerifyFull => "verify-full",
    }
);

wire_enum!(
    /// A user's server-wide role.
    Role {
        /// Manages users, teams and settings.
        Admin => "admin",
        /// Ordinary account; rights come from team memberships.
        Member => "member",
    }
);

wire_enum!(
    /// A member's role inside a team, from most to least privileged.
    TeamRole {
        /// Full control of the team, including deleting it and managing owners.
        Owner => "owner",
        /// Manages members, connections, privacy policy and API clients.
        Admin => "admin",
        /// Asks questions, runs and edits SQL, curates examples.
        Editor => "editor",
        /// Reads team resources and asks questions in read-only form.
        Viewer => "viewer",
    }
);

impl TeamRole {
    fn rank(self) -> u8 {
        match self {
            TeamRole::Owner => 4,
            TeamRole::Admin => 3,
            TeamRole::Editor => 2,
            TeamRole::Viewer => 1,
        }
    }

    /// Whether this role grants at least the rights of `min`.
    pub fn at_least(self, min: TeamRole) -> bool {
        self.rank() >= min.rank()
    }
}

wire_enum!(
    /// A permission an API client may be granted.
    Scope {
        /// Read team resources and ask questions.
        QueryRead => "query:read",
        /// Everything of `query:read`, plus writing SQL, examples, sessions.
        QueryWrite => "query:write",
        /// Manage the team's connections and settings.
        Admin => "admin",
    }
);

impl Scope {
    /// The team role an API client holding this scope acts with.
    pub fn as_team_role(self) -> TeamRole {
        match self {
            Scope::QueryRead => TeamRole::Viewer,
            Scope::QueryWrite => TeamRole::Editor,
            Scope::Admin => TeamRole::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for d in Dialect::ALL {
            assert_eq!(d.as_str().parse::<Dialect>().unwrap(), *d);
        }
        let err = "oracle".parse::<Dialect>().unwrap_err();
        assert!(err.to_string().contains("postgres, mysql, sqlite"));
        assert_eq!(
            serde_json::to_string(&ExecutionMode::ReviewFirst).unwrap(),
            "\"review_first\""
        );
    }

    #[test]
    fn roles_are_ordered() {
        assert!(TeamRole::Owner.at_least(TeamRole::Admin));
        assert!(TeamRole::Editor.at_least(TeamRole::Viewer));
        assert!(!TeamRole::Viewer.at_least(TeamRole::Editor));
        assert_eq!(Scope::QueryWrite.as_team_role(), TeamRole::Editor);
    }
}

wire_enum!(
    /// How a dashboard widget shows its query's result.
    WidgetKind {
        /// One number.
        Metric => "metric",
        /// The rows as a table.
        Table => "table",
        /// Bars: a category and a measure.
        Bar => "bar",
        /// A line over time (or an ordered axis).
        Line => "line",
        /// An area under a line.
        Area => "area",
        /// Shares of a whole.
        Pie => "pie",
    }
);

wire_enum!(
    /// Where a workflow run stands.
    WorkflowRunStatus {
        /// Claimed, not started yet.
        Queued => "queued",
        /// Running its steps.
        Running => "running",
        /// Every step ran (or a condition ended it early).
        Succeeded => "succeeded",
        /// A step failed, the run timed out, or the instance running it stopped.
        Failed => "failed",
    }
);

wire_enum!(
    /// What started a run.
    RunTrigger {
        /// The scheduler, at a slot of the workflow's cron.
        Schedule => "schedule",
        /// Somebody asked (`POST …/run`).
        Manual => "manual",
    }
);

wire_enum!(
    /// Where an asynchronous question stands (seed 004's spelling).
    QuestionState {
        /// Waiting for a worker.
        Pending => "PENDING",
        /// A worker is answering it.
        InProgress => "IN_PROGRESS",
        /// Answered: results are available.
        Completed => "COMPLETED",
        /// It could not be answered: the error says why.
        Failed => "FAILED",
    }
);
