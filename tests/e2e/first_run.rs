//! The newcomer's first run: `cargo up` on a fresh clone is `reen-host up --dev` with no `.env`
//! and no secret anywhere. The real app starts on generated secrets, every place that checks
//! one accepts them (access tokens on two components, both webhooks' signatures, the re-drive's
//! bearer), a restart reuses them, and a value given explicitly wins over the generated one.
//! `--dev` is reen-host's, so on a `REEN_TEST_HOST=spin` run these tests say so and pass.

use crate::fake_clerk;
use crate::fake_stripe::{FakeStripe, unix_now};
use crate::helpers::{build_components, repo_root};
use crate::host::{Host, host};
use base64::Engine as _;
use reen_host::testing::RedisServer;
use reen_host::testing::spin_cli::SpinUp;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// The required secrets of `spin.toml`: what a fresh clone has no value for.
const SECRETS: [&str; 6] = [
    "clerk_secret_key",
    "clerk_webhook_secret",
    "jwt_secret",
    "redrive_secret",
    "stripe_secret_key",
    "stripe_webhook_secret",
];

fn exempt_on_spin(test: &str) -> bool {
    if host() != Host::Spin {
        return false;
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "EXEMPT on Spin {test}: `--dev` is reen-host's (Spin users copy .env.example)"
    );
    true
}

/// `reen-host up --dev` as `cargo up` runs it, but in `dir` (its own `.env`-less working
/// directory and state) and with `extra` arguments. The environment holds only a private
/// Redis's address (`SpinUp` clears the rest), so the machine's own Redis is never touched.
async fn up_dev(dir: &Path, redis: &RedisServer, extra: &[&str], envs: &[(&str, &str)]) -> SpinUp {
    build_components();
    let config = dir.join("runtime-config.toml");
    std::fs::copy(repo_root().join("runtime-config.toml"), &config).unwrap();
    let manifest = repo_root().join("spin.toml");
    let state = dir.join(".spin");
    let mut args = vec![
        "-f",
        manifest.to_str().unwrap(),
        "--runtime-config-file",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--dev",
    ];
    args.extend(extra);
    let mut all = vec![("SPIN_VARIABLE_REDIS_URL".to_owned(), redis.url())];
    all.extend(envs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    SpinUp::start(
        Path::new(env!("CARGO_BIN_EXE_e2e-reen-host")),
        dir,
        &args,
        &all,
    )
    .await
    .unwrap_or_else(|why| panic!("reen-host up --dev did not start: {why}"))
}

fn generated(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join(".spin/dev-secrets.toml")).unwrap();
    text.parse().unwrap()
}

fn secret<'a>(table: &'a toml::Table, name: &str) -> &'a str {
    table[name].as_str().unwrap()
}

/// Signs up a new user and returns their access token.
async fn sign_up(client: &reqwest::Client, base: &str, email: &str) -> String {
    let res = crate::conformance::send(
        client
            .post(format!("{base}/api/v1/auth/sign-up"))
            .json(&json!({ "name": "Ada", "email": email, "password": "correct horse" })),
    )
    .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["accessToken"].as_str().unwrap().to_owned()
}

