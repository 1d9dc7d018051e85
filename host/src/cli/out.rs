//! Printing to standard output for commands whose output is often piped (`aksflow plugins
//! list | head`): a reader that goes away ends the command quietly, as it ends a Unix tool,
//! instead of `println!`'s panic and backtrace.

use std::io::Write;

/// `println!`, but a closed pipe exits quietly.
macro_rules! out {
    () => {
        $crate::cli::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use out;

pub fn line(args: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|_| stdout.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}
