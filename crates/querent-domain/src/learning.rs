//! What Querent remembers about answered questions: semantic cache entries (SQL that passed
//! the guard and executed, to be validated and run again for the same question) and
//! verified examples (question/SQL pairs written or confirmed by people, shown to providers
//! as few-shot examples). Plain records; querent-cache decides what matches, querent-app
//! what is kept, querent-store keeps the rows.

use serde::{Deserialize, Serialize};

use crate::{CacheEntryId, ConnectionId, ExampleId, MessageId, TeamId, UnixMillis};

/// One stored cache entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// Id.
    pub id: CacheEntryId,
    /// The connection it answers questions about.
    pub connection_id: ConnectionId,
    /// Fingerprint of the schema snapshot the SQL was validated against.
    pub schema_fingerprint: String,
    /// Semantic model version in force (0: no model).
    pub semantic_version: u32,
    /// The question as first asked.
    pub question: String,
    /// Its normalised form (the exact-match key).
    pub normalized: String,
    /// Its guards, as JSON (numbers, time words, negations, entity values).
    pub guards: String,
    /// Which embedder produced `embedding`.
    pub embedder: String,
    /// The question's embedding (unit length).
    pub embedding: Vec<f32>,
    /// The SQL, as generated (the guard rewrites it again on every use).
    pub sql: String,
    /// The message that produced it.
    pub source_message_id: Option<MessageId>,
    /// Times served.
    pub hits: u64,
    /// Last served (or created).
    pub last_used: UnixMillis,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Expiry.
    pub expires_at: UnixMillis,
}

/// Hit and miss counters of one connection's cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheCounters {
    /// Exact hits.
    pub exact_hits: u64,
    /// Similar hits.
    pub similar_hits: u64,
    /// Misses.
    pub misses: u64,
}

/// Which counter to increase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// An exact hit.
    ExactHit,
    /// A similar hit.
    SimilarHit,
    /// A miss.
    Miss,
}

/// Where a verified example came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExampleSource {
    /// Written through `/examples`.
    Manual,
    /// A thumbs-up on an answer.
    FeedbackUp,
    /// SQL corrected by a person in feedback.
    FeedbackCorrection,
}

impl ExampleSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::FeedbackUp => "feedback_up",
            Self::FeedbackCorrection => "feedback_correction",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "manual" => Self::Manual,
            "feedback_up" => Self::FeedbackUp,
            "feedback_correction" => Self::FeedbackCorrection,
            _ => return None,
        })
    }
}

/// A verified question/SQL pair of one connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// Id.
    pub id: ExampleId,
    /// Owning team (the connection's).
    pub team_id: TeamId,
    /// The connection.
    pub connection_id: ConnectionId,
    /// The question.
    pub question: String,
    /// SQL answering it; passed the guard when written.
    pub sql: String,
    /// Where it came from.
    pub source: ExampleSource,
    /// The chat message it came from (feedback).
    pub message_id: Option<MessageId>,
    /// Who wrote or confirmed it (`user:<id>` or `client:<id>`).
    pub verified_by: String,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}
