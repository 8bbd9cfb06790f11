//! Arbitrary bytes through the whole pipeline: document, parse, validation,
//! a bounded run of every algorithm, and every output format. Any `Err` is
//! fine; a panic, abort, stack overflow or hang is a bug. Every error must
//! render as one line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moai::consensus::{byzantine, gossip};
use moai::error::{Error, InvalidSetting};
use moai::report::{
    self, ConsensusReport, Format, MadeBy, ProposalSequence, Report, ResolveReport, Settings,
};
use moai::resolve;
use moai::rng::generator;
use moai::scenario::{Algorithm, Document, KeyPath, Scenario, Strategy};

/// Consensus runs only this small, so every input finishes quickly.
const MAX_FUZZ_AGENTS: usize = 200;
const MAX_FUZZ_ROUNDS: u32 = 50;

fuzz_target!(|data: &[u8]| {
    let doc = match Document::from_bytes("fuzz.toml", "fuzz", data.to_vec()) {
        Ok(doc) => doc,
        Err(e) => return one_line(&e),
    };
    let scenario = match Scenario::parse(&doc) {
        Ok(scenario) => scenario,
        Err(e) => return one_line(&e),
    };
    let seed = scenario.seed.unwrap_or(moai::scenario::DEFAULT_SEED);
    let small = scenario.agents.len() <= MAX_FUZZ_AGENTS;

    match scenario.byzantine.validate(&scenario.agents) {
        Err(e) => located(&doc, e),
        Ok(()) if small && scenario.byzantine.num_rounds <= MAX_FUZZ_ROUNDS => {
            let outcome =
                byzantine::run(&scenario.agents, &scenario.byzantine, &mut generator(seed));
            render_all(&Report::Byzantine(Box::new(consensus(
                &scenario,
                seed,
                Settings::Byzantine(scenario.byzantine.clone()),
                outcome,
            ))));
            if !scenario.proposals.is_empty() {
                let (results, blacklist) = byzantine::run_sequence(
                    &scenario.agents,
                    scenario.proposals.len(),
                    &scenario.byzantine,
                    &mut generator(seed),
                );
                let sequence = ProposalSequence::new(
                    &scenario.proposals,
                    results,
                    blacklist,
                    &scenario.agents,
                );
                render_all(&Report::ByzantineSequence(Box::new(consensus(
                    &scenario,
                    seed,
                    Settings::Byzantine(scenario.byzantine.clone()),
                    sequence,
                ))));
            }
        }
        Ok(()) => {}
    }

    match scenario.gossip.validate(&scenario.agents) {
        Err(e) => located(&doc, e),
        Ok(()) if small && scenario.gossip.max_rounds <= MAX_FUZZ_ROUNDS => {
            let outcome = gossip::run(&scenario.agents, &scenario.gossip, &mut generator(seed));
            render_all(&Report::Gossip(Box::new(consensus(
                &scenario,
                seed,
                Settings::Gossip(scenario.gossip.clone()),
                outcome,
            ))));
        }
        Ok(()) => {}
    }

    for strategy in [
        Strategy::Lww,
        Strategy::Vector,
        Strategy::Crdt,
        Strategy::Hybrid,
    ] {
        match scenario.resolve.validate(strategy) {
            Err(e) => located(&doc, e),
            Ok(()) => render_all(&Report::Resolve(ResolveReport {
                made_by: MadeBy::CURRENT,
                scenario: scenario.name.clone(),
                algorithm: Algorithm::Resolve,
                strategy,
                description: scenario.description.clone(),
                resolutions: resolve::resolve(&scenario.resolve, strategy),
                omitted: Default::default(),
            })),
        }
    }
});

fn consensus<O>(
    scenario: &Scenario,
    seed: u64,
    settings: Settings,
    outcome: O,
) -> ConsensusReport<O> {
    ConsensusReport {
        made_by: MadeBy::CURRENT,
        scenario: scenario.name.clone(),
        algorithm: match settings {
            Settings::Byzantine(_) => Algorithm::Byzantine,
            Settings::Gossip(_) => Algorithm::Gossip,
        },
        seed,
        trial: None,
        description: scenario.description.clone(),
        overrides: Default::default(),
        settings,
        proposal: scenario.proposal.clone(),
        participants: scenario.agents.ids().take(1000).collect(),
        outcome,
        omitted: Default::default(),
    }
}

fn render_all(report: &Report) {
    for format in [Format::Table, Format::Json, Format::Csv] {
        match report::render(report, format, true) {
            Ok(text) => assert!(text.ends_with('\n')),
            Err(e) => one_line(&e),
        }
    }
}

/// A setting error as the command line reports it: at the key in the file.
fn located(doc: &Document, invalid: InvalidSetting) {
    one_line(&doc.error_at_key(&KeyPath::parse(&invalid.key), invalid.message));
}

fn one_line(error: &Error) {
    let text = error.to_string();
    assert!(
        !text.contains('\n') && !text.contains('\r'),
        "multi-line error: {text:?}"
    );
}
