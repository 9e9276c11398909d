//! ANFIS, the adaptive-network-based fuzzy inference system of J.-S. R. Jang, "ANFIS:
//! Adaptive-Network-based Fuzzy Inference System", IEEE Trans. Systems, Man, and Cybernetics
//! 23(3), 1993: a first-order Sugeno fuzzy model written as an adaptive network, trained by
//! backpropagation or by the paper's hybrid rule.
//!
//! # The network
//! An [`Anfis`] has `n` inputs, `M_j` membership functions on input `j` (one
//! [`MembershipKind`] for all), and a grid partition of the input space into
//! `R = M_1·…·M_n` rules, rule `i` reading one function `A_{j,k_j(i)}` per input
//! (row-major: the first input's function changes slowest):
//!
//! > **if** `x_1` is `A_{1,k_1}` and … and `x_n` is `A_{n,k_n}` **then**
//! > `f_i = p_i·x + r_i`.
//!
//! For a batch `x` of `N` rows it computes the paper's five layers, each a tensor node
//! (see [`AnfisLayers`]):
//!
//! 1. membership grades `μ_{j,k}(x_j)` (adaptive: the premise parameters), `[N, M_j]` per
//!    input;
//! 2. firing strengths by product, `w_i = Π_j μ_{j,k_j(i)}(x_j)`, `[N, R]`;
//! 3. normalised strengths `w̄_i = w_i / Σ_l w_l`, `[N, R]`;
//! 4. consequents `w̄_i·f_i = w̄_i (p_i·x + r_i)` (adaptive: the consequent parameters, one
//!    `[R, n + 1]` tensor whose row `i` is `[p_i, r_i]`), `[N, R]`;
//! 5. the output `o = Σ_i w̄_i f_i`, `[N, 1]`.
//!
//! Everything is built from the graph's ordinary ops (`slice`, `sub`, `div`, `square`, `pow`,
//! `gt`, `where`, `exp`, `relu`, `min`, `mul`, `reshape`, `sum`, `concat`, `matmul`): every
//! membership function is a composition of primitives, so no custom op is needed, and
//! derivatives of every order come from the ops' rules. Parameters are named
//! `{name}.premise.{input}.{parameter}` (`anfis.premise.0.a`) and `{name}.consequent`.
//!
//! # Training
//! - **Backpropagation**: [`Anfis`] is a [`Module`], so the ordinary
//!   [`Trainer`](crate::train::Trainer) trains all parameters with any optimizer.
//! - **The hybrid rule** (the paper's sections III and IV): [`HybridTrainer`] (or
//!   [`Anfis::fit_hybrid`]) alternates least squares for the consequent parameters
//!   ([`LeastSquares`], batch or recursive) and normalised gradient steps for the premise
//!   ones, with the paper's step-size heuristic ([`StepSizeRule`]).
//!
//! # Examples
//! ```
//! use adnet_graph::Graph;
//! use adnet_nn::anfis::{Anfis, HybridOptions, MembershipKind};
//! use adnet_nn::layers::Module;
//! use adnet_tensor::{DType, Tensor};
//!
//! let g = Graph::new();
//! // two inputs on [-1, 1], three bell functions each: 9 rules
//! let anfis = Anfis::builder(&[3, 3], &[(-1.0, 1.0), (-1.0, 1.0)])
//!     .membership(MembershipKind::Bell)
//!     .build(&g, "anfis")?;
//! assert_eq!(anfis.rules(), 9);
//! assert_eq!(anfis.parameter_count(), 2 * 3 * 3 + 9 * 3);
//! assert_eq!(anfis.parameters()[0].0, "anfis.premise.0.a");
//!
//! // learn z = x·y + x on a 7×7 grid with the hybrid rule
//! let grid: Vec<f64> = (0..7).map(|i| -1.0 + i as f64 / 3.0).collect();
//! let (mut xs, mut zs) = (Vec::new(), Vec::new());
//! for &u in &grid {
//!     for &v in &grid {
//!         xs.extend([u, v]);
//!         zs.push(u * v + u);
//!     }
//! }
//! let x = Tensor::from_vec(xs, [49, 2])?;
//! let t = Tensor::from_vec(zs, [49, 1])?;
//! let history = anfis.fit_hybrid(&g, &x, &t, &HybridOptions { epochs: 10, ..HybridOptions::default() })?;
//! assert!(history.final_rmse < 0.01);
//!
//! // the trained network is an ordinary module
//! let input = g.input("x", [49, 2], DType::F64)?;
//! let y = anfis.forward(&g, input)?;
//! assert_eq!(y.shape().dims(), &[49, 1]);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

