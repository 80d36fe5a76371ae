//! End-to-end tests of the REEN Commerce application live in `e2e/main.rs`.
