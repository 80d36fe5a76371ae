//! Concurrent writes to the same products: every change that is applied is paid exactly once,
//! a request refunds only what it charged itself, and a request that loses the race answers
//! 409 instead of 200 with another request's data.

use crate::api::{SignedIn, TestUser, body};
use crate::helpers::spawn_app;
use crate::products::{create, new_admin};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// How many requests race in each test.
const RACERS: usize = 20;

/// A JSON money amount (dollars, up to 2 decimals) in cents.
fn cents(amount: &Value) -> i64 {
    (amount.as_f64().expect("a number") * 100.0).round() as i64
}

async fn balance(seller: &TestUser<'_>) -> i64 {
    cents(&seller.me().await["balance"])
}

/// The listing fee of a change, as the products component computes it: 4% of the increase of
/// price × quantity, rounded half away from zero.
fn fee(before: &Value, after: &Value) -> i64 {
    let value = |p: &Value| cents(&p["price"]) * p["quantity"].as_i64().expect("quantity");
    let increase = (value(after) - value(before)).max(0);
    (increase * 4 + 50) / 100
}

/// Sends the requests all at once; each answer is its status and body.
async fn race(requests: Vec<impl Future<Output = reqwest::Response>>) -> Vec<(u16, Value)> {
    let answers = futures::future::join_all(requests).await;
    let mut out = Vec::new();
    for res in answers {
        out.push((res.status().as_u16(), body(res).await));
    }
    out
}

/// Every answer is 200 or the retryable 409; returns the 200 bodies.
fn applied(answers: &[(u16, Value)]) -> Vec<Value> {
    for (status, answer) in answers {
        match status {
            200 => {}
            409 => assert!(
                answer["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("was changed concurrently; try again")),
                "a clear, retryable conflict: {answer}"
            ),
            _ => panic!("only 200 or 409 may answer a race: {status} {answer}"),
        }
    }
    answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, answer)| answer.clone())
        .collect()
}

/// Each product's applied versions in the order they were committed (`updatedAt` is the
/// optimistic-lock version, strictly increasing), starting from `created`; panics if two
/// answers claim the same version.
fn versions(created: &[Value], applied: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut chains: BTreeMap<String, Vec<Value>> = created
        .iter()
        .map(|p| (p["id"].as_str().expect("id").to_owned(), vec![p.clone()]))
        .collect();
    for product in applied {
        let id = product["id"].as_str().expect("id");
        chains
            .get_mut(id)
            .expect("a raced product")
            .push(product.clone());
    }
    for chain in chains.values_mut() {
        chain.sort_by_key(|p| p["updatedAt"].as_str().expect("updatedAt").to_owned());
        for pair in chain.windows(2) {
            assert_ne!(
                pair[0]["updatedAt"], pair[1]["updatedAt"],
                "two answers claim the same version: {} / {}",
                pair[0], pair[1]
            );
        }
    }
    chains
}

/// The fees of the applied changes, and checks that the stored products are the last ones.
async fn fees_of(seller: &TestUser<'_>, chains: &BTreeMap<String, Vec<Value>>) -> i64 {
    let mut total = 0;
    for (id, chain) in chains {
        total += chain.windows(2).map(|w| fee(&w[0], &w[1])).sum::<i64>();
        let stored = seller.get_json(&format!("/api/v1/products/{id}")).await;
        let last = chain.last().expect("the created version");
        assert_eq!(&stored, last, "the last applied change is what is stored");
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_raising_the_value_pay_each_applied_change_exactly_once() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let mug = json!({ "name": "Mug", "description": "Blue", "price": 10, "quantity": 10 });
    let product = create(&ada, mug).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    let start = balance(&ada).await;

    // Groups of identical PATCHes (the same version read, the same change) and different
    // ones; every one raises the value of the version it was created from.
    let patches = (0..RACERS)
        .map(|i| ada.patch(&path, json!({ "quantity": 20 + (i % 5) * 10 })))
        .collect();
    let answers = race(patches).await;
    let applied = applied(&answers);
    assert!(!applied.is_empty(), "one PATCH at least wins: {answers:?}");
    let chains = versions(std::slice::from_ref(&product), &applied);

    let charged = start - balance(&ada).await;
    assert_eq!(
        charged,
        fees_of(&ada, &chains).await,
        "the balance falls by exactly the fees of the applied changes: {answers:?}"
    );
    assert!(charged > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bulk_updates_raising_the_value_pay_each_applied_batch_exactly_once() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let mut created = Vec::new();
    for name in ["Mug", "Plate"] {
        let item = json!({ "name": name, "description": "Blue", "price": 10, "quantity": 10 });
        created.push(create(&ada, item).await);
    }
    let start = balance(&ada).await;

    let batches = (0..RACERS)
        .map(|i| {
            let updates: Vec<Value> = created
                .iter()
                .map(|p| json!({ "id": p["id"], "quantity": 20 + (i % 5) * 10 }))
                .collect();
            ada.patch("/api/v1/products/bulk", json!({ "updates": updates }))
        })
        .collect();
    let answers = race(batches).await;
    let applied: Vec<Value> = applied(&answers)
        .iter()
        .flat_map(|batch| batch.as_array().expect("Product[]").clone())
        .collect();
    assert!(!applied.is_empty(), "one batch at least wins: {answers:?}");
    let chains = versions(&created, &applied);

    let charged = start - balance(&ada).await;
    assert_eq!(
        charged,
        fees_of(&ada, &chains).await,
        "the balance falls by exactly the fees of the applied batches: {answers:?}"
    );
    assert!(charged > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_zero_fee_patches_answer_each_its_own_change_or_409() {
    let app = spawn_app().await;
    let ada = new_admin(&app, "Ada").await;
    let mug = json!({ "name": "Mug", "description": "Blue", "price": 10, "quantity": 10 });
    let product = create(&ada, mug).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().expect("id"));
    let start = balance(&ada).await;

    let patches = (0..RACERS)
        .map(|i| ada.patch(&path, json!({ "description": format!("Edition {i}") })))
        .collect();
    let answers = race(patches).await;
    for (i, (status, answer)) in answers.iter().enumerate() {
        if *status == 200 {
            assert_eq!(
                answer["description"],
                format!("Edition {i}"),
                "a 200 answers the change this request asked for: {answers:?}"
            );
        }
    }
    let applied = applied(&answers);
    assert!(!applied.is_empty(), "one PATCH at least wins: {answers:?}");
    let chains = versions(std::slice::from_ref(&product), &applied);
    assert_eq!(fees_of(&ada, &chains).await, 0);
    assert_eq!(balance(&ada).await, start, "a description costs nothing");
}
