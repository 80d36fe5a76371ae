//! Products as the domain sees them: validated new products and changes (wire bodies are
//! parsed here, once), list filters, and the JSON view. No spin-sdk here.

pub mod reservation;

use crate::errors::ProductError;
use http_kit::FieldError;
use money::Money;
use serde::{Deserialize, Serialize};
use timestamp::Timestamp;

/// The listing fee, in percent of price × quantity (of the increase on update).
pub const FEE_PERCENT: u32 = 4;
/// Most expensive price accepted: 999,999.99 dollars.
pub const MAX_PRICE: Money = Money::from_cents(99_999_999);
/// Largest stock accepted.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Most images per product.
pub const MAX_IMAGES: usize = 10;

/// A stored product.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// Units on hand (sold units taken off).
    pub quantity: i64,
    /// Units on hand minus active (held, unexpired) reservations: what the API shows.
    pub available: i64,
    pub image_urls: Vec<String>,
    pub admin_id: String,
    pub order_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Product {
    /// The stock's value, price × quantity (both bounded, so no overflow).
    pub fn value(&self) -> Money {
        Money::from_cents(self.price.cents() * self.quantity)
    }

    /// The product's JSON, with the seller's display name.
    pub fn view(&self, admin_name: &str) -> ProductView<'_> {
        ProductView {
            id: &self.id,
            name: &self.name,
            description: &self.description,
            price: self.price,
            quantity: self.available,
            image_urls: &self.image_urls,
            admin_id: &self.admin_id,
            admin: AdminView {
                id: &self.admin_id,
                name: admin_name.to_owned(),
            },
            order_count: self.order_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Product JSON (`api-contract.md` §3).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    price: Money,
    quantity: i64,
    image_urls: &'a [String],
    admin_id: &'a str,
    admin: AdminView<'a>,
    order_count: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// `admin: {id, name}`.
#[derive(Debug, Serialize)]
pub struct AdminView<'a> {
    id: &'a str,
    name: String,
}

/// `POST /products` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    name: String,
    description: String,
    price: Money,
    quantity: i64,
    #[serde(default)]
    image_urls: Vec<String>,
}

/// `PATCH /products/:id` body: any subset of the create fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchBody {
    name: Option<String>,
    description: Option<String>,
    price: Option<Money>,
    quantity: Option<i64>,
    image_urls: Option<Vec<String>>,
}

/// The fields a seller sets, all validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFields {
    pub name: String,
    pub description: String,
    pub price: Money,
    pub quantity: i64,
    pub image_urls: Vec<String>,
}

impl ProductFields {
    /// price × quantity.
    pub fn value(&self) -> Money {
        Money::from_cents(self.price.cents() * self.quantity)
    }
}

impl TryFrom<CreateBody> for ProductFields {
    type Error = ProductError;
    fn try_from(body: CreateBody) -> Result<Self, ProductError> {
        let fields = ProductFields {
            name: body.name.trim().to_owned(),
            description: body.description,
            price: body.price,
            quantity: body.quantity,
            image_urls: body.image_urls,
        };
        fields.validate(Description::Required)?;
        Ok(fields)
    }
}

/// Whether an empty description is refused (`api-contract.md` §3: 1–5000 characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Description {
    Required,
    /// A PATCH that does not set the description keeps the stored one, even empty: products
    /// created before descriptions were required stay editable.
    KeptAsStored,
}

impl ProductFields {
    /// The current fields of `product` with `patch` applied, validated.
    pub fn patched(product: &Product, patch: PatchBody) -> Result<Self, ProductError> {
        let description = if patch.description.is_some() {
            Description::Required
        } else {
            Description::KeptAsStored
        };
        let fields = ProductFields {
            name: patch
                .name
                .map(|n| n.trim().to_owned())
                .unwrap_or_else(|| product.name.clone()),
            description: patch
                .description
                .unwrap_or_else(|| product.description.clone()),
            price: patch.price.unwrap_or(product.price),
            quantity: patch.quantity.unwrap_or(product.quantity),
            image_urls: patch
                .image_urls
                .unwrap_or_else(|| product.image_urls.clone()),
        };
        fields.validate(description)?;
        Ok(fields)
    }

