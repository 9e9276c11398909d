//! The command line: parsing the arguments, reading and parsing the file, running the
//! command, and turning the outcome into an exit status.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::values::Point;
use crate::{check, dot, grad, hessian, CliError, Result};
use adnet_graph::{parse, Network};

/// Exit status: success.
pub const EXIT_SUCCESS: i32 = 0;
/// Exit status: `adnet check` found derivatives that disagree with finite differences.
pub const EXIT_CHECK_FAILED: i32 = 1;
/// Exit status: bad input (command line, file, values, or a NaN or infinite result).
pub const EXIT_BAD_INPUT: i32 = 2;

/// Derivatives of `.adn` formula files: values, gradients, Hessians, gradient checks, and
/// Graphviz pictures.
#[derive(Debug, Parser)]
#[command(name = "adnet", version)]
#[command(
    after_help = "Exit status: 0 on success, 1 when `check` fails, 2 on bad input \
    (including a value or derivative that is NaN or infinite)."
)]
struct Cli {
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// The outputs' values and gradients with respect to every input and parameter.
    Grad(EvalArgs),
    /// Each output's Hessian over every input and parameter.
    Hessian(EvalArgs),
    /// The gradient and the Hessian checked against central differences.
    Check(EvalArgs),
    /// The network in Graphviz's DOT language (adaptive nodes are squares).
    Dot {
        /// The `.adn` formula file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// The `.adn` formula file.
    file: PathBuf,
    /// The value of every input, e.g. `--at x=1,y=0.5` (repeatable).
    #[arg(long, value_name = "NAME=NUMBER,...", allow_hyphen_values = true)]
    at: Vec<String>,
    /// New values for parameters, e.g. `--set alpha=0.3` (repeatable).
    #[arg(long, value_name = "NAME=NUMBER,...", allow_hyphen_values = true)]
    set: Vec<String>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// What to compute for a parsed network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `adnet grad`.
    Grad,
    /// `adnet hessian`.
    Hessian,
    /// `adnet check`.
    Check,
    /// `adnet dot`.
    Dot,
}

/// The options of a command: `--at`, `--set` and `--json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The `--at` arguments, each a comma-separated `NAME=NUMBER` list.
    pub at: Vec<String>,
    /// The `--set` arguments, each a comma-separated `NAME=NUMBER` list.
    pub set: Vec<String>,
    /// Whether to print JSON.
    pub json: bool,
}

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was computed (and for `check`, every entry passed).
    Success,
    /// `check` found entries outside the tolerance.
    CheckFailed,
}

impl Outcome {
    /// The exit status: [`EXIT_SUCCESS`] or [`EXIT_CHECK_FAILED`].
    pub fn code(self) -> i32 {
        match self {
            Outcome::Success => EXIT_SUCCESS,
            Outcome::CheckFailed => EXIT_CHECK_FAILED,
        }
    }
}

/// Runs the `adnet` command line `args` (the program name first, as `std::env::args_os`
/// gives it), writing results to `stdout` and `error: ...` messages to `stderr`, and returns
/// the exit status: 0 on success, 1 when `check` fails, 2 on any bad input.
///
/// Never panics on any arguments or file contents.
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = stdout.write_all(text.as_bytes());
                    EXIT_SUCCESS
                }
                _ => {
                    let _ = stderr.write_all(text.as_bytes());
                    EXIT_BAD_INPUT
                }
            };
        }
    };
    let (file, command, request) = match cli.command {
        CliCommand::Grad(a) => (a.file, Command::Grad, request(a.at, a.set, a.json)),
        CliCommand::Hessian(a) => (a.file, Command::Hessian, request(a.at, a.set, a.json)),
        CliCommand::Check(a) => (a.file, Command::Check, request(a.at, a.set, a.json)),
        CliCommand::Dot { file } => (file, Command::Dot, Request::default()),
    };
    match load(&file).and_then(|network| run_network(&network, command, &request, stdout)) {
        Ok(outcome) => outcome.code(),
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn request(at: Vec<String>, set: Vec<String>, json: bool) -> Request {
    Request { at, set, json }
}

/// Reads and parses a formula file.
///
/// # Errors
/// [`CliError::Read`] when the file cannot be read (or is not UTF-8 text), and
/// [`CliError::Parse`] with the parser's rendering (`LINE:COL: message`, the line, a caret).
pub fn load(path: &std::path::Path) -> Result<Network> {
    let source = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&source).map_err(|e| CliError::Parse {
        path: path.to_path_buf(),
        rendered: e.render(&source).trim_end().to_string(),
    })
}

/// Runs one command on a parsed network, writing its result to `out`.
///
/// # Errors
/// A bad `--at` or `--set`, a NaN or infinite value or derivative, or a failure to
/// differentiate the network or to write; each is exit status 2.
pub fn run_network(
    network: &Network,
    command: Command,
    request: &Request,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let resolve = || Point::resolve(network, &request.at, &request.set);
    let passed = match command {
        Command::Dot => dot::dot(network, out).map(|()| true)?,
        Command::Grad => grad::grad(network, &resolve()?, request.json, out).map(|()| true)?,
        Command::Hessian => {
            hessian::hessian(network, &resolve()?, request.json, out).map(|()| true)?
        }
        Command::Check => check::check(network, &resolve()?, request.json, out)?,
    };
    out.flush()?;
    Ok(if passed {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    })
}
