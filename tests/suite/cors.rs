//! End-to-end tests of the cors plugin (being written).
