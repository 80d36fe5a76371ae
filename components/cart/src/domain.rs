//! The cart as the domain sees it: validated request bodies (wire parsed here, once, into
//! types that cannot hold a bad value), the products a cart shows, the rules for buying one,
//! and the CartItem JSON. No spin-sdk here.

use crate::errors::CartError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use timestamp::Timestamp;

/// Most different products in one cart: a cart read is then one batch request to products
/// (whose batch lookup takes 1–100 ids).
pub const MAX_ITEMS: usize = 100;

/// Units of one product on a cart line: 1 to the most stock a product can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Quantity(u32);

/// Why a number is not a [`Quantity`]; worded to follow the field name (`quantity must ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("must be at least 1")]
    TooSmall,
    #[error("must be at most {}", Quantity::MAX)]
    TooLarge,
}

impl Quantity {
    /// The catalog's largest stock: more can never be available.
    pub const MAX: u32 = 1_000_000;

    pub fn parse(n: i64) -> Result<Self, QuantityError> {
        if n < 1 {
            Err(QuantityError::TooSmall)
        } else if n > i64::from(Self::MAX) {
            Err(QuantityError::TooLarge)
        } else {
            Ok(Self(n as u32))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;
    fn try_from(n: i64) -> Result<Self, QuantityError> {
        Self::parse(n)
    }
}

/// A product id as a client sends it: 1–128 characters, none of them control characters.
/// (Whether such a product exists is the catalog's answer.)
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProductId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be between 1 and {} characters without control characters",
    ProductId::MAX_CHARS
)]
pub struct ProductIdError;

