//! What the benchmark binaries share: the load generator, servers as child processes, the real
//! app on reen-host in a private state directory and on the real Spin CLI beside it, a small
//! keep-alive client (with sign-up and sign-in), the products read cache's file, how busy the
//! machine was during a run, and for the money path: fakes of Stripe and of the email API on
//! loopback, Stripe's signed webhook deliveries, and the sellers, carts and open checkouts they
//! pay.

pub mod app;
pub mod cache;
pub mod catalog_seed;
pub mod checkout_seed;
pub mod client;
pub mod cpu;
pub mod fake_email;
pub mod fake_server;
pub mod fake_stripe;
pub mod load;
pub mod native_products;
pub mod servers;
pub mod spin;
pub mod spin_app;
pub mod stripe_webhook;
