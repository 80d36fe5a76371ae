//! End-to-end tests: the real app, real HTTP on loopback, real SQLite files.

mod api;
mod conformance;
mod documented;
mod fake_clerk;
mod fake_email;
mod fake_stripe;
mod helpers;
mod host;

mod account_deletion;
mod api_docs;
mod auth_clerk;
mod auth_sessions;
mod auth_takeover;
mod auth_users;
mod cart;
mod cart_wit;
mod catalog;
mod checkout;
mod checkout_webhook;
mod concurrency;
mod db_locks;
mod health;
mod holds;
mod idempotency;
mod identity;
mod openapi_validation;
mod orders;
mod product_events;
mod product_fees;
mod product_races;
mod products;
mod saga;
mod scale_out;
mod schema_fuzz;
mod swagger_ui;
