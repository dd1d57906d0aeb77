//! The API in-process: the real router over a real SQLite database in a temporary
//! folder, called as a tower service (`server`: served on a loopback socket).
//! One module per area.

mod audio;
mod backups;
mod blacklist;
mod calls;
mod campaigns;
mod contacts;
mod flows;
mod reports;
mod roles;
mod server;
mod session;
mod support;
mod system;
mod users;
