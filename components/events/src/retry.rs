//! Bounded retries inside one message's handler. Spin handles one message at a time per Redis
//! connection, so a saga must not wait long: a few quick attempts with growing pauses, and
//! after that the step is left for the re-drive.

use std::time::{Duration, Instant};

/// Why a step did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// Might work later (storage busy, a service down or slow): retried, then left pending.
    Transient(String),
    /// Never will (stock gone after payment, the buyer deleted): the saga compensates.
    Permanent(String),
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Transient(why) => write!(f, "transient: {why}"),
            StepError::Permanent(why) => write!(f, "permanent: {why}"),
        }
    }
}

/// Pauses between attempts: 0.1 s doubling, about 3 s of waiting in all.
const PAUSES_MS: [u64; 5] = [100, 200, 400, 800, 1600];

/// Runs `attempt` until it succeeds, fails for good, or the pauses or `deadline` run out; the
/// last transient error is returned then.
pub fn with_backoff<T>(
    deadline: Instant,
    mut attempt: impl FnMut() -> Result<T, StepError>,
) -> Result<T, StepError> {
    let mut pauses = PAUSES_MS.iter();
    loop {
        match attempt() {
            Err(StepError::Transient(why)) => {
                let Some(pause) = pauses.next().map(|ms| Duration::from_millis(*ms)) else {
                    return Err(StepError::Transient(why));
                };
                if Instant::now() + pause > deadline {
                    return Err(StepError::Transient(why));
                }
                eprintln!("retrying in {pause:?} after {why}");
                std::thread::sleep(pause);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transient_failure_is_retried_and_a_permanent_one_is_not() {
        let far = Instant::now() + Duration::from_secs(60);
        let mut calls = 0;
        let outcome = with_backoff(far, || {
            calls += 1;
            if calls < 3 {
                Err(StepError::Transient("busy".into()))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(outcome, Ok(3));

        let mut calls = 0;
        let outcome: Result<(), _> = with_backoff(far, || {
            calls += 1;
            Err(StepError::Permanent("gone".into()))
        });
        assert_eq!(outcome, Err(StepError::Permanent("gone".into())));
        assert_eq!(calls, 1);
    }

    #[test]
    fn retries_stop_at_the_deadline() {
        let soon = Instant::now() + Duration::from_millis(150);
        let mut calls = 0;
        let outcome: Result<(), _> = with_backoff(soon, || {
            calls += 1;
            Err(StepError::Transient("down".into()))
        });
        assert!(matches!(outcome, Err(StepError::Transient(_))));
        assert_eq!(calls, 2, "one pause of 100 ms fits, the next does not");
    }
}