    fn validate(&self, description: Description) -> Result<(), ProductError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: &str| {
            errors.push(FieldError::new(field, format!("{field} {message}")));
        };
        let name_len = self.name.chars().count();
        if !(1..=200).contains(&name_len) {
            fail("name", "must be between 1 and 200 characters");
        }
        let description_len = self.description.chars().count();
        let min_description = match description {
            Description::Required => 1,
            Description::KeptAsStored => 0,
        };
        if !(min_description..=5000).contains(&description_len) {
            fail("description", "must be between 1 and 5000 characters");
        }
        if self.price < Money::ZERO {
            fail("price", "must be at least 0");
        } else if self.price > MAX_PRICE {
            fail("price", "must be at most 999999.99");
        }
        if self.quantity < 0 {
            fail("quantity", "must be at least 0");
        } else if self.quantity > MAX_QUANTITY {
            fail("quantity", "must be at most 1000000");
        }
        if self.image_urls.len() > MAX_IMAGES {
            fail("imageUrls", "must contain at most 10 URLs");
        }
        for (i, url) in self.image_urls.iter().enumerate() {
            if !is_http_url(url) {
                fail(&format!("imageUrls[{i}]"), "must be an http(s) URL");
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ProductError::Invalid(errors))
        }
    }
}

/// `http://host...` or `https://host...` with a non-empty host and no whitespace.
pub fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let hostname = host.split(':').next().unwrap_or_default();
    url.len() <= 2048
        && !hostname.is_empty()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && hostname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']'))
}

/// The fee for going from `old` to `new` stock value: 4% of the increase, nothing otherwise.
pub fn fee_for_increase(old: Money, new: Money) -> Money {
    if new > old {
        Money::from_cents(new.cents() - old.cents()).percent(FEE_PERCENT)
    } else {
        Money::ZERO
    }
}

/// `GET /products` query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListQuery {
    name: Option<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    min_quantity: Option<i64>,
    max_quantity: Option<i64>,
    admin_id: Option<String>,
    sort_by: Option<SortBy>,
    order: Option<SortOrder>,
    page: Option<u32>,
    limit: Option<u32>,
}

/// What a list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortBy {
    Name,
    Price,
    Quantity,
    #[default]
    CreatedAt,
    UpdatedAt,
}

impl SortBy {
    /// The column (a fixed name, never user text).
    pub fn column(self) -> &'static str {
        match self {
            SortBy::Name => "name COLLATE NOCASE",
            SortBy::Price => "price",
            SortBy::Quantity => "quantity",
            SortBy::CreatedAt => "created_at",
            SortBy::UpdatedAt => "updated_at",
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl SortOrder {
    /// `ASC` or `DESC`.
    pub fn sql(self) -> &'static str {
        match self {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        }
    }
}

/// A page request: with it the answer is `{products, meta}`, without it a plain array (the
/// paging every list shares, from `http-kit`).
pub use http_kit::{PageMeta, PageRequest};

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListFilter {
    pub name: Option<String>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub min_quantity: Option<i64>,
    pub max_quantity: Option<i64>,
    pub admin_id: Option<String>,
    pub sort_by: SortBy,
    pub order: SortOrder,
    pub page: Option<PageRequest>,
}

fn money_param(field: &str, text: Option<String>) -> Result<Option<Money>, ProductError> {
    text.map(|t| {
        Money::parse_dollars(t.trim()).map_err(|e| ProductError::invalid(field, &e.to_string()))
    })
    .transpose()
}

impl TryFrom<ListQuery> for ListFilter {
    type Error = ProductError;
    fn try_from(q: ListQuery) -> Result<Self, ProductError> {
        let min_price = money_param("minPrice", q.min_price)?;
        let max_price = money_param("maxPrice", q.max_price)?;
        if min_price.is_some_and(|m| m < Money::ZERO) {
            return Err(ProductError::invalid("minPrice", "must be at least 0"));
        }
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err(ProductError::invalid(
                "minPrice",
                "must not be greater than maxPrice",
            ));
        }
        if q.min_quantity.is_some_and(|m| m < 0) {
            return Err(ProductError::invalid("minQuantity", "must be at least 0"));
        }
        if let (Some(min), Some(max)) = (q.min_quantity, q.max_quantity)
            && min > max
        {
            return Err(ProductError::invalid(
                "minQuantity",
                "must not be greater than maxQuantity",
            ));
        }
        let page = PageRequest::from_query(q.page, q.limit)?;
        Ok(ListFilter {
            name: q.name.filter(|n| !n.is_empty()),
            min_price,
            max_price,
            min_quantity: q.min_quantity,
            max_quantity: q.max_quantity,
            admin_id: q.admin_id,
            sort_by: q.sort_by.unwrap_or_default(),
            order: q.order.unwrap_or_default(),
            page,
        })
    }
}

