//! What the directory refuses, in its own terms. Graph turns these into its error body.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirError {
    /// No such object (by id, appId or name).
    NotFound { id: String },
    /// The caller's role does not allow the operation.
    InsufficientPrivileges,
    /// A value that must be unique already exists (`identifierUris`, a service principal's appId).
    Duplicate { property: &'static str, message: String },
    /// `identifierUris` with an https host that is not a verified domain.
    UnverifiedDomain { uri: String },
    /// A property value the directory does not accept.
    InvalidValue { property: String, entity: &'static str, detail: Option<String> },
    /// A required property is missing.
    Required { property: &'static str, entity: &'static str },
    /// Adding a member that is already there.
    AlreadyMember,
    /// Adding an owner that is already there.
    AlreadyOwner,
    /// A delegated permission grant for a client, resource and principal that already have one.
    GrantExists,
    /// A password credential keyId that does not exist.
    NoSuchKey { key_id: String },
    /// A service principal for an appId that has no application.
    NoSuchApplication { app_id: String },
}
