//! Orders: what was bought (lines frozen when the order was placed), the status rule, the
//! rules a new order must meet, and the JSON views (the buyer's order, the seller's sale).

use money::Money;
use serde::Serialize;
use serde_json::{Value, json};
use timestamp::Timestamp;

/// Most lines one order may have (a cart's limit, and one batch lookup).
pub const MAX_LINES: usize = 100;
/// Longest id, name or URL accepted from a caller of the WIT export.
const MAX_TEXT: usize = 2_048;
/// Most units of one product in one order (a product's largest stock).
const MAX_QUANTITY: u32 = 1_000_000;
/// The seller name shown for a product that no longer exists, or a buyer who left.
pub const UNKNOWN_NAME: &str = "Unknown";

/// Where an order is. Moves only forward: `Processing` → `Completed` or `Refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Paid; the saga is running.
    Processing,
    /// Fulfilled: stock committed, money moved, emails sent.
    Completed,
    /// Compensated: the payment was refunded.
    Refunded,
}

impl Status {
    /// The stored (and wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Processing => "PROCESSING",
            Status::Completed => "COMPLETED",
            Status::Refunded => "REFUNDED",
        }
    }

    /// The stored form back.
    pub fn parse(text: &str) -> Option<Self> {
        [Status::Processing, Status::Completed, Status::Refunded]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// What moving from `self` to `to` does.
    pub fn advance(self, to: Status) -> Advance {
        match (self, to) {
            (from, to) if from == to => Advance::Already,
            (Status::Processing, _) => Advance::Forward,
            _ => Advance::Backward,
        }
    }
}

/// The outcome of a status move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    Forward,
    /// Already there: a repeat, nothing changes.
    Already,
    Backward,
}

/// One purchased product, frozen when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product_id: String,
    /// The seller when bought (payouts and the sales view stay with them).
    pub seller_id: String,
    pub name: String,
    pub image_urls: Vec<String>,
    pub quantity: u32,
    pub unit_price: Money,
}

impl Line {
    /// Quantity × unit price: the line total (`price` on the wire).
    pub fn total(&self) -> Money {
        // In range: checked when the order was placed.
        Money::from_cents(self.unit_price.cents() * i64::from(self.quantity))
    }
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub checkout_id: String,
    pub checkout_session_id: String,
    pub buyer_id: String,
    pub status: Status,
    pub total: Money,
    /// With their stored ids, in the order placed.
    pub lines: Vec<(String, Line)>,
    /// Sellers of its lines the saga could not credit (deleted before the money moved).
    pub uncredited_sellers: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An order that meets every rule, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub checkout_id: String,
    pub checkout_session_id: String,
    pub buyer_id: String,
    pub total: Money,
    pub lines: Vec<Line>,
}

/// The rule a new order breaks, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn text(field: &str, value: &str) -> Result<(), Invalid> {
    let ok =
        !value.trim().is_empty() && value.len() <= MAX_TEXT && !value.chars().any(char::is_control);
    ok.then_some(()).ok_or_else(|| {
        Invalid(format!(
            "{field} must be 1 to {MAX_TEXT} printable characters"
        ))
    })
}

impl NewOrder {
    /// Checks every rule: ids present, 1–[`MAX_LINES`] lines each of a different product, at
    /// least one unit each, and a total that is the sum of the lines.
    pub fn parse(
        checkout_id: String,
        checkout_session_id: String,
        buyer_id: String,
        total_cents: u64,
        lines: Vec<Line>,
    ) -> Result<Self, Invalid> {
        text("checkoutId", &checkout_id)?;
        text("checkoutSessionId", &checkout_session_id)?;
        text("buyerId", &buyer_id)?;
        if !(1..=MAX_LINES).contains(&lines.len()) {
            return Err(Invalid(format!("an order has 1 to {MAX_LINES} lines")));
        }
        let mut sum: i64 = 0;
        for (i, line) in lines.iter().enumerate() {
            text(&format!("lines[{i}].productId"), &line.product_id)?;
            text(&format!("lines[{i}].sellerId"), &line.seller_id)?;
            text(&format!("lines[{i}].name"), &line.name)?;
            for url in &line.image_urls {
                text(&format!("lines[{i}].imageUrls"), url)?;
            }
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(Invalid(format!(
                    "lines[{i}].quantity must be 1 to {MAX_QUANTITY}"
                )));
            }
            if lines[..i].iter().any(|l| l.product_id == line.product_id) {
                return Err(Invalid(format!(
                    "product {} is on two lines",
                    line.product_id
                )));
            }
            sum = line
                .unit_price
                .cents()
                .checked_mul(i64::from(line.quantity))
                .and_then(|t| t.checked_add(sum))
                .ok_or_else(|| Invalid("the order's total is out of range".into()))?;
        }
        let total = i64::try_from(total_cents)
            .ok()
            .filter(|t| *t == sum)
            .ok_or_else(|| {
                Invalid(format!(
                    "totalCents {total_cents} is not the sum of the lines ({sum})"
                ))
            })?;
        Ok(Self {
            checkout_id,
            checkout_session_id,
            buyer_id,
            total: Money::from_cents(total),
            lines,
        })
    }
}

