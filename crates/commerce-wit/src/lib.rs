//! WIT bindings for the repository's `wit/`: one module per component world, so a component
//! depends on this crate and uses exactly its own world's module (see `wit/README.md`).
//!
//! A leaf implements its export and registers it with the module's `export!` macro:
//!
//! ```ignore
//! use commerce_wit::products::exports::reen::catalog::catalog::{Guest, ProductSummary};
//! struct Catalog;
//! impl Guest for Catalog {
//!     fn get_many(ids: Vec<String>) -> Result<Vec<ProductSummary>, String> { /* ... */ }
//! }
//! commerce_wit::products::export!(Catalog);
//! ```
//!
//! An orchestrator calls its imports: `commerce_wit::checkout::reen::catalog::catalog::get_many(..)`.
//!
//! Only the module a component uses ends up in its `.wasm` (checked: an unused world's exports
//! are not demanded of the component), so one crate can hold every world.
#![deny(missing_docs)]

// Each module runs `generate!` on one world of `wit/` (two levels up from this crate).
// `generate_all`: the interfaces live in packages of their own (`reen:catalog`, ...), not in the
// root package `reen:commerce`. Leaves get a public `export!` macro, usable from the component
// crate because `default_bindings_module` names this crate's module.

/// `auth`: exports `reen:identity/identity`.
#[allow(missing_docs, clippy::all)]
pub mod auth {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "auth",
        generate_all,
        pub_export_macro: true,
        default_bindings_module: "commerce_wit::auth",
    });
}

/// `products`: exports `reen:catalog/catalog`.
#[allow(missing_docs, clippy::all)]
pub mod products {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "products",
        generate_all,
        pub_export_macro: true,
        default_bindings_module: "commerce_wit::products",
    });
}

/// `cart`: exports `reen:cart/cart`.
#[allow(missing_docs, clippy::all)]
pub mod cart {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "cart",
        generate_all,
        pub_export_macro: true,
        default_bindings_module: "commerce_wit::cart",
    });
}

/// `orders`: exports `reen:orders/orders`.
#[allow(missing_docs, clippy::all)]
pub mod orders {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "orders",
        generate_all,
        pub_export_macro: true,
        default_bindings_module: "commerce_wit::orders",
    });
}

/// `checkout`: imports `reen:catalog/catalog`, `reen:cart/cart` and `reen:orders/orders`.
#[allow(missing_docs, clippy::all)]
pub mod checkout {
    wit_bindgen::generate!({ path: "../../wit", world: "checkout", generate_all });
}

/// `events`: imports catalog, orders, identity and cart.
#[allow(missing_docs, clippy::all)]
pub mod events {
    wit_bindgen::generate!({ path: "../../wit", world: "events", generate_all });
}
