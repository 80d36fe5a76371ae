//! `account.deleted` (api-contract §7): auth marked the user deleted; here the other domains
//! let go of them, through their WIT exports, and then auth completes the deletion:
//!
//! 1. the user's own cart is cleared (`reen:cart` `clear`);
//! 2. their products are removed in one transaction: never ordered ones deleted, ordered ones
//!    re-assigned to the ANONYMOUS user (`reen:catalog` `remove-seller-products`, which
//!    records and relays `product.removed` for each, as the products component does);
//! 3. those products leave every cart now (`reen:cart` `remove-product`) rather than when
//!    their `product.removed` arrives;
//! 4. auth completes the deletion (`reen:identity` `complete-deletion`). Orders are kept.
//!
//! Every step is idempotent, so a redelivered or re-driven event repeats nothing: a second run
//! finds an empty cart and no products, and the deletion already completed. Products are
//! removed before carts are cleaned of them, so no cart can take one again in between; a
//! handler that stops between steps 2 and 3 leaves those lines to `product.removed` (and the
//! cart read drops them anyway). A transient failure is retried for a few seconds; after that
//! the deletion stays pending at auth and the re-drive sends the event again.

use crate::retry::{StepError, with_backoff};
use commerce_wit::events::reen::cart::cart;
use commerce_wit::events::reen::catalog::catalog;
use commerce_wit::events::reen::identity::identity::{self, Deletion};
use std::time::{Duration, Instant};

/// How long one handler may work on a deletion before leaving it to the re-drive.
const BUDGET: Duration = Duration::from_secs(8);

/// Runs the deletion of `user_id`'s account across the domains.
pub fn run(user_id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + BUDGET;
    let step = |what: &str| Step {
        user_id,
        what: what.to_owned(),
        deadline,
    };
    // Whatever a message says, a live user's cart and products are never touched.
    if step("looking the user up")
        .run(|| identity::get_user(user_id))?
        .is_some()
    {
        eprintln!("events: account.deleted for live user {user_id} ignored");
        return Ok(());
    }
    let anonymous = step("the ANONYMOUS user").run(identity::anonymous_user_id)?;
    let cleared = step("clearing the cart").run(|| cart::clear(user_id))?;
    let removal = step("removing the products")
        .run(|| catalog::remove_seller_products(user_id, &anonymous))?;
    let mut lines = 0;
    for product_id in removal.deleted.iter().chain(&removal.anonymized) {
        lines +=
            step("taking a product out of the carts").run(|| cart::remove_product(product_id))?;
    }
    match step("completing the deletion").run(|| identity::complete_deletion(user_id))? {
        Deletion::Completed => eprintln!(
            "events: account {user_id} deleted: {cleared} cart lines cleared, {} products \
             deleted, {} re-assigned to ANONYMOUS, {lines} lines left other carts",
            removal.deleted.len(),
            removal.anonymized.len()
        ),
        Deletion::AlreadyCompleted => {}
        Deletion::NotRequested => {
            eprintln!("events: account.deleted for {user_id}, whose deletion auth never recorded")
        }
    }
    Ok(())
}

/// One call of the deletion, retried while it fails and the budget lasts.
struct Step<'a> {
    user_id: &'a str,
    what: String,
    deadline: Instant,
}

impl Step<'_> {
    fn run<T, E: std::fmt::Debug>(
        &self,
        mut call: impl FnMut() -> Result<T, E>,
    ) -> anyhow::Result<T> {
        // Every error of these calls is storage (a busy or failing database): worth retrying.
        with_backoff(self.deadline, || {
            call().map_err(|e| StepError::Transient(format!("{e:?}")))
        })
        .map_err(|e| {
            anyhow::anyhow!(
                "account.deleted {}: {} failed, left pending for the re-drive: {e}",
                self.user_id,
                self.what
            )
        })
    }
}
