//! The dispatch scheduler.
