//! Scale-out on one machine, for real (README "Deploy", "Scale-out"): two app processes of
//! the run's host on different ports sharing one state directory (the SQLite files) and one
//! redis-server (the events channel, and the key-value stores: `type = "redis"`, one Redis
//! database per store, as in `deploy/runtime-config.toml`), behind Debian's nginx on loopback,
//! declared the app's trusted proxy. Only one process runs the Redis-triggered `events`
//! component: every subscriber of a pub/sub channel gets every message.
//!
//! - On Spin (`REEN_TEST_HOST=spin`) it is the SpinKube layout of `deploy/`: two replicas run
//!   every component but `events` (`spin up -c <id>...`, the selective deployment the
//!   SpinApp's `components` asks of the shim) and a third process runs `events` alone (`-c
//!   events`).
//! - On reen-host, which has no `-c`: the first process runs the whole app, the second the app
//!   without `events` (`spin.toml` less its events section).
//!
//! Through the balancer: a shopper's journey to a COMPLETED order, the sign-in throttle seeing
//! each client's own address, refresh-token rotation and reuse detection across replicas, and
//! the concurrency cases (no lost writes, no duplicated orders, no oversell).

use crate::api::{PASSWORD, SignedIn, TestUser, body, refresh_cookie};
use crate::cart::add;
use crate::checkout::{START, balance, buyer_of, checkout, checkout_ok, creates, deliver_ok};
use crate::fake_clerk::FakeClerk;
use crate::fake_email::{self, FakeEmail};
use crate::fake_stripe::FakeStripe;
use crate::helpers::{TestApp, app_variables, project_manifest_variant, repo_root, spawn_replica};
use crate::host::{self, Host, Server};
use crate::product_events::CHANNEL;
use crate::products::{create, new_admin};
use crate::saga::settled_order;
use futures::future::join_all;
use reen_host::manifest::Manifest;
use reen_host::testing::{RedisServer, spin_cli};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The balancer's address: the only peer the app believes X-Forwarded-For from.
const BALANCER: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A client of its own loopback address (the whole of 127.0.0.0/8 is this machine), so the
/// balancer forwards a distinct client address for it.
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .build()
        .expect("a client")
}

/// The replicas, the events process, the balancer and the fakes they talk to.
/// Fields drop in this order: the balancer, then the processes (the first replica last: the
/// state directory is its), then the fakes.
struct Cluster {
    balancer: Nginx,
    _events: Option<EventsAlone>,
    second: Server,
    /// Requests go through the balancer; `shop.app` is the first replica.
    shop: TestApp,
    stripe: FakeStripe,
    email: FakeEmail,
    redis: RedisServer,
    _config: tempfile::TempDir,
}

