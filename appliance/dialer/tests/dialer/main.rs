//! The dialer end to end: real SQLite files, the real scheduler, sessions and
//! IVR engine, and the simulated telephone network (`Simulator`) in place of
//! Asterisk, running many times faster than real time. Each module is one
//! feature and names the seed properties it checks.
//!
//! The CPS limiter works in real time whatever the simulator's time scale, so
//! the tests that measure rates run one at a time ([`support::alone`]).

mod blacklist;
mod bookkeeping;
mod cps;
mod isolation;
mod pacing;
mod recovery;
mod shutdown;
mod support;
mod tasks;
