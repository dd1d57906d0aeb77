//! The campaign model.