/// A unit price from the WIT (`u64` cents) within what money can hold.
pub fn unit_price(cents: u64) -> Result<Money, Invalid> {
    i64::try_from(cents)
        .map(Money::from_cents)
        .map_err(|_| Invalid(format!("unit price {cents} is out of range")))
}

/// One line as the API shows it, with its product.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView<'a> {
    id: &'a str,
    product_id: &'a str,
    quantity: u32,
    unit_price: Money,
    /// The line total: the storefront divides it by `quantity`.
    price: Money,
    product: Value,
}

/// The product a line shows: the current one when products still has it (also re-assigned to
/// ANONYMOUS), else one built from what was frozen at purchase, so it is never null.
fn product_of(line: &Line, current: Option<&Value>, order: &Order) -> Value {
    current.cloned().unwrap_or_else(|| {
        json!({
            "id": line.product_id,
            "name": line.name,
            "description": "",
            "price": line.unit_price,
            "quantity": 0,
            "imageUrls": line.image_urls,
            "adminId": line.seller_id,
            "admin": { "id": line.seller_id, "name": UNKNOWN_NAME },
            "orderCount": 0,
            "createdAt": order.created_at,
            "updatedAt": order.created_at,
        })
    })
}

fn items<'a>(
    order: &'a Order,
    lines: impl Iterator<Item = &'a (String, Line)>,
    products: &impl Fn(&str) -> Option<&'a Value>,
) -> Vec<ItemView<'a>> {
    lines
        .map(|(id, line)| ItemView {
            id,
            product_id: &line.product_id,
            quantity: line.quantity,
            unit_price: line.unit_price,
            price: line.total(),
            product: product_of(line, products(&line.product_id), order),
        })
        .collect()
}

/// The buyer's order (`api-contract.md` §6).
pub fn order_view<'a>(order: &'a Order, products: &impl Fn(&str) -> Option<&'a Value>) -> Value {
    json!({
        "id": order.id,
        "userId": order.buyer_id,
        "status": order.status,
        "total": order.total,
        "checkoutSessionId": order.checkout_session_id,
        "orderItems": items(order, order.lines.iter(), products),
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
    })
}

/// A seller's sale: only their lines and what those came to, and the buyer's public name
/// (not the order's total, nor the payment's id: what the buyer bought elsewhere is not theirs).
pub fn sale_view<'a>(
    order: &'a Order,
    seller_id: &str,
    buyer_name: &str,
    products: &impl Fn(&str) -> Option<&'a Value>,
) -> Value {
    let mine = || order.lines.iter().filter(|(_, l)| l.seller_id == seller_id);
    let subtotal = Money::from_cents(mine().map(|(_, l)| l.total().cents()).sum());
    json!({
        "id": order.id,
        "buyer": { "id": order.buyer_id, "name": buyer_name },
        "status": order.status,
        "subtotal": subtotal,
        "orderItems": items(order, mine(), products),
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: &str, quantity: u32, cents: i64) -> Line {
        Line {
            product_id: product.into(),
            seller_id: "seller".into(),
            name: "Mug".into(),
            image_urls: vec![],
            quantity,
            unit_price: Money::from_cents(cents),
        }
    }

    fn parse(total: u64, lines: Vec<Line>) -> Result<NewOrder, Invalid> {
        NewOrder::parse("chk".into(), "cs_1".into(), "buyer".into(), total, lines)
    }

    #[test]
    fn status_moves_only_forward_and_a_repeat_is_no_move() {
        use Status::*;
        assert_eq!(Processing.advance(Completed), Advance::Forward);
        assert_eq!(Processing.advance(Refunded), Advance::Forward);
        assert_eq!(Completed.advance(Completed), Advance::Already);
        assert_eq!(Completed.advance(Refunded), Advance::Backward);
        assert_eq!(Refunded.advance(Processing), Advance::Backward);
    }

    #[test]
    fn a_valid_order_adds_up() {
        let order = parse(1234 * 3 + 500, vec![line("a", 3, 1234), line("b", 1, 500)]).unwrap();
        assert_eq!(order.total, Money::from_cents(4202));
        assert_eq!(order.lines[0].total(), Money::from_cents(3702));
    }

    #[test]
    fn broken_orders_say_which_rule() {
        let cases = [
            (parse(0, vec![]), "1 to 100 lines"),
            (parse(0, vec![line("a", 0, 1)]), "quantity"),
            (
                parse(2, vec![line("a", 1, 1), line("a", 1, 1)]),
                "two lines",
            ),
            (parse(3, vec![line("a", 1, 1)]), "not the sum"),
            (parse(1, vec![line("", 1, 1)]), "productId"),
            (
                parse(u64::MAX, vec![line("a", 1_000_000, i64::MAX / 2)]),
                "out of range",
            ),
        ];
        for (result, expected) in cases {
            let message = result.unwrap_err().0;
            assert!(
                message.contains(expected),
                "{message} should say {expected}"
            );
        }
        let too_many: Vec<Line> = (0..101).map(|i| line(&i.to_string(), 1, 1)).collect();
        assert!(parse(101, too_many).is_err());
    }
}
