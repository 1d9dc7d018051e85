//! Kubernetes API helpers (being written).
