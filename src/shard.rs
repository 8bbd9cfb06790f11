//! Sharded trials and sweeps: `--shard K/N` runs the K-th of N slices of a
//! plan of trials and writes a partial result; `moai merge` checks that the
//! parts come from one plan, each slice once, and adds them up.
//!
//! A plan is the list of (batch, trial) pairs of a run: one batch per swept
//! value (or one), each of the same number of trials. Trial `t` of every
//! batch draws from the seed's stream `t`, whichever machine runs it, and
//! the accumulators of trials are sums of integers, so the merged parts
//! give exactly the unsharded run's summaries. The slices are contiguous in
//! plan order and balanced by work, not by count: each pair weighs its
//! batch's work per trial, and the pair goes to the shard its middle falls
//! in.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::montecarlo::{BandTotals, ByzantineTrials, GossipTrials};

/// Most shards a plan may be cut into.
pub const MAX_SHARDS: u64 = 100_000;

/// Where a run's trials come from.
#[derive(Debug, Clone, Default)]
pub enum TrialSource {
    /// Run here, every trial.
    #[default]
    Run,
    /// Run the slice `--shard` asks for; the command line after `moai`
    /// without `--shard`, which a partial result records.
    Shard {
        /// The command, to run again at the merge.
        command: Vec<String>,
    },
    /// Given by `moai merge`: each batch's sums over all its trials.
    Merged(std::sync::Arc<Merged>),
}

/// What `--shard` asks for: a slice given outright, or read from the
/// scheduler's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `K/N`.
    Given(Shard),
    /// `auto`: Slurm's `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` and
    /// `SLURM_ARRAY_TASK_COUNT`; `auto/N`: Kubernetes' `JOB_COMPLETION_INDEX`
    /// (from 0) of N, or Slurm's checked against N.
    Auto(Option<u64>),
}

/// Slice `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl std::str::FromStr for ShardSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let count = |n: &str| {
            n.parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_SHARDS).contains(n))
                .ok_or_else(|| format!("the shard count must be from 1 to {MAX_SHARDS}, got '{n}'"))
        };
        match text.split_once('/') {
            None if text == "auto" => Ok(ShardSpec::Auto(None)),
            Some(("auto", n)) => Ok(ShardSpec::Auto(Some(count(n)?))),
            Some((k, n)) => {
                let count = count(n)?;
                let index = k
                    .parse::<u64>()
                    .ok()
                    .filter(|k| (1..=count).contains(k))
                    .ok_or_else(|| {
                        format!("K must be from 1 to {count} in K/{count}, got '{k}'")
                    })?;
                Ok(ShardSpec::Given(Shard { index, count }))
            }
            None => Err(format!("'{text}' is not K/N, auto or auto/N")),
        }
    }
}

impl ShardSpec {
    /// The slice, reading the scheduler's variables through `var` for `auto`.
    pub fn resolve(self, var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let given = match self {
            ShardSpec::Given(shard) => return Ok(shard),
            ShardSpec::Auto(given) => given,
        };
        let number = |name: &str| -> Result<Option<u64>, String> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{name} is '{v}', not a whole number"))
                })
                .transpose()
        };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let count = number("SLURM_ARRAY_TASK_COUNT")?
                .ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")?;
            if given.is_some_and(|n| n != count) {
                return Err(format!(
                    "auto/{} asks for {} shards but SLURM_ARRAY_TASK_COUNT is {count}",
                    given.unwrap_or_default(),
                    given.unwrap_or_default()
                ));
            }
            let index = id
                .checked_sub(first)
                .map(|i| i + 1)
                .filter(|i| (1..=count).contains(i) && count <= MAX_SHARDS)
                .ok_or_else(|| {
                    format!(
                        "SLURM_ARRAY_TASK_ID {id} is not one of the {count} tasks from \
                         SLURM_ARRAY_TASK_MIN {first} (use a contiguous --array, such as 1-{count})"
                    )
                })?;
            return Ok(Shard { index, count });
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = given.ok_or(
                "JOB_COMPLETION_INDEX gives the shard but not the count: use --shard auto/N",
            )?;
            if index >= count {
                return Err(format!(
                    "JOB_COMPLETION_INDEX is {index}, but auto/{count} has indexes 0 to {}",
                    count - 1
                ));
            }
            return Ok(Shard {
                index: index + 1,
                count,
            });
        }
        Err(
            "auto found no scheduler: set SLURM_ARRAY_TASK_ID (a Slurm job array) or \
             JOB_COMPLETION_INDEX with auto/N (a Kubernetes Indexed Job), or give K/N"
                .to_string(),
        )
    }
}

