//! What the benchmark binaries share: the load generator, servers as child processes, the real
//! app on reen-host in a private state directory and on the real Spin CLI beside it, a small
//! keep-alive client (with sign-up and sign-in), the products read cache's file, and how busy
//! the machine was during a run.

pub mod app;
pub mod cache;
pub mod client;
pub mod cpu;
pub mod load;
pub mod servers;
pub mod spin;
pub mod spin_app;
