//! Small dense linear algebra in `f64` for the least-squares methods: `Jᵀr`, the Gram matrix
//! `JᵀJ`, Cholesky factorisation and solves, and a Householder QR least-squares solve.
//!
//! Matrices are row-major slices with their dimensions passed alongside. Written by hand
//! rather than taken from `faer` or `nalgebra`, to keep the build light: Gauss-Newton and
//! Levenberg-Marquardt need only the first four routines, on matrices of a few hundred rows and
//! columns, and ADALINE's exact least-squares weights the QR solve
//! ([`solve_least_squares`]). The Gram matrix, which dominates a Levenberg-Marquardt epoch, is
//! computed as a sum of rank-one updates on its upper triangle, four rows of `a` at a time (see
//! [`gram`]).
//!
//! The routines take the dimensions as arguments and assume the slices hold at least that many
//! elements, as [`slice::copy_from_slice`] assumes matching lengths: they are building blocks
//! for code that sized its buffers from the same dimensions.

/// `out = aᵀ x` for a row-major `m × n` matrix `a` and `x` of length `m` (`out` of length `n`).
///
/// # Panics
/// When `a` holds fewer than `m·n` elements, `x` fewer than `m` or `out` fewer than `n`.
pub fn gemv_transposed(a: &[f64], m: usize, n: usize, x: &[f64], out: &mut [f64]) {
    let out = &mut out[..n];
    out.fill(0.0);
    if n == 0 {
        return;
    }
    // row by row, so `a` is read in storage order and the inner loop is an axpy
    for (row, &xi) in a[..m * n].chunks_exact(n).zip(&x[..m]) {
        for (o, &aij) in out.iter_mut().zip(row) {
            *o += aij * xi;
        }
    }
}

/// `out = aᵀ a` (`n × n`, row-major, symmetric: both triangles are written) for a row-major
/// `m × n` matrix `a`.
///
/// Cost: `m·n·(n+1)/2` multiply-adds on the upper triangle, then a copy into the lower one;
/// no allocation, one thread. The rows `a₀…a₃` of `a` are taken four at a time, and each block
/// adds `Σₖ aₖ[j] · aₖ[j..]` to row `j` of the upper triangle: a contiguous update that the
/// compiler vectorises, and one pass over `out` per four rows of `a`.
///
/// Measured on a random 331 × 241 matrix (a Jacobian size that Levenberg-Marquardt meets when
/// training a small network) on the 2-core development machine, minimum of 200 interleaved runs: 2.2 ms in the dev profile (`opt-level = 1`) and
/// 1.2 ms with this crate at `opt-level = 3`, against 1.25 ms and 1.8 ms for
/// `adnet_tensor::kernels::matmul_t` (the `gemm` crate on two threads, which computes both
/// triangles) including the copies into and out of tensors, and 2.5 ms for it on one thread.
/// This loop was kept: it allocates nothing, leaves the other core free, and is as fast as
/// `gemm` on one core; one row at a time (no blocking) took 8.4 ms and 1.8 ms.
///
/// # Panics
/// When `a` holds fewer than `m·n` elements or `out` fewer than `n·n`.
pub fn gram(a: &[f64], m: usize, n: usize, out: &mut [f64]) {
    let out = &mut out[..n * n];
    out.fill(0.0);
    if n == 0 {
        return;
    }
    let a = &a[..m * n];
    let mut blocks = a.chunks_exact(4 * n);
    for block in &mut blocks {
        let (r0, rest) = block.split_at(n);
        let (r1, rest) = rest.split_at(n);
        let (r2, r3) = rest.split_at(n);
        for j in 0..n {
            let (s0, s1, s2, s3) = (r0[j], r1[j], r2[j], r3[j]);
            let row = &mut out[j * n + j..(j + 1) * n];
            // equal-length slices, so the bounds checks below go away
            let len = row.len();
            let (x0, x1, x2, x3) = (
                &r0[j..][..len],
                &r1[j..][..len],
                &r2[j..][..len],
                &r3[j..][..len],
            );
            for t in 0..len {
                row[t] += s0 * x0[t] + s1 * x1[t] + s2 * x2[t] + s3 * x3[t];
            }
        }
    }
    for r in blocks.remainder().chunks_exact(n) {
        for j in 0..n {
            let s = r[j];
            let row = &mut out[j * n + j..(j + 1) * n];
            let x = &r[j..][..row.len()];
            for t in 0..row.len() {
                row[t] += s * x[t];
            }
        }
    }
    mirror_upper(out, n);
}