/// Each batch's trials in `shard`: batch `b` has `trials` trials of work
/// `weights[b]` each. Contiguous slices of the plan, balanced by work.
pub fn slices(weights: &[u128], trials: u64, shard: Shard) -> Vec<Range<u64>> {
    let total: u128 = weights.iter().map(|&w| w.max(1)).sum::<u128>() * u128::from(trials);
    let n = u128::from(shard.count);
    let mut before = 0u128;
    weights
        .iter()
        .map(|&weight| {
            let w = weight.max(1);
            // The shard (from 0) of trial t: where its middle falls.
            let shard_of = |t: u64| (n * (2 * (before + u128::from(t) * w) + w)) / (2 * total);
            let first_at_least = |k: u128| {
                let (mut lo, mut hi) = (0, trials);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if shard_of(mid) >= k {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                lo
            };
            let index = u128::from(shard.index);
            let range = first_at_least(index - 1)..first_at_least(index);
            before += w * u128::from(trials);
            range
        })
        .collect()
}

/// One batch's trials in a part: their range and what they summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartBatch {
    /// The swept value, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The trials this part ran: `first..end`.
    pub trials: [u64; 2],
    /// Their sums.
    pub sums: Sums,
}

/// Mergeable sums of trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sums {
    /// Gossip: the trial summary's counts and the agreement per round.
    Gossip {
        /// Counts, the rounds histogram and the final agreement.
        trials: GossipTrials,
        /// The per-round agreement histograms (none before any trial).
        agreement_by_round: Option<BandTotals>,
    },
    /// Byzantine: the trial summary's counts.
    Byzantine(ByzantineTrials),
}

impl Sums {
    /// Adds `other`'s trials.
    pub fn merge(&mut self, other: &Sums) -> Result<(), String> {
        match (self, other) {
            (Sums::Byzantine(a), Sums::Byzantine(b)) => a.merge(b),
            (
                Sums::Gossip {
                    trials,
                    agreement_by_round,
                },
                Sums::Gossip {
                    trials: more,
                    agreement_by_round: bands,
                },
            ) => {
                trials.merge(more);
                match (agreement_by_round, bands) {
                    (Some(a), Some(b)) => a.merge(b)?,
                    (a @ None, b) => *a = b.clone(),
                    (_, None) => {}
                }
            }
            _ => return Err("the parts are of different algorithms".to_string()),
        }
        Ok(())
    }
}

/// The scenario a plan ran: its name in messages and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioText {
    /// How messages name it (the path as given, or `bundled:NAME`).
    pub name: String,
    /// Its default name, the file stem.
    pub stem: String,
    /// The TOML text.
    pub text: String,
}

/// What makes parts parts of one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// A hash of everything below, to tell plans apart at a glance.
    pub fingerprint: String,
    /// The moai that ran the part.
    pub moai_version: String,
    /// Its results stream ([`crate::rng::STREAM_VERSION`]).
    pub stream: u32,
    /// The seed in force.
    pub seed: u64,
    /// The command line after `moai`, without `--shard`.
    pub command: Vec<String>,
    /// A hash of the scenario's text.
    pub scenario_hash: String,
    /// The scenario.
    pub scenario: ScenarioText,
    /// Trials per batch.
    pub trials: u64,
    /// The settings of each batch, as the report prints them.
    pub settings: Vec<serde_json::Value>,
    /// How many shards the plan is cut into.
    pub shards: u64,
}

impl Plan {
    /// The plan's fingerprint: a hash of what identifies it.
    pub fn fingerprint_of(&self) -> String {
        let settings = serde_json::to_string(&self.settings).unwrap_or_default();
        let fields = [
            self.moai_version.as_str(),
            &self.stream.to_string(),
            &self.seed.to_string(),
            &self.command.join("\u{0}"),
            &self.scenario.text,
            &self.trials.to_string(),
            &settings,
            &self.shards.to_string(),
        ];
        format!("{:016x}", fnv1a(fields.join("\u{1}").as_bytes()))
    }
}

/// The hash of a scenario's text, as a plan records it.
pub fn scenario_hash(text: &str) -> String {
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// FNV-1a, 64 bits: stable on every platform and version, which the plan's
/// fingerprint needs (the standard library's hasher promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A partial result: what `--shard K/N --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// The part itself (one key, so a part is told from a report at once).
    pub partial: Part,
}

