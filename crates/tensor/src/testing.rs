//! Shared test support: float comparison and proptest strategies for shapes and tensors.
//!
//! Enabled by the `testing` feature so that the other crates' tests use the same strategies.
#![allow(clippy::unwrap_used, clippy::panic)] // test support: a failed check must panic

use proptest::prelude::*;

use crate::{DType, Shape, Tensor};

/// Asserts `|actual - expected| <= tol * max(1, |expected|)` (default `tol` 1e-12); NaN equals
/// NaN and equal infinities are equal.
#[macro_export]
macro_rules! assert_close {
    ($actual:expr, $expected:expr) => {
        $crate::assert_close!($actual, $expected, 1e-12)
    };
    ($actual:expr, $expected:expr, $tol:expr) => {{
        let (a, e, tol): (f64, f64, f64) = ($actual as f64, $expected as f64, $tol as f64);
        assert!(
            $crate::testing::close(a, e, tol),
            "assert_close failed: actual {a:e}, expected {e:e} (tolerance {tol:e})"
        );
    }};
}

/// Whether `a` and `e` agree within `tol` relative to `max(1, |e|)` (NaN matches NaN).
pub fn close(a: f64, e: f64, tol: f64) -> bool {
    (a.is_nan() && e.is_nan()) || a == e || (a - e).abs() <= tol * e.abs().max(1.0)
}

/// Asserts two tensors have the same shape and dtype and elementwise close values.
pub fn assert_tensors_close(actual: &Tensor, expected: &Tensor, tol: f64) {
    assert_eq!(actual.shape(), expected.shape(), "shapes differ");
    assert_eq!(actual.dtype(), expected.dtype(), "dtypes differ");
    for (i, (a, e)) in actual
        .to_f64_vec()
        .into_iter()
        .zip(expected.to_f64_vec())
        .enumerate()
    {
        assert!(
            close(a, e, tol),
            "element {i}: actual {a:e}, expected {e:e} (tolerance {tol:e})"
        );
    }
}

/// The row-major multi-index of flat position `flat` in `dims` (naive references index with
/// it).
pub fn unravel(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (i, &d) in index.iter_mut().zip(dims).rev() {
        *i = flat % d;
        flat /= d;
    }
    index
}

/// The flat row-major position of a multi-index in `dims`.
pub fn ravel(index: &[usize], dims: &[usize]) -> usize {
    index.iter().zip(dims).fold(0, |acc, (&i, &d)| acc * d + i)
}

/// The default tolerance for comparing a kernel with its naive reference in `dtype`.
pub fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-12,
    }
}

/// Either dtype.
pub fn dtype() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

/// Shapes of rank `0..=max_rank` with dimensions `0..=max_dim` (0 included: empty tensors are
/// part of every kernel's domain).
pub fn shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Shape> {
    prop::collection::vec(0..=max_dim, 0..=max_rank).prop_map(Shape::from)
}

/// Like [`shape`] but with every dimension at least 1.
pub fn nonempty_shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Shape> {
    prop::collection::vec(1..=max_dim, 0..=max_rank).prop_map(Shape::from)
}

/// Two shapes that broadcast together: a common shape, then in each operand every dimension
/// independently kept or replaced by 1, and leading dimensions dropped at random.
pub fn broadcast_pair(max_rank: usize, max_dim: usize) -> impl Strategy<Value = (Shape, Shape)> {
    shape(max_rank, max_dim).prop_flat_map(|full| {
        let rank = full.rank();
        (
            Just(full),
            prop::collection::vec(any::<bool>(), rank),
            prop::collection::vec(any::<bool>(), rank),
            0..=rank,
            0..=rank,
        )
            .prop_map(|(full, ones_a, ones_b, drop_a, drop_b)| {
                let make = |ones: &[bool], drop: usize| {
                    let dims: Vec<usize> = full
                        .dims()
                        .iter()
                        .zip(ones)
                        .map(|(&d, &one)| if one { 1 } else { d })
                        .skip(drop)
                        .collect();
                    Shape::from(dims)
                };
                (make(&ones_a, drop_a), make(&ones_b, drop_b))
            })
    })
}

/// A tensor of the given shape and dtype with values in `low..high`.
pub fn tensor_in(shape: Shape, dtype: DType, low: f64, high: f64) -> impl Strategy<Value = Tensor> {
    prop::collection::vec(low..high, shape.numel())
        .prop_map(move |values| Tensor::from_f64s(&values, shape.clone(), dtype).unwrap())
}

/// A tensor of the given shape and dtype with values in `-10..10`.
pub fn tensor(shape: Shape, dtype: DType) -> impl Strategy<Value = Tensor> {
    tensor_in(shape, dtype, -10.0, 10.0)
}