use adnet_graph::ops::Axes;
use adnet_graph::{Graph, GraphError, NodeId, Var};
use adnet_tensor::{DType, Shape, Tensor};

use crate::layers::{ensure_free, named_node, Module};
use crate::{NnError, Result};

mod hybrid;
mod least_squares;
mod membership;

pub use hybrid::{HybridHistory, HybridOptions, HybridTrainer, StepSizeRule};
pub use least_squares::LeastSquares;
pub use membership::{MembershipFunction, MembershipKind};

/// The settings of an [`Anfis`]: functions per input, the inputs' ranges, the membership
/// family and the dtype. Made by [`Anfis::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnfisBuilder {
    mfs: Vec<usize>,
    ranges: Vec<(f64, f64)>,
    kind: MembershipKind,
    dtype: DType,
}

impl AnfisBuilder {
    /// The membership family of every input (default [`MembershipKind::Bell`]).
    pub fn membership(mut self, kind: MembershipKind) -> AnfisBuilder {
        self.kind = kind;
        self
    }

    /// The parameters' dtype (default `f64`: the least-squares step of the hybrid rule is
    /// computed in `f64`, and the consequent parameters lose little when they are kept so).
    pub fn dtype(mut self, dtype: DType) -> AnfisBuilder {
        self.dtype = dtype;
        self
    }

    /// Creates the premise parameters in `g`, initialised over the ranges (see
    /// [`MembershipKind`]; as MATLAB's `genfis1`, evenly spaced and overlapping), and the
    /// consequent parameter, zero, and returns the network.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`]: `mfs_per_input` empty or with a zero (`mfs_per_input`),
    /// a different number of ranges or a range that is not finite with `lo < hi` (`ranges`),
    /// a rule count that overflows; a bad or used name ([`GraphError`]; every name is checked
    /// before anything is created, so a failed build leaves the graph as it was).
    pub fn build(&self, g: &Graph, name: &str) -> Result<Anfis> {
        if self.mfs.is_empty() || self.mfs.contains(&0) {
            return Err(NnError::InvalidSetting {
                what: "mfs_per_input",
                reason: format!(
                    "every input needs at least one membership function, got {:?}",
                    self.mfs
                ),
            });
        }
        if self.ranges.len() != self.mfs.len() {
            return Err(NnError::InvalidSetting {
                what: "ranges",
                reason: format!(
                    "{} inputs need {} ranges, got {}",
                    self.mfs.len(),
                    self.mfs.len(),
                    self.ranges.len()
                ),
            });
        }
        if let Some((j, (lo, hi))) = self
            .ranges
            .iter()
            .enumerate()
            .find(|(_, (lo, hi))| !(lo.is_finite() && hi.is_finite() && lo < hi))
        {
            return Err(NnError::InvalidSetting {
                what: "ranges",
                reason: format!("input {j}: a range needs finite lo < hi, got ({lo}, {hi})"),
            });
        }
        let rules = self
            .mfs
            .iter()
            .try_fold(1usize, |r, &m| r.checked_mul(m))
            .filter(|r| r.checked_mul(self.mfs.len() + 1).is_some())
            .ok_or_else(|| NnError::InvalidSetting {
                what: "mfs_per_input",
                reason: format!("{:?} gives too many rules to count", self.mfs),
            })?;
        let premise_names: Vec<Vec<String>> = (0..self.mfs.len())
            .map(|j| {
                self.kind
                    .parameter_names()
                    .iter()
                    .map(|p| format!("{name}.premise.{j}.{p}"))
                    .collect()
            })
            .collect();
        let consequent_name = format!("{name}.consequent");
        for n in premise_names.iter().flatten().chain([&consequent_name]) {
            ensure_free(g, n)?;
        }
        let mut premise = Vec::with_capacity(self.mfs.len());
        for ((names, &count), &(lo, hi)) in premise_names.iter().zip(&self.mfs).zip(&self.ranges) {
            let values = self.kind.initial_parameters(lo, hi, count);
            let mut input = Vec::with_capacity(names.len());
            for (param_name, value) in names.iter().zip(values) {
                let id = g
                    .param(param_name, Tensor::from_f64s(&value, [count], self.dtype)?)?
                    .id();
                input.push((param_name.clone(), id));
            }
            premise.push(input);
        }
        let width = self.mfs.len() + 1;
        let consequent = g
            .param(&consequent_name, Tensor::zeros([rules, width], self.dtype))?
            .id();
        Ok(Anfis {
            name: name.to_string(),
            kind: self.kind,
            mfs: self.mfs.clone(),
            rules,
            dtype: self.dtype,
            premise,
            consequent: (consequent_name, consequent),
        })
    }
}