/// Starts the cluster, or returns `None` (after the skip/fail rule) when nginx is missing.
async fn cluster(test: &str) -> Option<Cluster> {
    let nginx = nginx_or_skip(test)?;
    let stripe = FakeStripe::start().await;
    let email = FakeEmail::start().await;
    let redis = RedisServer::start().await.expect("redis-server starts");
    let clerk = FakeClerk::start().await;
    let redis_url = redis.url();
    let trusted = BALANCER.to_string();
    let variables = app_variables(
        &clerk,
        &redis_url,
        &[
            ("stripe_api_base", stripe.base_url()),
            ("email_api_base", email.base_url()),
            ("email_api_key", fake_email::API_KEY),
            ("events_channel", CHANNEL),
            ("trusted_proxies", &trusted),
        ],
    );
    let config_dir = tempfile::tempdir().expect("a temp dir");
    let manifest = repo_root().join("spin.toml");
    let spec = Manifest::load(&manifest).expect("spin.toml loads");
    let events: BTreeSet<String> = spec
        .redis_triggers
        .iter()
        .map(|t| t.component.clone())
        .collect();
    let http_only: Vec<String> = spec
        .components
        .keys()
        .filter(|id| !events.contains(*id))
        .flat_map(|id| ["-c".to_owned(), id.clone()])
        .collect();

    let config = config_dir.path().join("runtime-config.toml");
    std::fs::write(&config, runtime_config_with_redis_stores(&redis)).expect("writing");
    let (first, second, events_alone) = match host::host() {
        Host::Spin => {
            let first = spawn_replica(
                manifest.clone(),
                config.clone(),
                variables.clone(),
                http_only.clone(),
                None,
            )
            .await;
            let second = spawn_replica(
                manifest.clone(),
                config,
                variables.clone(),
                http_only,
                Some(&first),
            )
            .await;
            let events =
                EventsAlone::start(&first.home(), &manifest, &events, &variables, &redis).await;
            (first, second, Some(events))
        }
        Host::ReenHost => {
            let first = spawn_replica(
                manifest.clone(),
                config.clone(),
                variables.clone(),
                Vec::new(),
                None,
            )
            .await;
            let without_events = project_manifest_variant("without-events", |project| {
                let (http, events) = project
                    .split_once("# --- events:")
                    .expect("spin.toml ends with the events section");
                assert!(
                    !events.contains("[[trigger.http]]"),
                    "events is the last section"
                );
                http.to_owned()
            });
            let second =
                spawn_replica(without_events, config, variables, Vec::new(), Some(&first)).await;
            (first, second, None)
        }
    };
    // One subscriber on the channel, whatever the number of replicas.
    assert_eq!(subscribers(&redis).await, 1, "exactly one events consumer");

    let balancer = Nginx::start(
        &nginx,
        &[first.base_url(), second.base_url()],
        config_dir.path(),
    )
    .await;
    let mut shop = TestApp::behind(balancer.base_url(), first, clerk);
    shop.client = client_from(10);
    Some(Cluster {
        balancer,
        _events: events_alone,
        second,
        shop,
        stripe,
        email,
        redis,
        _config: config_dir,
    })
}

/// `runtime-config.toml`'s databases with the key-value stores of `deploy/runtime-config.toml`
/// (`type = "redis"`, one database number per store) on `redis`.
fn runtime_config_with_redis_stores(redis: &RedisServer) -> String {
    let read = |path: &str| -> toml::Table {
        std::fs::read_to_string(repo_root().join(path))
            .expect(path)
            .parse()
            .expect("TOML")
    };
    let mut config = read("runtime-config.toml");
    let production = read("deploy/runtime-config.toml");
    let mut stores = production["key_value_store"]
        .as_table()
        .expect("key_value_store")
        .clone();
    for (_, store) in stores.iter_mut() {
        let url = store["url"].as_str().expect("a url").to_owned();
        let database = url
            .rsplit('/')
            .next()
            .expect("a database number")
            .to_owned();
        store["url"] = toml::Value::String(format!("{}/{database}", redis.url()));
    }
    config.insert("key_value_store".into(), toml::Value::Table(stores));
    toml::to_string(&config).expect("TOML")
}

/// How many connections are subscribed to the events channel.
async fn subscribers(redis: &RedisServer) -> i64 {
    let mut connection = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("redis answers");
    let (_, count): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(CHANNEL)
        .query_async(&mut connection)
        .await
        .expect("PUBSUB NUMSUB");
    count
}

/// nginx on PATH or in /usr/sbin; in CI (`CI` or `REEN_REQUIRE_SPIN=1`) a missing one fails
/// the test, elsewhere it is skipped with a line on the terminal.
fn nginx_or_skip(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        let why = "nginx is not installed (apt-get install nginx)";
        assert!(!spin_cli::required(), "{test}: required in CI: {why}");
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    }
    found
}

