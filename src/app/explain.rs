//! `moai resolve FILE --explain KEY`: why one key's value stands.

use crate::error::Error;
use crate::report::{self, ExplanationReport, Report};
use crate::resolve::{explain, resolve_state};
use crate::scenario::{Algorithm, Document, Scenario, Strategy};

/// How many of the file's keys a refusal of an unknown key lists.
const KEYS_LISTED: usize = 10;

/// Explains state `key` of the scenario under `strategy` (else the file's).
pub(super) fn run(
    doc: &Document,
    scenario: &Scenario,
    strategy: Option<Strategy>,
    key: &str,
) -> Result<Report, Error> {
    let strategy = super::resolve_strategy(doc, scenario, strategy)?;
    let config = &scenario.resolve;
    let state = config
        .states
        .iter()
        .find(|s| s.key == key)
        .ok_or_else(|| unknown_key(doc, scenario, key))?;
    let resolution = resolve_state(config, state, strategy);
    let explanation = explain::of(state, &resolution);
    Ok(Report::Explanation(Box::new(ExplanationReport {
        made_by: report::MadeBy::CURRENT,
        scenario: scenario.name.clone(),
        algorithm: Algorithm::Resolve,
        strategy,
        description: scenario.description.clone(),
        explanation,
        resolution,
    })))
}

/// The refusal of a key no state of the file has, listing the first keys it has.
fn unknown_key(doc: &Document, scenario: &Scenario, key: &str) -> Error {
    let states = &scenario.resolve.states;
    let mut keys: Vec<String> = states
        .iter()
        .take(KEYS_LISTED)
        .map(|s| format!("'{}'", s.key))
        .collect();
    if states.len() > KEYS_LISTED {
        keys.push(format!("and {} more", states.len() - KEYS_LISTED));
    }
    Error::Flag {
        flag: "--explain",
        message: format!(
            "'{}' has no state with key '{key}'; its keys are {}",
            doc.name,
            keys.join(", ")
        ),
    }
}