/// Fewest and most items of one bulk request.
pub const BULK_RANGE: std::ops::RangeInclusive<usize> = 1..=100;

/// `POST /products/bulk` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkCreateBody {
    pub products: Vec<CreateBody>,
}

/// One item of `PATCH /products/bulk`: an id and any subset of the create fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BulkPatch {
    pub id: String,
    name: Option<String>,
    description: Option<String>,
    price: Option<Money>,
    quantity: Option<i64>,
    image_urls: Option<Vec<String>>,
}

impl BulkPatch {
    /// The change as a single PATCH would carry it.
    pub fn patch(self) -> PatchBody {
        PatchBody {
            name: self.name,
            description: self.description,
            price: self.price,
            quantity: self.quantity,
            image_urls: self.image_urls,
        }
    }
}

/// `PATCH /products/bulk` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdateBody {
    pub updates: Vec<BulkPatch>,
}

/// `{ids}`: the body of `POST /products/bulk-delete` and of the private batch lookup.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdsBody {
    pub ids: Vec<String>,
}

/// Checks a bulk request's size and, for ids, that none repeats.
pub fn check_bulk<'a>(
    field: &str,
    len: usize,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), ProductError> {
    if !BULK_RANGE.contains(&len) {
        return Err(ProductError::invalid(
            field,
            "must contain between 1 and 100 items",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(ProductError::invalid(
                field,
                &format!("must not repeat the id {id}"),
            ));
        }
    }
    Ok(())
}

/// Names an item's invalid fields by their place in the bulk body (`products[2].price`).
pub fn in_item(prefix: &str, index: usize, err: ProductError) -> ProductError {
    match err {
        ProductError::Invalid(errors) => ProductError::Invalid(
            errors
                .into_iter()
                .map(|e| {
                    let field = format!("{prefix}[{index}].{}", e.field);
                    FieldError::new(field.clone(), format!("{prefix}[{index}].{}", e.message))
                })
                .collect(),
        ),
        other => other,
    }
}

/// The lines of a stock reservation: one per product (repeats summed), each at least 1 unit,
/// 1–100 products, in a canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationLines(std::collections::BTreeMap<String, u32>);

impl ReservationLines {
    /// Validates `(product id, quantity)` pairs.
    pub fn parse(lines: impl IntoIterator<Item = (String, u32)>) -> Result<Self, String> {
        let mut map = std::collections::BTreeMap::new();
        for (product_id, quantity) in lines {
            if quantity == 0 {
                return Err(format!("line for {product_id} has quantity 0"));
            }
            let total: &mut u32 = map.entry(product_id).or_default();
            *total = total
                .checked_add(quantity)
                .ok_or_else(|| "quantity overflows".to_owned())?;
        }
        if !BULK_RANGE.contains(&map.len()) {
            return Err("a reservation has 1 to 100 products".into());
        }
        Ok(Self(map))
    }

    /// `(product id, quantity)` in product id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        self.0.iter().map(|(id, q)| (id.as_str(), *q))
    }

    /// The lines as canonical JSON (compared when a reservation id is reused).
    pub fn canonical(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_are_images() {
        assert!(is_http_url("https://cdn.example.com/a.png"));
        assert!(is_http_url("http://localhost:8080/x"));
        assert!(!is_http_url("ftp://example.com/a.png"));
        assert!(!is_http_url("not a url"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://exa mple.com/"));
    }

    #[test]
    fn the_fee_is_four_percent_of_the_increase_only() {
        let fee = fee_for_increase(Money::from_dollars(100), Money::from_dollars(150));
        assert_eq!(fee, Money::from_dollars(2));
        assert_eq!(
            fee_for_increase(Money::from_dollars(150), Money::from_dollars(100)),
            Money::ZERO
        );
    }

    fn query(text: &str) -> Result<ListFilter, ProductError> {
        let q: ListQuery = http_kit::parse_query(text).map_err(ProductError::Request)?;
        ListFilter::try_from(q)
    }

    fn create(body: serde_json::Value) -> Result<ProductFields, ProductError> {
        let body: CreateBody = serde_json::from_value(body)
            .map_err(|e| ProductError::invalid("body", &e.to_string()))?;
        ProductFields::try_from(body)
    }

    #[test]
    fn a_list_without_page_or_limit_is_unpaged_and_either_one_pages_it() {
        assert_eq!(query("").unwrap().page, None);
        assert_eq!(
            query("limit=5").unwrap().page,
            Some(PageRequest { page: 1, limit: 5 })
        );
        assert_eq!(
            query("page=3").unwrap().page,
            Some(PageRequest { page: 3, limit: 10 })
        );
    }

    #[test]
    fn limits_outside_1_to_100_are_refused() {
        assert!(query("limit=0").is_err());
        assert!(query("limit=101").is_err());
        assert!(query("limit=100").is_ok());
    }

    #[test]
    fn a_minimum_above_its_maximum_is_refused() {
        assert!(query("minPrice=10&maxPrice=9.99").is_err());
        assert!(query("minQuantity=2&maxQuantity=1").is_err());
        assert!(query("minPrice=10&maxPrice=10").is_ok());
    }

    #[test]
    fn eleven_images_are_refused_and_ten_accepted() {
        let urls = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| format!("https://cdn.example.com/{i}.png"))
                .collect()
        };
        let body = |n| serde_json::json!({ "name": "Mug", "description": "Blue", "price": 1, "quantity": 1, "imageUrls": urls(n) });
        assert!(create(body(10)).is_ok());
        assert!(create(body(11)).is_err());
    }

    #[test]
    fn a_description_is_1_to_5000_characters_on_create() {
        let body = |d: serde_json::Value| {
            let mut body = serde_json::json!({ "name": "Mug", "price": 1, "quantity": 1 });
            if !d.is_null() {
                body["description"] = d;
            }
            body
        };
        assert!(create(body(serde_json::Value::Null)).is_err());
        assert!(create(body("".into())).is_err());
        assert!(create(body("x".repeat(5001).into())).is_err());
        assert!(create(body("x".repeat(5000).into())).is_ok());
    }

    #[test]
    fn negative_and_too_precise_prices_are_refused() {
        assert!(create(serde_json::json!({ "name": "Mug", "description": "Blue", "price": -1, "quantity": 1 })).is_err());
        assert!(
            create(serde_json::json!({ "name": "Mug", "description": "Blue", "price": 1.001, "quantity": 1 })).is_err()
        );
    }

    #[test]
    fn reservation_lines_sum_repeats_and_refuse_zero_quantities() {
        let lines =
            ReservationLines::parse([("b".into(), 1), ("a".into(), 2), ("b".into(), 3)]).unwrap();
        assert_eq!(lines.iter().collect::<Vec<_>>(), vec![("a", 2), ("b", 4)]);
        assert!(ReservationLines::parse([("a".into(), 0)]).is_err());
        assert!(ReservationLines::parse(Vec::new()).is_err());
    }
}
