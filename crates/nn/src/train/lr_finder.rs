//! The learning-rate range test (L. Smith, "Cyclical Learning Rates for Training Neural
//! Networks", 2017; fastai's `lr_find`): train with a rate growing exponentially from
//! `start_lr` to `end_lr` and record the smoothed loss at each rate.

use adnet_tensor::Tensor;

use super::Trainer;
use crate::data::{BatchOptions, Batches, DataSet};
use crate::{NnError, Result};

/// The weight of the running average of the loss (fastai's `beta`).
const SMOOTHING: f64 = 0.98;

/// The test stops once the smoothed loss exceeds this multiple of the best seen (fastai's
/// `stop_div`).
const DIVERGENCE: f64 = 4.0;

/// Sweeps the learning rate exponentially from `start_lr` to `end_lr` over `steps` training
/// steps on batches of `batch_size` (reshuffled each pass over `data`, seed 0) and returns
/// `(lr, smoothed loss)` for each step, the loss being an exponential moving average
/// (weight 0.98) with bias correction. Stops early when the smoothed loss becomes non-finite
/// or more than four times the lowest seen. A good rate usually lies a little below the
/// steepest descent of the curve.
///
/// Afterwards the parameters are put back as they were, the optimizer is
/// [`reset`](crate::optim::Optimizer::reset) (its moments are lost, since the [`Optimizer`]
/// trait cannot copy them: run the test before training) and its learning rate restored. The
/// plans compiled for `batch_size` stay cached for training.
///
/// # Errors
/// [`NnError::InvalidSetting`] for `start_lr` not positive, `end_lr` not above it, fewer than
/// two `steps`, or a `batch_size` of 0; any training step's error (the parameters and rate are
/// restored first).
///
/// [`Optimizer`]: crate::optim::Optimizer
pub fn lr_range_test(
    trainer: &mut Trainer<'_>,
    data: &DataSet,
    start_lr: f64,
    end_lr: f64,
    steps: usize,
    batch_size: usize,
) -> Result<Vec<(f64, f64)>> {
    if !(start_lr > 0.0 && start_lr.is_finite()) {
        return Err(NnError::InvalidSetting {
            what: "start_lr",
            reason: format!("must be a positive number, got {start_lr}"),
        });
    }
    if !(end_lr > start_lr && end_lr.is_finite()) {
        return Err(NnError::InvalidSetting {
            what: "end_lr",
            reason: format!("must be above start_lr ({start_lr}), got {end_lr}"),
        });
    }
    if steps < 2 {
        return Err(NnError::InvalidSetting {
            what: "steps",
            reason: format!("must be at least 2, got {steps}"),
        });
    }
    let mut batches = Batches::new(
        data,
        BatchOptions {
            batch_size,
            shuffle: true,
            seed: 0,
            drop_last: false,
        },
    )?;
    let graph = trainer.graph();
    let saved: Vec<Tensor> = trainer
        .params()
        .iter()
        .map(|&p| graph.value(p))
        .collect::<std::result::Result<_, _>>()?;
    let Some(optimizer) = trainer.optimizer_mut() else {
        return Err(NnError::InvalidSetting {
            what: "method",
            reason: "a learning-rate range test needs an optimizer; this trainer runs a \
                     full-batch method, which has no learning rate"
                .to_string(),
        });
    };
    let saved_lr = optimizer.lr();
    optimizer.reset();
    let result = sweep(trainer, &mut batches, start_lr, end_lr, steps);
    for (&p, value) in trainer.params().iter().zip(&saved) {
        graph.set_param(p, value)?;
    }
    if let Some(optimizer) = trainer.optimizer_mut() {
        optimizer.reset();
        optimizer.set_lr(saved_lr);
    }
    result
}

fn sweep(
    trainer: &mut Trainer<'_>,
    batches: &mut Batches<'_>,
    start_lr: f64,
    end_lr: f64,
    steps: usize,
) -> Result<Vec<(f64, f64)>> {
    let ratio = end_lr / start_lr;
    let mut points = Vec::with_capacity(steps);
    let (mut average, mut best) = (0.0, f64::INFINITY);
    let mut epoch = 0;
    for i in 0..steps {
        let lr = start_lr * ratio.powf(i as f64 / (steps - 1) as f64);
        trainer.set_lr(lr);
        let outcome = loop {
            if let Some((x, y)) = batches.next_batch() {
                break trainer.train_batch(x, y)?;
            }
            epoch += 1;
            batches.start_epoch(epoch);
        };
        average = SMOOTHING * average + (1.0 - SMOOTHING) * outcome.loss;
        let smoothed = average / (1.0 - SMOOTHING.powi(i as i32 + 1));
        if !smoothed.is_finite() {
            break;
        }
        points.push((lr, smoothed));
        best = best.min(smoothed);
        if smoothed > DIVERGENCE * best {
            break;
        }
    }
    Ok(points)
}
