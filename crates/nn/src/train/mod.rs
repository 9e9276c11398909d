//! The training loop: [`Trainer`] (compile once per batch size, run every step), its
//! [`FitOptions`], [`History`], [`Metrics`] and [`ConfusionMatrix`], [`Callback`]s with
//! [`EarlyStopping`], and the learning-rate range test ([`lr_range_test`]).

mod callbacks;
mod history;
mod lr_finder;
mod metrics;
mod progress;
mod trainer;

pub use callbacks::{
    BatchRecord, Callback, EarlyStopping, EarlyStoppingCallback, Monitor, TrainerControl,
};
pub use history::{EpochRecord, History, HISTORY_CSV_HEADER};
pub use lr_finder::lr_range_test;
pub use metrics::{ConfusionMatrix, Metrics, Task};
pub use trainer::{FitOptions, GradClip, ParamList, ScheduleInterval, Step, StepOutcome, Trainer};
