//! The two rules the field started from: Rosenblatt's perceptron and Widrow and Hoff's ADALINE,
//! single linear units that separate two classes with a line (a hyperplane past two features).
//!
//! Both compute the net input `net = w·x + b` of `d` features `x` and classify by its sign,
//! `y = sgn(net)` in `{−1, +1}`, with **`sgn(0) = +1`**. Both learn *online*, one sample at a
//! time, each epoch visiting every sample once in a fixed or a seeded shuffled order
//! ([`SampleOrder`]). They differ in what they correct:
//!
//! - [`Perceptron`] (Rosenblatt 1958, *The perceptron: a probabilistic model for information
//!   storage and organization in the brain*) corrects mistakes only, using the thresholded output:
//!   `w ← w + η (t − y) x / 2`, `b ← b + η (t − y) / 2`, which is `w ← w + η t x`, `b ← b + η t`
//!   on a mistake (`t · net ≤ 0`: a sample on the line counts as a mistake for either class) and
//!   nothing otherwise. It stops after the first epoch without a mistake, which comes after at
//!   most `(R/γ)²` mistakes from zero weights when a line separates the classes with margin `γ`
//!   (Novikoff 1962, `R` the largest `‖(x, 1)‖`), and never when none does (XOR): training then
//!   ends after [`PerceptronOptions::max_epochs`] with `converged == false`. `sgn` has no useful
//!   derivative, so this is its own rule, not gradient descent through autodiff.
//! - [`Adaline`] (Widrow and Hoff 1960, *Adaptive switching circuits*) corrects the linear output
//!   towards the target on every sample, the least-mean-squares (LMS, Widrow-Hoff, delta) rule
//!   `w ← w + η (t − net) x`, `b ← b + η (t − net)`: stochastic gradient descent on the mean
//!   squared error `E = (1/n) Σ (t − net)²`. It settles near the least-squares solution, which
//!   [`Adaline::least_squares`] computes directly: within a distance proportional to `η` (the
//!   last samples' corrections pull it off), or exactly when a linear function fits the
//!   targets exactly.
//!
//! These are the lecture's single-layer perceptron: two features (hair length and voice
//! frequency), targets `+1` and `−1`, and the line `w₁x₁ + w₂x₂ + b = 0` between the classes
//! ([`DecisionLine`]).
//!
//! Targets may be given as `±1` or as `0/1` (`0` becomes `−1`); features must be finite. Training
//! continues from the current weights (zeros from [`Perceptron::new`], seeded random ones from
//! [`Init::Uniform`]).
//!
//! # Examples
//! ```
//! use adnet_nn::classic::perceptron::{Adaline, AdalineOptions, Perceptron, PerceptronOptions};
//! // logical AND on ±1 inputs: only (1, 1) is in class +1
//! let x = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]];
//! let t = [-1.0, -1.0, -1.0, 1.0];
//! let mut perceptron = Perceptron::new(2);
//! let report = perceptron.fit(x.as_flattened(), &t, &PerceptronOptions::default())?;
//! assert!(report.converged);
//! assert_eq!(report.mistakes.last(), Some(&0));
//! assert_eq!(perceptron.predict(&[1.0, 1.0])?, 1.0);
//! assert_eq!(perceptron.predict(&[1.0, -1.0])?, -1.0);
//!
//! // ADALINE's LMS rule ends near the least-squares weights (here w = (½, ½), b = −½)
//! let mut adaline = Adaline::new(2);
//! let options = AdalineOptions { lr: 0.001, max_epochs: 5000, ..AdalineOptions::default() };
//! assert!(adaline.fit(x.as_flattened(), &t, &options)?.converged);
//! let exact = Adaline::least_squares(2, x.as_flattened(), &t)?;
//! assert!((exact.bias() + 0.5).abs() < 1e-12);
//! assert!((adaline.bias() - exact.bias()).abs() < 1e-3);
//! assert!((adaline.weights()[1] - exact.weights()[1]).abs() < 1e-3);
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

mod adaline;
mod line;
mod rosenblatt;
mod unit;

pub use adaline::{Adaline, AdalineOptions, AdalineReport};
pub use line::DecisionLine;
pub use rosenblatt::{Perceptron, PerceptronOptions, PerceptronReport};
pub use unit::{Init, SampleOrder};
