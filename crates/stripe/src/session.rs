//! Checkout Sessions: the create request of the API contract (§5) as form fields, the rules
//! Stripe enforces on it that checkout must check before reserving anything, and the expire
//! request used when a second checkout replaces an open one.

use crate::request::{FormRequest, path_segment};
use money::Money;

/// The only currency the shop charges in.
const CURRENCY: &str = "usd";

/// Stripe's smallest card charge in usd: a smaller total is refused by Stripe, so checkout
/// refuses it first, before holding stock or balance.
pub const MIN_TOTAL: Money = Money::from_cents(50);

/// Stripe's largest charge in usd (eight digits of cents).
pub const MAX_TOTAL: Money = Money::from_cents(99_999_999);

/// Stripe's limit on line items in a `payment` mode session.
pub const MAX_LINE_ITEMS: usize = 100;

/// How long a session stays payable. Stripe refuses an `expires_at` less than 30 minutes after
/// it creates the session; one more minute absorbs the time between computing it and Stripe
/// receiving the request, and clock skew. Holds must outlive this.
pub const SESSION_LIFETIME_SECS: i64 = 31 * 60;

// Stripe's floor, checked when compiling: a shorter lifetime makes every create fail.
const _: () = assert!(SESSION_LIFETIME_SECS > 30 * 60);

/// The `expires_at` to send for a session created at `now` (Unix seconds). Compute it right
/// before calling Stripe, not when the checkout started.
pub const fn expires_at(now: i64) -> i64 {
    now.saturating_add(SESSION_LIFETIME_SECS)
}

/// A total Stripe would refuse. The message is the one the buyer sees (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Below [`MIN_TOTAL`] (zero and negative totals included).
    #[error("The total of {total} is below the minimum payment of {min}", min = MIN_TOTAL)]
    BelowMinimum {
        /// The refused total.
        total: Money,
    },
    /// Above [`MAX_TOTAL`].
    #[error("The total of {total} is above the maximum payment of {max}", max = MAX_TOTAL)]
    AboveMaximum {
        /// The refused total.
        total: Money,
    },
}

/// Checks a total against Stripe's usd limits, both inclusive.
pub fn check_total(total: Money) -> Result<(), AmountError> {
    if total < MIN_TOTAL {
        Err(AmountError::BelowMinimum { total })
    } else if total > MAX_TOTAL {
        Err(AmountError::AboveMaximum { total })
    } else {
        Ok(())
    }
}

/// Why a line cannot be sent to Stripe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Stripe requires `product_data[name]`, and an empty string is not one.
    #[error("a line needs a product name")]
    EmptyName,
    /// Stripe's `unit_amount` is a non-negative integer of cents.
    #[error("a line's unit price must not be negative, got {0}")]
    NegativeUnitAmount(Money),
    /// Stripe's `quantity` is at least 1.
    #[error("a line's quantity must be at least 1")]
    ZeroQuantity,
}

/// One priced line: what the buyer sees on Stripe's page. Private fields: [`SessionLine::new`]
/// is the only way in, so every line sent is one Stripe accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLine {
    name: String,
    unit_amount: Money,
    quantity: u32,
}

impl SessionLine {
    /// A line of `quantity` units of `name` at `unit_amount` each (priced from the catalog).
    pub fn new(name: &str, unit_amount: Money, quantity: u32) -> Result<Self, LineError> {
        if name.trim().is_empty() {
            return Err(LineError::EmptyName);
        }
        if unit_amount < Money::ZERO {
            return Err(LineError::NegativeUnitAmount(unit_amount));
        }
        if quantity == 0 {
            return Err(LineError::ZeroQuantity);
        }
        Ok(Self {
            name: name.to_owned(),
            unit_amount,
            quantity,
        })
    }

    /// The product name shown on Stripe's page.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The price of one unit.
    pub fn unit_amount(&self) -> Money {
        self.unit_amount
    }

    /// The number of units.
    pub fn quantity(&self) -> u32 {
        self.quantity
    }

    /// Unit amount × quantity, in `i128` so no real line can overflow.
    fn cents(&self) -> i128 {
        i128::from(self.unit_amount.cents()) * i128::from(self.quantity)
    }
}

