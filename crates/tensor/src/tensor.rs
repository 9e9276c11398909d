//! The [`Tensor`] type: a dense row-major n-d array of `f32` or `f64`.

use std::fmt;

use rand::Rng;

use crate::{DType, Element, Result, Shape, TensorError};

/// The data of a tensor, one variant per [`DType`].
#[derive(Clone, PartialEq)]
pub enum Storage {
    /// `f32` elements, row-major.
    F32(Vec<f32>),
    /// `f64` elements, row-major.
    F64(Vec<f64>),
}

impl Default for Storage {
    fn default() -> Self {
        Storage::F64(Vec::new())
    }
}

/// A dense, row-major n-dimensional array of `f32` or `f64`. Rank 0 is a scalar.
///
/// Kernels in [`crate::kernels`] write into a tensor they are given and reuse its allocation
/// when the size allows, so code that runs the same computation many times allocates nothing
/// after the first run. The methods on `Tensor` that return a new tensor are the convenient,
/// allocating form of the same kernels.
///
/// # Examples
/// ```
/// use adnet_tensor::{Shape, Tensor};
/// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2])?;
/// assert_eq!(a.shape(), &Shape::from([2, 2]));
/// assert_eq!(a.get(&[1, 0])?, 3.0);
/// assert_eq!(Tensor::scalar(2.5).to_scalar()?, 2.5);
/// # Ok::<(), adnet_tensor::TensorError>(())
/// ```
#[derive(Clone, PartialEq, Default)]
pub struct Tensor {
    shape: Shape,
    data: Storage,
}

