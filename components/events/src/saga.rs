//! The order saga: a paid checkout becomes exactly one order, one money move and one email per
//! party, whatever Redis, Stripe and the host do.
//!
//! The steps are a list (`steps::FORWARD`), each with its compensation beside it. A step's
//! outcome is recorded once it is done, keyed by (saga id, step), and the saga id is our
//! checkout id, so a saga started again (a redelivered or re-driven start) skips what is done
//! and resumes at the first step not done; every step is also idempotent in the domain it
//! touches, so a crash between a step's effect and its record repeats nothing. A transient
//! failure is retried for a few seconds and then left for the re-drive; a step that can never
//! succeed runs the compensations of the steps up to it in reverse, then `steps::REFUND`
//! (release the holds, refund through Stripe, mark the order REFUNDED, email the buyer).

mod steps;

use crate::config;
use crate::message::SagaStart;
use crate::retry::{StepError, with_backoff};
use crate::store::{self, Status};
use spin_sdk::sqlite3::Connection;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use timestamp::Timestamp;

/// How long one handler may move a saga before leaving the rest to the re-drive.
const BUDGET: Duration = Duration::from_secs(8);

/// A saga being moved: its frozen start and the outcomes of the steps done.
pub struct Run<'a> {
    pub start: &'a SagaStart,
    pub done: HashMap<String, String>,
}

impl Run<'_> {
    /// The saga id (our checkout id).
    pub fn id(&self) -> &str {
        &self.start.checkout_id
    }

    /// The order placed by the first step, once it has run.
    pub fn order_id(&self) -> Option<&str> {
        self.done.get(steps::PLACE_ORDER).map(String::as_str)
    }
}

/// An action of the saga; `Ok` is the outcome to record.
pub type Action = fn(&mut Run) -> Result<String, StepError>;

/// A named step and what undoes it.
pub struct Step {
    pub name: &'static str,
    pub run: Action,
    /// Undoes `run`, and is harmless when `run` never happened (it also runs for the step that
    /// failed). `None` from the point of no return on: no later step can fail for good.
    pub compensate: Option<Action>,
}

/// Runs or resumes the saga of `start`.
pub fn run(start: SagaStart) -> anyhow::Result<()> {
    let db = store::open()?;
    let now = Timestamp::now();
    let saga = store::begin(&db, &start, now)?;
    let id = saga.start.checkout_id.clone();
    if saga.status != Status::Running {
        return Ok(()); // finished: a redelivery changes nothing
    }
    let lease_ms = config::lease().as_millis() as i64;
    if !store::take(&db, &id, lease_ms, now)? {
        eprintln!("saga {id}: another handler is moving it");
        return Ok(());
    }
    let outcome = drive(&db, &saga.start, saga.failure.is_some());
    if let Err(e) = store::give_back(&db, &id) {
        eprintln!("saga {id}: lease not given back (it lapses): {e}");
    }
    outcome
}

fn drive(db: &Connection, start: &SagaStart, failed_before: bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + BUDGET;
    let id = start.checkout_id.as_str();
    let mut run = Run {
        start,
        done: store::done(db, id)?,
    };
    // The first step not done is where the saga is (or where it failed).
    let at = steps::FORWARD
        .iter()
        .position(|step| !run.done.contains_key(step.name))
        .unwrap_or(steps::FORWARD.len());
    if !failed_before {
        for step in &steps::FORWARD[at..] {
            match perform(db, &mut run, step.name, step.run, deadline)? {
                None => {}
                Some(StepError::Transient(why)) => {
                    eprintln!(
                        "saga {id}: {} pending (the re-drive resumes it): {why}",
                        step.name
                    );
                    return Ok(());
                }
                Some(StepError::Permanent(why)) if step.compensate.is_none() => {
                    eprintln!(
                        "saga {id}: {} failed past the point of no return, left pending for an \
                         operator: {why}",
                        step.name
                    );
                    return Ok(());
                }
                Some(StepError::Permanent(why)) => {
                    eprintln!(
                        "saga {id}: {} can never succeed, compensating: {why}",
                        step.name
                    );
                    store::failed(db, id, &format!("{}: {why}", step.name), Timestamp::now())?;
                    return compensate(db, &mut run, deadline);
                }
            }
        }
        store::finish(db, id, Status::Completed, Timestamp::now())?;
        return Ok(());
    }
    compensate(db, &mut run, deadline)
}

/// Undoes the steps up to the first one not done (the one that failed), latest first, then
/// refunds.
fn compensate(db: &Connection, run: &mut Run, deadline: Instant) -> anyhow::Result<()> {
    let id = run.id().to_owned();
    let failed_at = steps::FORWARD
        .iter()
        .position(|step| !run.done.contains_key(step.name))
        .unwrap_or(steps::FORWARD.len() - 1);
    let undo = steps::FORWARD[..=failed_at]
        .iter()
        .rev()
        .filter_map(|step| step.compensate.map(|undo| (undo_name(step.name), undo)));
    let refund = steps::REFUND
        .iter()
        .map(|step| (step.name.to_owned(), step.run));
    for (name, action) in undo.chain(refund).collect::<Vec<_>>() {
        if let Some(e) = perform(db, run, &name, action, deadline)? {
            eprintln!("saga {id}: {name} pending (the re-drive resumes it): {e}");
            return Ok(());
        }
    }
    store::finish(db, &id, Status::Refunded, Timestamp::now())?;
    Ok(())
}

fn undo_name(step: &str) -> String {
    format!("undo:{step}")
}

/// Runs `action` unless `name` is done, retrying transient failures, and records its outcome;
/// `Some` error when it did not get done.
fn perform(
    db: &Connection,
    run: &mut Run,
    name: &str,
    action: Action,
    deadline: Instant,
) -> anyhow::Result<Option<StepError>> {
    if run.done.contains_key(name) {
        return Ok(None);
    }
    match with_backoff(deadline, || action(run)) {
        Ok(outcome) => {
            store::step_done(db, run.id(), name, &outcome, Timestamp::now())?;
            run.done.insert(name.to_owned(), outcome);
            Ok(None)
        }
        Err(e) => Ok(Some(e)),
    }
}
