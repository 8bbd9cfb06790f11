//! `moai merge`: the partial results of `--shard K/N` runs, checked to be
//! every slice of one plan once, added up and printed exactly as the
//! unsharded run prints them. The merge runs the parts' command again with
//! the scenario the parts carry, with the trials' sums taken from the parts
//! instead of run: the same report, exact law, `[expect]` table, HTML
//! report and exit code.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;

use super::{Output, execute_with, trial_args};
use crate::cli::{Cli, Command, CommonArgs, MergeArgs};
use crate::error::{Error, Location};
use crate::report::Format;
use crate::scenario::Document;
use crate::shard::{self, NamedPart, Partial, TrialSource};

/// Largest part file read: far above any real part (its sums do not grow
/// with the trials), so a wrong file is refused before it fills memory.
const MAX_PART_BYTES: u64 = 256 << 20;

/// The command line after `moai` without `--shard` and its value: what
/// every shard of a plan shares, and what the merge runs again.
pub(super) fn unsharded_command(args: &[OsString]) -> Vec<String> {
    let mut command = Vec::with_capacity(args.len());
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        if arg == "--shard" {
            args.next();
        } else if !arg.starts_with("--shard=") {
            command.push(arg);
        }
    }
    command
}

/// `moai merge PART... [--format F] [--report FILE]`.
pub(super) fn run(args: &MergeArgs) -> Result<Output, Error> {
    if args.format == Format::Csv {
        return Err(Error::Flag {
            flag: "--format",
            message: "a merge prints tables or JSON: shards keep their trials' sums, not the \
                      per-round rows of every trial that CSV lists"
                .to_string(),
        });
    }
    let parts = part_files(&args.parts)?
        .iter()
        .map(|path| read_part(path))
        .collect::<Result<Vec<_>, _>>()?;
    let first = parts.first().map(|p| p.name.clone()).unwrap_or_default();
    let merged = shard::merge(parts).map_err(|(path, message)| Error::Part {
        path,
        location: None,
        message,
    })?;
    let plan = &merged.plan;
    let damaged = |message: String| Error::Part {
        path: first.clone(),
        location: None,
        message,
    };
    let argv = std::iter::once("moai".to_string()).chain(plan.command.iter().cloned());
    let mut cli = Cli::try_parse_from(argv)
        .map_err(|e| damaged(format!("its command does not parse: {}", e.kind())))?;
    let doc = Document::from_text(
        &plan.scenario.name,
        &plan.scenario.stem,
        &plan.scenario.text,
    );
    let trials = trial_args(&mut cli.command)
        .ok_or_else(|| damaged("its command runs no trials".to_string()))?;
    trials.shard = None;
    trials.source = TrialSource::Merged(Arc::new(merged));
    let common = common_args(&mut cli.command).expect("a command with trials has common flags");
    common.format = args.format;
    common.report = args.report.clone();
    execute_with(cli.command, Some(doc))
}

/// The options every simulation takes, of a command that runs trials.
fn common_args(command: &mut Command) -> Option<&mut CommonArgs> {
    match command {
        Command::Byzantine(args) => Some(&mut args.common),
        Command::Gossip(args) => Some(&mut args.common),
        Command::Run(args) => Some(&mut args.common),
        _ => None,
    }
}

/// The part files: each path given, or every `*.json` file in a directory
/// given, in name order (the order does not matter to the merge).
fn part_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let unreadable = |e: std::io::Error| Error::Part {
            path: path.display().to_string(),
            location: None,
            message: format!("cannot read the directory: {e}"),
        };
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(unreadable)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect();
        if found.is_empty() {
            return Err(Error::Part {
                path: path.display().to_string(),
                location: None,
                message: "the directory holds no *.json part".to_string(),
            });
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Reads one part, naming the file (and the line and column of a JSON
/// error) when it cannot.
fn read_part(path: &Path) -> Result<NamedPart, Error> {
    let name = path.display().to_string();
    let error = |location, message: String| Error::Part {
        path: name.clone(),
        location,
        message,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_PART_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| error(None, format!("cannot read the part: {e}")))?;
    if text.len() as u64 > MAX_PART_BYTES {
        return Err(error(
            None,
            format!("larger than {} MiB: not a part", MAX_PART_BYTES >> 20),
        ));
    }
    let partial: Partial = serde_json::from_str(&text).map_err(|e| {
        let location = (e.line() > 0).then_some(Location {
            line: e.line(),
            column: e.column(),
        });
        // serde_json's message without the place, which the error gives.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or_default();
        let what = if e.is_eof() {
            "the part ends early: truncated?".to_string()
        } else if e.is_data() {
            format!("not a partial result of `--shard K/N --format json`: {message}")
        } else {
            format!("not valid JSON: {message}")
        };
        error(location, what)
    })?;
    Ok(NamedPart {
        name,
        part: partial.partial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_drops_the_shard_in_either_form() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            unsharded_command(&args(&["gossip", "--shard", "2/3", "--trials", "9"])),
            ["gossip", "--trials", "9"]
        );
        assert_eq!(
            unsharded_command(&args(&["gossip", "--shard=auto", "--format", "json"])),
            ["gossip", "--format", "json"]
        );
    }
}
