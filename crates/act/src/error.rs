/// Everything an action can fail at, with what a person needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Store(#[from] takedown_store::StoreError),
    #[error("{0}")]
    Input(String),
    /// Unreachable, or answering a server error, every time it was tried.
    #[error("{what}: failed after {attempts} attempt(s), last: {last}")]
    Unreachable { what: String, attempts: u32, last: String },
    #[error("{0}")]
    Connector(String),
    /// The other side changed meanwhile (SCIM 412): nothing was changed by us.
    #[error("{0}")]
    Conflict(String),
    #[error("two-person rule: {proposer} proposed the destructive action {id}; another person must approve it")]
    TwoPerson { id: String, proposer: String },
    #[error("no connector for {kind} actions was given ({hint})")]
    NoConnector { kind: &'static str, hint: &'static str },
}
