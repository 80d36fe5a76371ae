//! The report: what was measured and on what, one table of every run with each route's share
//! of the Spin floor (Spin's health route in the same run) and of its own host's floor, the
//! native server's figures for the first page, then the targets on Spin, met or
//! missed; and the verdict (every answer 200).

use crate::{Cli, Host, Route, Run, Served};
use benches::{app, load};
use std::path::Path;

pub struct Context<'a> {
    pub cli: &'a Cli,
    pub root: &'a Path,
    /// Spin's version line, or why it was not measured.
    pub spin: Result<String, String>,
}

/// Issue 18's targets on Spin: share of the Spin floor.
const TARGETS: [(Route, f64); 4] = [
    (Route::PageOne, 0.70),
    (Route::NameSearch, 0.35),
    (Route::Cart, 0.35),
    (Route::Orders, 0.35),
];

/// Every p99 at most this many times its p50.
const TAIL_RATIO: f64 = 3.0;

fn served(server: Served) -> &'static str {
    match server {
        Served::Host(Host::ReenHost) => "reen-host",
        Served::Host(Host::Spin) => "spin",
        Served::Native { cached: true } => "native, cached",
        Served::Native { cached: false } => "native, queried",
    }
}

fn rate(runs: &[Run], server: Served, route: Route) -> Option<f64> {
    runs.iter()
        .find(|r| r.server == server && r.route == route)
        .map(|r| r.report.requests_per_sec())
}

fn tail_ratio(report: &load::LoadReport) -> Option<f64> {
    let (p50, p99) = (report.percentile(50.0)?, report.percentile(99.0)?);
    (!p50.is_zero()).then(|| p99.as_secs_f64() / p50.as_secs_f64())
}

fn share(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

pub fn print(cx: &Context, runs: &[Run]) {
    let cli = cx.cli;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!();
    println!(
        "reads-bench — commit {}, {} connections, {} s warm-up + {} s per run; {} products, \
         a {}-item cart, {} orders of 3 lines",
        app::commit(cx.root),
        cli.connections,
        cli.warmup,
        cli.duration,
        cli.products,
        cli.cart_items,
        cli.orders
    );
    println!(
        "machine: {cores} cores shared by the server, redis-server and the load generator; \
         reen-host: dev build, SQLite files in WAL, guest connections reused; Spin: {} on \
         copies in rollback-journal mode, a new connection per guest open; native: hyper + \
         rusqlite on reen-host's files",
        cx.spin
            .as_ref()
            .map_or_else(|why| format!("not measured ({why})"), String::clone)
    );
    let spin_floor = rate(runs, Served::Host(Host::Spin), Route::Health);
    println!();
    println!(
        "  {:<16} {:<31} {:>8} {:>10} {:>10} {:>8} {:>11} {:>10} {:>7}",
        "server", "route", "req/s", "p50", "p99", "p99/p50", "Spin floor", "own floor", "errors"
    );
    for run in runs {
        let own_floor = match run.server {
            Served::Host(_) => rate(runs, run.server, Route::Health),
            Served::Native { .. } => None,
        };
        let req_s = run.report.requests_per_sec();
        println!(
            "  {:<16} {:<31} {:>8.0} {:>10} {:>10} {:>8} {:>11} {:>10} {:>7}",
            served(run.server),
            run.route.label(),
            req_s,
            load::millis(run.report.percentile(50.0)),
            load::millis(run.report.percentile(99.0)),
            tail_ratio(&run.report).map_or("-".to_owned(), |r| format!("{r:.1}x")),
            share(spin_floor.map(|floor| req_s / floor)),
            share(own_floor.map(|floor| req_s / floor)),
            run.report.errors,
        );
    }
    if spin_floor.is_none() {
        println!("\ntargets: not judged (Spin was not measured)");
        return;
    }
    println!();
    for (route, target) in TARGETS {
        let got = rate(runs, Served::Host(Host::Spin), route)
            .zip(spin_floor)
            .map(|(r, floor)| r / floor);
        let met = got.is_some_and(|g| g >= target);
        println!(
            "target on Spin: {} ≥ {:.0}% of the floor: {} — {}",
            route.label(),
            target * 100.0,
            share(got),
            if met { "met" } else { "MISSED" }
        );
    }
    for run in runs.iter().filter(|r| r.server == Served::Host(Host::Spin)) {
        let ratio = tail_ratio(&run.report);
        let met = ratio.is_some_and(|r| r <= TAIL_RATIO);
        println!(
            "target on Spin: {} p99 ≤ {TAIL_RATIO}× p50: {} — {}",
            run.route.label(),
            ratio.map_or("-".to_owned(), |r| format!("{r:.1}x")),
            if met { "met" } else { "MISSED" }
        );
    }
}

/// Fails when a run had an answer other than 200 or none at all.
pub fn verdict(runs: &[Run]) -> anyhow::Result<()> {
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.report.errors > 0 || r.report.latencies_us.is_empty())
        .map(|r| {
            format!(
                "{} {}: {} errors {:?}",
                served(r.server),
                r.route.label(),
                r.report.errors,
                r.report.statuses
            )
        })
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "the bench failed:\n{}",
        failed.join("\n")
    );
    Ok(())
}
