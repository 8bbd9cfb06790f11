//! The memory guard: before a run allocates for a huge swarm, estimate what
//! it will hold and refuse, with the estimate and the limit, when that is
//! more than the machine can give. The limit is `MOAI_MAX_MEMORY` (bytes,
//! or with a `K`, `M` or `G` suffix) when set, else 80% of the memory the
//! system reports available (`MemAvailable` in `/proc/meminfo`), else
//! [`FALLBACK_LIMIT`].

use crate::scenario::{GossipConfig, Topology};

/// The limit when neither `MOAI_MAX_MEMORY` nor the system says one.
pub const FALLBACK_LIMIT: u64 = 8 << 30;

/// Bytes a gossip run holds for `agents` agents: a vote and a behaviour per
/// agent, two vote buffers, the graph (offsets and neighbours) and a group
/// label per agent per partition.
pub fn gossip_bytes(agents: u64, config: &GossipConfig) -> u64 {
    let graph = match config.topology {
        Topology::Complete => 0,
        _ => agents * (u64::from(config.degree) + 1) * 4,
    };
    agents * 4 + graph + agents * 4 * config.partitions.len() as u64
}

/// Bytes a Byzantine run holds for `agents` agents: per-agent vote records
/// and, in the worst case, an id string in the healthy list for each.
pub fn byzantine_bytes(agents: u64) -> u64 {
    agents * 64
}

/// The limit in force, and where it comes from.
pub fn limit() -> (u64, &'static str) {
    if let Some(limit) = std::env::var("MOAI_MAX_MEMORY")
        .ok()
        .and_then(|v| parse_size(&v))
    {
        return (limit, "MOAI_MAX_MEMORY");
    }
    match available() {
        Some(bytes) => (bytes / 5 * 4, "80% of the memory available"),
        None => (FALLBACK_LIMIT, "the fallback limit"),
    }
}

/// Checks an estimate against the limit; the error says both.
pub fn check(estimate: u64) -> Result<(), String> {
    let (limit, source) = limit();
    if estimate > limit {
        return Err(format!(
            "this run needs about {} of memory, more than {} ({source}); use fewer agents, or set MOAI_MAX_MEMORY",
            human(estimate),
            human(limit)
        ));
    }
    Ok(())
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `123`, `64K`, `512M` or `2G` as bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.chars().last()?.to_ascii_uppercase() {
        'K' => (&text[..text.len() - 1], 10),
        'M' => (&text[..text.len() - 1], 20),
        'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn estimates_grow_with_agents_and_graphs() {
        let complete = GossipConfig::default();
        let ring = GossipConfig {
            topology: Topology::Ring,
            degree: 8,
            ..GossipConfig::default()
        };
        assert_eq!(gossip_bytes(1_000_000, &complete), 4_000_000);
        assert_eq!(gossip_bytes(1_000_000, &ring), 4_000_000 + 36_000_000);
        assert!(byzantine_bytes(1_000_000) > gossip_bytes(1_000_000, &complete));
        assert_eq!(human(3 << 30), "3.0 GiB");
    }
}
