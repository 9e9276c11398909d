//! [`History`]: one [`EpochRecord`] per epoch of a [`fit`](super::Trainer::fit).

use crate::classic::StopReason;
use std::io::Write;
use std::path::Path;

use crate::{NnError, Result};

/// What one epoch measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The mean training loss over the epoch's batches, each measured before its update.
    pub train_loss: f64,
    /// The training accuracy, measured the same way (`None` for regression).
    pub train_accuracy: Option<f64>,
    /// The validation loss after the epoch (`None` without a validation set).
    pub val_loss: Option<f64>,
    /// The validation accuracy after the epoch.
    pub val_accuracy: Option<f64>,
    /// The learning rate the epoch's last step used.
    pub lr: f64,
    /// Seconds since `fit` began, at the end of the epoch.
    pub seconds: f64,
}

/// The records of a training run, one per epoch completed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// One record per epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// Whether a callback (early stopping, say) stopped training before the last epoch.
    pub stopped_early: bool,
    /// The epoch whose weights the model holds when early stopping restored the best ones.
    pub restored_epoch: Option<usize>,
    /// Why a full-batch method stopped training itself (maximum damping, no progress), if it
    /// did.
    pub method_stop: Option<StopReason>,
}

/// The CSV header [`History::write_csv`] writes.
pub const HISTORY_CSV_HEADER: &str =
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds";

impl History {
    /// The number of epochs recorded.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// Whether no epoch was recorded.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// The last record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// Writes the header ([`HISTORY_CSV_HEADER`]) and one line per epoch; a missing value is an
    /// empty field.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_csv(&self, mut writer: impl Write) -> std::io::Result<()> {
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        writeln!(writer, "{HISTORY_CSV_HEADER}")?;
        for r in &self.epochs {
            writeln!(
                writer,
                "{},{},{},{},{},{},{}",
                r.epoch,
                r.train_loss,
                opt(r.train_accuracy),
                opt(r.val_loss),
                opt(r.val_accuracy),
                r.lr,
                r.seconds
            )?;
        }
        Ok(())
    }

    /// Writes [`History::write_csv`]'s text to a file.
    ///
    /// # Errors
    /// [`NnError::Io`] when the file cannot be created or written.
    pub fn to_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |e: std::io::Error| NnError::Io {
            path: path.to_path_buf(),
            action: "writing",
            kind: e.kind(),
            message: e.to_string(),
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut writer = std::io::BufWriter::new(file);
        self.write_csv(&mut writer).map_err(io)?;
        writer.flush().map_err(io)
    }
}
