//! Campaign audio conversion (skeleton; see issue 4).
#![forbid(unsafe_code)]
