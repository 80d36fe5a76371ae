//! End-to-end tests of the REEN Commerce application live in `e2e/main.rs`. This library holds
//! what both test targets (`e2e`, `deploy`) share: finding tools and Python environments.

#[path = "../support/python.rs"]
pub mod python;
#[path = "../support/tools.rs"]
pub mod tools;
