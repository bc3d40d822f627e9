//! End-to-end tests of the validation plugin (being written).
