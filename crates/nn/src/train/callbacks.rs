//! [`Callback`]s: code run after every batch and epoch of a fit, which may stop it;
//! [`EarlyStopping`] is one.

use adnet_graph::{Graph, NodeId};
use adnet_tensor::Tensor;

use super::EpochRecord;
use crate::{NnError, Result};

/// What one training step measured, handed to [`Callback::on_batch_end`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchRecord {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The batch within the epoch, from 0.
    pub batch: usize,
    /// The number of samples in the batch.
    pub size: usize,
    /// The batch's loss, before the update.
    pub loss: f64,
    /// The learning rate of the step.
    pub lr: f64,
}

/// A callback's view of the training run: stop it, or read and replace the parameters.
#[derive(Debug)]
pub struct TrainerControl<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) params: &'a [NodeId],
    pub(crate) stop: bool,
    pub(crate) restored_epoch: Option<usize>,
}

impl TrainerControl<'_> {
    /// Asks the trainer to stop after the current epoch (or batch).
    pub fn stop(&mut self) {
        self.stop = true;
    }

    /// Whether a stop was requested.
    pub fn is_stopping(&self) -> bool {
        self.stop
    }

    /// A copy of the trained parameters' values, in the trainer's order.
    ///
    /// # Errors
    /// [`NnError::Graph`] if a parameter is gone (it cannot be).
    pub fn parameters(&self) -> Result<Vec<Tensor>> {
        self.params
            .iter()
            .map(|&p| self.graph.value(p).map_err(NnError::from))
            .collect()
    }

    /// Copies into the trained parameters values saved by [`TrainerControl::parameters`],
    /// recording that the weights of `epoch` were restored.
    ///
    /// # Errors
    /// [`NnError::CountMismatch`] for a list of another length, [`NnError::Graph`] for a
    /// value of the wrong shape or dtype.
    pub fn restore(&mut self, values: &[Tensor], epoch: usize) -> Result<()> {
        if values.len() != self.params.len() {
            return Err(NnError::CountMismatch {
                what: "restore",
                expected: self.params.len(),
                actual: values.len(),
                other: "values",
            });
        }
        for (&p, v) in self.params.iter().zip(values) {
            self.graph.set_param(p, v)?;
        }
        self.restored_epoch = Some(epoch);
        Ok(())
    }
}

/// Code run during [`Trainer::fit`](super::Trainer::fit). Every method has an empty default.
pub trait Callback {
    /// Before the first epoch.
    ///
    /// # Errors
    /// An error stops training and is returned by `fit`.
    fn on_train_begin(&mut self, control: &mut TrainerControl<'_>) -> Result<()> {
        let _ = control;
        Ok(())
    }

    /// After every training step.
    ///
    /// # Errors
    /// An error stops training and is returned by `fit`.
    fn on_batch_end(
        &mut self,
        batch: &BatchRecord,
        control: &mut TrainerControl<'_>,
    ) -> Result<()> {
        let _ = (batch, control);
        Ok(())
    }

    /// After every epoch (and its validation); [`TrainerControl::stop`] ends training.
    ///
    /// # Errors
    /// An error stops training and is returned by `fit`.
    fn on_epoch_end(
        &mut self,
        record: &EpochRecord,
        control: &mut TrainerControl<'_>,
    ) -> Result<()> {
        let _ = (record, control);
        Ok(())
    }

    /// After the last epoch, whether training ran out of epochs or was stopped.
    ///
    /// # Errors
    /// An error is returned by `fit`.
    fn on_train_end(&mut self, control: &mut TrainerControl<'_>) -> Result<()> {
        let _ = control;
        Ok(())
    }
}

/// The quantity [`EarlyStopping`] watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Monitor {
    /// The validation loss (lower is better; the training loss without a validation set).
    #[default]
    ValLoss,
    /// The validation accuracy (higher is better).
    ValAccuracy,
}

/// Stops training when the monitored quantity has not improved by more than `min_delta` for
/// `patience` epochs, as Keras' `EarlyStopping`; with `restore_best` the weights of the best
/// epoch are put back when training ends (Keras' `restore_best_weights`).
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping (default 5).
    pub patience: usize,
    /// The least change that counts as an improvement (default 0).
    pub min_delta: f64,
    /// What to watch (default the validation loss).
    pub monitor: Monitor,
    /// Whether to restore the best epoch's weights at the end (default `true`).
    pub restore_best: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping {
            patience: 5,
            min_delta: 0.0,
            monitor: Monitor::ValLoss,
            restore_best: true,
        }
    }
}

/// [`EarlyStopping`] as a callback, with its running state.
#[derive(Debug, Clone)]
pub struct EarlyStoppingCallback {
    settings: EarlyStopping,
    best: Option<(usize, f64)>,
    best_weights: Vec<Tensor>,
    wait: usize,
    last_epoch: Option<usize>,
}

impl EarlyStoppingCallback {
    /// A fresh callback with these settings.
    pub fn new(settings: EarlyStopping) -> Self {
        EarlyStoppingCallback {
            settings,
            best: None,
            best_weights: Vec::new(),
            wait: 0,
            last_epoch: None,
        }
    }

    /// The best epoch and its monitored value so far.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best
    }
}

impl Callback for EarlyStoppingCallback {
    fn on_epoch_end(
        &mut self,
        record: &EpochRecord,
        control: &mut TrainerControl<'_>,
    ) -> Result<()> {
        self.last_epoch = Some(record.epoch);
        // score: higher is better
        let score = match self.settings.monitor {
            Monitor::ValLoss => -record.val_loss.unwrap_or(record.train_loss),
            Monitor::ValAccuracy => match record.val_accuracy.or(record.train_accuracy) {
                Some(a) => a,
                None => {
                    return Err(NnError::InvalidSetting {
                        what: "monitor",
                        reason: "accuracy is not measured for a regression task".to_string(),
                    })
                }
            },
        };
        let improved = match self.best {
            None => !score.is_nan(),
            Some((_, best)) => score - best > self.settings.min_delta,
        };
        if improved {
            self.best = Some((record.epoch, score));
            self.wait = 0;
            if self.settings.restore_best {
                self.best_weights = control.parameters()?;
            }
        } else {
            self.wait += 1;
            if self.wait >= self.settings.patience {
                control.stop();
            }
        }
        Ok(())
    }

    fn on_train_end(&mut self, control: &mut TrainerControl<'_>) -> Result<()> {
        if let (true, Some((epoch, _))) = (self.settings.restore_best, self.best) {
            if Some(epoch) != self.last_epoch && !self.best_weights.is_empty() {
                let weights = std::mem::take(&mut self.best_weights);
                control.restore(&weights, epoch)?;
            }
        }
        Ok(())
    }
}
