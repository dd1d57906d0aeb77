//! The IVR engine (skeleton; see issue 4).
#![forbid(unsafe_code)]
