//! The report: what was measured and on what, per host and run the latency from webhook to
//! COMPLETED (p50, p99, max) and the saga rate, where the time goes (each phase's p50 and p99),
//! what the fakes received; then the target and the verdict.

use crate::timeline::{self, Timeline};
use crate::{Cli, HostRuns, Mode, Run, storage};
use benches::{app, load};
use std::path::Path;
use std::time::Duration;

/// Webhook to COMPLETED, p50, one saga at a time (issue 15).
const P50_TARGET_MS: i64 = 50;

pub struct Context<'a> {
    pub cli: &'a Cli,
    pub root: &'a Path,
    pub seeding: Duration,
    pub redis: String,
    /// Why Spin was not measured, if it was not.
    pub spin: Option<String>,
}

fn percentile(sorted: &[i64], p: f64) -> String {
    let as_u64: Vec<u64> = sorted.iter().map(|&v| v.max(0) as u64).collect();
    load::percentile(&as_u64, p).map_or("-".to_owned(), |v| format!("{v}"))
}

/// The run's completed sagas and their latencies (ms, ascending).
fn latencies(run: &Run) -> Vec<i64> {
    let mut all: Vec<i64> = run.sagas.values().filter_map(Timeline::latency).collect();
    all.sort_unstable();
    all
}

/// Completed sagas per second: from the first webhook sent to the last order COMPLETED.
fn rate(run: &Run) -> Option<f64> {
    let first = run.sagas.values().map(|t| t.sent).min()?;
    let last = run.sagas.values().filter_map(|t| t.completed).max()?;
    let completed = run.sagas.values().filter(|t| t.completed.is_some()).count();
    (last > first).then(|| completed as f64 * 1000.0 / (last - first) as f64)
}

fn mode(mode: Mode, cli: &Cli) -> String {
    match mode {
        Mode::OneAtATime => "one at a time".to_owned(),
        Mode::Burst => format!("burst, {} connections", cli.connections),
    }
}

pub fn print(cx: &Context, hosts: &[HostRuns]) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!();
    println!(
        "saga-bench — commit {}, {} sagas per run; seeding took {:.0} s",
        app::commit(cx.root),
        cx.cli.sagas,
        cx.seeding.as_secs_f64()
    );
    println!(
        "machine: {cores} cores shared by the server, redis-server ({}), and the bench with \
         its fake Stripe and fake email API (one process, loopback)",
        cx.redis
    );
    println!(
        "latency: the bench sending Stripe's signed checkout.session.completed → the order's \
         COMPLETED move as orders.db records it (updated_at, ms)"
    );
    if let Some(why) = &cx.spin {
        println!("Spin: not measured ({why})");
    }
    for host in hosts {
        println!();
        println!("{} — {}", host.name, storage(host.host));
        println!(
            "  {:<28} {:>6} {:>8} {:>8} {:>8} {:>8} {:>10}",
            "run", "done", "p50 ms", "p99 ms", "max ms", "sagas/s", "emails"
        );
        for run in &host.runs {
            let latencies = latencies(run);
            println!(
                "  {:<28} {:>6} {:>8} {:>8} {:>8} {:>8} {:>10}",
                mode(run.mode, cx.cli),
                format!("{}/{}", latencies.len(), run.sagas.len()),
                percentile(&latencies, 50.0),
                percentile(&latencies, 99.0),
                latencies.last().map_or("-".to_owned(), i64::to_string),
                rate(run).map_or("-".to_owned(), |r| format!("{r:.1}")),
                run.emails.sent,
            );
        }
        for run in &host.runs {
            println!();
            println!(
                "  where the time goes, {} (ms per saga; phases overlap where noted):",
                mode(run.mode, cx.cli)
            );
            let completed: Vec<&Timeline> = sorted(run)
                .into_iter()
                .filter(|t| t.completed.is_some())
                .collect();
            for phase in timeline::phases(&completed) {
                println!(
                    "    {:<66} p50 {:>5}  p99 {:>5}",
                    phase.name,
                    percentile(&phase.millis, 50.0),
                    percentile(&phase.millis, 99.0)
                );
            }
        }
        println!(
            "  fake Stripe during the runs: {} calls refused or unknown (a refund would be one), \
             {} connections",
            host.stripe.bad_requests + host.stripe.unauthorized,
            host.stripe.connections
        );
    }
    println!();
    for host in hosts {
        if let Some(run) = host.runs.iter().find(|r| r.mode == Mode::OneAtATime) {
            let p50 = percentile(&latencies(run), 50.0);
            let met = p50.parse::<i64>().is_ok_and(|p50| p50 <= P50_TARGET_MS);
            println!(
                "target: webhook-to-COMPLETED p50 ≤ {P50_TARGET_MS} ms, one at a time, on {}: \
                 {p50} ms — {}",
                host.name,
                if met { "met" } else { "MISSED" }
            );
        }
    }
}

/// The run's timelines in the order the webhooks were sent (the first one names the steps).
fn sorted(run: &Run) -> Vec<&Timeline> {
    let mut all: Vec<&Timeline> = run.sagas.values().collect();
    all.sort_by_key(|t| t.sent);
    all
}

/// Fails when a run did not do what it claims: a webhook refused, a saga unsettled or not
/// COMPLETED, other than one buyer and one seller email per saga, a call the fake Stripe
/// refused (the happy path makes none: no refund).
pub fn verdict(hosts: &[HostRuns]) -> anyhow::Result<()> {
    let mut failures = Vec::new();
    for host in hosts {
        for run in &host.runs {
            let what = format!("{} ({:?})", host.name, run.mode);
            if !run.refused.is_empty() {
                failures.push(format!("{what}: webhooks refused {:?}", run.refused));
            }
            let not_completed: Vec<_> = run
                .sagas
                .iter()
                .filter(|(_, t)| t.status.as_deref() != Some("COMPLETED"))
                .map(|(id, t)| format!("{id}: {:?}", t.status))
                .collect();
            if run.unsettled > 0 || !not_completed.is_empty() {
                failures.push(format!(
                    "{what}: {} unsettled, not COMPLETED: {:?}",
                    run.unsettled,
                    not_completed.iter().take(5).collect::<Vec<_>>()
                ));
            }
            let expected = 2 * run.sagas.len() as u64;
            if run.emails.sent != expected || run.emails.refused > 0 {
                failures.push(format!(
                    "{what}: {} emails sent, {} refused (expected {expected} sent)",
                    run.emails.sent, run.emails.refused
                ));
            }
        }
        if host.stripe.bad_requests + host.stripe.unauthorized > 0 {
            failures.push(format!(
                "{}: the fake Stripe refused {:?}",
                host.name, host.stripe
            ));
        }
    }
    anyhow::ensure!(
        failures.is_empty(),
        "the bench failed:\n{}",
        failures.join("\n")
    );
    Ok(())
}
