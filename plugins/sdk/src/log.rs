//! Progress lines for the person running the flow. Never pass secrets.

use crate::bindings::aksflow::step::log::{write, Level};

pub fn info(message: &str) {
    write(Level::Info, message);
}

pub fn debug(message: &str) {
    write(Level::Debug, message);
}

pub fn warn(message: &str) {
    write(Level::Warn, message);
}
