//! Evaluating expectations: a report compared with what the scenario's
//! `[expect]` table ([`crate::scenario::Expectations`]) says the outcome must
//! be, giving the [`Mismatch`]es. `moai check` and `moai run` fail on any
//! mismatch, so a policy change that changes an outcome fails CI. This sits
//! above `report`: it reads results and never shapes them.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use crate::consensus::byzantine::{ByzantineOutcome, ProposalResult};
use crate::exact::ExactSummary;
use crate::montecarlo::{ByzantineTrialsSummary, GossipTrialsSummary};
use crate::report::{Mismatch, Report, TrialsSummary};
use crate::resolve::compare::StrategySummary;
use crate::scenario::{AgentsExpectation, Decision, Expectations};

/// Collects mismatches.
struct Comparison(Vec<Mismatch>);

impl Comparison {
    fn differ(&mut self, key: &str, expected: impl ToString, actual: impl ToString) {
        self.0.push(Mismatch {
            key: key.to_string(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        });
    }

    fn compare<T: PartialEq + ToString>(
        &mut self,
        key: &str,
        expected: Option<T>,
        actual: Option<T>,
    ) {
        let Some(expected) = expected else { return };
        match actual {
            Some(actual) if actual == expected => {}
            Some(actual) => self.differ(key, expected.to_string(), actual.to_string()),
            None => self.differ(key, expected.to_string(), "not reported by this run"),
        }
    }

    fn agents(
        &mut self,
        key: &str,
        expected: &Option<AgentsExpectation>,
        actual: Option<&[String]>,
    ) {
        let Some(expected) = expected else { return };
        let Some(actual) = actual else {
            return self.differ(key, describe_agents(expected), "not reported by this run");
        };
        let holds = match expected {
            AgentsExpectation::Count(n) => actual.len() as u64 == *n,
            AgentsExpectation::Ids(ids) => ids.as_slice() == actual,
        };
        if !holds {
            let actual = match expected {
                AgentsExpectation::Count(_) => actual.len().to_string(),
                AgentsExpectation::Ids(_) => format!("[{}]", actual.join(", ")),
            };
            self.differ(key, describe_agents(expected), actual);
        }
    }
}

fn describe_agents(expected: &AgentsExpectation) -> String {
    match expected {
        AgentsExpectation::Count(n) => n.to_string(),
        AgentsExpectation::Ids(ids) => format!("[{}]", ids.join(", ")),
    }
}

/// What a single run is compared on.
#[derive(Default)]
struct Facts<'a> {
    decision: Option<Decision>,
    converged: Option<bool>,
    rounds_completed: Option<u32>,
    malicious_agents: Option<&'a [String]>,
    byzantine_safe: Option<bool>,
    healthy_agents: Option<&'a [String]>,
}

fn byzantine_facts(outcome: &ByzantineOutcome) -> Facts<'_> {
    Facts {
        decision: Some(outcome.decision),
        malicious_agents: Some(&outcome.metadata.malicious_agents),
        byzantine_safe: Some(outcome.metadata.byzantine_safe),
        healthy_agents: Some(&outcome.metadata.healthy_agents),
        ..Facts::default()
    }
}

/// The mismatches between a single run's report and the expectations about
/// single runs. A proposal sequence is compared on its last decided
/// proposal's decision, whether every decided proposal was safe, and the
/// blacklist and healthy agents after all proposals.
pub fn check_run(expect: &Expectations, report: &Report) -> Vec<Mismatch> {
    let mut c = Comparison(Vec::new());
    let facts = match report {
        Report::Byzantine(r) => byzantine_facts(&r.outcome),
        Report::ByzantineSequence(r) => {
            let decided: Vec<&ByzantineOutcome> = r
                .outcome
                .proposals
                .iter()
                .filter_map(|p| match &p.result {
                    ProposalResult::Decided(o) => Some(o.as_ref()),
                    ProposalResult::Skipped { .. } => None,
                })
                .collect();
            Facts {
                decision: decided.last().map(|o| o.decision),
                byzantine_safe: Some(decided.iter().all(|o| o.metadata.byzantine_safe)),
                malicious_agents: Some(&r.outcome.blacklist),
                healthy_agents: Some(&r.outcome.healthy_agents),
                ..Facts::default()
            }
        }
        Report::Gossip(r) => Facts {
            decision: Some(r.outcome.decision),
            converged: Some(r.outcome.metadata.converged),
            rounds_completed: Some(r.outcome.metadata.rounds_completed),
            ..Facts::default()
        },
        Report::Resolve(r) => {
            check_resolutions(&mut c, expect, r);
            Facts::default()
        }
        Report::Trials(_)
        | Report::Comparison(_)
        | Report::Sweep(_)
        | Report::Scenarios(_)
        | Report::Check(_)
        | Report::Text(_)
        | Report::Partial(_)
        | Report::Explanation(_) => Facts::default(),
    };
    c.compare(
        "decision",
        expect.decision.map(Decision::name),
        facts.decision.map(Decision::name),
    );
    c.compare("converged", expect.converged, facts.converged);
    if let Some(limit) = expect.max_rounds_completed {
        match facts.rounds_completed {
            Some(rounds) if rounds <= limit => {}
            Some(rounds) => c.differ("max_rounds_completed", format!("<= {limit}"), rounds),
            None => c.differ(
                "max_rounds_completed",
                format!("<= {limit}"),
                "not reported by this run",
            ),
        }
    }
    c.agents(
        "malicious_agents",
        &expect.malicious_agents,
        facts.malicious_agents,
    );
    c.compare(
        "byzantine_safe",
        expect.byzantine_safe,
        facts.byzantine_safe,
    );
    c.agents(
        "healthy_agents",
        &expect.healthy_agents,
        facts.healthy_agents,
    );
    c.0
}

