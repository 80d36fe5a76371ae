//! Refunds, for the saga's compensation: a paid order that cannot be fulfilled gives the
//! buyer's money back in full.

use crate::request::FormRequest;

/// `POST /v1/refunds` with `payment_intent=<pi_...>`: refunds the whole payment. The key
/// (derived from the saga id by the caller) makes a retried compensation refund once: Stripe
/// replays the first answer to the same key instead of refunding again.
pub fn refund(payment_intent: &str, idempotency_key: &str) -> FormRequest {
    FormRequest {
        path: "/v1/refunds".to_owned(),
        idempotency_key: Some(idempotency_key.to_owned()),
        form: vec![("payment_intent".to_owned(), payment_intent.to_owned())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_names_the_payment_intent_under_the_callers_key() {
        let request = refund("pi_3MtwBwLkdIwHu7ix28a3tqPa", "saga-01J:refund");
        assert_eq!(request.path, "/v1/refunds");
        assert_eq!(request.idempotency_key.as_deref(), Some("saga-01J:refund"));
        assert_eq!(request.body(), "payment_intent=pi_3MtwBwLkdIwHu7ix28a3tqPa");
    }
}
