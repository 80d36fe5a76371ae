//! The catalog: sellers list, change and remove their products and pay the 4% listing fee;
//! anyone reads it, filtered, sorted and paged.

use crate::api::{SignedIn, TestUser, body};
use crate::helpers::{TestApp, spawn_app};
use serde_json::{Value, json};

/// A signed-up user upgraded to ADMIN (balance 3,840,000 afterwards).
pub async fn new_admin<'a>(app: &'a TestApp, name: &str) -> TestUser<'a> {
    let user = app.new_user(name).await;
    let res = user
        .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(res.status(), 200, "upgrade to ADMIN");
    user
}

pub async fn create(seller: &TestUser<'_>, product: Value) -> Value {
    let res = seller.post("/api/v1/products", product).await;
    assert_eq!(res.status(), 201, "create succeeds");
    body(res).await
}

fn mug() -> Value {
    json!({
        "name": "Mug",
        "description": "A blue mug",
        "price": 12.5,
        "quantity": 40,
        "imageUrls": ["https://cdn.example.com/mug.png"]
    })
}

async fn public_list(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/products{query}")).await;
    assert_eq!(res.status(), 200, "GET /api/v1/products{query}");
    body(res).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|p| p["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_creates_updates_and_deletes_a_product_paying_the_fee() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;

    let product = create(&ada, mug()).await;
    assert_eq!(product["name"], "Mug");
    assert_eq!(product["description"], "A blue mug");
    assert_eq!(product["price"], 12.5);
    assert_eq!(product["quantity"], 40);
    assert_eq!(
        product["imageUrls"],
        json!(["https://cdn.example.com/mug.png"])
    );
    assert_eq!(product["adminId"], ada.id.as_str());
    assert_eq!(product["admin"], json!({ "id": ada.id, "name": "Ada" }));
    assert_eq!(product["orderCount"], 0);
    assert!(
        product["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    // 4% of 12.50 × 40 = 20.00
    let me = ada.me().await;
    assert_eq!(me["balance"], 3_839_980);
    assert_eq!(me["amountSpent"], 160_020);

    let id = product["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/products/{id}");
    let res = app.get(&path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, product, "anyone reads it without a token");

    // Only the price is sent; the fee uses the effective quantity: 4% of (15 − 12.5) × 40 = 4.
    let res = ada.patch(&path, json!({ "price": 15 })).await;
    assert_eq!(res.status(), 200);
    let updated = body(res).await;
    assert_eq!(updated["price"], 15);
    assert_eq!(updated["quantity"], 40);
    assert_eq!(ada.me().await["balance"], 3_839_976);

    // A decrease costs nothing.
    let res = ada.patch(&path, json!({ "quantity": 10 })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(ada.me().await["balance"], 3_839_976);

    let res = ada.delete(&path).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await["quantity"], 10, "the product as it was");
    let res = app.get(&path).await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        body(res).await["message"],
        format!("Product with id {id} not found")
    );
    assert_eq!(public_list(&app, "").await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_create_and_only_the_owner_changes_or_deletes() {
    let app = spawn_app().await;
    let shopper = app.new_user("Sam").await;
    let ada = new_admin(&app, "Ada").await;
    let bob = new_admin(&app, "Bob").await;

    let res = shopper.post("/api/v1/products", mug()).await;
    assert_eq!(res.status(), 403);
    let res = app.post_json("/api/v1/products", &mug()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(public_list(&app, "").await, json!([]));

    let product = create(&ada, mug()).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    let res = bob.patch(&path, json!({ "price": 1 })).await;
    assert_eq!(res.status(), 403);
    let res = bob.delete(&path).await;
    assert_eq!(res.status(), 403);
    let res = shopper.delete(&path).await;
    assert_eq!(res.status(), 403);
    assert_eq!(body(app.get(&path).await).await, product, "nothing changed");

    let res = ada
        .patch("/api/v1/products/no-such-product", json!({ "price": 1 }))
        .await;
    assert_eq!(res.status(), 404);
    let res = ada.delete("/api/v1/products/no-such-product").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_products_are_refused_and_nothing_is_stored_or_charged() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let with = |field: &str, value: Value| {
        let mut product = mug();
        product[field] = value;
        product
    };
    let eleven: Vec<String> = (0..11)
        .map(|i| format!("https://cdn.example.com/{i}.png"))
        .collect();
    let cases = [
        ("negative price", with("price", json!(-1))),
        ("3 decimals", with("price", json!(1.999))),
        ("price too high", with("price", json!(1_000_000))),
        ("negative quantity", with("quantity", json!(-1))),
        ("fractional quantity", with("quantity", json!(1.5))),
        ("empty name", with("name", json!(""))),
        ("11 images", with("imageUrls", json!(eleven))),
        ("non-URL image", with("imageUrls", json!(["not a url"]))),
        (
            "ftp image",
            with("imageUrls", json!(["ftp://example.com/a.png"])),
        ),
        ("unknown field", with("colour", json!("blue"))),
        ("missing price", {
            let mut p = mug();
            p.as_object_mut().expect("object").remove("price");
            p
        }),
    ];
    for (case, product) in cases {
        let res = ada.post("/api/v1/products", product).await;
        assert_eq!(res.status(), 400, "{case}");
        let error = body(res).await;
        assert_eq!(error["statusCode"], 400, "{case}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}"
        );
    }
    let res = ada
        .post("/api/v1/products", with("colour", json!("x")))
        .await;
    assert_eq!(
        body(res).await["message"],
        "property colour should not exist"
    );

    // A fee above the balance: 4% of 999,999.99 × 1,000,000 is far more than 3,840,000.
    let res = ada
        .post(
            "/api/v1/products",
            json!({ "name": "Gold", "description": "Made to last", "price": 999_999.99, "quantity": 1_000_000 }),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        body(res).await["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Insufficient balance")),
    );

    assert_eq!(public_list(&app, "").await, json!([]));
    assert_eq!(ada.me().await["balance"], 3_840_000, "no fee was charged");

    let product = create(&ada, mug()).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    let res = ada.patch(&path, json!({ "price": -5 })).await;
    assert_eq!(res.status(), 400);
    let res = ada.patch(&path, json!({ "adminId": "someone" })).await;
    assert_eq!(res.status(), 400);
    assert_eq!(body(app.get(&path).await).await, product);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_of_1_to_5000_characters_is_required_and_nothing_else_is_stored_or_charged() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let with_description = |description: Option<String>| {
        let mut product = mug();
        match description {
            Some(d) => product["description"] = json!(d),
            None => {
                product
                    .as_object_mut()
                    .expect("object")
                    .remove("description");
            }
        }
        product
    };
    let between = "description must be between 1 and 5000 characters";
    let cases = [
        ("missing", None, "description is required"),
        ("empty", Some(String::new()), between),
        ("5001 characters", Some("é".repeat(5001)), between),
    ];
    for (case, description, message) in cases {
        let res = ada
            .post("/api/v1/products", with_description(description.clone()))
            .await;
        assert_eq!(res.status(), 400, "{case}");
        let error = body(res).await;
        assert_eq!(error["message"], message, "{case}");
        assert_eq!(error["errors"][0]["field"], "description", "{case}");

        // In a batch, the bad item is named and nothing of the batch is created.
        let batch = json!({ "products": [mug(), with_description(description)] });
        let res = ada.post("/api/v1/products/bulk", batch).await;
        assert_eq!(res.status(), 400, "bulk, {case}");
        let error = body(res).await;
        assert_eq!(
            error["message"],
            format!("products[1].{message}"),
            "bulk, {case}"
        );
        assert_eq!(error["errors"][0]["field"], "products[1].description");
    }
    assert_eq!(public_list(&app, "").await, json!([]), "nothing stored");
    assert_eq!(ada.me().await["balance"], 3_840_000, "nothing charged");

    // The bounds themselves are accepted (5000 characters, not bytes).
    let longest = create(&ada, with_description(Some("é".repeat(5000)))).await;
    let one = create(&ada, with_description(Some("x".into()))).await;
    assert_eq!(
        longest["description"].as_str().map(|d| d.chars().count()),
        Some(5000)
    );

    // A PATCH may change the description within the same bounds, never empty it.
    let path = format!("/api/v1/products/{}", one["id"].as_str().expect("id"));
    let res = ada.patch(&path, json!({ "description": "" })).await;
    assert_eq!(res.status(), 400);
    assert_eq!(body(res).await["message"], between);
    assert_eq!(body(app.get(&path).await).await, one, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_filters_sorts_and_pages() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let bob = new_admin(&app, "Bob").await;
    let seed = [
        (&ada, "Blue Mug", 10.0, 5),
        (&ada, "Red mug", 25.5, 0),
        (&bob, "Teapot", 40.0, 12),
        (&bob, "Mug rack", 15.0, 3),
        (&ada, "Spoon", 2.25, 100),
    ];
    let mut id = Vec::new();
    for (seller, name, price, quantity) in seed {
        let product = create(
            seller,
            json!({ "name": name, "description": "Made to last", "price": price, "quantity": quantity }),
        )
        .await;
        id.push(product["id"].as_str().expect("id").to_owned());
    }
    let want =
        |indexes: &[usize]| -> Vec<String> { indexes.iter().map(|&i| id[i].clone()).collect() };

    // Default: newest first, a plain array with the seller's name.
    let all = public_list(&app, "").await;
    assert_eq!(ids(&all), want(&[4, 3, 2, 1, 0]));
    assert_eq!(all[0]["admin"]["name"], "Ada");
    assert_eq!(all[1]["admin"]["name"], "Bob");

    assert_eq!(ids(&public_list(&app, "?name=MUG").await), want(&[3, 1, 0]));
    assert_eq!(
        ids(&public_list(&app, "?minPrice=10&maxPrice=25.5&sortBy=price&order=asc").await),
        want(&[0, 3, 1])
    );
    assert_eq!(
        ids(&public_list(&app, "?minQuantity=3&maxQuantity=12&sortBy=quantity").await),
        want(&[2, 0, 3])
    );
    assert_eq!(
        ids(&public_list(&app, &format!("?adminId={}&sortBy=name&order=asc", bob.id)).await),
        want(&[3, 2])
    );
    assert_eq!(
        ids(&public_list(&app, "?sortBy=createdAt&order=asc").await),
        want(&[0, 1, 2, 3, 4])
    );

    let page = public_list(&app, "?page=2&limit=2&sortBy=price&order=asc").await;
    assert_eq!(ids(&page["products"]), want(&[3, 1]));
    assert_eq!(
        page["meta"],
        json!({ "total": 5, "page": 2, "limit": 2, "lastPage": 3,
                "hasNextPage": true, "hasPreviousPage": true })
    );
    let page = public_list(&app, "?limit=3").await;
    assert_eq!(ids(&page["products"]), want(&[4, 3, 2]));
    assert_eq!(page["meta"]["page"], 1);
    let page = public_list(&app, "?page=9").await;
    assert_eq!(page["products"], json!([]));
    assert_eq!(
        page["meta"],
        json!({ "total": 5, "page": 9, "limit": 10, "lastPage": 1,
                "hasNextPage": false, "hasPreviousPage": true })
    );
    // The unfiltered total is kept by the database; it follows deletes and bulk creates.
    let res = bob.delete(&format!("/api/v1/products/{}", id[2])).await;
    assert_eq!(res.status(), 200);
    let bulk = json!({ "products": [
        { "name": "Cup", "description": "d", "price": 1, "quantity": 1 },
        { "name": "Saucer", "description": "d", "price": 1, "quantity": 1 }
    ] });
    assert_eq!(ada.post("/api/v1/products/bulk", bulk).await.status(), 201);
    assert_eq!(
        public_list(&app, "?page=1&limit=4").await["meta"]["total"],
        6
    );
    assert_eq!(public_list(&app, "?page=1").await["meta"]["total"], 6);
    assert_eq!(
        public_list(&app, "?page=1&name=mug").await["meta"]["total"],
        3
    );

    for bad in [
        "?limit=0",
        "?limit=101",
        "?page=0",
        "?minPrice=30&maxPrice=10",
        "?minQuantity=5&maxQuantity=1",
        "?minPrice=1.999",
        "?sortBy=colour",
        "?order=sideways",
        "?colour=red",
        "?limit=ten",
    ] {
        let res = app.get(&format!("/api/v1/products{bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let res = app.get("/api/v1/products?colour=red").await;
    assert_eq!(
        body(res).await["message"],
        "property colour should not exist"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_search_finds_substrings_as_like_does_and_follows_renames_and_deletes() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let names = [
        "Blue Mug",
        "Café crème",
        "100% cotton_tee",
        r#"Say "hi" mug"#,
        "Teapot",
    ];
    let mut id = Vec::new();
    for name in names {
        let product = json!({ "name": name, "description": "d", "price": 1, "quantity": 1 });
        id.push(
            create(&ada, product).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let found = |indexes: &[usize]| -> Vec<String> {
        let mut ids: Vec<String> = indexes.iter().map(|&i| id[i].clone()).collect();
        ids.sort();
        ids
    };
    let search = |text: &'static str| {
        let app = &app;
        async move {
            let query = form_urlencoded::Serializer::new("?".to_owned())
                .append_pair("name", text)
                .finish();
            let mut ids = ids(&public_list(app, &query).await);
            ids.sort();
            ids
        }
    };

    // Three characters or more go through the trigram index, fewer scan: same answers.
    assert_eq!(search("mug").await, found(&[0, 3]));
    assert_eq!(search("MUG").await, found(&[0, 3]));
    assert_eq!(search("ug").await, found(&[0, 3]));
    assert_eq!(
        search("e M").await,
        found(&[0]),
        "spaces are part of the text"
    );
    // LIKE's wildcards and FTS5's quote are plain text.
    assert_eq!(search("0%").await, found(&[2]));
    assert_eq!(search("%").await, found(&[2]));
    assert_eq!(search("n_t").await, found(&[2]));
    assert_eq!(search("_").await, found(&[2]));
    assert_eq!(search(r#""hi""#).await, found(&[3]));
    assert_eq!(search(r#"""#).await, found(&[3]));
    assert_eq!(
        search("mug OR tea*").await,
        found(&[]),
        "no FTS5 query syntax"
    );
    // Case folds for ASCII only, as LIKE does.
    assert_eq!(search("café").await, found(&[1]));
    assert_eq!(search("CAFé").await, found(&[1]));
    assert_eq!(search("CAFÉ").await, found(&[]));

    let res = ada
        .patch(
            &format!("/api/v1/products/{}", id[0]),
            json!({ "name": "Green Cup" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(search("mug").await, found(&[3]), "the old name is gone");
    assert_eq!(search("een cu").await, found(&[0]), "the new name is found");
    let res = ada.delete(&format!("/api/v1/products/{}", id[4])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(search("teapot").await, found(&[]));
    let bulk = json!({ "products": [
        { "name": "Mug tree", "description": "d", "price": 1, "quantity": 1 }
    ] });
    let res = ada.post("/api/v1/products/bulk", bulk).await;
    assert_eq!(res.status(), 201);
    let tree = body(res).await[0]["id"].as_str().expect("id").to_owned();
    let mut want = vec![id[3].clone(), tree];
    want.sort();
    assert_eq!(search("mug").await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_a_write_sees_the_write_and_unchanged_reads_are_304() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    assert_eq!(
        public_list(&app, "").await,
        json!([]),
        "an empty list is cached"
    );
    let paged = public_list(&app, "?limit=5").await;
    assert_eq!(paged["meta"]["total"], 0);

    let product = create(&ada, mug()).await;
    let id = product["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/products/{id}");
    assert_eq!(ids(&public_list(&app, "").await), vec![id.clone()]);
    assert_eq!(public_list(&app, "?limit=5").await["meta"]["total"], 1);
    assert_eq!(body(app.get(&path).await).await["price"], 12.5);

    let res = app.get(&path).await;
    let etag = res.headers()["etag"].to_str().expect("ascii").to_owned();
    let conditional = |tag: String| {
        let request = app.client.get(app.url(&path)).header("if-none-match", tag);
        crate::conformance::send(request)
    };
    let res = conditional(etag.clone()).await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.expect("body").is_empty());

    let res = ada.patch(&path, json!({ "price": 9.99 })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(app.get(&path).await).await["price"], 9.99);
    assert_eq!(public_list(&app, "").await[0]["price"], 9.99);
    let res = conditional(etag.clone()).await;
    assert_eq!(res.status(), 200, "the old tag no longer matches");
    assert_ne!(res.headers()["etag"], etag.as_str());

    let list = app.get("/api/v1/products").await;
    let list_tag = list.headers()["etag"].to_str().expect("ascii").to_owned();
    let res = app
        .send(
            app.client
                .get(app.url("/api/v1/products"))
                .header("if-none-match", &list_tag),
        )
        .await;
    assert_eq!(res.status(), 304);

    assert_eq!(ada.delete(&path).await.status(), 200);
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(public_list(&app, "").await, json!([]));
    assert_eq!(public_list(&app, "?limit=5").await["meta"]["total"], 0);
}

/// The most entries the products cache ever holds (docs/security.md, "Product read cache"): the plain list
/// and pages 1 to 10 of the default size.
const CACHE_BOUND: usize = 11;

/// The app's `cache` key-value file (reen-host keeps Spin's layout, so either host's file).
fn cache_file(app: &TestApp) -> std::path::PathBuf {
    app.app.state_dir().join("cache_kv.db")
}

/// Every key in the `cache` store.
fn cache_keys(app: &TestApp) -> Vec<String> {
    let db = rusqlite::Connection::open(cache_file(app)).expect("the cache file opens");
    let mut query = db
        .prepare("SELECT key FROM spin_key_value WHERE store = 'cache'")
        .expect("query");
    query
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("keys")
}

async fn etag(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.headers()["etag"].to_str().expect("ascii").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_anonymous_queries_never_grow_the_cache_past_its_bound() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let mug = create(&ada, mug()).await;
    let teapot =
        json!({ "name": "Teapot", "description": "Cast iron", "price": 45, "quantity": 3 });
    create(&ada, teapot).await;

    // 250 different queries, as anyone could send them: every page to 100, names, page
    // sizes, sorts, and the same pages spelled other ways.
    let mut queries: Vec<String> = (1..=100).map(|n| format!("?page={n}")).collect();
    queries.extend((0..80).map(|n| format!("?name=visitor{n}")));
    queries.extend((1..=40).map(|n| format!("?page=1&limit={n}")));
    queries.extend((1..=20).map(|n| format!("?sortBy=price&order=asc&page={n}")));
    queries.extend((1..=10).map(|n| format!("?limit=10&order=desc&page={n}")));
    for query in &queries {
        public_list(&app, query).await;
    }
    let keys = cache_keys(&app);
    assert!(
        keys.len() <= CACHE_BOUND,
        "{} cache entries, such as {:?}",
        keys.len(),
        &keys[..3]
    );

    // Answers are still right, cached or not.
    assert_eq!(
        ids(&public_list(&app, "?name=MUG").await),
        vec![mug["id"].as_str().expect("id").to_owned()]
    );
    assert_eq!(public_list(&app, "?name=visitor7").await, json!([]));
    assert_eq!(
        public_list(&app, "?page=1&limit=1").await["meta"]["total"],
        2
    );
    let page_one = etag(&app, "/api/v1/products?page=1").await;
    assert_eq!(
        etag(&app, "/api/v1/products?limit=10&page=1").await,
        page_one
    );

    let path = format!("/api/v1/products/{}", mug["id"].as_str().expect("id"));
    let res = ada.patch(&path, json!({ "price": 9.99 })).await;
    assert_eq!(res.status(), 200);
    let price_of_mug = |list: &Value| {
        let mug = list
            .as_array()
            .expect("an array")
            .iter()
            .find(|p| p["name"] == "Mug");
        mug.expect("the mug is listed")["price"].clone()
    };
    assert_eq!(price_of_mug(&public_list(&app, "").await), 9.99);
    assert_eq!(
        price_of_mug(&public_list(&app, "?page=1").await["products"]),
        9.99
    );
    assert_eq!(
        price_of_mug(&public_list(&app, "?limit=10&page=1").await["products"]),
        9.99
    );
    assert_eq!(price_of_mug(&public_list(&app, "?name=mug").await), 9.99);
    assert!(cache_keys(&app).len() <= CACHE_BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_answers_its_success_while_the_cache_store_is_locked() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let mug = create(&ada, mug()).await;
    assert_eq!(public_list(&app, "").await[0]["price"], 12.5, "now cached");

    // Another process holds the cache file's write lock (as Spin's Redis trigger process or
    // a long write to the store can): key-value writes wait for it, then fail.
    let lock = rusqlite::Connection::open(cache_file(&app)).expect("the cache file opens");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("the lock");
    let path = format!("/api/v1/products/{}", mug["id"].as_str().expect("id"));
    let res = ada.patch(&path, json!({ "price": 9.99 })).await;
    assert_eq!(
        res.status(),
        200,
        "the change happened, and its answer says so"
    );
    assert_eq!(body(res).await["price"], 9.99);
    assert_eq!(public_list(&app, "?name=mug").await[0]["price"], 9.99);
    lock.execute_batch("COMMIT").expect("the lock is released");

    assert_eq!(
        public_list(&app, "").await[0]["price"],
        9.99,
        "the cached list went stale with the commit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_writes_are_all_or_nothing_with_one_fee() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let bob = new_admin(&app, "Bob").await;

    // One bad item: nothing is created and nothing charged.
    let res = ada
        .post(
            "/api/v1/products/bulk",
            json!({ "products": [mug(), { "name": "Bad", "description": "Made to last", "price": 1.001, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(body(res).await["errors"][0]["field"], "products[1].price");
    let res = ada
        .post("/api/v1/products/bulk", json!({ "products": [] }))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(public_list(&app, "").await, json!([]));
    assert_eq!(ada.me().await["balance"], 3_840_000);

    // 4% of (12.5 × 40 + 5 × 10) = 22.
    let res = ada
        .post(
            "/api/v1/products/bulk",
            json!({ "products": [mug(), { "name": "Plate", "description": "Made to last", "price": 5, "quantity": 10 }] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created = body(res).await;
    let [mug_id, plate_id] = [0, 1].map(|i| created[i]["id"].as_str().expect("id").to_owned());
    assert_eq!(created[1]["name"], "Plate");
    assert_eq!(created[1]["admin"]["name"], "Ada");
    assert_eq!(ada.me().await["balance"], 3_839_978);
    let teapot = create(
        &bob,
        json!({ "name": "Teapot", "description": "Made to last", "price": 1, "quantity": 1 }),
    )
    .await;
    let teapot_id = teapot["id"].as_str().expect("id").to_owned();

    // A foreign id → 403, an unknown id → 404, a bad value → 400: nothing changes.
    for (updates, status) in [
        (
            json!([{ "id": mug_id, "price": 20 }, { "id": teapot_id, "price": 2 }]),
            403,
        ),
        (
            json!([{ "id": mug_id, "price": 20 }, { "id": "missing", "price": 2 }]),
            404,
        ),
        (
            json!([{ "id": mug_id, "price": 20 }, { "id": plate_id, "quantity": -1 }]),
            400,
        ),
        (
            json!([{ "id": mug_id, "price": 20 }, { "id": mug_id, "price": 21 }]),
            400,
        ),
    ] {
        let res = ada
            .patch("/api/v1/products/bulk", json!({ "updates": updates }))
            .await;
        assert_eq!(res.status(), status, "{updates}");
    }
    let mug_path = format!("/api/v1/products/{mug_id}");
    assert_eq!(body(app.get(&mug_path).await).await["price"], 12.5);
    assert_eq!(ada.me().await["balance"], 3_839_978);

    // 4% of (20 − 12.5) × 40 = 12, plus nothing for the plate's decrease.
    let res = ada
        .patch(
            "/api/v1/products/bulk",
            json!({ "updates": [{ "id": mug_id, "price": 20 }, { "id": plate_id, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated = body(res).await;
    assert_eq!(updated[0]["price"], 20);
    assert_eq!(updated[1]["quantity"], 1);
    assert_eq!(ada.me().await["balance"], 3_839_966);
    assert_eq!(body(app.get(&mug_path).await).await["price"], 20);

    let res = ada
        .post(
            "/api/v1/products/bulk-delete",
            json!({ "ids": [mug_id, teapot_id] }),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        public_list(&app, "").await.as_array().map(Vec::len),
        Some(3)
    );

    let res = ada
        .post(
            "/api/v1/products/bulk-delete",
            json!({ "ids": [mug_id, plate_id] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        body(res).await,
        json!({ "deleted": [mug_id, plate_id], "anonymized": [] })
    );
    assert_eq!(ids(&public_list(&app, "").await), vec![teapot_id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_seller_shows_under_the_new_name_on_cached_reads() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let product = create(&ada, mug()).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    assert_eq!(public_list(&app, "").await[0]["admin"]["name"], "Ada");
    assert_eq!(body(app.get(&path).await).await["admin"]["name"], "Ada");

    let res = ada
        .patch("/api/v1/auth/users/me", json!({ "name": "Ada L." }))
        .await;
    assert_eq!(res.status(), 200);

    assert_eq!(public_list(&app, "").await[0]["admin"]["name"], "Ada L.");
    assert_eq!(body(app.get(&path).await).await["admin"]["name"], "Ada L.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_app_can_start_with_a_demo_catalog_and_starts_empty_otherwise() {
    let demo = crate::helpers::spawn_app_with_demo_catalog().await;
    let products = public_list(&demo, "").await;
    assert_eq!(products.as_array().map(Vec::len), Some(6));
    assert_eq!(products[0]["name"], "Bread knife", "newest first");

    let plain = spawn_app().await;
    assert_eq!(public_list(&plain, "").await, json!([]));
}
