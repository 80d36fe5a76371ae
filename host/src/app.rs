//! Loading and running a Spin application: manifest + runtime config → validated app state →
//! compiled, pre-instantiated components → the HTTP listener. `main.rs` and the tests both
//! start apps through [`AppOptions`] and [`RunningApp`].

use crate::allowed_hosts::{AllowedHosts, is_skipped_template_result};
use crate::bindings::redis_handler::RedisHandlerPre;
use crate::compose;
use crate::dev_secrets::{self, DevNotice, Wanted};
use crate::engine;
use crate::key_value::{self, KeyValueStores, KvLocation, StoreLocation};
use crate::local_redis::{self, LocalRedis};
use crate::logs::LogSink;
use crate::manifest::{HttpRoute, HttpTarget, Manifest};
use crate::routes::{RouteDecl, RouteSpec, Router};
use crate::runtime_config::{KvStoreConfig, RuntimeConfig, SqliteConfig};
use crate::sqlite::{self, DbLocation, SqliteDatabases};
use crate::state::{ComponentRuntime, InstanceState};
use crate::trigger_http::{HttpComponent, HttpDispatcher, RouteTarget, StaticResponse};
use crate::trigger_redis::{ActiveChannel, RedisComponent, RedisTrigger, RunningRedisTrigger};
use crate::variables::{AppVariables, ComponentVariables};
use anyhow::{Context as _, bail};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wasmtime::component::{Component, InstancePre};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Where state lives when the runtime config does not say otherwise.
#[derive(Clone, Debug, Default)]
pub enum StateDir {
    /// `state_dir` from the runtime config, else `<manifest dir>/.spin` (Spin's default).
    #[default]
    Default,
    /// An explicit directory (`--state-dir DIR`).
    Path(PathBuf),
    /// No state dir (`--state-dir ""`): default stores are in memory.
    None,
}

/// How to start an app.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub manifest: PathBuf,
    pub runtime_config: Option<PathBuf>,
    pub state_dir: StateDir,
    pub listen: SocketAddr,
    /// Highest-precedence variable values (`--variable name=value`).
    pub variables: HashMap<String, String>,
    /// The environment the env variables provider reads; `None` means the process environment.
    pub env: Option<HashMap<String, String>>,
    /// Base for relative sqlite paths and `.env`; `None` means the current directory.
    pub working_dir: Option<PathBuf>,
    /// Test harness only: put every file-backed store and database of the runtime config
    /// under the state dir (keeping file names), so parallel test apps never share files.
    pub isolate_storage: bool,
    pub log_sink: LogSink,
    pub log_requests: bool,
    /// `reen-host up` only: when nothing answers at a loopback Redis trigger address, start
    /// `redis-server` there, or fall back to an in-process broker (see `local_redis`).
    pub local_redis: bool,
    /// `reen-host up --dev` only: required secrets without a value get random local values,
    /// kept in the state dir (`dev_secrets`).
    pub dev_secrets: bool,
}

impl AppOptions {
    /// Options for `spin up`-like runs: `127.0.0.1:3000`, process environment, `.spin/`.
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        Self {
            manifest: manifest.into(),
            runtime_config: None,
            state_dir: StateDir::Default,
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            variables: HashMap::new(),
            env: None,
            working_dir: None,
            isolate_storage: false,
            log_sink: LogSink::Stdio,
            log_requests: true,
            local_redis: false,
            dev_secrets: false,
        }
    }

    /// Options for tests: a random loopback port, an empty environment (only the variables
    /// given here), and a fresh temporary state dir holding every store and database.
    pub fn for_tests(manifest: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            env: Some(HashMap::new()),
            isolate_storage: true,
            ..Self::new(manifest)
        }
    }

    pub fn runtime_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.runtime_config = Some(path.into());
        self
    }

    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = StateDir::Path(dir.into());
        self
    }
}

/// A started app. Dropping it stops the listener and the Redis trigger.
pub struct RunningApp {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    state_dir: Option<PathBuf>,
    routes: Vec<(String, String)>,
    // Declared before `local_redis` so that dropping stops the listeners before the
    // local Redis they listen to.
    redis: Option<RunningRedisTrigger>,
    redis_channels: Vec<ActiveChannel>,
    local_redis: Option<LocalRedis>,
    dev_notice: Option<DevNotice>,
    _temp: Option<tempfile::TempDir>,
}