/// A first-order Sugeno fuzzy inference system as an adaptive network (Jang 1993): see the
/// [module documentation](self) for the layers, the rules and the training.
///
/// Built by [`Anfis::builder`]; its parameters live in the graph (see
/// [`crate::layers`]), so [`Module::forward`] may be called any number of times.
#[derive(Debug, Clone, PartialEq)]
pub struct Anfis {
    name: String,
    kind: MembershipKind,
    mfs: Vec<usize>,
    rules: usize,
    dtype: DType,
    /// Per input, its parameters in [`MembershipKind::parameter_names`] order.
    premise: Vec<Vec<(String, NodeId)>>,
    consequent: (String, NodeId),
}

/// The nodes of the five layers of an [`Anfis`] applied to a batch `x` of `N` rows
/// (Jang 1993, section IV), returned by [`Anfis::layers`] for tests, plots and inspection.
#[derive(Debug, Clone)]
pub struct AnfisLayers<'g> {
    /// Layer 1: per input `j`, the membership grades `μ_{j,k}(x_j)`, `[N, M_j]`.
    pub memberships: Vec<Var<'g>>,
    /// Layer 2: the firing strengths `w_i = Π_j μ_{j,k_j(i)}(x_j)`, `[N, R]`.
    pub firing: Var<'g>,
    /// Layer 3: the normalised firing strengths `w̄_i = w_i / Σ_l w_l`, `[N, R]`.
    pub normalized: Var<'g>,
    /// The rules' linear functions `f_i = p_i·x + r_i`, `[N, R]`.
    pub rule_outputs: Var<'g>,
    /// Layer 4: the weighted consequents `w̄_i f_i`, `[N, R]`.
    pub consequents: Var<'g>,
    /// Layer 5: the output `o = Σ_i w̄_i f_i`, `[N, 1]`.
    pub output: Var<'g>,
}

impl Anfis {
    /// The settings of a network with `mfs_per_input[j]` membership functions on input `j`,
    /// whose initial functions cover `ranges[j] = (lo, hi)` (the input's range in the
    /// training data, as `genfis1` takes it). Checked by [`AnfisBuilder::build`].
    pub fn builder(mfs_per_input: &[usize], ranges: &[(f64, f64)]) -> AnfisBuilder {
        AnfisBuilder {
            mfs: mfs_per_input.to_vec(),
            ranges: ranges.to_vec(),
            kind: MembershipKind::Bell,
            dtype: DType::F64,
        }
    }

    /// The name the parameters' names start with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of inputs `n`.
    pub fn inputs(&self) -> usize {
        self.mfs.len()
    }

