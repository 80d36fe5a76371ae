//! End-to-end tests of reen-host: real fixture components over real HTTP on loopback, real
//! SQLite files, real outbound sockets.

mod helpers;
mod routing_cases;

mod basics;
mod cli;
mod composition;
mod dev_secrets;
mod key_value;
mod outbound_http;
mod redis;
mod routing;
mod spin_conformance;
mod spin_manifest_cases;
mod spin_required;
mod sqlite;
mod variables;
