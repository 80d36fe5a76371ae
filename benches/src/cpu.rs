//! How busy the machine was with something other than the benchmark: CPU time from
//! `/proc/stat` (all CPUs, including time the hypervisor gave to other guests) minus what the
//! server under test and this process used (`/proc/<pid>/stat`), over a run; and the CPU time
//! the server itself used. "The server" is its whole process group ([`crate::servers`] starts
//! each server as a group leader): `spin up` does its work in a child process (`spin trigger
//! http`), which counting the leader alone would book as someone else's. Linux only; on other
//! systems every reading is `None`.

use std::time::Duration;

/// Clock ticks per second of `/proc` (`USER_HZ`, `getconf CLK_TCK`): 100 on every Linux
/// architecture the benches run on.
const TICKS_PER_SECOND: u64 = 100;

/// A reading of the counters, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Every CPU's ticks, busy or idle.
    total: u64,
    /// Every CPU's busy ticks, including steal.
    busy: u64,
    /// The measured processes' user + system ticks.
    ours: u64,
    /// The server's share of `ours`.
    server: u64,
}

/// A process's process group and user + system ticks, from `/proc/<pid>/stat`.
fn stat_of(pid: &str) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields start after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // pgrp is field 5 of the whole line (2 after the name); utime and stime are fields 14 and
    // 15 (11 and 12 after the name).
    let group = fields.get(2)?.parse().ok()?;
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((group, ticks))
}

fn process_ticks(pid: u32) -> Option<u64> {
    stat_of(&pid.to_string()).map(|(_, ticks)| ticks)
}

/// Every live process of the group `leader` leads, added up (processes that already exited
/// are not seen; the servers' helpers live as long as the server).
fn group_ticks(leader: u32) -> Option<u64> {
    // The leader must be alive: a sample of an exited server would read as zero.
    process_ticks(leader)?;
    let ticks = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| stat_of(entry.file_name().to_str()?))
        .filter(|(group, _)| *group == leader)
        .map(|(_, ticks)| ticks)
        .sum();
    Some(ticks)
}

/// Reads the counters, counting the process group `server` leads and this process as ours.
pub fn sample(server: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user]
    let (idle, iowait) = (*cpu.get(3)?, *cpu.get(4)?);
    let total: u64 = cpu.iter().take(8).sum();
    let server = group_ticks(server)?;
    Some(Sample {
        total,
        busy: total - idle - iowait,
        ours: server + process_ticks(std::process::id())?,
        server,
    })
}

/// The CPU time (user + system, all its threads) the server used between two samples; at the
/// resolution of a clock tick (10 ms), so meaningful over seconds of load.
pub fn server_time(before: Option<Sample>, after: Option<Sample>) -> Option<Duration> {
    let ticks = after?.server.checked_sub(before?.server)?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// The share of the machine's CPU time between two samples that went to neither the server
/// nor this process (other processes, the kernel on their behalf, other VMs), in percent.
pub fn others_percent(before: Option<Sample>, after: Option<Sample>) -> Option<f64> {
    let (before, after) = (before?, after?);
    let total = after.total.checked_sub(before.total)?;
    let busy = after.busy.checked_sub(before.busy)?;
    let ours = after.ours.checked_sub(before.ours)?;
    (total > 0).then(|| 100.0 * busy.saturating_sub(ours) as f64 / total as f64)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_counted_and_nothing_is_negative() {
        let before = sample(std::process::id()).expect("procfs readable");
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = sample(std::process::id());
        let others = others_percent(Some(before), after).unwrap_or(0.0);
        assert!((0.0..=100.0).contains(&others));
        // The "server" here is this process, which just spent CPU time.
        assert!(server_time(Some(before), after).is_some());
    }
}