    /// The number of membership functions on each input.
    pub fn mfs_per_input(&self) -> &[usize] {
        &self.mfs
    }

    /// The number of rules `R = Π_j M_j`.
    pub fn rules(&self) -> usize {
        self.rules
    }

    /// The membership family.
    pub fn kind(&self) -> MembershipKind {
        self.kind
    }

    /// The parameters' dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The number of scalar parameters: `Σ_j M_j · (parameters per function)` premise ones
    /// and `R·(n + 1)` consequent ones (72 for the paper's two-input, 16-rule bell example).
    pub fn parameter_count(&self) -> usize {
        let premise: usize = self.mfs.iter().sum::<usize>() * self.kind.parameter_names().len();
        premise + self.rules * (self.inputs() + 1)
    }

    /// The membership function of each input that rule `rule` reads (`k_j(i)`, row-major:
    /// the last input's index changes fastest), or `None` for `rule ≥ R`.
    ///
    /// # Examples
    /// ```
    /// use adnet_graph::Graph;
    /// use adnet_nn::anfis::Anfis;
    /// let g = Graph::new();
    /// let anfis = Anfis::builder(&[2, 3], &[(0.0, 1.0), (0.0, 1.0)]).build(&g, "f")?;
    /// assert_eq!(anfis.rule_antecedents(4), Some(vec![1, 1]));
    /// assert_eq!(anfis.rule_antecedents(6), None);
    /// # Ok::<(), adnet_nn::NnError>(())
    /// ```
    pub fn rule_antecedents(&self, rule: usize) -> Option<Vec<usize>> {
        if rule >= self.rules {
            return None;
        }
        let mut rest = rule;
        let mut indices = vec![0; self.mfs.len()];
        for (index, &m) in indices.iter_mut().zip(&self.mfs).rev() {
            *index = rest % m;
            rest /= m;
        }
        Some(indices)
    }

    /// The premise parameters with their names: per input, in
    /// [`MembershipKind::parameter_names`] order (each a vector of length `M_j`).
    pub fn premise_parameters(&self) -> Vec<(String, NodeId)> {
        self.premise.iter().flatten().cloned().collect()
    }

    /// The consequent parameter `[R, n + 1]` (row `i` is `[p_i, r_i]`) with its name.
    pub fn consequent_parameter(&self) -> (String, NodeId) {
        self.consequent.clone()
    }

