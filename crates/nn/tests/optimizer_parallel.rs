//! Large models are updated in runs on all cores (`optim::update_all`): the result must equal,
//! bit for bit, the same optimizer run on one thread. The reference is each parameter cut into
//! pieces small enough to stay on the calling thread, each piece with its own optimizer (the
//! updates are elementwise, so the pieces together are the whole).

use adnet_nn::optim::{Adadelta, Adagrad, Adam, AdamW, Adamax, Nadam, Optimizer, Rmsprop, Sgd};
use adnet_nn::Result;
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{DType, Tensor};

/// Builds a fresh optimizer of one configuration.
type Make = fn() -> Result<Box<dyn Optimizer>>;

fn configurations() -> Vec<(&'static str, Make)> {
    vec![
        ("sgd_nesterov", || {
            Ok(Box::new(Sgd::new(0.1)?.momentum(0.9)?.nesterov(true)?))
        }),
        ("sgd_decay", || {
            Ok(Box::new(
                Sgd::new(0.1)?
                    .momentum(0.8)?
                    .dampening(0.1)?
                    .weight_decay(0.01)?,
            ))
        }),
        ("adam", || Ok(Box::new(Adam::new(1e-3)?))),
        ("adam_amsgrad_decay", || {
            Ok(Box::new(Adam::new(1e-3)?.amsgrad(true).weight_decay(0.01)?))
        }),
        ("adamw", || Ok(Box::new(AdamW::new(1e-3)?))),
        ("adagrad", || Ok(Box::new(Adagrad::new(0.1)?))),
        ("rmsprop_centered_momentum", || {
            Ok(Box::new(Rmsprop::new(0.01)?.centered(true).momentum(0.9)?))
        }),
        ("adadelta", || Ok(Box::new(Adadelta::new(1.0)?))),
        ("adamax", || Ok(Box::new(Adamax::new(2e-3)?))),
        ("nadam", || Ok(Box::new(Nadam::new(2e-3)?))),
    ]
}

/// Elements per piece of the reference: every piece's optimizer sees well under the 2^18
/// elements above which updates go parallel.
const PIECE: usize = 40_000;

/// A model of 310,500 elements (two `f32` tensors and one `f64`), over the parallel threshold.
fn model(rng: &mut StdRng) -> Vec<Tensor> {
    vec![
        Tensor::uniform([600, 400], -1.0, 1.0, DType::F32, rng).expect("bounds"),
        Tensor::uniform([500], -1.0, 1.0, DType::F32, rng).expect("bounds"),
        Tensor::uniform([70_000], -1.0, 1.0, DType::F64, rng).expect("bounds"),
    ]
}

/// `tensor`'s elements in pieces of at most [`PIECE`], as flat tensors.
fn pieces(tensor: &Tensor) -> Vec<Tensor> {
    let values = tensor.to_f64_vec();
    values
        .chunks(PIECE)
        .map(|chunk| {
            Tensor::from_vec(chunk.to_vec(), [chunk.len()])
                .expect("shape")
                .to_dtype(tensor.dtype())
        })
        .collect()
}

#[test]
fn parallel_updates_equal_one_thread_bit_for_bit() -> Result<()> {
    for (name, make) in configurations() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut whole = model(&mut rng);
        let mut split: Vec<Vec<Tensor>> = whole.iter().map(pieces).collect();
        let mut optimizer = make()?;
        let mut piece_optimizers: Vec<Vec<Box<dyn Optimizer>>> = split
            .iter()
            .map(|p| p.iter().map(|_| make()).collect::<Result<_>>())
            .collect::<Result<_>>()?;
        for _ in 0..3 {
            let grads = model(&mut rng);
            let mut params: Vec<&mut Tensor> = whole.iter_mut().collect();
            let grad_refs: Vec<&Tensor> = grads.iter().collect();
            optimizer.step(&mut params, &grad_refs)?;
            for ((param_pieces, optimizers), grad) in
                split.iter_mut().zip(&mut piece_optimizers).zip(&grads)
            {
                for ((piece, optimizer), grad) in
                    param_pieces.iter_mut().zip(optimizers).zip(pieces(grad))
                {
                    optimizer.step(&mut [piece], &[&grad])?;
                }
            }
        }
        for (k, (param, reference)) in whole.iter().zip(&split).enumerate() {
            let expected: Vec<f64> = reference.iter().flat_map(Tensor::to_f64_vec).collect();
            let actual = param.to_f64_vec();
            assert_eq!(actual.len(), expected.len());
            let first_difference = actual
                .iter()
                .zip(&expected)
                .position(|(a, e)| a.to_bits() != e.to_bits());
            assert_eq!(
                first_difference, None,
                "{name}: parameter {k} differs from the one-thread update"
            );
            assert_ne!(
                param.to_f64_vec(),
                model(&mut StdRng::seed_from_u64(7))[k].to_f64_vec()
            );
        }
    }
    Ok(())
}
