//! Typed identifiers. Each is a UUIDv7 (time ordered, so ids sort by creation) kept as a
//! newtype so a `TeamId` can never be passed where a `ConnectionId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A team: the unit of isolation for every team-owned resource.
    TeamId
);
id_type!(
    /// A registered target database.
    ConnectionId
);
id_type!(
    /// An API client (machine credentials owned by a team).
    ApiClientId
);
id_type!(
    /// An invitation to join a team.
    InvitationId
);
id_type!(
    /// A family of rotating refresh tokens issued from one login.
    TokenFamilyId
);
id_type!(
    /// One refresh token.
    RefreshTokenId
);
id_type!(
    /// A chat session.
    SessionId
);
id_type!(
    /// One message of a chat session.
    MessageId
);
id_type!(
    /// One run of a message's pipeline (asking, approval or edit): the final write of a
    /// run lands only while the message is still that run's, so a stale run never
    /// overwrites a newer one.
    RunId
);
id_type!(
    /// An LLM provider configuration.
    ProviderId
);
id_type!(
    /// An audit log entry.
    AuditId
);
id_type!(
    /// A semantic cache entry.
    CacheEntryId
);
id_type!(
    /// A verified question/SQL example.
    ExampleId
);

id_type!(
    /// A saved query.
    SavedQueryId
);
id_type!(
    /// One run of a saved query.
    QueryRunId
);
id_type!(
    /// A dashboard.
    DashboardId
);
id_type!(
    /// A scheduled (or manual) workflow.
    WorkflowId
);
id_type!(
    /// One run of a workflow.
    WorkflowRunId
);
id_type!(
    /// An asynchronous question.
    QuestionId
);
id_type!(
    /// An assistant: a saved (connection, provider, instructions) profile.
    AssistantId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_creation() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
        let parsed: UserId = a.to_string().parse().expect("parse");
        assert_eq!(a, parsed);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }
}
