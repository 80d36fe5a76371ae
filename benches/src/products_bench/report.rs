//! What products-bench prints: the conditions, one line per run, the cache check, and issue 6's
//! targets. Every ratio compares like with like — a run against native (or against Spin) in
//! the same mode — never a cached figure against an uncached one: a cache hit and a query are
//! different work, and dividing one by the other says nothing about either host.

use super::{Bench, CACHED_PAGE, Contender, LIMIT, Mode, Run};
use benches::load;
use std::time::Duration;

pub fn print(bench: &Bench, runs: &[Run]) {
    conditions(bench);
    table(runs);
    cache_check(runs);
    targets(bench, runs);
}

fn conditions(bench: &Bench) {
    let cli = &bench.cli;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!();
    println!(
        "GET /api/v1/products?page=P&limit={LIMIT} (uncached) and GET {CACHED_PAGE} (cached) \
         on {} products over {} sellers ({{products, meta}}: a page of products and the total \
         count), commit {}",
        cli.products, cli.sellers, bench.commit
    );
    println!(
        "machine: {cores} cores shared by the load generator and the server under test; \
         \"other\": CPU time taken by anything else during the run (other processes, other VMs), \
         in % of the machine"
    );
    println!(
        "load: {} keep-alive connections, {} s warm-up + {} s measured per run, each server \
         its own process; every store is a file in {}",
        cli.connections,
        cli.warmup,
        cli.duration,
        bench.state.display()
    );
    println!(
        "reen-host: dev-profile build, RUST_LOG=warn, the products component as `cargo up` \
         builds it (wasm32-wasip2, release); files in WAL mode, key-value: one writer and idle \
         readers per file; SQLite: guest connections reused"
    );
    match &bench.spin {
        Ok((_, version)) => println!(
            "spin: {version}, RUST_LOG=warn, the same .wasm files, on copies of the seeded files \
             in rollback-journal mode (Spin's own); key-value: one connection per file behind a \
             mutex; SQLite: a new connection per guest open"
        ),
        Err(reason) => println!("spin: SKIPPED ({reason})"),
    }
    println!(
        "native: hyper + rusqlite on reen-host's files, one connection per worker thread, \
         statements prepared once; native-open: the same, a new connection per request"
    );
    println!(
        "cached:   {CACHED_PAGE} every time (reen-host, Spin: the `cache` key-value store; \
         native: an in-process map)"
    );
    println!(
        "uncached: P = (n mod {}) + 1 for request n, the whole catalogue in turn (wasm hosts: \
         pages of {LIMIT} are never cached, so every request queries; native: no cache)",
        bench.pages
    );
    println!();
}

/// Requests per second of `server` in `mode`, if it was measured.
fn rate(runs: &[Run], server: Contender, mode: Mode) -> Option<f64> {
    runs.iter()
        .find(|r| r.server == server && r.mode == mode)
        .map(|r| r.report.requests_per_sec())
}

fn table(runs: &[Run]) {
    println!(
        "{:<13}{:<10}{:>9}{:>11}{:>11}{:>8}{:>11}{:>10}{:>7}",
        "server", "mode", "req/s", "p50", "p99", "errors", "vs native", "vs spin", "other"
    );
    for run in runs {
        let rps = run.report.requests_per_sec();
        // Only ever against the same mode.
        let ratio = |server: Contender| {
            rate(runs, server, run.mode)
                .map_or_else(|| "-".to_owned(), |r| format!("{:.2}x", rps / r))
        };
        println!(
            "{:<13}{:<10}{rps:>9.0}{:>11}{:>11}{:>8}{:>11}{:>10}{:>7}",
            run.server.name(),
            run.mode.name(),
            load::millis(run.report.percentile(50.0)),
            load::millis(run.report.percentile(99.0)),
            run.report.errors,
            ratio(Contender::Native),
            ratio(Contender::Spin),
            run.others
                .map_or_else(|| "-".to_owned(), |o| format!("{o:.0}%")),
        );
    }
    println!("(\"vs\" columns: against that server in the same mode)");
    println!();
}

fn cache_check(runs: &[Run]) {
    for run in runs {
        let Some(writes) = run.writes else { continue };
        let what = match run.mode {
            Mode::Cached => "expected 1: the first request misses, the rest hit",
            Mode::Uncached => "expected 0: the component caches no page of this size",
        };
        println!(
            "cache check, {} {}: {writes} cache writes for {} requests sent ({} cut off at the \
             end of the window but completed by the server); {what}",
            run.server.name(),
            run.mode.name(),
            run.sent,
            run.report.cut_off
        );
    }
    println!();
}

fn targets(bench: &Bench, runs: &[Run]) {
    println!(
        "targets (issue 6, at {} connections): >= 50% of native in the same mode, p99 <= 10 ms",
        bench.cli.connections
    );
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    for run in runs.iter().filter(|r| r.server.is_wasm()) {
        let rps = run.report.requests_per_sec();
        let p99 = run.report.percentile(99.0).unwrap_or(Duration::MAX);
        let mut line = format!("  {:<9} {:<9}", run.server.name(), run.mode.name());
        if let Some(native) = rate(runs, Contender::Native, run.mode) {
            line.push_str(&format!(
                " {:.0}% of native {} ({})",
                100.0 * rps / native,
                run.mode.name(),
                verdict(rps >= native / 2.0)
            ));
        }
        line.push_str(&format!(
            "; p99 {} ({})",
            load::millis(Some(p99)),
            verdict(p99 <= Duration::from_millis(10))
        ));
        println!("{line}");
    }
}
