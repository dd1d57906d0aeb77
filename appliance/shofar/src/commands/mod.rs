pub mod asterisk;
pub mod blacklist;
pub mod calendar;
pub mod campaign;
pub mod db;
pub mod import;