/// The body of a [`Partial`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Which shard this is, from 1, of the plan's shards.
    pub shard: u64,
    /// The plan.
    pub plan: Plan,
    /// Per batch, in plan order: the trials run and their sums.
    pub batches: Vec<PartBatch>,
}

/// A part as read, with the name messages give it.
pub struct NamedPart {
    /// The file it came from.
    pub name: String,
    /// Its contents.
    pub part: Part,
}

/// The merge of every part of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The plan.
    pub plan: Plan,
    /// Each batch's sums over all its trials, in plan order.
    pub sums: Vec<Sums>,
}

/// Checks that `parts` are the shards 1..N of one plan, each once, with
/// slices that cover every trial of every batch once, and adds them up in
/// shard order. Errors name the file at fault: `(file, message)`.
pub fn merge(mut parts: Vec<NamedPart>) -> Result<Merged, (String, String)> {
    let Some(first) = parts.first() else {
        return Err((String::new(), "no parts to merge".to_string()));
    };
    let (plan, first_name) = (first.part.plan.clone(), first.name.clone());
    for named in &parts {
        let (p, name) = (&named.part.plan, &named.name);
        let differs = |what: &str, mine: &str, theirs: &str| {
            Err((
                name.clone(),
                format!(
                    "{what} {mine}, but {first_name} has {theirs}: not a part of the same plan"
                ),
            ))
        };
        if (&p.moai_version, p.stream) != (&plan.moai_version, plan.stream) {
            return differs(
                "made by moai",
                &format!("{} (stream {})", p.moai_version, p.stream),
                &format!("{} (stream {})", plan.moai_version, plan.stream),
            );
        }
        if p.seed != plan.seed {
            return differs("seed", &p.seed.to_string(), &plan.seed.to_string());
        }
        if p.scenario_hash != plan.scenario_hash || p.scenario != plan.scenario {
            return differs(
                "scenario",
                &format!("{} ({})", p.scenario.name, p.scenario_hash),
                &format!("{} ({})", plan.scenario.name, plan.scenario_hash),
            );
        }
        if p.shards != plan.shards {
            return differs(
                "shard count",
                &p.shards.to_string(),
                &plan.shards.to_string(),
            );
        }
        if p.fingerprint != p.fingerprint_of() {
            return Err((
                name.clone(),
                "the plan does not match its fingerprint: the part was edited or is damaged"
                    .to_string(),
            ));
        }
        if p != &plan {
            return differs(
                "command",
                &format!("'moai {}'", p.command.join(" ")),
                &format!("'moai {}'", plan.command.join(" ")),
            );
        }
        let shard = named.part.shard;
        if !(1..=plan.shards).contains(&shard) {
            return Err((
                name.clone(),
                format!("shard {shard} is not one of 1 to {}", plan.shards),
            ));
        }
        if named.part.batches.len() != plan.settings.len() {
            return Err((
                name.clone(),
                format!(
                    "the part has {} batches, but the plan {}",
                    named.part.batches.len(),
                    plan.settings.len()
                ),
            ));
        }
    }
    parts.sort_by_key(|p| p.part.shard);
    for pair in parts.windows(2) {
        if pair[0].part.shard == pair[1].part.shard {
            return Err((
                pair[1].name.clone(),
                format!(
                    "shard {} of {} is given twice, also by {}",
                    pair[1].part.shard, plan.shards, pair[0].name
                ),
            ));
        }
    }
    let have: Vec<u64> = parts.iter().map(|p| p.part.shard).collect();
    let missing: Vec<String> = (1..=plan.shards)
        .filter(|k| have.binary_search(k).is_err())
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        let (s, them) = if missing.len() == 1 {
            ("", "it")
        } else {
            ("s", "them")
        };
        return Err((
            String::new(),
            format!(
                "shard{s} {} of {} missing: run {them} (--shard K/{}) and merge every part",
                missing.join(", "),
                plan.shards,
                plan.shards
            ),
        ));
    }
    let mut sums = Vec::with_capacity(plan.settings.len());
    for b in 0..plan.settings.len() {
        let mut next = 0;
        let mut total: Option<Sums> = None;
        for named in &parts {
            let batch = &named.part.batches[b];
            let [first, end] = batch.trials;
            if first != next || end < first || end > plan.trials {
                return Err((
                    named.name.clone(),
                    format!(
                        "batch {} has trials {first}..{end}, but the parts before it end at {next}",
                        b + 1
                    ),
                ));
            }
            next = end;
            match &mut total {
                None => total = Some(batch.sums.clone()),
                Some(total) => total
                    .merge(&batch.sums)
                    .map_err(|message| (named.name.clone(), message))?,
            }
        }
        if next != plan.trials {
            return Err((
                String::new(),
                format!(
                    "batch {} has {next} of its {} trials in the parts",
                    b + 1,
                    plan.trials
                ),
            ));
        }
        sums.push(total.expect("a plan has at least one shard"));
    }
    Ok(Merged { plan, sums })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u64, count: u64) -> Shard {
        Shard { index, count }
    }

    #[test]
    fn shard_specs_parse_and_refuse() {
        assert_eq!("2/7".parse(), Ok(ShardSpec::Given(shard(2, 7))));
        assert_eq!("auto".parse(), Ok(ShardSpec::Auto(None)));
        assert_eq!("auto/4".parse(), Ok(ShardSpec::Auto(Some(4))));
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "", "auto/0", "1/2/3"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn auto_reads_slurm_and_kubernetes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(ShardSpec::Auto(None).resolve(slurm), Ok(shard(3, 4)));
        assert_eq!(ShardSpec::Auto(Some(4)).resolve(slurm), Ok(shard(3, 4)));
        assert!(ShardSpec::Auto(Some(5)).resolve(slurm).is_err());
        let from_zero = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        assert_eq!(ShardSpec::Auto(None).resolve(from_zero), Ok(shard(1, 2)));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(ShardSpec::Auto(Some(3)).resolve(k8s), Ok(shard(1, 3)));
        assert!(ShardSpec::Auto(None).resolve(k8s).is_err());
        assert!(
            ShardSpec::Auto(Some(3))
                .resolve(env(&[("JOB_COMPLETION_INDEX", "3")]))
                .is_err()
        );
        assert!(ShardSpec::Auto(None).resolve(env(&[])).is_err());
        assert_eq!(
            ShardSpec::Given(shard(2, 2)).resolve(env(&[])),
            Ok(shard(2, 2))
        );
    }

    #[test]
    fn slices_cover_the_plan_once_in_order() {
        for weights in [
            vec![1u128],
            vec![5, 5, 5],
            vec![1, 10, 100, 1000],
            vec![0, 7],
        ] {
            for trials in [1u64, 2, 9, 100] {
                for count in [1u64, 2, 3, 7, 12] {
                    let all: Vec<Vec<Range<u64>>> = (1..=count)
                        .map(|k| slices(&weights, trials, shard(k, count)))
                        .collect();
                    for b in 0..weights.len() {
                        let mut next = 0;
                        for part in &all {
                            assert_eq!(part[b].start, next, "{weights:?} {trials} {count}");
                            next = part[b].end;
                        }
                        assert_eq!(next, trials);
                    }
                }
            }
        }
    }

    #[test]
    fn slices_balance_work_not_count() {
        // Batches of work 1, 10, 100, 1000 per trial, 100 trials each: the
        // last batch alone is 90% of the work and is split between shards.
        let weights = [1u128, 10, 100, 1000];
        let work = |k| -> u128 {
            let part = slices(&weights, 100, shard(k, 4));
            part.iter()
                .zip(weights)
                .map(|(r, w)| u128::from(r.end - r.start) * w)
                .sum()
        };
        let total: u128 = weights.iter().sum::<u128>() * 100;
        for k in 1..=4 {
            let share = work(k) as f64 / total as f64;
            assert!((share - 0.25).abs() < 0.01, "shard {k}: {share}");
        }
    }

    #[test]
    fn fingerprints_change_with_the_plan() {
        let plan = Plan {
            fingerprint: String::new(),
            moai_version: "1".into(),
            stream: 4,
            seed: 7,
            command: vec!["gossip".into()],
            scenario_hash: scenario_hash("x"),
            scenario: ScenarioText {
                name: "a.toml".into(),
                stem: "a".into(),
                text: "x".into(),
            },
            trials: 10,
            settings: vec![serde_json::json!({"fanout": 3})],
            shards: 2,
        };
        let base = plan.fingerprint_of();
        assert_eq!(base, plan.clone().fingerprint_of());
        let changed = [
            Plan {
                seed: 8,
                ..plan.clone()
            },
            Plan {
                stream: 5,
                ..plan.clone()
            },
            Plan {
                shards: 3,
                ..plan.clone()
            },
            Plan {
                trials: 11,
                ..plan.clone()
            },
        ];
        for other in changed {
            assert_ne!(other.fingerprint_of(), base);
        }
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
