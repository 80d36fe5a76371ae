//! The objects the fake holds, built and changed by Stripe's rules: a Checkout Session from
//! the create form (refusing what Stripe refuses and the app must get right), its expiry, and
//! refunds of the PaymentIntent a completed session created.

use super::params::{Hash, StripeError};
use serde_json::{Map, Value, json};

/// Create parameters Stripe knows (a subset of its API; the app sends only a few of them).
/// Anything else is `parameter_unknown`, as Stripe answers a misspelt parameter.
const SESSION_PARAMS: &[&str] = &[
    "after_expiration",
    "allow_promotion_codes",
    "automatic_tax",
    "billing_address_collection",
    "cancel_url",
    "client_reference_id",
    "consent_collection",
    "currency",
    "custom_fields",
    "custom_text",
    "customer",
    "customer_creation",
    "customer_email",
    "customer_update",
    "discounts",
    "expand",
    "expires_at",
    "invoice_creation",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "payment_intent_data",
    "payment_method_collection",
    "payment_method_configuration",
    "payment_method_options",
    "payment_method_types",
    "phone_number_collection",
    "return_url",
    "shipping_address_collection",
    "shipping_options",
    "submit_type",
    "success_url",
    "tax_id_collection",
    "ui_mode",
];
const LINE_PARAMS: &[&str] = &[
    "adjustable_quantity",
    "dynamic_tax_rates",
    "price",
    "price_data",
    "quantity",
    "tax_rates",
];
const PRICE_DATA_PARAMS: &[&str] = &[
    "currency",
    "product",
    "product_data",
    "recurring",
    "tax_behavior",
    "unit_amount",
    "unit_amount_decimal",
];
const PRODUCT_DATA_PARAMS: &[&str] = &["description", "images", "metadata", "name", "tax_code"];
const REFUND_PARAMS: &[&str] = &[
    "amount",
    "charge",
    "expand",
    "metadata",
    "payment_intent",
    "reason",
    "refund_application_fee",
    "reverse_transfer",
];

/// Stripe's bounds on `expires_at`, from the moment it creates the session.
const MIN_LIFETIME_SECS: i64 = 30 * 60;
const MAX_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// Stripe's limits on a usd charge, in cents.
const MIN_USD_TOTAL: i64 = 50;
const MAX_USD_TOTAL: i64 = 99_999_999;
const MAX_LINE_ITEMS: usize = 100;

/// A new open session with id `id`, created at `now` (Unix seconds) from the create form.
pub fn new_session(form: &Hash, id: &str, now: i64) -> Result<Value, StripeError> {
    form.only(SESSION_PARAMS)?;
    match form.required("mode")? {
        "payment" => {}
        other => {
            return Err(StripeError::invalid(
                Some("mode"),
                format!("The fake Stripe creates only mode=payment sessions, got mode={other}"),
            ));
        }
    }
    let lines = form
        .array("line_items")?
        .ok_or_else(|| StripeError::missing("line_items"))?;
    if lines.len() > MAX_LINE_ITEMS {
        return Err(StripeError::invalid(
            Some("line_items"),
            format!("A Checkout Session takes at most {MAX_LINE_ITEMS} line items"),
        ));
    }
    let mut currency: Option<String> = None;
    let mut total: i64 = 0;
    for line in &lines {
        let (line_currency, amount) = line_amount(line)?;
        if currency.as_ref().is_some_and(|c| *c != line_currency) {
            return Err(StripeError::invalid(
                Some(&line.name_of("price_data")),
                "All line items of a Checkout Session must have the same currency",
            ));
        }
        currency = Some(line_currency);
        total = total.saturating_add(amount);
    }
    let currency = currency.expect("at least one line");
    if currency == "usd" && total < MIN_USD_TOTAL {
        return Err(StripeError::invalid(
            Some("line_items"),
            "The Checkout Session's total amount due must add up to at least $0.50 usd",
        )
        .code("amount_too_small"));
    }
    if currency == "usd" && total > MAX_USD_TOTAL {
        return Err(StripeError::invalid(
            Some("line_items"),
            "The Checkout Session's total amount due must be no more than $999,999.99 usd",
        )
        .code("amount_too_large"));
    }
    let expires_at = match form.integer("expires_at")? {
        None => now + MAX_LIFETIME_SECS,
        Some(at) if at < now + MIN_LIFETIME_SECS => {
            return Err(StripeError::invalid(
                Some("expires_at"),
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session \
                 creation.",
            ));
        }
        Some(at) if at > now + MAX_LIFETIME_SECS => {
            return Err(StripeError::invalid(
                Some("expires_at"),
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session \
                 creation.",
            ));
        }
        Some(at) => at,
    };
    let client_reference_id = form.string("client_reference_id")?;
    if client_reference_id.is_some_and(|id| id.chars().count() > 200) {
        return Err(StripeError::invalid(
            Some("client_reference_id"),
            "client_reference_id must be at most 200 characters",
        ));
    }
    let success_url = url(form, "success_url")?;
    let cancel_url = url(form, "cancel_url")?;
    Ok(json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "created": now,
        "currency": currency,
        "customer": null,
        "expires_at": expires_at,
        "livemode": false,
        "metadata": metadata(form)?,
        "mode": "payment",
        "payment_intent": null,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "success_url": success_url,
        "ui_mode": "hosted",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    }))
}

