"""SciPy's Levenberg-Marquardt (MINPACK, `least_squares(method="lm")`) on the fits that
`cargo bench -p adnet-nn --bench classic` times, for docs/benchmarks.md.

Run from a virtual environment outside the repository that has numpy and scipy:

    python crates/nn/benches/peers/scipy_lm.py [path/to/data/diabetes.csv]

For each fit it reports the time per Levenberg-Marquardt iteration (one Jacobian evaluation
plus the trial evaluations MINPACK makes), with the Jacobian given analytically (written in
numpy below, the fastest way to use SciPy) and by SciPy's default finite differences
("2-point"), and the MSE reached after 100 iterations. The initial weights are drawn here
(Glorot-uniform, numpy seed 7), not the ones adnet draws, so the MSE after 100 iterations is
comparable in magnitude only; time per iteration does not depend on them.
"""

import sys
import time

import numpy as np
from scipy.optimize import least_squares


def unpack(theta, d, h):
    k = 0
    w1 = theta[k:k + d * h].reshape(d, h); k += d * h
    b1 = theta[k:k + h]; k += h
    w2 = theta[k:k + h].reshape(h, 1); k += h
    b2 = theta[k:k + 1]
    return w1, b1, w2, b2


def make(x, t, h):
    n, d = x.shape

    def residuals(theta):
        w1, b1, w2, b2 = unpack(theta, d, h)
        return (np.tanh(x @ w1 + b1) @ w2 + b2 - t).ravel()

    def jacobian(theta):
        w1, b1, w2, b2 = unpack(theta, d, h)
        a = np.tanh(x @ w1 + b1)               # n x h
        da = (1.0 - a * a) * w2[:, 0]          # n x h: d r / d (pre-activation)
        jw1 = (x[:, :, None] * da[:, None, :]).reshape(n, d * h)
        return np.hstack([jw1, da, a, np.ones((n, 1))])

    return residuals, jacobian


def init(d, h, rng):
    def glorot(fan_in, fan_out, shape):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    return np.concatenate([glorot(d, h, d * h), np.zeros(h), glorot(h, 1, h), np.zeros(1)])


def run(name, x, t, h):
    residuals, jacobian = make(x, t, h)
    theta0 = init(x.shape[1], h, np.random.default_rng(7))
    n = len(t)
    for label, jac in [("analytic Jacobian", jacobian), ("finite differences", "2-point")]:
        best = None
        for _ in range(3 if callable(jac) else 1):
            start = time.perf_counter()
            # about 100 iterations: with a callable Jacobian MINPACK counts only residual
            # evaluations (at least one per iteration); with finite differences it counts the
            # n evaluations of each Jacobian too
            budget = 100 if callable(jac) else 100 * (len(theta0) + 1)
            result = least_squares(residuals, theta0, jac=jac, method="lm", max_nfev=budget,
                                   xtol=1e-15, ftol=1e-15, gtol=1e-15)
            seconds = time.perf_counter() - start
            # MINPACK's lmdif reports no Jacobian count: each iteration makes n evaluations for
            # its Jacobian and at least one trial, so iterations are about nfev / (n + 1)
            iterations = result.njev if result.njev is not None else result.nfev // (len(theta0) + 1)
            per = seconds / max(iterations, 1)
            if best is None or per < best[0]:
                best = (per, iterations, result)
        per, iterations, result = best
        mse = float(np.mean(result.fun ** 2))
        print(f"{name:12} {label:20} {per * 1e6:10.1f} us/iteration  ({iterations} iterations, "
              f"{result.nfev} evaluations, MSE {mse:.3e})")


def main():
    x = np.linspace(-np.pi, np.pi, 100).reshape(-1, 1)
    run("lm_1_10_1", x, np.sin(x), 10)
    path = sys.argv[1] if len(sys.argv) > 1 else "data/diabetes.csv"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(data))[: int(round(0.75 * len(data)))]
    features, target = data[rows, :10], data[rows, 10:]
    features = (features - features.mean(0)) / features.std(0)
    target = (target - target.mean()) / target.std()
    run("lm_10_20_1", features, target, 20)


if __name__ == "__main__":
    main()