/// Debian's nginx in front of the replicas, on a loopback port, with a configuration of its
/// own (nothing of /etc/nginx is read); killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Nginx {
    async fn start(program: &Path, upstreams: &[String], dir: &Path) -> Self {
        let dir = dir.join("nginx");
        std::fs::create_dir_all(&dir).expect("nginx's directory");
        let mut last = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port");
            let config = dir.join("nginx.conf");
            std::fs::write(&config, nginx_config(port, upstreams, &dir)).expect("writing");
            let mut child = Command::new(program)
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&config)
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("nginx starts");
            let url = format!("http://127.0.0.1:{port}/.well-known/spin/health");
            let deadline = Instant::now() + Duration::from_secs(20);
            let ready = loop {
                if let Ok(Some(status)) = child.try_wait() {
                    break Err(format!("nginx exited ({status})"));
                }
                if reqwest::get(&url)
                    .await
                    .is_ok_and(|res| res.status() == 200)
                {
                    break Ok(());
                }
                if Instant::now() > deadline {
                    break Err("nginx did not answer within 20 s".to_owned());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            match ready {
                Ok(()) => return Self { child, port, dir },
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                    last = format!("{why}; error.log:\n{log}");
                }
            }
        }
        panic!("nginx did not start: {last}")
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The replicas nginx sent requests to (`host:port`), from its access log.
    fn upstreams_used(&self) -> BTreeSet<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_whitespace().last())
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGKILL reaches only the master: its workers exit when it is gone, and the group
        // kill takes them at once.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// The balancer's configuration: round robin over the replicas, keep-alive to them, the client
/// address appended to X-Forwarded-For, and the replica of each request in the access log.
/// Requests that reached a replica are never retried on the other (nginx's default for POST).
fn nginx_config(port: u16, upstreams: &[String], dir: &Path) -> String {
    let dir = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|url| format!("    server {};\n", url.trim_start_matches("http://")))
        .collect();
    // As root nginx would hand its workers to `nobody`, who cannot enter the test's private
    // directory; they run as the test's user instead.
    let user = if is_root() { "user root root;" } else { "" };
    format!(
        "{user}
daemon off;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  log_format upstream '$remote_addr $status $request_method $uri $upstream_addr';
  access_log {dir}/access.log upstream;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  upstream reen_commerce {{
{servers}    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://reen_commerce;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 60s;
    }}
  }}
}}
"
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// `spin up -c events`: the events component alone (no HTTP trigger, so no `--listen` and no
/// health route), on the replicas' state and Redis; its process group is killed when dropped.
struct EventsAlone {
    child: Child,
    log: PathBuf,
}

impl EventsAlone {
    async fn start(
        dir: &Path,
        manifest: &Path,
        components: &BTreeSet<String>,
        variables: &[(String, String)],
        redis: &RedisServer,
    ) -> Self {
        let spin = spin_cli::locate().expect("the Spin CLI (REEN_TEST_HOST=spin)");
        let log = dir.join("spin-up.events.log");
        let file = std::fs::File::create(&log).expect("a log file");
        let mut command = Command::new(spin);
        command
            .arg("up")
            .arg("-f")
            .arg(manifest)
            .arg("--runtime-config-file")
            .arg(dir.join("runtime-config.toml"))
            .arg("--state-dir")
            .arg(dir.join(".spin"));
        for id in components {
            command.args(["-c", id]);
        }
        let child = command
            .current_dir(dir)
            .process_group(0)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SPIN_HOME", dir.join(".spin-home-events"))
            .envs(
                variables
                    .iter()
                    .map(|(name, value)| (format!("SPIN_VARIABLE_{}", name.to_uppercase()), value)),
            )
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file)
            .spawn()
            .expect("spin up starts");
        let mut events = Self { child, log };
        let deadline = Instant::now() + Duration::from_secs(120);
        while subscribers(redis).await < 1 {
            if let Ok(Some(status)) = events.child.try_wait() {
                panic!("spin up -c events exited ({status}):\n{}", events.output());
            }
            assert!(
                Instant::now() < deadline,
                "spin up -c events did not subscribe within 120 s:\n{}",
                events.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        events
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for EventsAlone {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "--- spin up -c events printed:\n{}",
                self.output()
            );
        }
    }
}