/// Why a session cannot be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Stripe needs at least one line item.
    #[error("a Checkout Session needs at least one line")]
    NoLines,
    /// More than [`MAX_LINE_ITEMS`] lines.
    #[error("a Checkout Session takes at most {max} lines, got {0}", max = MAX_LINE_ITEMS)]
    TooManyLines(usize),
    /// The total is outside Stripe's limits.
    #[error(transparent)]
    Amount(#[from] AmountError),
    /// An id Stripe would read as "unset this parameter" and refuse.
    #[error("the {0} sent to Stripe must not be empty")]
    EmptyId(&'static str),
    /// Stripe refuses a `success_url`/`cancel_url` that is not an absolute URL.
    #[error("frontend_base_url must start with http:// or https://, got {0:?}")]
    FrontendUrl(String),
}

/// What checkout knows when it creates a session. Named fields, so the two ids cannot swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Our checkout id: `client_reference_id`, `metadata[checkoutId]` and the
    /// `Idempotency-Key`, so a session created while our call timed out is still found.
    pub checkout_id: String,
    /// The buyer: `metadata[userId]`.
    pub user_id: String,
    /// The frozen, priced lines.
    pub lines: Vec<SessionLine>,
    /// Unix seconds; see [`expires_at`].
    pub expires_at: i64,
    /// Variable `frontend_base_url`: the storefront Stripe sends the buyer back to.
    pub frontend_base_url: String,
}

impl NewSession {
    /// The total Stripe will charge, after checking every rule Stripe would otherwise refuse
    /// the request for. Checkout calls this first: its `Amount` error is the buyer's 400.
    pub fn checked_total(&self) -> Result<Money, SessionError> {
        if self.lines.is_empty() {
            return Err(SessionError::NoLines);
        }
        if self.lines.len() > MAX_LINE_ITEMS {
            return Err(SessionError::TooManyLines(self.lines.len()));
        }
        for (name, id) in [
            ("checkout id", &self.checkout_id),
            ("user id", &self.user_id),
        ] {
            if id.trim().is_empty() {
                return Err(SessionError::EmptyId(name));
            }
        }
        let base = &self.frontend_base_url;
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(SessionError::FrontendUrl(base.clone()));
        }
        let cents: i128 = self.lines.iter().map(SessionLine::cents).sum();
        // Saturating: a total past i64 is simply "above the maximum".
        let total = Money::from_cents(i64::try_from(cents).unwrap_or(i64::MAX));
        check_total(total)?;
        Ok(total)
    }
}

/// The form fields of `POST /v1/checkout/sessions`, exactly those of the API contract, in
/// this order: `mode`, per line `line_items[i][price_data][currency]`,
/// `...[product_data][name]`, `...[unit_amount]` (integer cents), `line_items[i][quantity]`,
/// then `client_reference_id`, `metadata[checkoutId]`, `metadata[userId]`, `expires_at`,
/// `success_url`, `cancel_url`. Refuses what Stripe would ([`NewSession::checked_total`]).
pub fn create_session_form(session: &NewSession) -> Result<Vec<(String, String)>, SessionError> {
    session.checked_total()?;
    let mut form = vec![("mode".to_owned(), "payment".to_owned())];
    for (i, line) in session.lines.iter().enumerate() {
        let key = |suffix: &str| format!("line_items[{i}]{suffix}");
        form.extend([
            (key("[price_data][currency]"), CURRENCY.to_owned()),
            (key("[price_data][product_data][name]"), line.name.clone()),
            (
                key("[price_data][unit_amount]"),
                line.unit_amount.cents().to_string(),
            ),
            (key("[quantity]"), line.quantity.to_string()),
        ]);
    }
    // `https://shop.example/` and `https://shop.example` both give `https://shop.example/checkout`.
    let base = session
        .frontend_base_url
        .strip_suffix('/')
        .unwrap_or(&session.frontend_base_url);
    form.extend([
        (
            "client_reference_id".to_owned(),
            session.checkout_id.clone(),
        ),
        (
            "metadata[checkoutId]".to_owned(),
            session.checkout_id.clone(),
        ),
        ("metadata[userId]".to_owned(), session.user_id.clone()),
        ("expires_at".to_owned(), session.expires_at.to_string()),
        (
            "success_url".to_owned(),
            format!("{base}/checkout?success=true"),
        ),
        (
            "cancel_url".to_owned(),
            format!("{base}/checkout?canceled=true"),
        ),
    ]);
    Ok(form)
}