fn check_resolutions(
    c: &mut Comparison,
    expect: &Expectations,
    report: &crate::report::ResolveReport,
) {
    // Each expected key is looked up once: linear in the keys, however many.
    let by_key: HashMap<&str, &crate::resolve::Resolution> = report
        .resolutions
        .iter()
        .map(|r| (r.key.as_str(), r))
        .collect();
    let find = |key: &str| by_key.get(key).copied();
    for (key, expected) in expect.values.iter().flat_map(|v| &v.0) {
        let name = format!("values.{key}");
        match find(key) {
            Some(r) if same_value(expected, &r.value) => {}
            Some(r) => c.differ(&name, expected, &r.value),
            None => c.differ(&name, expected, "no such state key"),
        }
    }
    for (key, expected) in expect.strategies.iter().flatten() {
        let name = format!("strategies.{key}");
        match find(key) {
            Some(r) if r.metadata.resolution_strategy == expected => {}
            Some(r) => c.differ(&name, expected, r.metadata.resolution_strategy),
            None => c.differ(&name, expected, "no such state key"),
        }
    }
}

/// The mismatches between `moai resolve --compare`'s totals and
/// `[expect.lost_writes]`: each strategy named may lose at most so many
/// writes over every key it resolves.
pub fn check_lost_writes(expect: &Expectations, summary: &[StrategySummary]) -> Vec<Mismatch> {
    let mut c = Comparison(Vec::new());
    for (name, &max) in expect.lost_writes.iter().flatten() {
        let lost = summary
            .iter()
            .find(|s| s.strategy.name() == name)
            .map_or(0, |s| s.writes_lost);
        if lost > max {
            c.differ(&format!("lost_writes.{name}"), format!("<= {max}"), lost);
        }
    }
    c.0
}

/// Equality with arrays compared as sets, at any depth. Each side is
/// written once in a canonical form (arrays sorted and without repeats,
/// tables sorted by key), so large arrays compare in O(n log n), not by
/// searching one for each element of the other.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
            canonical(a) == canonical(b)
        }
        _ => a == b,
    }
}

/// `value` as text that two values share exactly when [`same_value`] holds.
fn canonical(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let mut items: Vec<String> = items.iter().map(canonical).collect();
            items.sort_unstable();
            items.dedup();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical(v)))
                .collect();
            entries.sort_unstable();
            format!("{{{}}}", entries.join(","))
        }
        // -0.0 == 0.0, as `==` on numbers says.
        Value::Number(n) if n.as_f64() == Some(0.0) && n.is_f64() => "0.0".to_string(),
        scalar => scalar.to_string(),
    }
}

/// The mismatches between trial statistics and the expectations about them.
pub fn check_trials(expect: &Expectations, summary: &TrialsSummary) -> Vec<Mismatch> {
    let mut c = Comparison(Vec::new());
    let decisions = match summary {
        TrialsSummary::Gossip(s) => {
            check_gossip_trials(&mut c, expect, s);
            &s.decisions
        }
        TrialsSummary::Byzantine(ByzantineTrialsSummary { decisions, .. }) => decisions,
    };
    if let Some(expected) = &expect.decision_counts {
        let actual: IndexMap<String, u64> = decisions
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(d, n)| (d.to_string(), *n))
            .collect();
        let wanted: IndexMap<String, u64> = expected
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(d, n)| (d.clone(), *n))
            .collect();
        if actual != wanted {
            let show = |m: &IndexMap<String, u64>| {
                let parts: Vec<String> = m.iter().map(|(d, n)| format!("{d} {n}")).collect();
                parts.join(", ")
            };
            c.differ("decision_counts", show(&wanted), show(&actual));
        }
    }
    c.0
}

