//! The `moai` binary: everything happens in the library.

fn main() -> std::process::ExitCode {
    moai::app::main_with_args(std::env::args_os())
}

/// Notes, before the Rust runtime starts, whether standard output was
/// closed: the runtime opens /dev/null in place of a closed descriptor, after
/// which a closed stdout looks like any other.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = {
    extern "C" fn note() {
        // SAFETY: F_GETFD only reads descriptor 1's flags, failing with
        // EBADF when it is not open; it touches no memory of ours.
        if unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1 {
            moai::app::STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    note
};
