//! `--list-limit`: huge runs print summaries and history, not megabytes of
//! agent ids. Every list of agent ids in a report is cut to the limit, and
//! the report records, by JSON path, how many ids each list left out.
//! (`participants` is cut as it is made, see the app's `consensus_report`.)

use indexmap::IndexMap;

use super::{ConsensusReport, Report};
use crate::consensus::byzantine::{ByzantineOutcome, ProposalResult};

/// Cuts every list of agent ids in `report` to `limit` entries.
pub fn limit_lists(report: &mut Report, limit: usize) {
    match report {
        Report::Byzantine(r) => {
            let ConsensusReport {
                outcome, omitted, ..
            } = r.as_mut();
            byzantine(outcome, "", limit, omitted);
        }
        Report::ByzantineSequence(r) => {
            let ConsensusReport {
                outcome, omitted, ..
            } = r.as_mut();
            for (i, entry) in outcome.proposals.iter_mut().enumerate() {
                let prefix = format!("proposals[{i}].");
                match &mut entry.result {
                    ProposalResult::Decided(o) => byzantine(o, &prefix, limit, omitted),
                    ProposalResult::Skipped { healthy_agents, .. } => {
                        cut(
                            healthy_agents,
                            format!("{prefix}healthy_agents"),
                            limit,
                            omitted,
                        );
                    }
                }
            }
            cut(&mut outcome.blacklist, "blacklist".into(), limit, omitted);
            cut(
                &mut outcome.healthy_agents,
                "healthy_agents".into(),
                limit,
                omitted,
            );
        }
        Report::Resolve(r) => {
            for (i, resolution) in r.resolutions.iter_mut().enumerate() {
                let meta = &mut resolution.metadata;
                for (name, list) in [
                    ("siblings", &mut meta.siblings),
                    ("merged_from_agents", &mut meta.merged_from_agents),
                ] {
                    if let Some(list) = list {
                        cut(
                            list,
                            format!("resolutions[{i}].metadata.{name}"),
                            limit,
                            &mut r.omitted,
                        );
                    }
                }
                for (j, source) in meta.key_sources.iter_mut().flatten().enumerate() {
                    cut(
                        &mut source.agents,
                        format!("resolutions[{i}].metadata.key_sources[{j}].agents"),
                        limit,
                        &mut r.omitted,
                    );
                }
            }
        }
        Report::Comparison(r) => {
            for (i, key) in r.comparison.iter_mut().enumerate() {
                for (j, row) in key.strategies.iter_mut().enumerate() {
                    let at = format!("comparison[{i}].strategies[{j}]");
                    cut(&mut row.kept, format!("{at}.kept"), limit, &mut r.omitted);
                    cut(&mut row.lost, format!("{at}.lost"), limit, &mut r.omitted);
                    cut(
                        &mut row.siblings,
                        format!("{at}.siblings"),
                        limit,
                        &mut r.omitted,
                    );
                }
            }
            for (i, summary) in r.summary.iter_mut().enumerate() {
                cut(
                    &mut summary.lost,
                    format!("summary[{i}].lost"),
                    limit,
                    &mut r.omitted,
                );
            }
        }
        Report::Gossip(_)
        | Report::Trials(_)
        | Report::Sweep(_)
        | Report::Scenarios(_)
        | Report::Check(_)
        | Report::Text(_)
        | Report::Partial(_)
        | Report::Explanation(_) => {}
    }
}

fn byzantine(
    outcome: &mut ByzantineOutcome,
    prefix: &str,
    limit: usize,
    omitted: &mut IndexMap<String, u64>,
) {
    let m = &mut outcome.metadata;
    let u = m.unlisted;
    let lists: [(&str, &mut Vec<String>, u64); 8] = [
        (
            "metadata.malicious_agents",
            &mut m.malicious_agents,
            u.malicious_agents,
        ),
        (
            "metadata.vote_changers",
            &mut m.vote_changers,
            u.vote_changers,
        ),
        ("metadata.equivocators", &mut m.equivocators, u.equivocators),
        (
            "metadata.silent_agents",
            &mut m.silent_agents,
            u.silent_agents,
        ),
        ("metadata.blacklist", &mut m.blacklist, u.malicious_agents),
        (
            "metadata.healthy_agents",
            &mut m.healthy_agents,
            u.healthy_agents,
        ),
        (
            "metadata.detection.false_positives",
            &mut m.detection.false_positives,
            u.false_positives,
        ),
        (
            "metadata.detection.missed",
            &mut m.detection.missed,
            u.missed,
        ),
    ];
    for (path, list, unlisted) in lists {
        cut_counted(list, unlisted, format!("{prefix}{path}"), limit, omitted);
    }
}

/// Keeps the first `limit` ids of `list`, recording how many went.
fn cut<T>(list: &mut Vec<T>, path: String, limit: usize, omitted: &mut IndexMap<String, u64>) {
    cut_counted(list, 0, path, limit, omitted);
}

/// [`cut`] for a list that was made with `unlisted` more ids left out.
fn cut_counted<T>(
    list: &mut Vec<T>,
    unlisted: u64,
    path: String,
    limit: usize,
    omitted: &mut IndexMap<String, u64>,
) {
    let total = list.len() as u64 + unlisted;
    if total > limit as u64 {
        omitted.insert(path, total - limit as u64);
        list.truncate(limit);
    }
}