/// A line's currency and amount (unit amount × quantity), from inline `price_data`.
fn line_amount(line: &Hash) -> Result<(String, i64), StripeError> {
    line.only(LINE_PARAMS)?;
    if let Some(price) = line.string("price")? {
        return Err(StripeError::no_such("price", price, &line.name_of("price")));
    }
    let price = line
        .hash("price_data")?
        .ok_or_else(|| StripeError::missing(&line.name_of("price_data")))?;
    price.only(PRICE_DATA_PARAMS)?;
    let currency = price.required("currency")?.to_ascii_lowercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(StripeError::invalid(
            Some(&price.name_of("currency")),
            format!("Invalid currency: {currency}"),
        ));
    }
    if let Some(product) = price.string("product")? {
        return Err(StripeError::no_such(
            "product",
            product,
            &price.name_of("product"),
        ));
    }
    let product = price
        .hash("product_data")?
        .ok_or_else(|| StripeError::missing(&price.name_of("product_data")))?;
    product.only(PRODUCT_DATA_PARAMS)?;
    product.required("name")?;
    if price.string("unit_amount_decimal")?.is_some() {
        return Err(StripeError::invalid(
            Some(&price.name_of("unit_amount_decimal")),
            "The fake Stripe takes integer unit_amount only",
        ));
    }
    let unit_amount = price.required_integer("unit_amount")?;
    at_least(&price, "unit_amount", unit_amount, 0)?;
    let quantity = line.required_integer("quantity")?;
    at_least(line, "quantity", quantity, 1)?;
    Ok((currency, unit_amount.saturating_mul(quantity)))
}

fn at_least(hash: &Hash, key: &str, value: i64, min: i64) -> Result<(), StripeError> {
    if value < min {
        return Err(StripeError::invalid(
            Some(&hash.name_of(key)),
            format!("This value must be greater than or equal to {min}."),
        ));
    }
    Ok(())
}

/// An absolute `http(s)` URL, if given.
fn url<'a>(form: &Hash<'a>, key: &str) -> Result<Option<&'a str>, StripeError> {
    match form.string(key)? {
        Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
            Err(StripeError::invalid(Some(key), "Not a valid URL").code("url_invalid"))
        }
        url => Ok(url),
    }
}

/// `metadata` as Stripe stores it: string values, at most 50 keys of up to 40 characters,
/// values up to 500 characters.
fn metadata(form: &Hash) -> Result<Value, StripeError> {
    let Some(hash) = form.hash("metadata")? else {
        return Ok(json!({}));
    };
    let entries = hash.strings()?;
    if entries.len() > 50 {
        return Err(StripeError::invalid(
            Some("metadata"),
            "metadata takes at most 50 keys",
        ));
    }
    let mut map = Map::new();
    for (key, value) in entries {
        if key.chars().count() > 40 || value.chars().count() > 500 {
            return Err(StripeError::invalid(
                Some(&hash.name_of(key)),
                "metadata keys are at most 40 characters and values at most 500",
            ));
        }
        map.insert(key.to_owned(), json!(value));
    }
    Ok(Value::Object(map))
}

/// Expires an open session; Stripe refuses any other status.
pub fn expire(session: &mut Value, form: &Hash) -> Result<(), StripeError> {
    form.only(&["expand"])?;
    match session["status"].as_str() {
        Some("open") => {
            session["status"] = json!("expired");
            session["url"] = Value::Null;
            Ok(())
        }
        status => Err(StripeError::invalid(
            None,
            format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This \
                 Checkout Session has a status of `{}`.",
                status.unwrap_or("unknown")
            ),
        )),
    }
}

/// The PaymentIntent behind a completed session: what was charged and what is refunded.
#[derive(Debug, Clone)]
pub struct Payment {
    pub charge: String,
    pub amount: i64,
    pub currency: String,
    /// The money arrived (`payment_status = paid`): only then is there anything to refund.
    pub succeeded: bool,
    pub refunded: i64,
}

/// A succeeded refund `id` of (part of) a payment: never more than is left unrefunded.
pub fn new_refund(
    form: &Hash,
    payments: &mut std::collections::HashMap<String, Payment>,
    id: &str,
    now: i64,
) -> Result<Value, StripeError> {
    form.only(REFUND_PARAMS)?;
    if let Some(charge) = form.string("charge")? {
        return Err(StripeError::no_such("charge", charge, "charge"));
    }
    let intent = form.string("payment_intent")?.ok_or_else(|| {
        StripeError::invalid(
            None,
            "One of the following params should be provided for this request: payment_intent \
             or charge.",
        )
    })?;
    let payment = payments
        .get_mut(intent)
        .ok_or_else(|| StripeError::no_such("payment_intent", intent, "payment_intent"))?;
    if !payment.succeeded {
        return Err(StripeError::invalid(
            Some("payment_intent"),
            format!("This PaymentIntent ({intent}) does not have a successful charge to refund."),
        ));
    }
    let left = payment.amount - payment.refunded;
    if left == 0 {
        return Err(StripeError::invalid(
            None,
            format!("Charge {} has already been refunded.", payment.charge),
        )
        .code("charge_already_refunded"));
    }
    let amount = form.integer("amount")?.unwrap_or(left);
    at_least(form, "amount", amount, 1)?;
    if amount > left {
        return Err(StripeError::invalid(
            Some("amount"),
            format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            ),
        )
        .code("amount_too_large"));
    }
    let reason = form.string("reason")?;
    if let Some(reason) = reason
        && !["duplicate", "fraudulent", "requested_by_customer"].contains(&reason)
    {
        return Err(StripeError::invalid(
            Some("reason"),
            format!(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer (got {reason})"
            ),
        ));
    }
    let metadata = metadata(form)?;
    payment.refunded += amount;
    Ok(json!({
        "id": id,
        "object": "refund",
        "amount": amount,
        "charge": payment.charge,
        "created": now,
        "currency": payment.currency,
        "metadata": metadata,
        "payment_intent": intent,
        "reason": reason,
        "status": "succeeded",
    }))
}
