//! Reconcile: disputes, corrections and bureau reject files (not built yet).