async fn get_status(client: &reqwest::Client, base: &str, path: &str, token: &str) -> u16 {
    let res =
        crate::conformance::send(client.get(format!("{base}{path}")).bearer_auth(token)).await;
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_clone_serves_and_signs_in_on_generated_secrets_that_survive_a_restart() {
    if exempt_on_spin("a_fresh_clone_serves_and_signs_in_on_generated_secrets") {
        return;
    }
    let redis = RedisServer::start().await.expect("redis-server starts");
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let app = up_dev(dir.path(), &redis, &[], &[]).await;
    let base = app.base_url().to_owned();

    let health: Value = crate::conformance::send(client.get(format!("{base}/api/v1/health")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    // Loud about what it made up and where, silent about the values.
    let output = app.output();
    let file = dir.path().join(".spin/dev-secrets.toml");
    assert!(output.contains("GENERATED"), "{output}");
    assert!(output.contains(&file.display().to_string()), "{output}");
    let secrets = generated(dir.path());
    for name in SECRETS {
        assert!(output.contains(name), "{name} not named: {output}");
        assert!(
            !output.contains(secret(&secrets, name)),
            "{name}'s value printed"
        );
    }
    assert_eq!(secrets.len(), SECRETS.len(), "only the required secrets");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    // Signed in on the generated jwt_secret, checked by auth and by the cart.
    let email = crate::api::unique_email("first-run");
    let token = sign_up(&client, &base, &email).await;
    let me = crate::conformance::send(
        client
            .get(format!("{base}/api/v1/auth/users/me"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["email"], email.as_str());
    assert_eq!(
        get_status(&client, &base, "/api/v1/cart-items", &token).await,
        200
    );

    // Both webhooks verify signatures made with the generated secrets, and only those.
    let svix_key = base64::engine::general_purpose::STANDARD
        .decode(
            secret(&secrets, "clerk_webhook_secret")
                .strip_prefix("whsec_")
                .expect("the whsec_ form"),
        )
        .unwrap();
    let clerk_event = json!({ "type": "session.created", "object": "event", "data": {} });
    for (key, status) in [(svix_key.as_slice(), 200), (b"not-the-key".as_slice(), 400)] {
        let hook = fake_clerk::webhook_signed_with(key, "msg_first_run", unix_now(), &clerk_event);
        let mut request = client.post(format!("{base}/api/v1/webhooks/clerk"));
        for (name, value) in &hook.headers {
            request = request.header(*name, value);
        }
        let res = crate::conformance::send(request.body(hook.body)).await;
        assert_eq!(
            res.status(),
            status,
            "Clerk webhook signed with the right key: {}",
            status == 200
        );
    }
    let stripe_event = FakeStripe::event_from(
        "checkout.session.completed",
        json!({ "id": "cs_test_not_ours", "object": "checkout.session", "payment_status": "paid" }),
    );
    let whsec = secret(&secrets, "stripe_webhook_secret");
    assert!(whsec.starts_with("whsec_"));
    for (key, status) in [(whsec, 200), ("whsec_not_the_key", 400)] {
        let (body, signature) = FakeStripe::signed_with(key, &stripe_event, unix_now());
        let res = crate::conformance::send(
            client
                .post(format!("{base}/api/v1/webhooks/stripe"))
                .header("stripe-signature", signature)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(
            res.status(),
            status,
            "Stripe webhook signed with {key:.8}..."
        );
    }
    let redrive = crate::conformance::send(
        client
            .post(format!("{base}/api/v1/checkout/redrive"))
            .bearer_auth(secret(&secrets, "redrive_secret")),
    )
    .await;
    assert_eq!(
        redrive.status(),
        200,
        "the generated redrive_secret is accepted"
    );

    // A restart reuses the file: the same values, and the token signed before still verifies.
    drop(app);
    let app = up_dev(dir.path(), &redis, &[], &[]).await;
    let base = app.base_url().to_owned();
    assert_eq!(generated(dir.path()), secrets);
    assert!(
        app.output().contains("generated by an earlier start"),
        "{}",
        app.output()
    );
    assert_eq!(
        get_status(&client, &base, "/api/v1/auth/users/me", &token).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_secret_given_explicitly_wins_over_the_generated_one() {
    if exempt_on_spin("a_jwt_secret_given_explicitly_wins_over_the_generated_one") {
        return;
    }
    let redis = RedisServer::start().await.expect("redis-server starts");
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let app = up_dev(dir.path(), &redis, &[], &[]).await;
    let base = app.base_url().to_owned();
    let generated_token = sign_up(&client, &base, &crate::api::unique_email("gen")).await;
    let before = generated(dir.path());
    drop(app);

    // The environment (as `.env` would give it) and `--variable` both beat the file.
    let given = "explicitly-given-jwt-secret-0123456789abcdef";
    let flag = format!("jwt_secret={given}");
    for (extra, envs) in [
        (vec![], vec![("SPIN_VARIABLE_JWT_SECRET", given)]),
        (vec!["--variable", flag.as_str()], vec![]),
    ] {
        let app = up_dev(dir.path(), &redis, &extra, &envs).await;
        let base = app.base_url().to_owned();
        let token = sign_up(&client, &base, &crate::api::unique_email("given")).await;
        let key = jsonwebtoken::DecodingKey::from_secret(given.as_bytes());
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(&token, &key, &validation)
            .expect("the new token is signed with the given jwt_secret");
        assert_eq!(
            get_status(&client, &base, "/api/v1/auth/users/me", &generated_token).await,
            401,
            "a token signed with the generated secret no longer verifies"
        );
        assert_eq!(generated(dir.path()), before, "the file is left as it was");
    }
}