/// Copies the upper triangle of a row-major `n × n` matrix into its lower triangle.
fn mirror_upper(a: &mut [f64], n: usize) {
    for i in 1..n {
        for j in 0..i {
            a[i * n + j] = a[j * n + i];
        }
    }
}

/// A matrix that [`cholesky`] found not to be (numerically) positive definite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPositiveDefinite {
    /// The row (from 0) whose pivot was not positive enough.
    pub pivot: usize,
}

impl std::fmt::Display for NotPositiveDefinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "matrix is not positive definite: pivot {} is not positive",
            self.pivot
        )
    }
}

impl std::error::Error for NotPositiveDefinite {}

/// Factorises a symmetric positive definite `n × n` row-major matrix `a = L Lᵀ` in place:
/// `L` (lower triangular, positive diagonal) overwrites the lower triangle of `a`, whose
/// upper triangle is neither read nor written.
///
/// Row by row (Cholesky-Banachiewicz): `L_ij = (a_ij − Σ_{k<j} L_ik L_jk) / L_jj` for `j < i`
/// and `L_ii = √(a_ii − Σ_{k<i} L_ik²)`, so every sum runs along contiguous rows. `n³/6`
/// multiply-adds, no allocation.
///
/// # Errors
/// [`NotPositiveDefinite`] naming the first row `i` whose pivot `a_ii − Σ L_ik²` is not above
/// `n·ε·a_ii` (ε the `f64` machine epsilon), NaN included: the matrix is then singular or
/// indefinite to working precision (its condition number is beyond about `1/(n·ε)`). `a` is
/// left partly factorised.
///
/// # Panics
/// When `a` holds fewer than `n·n` elements.
pub fn cholesky(a: &mut [f64], n: usize) -> Result<(), NotPositiveDefinite> {
    let a = &mut a[..n * n];
    let tolerance = n as f64 * f64::EPSILON;
    for i in 0..n {
        let (done, rest) = a.split_at_mut(i * n);
        let row = &mut rest[..n];
        for j in 0..i {
            let row_j = &done[j * n..j * n + j];
            let sum = dot(&row[..j], row_j);
            row[j] = (row[j] - sum) / done[j * n + j];
        }
        let diagonal = row[i];
        let pivot = diagonal - dot(&row[..i], &row[..i]);
        if pivot.is_nan() || pivot <= tolerance * diagonal {
            return Err(NotPositiveDefinite { pivot: i });
        }
        row[i] = pivot.sqrt();
    }
    Ok(())
}

/// Solves `L Lᵀ x = b` in place (`b` becomes `x`), with `L` the lower triangle of `l` as
/// [`cholesky`] leaves it: forward substitution `L y = b`, then back substitution `Lᵀ x = y`.
/// `n²` multiply-adds, no allocation.
///
/// # Panics
/// When `l` holds fewer than `n·n` elements or `b` fewer than `n`.
pub fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64]) {
    let l = &l[..n * n];
    let b = &mut b[..n];
    for i in 0..n {
        let row = &l[i * n..i * n + i];
        b[i] = (b[i] - dot(row, &b[..i])) / l[i * n + i];
    }
    // column-oriented: once x_i is known, remove it from the equations above, reading row i
    // of L (column i of Lᵀ) contiguously
    for i in (0..n).rev() {
        let xi = b[i] / l[i * n + i];
        b[i] = xi;
        for (bk, &lik) in b[..i].iter_mut().zip(&l[i * n..i * n + i]) {
            *bk -= lik * xi;
        }
    }
}

