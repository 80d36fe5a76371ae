//! What the bench checks before (and after) measuring, on the JSON the app answers: a cart read
//! is only worth timing if it is the real thing — every line of the cart, each with its product
//! exactly as `GET /api/v1/products/{id}` shows it (which the cart gets from products' batch
//! lookup, through the one chained call).

use anyhow::{Context as _, bail, ensure};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// The product fields the storefront renders from a cart line (`api-contract.md` §4).
const PRODUCT_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "price",
    "quantity",
    "imageUrls",
];

/// `body` (a `GET /api/v1/cart-items` answer) lists exactly the products `expected` (by id, each
/// as `GET /api/v1/products/{id}` shows it), once each, with a positive quantity.
pub fn cart(body: &Value, expected: &HashMap<String, Value>) -> anyhow::Result<()> {
    let lines = body.as_array().context("a cart read answers an array")?;
    ensure!(
        lines.len() == expected.len(),
        "the cart lists {} items, expected {}",
        lines.len(),
        expected.len()
    );
    let mut seen = BTreeSet::new();
    for line in lines {
        let id = line["productId"]
            .as_str()
            .with_context(|| format!("a cart line without productId: {line}"))?;
        ensure!(seen.insert(id), "product {id} is listed twice");
        ensure!(
            line["id"].is_string()
                && line["createdAt"].is_string()
                && line["updatedAt"].is_string(),
            "a cart line without id, createdAt or updatedAt: {line}"
        );
        ensure!(
            line["quantity"].as_u64().is_some_and(|q| q > 0),
            "a cart line without a positive quantity: {line}"
        );
        let product = &line["product"];
        for field in PRODUCT_FIELDS {
            ensure!(
                !product[field].is_null(),
                "the nested product of {id} has no {field}: {line}"
            );
        }
        let Some(shown) = expected.get(id) else {
            bail!("the cart lists product {id}, which was not added");
        };
        ensure!(
            product == shown,
            "the nested product of {id} is not the product as GET /api/v1/products/{id} shows \
             it:\n  cart:    {product}\n  product: {shown}"
        );
    }
    Ok(())
}

/// `body` (a `GET /api/v1/products?page=1&limit=20` answer) is a full first page of a
/// catalogue of `total` products.
pub fn first_page(body: &Value, limit: usize, total: usize) -> anyhow::Result<()> {
    let listed = body["products"].as_array().map_or(0, Vec::len);
    ensure!(
        listed == limit.min(total) && body["meta"]["total"].as_u64() == Some(total as u64),
        "page 1 lists {listed} products of total {}, expected {} of {total}",
        body["meta"]["total"],
        limit.min(total)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product(id: &str) -> Value {
        json!({
            "id": id, "name": "Mug", "description": "Blue", "price": 12.5, "quantity": 40,
            "imageUrls": ["https://cdn.example.com/mug.png"], "admin": { "id": "s", "name": "S" }
        })
    }

    fn line(id: &str, product: Value) -> Value {
        json!({
            "id": format!("line-{id}"), "productId": id, "quantity": 2, "product": product,
            "createdAt": "2026-05-01T12:00:00.000Z", "updatedAt": "2026-05-01T12:00:00.000Z"
        })
    }

    fn expected(ids: &[&str]) -> HashMap<String, Value> {
        ids.iter().map(|id| (id.to_string(), product(id))).collect()
    }

    #[test]
    fn a_cart_with_every_product_as_shown_passes() {
        let body = json!([line("b", product("b")), line("a", product("a"))]);
        cart(&body, &expected(&["a", "b"])).unwrap();
        cart(&json!([]), &expected(&[])).unwrap();
    }

    #[test]
    fn a_missing_extra_or_repeated_line_fails() {
        let one = json!([line("a", product("a"))]);
        assert!(cart(&one, &expected(&["a", "b"])).is_err());
        let twice = json!([line("a", product("a")), line("a", product("a"))]);
        assert!(cart(&twice, &expected(&["a", "b"])).is_err());
        let other = json!([line("a", product("a")), line("c", product("c"))]);
        assert!(cart(&other, &expected(&["a", "b"])).is_err());
        assert!(cart(&json!({ "message": "x" }), &expected(&[])).is_err());
    }

    #[test]
    fn a_line_without_its_product_or_with_another_version_of_it_fails() {
        let mut stale = product("a");
        stale["price"] = json!(10);
        assert!(cart(&json!([line("a", stale)]), &expected(&["a"])).is_err());
        let mut partial = product("a");
        partial.as_object_mut().unwrap().remove("imageUrls");
        assert!(cart(&json!([line("a", partial)]), &expected(&["a"])).is_err());
        assert!(cart(&json!([line("a", Value::Null)]), &expected(&["a"])).is_err());
        let mut unquantified = line("a", product("a"));
        unquantified["quantity"] = json!(0);
        assert!(cart(&json!([unquantified]), &expected(&["a"])).is_err());
    }

    #[test]
    fn the_first_page_is_full_and_counts_the_catalogue() {
        let page = |n: usize, total: u64| json!({ "products": vec![json!({}); n], "meta": { "total": total } });
        first_page(&page(20, 59), 20, 59).unwrap();
        first_page(&page(5, 5), 20, 5).unwrap();
        assert!(first_page(&page(19, 59), 20, 59).is_err());
        assert!(first_page(&page(20, 58), 20, 59).is_err());
    }
}
