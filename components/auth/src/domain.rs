//! The auth domain: parsing newtypes and rules, with no Spin or SQL in them.

pub mod clerk;
pub mod holds;
pub mod ledger;
pub mod password;
pub mod session;
pub mod svix;
pub mod throttle;
pub mod user;
