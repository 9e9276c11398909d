//! Element types: the [`DType`] tag and the [`Element`] trait kernels are generic over.

use std::fmt;

use num_traits::{Float, FloatConst};

use crate::{Storage, Tensor};

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
}

impl DType {
    /// Machine epsilon of the type.
    pub fn epsilon(self) -> f64 {
        match self {
            DType::F32 => f32::EPSILON as f64,
            DType::F64 => f64::EPSILON,
        }
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        })
    }
}

/// A floating-point element type a [`Tensor`] can hold (`f32` or `f64`).
///
/// Kernels are written once, generic over `Element`, and dispatched on the tensor's [`DType`].
pub trait Element:
    Float + FloatConst + Default + fmt::Debug + fmt::Display + Send + Sync + 'static
{
    /// The tag of this type.
    const DTYPE: DType;

    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(value: f64) -> Self;

    /// Converts to `f64` (exactly).
    fn to_f64(self) -> f64;

    /// The tensor's data, if it holds this type.
    fn slice(tensor: &Tensor) -> Option<&[Self]>;

    /// The tensor's data, mutably, if it holds this type.
    fn slice_mut(tensor: &mut Tensor) -> Option<&mut [Self]>;

    /// Wraps a vector of this type as storage.
    fn into_storage(data: Vec<Self>) -> Storage;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    fn from_f64(value: f64) -> Self {
        value as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn slice(tensor: &Tensor) -> Option<&[Self]> {
        match tensor.storage() {
            Storage::F32(v) => Some(v),
            Storage::F64(_) => None,
        }
    }
    fn slice_mut(tensor: &mut Tensor) -> Option<&mut [Self]> {
        match tensor.storage_mut() {
            Storage::F32(v) => Some(v),
            Storage::F64(_) => None,
        }
    }
    fn into_storage(data: Vec<Self>) -> Storage {
        Storage::F32(data)
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    fn from_f64(value: f64) -> Self {
        value
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn slice(tensor: &Tensor) -> Option<&[Self]> {
        match tensor.storage() {
            Storage::F64(v) => Some(v),
            Storage::F32(_) => None,
        }
    }
    fn slice_mut(tensor: &mut Tensor) -> Option<&mut [Self]> {
        match tensor.storage_mut() {
            Storage::F64(v) => Some(v),
            Storage::F32(_) => None,
        }
    }
    fn into_storage(data: Vec<Self>) -> Storage {
        Storage::F64(data)
    }
}