impl RunningApp {
    /// Loads, validates, compiles and starts the app; every configuration error is reported
    /// before the socket is bound.
    pub async fn start(mut options: AppOptions) -> anyhow::Result<Self> {
        let temp = match (&options.state_dir, options.isolate_storage) {
            (StateDir::Default, true) => {
                let dir = tempfile::Builder::new().prefix("reen-host-").tempdir()?;
                options.state_dir = StateDir::Path(dir.path().to_owned());
                Some(dir)
            }
            _ => None,
        };
        let loaded = load(&options)?;
        let listener = TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("listening on {}", options.listen))?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (mut redis, mut redis_channels, mut local) = (None, Vec::new(), None);
        if let Some(trigger) = loaded.redis {
            if options.local_redis {
                local = Some(local_redis::provide(trigger.addresses()).await);
            }
            redis_channels = trigger.channels();
            redis = Some(trigger.start(shutdown_rx.clone()).await?);
        }
        let server = tokio::spawn(loaded.dispatcher.serve(listener, shutdown_rx));
        Ok(Self {
            addr,
            shutdown,
            server: Some(server),
            state_dir: loaded.state_dir,
            routes: loaded.routes,
            redis,
            redis_channels,
            local_redis: local,
            dev_notice: loaded.dev_notice,
            _temp: temp,
        })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The resolved state directory (`None` when stores are in memory).
    pub fn state_dir(&self) -> Option<&Path> {
        self.state_dir.as_deref()
    }

    /// Public routes as (component, route), in manifest order, for the start-up banner.
    pub fn routes(&self) -> &[(String, String)] {
        &self.routes
    }

    /// The secrets `--dev` supplied (names and file, never values), for the start-up banner.
    pub fn dev_notice(&self) -> Option<&DevNotice> {
        self.dev_notice.as_ref()
    }

    /// Redis channels the app is subscribed to, for the start-up banner.
    pub fn redis_channels(&self) -> &[ActiveChannel] {
        &self.redis_channels
    }

    /// Stops accepting, closes open connections and waits for the server task; stops the
    /// Redis listeners (after the message in hand) and then any local Redis it started.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(redis) = self.redis.take() {
            redis.stopped().await;
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.local_redis.take();
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

struct LoadedApp {
    dispatcher: Arc<HttpDispatcher>,
    redis: Option<RedisTrigger>,
    state_dir: Option<PathBuf>,
    routes: Vec<(String, String)>,
    dev_notice: Option<DevNotice>,
}

fn load(options: &AppOptions) -> anyhow::Result<LoadedApp> {
    let manifest = Manifest::load(&options.manifest)?;
    let runtime_config = match &options.runtime_config {
        Some(path) => RuntimeConfig::load(path)?,
        None => RuntimeConfig::default(),
    };
    for warning in manifest.warnings.iter().chain(&runtime_config.warnings) {
        tracing::warn!("{warning}");
    }
    let working_dir = match &options.working_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()?,
    };
    let state_dir = resolve_state_dir(&options.state_dir, &runtime_config, &manifest, &working_dir);
    let isolate = options
        .isolate_storage
        .then_some(())
        .and(state_dir.as_deref());

    let kv_locations = kv_locations(&runtime_config, state_dir.as_deref(), isolate)?;
    let db_locations = db_locations(&runtime_config, state_dir.as_deref(), isolate, &working_dir)?;
    manifest.check_labels(
        &kv_locations.keys().cloned().collect(),
        &db_locations.keys().cloned().collect(),
    )?;
    let stores = KeyValueStores::open(&kv_locations)?;
    let databases = SqliteDatabases::new(&db_locations)?;

    let env = Arc::new(
        options
            .env
            .clone()
            .unwrap_or_else(|| std::env::vars().collect()),
    );
    let mut app_variables = AppVariables::new(
        manifest.variables.clone(),
        options.variables.clone(),
        &runtime_config.effective_variables_providers(),
        env,
        &working_dir,
    )?;
    // `--dev` fills required secrets before the check, so only what it cannot fill fails.
    let mut dev_notice = None;
    if options.dev_secrets {
        let wanted: Vec<Wanted> = app_variables
            .missing_required()
            .into_iter()
            .filter(|(_, decl)| decl.secret)
            .map(|(name, decl)| Wanted {
                name,
                description: decl.description.as_deref(),
            })
            .collect();
        if !wanted.is_empty() {
            let secrets = dev_secrets::provide(&wanted, state_dir.as_deref())?;
            app_variables.add_fallback(secrets.values);
            dev_notice = Some(secrets.notice);
        }
    }
    app_variables.check_required(&dev_secrets::missing_hint(
        options.dev_secrets,
        &working_dir,
    ))?;
    let app_variables = Arc::new(app_variables);

