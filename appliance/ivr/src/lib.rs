//! The IVR engine: what a caller hears and what their keys do, once the call is
//! answered.
//!
//! Three parts, each usable alone:
//!
//! - [`flow`]: the flow format, a JSON document of named nodes (`play`, `menu`,
//!   `capture`, `action`), read by [`Flow::from_json`]. The operator's reference is
//!   `docs/ivr.md`; the built-in flow is [`Flow::default_flow`].
//! - [`validate`]: every problem of a flow at once, each a [`FlowError`] naming its
//!   node and field, worded for the staff member who wrote it.
//! - [`session`]: the interpreter. A [`Session`] is advanced by [`Event`]s from the
//!   driver and answers with [`Command`]s the driver carries out in order;
//!   [`step`] is the same as a pure function.
//!
//! # Invariants
//!
//! - This crate does no I/O, reads no clock and spawns nothing. Time exists only as
//!   timers the driver starts and reports; audio only as prompt names the driver
//!   resolves.
//! - A [`Flow`] exists only once validated: every reference resolves, every node is
//!   reachable from `start`, and from every node some path ends the call.
//! - No input makes anything here panic. Events that do not fit the session's state
//!   (stale ids, duplicates, keys outside `0-9*#`, anything after the end) change
//!   nothing and yield no commands.
//! - At any moment a live session waits on exactly one thing: one playback or one
//!   timer, the one with the newest id.
//! - Each event does bounded work: at most one pass along a chain of actions that
//!   validation guarantees is shorter than the flow.
//!
//! The interpreter does not know about Asterisk, ARI, the store or the campaign:
//! actions leave it as [`Action`] values the driver records or executes.

#![forbid(unsafe_code)]

pub mod flow;
pub mod session;
pub mod validate;

pub use flow::{
    ActionSpec, DEFAULT_FLOW_JSON, FLOW_VERSION, Flow, FlowDefinition, Invalid, Node, OrderedMap,
    Timeout,
};
pub use session::{Action, Command, Ended, Event, Session, Trace, step};
pub use validate::{CODES, FlowError, FlowErrors, PHONE_KEYS, validate};
