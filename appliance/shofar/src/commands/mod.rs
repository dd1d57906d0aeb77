pub mod blacklist;
pub mod campaign;
pub mod db;
pub mod import;
