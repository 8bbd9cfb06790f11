//! The `moai` binary: everything happens in the library.

fn main() -> std::process::ExitCode {
    moai::app::main_with_args(std::env::args_os())
}