/// A matrix that [`solve_least_squares`] found not to have full column rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankDeficient {
    /// The column (from 0) that is, to rounding, a linear combination of the columns before it.
    pub column: usize,
}

impl std::fmt::Display for RankDeficient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "matrix is rank deficient: column {} is a linear combination of the columns before it",
            self.column
        )
    }
}

impl std::error::Error for RankDeficient {}

/// The `x` (length `n`) that minimises `‖a x − b‖` for a row-major `m × n` matrix `a` of full
/// column rank and `b` of length `m`, by Householder QR.
///
/// Column by column, a reflection `H = I − 2 v vᵀ / (vᵀ v)` maps what is left of column `k`
/// (rows `k..m`) onto `∓‖·‖ e_k`, the sign chosen against `a_kk` so that `v` suffers no
/// cancellation, and is applied to the later columns and to `b`; back substitution in
/// `R x = (Qᵀ b)[..n]` then gives `x`. Unlike the normal equations `aᵀa x = aᵀb`, this does not
/// square the condition number. About `m·n² − n³/3` multiply-adds; it allocates copies of `a`
/// and `b`, and the solution.
///
/// # Errors
/// [`RankDeficient`] naming the first column whose part left after removing its components
/// along the columns before it is at most `1e-10` of its norm (NaN included): the solution is
/// then not unique, to working precision. With `m < n` this always happens (at most `m`
/// columns are independent).
///
/// # Panics
/// When `a` holds fewer than `m·n` elements or `b` fewer than `m`.
///
/// # Examples
/// ```
/// use adnet_nn::classic::linalg::solve_least_squares;
/// // the line c₀ + c₁·t through (0, 1), (1, 3), (2, 5): exactly 1 + 2t
/// let a = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0];
/// let x = solve_least_squares(&a, 3, 2, &[1.0, 3.0, 5.0])?;
/// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
/// # Ok::<(), adnet_nn::classic::linalg::RankDeficient>(())
/// ```
pub fn solve_least_squares(
    a: &[f64],
    m: usize,
    n: usize,
    b: &[f64],
) -> Result<Vec<f64>, RankDeficient> {
    let mut a = a[..m * n].to_vec();
    let mut b = b[..m].to_vec();
    let column_norm = |a: &[f64], k: usize, from: usize| {
        (from..m).map(|i| a[i * n + k].powi(2)).sum::<f64>().sqrt()
    };
    let original: Vec<f64> = (0..n).map(|k| column_norm(&a, k, 0)).collect();
    let mut diagonal = vec![0.0; n];
    for k in 0..n {
        let norm = column_norm(&a, k, k);
        // what is left of the column after removing its part along the previous ones
        if norm <= 1e-10 * original[k] || norm.is_nan() {
            return Err(RankDeficient { column: k });
        }
        // reflect the column onto −sign(a_kk) ‖·‖ e_k, avoiding cancellation in v = x − α e_k
        let alpha = if a[k * n + k] > 0.0 { -norm } else { norm };
        a[k * n + k] -= alpha;
        let v_norm2: f64 = (k..m).map(|i| a[i * n + k].powi(2)).sum();
        // apply H = I − 2 v vᵀ / (vᵀ v) to the later columns and to b
        for j in k + 1..n {
            let dot: f64 = (k..m).map(|i| a[i * n + k] * a[i * n + j]).sum();
            let scale = 2.0 * dot / v_norm2;
            for i in k..m {
                let v = a[i * n + k];
                a[i * n + j] -= scale * v;
            }
        }
        let dot: f64 = (k..m).map(|i| a[i * n + k] * b[i]).sum();
        let scale = 2.0 * dot / v_norm2;
        for i in k..m {
            b[i] -= scale * a[i * n + k];
        }
        diagonal[k] = alpha;
    }
    // back substitution in R x = (Qᵀ b)[..n]
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let above: f64 = (k + 1..n).map(|j| a[k * n + j] * x[j]).sum();
        x[k] = (b[k] - above) / diagonal[k];
    }
    Ok(x)
}