/// `POST /v1/checkout/sessions` with [`create_session_form`] and our checkout id as
/// `Idempotency-Key`: a retry after a timeout gets the session Stripe already made.
pub fn create_session(session: &NewSession) -> Result<FormRequest, SessionError> {
    Ok(FormRequest {
        path: "/v1/checkout/sessions".to_owned(),
        idempotency_key: Some(session.checkout_id.clone()),
        form: create_session_form(session)?,
    })
}

/// `POST /v1/checkout/sessions/{id}/expire`, no parameters: makes a replaced session unpayable.
/// No idempotency key: expiring is idempotent in effect, and Stripe answers a session that is
/// no longer open with a 400 `invalid_request_error`, which the caller treats as done once it
/// has checked the session's state.
pub fn expire_session(session_id: &str) -> FormRequest {
    FormRequest {
        path: format!("/v1/checkout/sessions/{}/expire", path_segment(session_id)),
        idempotency_key: None,
        form: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, cents: i64, quantity: u32) -> SessionLine {
        SessionLine::new(name, Money::from_cents(cents), quantity).unwrap()
    }

    fn session(lines: Vec<SessionLine>) -> NewSession {
        NewSession {
            checkout_id: "01JCHECKOUT".into(),
            user_id: "user_42".into(),
            lines,
            expires_at: 1_700_001_860,
            frontend_base_url: "https://shop.example/".into(),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_create_form_has_exactly_the_contracts_fields() {
        let form = create_session_form(&session(vec![
            line("Mug", 950, 2),
            line("Tea & Co", 1999, 1),
        ]))
        .unwrap();
        assert_eq!(
            form,
            pairs(&[
                ("mode", "payment"),
                ("line_items[0][price_data][currency]", "usd"),
                ("line_items[0][price_data][product_data][name]", "Mug"),
                ("line_items[0][price_data][unit_amount]", "950"),
                ("line_items[0][quantity]", "2"),
                ("line_items[1][price_data][currency]", "usd"),
                ("line_items[1][price_data][product_data][name]", "Tea & Co"),
                ("line_items[1][price_data][unit_amount]", "1999"),
                ("line_items[1][quantity]", "1"),
                ("client_reference_id", "01JCHECKOUT"),
                ("metadata[checkoutId]", "01JCHECKOUT"),
                ("metadata[userId]", "user_42"),
                ("expires_at", "1700001860"),
                ("success_url", "https://shop.example/checkout?success=true"),
                ("cancel_url", "https://shop.example/checkout?canceled=true"),
            ])
        );
    }

    #[test]
    fn only_one_trailing_slash_of_the_base_is_trimmed() {
        let url = |base: &str| {
            let mut s = session(vec![line("Mug", 950, 1)]);
            s.frontend_base_url = base.into();
            let form = create_session_form(&s).unwrap();
            form.into_iter()
                .find(|(k, _)| k == "success_url")
                .unwrap()
                .1
        };
        assert_eq!(
            url("http://localhost:5173"),
            "http://localhost:5173/checkout?success=true"
        );
        assert_eq!(
            url("http://localhost:5173/"),
            "http://localhost:5173/checkout?success=true"
        );
        assert_eq!(
            url("https://a.example/shop//"),
            "https://a.example/shop//checkout?success=true"
        );
    }

    #[test]
    fn the_create_request_is_keyed_by_the_checkout_id() {
        let request = create_session(&session(vec![line("Mug", 950, 1)])).unwrap();
        assert_eq!(request.path, "/v1/checkout/sessions");
        assert_eq!(request.idempotency_key.as_deref(), Some("01JCHECKOUT"));
        assert!(request.body().starts_with("mode=payment&line_items%5B0%5D"));
    }

    #[test]
    fn the_total_is_the_sum_of_the_lines() {
        let s = session(vec![line("Mug", 950, 2), line("Tea", 1999, 3)]);
        assert_eq!(s.checked_total(), Ok(Money::from_cents(950 * 2 + 1999 * 3)));
    }

    #[test]
    fn fifty_cents_up_to_999_999_99_dollars_is_accepted() {
        assert_eq!(check_total(Money::from_cents(50)), Ok(()));
        assert_eq!(check_total(Money::from_cents(99_999_999)), Ok(()));
    }

    #[test]
    fn a_total_below_fifty_cents_is_refused_with_a_clear_message() {
        for cents in [49, 0, -100] {
            let total = Money::from_cents(cents);
            assert_eq!(check_total(total), Err(AmountError::BelowMinimum { total }));
        }
        assert_eq!(
            check_total(Money::from_cents(49)).unwrap_err().to_string(),
            "The total of $0.49 is below the minimum payment of $0.50"
        );
    }

    #[test]
    fn a_total_above_999_999_99_dollars_is_refused_with_a_clear_message() {
        let total = Money::from_cents(100_000_000);
        assert_eq!(check_total(total), Err(AmountError::AboveMaximum { total }));
        assert_eq!(
            check_total(total).unwrap_err().to_string(),
            "The total of $1,000,000.00 is above the maximum payment of $999,999.99"
        );
    }

    #[test]
    fn a_session_stripe_would_refuse_is_never_built() {
        let cheap = session(vec![line("Sticker", 25, 1)]);
        assert_eq!(
            create_session(&cheap),
            Err(SessionError::Amount(AmountError::BelowMinimum {
                total: Money::from_cents(25)
            }))
        );
        let huge = session(vec![line("Yacht", i64::MAX, u32::MAX)]);
        assert_eq!(
            huge.checked_total(),
            Err(SessionError::Amount(AmountError::AboveMaximum {
                total: Money::from_cents(i64::MAX)
            }))
        );
        assert_eq!(session(vec![]).checked_total(), Err(SessionError::NoLines));
        let many = session(vec![line("Pin", 100, 1); MAX_LINE_ITEMS + 1]);
        assert_eq!(many.checked_total(), Err(SessionError::TooManyLines(101)));
        assert!(
            session(vec![line("Pin", 100, 1); MAX_LINE_ITEMS])
                .checked_total()
                .is_ok()
        );
    }

    #[test]
    fn empty_ids_and_relative_base_urls_are_refused() {
        let mut s = session(vec![line("Mug", 950, 1)]);
        s.checkout_id = String::new();
        assert_eq!(s.checked_total(), Err(SessionError::EmptyId("checkout id")));
        let mut s = session(vec![line("Mug", 950, 1)]);
        s.user_id = " ".into();
        assert_eq!(s.checked_total(), Err(SessionError::EmptyId("user id")));
        let mut s = session(vec![line("Mug", 950, 1)]);
        s.frontend_base_url = "shop.example".into();
        assert_eq!(
            s.checked_total(),
            Err(SessionError::FrontendUrl("shop.example".into()))
        );
    }

    #[test]
    fn lines_stripe_would_refuse_cannot_be_made() {
        assert_eq!(
            SessionLine::new(" ", Money::from_cents(100), 1),
            Err(LineError::EmptyName)
        );
        assert_eq!(
            SessionLine::new("Mug", Money::from_cents(-1), 1),
            Err(LineError::NegativeUnitAmount(Money::from_cents(-1)))
        );
        assert_eq!(
            SessionLine::new("Mug", Money::from_cents(100), 0),
            Err(LineError::ZeroQuantity)
        );
        let free = line("Gift wrap", 0, 1);
        assert_eq!(
            (free.name(), free.unit_amount(), free.quantity()),
            ("Gift wrap", Money::ZERO, 1)
        );
    }

    #[test]
    fn sessions_expire_31_minutes_after_now() {
        assert_eq!(expires_at(1_700_000_000), 1_700_000_000 + 31 * 60);
        assert_eq!(expires_at(i64::MAX), i64::MAX);
    }

    #[test]
    fn expiring_posts_to_the_sessions_expire_path_with_no_body() {
        let request = expire_session("cs_test_a1B2c3");
        assert_eq!(request.path, "/v1/checkout/sessions/cs_test_a1B2c3/expire");
        assert_eq!(request.idempotency_key, None);
        assert_eq!(request.body(), "");
        assert_eq!(
            expire_session("cs_1/../../refunds").path,
            "/v1/checkout/sessions/cs_1%2F%2E%2E%2F%2E%2E%2Frefunds/expire"
        );
    }
}