impl ProductId {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(id: String) -> Result<Self, ProductIdError> {
        let len = id.chars().count();
        if (1..=Self::MAX_CHARS).contains(&len) && !id.chars().any(char::is_control) {
            Ok(Self(id))
        } else {
            Err(ProductIdError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProductId {
    type Error = ProductIdError;
    fn try_from(id: String) -> Result<Self, ProductIdError> {
        Self::parse(id)
    }
}

/// `POST /cart-items` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddBody {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// `PATCH /cart-items/:id` body. The storefront always sends `productId`; it cannot re-point
/// an item (see [`PatchBody::quantity_for`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchBody {
    pub quantity: Quantity,
    pub product_id: Option<ProductId>,
}

impl PatchBody {
    /// The new quantity for `item`, if the body names no other product.
    pub fn quantity_for(&self, item: &CartItem) -> Result<Quantity, CartError> {
        match &self.product_id {
            Some(id) if id.as_str() != item.product_id => Err(CartError::invalid(
                "productId",
                &format!(
                    "must be the cart item's product ({}); remove the item and add the other product instead",
                    item.product_id
                ),
            )),
            _ => Ok(self.quantity),
        }
    }
}

/// A stored cart line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartItem {
    pub id: String,
    pub user_id: String,
    pub product_id: String,
    pub quantity: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CartItem {
    /// The CartItem JSON, with the product as the catalog shows it now.
    pub fn view<'a>(&'a self, product: &'a CatalogProduct) -> CartItemView<'a> {
        CartItemView {
            id: &self.id,
            product_id: &self.product_id,
            quantity: self.quantity,
            product: &product.json,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// CartItem JSON (`api-contract.md` §4).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItemView<'a> {
    id: &'a str,
    product_id: &'a str,
    quantity: u32,
    product: &'a Value,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// A product as the products component answers it: its JSON, passed on to the client
/// unchanged, and the fields the cart's rules read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogProduct {
    pub id: String,
    /// `quantity` in the Product JSON: on hand minus active reservations.
    pub available: i64,
    /// `adminId`: the seller.
    pub seller_id: String,
    /// Owned by the ANONYMOUS user (the catalog says so): kept only for the orders that
    /// reference it, not for sale.
    pub retired: bool,
    json: Value,
}

impl TryFrom<Value> for CatalogProduct {
    /// What is wrong with the answer (a fault of the products component, never the client's).
    type Error = String;

    fn try_from(json: Value) -> Result<Self, String> {
        let text = |name: &str| {
            json[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("a product without a string {name}"))
        };
        Ok(Self {
            id: text("id")?,
            available: json["quantity"]
                .as_i64()
                .ok_or("a product without an integer quantity")?,
            seller_id: text("adminId")?,
            retired: false,
            json,
        })
    }
}

/// Who sells a product, relative to the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seller {
    /// The buyer themself.
    Buyer,
    /// The ANONYMOUS system user: the product is kept only for orders that reference it.
    Anonymous,
    /// Anyone else.
    Other,
}

impl CatalogProduct {
    /// Who sells it, relative to `buyer`.
    pub fn seller(&self, buyer: &str) -> Seller {
        if self.seller_id == buyer {
            Seller::Buyer
        } else if self.retired {
            Seller::Anonymous
        } else {
            Seller::Other
        }
    }

    /// Whether a cart may hold `quantity` units of this product: not the buyer's own, not an
    /// ANONYMOUS-owned one, and no more than the available stock (so never when it is 0).
    pub fn check_purchase(&self, seller: Seller, quantity: Quantity) -> Result<(), CartError> {
        match seller {
            Seller::Buyer => Err(CartError::OwnProduct(self.id.clone())),
            Seller::Anonymous => Err(CartError::NotForSale(self.id.clone())),
            Seller::Other if i64::from(quantity.get()) > self.available => {
                Err(CartError::InsufficientStock(self.id.clone()))
            }
            Seller::Other => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn product(available: i64) -> CatalogProduct {
        CatalogProduct::try_from(json!({
            "id": "p1", "name": "Mug", "quantity": available, "adminId": "seller", "price": 2.5
        }))
        .unwrap()
    }

    #[test]
    fn the_seller_is_the_buyer_the_anonymous_user_or_someone_else() {
        let mut mug = product(3);
        assert_eq!(mug.seller("seller"), Seller::Buyer);
        assert_eq!(mug.seller("buyer"), Seller::Other);
        mug.retired = true;
        assert_eq!(mug.seller("buyer"), Seller::Anonymous);
        assert_eq!(
            mug.seller("seller"),
            Seller::Buyer,
            "a seller's own stays their own"
        );
    }

    fn q(n: i64) -> Quantity {
        Quantity::parse(n).unwrap()
    }

    #[test]
    fn quantity_is_between_one_and_the_largest_stock() {
        assert_eq!(q(1).get(), 1);
        assert_eq!(q(1_000_000).get(), 1_000_000);
        assert_eq!(Quantity::parse(0), Err(QuantityError::TooSmall));
        assert_eq!(Quantity::parse(-3), Err(QuantityError::TooSmall));
        assert_eq!(Quantity::parse(1_000_001), Err(QuantityError::TooLarge));
    }

    #[test]
    fn product_ids_are_short_plain_text() {
        assert!(ProductId::parse("0193b2f4-6a1c-7c3e-9d2b-5f0e4a1b2c3d".into()).is_ok());
        assert!(ProductId::parse(String::new()).is_err());
        assert!(ProductId::parse("a\nb".into()).is_err());
        assert!(ProductId::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn bodies_name_the_bad_field_in_the_api_wording() {
        let err = http_kit::parse_json::<AddBody>(br#"{"productId":"p","quantity":0}"#);
        assert_eq!(err.unwrap_err().to_string(), "quantity must be at least 1");
        let err = http_kit::parse_json::<AddBody>(br#"{"productId":"p","quantity":1.5}"#);
        assert_eq!(err.unwrap_err().to_string(), "quantity must be an integer");
        let err = http_kit::parse_json::<AddBody>(br#"{"productId":"","quantity":1}"#);
        assert!(
            err.unwrap_err()
                .to_string()
                .starts_with("productId must be")
        );
        let err = http_kit::parse_json::<AddBody>(br#"{"productId":"p","quantity":1,"x":1}"#);
        assert_eq!(err.unwrap_err().to_string(), "property x should not exist");
    }

    #[test]
    fn a_patch_may_repeat_the_items_product_but_not_name_another() {
        let item = CartItem {
            id: "i1".into(),
            user_id: "u".into(),
            product_id: "p1".into(),
            quantity: 1,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        let same: PatchBody = http_kit::parse_json(br#"{"productId":"p1","quantity":3}"#).unwrap();
        assert_eq!(same.quantity_for(&item).unwrap(), q(3));
        let none: PatchBody = http_kit::parse_json(br#"{"quantity":2}"#).unwrap();
        assert_eq!(none.quantity_for(&item).unwrap(), q(2));
        let other: PatchBody = http_kit::parse_json(br#"{"productId":"p2","quantity":3}"#).unwrap();
        assert!(matches!(
            other.quantity_for(&item),
            Err(CartError::Invalid(_))
        ));
    }

    #[test]
    fn a_buyer_may_take_up_to_the_available_stock() {
        assert!(product(3).check_purchase(Seller::Other, q(3)).is_ok());
        assert!(matches!(
            product(3).check_purchase(Seller::Other, q(4)),
            Err(CartError::InsufficientStock(id)) if id == "p1"
        ));
    }

    #[test]
    fn nothing_can_be_bought_when_the_stock_is_zero() {
        assert!(matches!(
            product(0).check_purchase(Seller::Other, q(1)),
            Err(CartError::InsufficientStock(_))
        ));
    }

    #[test]
    fn own_and_anonymous_owned_products_are_not_for_sale() {
        assert!(matches!(
            product(5).check_purchase(Seller::Buyer, q(1)),
            Err(CartError::OwnProduct(_))
        ));
        assert!(matches!(
            product(5).check_purchase(Seller::Anonymous, q(1)),
            Err(CartError::NotForSale(_))
        ));
    }

    #[test]
    fn a_catalog_answer_without_the_rule_fields_is_refused() {
        assert!(CatalogProduct::try_from(json!({ "id": "p", "quantity": 1 })).is_err());
        assert!(CatalogProduct::try_from(json!({ "id": "p", "adminId": "s" })).is_err());
    }

    #[test]
    fn the_item_json_carries_the_product_unchanged() {
        let p = product(4);
        let item = CartItem {
            id: "i1".into(),
            user_id: "u".into(),
            product_id: "p1".into(),
            quantity: 2,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(1),
        };
        let view = serde_json::to_value(item.view(&p)).unwrap();
        assert_eq!(
            view,
            json!({
                "id": "i1", "productId": "p1", "quantity": 2,
                "product": { "id": "p1", "name": "Mug", "quantity": 4, "adminId": "seller", "price": 2.5 },
                "createdAt": "1970-01-01T00:00:00.000Z", "updatedAt": "1970-01-01T00:00:00.001Z"
            })
        );
    }
}