    let resources = AppResources {
        manifest: &manifest,
        stores,
        databases,
        variables: app_variables,
        log_sink: options.log_sink.clone(),
    };
    let mut targets = HashMap::new();
    let mut decls = Vec::new();
    let mut banner = Vec::new();
    for (index, trigger) in manifest.http_triggers.iter().enumerate() {
        let key = match &trigger.target {
            HttpTarget::Component(id) => {
                if !targets.contains_key(id) {
                    let component = resources.http_component(id)?;
                    targets.insert(id.clone(), RouteTarget::Component(component));
                }
                id.clone()
            }
            HttpTarget::StaticResponse {
                status_code,
                headers,
                body,
            } => {
                // Component ids are kebab-case, so a key with `#` can never collide with one.
                let key = format!("static-response#{index}");
                targets.insert(
                    key.clone(),
                    RouteTarget::Static(StaticResponse {
                        status: *status_code,
                        headers: headers
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                        body: body.clone(),
                    }),
                );
                key
            }
        };
        let route = match &trigger.route {
            HttpRoute::Path(path) => {
                banner.push((key.clone(), path.clone()));
                RouteSpec::Path(path.clone())
            }
            HttpRoute::Private => RouteSpec::Private,
        };
        decls.push(RouteDecl {
            route,
            component: key,
        });
    }
    let (router, warnings) = Router::build(&decls)?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let redis = RedisTrigger::build(&manifest, &resources.variables, |id| {
        resources.redis_component(id)
    })?;
    Ok(LoadedApp {
        redis,
        dispatcher: Arc::new(HttpDispatcher::new(
            &manifest.application,
            router,
            targets,
            options.log_requests,
        )),
        state_dir,
        routes: banner,
        dev_notice,
    })
}

/// `--state-dir` wins, then runtime-config `state_dir`, then `<manifest dir>/.spin`.
fn resolve_state_dir(
    option: &StateDir,
    runtime_config: &RuntimeConfig,
    manifest: &Manifest,
    working_dir: &Path,
) -> Option<PathBuf> {
    match option {
        StateDir::Path(dir) if dir.as_os_str().is_empty() => None,
        StateDir::Path(dir) => Some(working_dir.join(dir)),
        StateDir::None => None,
        StateDir::Default => runtime_config.resolved_state_dir(Some(&manifest.dir), working_dir),
    }
}

/// Keeps the file name but moves the file into `dir` (test isolation).
fn relocate(path: &Path, dir: Option<&Path>) -> PathBuf {
    match (dir, path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_owned(),
    }
}

fn kv_locations(
    runtime_config: &RuntimeConfig,
    state_dir: Option<&Path>,
    isolate: Option<&Path>,
) -> anyhow::Result<BTreeMap<String, StoreLocation>> {
    let mut locations =
        BTreeMap::from([("default".to_owned(), key_value::default_location(state_dir))]);
    for (label, config) in &runtime_config.key_value_stores {
        let location = match config {
            KvStoreConfig::Spin { path: Some(path) } => {
                StoreLocation::Sqlite(KvLocation::File(relocate(path, isolate)))
            }
            KvStoreConfig::Spin { path: None } => StoreLocation::Sqlite(KvLocation::InMemory),
            // Not isolated: a test gives each app its own Redis (or database number).
            KvStoreConfig::Redis { url } => StoreLocation::Redis(url.clone()),
            KvStoreConfig::Unsupported { kind } => bail!(
                "runtime config: key_value_store.{label}: type `{kind}` is not supported by reen-host (use type = \"spin\")"
            ),
        };
        locations.insert(label.clone(), location);
    }
    Ok(locations)
}

fn db_locations(
    runtime_config: &RuntimeConfig,
    state_dir: Option<&Path>,
    isolate: Option<&Path>,
    working_dir: &Path,
) -> anyhow::Result<BTreeMap<String, DbLocation>> {
    let mut locations =
        BTreeMap::from([("default".to_owned(), sqlite::default_location(state_dir))]);
    for (label, config) in &runtime_config.sqlite_databases {
        let location = match config {
            SqliteConfig::Spin {
                path: Some(path), ..
            } => DbLocation::File(relocate(&working_dir.join(path), isolate)),
            SqliteConfig::Spin { path: None, .. } => DbLocation::InMemory,
            SqliteConfig::Unsupported { kind } => bail!(
                "runtime config: sqlite_database.{label}: type `{kind}` is not supported by reen-host (use type = \"spin\")"
            ),
        };
        locations.insert(label.clone(), location);
    }
    Ok(locations)
}

