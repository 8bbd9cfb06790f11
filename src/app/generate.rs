//! Text generated from moai's own definitions: the scenario file's JSON
//! Schema from its serde types, completion scripts and the man page from the
//! clap command line. Each ends with a newline.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;
use crate::scenario::bundled::{self, Bundled};
use crate::scenario::{Algorithm, Scenario};

/// The JSON Schema of scenario files, pretty-printed.
pub(super) fn schema() -> String {
    let mut text = serde_json::to_string_pretty(&crate::scenario::json_schema())
        .expect("a schema is plain JSON");
    text.push('\n');
    text
}

/// The completion script for `shell`.
pub(super) fn completions(shell: Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "moai", &mut script);
    String::from_utf8(script).expect("clap_complete writes UTF-8")
}

/// The man page, in roff: moai(1), or `moai-COMMAND(1)` for a command, the
/// pages the SUBCOMMANDS section of moai(1) refers to.
pub(super) fn man_page(command: Option<&str>) -> Result<String, Error> {
    // As `clap_mangen::generate_to` does: no page for `help`, and built so
    // that commands are titled `moai-COMMAND`.
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let cmd = match command {
        None => cli,
        Some(name) => cli.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            Error::Usage(format!(
                "no man page for '{name}'; commands: {}",
                names.join(", ")
            ))
        })?,
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(concat!("moai ", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .expect("writing to memory cannot fail");
    let mut page = String::from_utf8(page).expect("clap_mangen writes UTF-8");
    if !page.ends_with('\n') {
        page.push('\n');
    }
    Ok(page)
}

/// `moai new NAME [--from TEMPLATE]`: a bundled scenario as the start of a
/// new one named `name`, behind a comment header explaining its keys. The
/// template is `from`, else `name` itself: a bundled scenario's name, or an
/// algorithm (the scenario its command runs without a file).
pub(super) fn new_scenario(name: &str, from: Option<&str>) -> Result<String, Error> {
    let template = from.unwrap_or(name);
    let bundled = template_named(template).ok_or_else(|| {
        let names: Vec<&str> = bundled::ALL.iter().map(|b| b.name()).collect();
        Error::Flag {
            flag: "--from",
            message: format!(
                "no template named '{template}'; start from an algorithm (byzantine, gossip, \
                 resolve) or a bundled scenario ({})",
                names.join(", ")
            ),
        }
    })?;
    let scenario = Scenario::parse(&bundled.document())?;
    // A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    let quoted = serde_json::to_string(name)
        .expect("a string is JSON")
        .replace('\u{7f}', "\\u007f");
    let mut out = format!(
        "# {}: a moai scenario, started from the bundled scenario '{}'\n\
         # (`moai new {} --from {}`).\n",
        crate::error::one_line(name),
        bundled.name(),
        crate::error::one_line(name),
        bundled.name()
    );
    out.push_str(COMMON_KEYS);
    out.push_str(match scenario.algorithm {
        Algorithm::Byzantine => BYZANTINE_KEYS,
        Algorithm::Gossip => GOSSIP_KEYS,
        Algorithm::Resolve => RESOLVE_KEYS,
    });
    out.push_str("#\n# The bundled scenario follows, with its own comments.\n\n");
    let mut named = false;
    for line in bundled.text.lines() {
        if line.starts_with("#:schema") {
            continue;
        }
        if !named && line.starts_with("name = ") {
            named = true;
            out.push_str(&format!("name = {quoted}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// The bundled scenario `name` names: its own, or an algorithm's default.
fn template_named(name: &str) -> Option<Bundled> {
    match name {
        "byzantine" => Some(bundled::INFRA),
        "gossip" => Some(bundled::GOSSIP_SWARM),
        "resolve" => Some(bundled::CRDT_PATTERNS),
        other => Bundled::named(other),
    }
}

/// The keys every scenario has, as `moai new` explains them.
const COMMON_KEYS: &str = "\
#
# Save this as a .toml file, edit it, then `moai validate FILE` checks it and
# `moai run FILE` runs it. Unknown keys are errors; `moai schema` prints the
# JSON Schema (add `#:schema PATH` as the first line for editor completion).
#
#   algorithm      what `moai run` runs: byzantine, gossip or resolve
#   name           how the output names the scenario (default: the file name)
#   description    one line shown under the name
#   seed           the random generator's seed (default 42; --seed overrides):
#                  the same file and seed give the same output, byte for byte
#   [proposal]     any keys, echoed in the output
#   [expect]       what `moai check` holds the results to: edit or delete it
#                  when you change the scenario
";

/// The keys of a Byzantine scenario.
const BYZANTINE_KEYS: &str = "\
#   [byzantine]    fault_tolerance: f, the faulty agents to tolerate (needs at
#                  least 3f+1 agents); num_rounds: voting rounds (at least 3);
#                  timeout_reached: true decides \"timeout\"
#   [[groups]]     count agents voting vote (for, against, abstain) with a
#                  behavior (honest, flip, random, equivocate, silent), named
#                  PREFIX1, PREFIX2, ... (prefix default \"agent-\"); or list
#                  [[agents]] one by one with id, vote and behavior
#   [[proposals]]  instead of [proposal]: several proposals voted on in order
";

/// The keys of a gossip scenario.
const GOSSIP_KEYS: &str = "\
#   [gossip]       fanout: peers each agent asks per round; max_rounds: rounds
#                  at most; convergence_threshold: agreement that counts as
#                  converged, in (0.5, 1]; min_participation: share of live
#                  agents that must not abstain for that (default 0.5);
#                  threshold: approval share needed to approve, in (0, 1];
#                  loss: chance an exchange is lost;
#                  topology (complete, ring, random-regular, small-world) with
#                  degree and rewire; early_stop; [[gossip.partitions]]
#   [[groups]]     count agents voting vote (approve, reject, abstain) with a
#                  behavior (honest, silent, stubborn), named PREFIX1,
#                  PREFIX2, ... (prefix default \"agent-\"); or list [[agents]]
#                  one by one with id, vote and behavior
";

/// The keys of a conflict-resolution scenario.
const RESOLVE_KEYS: &str = "\
#   strategy       lww, vector, crdt or hybrid (--strategy overrides)
#   [[routes]]     hybrid: keys starting with prefix go to strategy
#   [[states]]     one key each: key, optional crdt_type (counter, set, map,
#                  register, map-of-sets) and versions, each { agent, value,
#                  version, timestamp or vector_clock }
";
