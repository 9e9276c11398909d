//! L-BFGS: limited-memory BFGS with a strong-Wolfe line search.

use super::current::Descent;
use super::line_search::WolfeOptions;
use super::{dot, FullBatchMethod, Iteration, Objective, StopReason};
use crate::{NnError, Result};

/// Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithms 7.4
/// and 7.5; Liu & Nocedal 1989), for any scalar objective.
///
/// It keeps the last `m` pairs `sᵢ = θᵢ₊₁ − θᵢ`, `yᵢ = gᵢ₊₁ − gᵢ` and steps along
/// `d = −H·g`, where `H` is the BFGS inverse-Hessian estimate those pairs build from
/// `H₀ = γ·I`, applied by the two-loop recursion without forming it:
///
/// ```text
/// q = g
/// for i = newest … oldest:  ρᵢ = 1 / yᵢᵀsᵢ,  aᵢ = ρᵢ·sᵢᵀq,  q = q − aᵢ·yᵢ
/// r = γ·q,  γ = sᵀy / yᵀy of the newest pair (1 before the first pair)
/// for i = oldest … newest:  b = ρᵢ·yᵢᵀr,  r = r + (aᵢ − b)·sᵢ
/// d = −r,  θ₊ = θ + α·d  with α satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9)
/// ```
///
/// Defaults: `m = 10` ([`history`](Self::history)), SciPy's `L-BFGS-B` default (PyTorch's
/// `torch.optim.LBFGS` keeps 100). The line search starts from `α₀ = 1` (the quasi-Newton
/// step), except while the history is empty (the first iteration, or after the history was
/// dropped), when `−g` is unscaled and it starts from `α₀ = min(1, 1/‖g‖)`. A pair is stored only when
/// `sᵀy > ε·‖y‖²` with `ε` the machine epsilon: the strong Wolfe conditions guarantee
/// `sᵀy > 0` in exact arithmetic, and a pair failing the test carries no usable curvature
/// (it would make `γ` vanish, or `H` indefinite).
///
/// When the line search finds no lower point along `−H·g`, the history is dropped and the
/// iteration retries along `−g`; when it finds none along `−g` either, the iteration stops with
/// [`StopReason::NoProgress`] and `θ` unchanged.
///
/// The value and gradient at the new `θ` are kept for the next iteration (which checks that
/// `θ` is still the point it left, and starts afresh, history dropped, otherwise), so an
/// iteration costs only its line search's evaluations, usually one. Call
/// [`reset`](FullBatchMethod::reset) when the objective changes. The history (`2·m·n` values)
/// and the other state vectors are allocated on the first iteration; later iterations allocate
/// nothing.
#[derive(Debug, Clone)]
pub struct Lbfgs {
    history: usize,
    line_search: WolfeOptions,
    state: State,
}

/// What one iteration hands the next.
#[derive(Debug, Clone, Default)]
struct State {
    descent: Descent,
    pairs: Pairs,
}

/// The last `m` curvature pairs, in a ring.
#[derive(Debug, Clone, Default)]
struct Pairs {
    /// `m` rows of `n` values: `s[i·n..(i + 1)·n]` is pair `i`'s `s`.
    s: Vec<f64>,
    /// As `s`, for `y`.
    y: Vec<f64>,
    /// `1 / yᵢᵀsᵢ`.
    rho: Vec<f64>,
    /// The two-loop recursion's `aᵢ`.
    a: Vec<f64>,
    /// Pairs held (at most `m`).
    len: usize,
    /// The slot of the newest pair.
    newest: usize,
}

