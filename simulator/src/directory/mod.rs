//! The Entra ID directory: tenants, users, groups, applications, service principals, their
//! credentials, permission grants and app-role assignments, with Entra's rules (who may
//! register, consent, change membership). Both the token service (`login`) and Microsoft
//! Graph read and change it; neither kind of wire lives here.

pub mod error;
pub mod model;
pub mod ops;
pub mod seed;
pub mod well_known;

pub use error::DirError;
pub use model::*;
pub use ops::{ApplicationChanges, ClientAuthError, ClientIdentity, ServicePrincipalChanges, UserAuthError, UserChanges};