/// A sign-in from `client` (its own loopback address) through the balancer, optionally with
/// an X-Forwarded-For header of the client's own making.
async fn sign_in_as(
    app: &TestApp,
    client: &reqwest::Client,
    forged: Option<&str>,
    email: &str,
    password: &str,
) -> u16 {
    let mut request = client
        .post(app.url("/api/v1/auth/sign-in"))
        .json(&json!({ "email": email, "password": password }));
    if let Some(forged) = forged {
        request = request.header("x-forwarded-for", forged);
    }
    app.send(request).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_on_two_replicas_behind_nginx_behaves_as_one() {
    let Some(cluster) = cluster("a_shop_on_two_replicas_behind_nginx_behaves_as_one").await else {
        return;
    };
    let app = &cluster.shop;

    // The journey: a seller lists a lamp, a buyer puts two in the cart and pays.
    let seller = new_admin(app, "Seller").await;
    let lamp = create(
        &seller,
        json!({ "name": "Lamp", "description": "A fine lamp", "price": 19.99, "quantity": 5,
                "imageUrls": ["https://cdn.example.com/lamp.png"] }),
    )
    .await;
    let listed = body(app.get("/api/v1/products").await).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let buyer = buyer_of(app, &lamp, 2).await;
    let session_id = checkout_ok(&buyer).await;
    let seller_before = balance(&seller).await;
    let paid = cluster.stripe.complete(&session_id, "paid");
    // Stripe redelivers: the same event lands on both replicas, at once.
    join_all([deliver_ok(app, &paid), deliver_ok(app, &paid)]).await;

    let order = settled_order(&buyer).await;
    assert_eq!(order["status"], "COMPLETED", "{order}");
    assert_eq!(order["total"], 39.98);
    assert_eq!(balance(&buyer).await, START - 39.98);
    let gained = balance(&seller).await - seller_before;
    assert!((gained - 39.98).abs() < 0.005, "the seller got {gained}");
    let shown = body(
        app.get(&format!(
            "/api/v1/products/{}",
            lamp["id"].as_str().unwrap()
        ))
        .await,
    )
    .await;
    assert_eq!(shown["quantity"], 3);
    assert_eq!(buyer.get_json("/api/v1/cart-items").await, json!([]));
    assert_eq!(cluster.email.sent_to(&buyer.email).len(), 1, "one email");
    assert_eq!(cluster.email.sent_to(&seller.email).len(), 1, "one email");
    assert_eq!(subscribers(&cluster.redis).await, 1);

    // Refresh tokens: two tabs refresh with one cookie at once (each on its own replica, most
    // likely) and both stay signed in; presenting a rotated token after the grace window is
    // reuse, wherever it lands, and ends the family on every replica.
    let (first, second) = tokio::join!(app.refresh(&buyer.refresh), app.refresh(&buyer.refresh));
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let tab = refresh_cookie(&first).expect("a cookie");
    let sibling = refresh_cookie(&second).expect("a cookie");
    assert_ne!(tab, sibling);
    let rotated = refresh_cookie(&app.refresh(&tab).await).expect("rotated");
    tokio::time::sleep(Duration::from_millis(6_000)).await;
    // The thief and the owner present the rotated token at once, on both replicas.
    let (thief, owner) = tokio::join!(app.refresh(&tab), app.refresh(&tab));
    assert_eq!(
        (thief.status().as_u16(), owner.status().as_u16()),
        (401, 401),
        "reuse"
    );
    for _ in 0..2 {
        // Twice: round robin puts one of them on each replica.
        assert_eq!(app.refresh(&rotated).await.status(), 401, "family revoked");
        assert_eq!(app.refresh(&sibling).await.status(), 401, "family revoked");
    }

    // The throttle sees each client's own address through the balancer, whichever replica
    // checks the password: an attacker at 127.0.0.2 gets five checks in all, then 429s, even
    // claiming to be the owner's address; the owner at 127.0.0.3 signs in.
    let victim = app.new_user("Victim").await;
    let attacker = client_from(2);
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(sign_in_as(app, &attacker, None, &victim.email, "wrong").await);
    }
    assert_eq!(answers, [401, 401, 401, 401, 401, 429, 429, 429]);
    let forged = sign_in_as(app, &attacker, Some("127.0.0.3"), &victim.email, PASSWORD).await;
    assert_eq!(forged, 429, "a forged X-Forwarded-For changes nothing");
    let owner = client_from(3);
    assert_eq!(
        sign_in_as(app, &owner, None, &victim.email, PASSWORD).await,
        200
    );

    // Every request went through nginx, to both replicas.
    let used = cluster.balancer.upstreams_used();
    let expected: BTreeSet<String> = [app.app.base_url(), cluster.second.base_url()]
        .iter()
        .map(|url| url.trim_start_matches("http://").to_owned())
        .collect();
    assert_eq!(used, expected, "both replicas served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_buyers_and_sellers_on_two_replicas_lose_and_duplicate_nothing() {
    let Some(cluster) = cluster("concurrent_buyers_and_sellers_on_two_replicas").await else {
        return;
    };
    let app = &cluster.shop;

    // No lost writes: one seller lists 20 products at once on both replicas; every listing fee
    // (4% of 10 × $10) is taken from the one balance, none overwritten by another.
    let seller = new_admin(app, "Seller").await;
    let before = balance(&seller).await;
    let products = join_all((0..20).map(|i| {
        create(
            &seller,
            json!({ "name": format!("Item {i}"), "description": "A fine item", "price": 10.0,
                    "quantity": 10 }),
        )
    }))
    .await;
    let ids: BTreeSet<&str> = products.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids.len(), 20);
    assert_eq!(
        before - balance(&seller).await,
        20.0 * 4.0,
        "every fee, once"
    );
    let listed = body(app.get("/api/v1/products").await).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(20));
    let shopper = app.new_user("Shopper").await;
    join_all(products.iter().map(|p| add(&shopper, p, 1))).await;
    let cart = shopper.get_json("/api/v1/cart-items").await;
    assert_eq!(cart.as_array().map(Vec::len), Some(20), "every line kept");

    // No oversell: 40 buyers race for 10 units across the replicas.
    let lamp = create(
        &seller,
        json!({ "name": "Lamp", "description": "A fine lamp", "price": 20.0, "quantity": 10 }),
    )
    .await;
    let buyers: Vec<TestUser> = join_all((0..40).map(|_| buyer_of(app, &lamp, 1))).await;
    let answers = join_all(buyers.iter().map(|buyer| async move {
        let res = checkout(buyer).await;
        let status = res.status().as_u16();
        (status, body(res).await)
    }))
    .await;
    let winners: Vec<(&TestUser, String)> = buyers
        .iter()
        .zip(&answers)
        .filter(|(_, (status, _))| *status == 201)
        .map(|(buyer, (_, created))| {
            (
                buyer,
                created["sessionId"].as_str().expect("a session").to_owned(),
            )
        })
        .collect();
    let refused = answers.iter().filter(|(status, _)| *status == 409).count();
    assert_eq!((winners.len(), refused), (10, 30), "{answers:?}");
    assert_eq!(
        creates(&cluster.stripe).len(),
        10,
        "one Stripe session per winner"
    );

    // No duplicated orders: every winner pays, and Stripe delivers each event twice at once.
    let events: Vec<Value> = winners
        .iter()
        .map(|(_, session)| cluster.stripe.complete(session, "paid"))
        .collect();
    join_all(
        events
            .iter()
            .chain(&events)
            .map(|event| deliver_ok(app, event)),
    )
    .await;
    for (buyer, session) in &winners {
        let order = settled_order(*buyer).await;
        assert_eq!(order["status"], "COMPLETED", "{order}");
        assert_eq!(order["checkoutSessionId"], session.as_str());
        assert_eq!(balance(buyer).await, START - 20.0);
    }
    let shown = body(
        app.get(&format!(
            "/api/v1/products/{}",
            lamp["id"].as_str().unwrap()
        ))
        .await,
    )
    .await;
    assert_eq!(shown["quantity"], 0, "ten sold, not one more");
    let sales = seller.get_json("/api/v1/orders/sales").await;
    assert_eq!(sales.as_array().map(Vec::len), Some(10), "{sales}");
    let me = seller.me().await;
    assert_eq!(me["salesCount"], 10);
    assert_eq!(me["amountGained"], 200.0);
    for buyer in buyers
        .iter()
        .filter(|b| !winners.iter().any(|(w, _)| w.id == b.id))
    {
        assert_eq!(buyer.get_json("/api/v1/orders").await, json!([]));
        assert_eq!(balance(buyer).await, START);
    }
}