impl Pairs {
    fn new(m: usize, n: usize) -> Self {
        Pairs {
            s: vec![0.0; m * n],
            y: vec![0.0; m * n],
            rho: vec![0.0; m],
            a: vec![0.0; m],
            len: 0,
            newest: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.rho.len()
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// Stores `s = step·d` and `y = next − grad` in place of the oldest pair, unless
    /// `sᵀy ≤ ε‖y‖²`. Returns whether it was stored.
    fn push(&mut self, step: f64, direction: &[f64], grad: &[f64], next: &[f64]) -> bool {
        let n = direction.len();
        let m = self.capacity();
        let slot = if self.len == 0 {
            0
        } else {
            (self.newest + 1) % m
        };
        // test before writing: when the ring is full, the slot holds the oldest pair
        let (mut sy, mut yy) = (0.0, 0.0);
        for ((d, g), next) in direction.iter().zip(grad).zip(next) {
            let y = next - g;
            sy += step * d * y;
            yy += y * y;
        }
        let curved = sy > f64::EPSILON * yy; // false for NaN too
        if !curved {
            return false;
        }
        let s = &mut self.s[slot * n..(slot + 1) * n];
        let y = &mut self.y[slot * n..(slot + 1) * n];
        for i in 0..n {
            s[i] = step * direction[i];
            y[i] = next[i] - grad[i];
        }
        self.rho[slot] = 1.0 / dot(s, y);
        self.newest = slot;
        self.len = (self.len + 1).min(m);
        true
    }

    /// `out = H·g` by the two-loop recursion.
    fn apply_inverse_hessian(&mut self, g: &[f64], out: &mut [f64]) {
        let n = g.len();
        let m = self.capacity();
        out.copy_from_slice(g);
        if self.len == 0 {
            return;
        }
        let slot = |k: usize| (self.newest + m - k) % m; // k = 0 is the newest
        for k in 0..self.len {
            let i = slot(k);
            let s = &self.s[i * n..(i + 1) * n];
            let y = &self.y[i * n..(i + 1) * n];
            let a = self.rho[i] * dot(s, out);
            self.a[i] = a;
            for (q, y) in out.iter_mut().zip(y) {
                *q -= a * y;
            }
        }
        let i = self.newest;
        let y = &self.y[i * n..(i + 1) * n];
        let gamma = 1.0 / (self.rho[i] * dot(y, y));
        for q in out.iter_mut() {
            *q *= gamma;
        }
        for k in (0..self.len).rev() {
            let i = slot(k);
            let s = &self.s[i * n..(i + 1) * n];
            let y = &self.y[i * n..(i + 1) * n];
            let b = self.rho[i] * dot(y, out);
            let coefficient = self.a[i] - b;
            for (r, s) in out.iter_mut().zip(s) {
                *r += coefficient * s;
            }
        }
    }
}

impl Default for Lbfgs {
    fn default() -> Self {
        Self::new()
    }
}

impl Lbfgs {
    /// L-BFGS keeping 10 pairs, with the strong-Wolfe search at `c1 = 1e-4`, `c2 = 0.9`.
    pub fn new() -> Self {
        Lbfgs {
            history: 10,
            line_search: WolfeOptions::default(),
            state: State::default(),
        }
    }

    /// Keeps the last `m` curvature pairs (default 10).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`history_size`, PyTorch's name) when `m` is 0.
    pub fn history(mut self, m: usize) -> Result<Self> {
        if m == 0 {
            return Err(NnError::InvalidSetting {
                what: "history_size",
                reason: "must keep at least 1 pair".to_string(),
            });
        }
        self.history = m;
        self.state = State::default();
        Ok(self)
    }

    /// Sets the line search's settings (default `c1 = 1e-4`, `c2 = 0.9`, 25 evaluations).
    ///
    /// # Errors
    /// As [`WolfeOptions::validate`].
    pub fn line_search(mut self, options: WolfeOptions) -> Result<Self> {
        options.validate()?;
        self.line_search = options;
        self.reset();
        Ok(self)
    }
}

impl FullBatchMethod for Lbfgs {
    fn name(&self) -> &'static str {
        "L-BFGS"
    }

    fn iterate(&mut self, objective: &mut dyn Objective, theta: &mut [f64]) -> Result<Iteration> {
        let s = &mut self.state;
        let start = s.descent.start(objective, theta)?;
        if start.fresh {
            let n = theta.len();
            if s.pairs.capacity() != self.history || s.pairs.s.len() != self.history * n {
                s.pairs = Pairs::new(self.history, n);
            }
            s.pairs.clear();
        }
        if let Some(done) = start.no_step() {
            return Ok(done);
        }
        let grad_norm = start.grad_norm;
        let mut evaluations = start.evaluations();
        let found = loop {
            let descent = &mut s.descent;
            s.pairs
                .apply_inverse_hessian(&descent.current.grad, &mut descent.direction);
            for d in descent.direction.iter_mut() {
                *d = -*d;
            }
            let downhill = descent.slope() < 0.0; // false for NaN too
            if !downhill && s.pairs.len > 0 {
                // rounding made H·g useless: forget the history
                s.pairs.clear();
                continue;
            }
            let initial_step = if s.pairs.len == 0 {
                (1.0 / grad_norm).min(1.0)
            } else {
                1.0
            };
            let found = descent.line_search(objective, initial_step, &self.line_search)?;
            evaluations += found.evaluations;
            if found.step > 0.0 {
                break found;
            }
            if s.pairs.len == 0 {
                return Ok(Iteration {
                    stop: Some(StopReason::NoProgress),
                    ..start.unchanged(evaluations)
                });
            }
            s.pairs.clear();
        };
        let descent = &mut s.descent;
        let (direction, grad) = (&descent.direction, &descent.current.grad);
        s.pairs
            .push(found.step, direction, grad, &descent.point_grad);
        descent.accept(theta, found.value);
        Ok(start.iteration(found.value, evaluations))
    }

    fn reset(&mut self) {
        self.state.descent.current.forget();
        self.state.pairs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `out = a·x` for a row-major `n × n` matrix.
    fn matvec(a: &[f64], x: &[f64], out: &mut [f64]) {
        let n = x.len();
        for (i, o) in out.iter_mut().enumerate() {
            *o = dot(&a[i * n..(i + 1) * n], x);
        }
    }

    #[test]
    fn two_loop_recursion_is_the_inverse_hessian_with_conjugate_history() {
        // a symmetric positive definite A and A-conjugate steps sᵢ (Gram-Schmidt in the A inner
        // product): BFGS's hereditary property makes H = A⁻¹ after n pairs yᵢ = A·sᵢ, whatever γ
        let n = 4;
        let a = [
            4.0, 1.0, 0.5, 0.0, //
            1.0, 3.0, 0.2, 0.1, //
            0.5, 0.2, 2.0, 0.3, //
            0.0, 0.1, 0.3, 1.5,
        ];
        let mut steps: Vec<Vec<f64>> = Vec::new();
        for k in 0..n {
            let mut s: Vec<f64> = (0..n).map(|i| 1.0 + ((i + 2 * k) % 3) as f64).collect();
            s[k] += 2.0;
            for previous in &steps {
                let mut ap = vec![0.0; n];
                matvec(&a, previous, &mut ap);
                let c = dot(&s, &ap) / dot(previous, &ap);
                for (x, p) in s.iter_mut().zip(previous) {
                    *x -= c * p;
                }
            }
            steps.push(s);
        }
        let mut pairs = Pairs::new(n + 2, n); // room to spare: the ring must not matter
        let zero = vec![0.0; n];
        for s in &steps {
            let mut y = vec![0.0; n];
            matvec(&a, s, &mut y);
            assert!(pairs.push(1.0, s, &zero, &y));
        }
        let g = [1.0, -2.0, 0.5, 3.0];
        let mut hg = vec![0.0; n];
        pairs.apply_inverse_hessian(&g, &mut hg);
        let mut back = vec![0.0; n];
        matvec(&a, &hg, &mut back); // A·(H·g) = g
        for (b, g) in back.iter().zip(g) {
            assert!((b - g).abs() < 1e-12, "{back:?}");
        }
    }

    #[test]
    fn ring_keeps_the_newest_pairs_and_skips_flat_curvature() {
        let mut pairs = Pairs::new(2, 1);
        assert!(pairs.push(1.0, &[1.0], &[0.0], &[1.0])); // curvature 1
        assert!(pairs.push(1.0, &[1.0], &[0.0], &[2.0])); // curvature 2
        assert!(pairs.push(1.0, &[1.0], &[0.0], &[4.0])); // curvature 4 replaces 1
        assert!(!pairs.push(1.0, &[1.0], &[0.0], &[-1.0])); // negative curvature: skipped
        assert_eq!(pairs.len, 2);
        let mut out = [0.0];
        pairs.apply_inverse_hessian(&[1.0], &mut out);
        // in 1-D the newest pair alone fixes H = 1/4
        assert!((out[0] - 0.25).abs() < 1e-15);
    }
}
