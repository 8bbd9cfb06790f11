//! `moai resolve --compare`: every strategy on every key side by side, with
//! the writes each loses ([`crate::resolve::compare`]).

use crate::error::Error;
use crate::report::{self, ComparisonReport, Report};
use crate::resolve::compare;
use crate::scenario::{Algorithm, Document, KeyPath, Scenario, Strategy};

/// Compares every strategy on the scenario's states. `--strategy` is
/// refused: the comparison runs them all.
pub(super) fn run(
    doc: &Document,
    scenario: &Scenario,
    strategy: Option<Strategy>,
) -> Result<Report, Error> {
    if strategy.is_some() {
        return Err(Error::Flag {
            flag: "--strategy",
            message: "--compare resolves every key under every strategy; leave out --strategy"
                .to_string(),
        });
    }
    let config = &scenario.resolve;
    // Every key is resolved by vector clocks (and merged where a CRDT type fits).
    config
        .validate(Strategy::Vector)
        .map_err(|e| doc.error_at_key(&KeyPath::parse(&e.key), e.message))?;
    let comparison = compare::compare(config);
    let summary = compare::summarize(&comparison);
    Ok(Report::Comparison(ComparisonReport {
        made_by: report::MadeBy::CURRENT,
        scenario: scenario.name.clone(),
        algorithm: Algorithm::Resolve,
        description: scenario.description.clone(),
        comparison,
        summary,
        states: config.states.clone(),
        omitted: Default::default(),
    }))
}