impl Tensor {
    /// A tensor from its data (row-major) and shape.
    ///
    /// # Errors
    /// [`TensorError::LengthMismatch`] when `data.len()` is not the shape's element count.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if data.len() != shape.numel() {
            return Err(TensorError::LengthMismatch {
                expected: shape.numel(),
                actual: data.len(),
                shape,
            });
        }
        Ok(Tensor {
            shape,
            data: T::into_storage(data),
        })
    }

    /// A tensor of the given shape and dtype from `f64` values (rounded for `f32`).
    ///
    /// # Errors
    /// [`TensorError::LengthMismatch`] when `data.len()` is not the shape's element count.
    pub fn from_f64s(data: &[f64], shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        match dtype {
            DType::F32 => Tensor::from_vec(data.iter().map(|&v| v as f32).collect(), shape),
            DType::F64 => Tensor::from_vec(data.to_vec(), shape),
        }
    }

    /// A rank-0 `f64` tensor.
    pub fn scalar(value: f64) -> Tensor {
        Tensor {
            shape: Shape::scalar(),
            data: Storage::F64(vec![value]),
        }
    }

    /// A rank-0 tensor of the given dtype.
    pub fn scalar_of(value: f64, dtype: DType) -> Tensor {
        Tensor::full(Shape::scalar(), value, dtype)
    }

    /// A tensor filled with `value`.
    pub fn full(shape: impl Into<Shape>, value: f64, dtype: DType) -> Tensor {
        let shape = shape.into();
        let n = shape.numel();
        let data = match dtype {
            DType::F32 => Storage::F32(vec![value as f32; n]),
            DType::F64 => Storage::F64(vec![value; n]),
        };
        Tensor { shape, data }
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    /// A tensor of ones.
    pub fn ones(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// The 1-D tensor `start, start + step, ...` up to but excluding `end`, as NumPy's `arange`.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] when `step` is zero or not finite, or the bounds are not
    /// finite.
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(TensorError::InvalidArgument {
                op: "arange",
                reason: format!("start {start}, end {end}, step {step}"),
            });
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let values: Vec<f64> = (0..n).map(|i| start + step * i as f64).collect();
        Tensor::from_f64s(&values, [n], dtype)
    }

    /// Samples uniformly from `[low, high)`, drawing from the given (seeded) generator.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] when `low >= high` or a bound is not finite.
    ///
    /// # Examples
    /// ```
    /// use adnet_tensor::{rand::{rngs::StdRng, SeedableRng}, DType, Tensor};
    /// let mut rng = StdRng::seed_from_u64(7);
    /// let t = Tensor::uniform([3, 2], -1.0, 1.0, DType::F32, &mut rng)?;
    /// assert!(t.to_f64_vec().iter().all(|v| (-1.0..1.0).contains(v)));
    /// # Ok::<(), adnet_tensor::TensorError>(())
    /// ```
    pub fn uniform(
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        let valid = low.is_finite() && high.is_finite() && low < high;
        if !valid {
            return Err(TensorError::InvalidArgument {
                op: "uniform",
                reason: format!("need finite low < high, got {low} and {high}"),
            });
        }
        let shape = shape.into();
        let values: Vec<f64> = (0..shape.numel())
            .map(|_| {
                let v = rng.random_range(low..high);
                // rounding to f32 may land exactly on `high`; keep the interval half-open
                if dtype == DType::F32 && v as f32 >= high as f32 {
                    low
                } else {
                    v
                }
            })
            .collect();
        Tensor::from_f64s(&values, shape, dtype)
    }

    /// Samples from the normal distribution `N(mean, std²)` (Box-Muller), drawing from the
    /// given (seeded) generator.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] when `std` is negative or a parameter is not finite.
    pub fn normal(
        shape: impl Into<Shape>,
        mean: f64,
        std: f64,
        dtype: DType,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        let valid = std.is_finite() && mean.is_finite() && std >= 0.0;
        if !valid {
            return Err(TensorError::InvalidArgument {
                op: "normal",
                reason: format!("need finite mean and std >= 0, got {mean} and {std}"),
            });
        }
        let shape = shape.into();
        let n = shape.numel();
        let mut values = Vec::with_capacity(n + 1);
        while values.len() < n {
            // 1 - u lies in (0, 1], so the logarithm is finite
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random::<f64>();
            let radius = (-2.0 * u1.ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            values.push(mean + std * radius * angle.cos());
            values.push(mean + std * radius * angle.sin());
        }
        values.truncate(n);
        Tensor::from_f64s(&values, shape, dtype)
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The dimensions (shorthand for `shape().dims()`).
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self.data {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    /// The underlying storage.
    pub fn storage(&self) -> &Storage {
        &self.data
    }

    /// The underlying storage, mutably. Its length must stay the shape's element count.
    pub fn storage_mut(&mut self) -> &mut Storage {
        &mut self.data
    }

    /// The data as a slice of `T`.
    ///
    /// # Errors
    /// [`TensorError::WrongDType`] when the tensor does not hold `T`.
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        let actual = self.dtype();
        T::slice(self).ok_or(TensorError::WrongDType {
            expected: T::DTYPE,
            actual,
        })
    }

    /// The data as a mutable slice of `T`.
    ///
    /// # Errors
    /// [`TensorError::WrongDType`] when the tensor does not hold `T`.
    pub fn as_mut_slice<T: Element>(&mut self) -> Result<&mut [T]> {
        let actual = self.dtype();
        T::slice_mut(self).ok_or(TensorError::WrongDType {
            expected: T::DTYPE,
            actual,
        })
    }

    /// All elements converted to `f64`, row-major.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            Storage::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Storage::F64(v) => v.clone(),
        }
    }

    /// The element at a flat (row-major) index, as `f64`.
    pub fn flat(&self, index: usize) -> Option<f64> {
        match &self.data {
            Storage::F32(v) => v.get(index).map(|&x| x as f64),
            Storage::F64(v) => v.get(index).copied(),
        }
    }

    /// The single element of a one-element tensor (any rank), as `f64`.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] when the tensor does not hold exactly one element.
    pub fn to_scalar(&self) -> Result<f64> {
        if self.numel() != 1 {
            return Err(TensorError::ShapeMismatch {
                op: "to_scalar",
                lhs: self.shape.clone(),
                rhs: Shape::scalar(),
            });
        }
        Ok(self.flat(0).expect("one element, checked above"))
    }

    /// The element at a multi-index, as `f64`.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] when the index has the wrong length or is out of bounds.
    pub fn get(&self, index: &[usize]) -> Result<f64> {
        let in_bounds =
            index.len() == self.rank() && index.iter().zip(self.dims()).all(|(&i, &d)| i < d);
        if !in_bounds {
            return Err(TensorError::InvalidArgument {
                op: "get",
                reason: format!("index {index:?} out of bounds for shape {}", self.shape),
            });
        }
        let flat: usize = index
            .iter()
            .zip(self.shape.strides())
            .map(|(i, s)| i * s)
            .sum();
        Ok(self.flat(flat).expect("index checked against the shape"))
    }

    /// A copy converted to another dtype.
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let data = match (&self.data, dtype) {
            (Storage::F64(v), DType::F32) => Storage::F32(v.iter().map(|&x| x as f32).collect()),
            (Storage::F32(v), DType::F64) => Storage::F64(v.iter().map(|&x| x as f64).collect()),
            _ => unreachable!("same dtype returned above"),
        };
        Tensor {
            shape: self.shape.clone(),
            data,
        }
    }

    /// Makes this tensor the given shape and dtype, reusing its allocation when the dtype is
    /// unchanged and the capacity suffices. The contents are unspecified afterwards: kernels
    /// call this on their output and then overwrite every element.
    pub fn reset(&mut self, shape: &Shape, dtype: DType) {
        if self.shape != *shape {
            self.shape.clone_from(shape);
        }
        let n = shape.numel();
        match (&mut self.data, dtype) {
            (Storage::F32(v), DType::F32) => v.resize(n, 0.0),
            (Storage::F64(v), DType::F64) => v.resize(n, 0.0),
            (data, DType::F32) => *data = Storage::F32(vec![0.0; n]),
            (data, DType::F64) => *data = Storage::F64(vec![0.0; n]),
        }
    }

    /// Copies `src` into this tensor (shape, dtype and data), reusing the allocation.
    pub fn assign(&mut self, src: &Tensor) {
        self.reset(&src.shape, src.dtype());
        match (&mut self.data, &src.data) {
            (Storage::F32(d), Storage::F32(s)) => d.copy_from_slice(s),
            (Storage::F64(d), Storage::F64(s)) => d.copy_from_slice(s),
            _ => unreachable!("reset made the dtypes equal"),
        }
    }

    /// Whether every element is finite (no NaN, no infinity).
    pub fn all_finite(&self) -> bool {
        match &self.data {
            Storage::F32(v) => v.iter().all(|x| x.is_finite()),
            Storage::F64(v) => v.iter().all(|x| x.is_finite()),
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor<{}, {}>(", self.dtype(), self.shape)?;
        fmt::Display::fmt(self, f)?;
        write!(f, ")")
    }
}

/// Prints nested brackets, as NumPy does (`[[1, 2], [3, 4]]`); a scalar prints as its value.
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn nested(
            t: &Tensor,
            f: &mut fmt::Formatter<'_>,
            axis: usize,
            offset: usize,
        ) -> fmt::Result {
            if axis == t.rank() {
                let v = t.flat(offset).expect("offset within the shape");
                return match f.precision() {
                    Some(p) => write!(f, "{v:.p$}"),
                    None => write!(f, "{v}"),
                };
            }
            let stride: usize = t.dims()[axis + 1..].iter().product();
            write!(f, "[")?;
            for i in 0..t.dims()[axis] {
                if i > 0 {
                    write!(f, ", ")?;
                }
                nested(t, f, axis + 1, offset + i * stride)?;
            }
            write!(f, "]")
        }
        if self.numel() == 0 {
            return write!(f, "[]");
        }
        nested(self, f, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn from_vec_checks_length() {
        let err = Tensor::from_vec(vec![1.0f32; 5], [2, 3]).unwrap_err();
        assert_eq!(err.to_string(), "shape [2, 3] needs 6 elements, got 5");
    }

    #[test]
    fn display_nests_like_numpy() -> Result<()> {
        let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])?;
        assert_eq!(t.to_string(), "[[1, 2, 3], [4, 5, 6]]");
        assert_eq!(Tensor::scalar(0.5).to_string(), "0.5");
        Ok(())
    }

    #[test]
    fn reset_reuses_the_allocation() {
        let mut t = Tensor::zeros([4, 4], DType::F64);
        let before = t.as_slice::<f64>().map(|s| s.as_ptr()).ok();
        t.reset(&Shape::from([2, 8]), DType::F64);
        let after = t.as_slice::<f64>().map(|s| s.as_ptr()).ok();
        assert_eq!(before, after);
        assert_eq!(t.shape(), &Shape::from([2, 8]));
    }

    #[test]
    fn wrong_dtype_access_is_an_error() {
        let t = Tensor::zeros([2], DType::F32);
        assert_eq!(
            t.as_slice::<f64>().unwrap_err(),
            TensorError::WrongDType {
                expected: DType::F64,
                actual: DType::F32
            }
        );
    }

    #[test]
    fn random_constructors_are_seeded_and_in_range() -> Result<()> {
        let draw = |seed| -> Result<Tensor> {
            Tensor::normal(
                [1000],
                1.0,
                2.0,
                DType::F64,
                &mut StdRng::seed_from_u64(seed),
            )
        };
        assert_eq!(draw(3)?, draw(3)?);
        let values = draw(3)?.to_f64_vec();
        let mean = values.iter().sum::<f64>() / 1000.0;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 1000.0;
        assert!((mean - 1.0).abs() < 0.2, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.2, "std {}", var.sqrt());
        let u = Tensor::uniform([1000], 2.0, 3.0, DType::F32, &mut StdRng::seed_from_u64(1))?;
        assert!(u.to_f64_vec().iter().all(|v| (2.0..3.0).contains(v)));
        assert!(Tensor::uniform([1], 1.0, 1.0, DType::F32, &mut StdRng::seed_from_u64(1)).is_err());
        assert!(Tensor::normal([1], 0.0, -1.0, DType::F32, &mut StdRng::seed_from_u64(1)).is_err());
        Ok(())
    }

    #[test]
    fn arange_matches_numpy() -> Result<()> {
        let t = Tensor::arange(0.0, 1.0, 0.25, DType::F64)?;
        assert_eq!(t.to_f64_vec(), vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(
            Tensor::arange(3.0, 0.0, -1.0, DType::F32)?.to_f64_vec(),
            vec![3.0, 2.0, 1.0]
        );
        assert!(Tensor::arange(0.0, 1.0, 0.0, DType::F32).is_err());
        Ok(())
    }
}