fn check_gossip_trials(c: &mut Comparison, expect: &Expectations, s: &GossipTrialsSummary) {
    if let Some(min) = expect.min_convergence_rate
        && s.convergence_rate < min
    {
        c.differ(
            "min_convergence_rate",
            format!(">= {min}"),
            s.convergence_rate,
        );
    }
    if let Some(max) = expect.max_rounds_p99 {
        match s.rounds_p99 {
            Some(p99) if p99 <= max => {}
            Some(p99) => c.differ("max_rounds_p99", format!("<= {max}"), p99),
            None => c.differ("max_rounds_p99", format!("<= {max}"), "no trial converged"),
        }
    }
}

/// The mismatches between the exact law and the expectations about it:
/// `min_convergence_rate` and `max_rounds_p99` (gossip), and
/// `max_wrong_decision_probability`. Figures of the law are said with
/// `(exact law)`, apart from trials' figures of the same key.
pub fn check_exact(expect: &Expectations, summary: &ExactSummary) -> Vec<Mismatch> {
    let mut c = Comparison(Vec::new());
    let wrong = match summary {
        ExactSummary::Gossip(s) => {
            if let Some(min) = expect.min_convergence_rate
                && s.convergence_rate < min
            {
                c.differ(
                    "min_convergence_rate",
                    format!(">= {min}"),
                    format!("{} (exact law)", probability(s.convergence_rate)),
                );
            }
            if let Some(max) = expect.max_rounds_p99 {
                match s.rounds_p99 {
                    Some(p99) if p99 <= max => {}
                    Some(p99) => c.differ(
                        "max_rounds_p99",
                        format!("<= {max}"),
                        format!("{p99} (exact law)"),
                    ),
                    None => c.differ(
                        "max_rounds_p99",
                        format!("<= {max}"),
                        "no run converges (exact law)",
                    ),
                }
            }
            s.wrong_decision_probability
        }
        ExactSummary::Byzantine(s) => s.wrong_decision_probability,
    };
    if let Some(max) = expect.max_wrong_decision_probability
        && wrong > max
    {
        c.differ(
            "max_wrong_decision_probability",
            format!("<= {}", probability(max)),
            probability(wrong),
        );
    }
    c.0
}

/// A probability as an expectation mismatch says it: as written when it is
/// 0.001 or more, in scientific notation below (`3.2e-8`), every digit
/// kept so a value just past a bound never reads as the bound.
fn probability(p: f64) -> String {
    if p == 0.0 || p >= 1e-3 {
        p.to_string()
    } else {
        format!("{p:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_probabilities_are_said_in_scientific_notation() {
        assert_eq!(probability(1e-9), "1e-9");
        assert_eq!(probability(3.2e-8), "3.2e-8");
        assert_eq!(probability(0.0), "0");
        assert_eq!(probability(0.25), "0.25");
        // Just past a bound, never the bound.
        assert_eq!(probability(1e-9_f64.next_up()), "1.0000000000000003e-9");
    }

    #[test]
    fn arrays_compare_as_sets_at_any_depth() {
        assert!(same_value(&json!(["a", "b"]), &json!(["b", "a"])));
        assert!(same_value(
            &json!({"k": ["x", "y"]}),
            &json!({"k": ["y", "x"]})
        ));
        assert!(!same_value(&json!(["a"]), &json!(["a", "b"])));
        assert!(!same_value(&json!({"k": 1}), &json!({"k": 1, "j": 2})));
        assert!(!same_value(&json!(15), &json!(15.0)));
        assert!(same_value(&json!([1, 1, 2]), &json!([2, 1])));
        assert!(same_value(&json!([-0.0]), &json!([0.0])));
        assert!(!same_value(&json!(["1"]), &json!([1])));
        assert!(same_value(
            &json!([{"a": [1, 2], "b": "x"}]),
            &json!([{"b": "x", "a": [2, 1]}])
        ));
        assert!(!same_value(&json!({"a": [1]}), &json!({"b": [1]})));
    }
}
