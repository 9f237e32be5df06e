//! The session a completed login opens, as `GET /api/v1/session` answers it.

use serde::{Deserialize, Serialize};

use crate::flow::UnixTime;
use crate::Organization;

/// Who is logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub username: String,
    pub email: String,
}

/// A security requirement the Organization enforces that the member has not met yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    UpdatePassword,
    EnableMfa,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub kind: RequirementKind,
    /// When the grace period ends and the member is locked.
    pub deadline: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub member: Member,
    pub organization: Organization,
    pub expires_at: UnixTime,
    /// The server's clock when it answered.
    pub now: UnixTime,
    #[serde(default)]
    pub requirements: Vec<Requirement>,
}
