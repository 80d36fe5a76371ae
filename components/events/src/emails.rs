//! The saga's emails: what they say, HTML-escaped wherever a user wrote the words (names of
//! people and products), and how they leave: through the email API with an `Idempotency-Key`
//! per email, or, with no `email_api_base`, logged (subject and key only: never the address or
//! the content).

use crate::message::{Line, SagaStart};
use crate::retry::StepError;
use crate::{config, outbound};
use money::Money;
use serde::Serialize;

/// One email to one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// What became of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// The email API accepted it.
    Delivered,
    /// No email API is configured: logged instead.
    Logged,
}

impl Sent {
    pub fn as_str(self) -> &'static str {
        match self {
            Sent::Delivered => "sent",
            Sent::Logged => "logged",
        }
    }
}

/// Text safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn line_text(line: &Line) -> String {
    format!(
        "{} × {} at {} each: {}",
        line.quantity,
        line.name,
        Money::from_cents(line.unit_price_cents as i64),
        line.total()
    )
}

fn line_row(line: &Line) -> String {
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escape(&line.name),
        line.quantity,
        Money::from_cents(line.unit_price_cents as i64),
        line.total()
    )
}

const TABLE_HEAD: &str =
    "<table><tr><th>Product</th><th>Quantity</th><th>Price each</th><th>Subtotal</th></tr>";

/// "You made a purchase!": the buyer's lines and a link to the order on the storefront at
/// `frontend` (no trailing slash).
pub fn purchase(to: &str, name: &str, start: &SagaStart, frontend: &str, order_id: &str) -> Email {
    let link = format!("{frontend}/orders/{order_id}");
    let lines: Vec<&Line> = start.lines.iter().collect();
    Email {
        to: to.to_owned(),
        subject: "You made a purchase!".into(),
        html: format!(
            "<p>Hi {},</p><p>Thank you for your order.</p>{TABLE_HEAD}{}</table>\
             <p>Total: {}</p><p><a href=\"{}\">See your order</a></p>",
            escape(name),
            lines.iter().map(|l| line_row(l)).collect::<String>(),
            start.total(),
            escape(&link)
        ),
        text: format!(
            "Hi {name},\n\nThank you for your order.\n\n{}\n\nTotal: {}\n\nSee your order: {link}\n",
            lines
                .iter()
                .map(|l| line_text(l))
                .collect::<Vec<_>>()
                .join("\n"),
            start.total()
        ),
    }
}

/// "You made a sale!": the seller's own lines, price each, subtotals and their total.
pub fn sale(to: &str, name: &str, start: &SagaStart, seller_id: &str) -> Email {
    let lines: Vec<&Line> = start.lines_of(seller_id).collect();
    let total = Money::from_cents(lines.iter().map(|l| l.total().cents()).sum());
    Email {
        to: to.to_owned(),
        subject: "You made a sale!".into(),
        html: format!(
            "<p>Hi {},</p><p>You sold:</p>{TABLE_HEAD}{}</table><p>Total: {total}</p>",
            escape(name),
            lines.iter().map(|l| line_row(l)).collect::<String>(),
        ),
        text: format!(
            "Hi {name},\n\nYou sold:\n\n{}\n\nTotal: {total}\n",
            lines
                .iter()
                .map(|l| line_text(l))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

/// The buyer's refund notice.
pub fn refunded(to: &str, name: &str, start: &SagaStart) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Your order was refunded".into(),
        html: format!(
            "<p>Hi {},</p><p>We could not fulfil your order: an item is no longer available. \
             Your payment of {} has been refunded in full.</p>",
            escape(name),
            start.total()
        ),
        text: format!(
            "Hi {name},\n\nWe could not fulfil your order: an item is no longer available. \
             Your payment of {} has been refunded in full.\n",
            start.total()
        ),
    }
}

#[derive(Serialize)]
struct ApiEmail<'a> {
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    html: &'a str,
    text: &'a str,
}

/// Sends `email` once per `key`, or logs it when no email API is configured.
pub fn send(email: &Email, key: &str) -> Result<Sent, StepError> {
    let Some((base, api_key)) = config::email_api() else {
        eprintln!(
            "email {key} ({:?}) logged, not sent: email_api_base is not set",
            email.subject
        );
        return Ok(Sent::Logged);
    };
    let from = config::email_from();
    let body = serde_json::to_vec(&ApiEmail {
        from: &from,
        to: &email.to,
        subject: &email.subject,
        html: &email.html,
        text: &email.text,
    })
    .map_err(|e| StepError::Permanent(e.to_string()))?;
    outbound::send_email(&base, &api_key, &body, key).map(|()| Sent::Delivered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Line;

    fn start() -> SagaStart {
        let line = |product: &str, seller: &str, name: &str, quantity, cents| Line {
            product_id: product.into(),
            seller_id: seller.into(),
            name: name.into(),
            image_urls: vec![],
            quantity,
            unit_price_cents: cents,
        };
        SagaStart {
            checkout_id: "c1".into(),
            session_id: "cs_1".into(),
            payment_intent: Some("pi_1".into()),
            buyer_id: "b".into(),
            total_cents: 5348,
            holds_released: false,
            lines: vec![
                line("p1", "s1", "<script>alert(1)</script>", 2, 1999),
                line("p2", "s2", "Mug", 1, 1250),
                line("p3", "s1", "Vase & Co", 1, 100),
            ],
        }
    }

    #[test]
    fn what_users_wrote_is_escaped_in_html() {
        let email = purchase(
            "b@example.com",
            "Eve <b>",
            &start(),
            "https://shop.example",
            "o1",
        );
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(email.html.contains("Hi Eve &lt;b&gt;,"));
        assert!(email.html.contains("Vase &amp; Co"));
        assert!(email.html.contains("Total: $53.48"));
        assert!(
            email
                .text
                .contains("See your order: https://shop.example/orders/o1")
        );
        assert!(
            email
                .text
                .contains("2 × <script>alert(1)</script> at $19.99 each: $39.98")
        );
    }

    #[test]
    fn a_seller_sees_only_their_lines_and_their_total() {
        let email = sale("s1@example.com", "Sam", &start(), "s1");
        assert_eq!(email.subject, "You made a sale!");
        assert!(email.text.contains("Vase & Co"));
        assert!(!email.text.contains("Mug"));
        assert!(email.text.contains("Total: $40.98"), "{}", email.text);
    }
}
