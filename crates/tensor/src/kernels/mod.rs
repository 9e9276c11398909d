//! Every numeric kernel of adnet, for `f32` and `f64`.
//!
//! A kernel reads its inputs and writes its result into an output tensor it is given, which it
//! first [resets](crate::Tensor::reset) to the result's shape and dtype: the allocation is reused, so a
//! plan that runs the same kernels again allocates nothing. Inputs and output are distinct
//! tensors (Rust's borrow rules guarantee it). Each family's shape rule is a public function
//! (`*_shape`) so that graph ops check shapes with exactly the code the kernel uses.
//!
//! Kernels are written once, generic over [`Element`](crate::Element), and dispatched on the
//! [`DType`](crate::DType) with [`dispatch!`](crate::dispatch).

pub mod binary;
pub mod layout;
pub mod matmul;
pub mod reduce;
pub mod scalar;
pub mod softmax;
pub mod unary;

pub use binary::*;
pub use layout::*;
pub use matmul::*;
pub use reduce::*;
pub use softmax::*;
pub use unary::*;

/// Runs `$body` with the type alias `$T` bound to the element type of `$dtype`.
///
/// ```
/// use adnet_tensor::{dispatch, DType, Element};
/// fn eps(dtype: DType) -> f64 {
///     dispatch!(dtype, T => <T as num_traits::Float>::epsilon().to_f64())
/// }
/// assert_eq!(eps(DType::F32), f32::EPSILON as f64);
/// ```
#[macro_export]
macro_rules! dispatch {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                #[allow(dead_code)] // not every body names the type
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                #[allow(dead_code)] // not every body names the type
                type $T = f64;
                $body
            }
        }
    };
}
