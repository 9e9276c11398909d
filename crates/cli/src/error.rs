//! The error type of the `adnet` command.

use std::path::PathBuf;

use adnet_autodiff::AutodiffError;
use adnet_graph::GraphError;

/// Everything the `adnet` command rejects; each one exits with status 2.
///
/// Messages are complete sentences for a terminal: they name the file, the flag, the input or
/// the node, and the values the network was evaluated at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line itself (unknown subcommand or flag); holds clap's rendered message.
    #[error("{0}")]
    Usage(String),
    /// The formula file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file named on the command line.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The formula file does not parse; `rendered` is the parser's `LINE:COL: message` with
    /// the source line and a caret.
    #[error("{}:{rendered}", path.display())]
    Parse {
        /// The file named on the command line.
        path: PathBuf,
        /// The parser's rendering of the error.
        rendered: String,
    },
    /// A bad `--at` or `--set` item.
    #[error("{flag}: {message}")]
    Values {
        /// `--at` or `--set`.
        flag: &'static str,
        /// What is wrong, naming the item.
        message: String,
    },
    /// A value or derivative that came out NaN or infinite; the message names the node (with
    /// its formula) or the derivative, and the point.
    #[error("{0}")]
    NonFinite(String),
    /// Building or running the network failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Differentiating the network failed.
    #[error(transparent)]
    Autodiff(#[from] AutodiffError),
    /// Writing the result failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
}

/// `Result` with [`CliError`] as the default error.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
