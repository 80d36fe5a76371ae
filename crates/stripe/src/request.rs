//! The shape every Stripe call here shares: `POST {stripe_api_base}{path}` with a form body,
//! `Authorization: Bearer <secret key>` and, where a retry must not act twice, an
//! `Idempotency-Key`. The component adds the base URL and the key; this crate supplies the rest.

/// The `Content-Type` of every request body built here: Stripe's API takes forms, not JSON.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// One Stripe API call, ready to send as `POST {stripe_api_base}{path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRequest {
    /// The path after the API base, with `/v1`: `/v1/checkout/sessions`.
    pub path: String,
    /// The `Idempotency-Key` header to send, when repeating the call must not act twice.
    /// Stripe replays the first answer for 24 h for the same key and parameters.
    pub idempotency_key: Option<String>,
    /// The form fields, in order; Stripe's nested parameters use bracket keys
    /// (`line_items[0][quantity]`).
    pub form: Vec<(String, String)>,
}

impl FormRequest {
    /// The body to send with [`FORM_CONTENT_TYPE`] (empty for a call without parameters).
    pub fn body(&self) -> String {
        form_body(&self.form)
    }
}

/// `application/x-www-form-urlencoded` text of `pairs`, in order. Everything outside
/// `A-Z a-z 0-9 * - . _` is percent-encoded, brackets included (`line_items%5B0%5D...`) and
/// spaces as `+`: the standard serializer, as Stripe's Go and Python libraries send it. Stripe
/// also accepts literal brackets (its Node library and `curl -d` examples send them); the
/// encoded form is chosen because any form parser, the test suite's fake Stripe included,
/// reads it back to the same pairs.
pub fn form_body(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `segment` safe to put between two `/` of a path: Stripe's ids are letters, digits and `_`,
/// so this changes nothing for them, but an id that is not one (`..`, `a/b`, `x?y`) cannot
/// reach another route.
pub(crate) fn path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn brackets_and_reserved_characters_are_percent_encoded() {
        let form = pairs(&[
            ("line_items[0][quantity]", "2"),
            ("success_url", "https://shop.example/checkout?success=true"),
            (
                "line_items[0][price_data][product_data][name]",
                "Mug & Saucer 50%",
            ),
        ]);
        assert_eq!(
            form_body(&form),
            "line_items%5B0%5D%5Bquantity%5D=2\
             &success_url=https%3A%2F%2Fshop.example%2Fcheckout%3Fsuccess%3Dtrue\
             &line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Mug+%26+Saucer+50%25"
        );
    }

    #[test]
    fn a_form_parser_reads_the_body_back_to_the_same_pairs() {
        let form = pairs(&[
            ("metadata[userId]", "user 1/2+3"),
            (
                "line_items[0][price_data][product_data][name]",
                "Café ☕ \"Deluxe\"=",
            ),
        ]);
        let read: Vec<(String, String)> = form_urlencoded::parse(form_body(&form).as_bytes())
            .into_owned()
            .collect();
        assert_eq!(read, form);
    }

    #[test]
    fn no_parameters_is_an_empty_body() {
        assert_eq!(form_body(&[]), "");
    }

    #[test]
    fn path_segments_keep_ids_and_encode_the_rest() {
        assert_eq!(path_segment("cs_test_a1B2c3"), "cs_test_a1B2c3");
        assert_eq!(path_segment("../v1/refunds?x"), "%2E%2E%2Fv1%2Frefunds%3Fx");
    }
}
