//! End-to-end tests: the real app, real HTTP on loopback, real SQLite files.

mod helpers;

mod health;
