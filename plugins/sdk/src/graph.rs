//! Microsoft Graph helpers (being written).
