//! The progress bar of [`Trainer::fit`](super::Trainer::fit): one tick per epoch, showing the
//! losses; hidden when stdout is not a terminal or when asked to be quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::EpochRecord;

/// An epoch progress bar (a no-op when hidden).
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `epochs` epochs, hidden when `quiet` or when stdout is not a terminal.
    pub(crate) fn new(epochs: usize, quiet: bool) -> Progress {
        if quiet || !std::io::stdout().is_terminal() {
            return Progress {
                bar: ProgressBar::hidden(),
            };
        }
        let bar = ProgressBar::new(epochs as u64);
        if let Ok(style) =
            ProgressStyle::with_template("epoch {pos}/{len} [{bar:30}] {elapsed_precise} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress { bar }
    }

    /// Moves on one epoch and shows its numbers.
    pub(crate) fn epoch_done(&self, record: &EpochRecord) {
        let mut message = format!("loss {:.4}", record.train_loss);
        if let Some(a) = record.train_accuracy {
            message.push_str(&format!(" acc {a:.3}"));
        }
        if let Some(l) = record.val_loss {
            message.push_str(&format!(" val_loss {l:.4}"));
        }
        if let Some(a) = record.val_accuracy {
            message.push_str(&format!(" val_acc {a:.3}"));
        }
        self.bar.set_message(message);
        self.bar.inc(1);
    }

    /// Leaves the bar as it is on screen.
    pub(crate) fn finish(&self) {
        self.bar.abandon();
    }
}
