//! End-to-end tests of the mapping plugin (being written).
