//! Shapes, strides and NumPy broadcasting.

use std::fmt;

use smallvec::SmallVec;

use crate::{Result, TensorError};

/// The dimensions of a tensor, outermost first; rank 0 (no dimensions) is a scalar.
///
/// Up to three dimensions are stored inline (keeping `Shape`, and every error that carries two,
/// small), so building and comparing shapes allocates nothing for the tensors networks use.
///
/// # Examples
/// ```
/// use adnet_tensor::Shape;
/// let s = Shape::from([2, 3]);
/// assert_eq!(s.numel(), 6);
/// assert_eq!(s.to_string(), "[2, 3]");
/// assert_eq!(Shape::scalar().rank(), 0);
/// ```
#[derive(Clone, Eq, Default)]
pub struct Shape(SmallVec<[usize; 3]>);

/// Element by element rather than through `memcmp`: shapes are compared on every kernel call,
/// and for three or four dimensions the library call costs more than the comparison.
impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }
}

/// Hashes the dimensions, consistently with `eq`.
impl std::hash::Hash for Shape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_slice().hash(state);
    }
}

impl Shape {
    /// The shape of a scalar: rank 0, one element.
    pub fn scalar() -> Self {
        Shape(SmallVec::new())
    }

    /// A shape from its dimensions.
    pub fn new(dims: &[usize]) -> Self {
        Shape(SmallVec::from_slice(dims))
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The number of elements (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Whether this is the rank-0 shape.
    pub fn is_scalar(&self) -> bool {
        self.0.is_empty()
    }

    /// Row-major (C order) strides, in elements.
    pub fn strides(&self) -> SmallVec<[usize; 4]> {
        let mut strides = SmallVec::from_elem(0, self.rank());
        let mut acc = 1;
        for (stride, &dim) in strides.iter_mut().zip(&self.0).rev() {
            *stride = acc;
            acc *= dim;
        }
        strides
    }

    /// Normalises an axis given as `-rank..rank` (negative counts from the end) to `0..rank`.
    ///
    /// # Errors
    /// [`TensorError::AxisOutOfRange`] when the axis is outside that range.
    pub fn axis(&self, op: &'static str, axis: isize) -> Result<usize> {
        let rank = self.rank() as isize;
        let normalised = if axis < 0 { axis + rank } else { axis };
        if (0..rank).contains(&normalised) {
            Ok(normalised as usize)
        } else {
            Err(TensorError::AxisOutOfRange {
                op,
                axis,
                rank: self.rank(),
            })
        }
    }

    /// The shape two operands broadcast to, by NumPy's rules: align trailing dimensions; each
    /// pair must be equal or contain a 1.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] naming `op` and both shapes.
    ///
    /// # Examples
    /// ```
    /// use adnet_tensor::Shape;
    /// let s = Shape::broadcast("add", &Shape::from([3, 1]), &Shape::from([4]))?;
    /// assert_eq!(s, Shape::from([3, 4]));
    /// assert!(Shape::broadcast("add", &Shape::from([3]), &Shape::from([4])).is_err());
    /// # Ok::<(), adnet_tensor::TensorError>(())
    /// ```
    pub fn broadcast(op: &'static str, lhs: &Shape, rhs: &Shape) -> Result<Shape> {
        if lhs == rhs {
            return Ok(lhs.clone());
        }
        let rank = lhs.rank().max(rhs.rank());
        let mut dims = SmallVec::from_elem(0, rank);
        for (i, dim) in dims.iter_mut().enumerate() {
            let l = lhs.dim_from_end(rank - 1 - i);
            let r = rhs.dim_from_end(rank - 1 - i);
            *dim = match (l, r) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => {
                    return Err(TensorError::ShapeMismatch {
                        op,
                        lhs: lhs.clone(),
                        rhs: rhs.clone(),
                    })
                }
            };
        }
        Ok(Shape(dims))
    }

    /// Whether a tensor of this shape can be broadcast to `target` (NumPy rules, one way).
    pub fn broadcasts_to(&self, target: &Shape) -> bool {
        self.rank() <= target.rank()
            && (0..self.rank()).all(|i| {
                let d = self.dim_from_end(i);
                d == 1 || d == target.dim_from_end(i)
            })
    }

    /// Strides for reading this shape as if broadcast to `target`: broadcast dimensions get
    /// stride 0. The caller has checked [`Shape::broadcasts_to`].
    pub fn broadcast_strides(&self, target: &Shape) -> SmallVec<[usize; 4]> {
        let own = self.strides();
        let offset = target.rank() - self.rank();
        let mut strides = SmallVec::from_elem(0, target.rank());
        for i in 0..self.rank() {
            if self.0[i] != 1 {
                strides[offset + i] = own[i];
            }
        }
        strides
    }

    /// The dimension `i` places from the end, or 1 past the front (as broadcasting sees it).
    fn dim_from_end(&self, i: usize) -> usize {
        if i < self.rank() {
            self.0[self.rank() - 1 - i]
        } else {
            1
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape::new(&dims)
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape::new(dims)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        Shape::new(&dims)
    }
}

impl std::ops::Index<usize> for Shape {
    type Output = usize;
    fn index(&self, i: usize) -> &usize {
        &self.0[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_row_major() {
        assert_eq!(Shape::from([2, 3, 4]).strides().as_slice(), &[12, 4, 1]);
        assert!(Shape::scalar().strides().is_empty());
    }

    #[test]
    fn broadcast_follows_numpy() -> Result<()> {
        let b = |l: &[usize], r: &[usize]| Shape::broadcast("add", &l.into(), &r.into());
        assert_eq!(b(&[2, 1, 3], &[4, 1])?, Shape::from([2, 4, 3]));
        assert_eq!(b(&[], &[5, 2])?, Shape::from([5, 2]));
        assert_eq!(b(&[0, 1], &[1, 3])?, Shape::from([0, 3]));
        let err = b(&[2, 3], &[3, 2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "add: incompatible shapes [2, 3] and [3, 2]"
        );
        Ok(())
    }

    #[test]
    fn broadcast_strides_zero_on_broadcast_axes() {
        let s = Shape::from([3, 1]);
        assert!(s.broadcasts_to(&Shape::from([2, 3, 4])));
        assert_eq!(
            s.broadcast_strides(&Shape::from([2, 3, 4])).as_slice(),
            &[0, 1, 0]
        );
        assert!(!Shape::from([3]).broadcasts_to(&Shape::from([4])));
    }

    #[test]
    fn negative_axes_count_from_the_end() -> Result<()> {
        let s = Shape::from([2, 3]);
        assert_eq!(s.axis("sum", -1)?, 1);
        assert_eq!(s.axis("sum", 0)?, 0);
        assert!(matches!(
            s.axis("sum", 2),
            Err(TensorError::AxisOutOfRange {
                axis: 2,
                rank: 2,
                ..
            })
        ));
        Ok(())
    }
}
