//! The lecture's adaptive networks, ready-built: the networks adnet's tests, benchmarks and
//! examples share, and a starting point to copy.
//!
//! The second network (W1 in the benchmarks) is
//!
//! ```text
//! p = α·x + e^y     q = ln(β·x + y)     u = (p + q)/γ     v = p·q     o = u·ln v + v·ln u
//! ```
//!
//! with `α = 0.8, β = 1.2, γ = 2`, evaluated at `x = 1, y = 0.5`.

use crate::{Graph, Result, Var};

/// The initial parameter values `(α, β, γ)` of the lecture's networks.
pub const LECTURE_PARAMS: (f64, f64, f64) = (0.8, 1.2, 2.0);

/// The input point `(x, y)` the lecture's networks are evaluated at.
pub const LECTURE_POINT: (f64, f64) = (1.0, 0.5);

/// The nodes of the lecture's second network; every node is named as in the lecture.
#[derive(Debug, Clone, Copy)]
pub struct Lecture<'g> {
    /// Input `x`.
    pub x: Var<'g>,
    /// Input `y`.
    pub y: Var<'g>,
    /// Parameter `α` (`alpha`).
    pub alpha: Var<'g>,
    /// Parameter `β` (`beta`).
    pub beta: Var<'g>,
    /// Parameter `γ` (`gamma`).
    pub gamma: Var<'g>,
    /// `p = α·x + e^y` (adaptive).
    pub p: Var<'g>,
    /// `q = ln(β·x + y)` (adaptive).
    pub q: Var<'g>,
    /// `u = (p + q)/γ` (adaptive).
    pub u: Var<'g>,
    /// `v = p·q`.
    pub v: Var<'g>,
    /// The output `o = u·ln v + v·ln u`.
    pub o: Var<'g>,
}

impl<'g> Lecture<'g> {
    /// The five leaves, inputs then parameters: `[x, y, α, β, γ]`.
    pub fn leaves(&self) -> [Var<'g>; 5] {
        [self.x, self.y, self.alpha, self.beta, self.gamma]
    }
}

/// Builds the lecture's second network in `g` (inputs `x`, `y`; parameters `alpha`, `beta`,
/// `gamma` at [`LECTURE_PARAMS`]).
///
/// # Errors
/// A name the network uses is already taken in `g`.
///
/// # Examples
/// ```
/// use adnet_graph::{networks, Graph};
/// let g = Graph::new();
/// let net = networks::lecture(&g)?;
/// let o = g.eval(net.o, &[("x", 1.0), ("y", 0.5)])?;
/// assert_eq!(o, networks::lecture_value(1.0, 0.5, networks::LECTURE_PARAMS));
/// # Ok::<(), adnet_graph::GraphError>(())
/// ```
pub fn lecture(g: &Graph) -> Result<Lecture<'_>> {
    let (alpha0, beta0, gamma0) = LECTURE_PARAMS;
    let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
    let alpha = g.scalar_param("alpha", alpha0)?;
    let beta = g.scalar_param("beta", beta0)?;
    let gamma = g.scalar_param("gamma", gamma0)?;
    let p = (alpha * x + y.exp()).named("p")?;
    let q = (beta * x + y).ln().named("q")?;
    let u = ((p + q) / gamma).named("u")?;
    let v = (p * q).named("v")?;
    let o = (u * v.ln() + v * u.ln()).named("o")?;
    Ok(Lecture {
        x,
        y,
        alpha,
        beta,
        gamma,
        p,
        q,
        u,
        v,
        o,
    })
}

/// `o` of the lecture's second network in plain Rust, operation for operation as the graph
/// computes it (so the two agree to the last bit).
pub fn lecture_value(x: f64, y: f64, (alpha, beta, gamma): (f64, f64, f64)) -> f64 {
    let p = alpha * x + y.exp();
    let q = (beta * x + y).ln();
    let u = (p + q) / gamma;
    let v = p * q;
    u * v.ln() + v * u.ln()
}

/// `o` and its gradient `[∂o/∂x, ∂o/∂y, ∂o/∂α, ∂o/∂β, ∂o/∂γ]`, derived by hand.
pub fn lecture_gradient(x: f64, y: f64, (alpha, beta, gamma): (f64, f64, f64)) -> (f64, [f64; 5]) {
    let ey = y.exp();
    let p = alpha * x + ey;
    let s = beta * x + y;
    let q = s.ln();
    let u = (p + q) / gamma;
    let v = p * q;
    let (lu, lv) = (u.ln(), v.ln());
    let do_du = lv + v / u;
    let do_dv = u / v + lu;
    let do_dp = do_du / gamma + do_dv * q;
    let do_dq = do_du / gamma + do_dv * p;
    (
        u * lv + v * lu,
        [
            do_dp * alpha + do_dq * beta / s,
            do_dp * ey + do_dq / s,
            do_dp * x,
            do_dq * x / s,
            -do_du * (p + q) / (gamma * gamma),
        ],
    )
}
