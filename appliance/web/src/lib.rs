//! The HTTP API of the box: `/api/v1`, JSON, its OpenAPI document at
//! `/api/v1/openapi.json`, the live figures' WebSocket at `/api/v1/live`, and
//! `/healthz`. `shofar serve` serves it beside the dialer.
//!
//! It is the box's security boundary, facing the office LAN:
//! - every route but `/healthz`, login, first-run setup and the OpenAPI document
//!   authenticates (a session cookie or an API token) and checks its role in its
//!   signature (`auth::Caller<R>`), before anything else about the request;
//! - every state-changing request made with a cookie carries the session's CSRF
//!   token;
//! - every input is validated and every failure is answered from one table
//!   (`error`), as `{"error": {"code", "message", "type"}}`.
//!
//! Invariants: this crate is the only one that knows HTTP status codes; it writes
//! no SQL (the store does) and decides nothing about calls (the do-not-call list
//! it changes is the dialer's own index, changed through the store in the safe
//! order); no handler blocks the runtime on the database (`pool`).
#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod live;
pub mod pool;
pub mod reports;
pub mod routes;
pub mod server;
pub mod state;
pub mod sync;
pub mod ui;
pub mod upload;

pub use routes::router;
pub use state::{AppState, Shared, SystemProbe, TestCallRefused, TestCalls, WebConfig};
