//! [`Trainer::fit`]: the epoch loop, with schedules, validation, `ReduceLrOnPlateau`, callbacks
//! and early stopping.

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;

use super::{FitOptions, ScheduleInterval, Trainer, Updater};
use crate::data::{BatchOptions, Batches, DataSet};
use crate::optim::schedule::LrSchedule;
use crate::optim::Optimizer;
use crate::train::callbacks::{BatchRecord, Callback, EarlyStoppingCallback, TrainerControl};
use crate::train::progress::Progress;
use crate::train::{EpochRecord, History};
use crate::Result;

impl<'g> Trainer<'g> {
    /// Trains for `options.epochs` epochs (fewer if a callback or early stopping stops it),
    /// evaluating on `validation` after each, and returns the per-epoch [`History`].
    ///
    /// Each epoch: set the scheduled rate, train on every batch (the recorded training loss
    /// and accuracy are the batch values before each update, averaged by batch size, as
    /// Keras reports them), evaluate, step `ReduceLrOnPlateau`, then run the callbacks.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`batch_size`) for 0, and any step's, evaluation's or
    /// callback's error (training stops there; the parameters keep their last update).
    ///
    /// [`NnError::InvalidSetting`]: crate::NnError::InvalidSetting
    pub fn fit(
        &mut self,
        train: &DataSet,
        validation: Option<&DataSet>,
        options: &FitOptions,
    ) -> Result<History> {
        let mut callbacks = std::mem::take(&mut self.callbacks);
        let mut early = options
            .early_stopping
            .clone()
            .map(EarlyStoppingCallback::new);
        let mut all: Vec<&mut dyn Callback> = callbacks
            .iter_mut()
            .map(|c| &mut **c as &mut dyn Callback)
            .collect();
        if let Some(early) = early.as_mut() {
            all.push(early);
        }
        let result = self.fit_with(train, validation, options, &mut all);
        drop(all);
        self.callbacks = callbacks;
        result
    }

    fn notify(
        &self,
        callbacks: &mut [&mut dyn Callback],
        state: &mut (bool, Option<usize>),
        mut call: impl FnMut(&mut dyn Callback, &mut TrainerControl<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut control = TrainerControl {
            graph: self.graph,
            params: &self.params,
            stop: state.0,
            restored_epoch: state.1,
        };
        for callback in callbacks.iter_mut() {
            call(&mut **callback, &mut control)?;
        }
        *state = (control.stop, control.restored_epoch);
        Ok(())
    }

    fn fit_with(
        &mut self,
        train: &DataSet,
        validation: Option<&DataSet>,
        options: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        let start = Instant::now();
        self.check_method(train, options)?;
        self.dropout_rng = StdRng::seed_from_u64(options.seed);
        let mut batches = Batches::new(
            train,
            BatchOptions {
                batch_size: options.batch_size,
                shuffle: options.shuffle,
                seed: options.seed,
                drop_last: options.drop_last,
            },
        )?;
        let progress = Progress::new(options.epochs, options.quiet);
        let mut history = History::default();
        let mut state = (false, None);
        self.notify(callbacks, &mut state, |c, control| {
            c.on_train_begin(control)
        })?;
        for epoch in 0..options.epochs {
            if let (Some((schedule, ScheduleInterval::Epoch)), Updater::Optimizer(optimizer)) =
                (&mut self.schedule, &mut self.updater)
            {
                apply_schedule(&mut **schedule, &mut **optimizer, epoch, self.base_lr);
            }
            batches.start_epoch(epoch);
            let (mut loss_sum, mut correct, mut samples, mut batch) = (0.0, None::<usize>, 0, 0);
            while let Some((x, y)) = batches.next_batch() {
                if let (Some((schedule, ScheduleInterval::Step)), Updater::Optimizer(optimizer)) =
                    (&mut self.schedule, &mut self.updater)
                {
                    apply_schedule(&mut **schedule, &mut **optimizer, self.steps, self.base_lr);
                }
                let lr = self.lr();
                let outcome = self.train_batch(x, y)?;
                loss_sum += outcome.loss * outcome.size as f64;
                if let Some(c) = outcome.correct {
                    correct = Some(correct.unwrap_or(0) + c);
                }
                samples += outcome.size;
                if !callbacks.is_empty() {
                    let record = BatchRecord {
                        epoch,
                        batch,
                        size: outcome.size,
                        loss: outcome.loss,
                        lr,
                    };
                    self.notify(callbacks, &mut state, |c, control| {
                        c.on_batch_end(&record, control)
                    })?;
                    if state.0 {
                        break;
                    }
                }
                batch += 1;
            }
            let lr = self.lr();
            let val = match validation {
                Some(v) => Some(self.evaluate(v, options.batch_size)?),
                None => None,
            };
            let train_loss = loss_sum / samples as f64;
            if let (Some(plateau), Updater::Optimizer(optimizer)) =
                (&mut self.plateau, &mut self.updater)
            {
                plateau.step(val.map_or(train_loss, |m| m.loss), &mut **optimizer);
            }
            let record = EpochRecord {
                epoch,
                train_loss,
                train_accuracy: correct.map(|c| c as f64 / samples as f64),
                val_loss: val.map(|m| m.loss),
                val_accuracy: val.and_then(|m| m.accuracy),
                lr,
                seconds: start.elapsed().as_secs_f64(),
            };
            history.epochs.push(record);
            progress.epoch_done(&record);
            self.notify(callbacks, &mut state, |c, control| {
                c.on_epoch_end(&record, control)
            })?;
            let method_stop = self.last_iteration().and_then(|i| i.stop);
            if state.0 || method_stop.is_some() {
                history.stopped_early = epoch + 1 < options.epochs;
                history.method_stop = method_stop;
                break;
            }
        }
        self.notify(callbacks, &mut state, |c, control| c.on_train_end(control))?;
        history.restored_epoch = state.1;
        progress.finish();
        Ok(history)
    }
}

/// Sets the rate a schedule gives for step (or epoch) `k`, and its momentum when it schedules
/// one (PyTorch's `OneCycleLR` cycles the momentum, or Adam's `β₁`, against the rate). An
/// optimizer without momentum keeps none: PyTorch would refuse it, this just leaves it alone.
fn apply_schedule(
    schedule: &mut dyn LrSchedule,
    optimizer: &mut dyn Optimizer,
    k: usize,
    base: f64,
) {
    optimizer.set_lr(schedule.lr(k, base));
    if let Some(momentum) = schedule.momentum(k) {
        optimizer.set_momentum(momentum);
    }
}
