//! The Entra ID directory: tenants, applications, service principals and their credentials.
//! Both the token service (`login`) and Microsoft Graph read and change it.

pub mod model;
pub mod well_known;

pub use model::*;
