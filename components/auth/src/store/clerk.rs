//! Clerk webhook deliveries already handled (Svix redelivers; each `svix-id` acts once).

use super::{int, text};
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// Records a delivery inside the transaction that applies it; `false` when it was seen
/// before (then the caller rolls back and does nothing).
pub fn record_delivery(
    db: &Connection,
    svix_id: &str,
    event_type: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    db.execute(
        "INSERT INTO clerk_deliveries (svix_id, event_type, received_at) VALUES (?, ?, ?)
         ON CONFLICT (svix_id) DO NOTHING",
        &[text(svix_id), text(event_type), int(now.millis())],
    )?;
    Ok(db.changes() == 1)
}
