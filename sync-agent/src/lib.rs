//! `shofar-sync`: the sync agent. It ships the box's opt-outs and call records up
//! (MQTT events to AWS IoT Core, batches to S3) and brings the organization's
//! do-not-call changes and models down, store-and-forward (REQUIREMENTS.md §2.11,
//! docs/sync.md). `central` is the central admins' side of the same formats.
//!
//! Invariants:
//! - Only this crate speaks MQTT or S3; the supervisor never does.
//! - The supervisor's SQLite stays the source of truth: the agent reads records
//!   from it and writes only do-not-call entries of source `central` (and removals
//!   a central admin made of entries it had seen), through `shofar-store`.
//! - A position moves past a record or an opt-out only after the broker or S3
//!   acknowledged it; a received message is acknowledged only after its changes
//!   are on disk (SQLite, then redb with fsync on commit).
//! - Nothing received is applied before it is validated: version, organization,
//!   size, signature.
#![forbid(unsafe_code)]

pub mod agent;
pub mod central;
pub mod config;
pub mod counters;
pub mod down;
pub mod lanes;
pub mod merge;
pub mod mqtt;
pub mod report;
pub mod s3;
pub mod state;
pub mod status;
pub mod upload;
pub mod wire;

/// Makes ring the process's TLS provider (MQTT and HTTPS both use rustls without
/// a bundled one). Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
