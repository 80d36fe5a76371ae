//! The messages this component handles from the events channel, parsed once at the edge: a
//! saga start (`checkout.paid`, published by checkout), `product.removed` (published by
//! products) and `account.deleted` (published by auth). Every event is one flat JSON object
//! with a `type` (README "Domain events").

use money::Money;
use serde::{Deserialize, Serialize};

/// One purchased line, frozen by checkout when the buyer was priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub product_id: String,
    pub seller_id: String,
    pub name: String,
    pub image_urls: Vec<String>,
    pub quantity: u32,
    pub unit_price_cents: u64,
}

impl Line {
    /// Quantity × unit price.
    pub fn total(&self) -> Money {
        Money::from_cents(self.unit_price_cents as i64 * i64::from(self.quantity))
    }
}

/// The frozen checkout a paid session starts the saga with: everything the saga needs, so it
/// never reads checkout's database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SagaStart {
    /// Our checkout id: the saga id and the order's uniqueness key.
    pub checkout_id: String,
    /// Stripe's Checkout Session id (`cs_...`).
    pub session_id: String,
    /// Stripe's PaymentIntent (`pi_...`), what a refund names.
    pub payment_intent: Option<String>,
    pub buyer_id: String,
    pub total_cents: u64,
    /// The stock and balance holds were given back before the money arrived.
    #[serde(default)]
    pub holds_released: bool,
    pub lines: Vec<Line>,
}

impl SagaStart {
    /// The total as money.
    pub fn total(&self) -> Money {
        Money::from_cents(self.total_cents as i64)
    }

    /// The sellers of the lines, each once, in the order they first appear, with the sum of
    /// their lines.
    pub fn sellers(&self) -> Vec<(String, Money)> {
        let mut sellers: Vec<(String, Money)> = Vec::new();
        for line in &self.lines {
            match sellers.iter_mut().find(|(id, _)| *id == line.seller_id) {
                Some((_, sum)) => *sum = Money::from_cents(sum.cents() + line.total().cents()),
                None => sellers.push((line.seller_id.clone(), line.total())),
            }
        }
        sellers
    }

    /// The lines a seller sold.
    pub fn lines_of<'a>(&'a self, seller_id: &'a str) -> impl Iterator<Item = &'a Line> + 'a {
        self.lines.iter().filter(move |l| l.seller_id == seller_id)
    }

    fn check(&self) -> Result<(), String> {
        if self.checkout_id.is_empty() || self.buyer_id.is_empty() || self.lines.is_empty() {
            return Err("a saga start needs a checkout id, a buyer and lines".into());
        }
        if self.lines.iter().any(|l| l.quantity == 0) {
            return Err("a line has no units".into());
        }
        let sum: u64 = self.lines.iter().map(|l| l.total().cents() as u64).sum();
        if sum != self.total_cents {
            return Err(format!(
                "the lines add up to {sum} cents, the total says {}",
                self.total_cents
            ));
        }
        Ok(())
    }
}

/// A message from the events channel.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// `checkout.paid`: run (or resume) the order saga.
    SagaStart(SagaStart),
    /// `product.removed`: take the product out of every cart.
    ProductRemoved { product_id: String },
    /// `account.deleted`: clear the user's cart, remove their products, complete the deletion.
    AccountDeleted { user_id: String },
    /// Any other type: not for this component.
    Other(String),
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductRemoved {
    product_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountDeleted {
    user_id: String,
}

/// Parses a message; `Err` says why it is unusable (it is then logged and dropped: a
/// malformed message never becomes valid by being retried).
pub fn parse(bytes: &[u8]) -> Result<Message, String> {
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|e| format!("not an event: {e}"))?;
    match envelope.kind.as_str() {
        "checkout.paid" => {
            let start: SagaStart =
                serde_json::from_slice(bytes).map_err(|e| format!("checkout.paid: {e}"))?;
            start.check().map_err(|e| format!("checkout.paid: {e}"))?;
            Ok(Message::SagaStart(start))
        }
        "product.removed" => {
            let removed: ProductRemoved =
                serde_json::from_slice(bytes).map_err(|e| format!("product.removed: {e}"))?;
            Ok(Message::ProductRemoved {
                product_id: removed.product_id,
            })
        }
        "account.deleted" => {
            let deleted: AccountDeleted =
                serde_json::from_slice(bytes).map_err(|e| format!("account.deleted: {e}"))?;
            if deleted.user_id.is_empty() {
                return Err("account.deleted: no user id".into());
            }
            Ok(Message::AccountDeleted {
                user_id: deleted.user_id,
            })
        }
        other => Ok(Message::Other(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn start(total: u64) -> serde_json::Value {
        json!({ "type": "checkout.paid", "id": "e1", "occurredAt": "2026-05-01T12:00:00.000Z",
                "checkoutId": "c1", "sessionId": "cs_1", "paymentIntent": "pi_1",
                "buyerId": "b", "totalCents": total, "holdsReleased": false,
                "lines": [
                    { "productId": "p1", "sellerId": "s1", "name": "Lamp", "imageUrls": [],
                      "quantity": 2, "unitPriceCents": 1999 },
                    { "productId": "p2", "sellerId": "s2", "name": "Mug", "imageUrls": [],
                      "quantity": 1, "unitPriceCents": 1250 },
                    { "productId": "p3", "sellerId": "s1", "name": "Vase", "imageUrls": [],
                      "quantity": 1, "unitPriceCents": 100 } ] })
    }

    #[test]
    fn a_saga_start_parses_with_its_sellers_and_their_sums() {
        let bytes = serde_json::to_vec(&start(5348)).unwrap();
        let Message::SagaStart(start) = parse(&bytes).unwrap() else {
            panic!("a saga start")
        };
        assert_eq!(start.total(), Money::from_cents(5348));
        assert_eq!(
            start.sellers(),
            vec![
                ("s1".to_owned(), Money::from_cents(4098)),
                ("s2".to_owned(), Money::from_cents(1250))
            ]
        );
        assert_eq!(start.lines_of("s1").count(), 2);
    }

    #[test]
    fn a_start_whose_lines_do_not_add_up_is_refused() {
        let bytes = serde_json::to_vec(&start(5000)).unwrap();
        assert!(parse(&bytes).unwrap_err().contains("add up"));
    }

    #[test]
    fn other_types_and_garbage_are_told_apart() {
        assert_eq!(
            parse(br#"{"type":"user.deleted","id":"x"}"#).unwrap(),
            Message::Other("user.deleted".into())
        );
        assert_eq!(
            parse(br#"{"type":"product.removed","productId":"p9","reason":"deleted"}"#).unwrap(),
            Message::ProductRemoved {
                product_id: "p9".into()
            }
        );
        assert!(parse(b"PING").is_err());
    }

    #[test]
    fn an_account_deletion_names_its_user() {
        let event = br#"{"type":"account.deleted","id":"e2","userId":"u7",
                         "occurredAt":"2026-05-01T12:00:00.000Z"}"#;
        assert_eq!(
            parse(event).unwrap(),
            Message::AccountDeleted {
                user_id: "u7".into()
            }
        );
        assert!(parse(br#"{"type":"account.deleted","userId":""}"#).is_err());
        assert!(parse(br#"{"type":"account.deleted","id":"e3"}"#).is_err());
    }
}
