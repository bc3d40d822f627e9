//! End-to-end tests of the waf plugin (being written).
