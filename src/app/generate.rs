//! Text generated from moai's own definitions: the scenario file's JSON
//! Schema from its serde types, completion scripts and the man page from the
//! clap command line. Each ends with a newline.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;

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