/// What the app's components are granted from: the validated manifest and the app-wide
/// stores, databases and variables. Each trigger asks it for the components it runs.
struct AppResources<'a> {
    manifest: &'a Manifest,
    stores: KeyValueStores,
    databases: SqliteDatabases,
    variables: Arc<AppVariables>,
    log_sink: LogSink,
}

impl AppResources<'_> {
    fn context(&self, id: &str) -> String {
        format!("{}: component `{id}`", self.manifest.path.display())
    }

    /// Resolves one component's grants: stores, databases, variables, outbound hosts.
    fn component_runtime(&self, id: &str) -> anyhow::Result<Arc<ComponentRuntime>> {
        let decl = self
            .manifest
            .components
            .get(id)
            .with_context(|| format!("no component `{id}`"))?;
        let context = || self.context(id);
        if !decl.files.is_empty() {
            bail!("{}: `files` is not supported by reen-host yet", context());
        }
        let mut hosts = Vec::new();
        for template in &decl.allowed_outbound_hosts {
            let host = self.variables.render(template).map_err(|var| {
                anyhow::anyhow!(
                    "{}: allowed_outbound_hosts: variable `{var}` has no value",
                    context()
                )
            })?;
            // Spin skips entries whose variables left them empty (an optional endpoint).
            if !is_skipped_template_result(&host) {
                hosts.push(host);
            }
        }
        let component_ids: Vec<String> = self.manifest.components.keys().cloned().collect();
        let allowed_hosts = AllowedHosts::parse_for_app(&hosts, &component_ids)
            .with_context(|| format!("{}: allowed_outbound_hosts", context()))?;
        Ok(Arc::new(ComponentRuntime {
            id: id.into(),
            key_value: Arc::new(self.stores.grant(&decl.key_value_stores)),
            sqlite: Arc::new(self.databases.grant(&decl.sqlite_databases)),
            variables: Arc::new(ComponentVariables::new(
                self.variables.clone(),
                decl.variables.clone(),
            )),
            allowed_hosts: Arc::new(allowed_hosts),
            environment: decl
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            log_sink: self.log_sink.clone(),
        }))
    }

    /// Compiles the component's `source`, composed with its `dependencies` if it has any (the
    /// compile cache, keyed by bytes, makes repeats free).
    fn compile(&self, id: &str) -> anyhow::Result<Component> {
        let decl = &self.manifest.components[id];
        if decl.dependencies.is_empty() {
            return engine::load_component(&decl.source).with_context(|| self.context(id));
        }
        // Composition errors name the component and the dependency themselves.
        let manifest = || self.manifest.path.display().to_string();
        let composed = compose::compose_component(self.manifest, id).with_context(manifest)?;
        engine::load_component_from_bytes(&composed)
            .with_context(|| format!("{}: composed with its dependencies", self.context(id)))
    }

    /// Grants, compilation and linking shared by every trigger: the component's runtime
    /// settings and its instance template, checked against everything the host provides.
    fn prepare(
        &self,
        id: &str,
    ) -> anyhow::Result<(Arc<ComponentRuntime>, InstancePre<InstanceState>)> {
        let runtime = self.component_runtime(id)?;
        let component = self.compile(id)?;
        let pre = engine::instantiate_pre(&component).with_context(|| {
            format!(
                "{}: the component imports something this host does not provide",
                self.context(id)
            )
        })?;
        Ok((runtime, pre))
    }

    /// A component pre-instantiated for the HTTP trigger.
    fn http_component(&self, id: &str) -> anyhow::Result<HttpComponent> {
        let (runtime, pre) = self.prepare(id)?;
        let pre = ProxyPre::new(pre).map_err(anyhow::Error::from).with_context(|| {
            format!(
                "{}: does not export wasi:http/incoming-handler (build it with spin-sdk 5.2 for wasm32-wasip2)",
                self.context(id)
            )
        })?;
        Ok(HttpComponent { runtime, pre })
    }

    /// A component pre-instantiated for the Redis trigger.
    fn redis_component(&self, id: &str) -> anyhow::Result<RedisComponent> {
        let (runtime, pre) = self.prepare(id)?;
        let pre = RedisHandlerPre::new(pre).map_err(anyhow::Error::from).with_context(|| {
            format!(
                "{}: does not export fermyon:spin/inbound-redis (a spin-sdk 5.2 #[redis_component] built for wasm32-wasip2)",
                self.context(id)
            )
        })?;
        Ok(RedisComponent { runtime, pre })
    }
}
