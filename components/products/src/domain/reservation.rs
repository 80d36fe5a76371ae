//! Where a stock reservation is and what settling it does: the rules behind the catalog
//! export's `commit`, `restock` and `release`, decided from the stored reservation before the
//! store carries them out in one transaction.
//!
//! A reservation goes held → committed → restocked, or held → released. Expiry is not a state:
//! a held reservation past its `expires_at` simply stops counting against availability. The
//! money for a reservation may arrive after it expired or was released (a slow payment, a
//! replaced checkout), so `commit` then takes its lines from what is available at that moment
//! rather than refusing a paid order.

use super::ReservationLines;
use timestamp::Timestamp;

/// A reservation's state as stored (`reservations.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Held,
    Committed,
    Released,
    Restocked,
}

impl State {
    /// The state as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Restocked => "restocked",
        }
    }

    /// A stored state.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "held" => Some(Self::Held),
            "committed" => Some(Self::Committed),
            "released" => Some(Self::Released),
            "restocked" => Some(Self::Restocked),
            _ => None,
        }
    }
}

/// A stored reservation, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub state: State,
    /// The canonical JSON of its lines ([`ReservationLines::canonical`]).
    pub lines: String,
    pub expires_at: Timestamp,
}

impl Stored {
    /// Whether its units are still held for it (held and not expired).
    fn holds(&self, now: Timestamp) -> bool {
        self.state == State::Held && self.expires_at > now
    }

    /// Its state as a settling refusal names it (an expired hold is `expired`).
    fn named(&self, now: Timestamp) -> &'static str {
        match self.state {
            State::Held if !self.holds(now) => "expired",
            state => state.as_str(),
        }
    }
}

/// What `commit` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Held and unexpired: the units it holds become the sale.
    Held,
    /// Expired, released or never made: the lines are taken from the units available now,
    /// all or none, and the reservation is recorded as committed.
    FromAvailable,
    /// Committed before: nothing changes.
    Repeat,
    /// The reservation exists with other lines.
    OtherLines,
    /// Committed and restocked since: that sale was undone (order-saga compensation) and a
    /// late commit must not make it again.
    Restocked,
}

/// The rule of `commit(reservation-id, lines)`.
pub fn commit(stored: Option<&Stored>, lines: &ReservationLines, now: Timestamp) -> Commit {
    let Some(stored) = stored else {
        return Commit::FromAvailable;
    };
    if stored.lines != lines.canonical() {
        return Commit::OtherLines;
    }
    match stored.state {
        State::Committed => Commit::Repeat,
        State::Restocked => Commit::Restocked,
        State::Held if stored.holds(now) => Commit::Held,
        State::Held | State::Released => Commit::FromAvailable,
    }
}

/// What `restock` or `release` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Act now.
    Act,
    /// Done before: nothing changes.
    Repeat,
    /// No reservation has the id.
    Unknown,
    /// The reservation is in a state this cannot act on (named).
    WrongState(&'static str),
}

/// The rule of `restock`: only a committed reservation's units come back, once.
pub fn restock(stored: Option<&Stored>, now: Timestamp) -> Settle {
    match stored {
        None => Settle::Unknown,
        Some(s) if s.state == State::Committed => Settle::Act,
        Some(s) if s.state == State::Restocked => Settle::Repeat,
        Some(s) => Settle::WrongState(s.named(now)),
    }
}

/// The rule of `release`: a held reservation (expired or not) is released once; a sale is not.
pub fn release(stored: Option<&Stored>) -> Settle {
    match stored.map(|s| s.state) {
        None => Settle::Unknown,
        Some(State::Held) => Settle::Act,
        Some(State::Released) => Settle::Repeat,
        Some(state @ (State::Committed | State::Restocked)) => Settle::WrongState(state.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);

    fn lines(quantity: u32) -> ReservationLines {
        ReservationLines::parse([("lamp".to_owned(), quantity)]).unwrap()
    }

    fn stored(state: State, expires_at: i64) -> Stored {
        Stored {
            state,
            lines: lines(2).canonical(),
            expires_at: Timestamp::from_millis(expires_at),
        }
    }

    const LATER: i64 = 2_000_000;
    const EARLIER: i64 = 999_999;

    #[test]
    fn a_held_reservation_commits_what_it_holds() {
        let held = stored(State::Held, LATER);
        assert_eq!(commit(Some(&held), &lines(2), NOW), Commit::Held);
    }

    #[test]
    fn an_expired_released_or_unknown_reservation_commits_from_what_is_available() {
        let expired = stored(State::Held, EARLIER);
        let released = stored(State::Released, LATER);
        let at_expiry = stored(State::Held, NOW.millis());
        for s in [&expired, &released, &at_expiry] {
            assert_eq!(commit(Some(s), &lines(2), NOW), Commit::FromAvailable);
        }
        assert_eq!(commit(None, &lines(2), NOW), Commit::FromAvailable);
    }

    #[test]
    fn a_commit_happens_once_and_never_after_its_restock() {
        let committed = stored(State::Committed, EARLIER);
        assert_eq!(commit(Some(&committed), &lines(2), NOW), Commit::Repeat);
        let restocked = stored(State::Restocked, EARLIER);
        assert_eq!(commit(Some(&restocked), &lines(2), NOW), Commit::Restocked);
    }

    #[test]
    fn a_commit_must_name_the_reservations_own_lines() {
        for state in [
            State::Held,
            State::Committed,
            State::Released,
            State::Restocked,
        ] {
            let s = stored(state, LATER);
            assert_eq!(commit(Some(&s), &lines(3), NOW), Commit::OtherLines);
        }
    }

    #[test]
    fn only_a_committed_reservation_is_restocked_and_only_once() {
        let committed = stored(State::Committed, EARLIER);
        assert_eq!(restock(Some(&committed), NOW), Settle::Act);
        let restocked = stored(State::Restocked, EARLIER);
        assert_eq!(restock(Some(&restocked), NOW), Settle::Repeat);
        assert_eq!(restock(None, NOW), Settle::Unknown);
    }

    #[test]
    fn restocking_what_was_never_sold_names_its_state() {
        let cases = [
            (stored(State::Held, LATER), "held"),
            (stored(State::Held, EARLIER), "expired"),
            (stored(State::Released, LATER), "released"),
        ];
        for (s, name) in cases {
            assert_eq!(restock(Some(&s), NOW), Settle::WrongState(name));
        }
    }

    #[test]
    fn a_sale_is_never_released() {
        assert_eq!(release(Some(&stored(State::Held, LATER))), Settle::Act);
        assert_eq!(release(Some(&stored(State::Held, EARLIER))), Settle::Act);
        assert_eq!(
            release(Some(&stored(State::Released, LATER))),
            Settle::Repeat
        );
        assert_eq!(
            release(Some(&stored(State::Committed, LATER))),
            Settle::WrongState("committed")
        );
        assert_eq!(
            release(Some(&stored(State::Restocked, LATER))),
            Settle::WrongState("restocked")
        );
        assert_eq!(release(None), Settle::Unknown);
    }

    #[test]
    fn states_read_back_as_stored() {
        for state in [
            State::Held,
            State::Committed,
            State::Released,
            State::Restocked,
        ] {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
        assert_eq!(State::parse("expired"), None);
    }
}
