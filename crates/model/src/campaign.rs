//! One operation against one actor.

use crate::{Timestamp, Tlp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// A STIX `grouping--` id.
    pub id: String,
    /// Unique, chosen by people (`--campaign NAME`).
    pub name: String,
    /// The STIX id of the actor this operation is against, when known.
    pub actor: Option<String>,
    pub description: Option<String>,
    /// The default marking of what the campaign produces.
    pub tlp: Tlp,
    pub created: Timestamp,
}