/// The inner product, in four independent sums so that the additions need not wait on one
/// another. Plain indexing over equal-length slices rather than iterator adaptors: in the dev
/// profile (`opt-level = 1`) the adaptors are not optimised away, and this form made a
/// 241 × 241 [`cholesky`] 4x faster there (3.6 ms to 0.8 ms).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    let mut acc = [0.0; 4];
    let mut k = 0;
    while k + 4 <= len {
        acc[0] += a[k] * b[k];
        acc[1] += a[k + 1] * b[k + 1];
        acc[2] += a[k + 2] * b[k + 2];
        acc[3] += a[k + 3] * b[k + 3];
        k += 4;
    }
    let mut tail = 0.0;
    while k < len {
        tail += a[k] * b[k];
        k += 1;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// `count` values uniform in `[-1, 1)`.
    fn random(rng: &mut StdRng, count: usize) -> Vec<f64> {
        (0..count).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// `BᵀB + eps·I` for a random `m × n` matrix `B`, by the textbook triple loop.
    fn spd(rng: &mut StdRng, m: usize, n: usize, eps: f64) -> Vec<f64> {
        let b = random(rng, m * n);
        let mut a = naive_gram(&b, m, n);
        for i in 0..n {
            a[i * n + i] += eps;
        }
        a
    }

    fn naive_gram(a: &[f64], m: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = (0..m).map(|k| a[k * n + i] * a[k * n + j]).sum();
            }
        }
        out
    }

    fn naive_matvec(a: &[f64], n: usize, x: &[f64]) -> Vec<f64> {
        (0..n)
            .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum())
            .collect()
    }

    /// Asserts `|actual - expected| <= tol · scale` elementwise.
    fn assert_all_close(actual: &[f64], expected: &[f64], tol: f64, scale: f64) {
        assert_eq!(actual.len(), expected.len());
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() <= tol * scale,
                "element {i}: actual {a:e}, expected {e:e}"
            );
        }
    }

    #[test]
    fn gemv_transposed_matches_hand_computation() {
        // [[1, 2], [3, 4], [5, 6]]ᵀ [1, 0, -1] = [1 - 5, 2 - 6]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = [f64::NAN; 2];
        gemv_transposed(&a, 3, 2, &[1.0, 0.0, -1.0], &mut out);
        assert_eq!(out, [-4.0, -4.0]);
    }

    #[test]
    fn gram_matches_hand_computation() {
        // [[1, 2], [3, 4], [5, 6]]ᵀ [[1, 2], [3, 4], [5, 6]]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = [f64::NAN; 4];
        gram(&a, 3, 2, &mut out);
        assert_eq!(out, [35.0, 44.0, 44.0, 56.0]);
    }

    #[test]
    fn empty_matrices_give_zeros() {
        let mut out = [f64::NAN; 4];
        gram(&[], 0, 2, &mut out);
        assert_eq!(out, [0.0; 4]);
        gemv_transposed(&[], 0, 2, &[], &mut out);
        assert_eq!(out[..2], [0.0; 2]);
        gram(&[], 3, 0, &mut []);
        assert_eq!(cholesky(&mut [], 0), Ok(()));
        cholesky_solve(&[], 0, &mut []);
    }

    #[test]
    fn cholesky_factorises_a_known_matrix() {
        // [[4, 2], [2, 5]] = [[2, 0], [1, 2]] [[2, 1], [0, 2]]
        let mut a = [4.0, f64::NAN, 2.0, 5.0];
        cholesky(&mut a, 2).expect("positive definite");
        assert_eq!([a[0], a[2], a[3]], [2.0, 1.0, 2.0]);
        assert!(
            a[1].is_nan(),
            "the upper triangle is neither read nor written"
        );
        let mut b = [8.4, 9.0]; // [[4, 2], [2, 5]] [1.5, 1.2]
        cholesky_solve(&a, 2, &mut b);
        assert_all_close(&b, &[1.5, 1.2], 1e-14, 1.0);
    }

    #[test]
    fn cholesky_reports_the_failing_pivot() {
        // indefinite: the second pivot is 1 - 4 = -3
        let mut a = [1.0, 2.0, 2.0, 1.0];
        assert_eq!(cholesky(&mut a, 2), Err(NotPositiveDefinite { pivot: 1 }));
        // singular: rank one, the second pivot cancels to zero
        let mut a = [1.0, 2.0, 2.0, 4.0];
        assert_eq!(cholesky(&mut a, 2), Err(NotPositiveDefinite { pivot: 1 }));
        let mut a = [0.0, 0.0, 0.0, 1.0];
        assert_eq!(cholesky(&mut a, 2), Err(NotPositiveDefinite { pivot: 0 }));
        let mut a = [f64::NAN, 0.0, 0.0, 1.0];
        assert_eq!(cholesky(&mut a, 2), Err(NotPositiveDefinite { pivot: 0 }));
        let error = NotPositiveDefinite { pivot: 1 };
        assert_eq!(
            error.to_string(),
            "matrix is not positive definite: pivot 1 is not positive"
        );
    }

    #[test]
    fn cholesky_rejects_a_numerically_singular_gram_matrix() {
        // JᵀJ of a 5 × 3 matrix whose third column is the sum of the first two: rounding
        // leaves the last pivot a tiny number of either sign
        let mut rng = StdRng::seed_from_u64(7);
        let mut j = random(&mut rng, 15);
        for row in j.chunks_exact_mut(3) {
            row[2] = row[0] + row[1];
        }
        let mut h = naive_gram(&j, 5, 3);
        assert_eq!(cholesky(&mut h, 3), Err(NotPositiveDefinite { pivot: 2 }));
    }

    #[test]
    fn gram_of_a_jacobian_sized_matrix_matches_naive() {
        // a Jacobian size that Levenberg-Marquardt meets when training a small network
        let (m, n) = (331, 241);
        let mut rng = StdRng::seed_from_u64(1);
        let a = random(&mut rng, m * n);
        let mut out = vec![0.0; n * n];
        gram(&a, m, n, &mut out);
        assert_all_close(&out, &naive_gram(&a, m, n), 1e-12, m as f64);
    }

    #[test]
    fn solve_least_squares_matches_the_normal_equations() {
        // the line through (0, 1), (1, 2), (2, 2), (3, 4): aᵀa = [[4, 6], [6, 14]] and
        // aᵀb = [9, 18], so x = [0.9, 0.9]
        let a = [1.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0];
        let x = solve_least_squares(&a, 4, 2, &[1.0, 2.0, 2.0, 4.0]).expect("full rank");
        assert_all_close(&x, &[0.9, 0.9], 1e-14, 1.0);
        assert_eq!(solve_least_squares(&[], 0, 0, &[]), Ok(vec![]));
    }

    #[test]
    fn solve_least_squares_reports_the_dependent_column() {
        // column 2 is column 0 + column 1
        let a = [1.0, 2.0, 3.0, 0.0, 1.0, 1.0, 4.0, -1.0, 3.0, 2.0, 2.0, 4.0];
        let b = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            solve_least_squares(&a, 4, 3, &b),
            Err(RankDeficient { column: 2 })
        );
        // a zero column, a NaN and too few rows
        let a = [1.0, 0.0, 2.0, 0.0];
        assert_eq!(
            solve_least_squares(&a, 2, 2, &b),
            Err(RankDeficient { column: 1 })
        );
        let a = [f64::NAN, 1.0, 2.0, 3.0];
        assert_eq!(
            solve_least_squares(&a, 2, 2, &b),
            Err(RankDeficient { column: 0 })
        );
        assert_eq!(
            solve_least_squares(&[1.0, 2.0, 3.0], 1, 3, &b),
            Err(RankDeficient { column: 1 })
        );
        let error = RankDeficient { column: 2 };
        assert_eq!(
            error.to_string(),
            "matrix is rank deficient: column 2 is a linear combination of the columns before it"
        );
    }

    proptest! {
        #[test]
        fn gram_matches_naive(m in 0usize..12, n in 0usize..12, seed in any::<u64>()) {
            let mut rng = StdRng::seed_from_u64(seed);
            let a = random(&mut rng, m * n);
            let mut out = vec![f64::NAN; n * n];
            gram(&a, m, n, &mut out);
            assert_all_close(&out, &naive_gram(&a, m, n), 1e-14, m.max(1) as f64);
        }

        #[test]
        fn gemv_transposed_matches_naive(m in 0usize..12, n in 0usize..12, seed in any::<u64>()) {
            let mut rng = StdRng::seed_from_u64(seed);
            let (a, x) = (random(&mut rng, m * n), random(&mut rng, m));
            let mut out = vec![f64::NAN; n];
            gemv_transposed(&a, m, n, &x, &mut out);
            let expected: Vec<f64> =
                (0..n).map(|j| (0..m).map(|i| a[i * n + j] * x[i]).sum()).collect();
            assert_all_close(&out, &expected, 1e-14, m.max(1) as f64);
        }

        #[test]
        fn solve_least_squares_solves_the_normal_equations(
            n in 1usize..10,
            extra in 0usize..10,
            seed in any::<u64>(),
        ) {
            let m = n + extra;
            let mut rng = StdRng::seed_from_u64(seed);
            let (a, b) = (random(&mut rng, m * n), random(&mut rng, m));
            let x = solve_least_squares(&a, m, n, &b).expect("a random matrix has full rank");
            // aᵀ(a x − b) = 0, to rounding: backward stability bounds it by about
            // m·n·ε·‖a‖·(‖a‖·‖x‖ + ‖b‖)
            let residual: Vec<f64> = (0..m)
                .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum::<f64>() - b[i])
                .collect();
            let mut normal = vec![0.0; n];
            gemv_transposed(&a, m, n, &residual, &mut normal);
            let norm = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>().sqrt();
            let bound = 1e-12 * norm(&a) * (norm(&a) * norm(&x) + norm(&b));
            prop_assert!(norm(&normal) <= bound, "{} > {bound}", norm(&normal));
        }

        #[test]
        fn cholesky_reconstructs_spd_matrices(n in 1usize..16, seed in any::<u64>()) {
            let mut rng = StdRng::seed_from_u64(seed);
            let a = spd(&mut rng, n + 3, n, 1e-2);
            let mut l = a.clone();
            cholesky(&mut l, n).expect("BᵀB + εI is positive definite");
            // L Lᵀ, from the lower triangle only
            let lower = |i: usize, k: usize| if k <= i { l[i * n + k] } else { 0.0 };
            let product: Vec<f64> = (0..n * n)
                .map(|ij| (0..n).map(|k| lower(ij / n, k) * lower(ij % n, k)).sum())
                .collect();
            let scale = a.iter().fold(1.0f64, |s, x| s.max(x.abs()));
            assert_all_close(&product, &a, 1e-13, scale);
        }

        #[test]
        fn cholesky_solve_leaves_a_small_residual(n in 1usize..16, seed in any::<u64>()) {
            let mut rng = StdRng::seed_from_u64(seed);
            let a = spd(&mut rng, n + 3, n, 1e-2);
            let b = random(&mut rng, n);
            let mut l = a.clone();
            cholesky(&mut l, n).expect("BᵀB + εI is positive definite");
            let mut x = b.clone();
            cholesky_solve(&l, n, &mut x);
            // backward stable: ‖Ax − b‖ ≲ n·ε·‖A‖·‖x‖
            let norm = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>().sqrt();
            let residual: Vec<f64> =
                naive_matvec(&a, n, &x).iter().zip(&b).map(|(p, q)| p - q).collect();
            let a_norm = norm(&a);
            prop_assert!(norm(&residual) <= 1e-12 * a_norm * norm(&x).max(1.0));
        }
    }
}