    /// The current membership functions of every input, read from `g`.
    ///
    /// # Errors
    /// [`GraphError::UnknownName`] when `g` is not the graph the network was built in.
    pub fn membership_functions(&self, g: &Graph) -> Result<Vec<Vec<MembershipFunction>>> {
        self.premise
            .iter()
            .zip(&self.mfs)
            .map(|(params, &count)| {
                let values = params
                    .iter()
                    .map(|(name, id)| Ok(g.value(named_node(g, name, *id)?)?.to_f64_vec()))
                    .collect::<Result<Vec<Vec<f64>>>>()?;
                (0..count)
                    .map(|k| {
                        let one: Vec<f64> = values.iter().map(|v| v[k]).collect();
                        MembershipFunction::from_values(self.kind, &one).ok_or_else(|| {
                            NnError::InvalidSetting {
                                what: "premise",
                                reason: format!(
                                    "{} values for a {} function",
                                    one.len(),
                                    self.kind
                                ),
                            }
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Checks the premise parameters' current values in `g`: finite, a nonzero bell width, a
    /// positive Gaussian width, ordered triangle and trapezoid corners.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`premise`) naming the input, the function and what is
    /// wrong; [`GraphError::UnknownName`] for a graph other than the network's.
    pub fn check_premise(&self, g: &Graph) -> Result<()> {
        for (j, functions) in self.membership_functions(g)?.iter().enumerate() {
            for (k, function) in functions.iter().enumerate() {
                let values: Vec<f64> = match *function {
                    MembershipFunction::Bell { a, b, c } => vec![a, b, c],
                    MembershipFunction::Gaussian { c, sigma } => vec![c, sigma],
                    MembershipFunction::Triangular { a, b, c } => vec![a, b, c],
                    MembershipFunction::Trapezoidal { a, b, c, d } => vec![a, b, c, d],
                };
                self.kind
                    .check(&values)
                    .map_err(|reason| NnError::InvalidSetting {
                        what: "premise",
                        reason: format!("input {j}, function {k}: {reason}"),
                    })?;
            }
        }
        Ok(())
    }

    /// Checks that a batch has shape `[N, n]`.
    fn check_input_shape(&self, shape: &Shape) -> Result<()> {
        match shape.dims() {
            [_, n] if *n == self.inputs() => Ok(()),
            dims => Err(GraphError::ShapeMismatch {
                op: format!("anfis `{}`", self.name),
                lhs: shape.clone(),
                rhs: Shape::from([dims.first().copied().unwrap_or(1), self.inputs()]),
            }
            .into()),
        }
    }

    /// Adds the nodes of the five layers for the batch `x` (`[N, n]`, the network's dtype)
    /// and returns them all.
    ///
    /// A zero total firing strength (every rule silent: an input outside every triangle, or
    /// Gaussians that underflow) would make layer 3 divide 0 by 0; there the sum is replaced
    /// by 1 (a `where` node), which gives `w̄ = 0` and output 0 instead of NaN, and leaves
    /// every positive sum exactly as it is.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming `x`'s shape and the expected `[N, n]`;
    /// [`GraphError::DTypeMismatch`] for another dtype; `x` from another graph, or `g` not
    /// the network's graph ([`GraphError::UnknownName`] for its first parameter).
    pub fn layers<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<AnfisLayers<'g>> {
        let x = g.var(x)?;
        self.check_input_shape(&x.shape())?;
        let rows = x.shape().dims()[0];
        let theta = named_node(g, &self.consequent.0, self.consequent.1)?;
        let mut memberships = Vec::with_capacity(self.inputs());
        for (j, params) in self.premise.iter().enumerate() {
            let params = params
                .iter()
                .map(|(name, id)| named_node(g, name, *id))
                .collect::<Result<Vec<Var<'g>>>>()?;
            let column = g.slice(x, 1, j, j + 1)?;
            memberships.push(self.kind.graph_value(column, &params)?);
        }
        // layer 2: the outer product of the grades, rule index row-major over the inputs
        let mut firing = memberships[0];
        let mut count = self.mfs[0];
        for (mu, &m) in memberships.iter().zip(&self.mfs).skip(1) {
            let left = firing.try_reshape([rows, count, 1])?;
            let right = mu.try_reshape([rows, 1, m])?;
            count *= m;
            firing = left.try_mul(right)?.try_reshape([rows, count])?;
        }
        // layer 3, dividing by 1 instead of 0 where no rule fires (every w is 0 there)
        let total = g.sum(firing, Axes::List(vec![1]), true)?;
        let fired = total.try_gt(firing.constant_like(0.0))?;
        let total = g.where_(fired, total, firing.constant_like(1.0))?;
        let normalized = firing.try_div(total)?;
        // layer 4: f = [x, 1] θᵀ, then w̄ ⊙ f
        let ones = g.constant(Tensor::ones([rows, 1], x.dtype()));
        let extended = g.concat([x.id(), ones.id()], 1)?;
        let rule_outputs = g.matmul_t(extended, theta, false, true)?;
        let consequents = normalized.try_mul(rule_outputs)?;
        // layer 5
        let output = g.sum(consequents, Axes::List(vec![1]), true)?;
        Ok(AnfisLayers {
            memberships,
            firing,
            normalized,
            rule_outputs,
            consequents,
            output,
        })
    }

    /// Trains the network on `x` (`[N, n]`) and `t` (`[N, 1]` or `[N]`) with the hybrid rule:
    /// [`HybridTrainer::new`] then [`HybridTrainer::fit`]. Each call adds a new copy of the
    /// training nodes to `g`.
    ///
    /// # Errors
    /// As [`HybridTrainer::new`] and [`HybridTrainer::fit`].
    pub fn fit_hybrid(
        &self,
        g: &Graph,
        x: &Tensor,
        t: &Tensor,
        options: &HybridOptions,
    ) -> Result<HybridHistory> {
        options.validate()?;
        HybridTrainer::new(g, self, x, t)?.fit(options)
    }
}

impl Module for Anfis {
    /// The network's output `o`, `[N, 1]`, for a batch `x` of `[N, n]` (layer 5 of
    /// [`Anfis::layers`]).
    fn forward<'g>(&self, g: &'g Graph, x: Var<'g>) -> Result<Var<'g>> {
        Ok(self.layers(g, x)?.output)
    }

    /// The premise parameters (per input, in [`MembershipKind::parameter_names`] order), then
    /// the consequent parameter.
    fn parameters(&self) -> Vec<(String, NodeId)> {
        let mut all = self.premise_parameters();
        all.push(self.consequent.clone());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_build_leaves_the_graph_unchanged() -> Result<()> {
        let g = Graph::new();
        g.scalar_param("anfis.consequent", 0.0)?;
        let before = g.len();
        let err = Anfis::builder(&[2, 2], &[(0.0, 1.0), (0.0, 1.0)])
            .build(&g, "anfis")
            .unwrap_err();
        assert!(matches!(
            err,
            NnError::Graph(GraphError::DuplicateName { .. })
        ));
        assert_eq!(g.len(), before);
        Ok(())
    }

    #[test]
    fn initial_bell_functions_follow_genfis1() -> Result<()> {
        let g = Graph::new();
        let anfis = Anfis::builder(&[4], &[(-10.0, 10.0)]).build(&g, "a")?;
        let functions = &anfis.membership_functions(&g)?[0];
        let centres = [-10.0, -10.0 / 3.0, 10.0 / 3.0, 10.0];
        for (function, &centre) in functions.iter().zip(&centres) {
            let MembershipFunction::Bell { a, b, c } = *function else {
                panic!("bell expected, got {function:?}");
            };
            assert!((a - 10.0 / 3.0).abs() < 1e-12 && b == 2.0 && (c - centre).abs() < 1e-12);
        }
        // neighbours cross at one half
        assert!((functions[0].value(-20.0 / 3.0) - 0.5).abs() < 1e-12);
        assert!((functions[1].value(-20.0 / 3.0) - 0.5).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn initial_functions_of_every_kind_are_valid_and_overlap() -> Result<()> {
        for kind in [
            MembershipKind::Bell,
            MembershipKind::Gaussian,
            MembershipKind::Triangular,
            MembershipKind::Trapezoidal,
        ] {
            for count in [1, 2, 5] {
                let g = Graph::new();
                let anfis = Anfis::builder(&[count], &[(0.0, 4.0)])
                    .membership(kind)
                    .build(&g, "a")?;
                anfis.check_premise(&g)?;
                let functions = &anfis.membership_functions(&g)?[0];
                // every point of the range belongs to some function to degree at least 1/2
                for i in 0..=40 {
                    let x = i as f64 / 10.0;
                    let best = functions.iter().map(|f| f.value(x)).fold(0.0, f64::max);
                    assert!(best >= 0.5 - 1e-12, "{kind} × {count} at {x}: {best}");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn step_size_rule_shrinks_after_two_up_down_pairs() -> Result<()> {
        let mut rule = StepSizeRule::new(1.0, 1.1, 0.9)?;
        for error in [1.0, 2.0, 1.5, 2.5] {
            assert_eq!(rule.update(error), 1.0);
        }
        assert!((rule.update(2.0) - 0.9).abs() < 1e-15);
        // at most once every four epochs
        assert!((rule.update(3.0) - 0.9).abs() < 1e-15);
        assert!((rule.update(2.5) - 0.9).abs() < 1e-15);
        Ok(())
    }
}
