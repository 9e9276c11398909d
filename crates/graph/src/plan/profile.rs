//! Timing a plan's runs node by node ([`Plan::profile`]).

use std::fmt;
use std::time::{Duration, Instant};

use adnet_tensor::Shape;

use super::Plan;
use crate::{Graph, NodeId, Result};

/// One timed step of a profiled run: a tensor kernel call, or a whole scalar tape.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileEntry {
    /// The node computed; `None` for a scalar tape (timed as one step).
    pub node: Option<NodeId>,
    /// The node's display name (`name` or `%id`), or `"scalar tape"`.
    pub name: String,
    /// The op's name, or `"tape"`.
    pub op: String,
    /// The shape of the result.
    pub shape: Shape,
    /// Wall time of the step.
    pub time: Duration,
}

/// The per-node times of a [`Plan`]'s runs, in execution order (`Display` prints the
/// time per op kind and the slowest nodes; PyTorch's profiler table, for a plan).
///
/// # Examples
/// ```
/// use adnet_graph::Graph;
/// use adnet_tensor::{DType, Tensor};
/// let g = Graph::new();
/// let x = g.input("x", [64, 32], DType::F32)?;
/// let w = g.param("w", Tensor::ones([32, 16], DType::F32))?;
/// let y = x.matmul(w).relu().sum_all();
/// let mut plan = g.compile([y])?;
/// plan.set_input(x, &Tensor::ones([64, 32], DType::F32))?;
/// let profile = plan.profile(&g, 5)?;
/// assert_eq!(profile.entries().len(), 3); // matmul, relu, sum
/// assert!(profile.by_op().iter().any(|(op, _, _)| op == "matmul"));
/// println!("{profile}");
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    entries: Vec<ProfileEntry>,
    total: Duration,
}

impl Profile {
    pub(super) fn new(entries: Vec<ProfileEntry>, total: Duration) -> Profile {
        Profile { entries, total }
    }

    /// The timed steps, in execution order.
    pub fn entries(&self) -> &[ProfileEntry] {
        &self.entries
    }

    /// Wall time of a whole run (the steps plus the plan's own bookkeeping), the median over
    /// the runs.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// Time and number of steps per op name, slowest first.
    pub fn by_op(&self) -> Vec<(String, Duration, usize)> {
        let mut rows: Vec<(String, Duration, usize)> = Vec::new();
        for entry in &self.entries {
            match rows.iter_mut().find(|(op, _, _)| *op == entry.op) {
                Some(row) => {
                    row.1 += entry.time;
                    row.2 += 1;
                }
                None => rows.push((entry.op.clone(), entry.time, 1)),
            }
        }
        rows.sort_by_key(|row| std::cmp::Reverse(row.1));
        rows
    }
}

/// A share of `total` in percent (0 for an empty run).
fn percent(part: Duration, total: Duration) -> f64 {
    if total.is_zero() {
        0.0
    } else {
        100.0 * part.as_secs_f64() / total.as_secs_f64()
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SLOWEST: usize = 12;
        writeln!(f, "{} steps in {:.3?}", self.entries.len(), self.total)?;
        writeln!(
            f,
            "{:<20} {:>12} {:>7} {:>6}",
            "op", "time", "share", "calls"
        )?;
        for (op, time, calls) in self.by_op() {
            let share = percent(time, self.total);
            writeln!(f, "{op:<20} {:>12.3?} {share:>6.1}% {calls:>6}", time)?;
        }
        let mut slowest: Vec<&ProfileEntry> = self.entries.iter().collect();
        slowest.sort_by_key(|entry| std::cmp::Reverse(entry.time));
        writeln!(f, "slowest steps:")?;
        for entry in slowest.into_iter().take(SLOWEST) {
            let share = percent(entry.time, self.total);
            let shape = format!("{:?}", entry.shape.dims());
            writeln!(
                f,
                "  {:<24} {:<16} {:<16} {:>12.3?} {share:>6.1}%",
                entry.name, entry.op, shape, entry.time
            )?;
        }
        Ok(())
    }
}

impl Plan {
    /// Runs the plan `runs` times (at least once), timing each step: every kernel call of a
    /// tensor plan, or the whole tape of a scalar or expanded plan (its steps take
    /// nanoseconds, below what a clock can attribute). Each step's time, and the total, is the
    /// median over the runs, so one slow run on a busy machine does not skew the table. The
    /// results are the same as [`Plan::run`]'s; timing costs two clock reads per step.
    ///
    /// # Errors
    /// As [`Plan::run`].
    pub fn profile(&mut self, graph: &Graph, runs: usize) -> Result<Profile> {
        let runs = runs.max(1);
        let mut steps: Vec<Vec<Duration>> = Vec::new();
        let mut totals = Vec::with_capacity(runs);
        let mut times = Vec::new();
        for _ in 0..runs {
            times.clear();
            let start = Instant::now();
            self.run_timed(graph, Some(&mut times))?;
            totals.push(start.elapsed());
            steps.resize_with(times.len(), Vec::new);
            for (step, &time) in steps.iter_mut().zip(&times) {
                step.push(time);
            }
        }
        let total = median(&mut totals);
        let data = graph.data();
        let entries = match &self.program {
            super::Program::Tensor(p) => p
                .instrs
                .iter()
                .zip(&mut steps)
                .map(|(instr, times)| ProfileEntry {
                    node: Some(instr.node),
                    name: data.display_name(instr.node),
                    op: instr.op.name().to_string(),
                    shape: instr.spec.shape.clone(),
                    time: median(times),
                })
                .collect(),
            _ => vec![ProfileEntry {
                node: None,
                name: "scalar tape".to_string(),
                op: "tape".to_string(),
                shape: Shape::scalar(),
                time: total,
            }],
        };
        Ok(Profile::new(entries, total))
    }
}

/// The median of `times` (the upper one of an even count); zero for none.
fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
