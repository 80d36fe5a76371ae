//! What the benchmark binaries share: the load generator, servers as child processes, the real
//! app on reen-host in a private state directory, a small keep-alive client, and how busy the
//! machine was with other work during a run.

pub mod app;
pub mod client;
pub mod cpu;
pub mod load;
pub mod servers;
