//! Softmax, log-softmax and logsumexp over one axis, computed stably (the maximum is
//! subtracted first): `logsumexp([1e4, 1e4]) = 1e4 + ln 2`, never NaN or inf for finite input.

use crate::{Result, Tensor};

/// `e^x / sum(e^x)` along `axis`.
pub fn softmax(x: &Tensor, axis: usize, out: &mut Tensor) -> Result<()> {
    let _ = (x, axis, out);
    unimplemented!("softmax is being written")
}

/// `x - logsumexp(x)` along `axis`.
pub fn log_softmax(x: &Tensor, axis: usize, out: &mut Tensor) -> Result<()> {
    let _ = (x, axis, out);
    unimplemented!("log_softmax is being written")
}

/// `ln(sum(e^x))` along `axis` (the shape rule is [`reduce_shape`](super::reduce_shape)).
pub fn logsumexp(x: &Tensor, axis: usize, keepdims: bool, out: &mut Tensor) -> Result<()> {
    let _ = (x, axis, keepdims, out);
    unimplemented!("logsumexp is being written")
}
