//! Saving and restoring the state of Adagrad, RMSprop, Adadelta, Adamax and Nadam
//! ([`Optimizer::state`] and [`Optimizer::load_state`]): PyTorch's buffer names, bit-exact
//! resumption, rejected states that change nothing, and a round trip through a checkpoint file.
//! (SGD's and Adam's state are covered in `checkpoint.rs`.)

use std::fs;

use adnet_graph::{Graph, NodeId};
use adnet_nn::checkpoint;
use adnet_nn::layers::{Activation, Mlp, Module};
use adnet_nn::optim::{Adadelta, Adagrad, Adamax, Nadam, Optimizer, Rmsprop};
use adnet_nn::{NnError, Result};
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{DType, Tensor};

/// What [`Optimizer::state`] returns.
type State = Vec<(String, Tensor)>;

/// Builds a fresh optimizer of one configuration.
type Make = fn() -> Result<Box<dyn Optimizer>>;

/// Every configuration under test, with the per-parameter buffers its state holds, in order.
fn configurations() -> Vec<(&'static str, Make, &'static [&'static str])> {
    vec![
        ("adagrad", || Ok(Box::new(Adagrad::new(0.1)?)), &["sum"]),
        (
            "adagrad_decay",
            || {
                let adagrad = Adagrad::new(0.1)?
                    .lr_decay(0.01)?
                    .initial_accumulator_value(0.1)?
                    .weight_decay(0.01)?;
                Ok(Box::new(adagrad))
            },
            &["sum"],
        ),
        (
            "rmsprop",
            || Ok(Box::new(Rmsprop::new(0.01)?)),
            &["square_avg"],
        ),
        (
            "rmsprop_momentum",
            || Ok(Box::new(Rmsprop::new(0.01)?.momentum(0.9)?)),
            &["square_avg", "momentum_buffer"],
        ),
        (
            "rmsprop_centered",
            || Ok(Box::new(Rmsprop::new(0.01)?.centered(true))),
            &["square_avg", "grad_avg"],
        ),
        (
            "rmsprop_centered_momentum",
            || Ok(Box::new(Rmsprop::new(0.01)?.momentum(0.5)?.centered(true))),
            &["square_avg", "grad_avg", "momentum_buffer"],
        ),
        (
            "adadelta",
            || Ok(Box::new(Adadelta::new(1.0)?)),
            &["square_avg", "acc_delta"],
        ),
        (
            "adamax",
            || Ok(Box::new(Adamax::new(0.05)?)),
            &["exp_avg", "exp_inf"],
        ),
        (
            "nadam",
            || Ok(Box::new(Nadam::new(0.05)?)),
            &["exp_avg", "exp_avg_sq"],
        ),
        (
            "nadam_decoupled",
            || {
                let nadam = Nadam::new(0.05)?
                    .weight_decay(0.01)?
                    .decoupled_weight_decay(true);
                Ok(Box::new(nadam))
            },
            &["exp_avg", "exp_avg_sq"],
        ),
    ]
}

/// Two parameters of different shapes, in `dtype`.
fn parameters(dtype: DType) -> Vec<Tensor> {
    let a: Vec<f64> = (0..6).map(|i| 0.3 * i as f64 - 0.7).collect();
    vec![
        Tensor::from_f64s(&a, [2, 3], dtype).expect("six values"),
        Tensor::from_f64s(&[1.5, -0.25, 0.0, 2.0], [4], dtype).expect("four values"),
    ]
}

/// The gradient `2 (θ − 1) + 0.1 sin θ` of every parameter, in its dtype.
fn gradients(params: &[Tensor]) -> Vec<Tensor> {
    params
        .iter()
        .map(|p| {
            let g: Vec<f64> = p
                .to_f64_vec()
                .iter()
                .map(|&x| 2.0 * (x - 1.0) + 0.1 * x.sin())
                .collect();
            Tensor::from_f64s(&g, p.shape().clone(), p.dtype()).expect("same length")
        })
        .collect()
}

fn step(optimizer: &mut dyn Optimizer, params: &mut [Tensor]) -> Result<()> {
    let grads = gradients(params);
    let grads: Vec<&Tensor> = grads.iter().collect();
    let mut params: Vec<&mut Tensor> = params.iter_mut().collect();
    optimizer.step(&mut params, &grads)
}

/// The bit patterns of a tensor's elements, so that comparisons are exact.
fn bits(t: &Tensor) -> Vec<u64> {
    t.to_f64_vec().iter().map(|x| x.to_bits()).collect()
}

fn all_bits(params: &[Tensor]) -> Vec<Vec<u64>> {
    params.iter().map(bits).collect()
}

fn state_bits(state: &[(String, Tensor)]) -> Vec<(String, Vec<u64>, DType)> {
    state
        .iter()
        .map(|(name, value)| (name.clone(), bits(value), value.dtype()))
        .collect()
}

#[test]
fn state_uses_pytorchs_names() -> Result<()> {
    for (name, make, buffers) in configurations() {
        let mut optimizer = make()?;
        let mut params = parameters(DType::F64);
        for _ in 0..3 {
            step(optimizer.as_mut(), &mut params)?;
        }
        let state = optimizer.state();
        let mut expected = vec!["step".to_string()];
        for index in 0..2 {
            expected.extend(buffers.iter().map(|b| format!("{index}.{b}")));
        }
        if name.starts_with("nadam") {
            expected.push("mu_product".to_string());
        }
        let names: Vec<String> = state.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, expected, "{name}");
        assert_eq!(state[0].1.to_scalar()?, 3.0, "{name}: step");
        for (entry, value) in &state[1..] {
            let shape = if entry.starts_with("0.") {
                params[0].shape()
            } else if entry.starts_with("1.") {
                params[1].shape()
            } else {
                // mu_product, a scalar as PyTorch keeps it
                assert_eq!(value.numel(), 1, "{name}: {entry}");
                continue;
            };
            assert_eq!(value.shape(), shape, "{name}: {entry}");
        }
        // a fresh or reset optimizer has only its step count (and Nadam its unit product)
        optimizer.reset();
        let fresh = optimizer.state();
        assert_eq!(
            fresh[0],
            ("step".to_string(), Tensor::scalar(0.0)),
            "{name}"
        );
        let rest: Vec<&str> = fresh[1..].iter().map(|(n, _)| n.as_str()).collect();
        let expected_rest: &[&str] = if name.starts_with("nadam") {
            &["mu_product"]
        } else {
            &[]
        };
        assert_eq!(rest, expected_rest, "{name}");
    }
    Ok(())
}

#[test]
fn resumed_training_is_bit_exact() -> Result<()> {
    for dtype in [DType::F64, DType::F32] {
        for (name, make, _) in configurations() {
            let mut original = make()?;
            let mut params = parameters(dtype);
            for _ in 0..3 {
                step(original.as_mut(), &mut params)?;
            }
            let saved = original.state();
            let mut resumed = make()?;
            resumed.load_state(&saved)?;
            assert_eq!(
                state_bits(&resumed.state()),
                state_bits(&saved),
                "{name} {dtype:?}: state does not round-trip"
            );
            let mut resumed_params = params.clone();
            for k in 0..4 {
                step(original.as_mut(), &mut params)?;
                step(resumed.as_mut(), &mut resumed_params)?;
                assert_eq!(
                    all_bits(&params),
                    all_bits(&resumed_params),
                    "{name} {dtype:?}: resumed training diverged at step {}",
                    k + 4
                );
            }
            assert_eq!(state_bits(&original.state()), state_bits(&resumed.state()));
        }
    }
    Ok(())
}

#[test]
fn empty_state_round_trips() -> Result<()> {
    for (name, make, _) in configurations() {
        let saved = make()?.state();
        let mut loaded = make()?;
        let mut params = parameters(DType::F64);
        step(loaded.as_mut(), &mut params)?;
        // loading a fresh optimizer's state is a reset
        loaded.load_state(&saved)?;
        let mut first = parameters(DType::F64);
        let mut again = first.clone();
        step(make()?.as_mut(), &mut first)?;
        step(loaded.as_mut(), &mut again)?;
        assert_eq!(all_bits(&first), all_bits(&again), "{name}");
    }
    Ok(())
}

/// Ways of breaking a saved state: a label and the broken state.
fn broken_states(
    saved: &[(String, Tensor)],
    buffers: &[&str],
    nadam: bool,
) -> Vec<(String, State)> {
    let mut broken = Vec::new();
    let edit = |f: &dyn Fn(&mut State)| {
        let mut state = saved.to_vec();
        f(&mut state);
        state
    };
    broken.push((
        "unknown entry".to_string(),
        edit(&|s| {
            s.push((
                "0.exp_avg_sqq".to_string(),
                Tensor::zeros([2, 3], DType::F64),
            ))
        }),
    ));
    broken.push((
        "entry of another configuration".to_string(),
        edit(&|s| {
            let extra = ["momentum_buffer", "grad_avg", "sum", "max_exp_avg_sq"]
                .into_iter()
                .find(|b| !buffers.contains(b))
                .expect("some buffer is not kept");
            s.push((format!("0.{extra}"), Tensor::zeros([2, 3], DType::F64)));
        }),
    ));
    broken.push((
        "unprefixed buffer".to_string(),
        edit(&|s| s.push((buffers[0].to_string(), Tensor::zeros([4], DType::F64)))),
    ));
    broken.push((
        "missing buffer".to_string(),
        edit(&|s| s.retain(|(n, _)| *n != format!("0.{}", buffers[0]))),
    ));
    broken.push((
        "missing step".to_string(),
        edit(&|s| s.retain(|(n, _)| n != "step")),
    ));
    broken.push((
        "fractional step".to_string(),
        edit(&|s| s[0].1 = Tensor::scalar(2.5)),
    ));
    broken.push((
        "negative step".to_string(),
        edit(&|s| s[0].1 = Tensor::scalar(-1.0)),
    ));
    broken.push((
        "step that is not a scalar".to_string(),
        edit(&|s| s[0].1 = Tensor::zeros([2], DType::F64)),
    ));
    if buffers.len() > 1 {
        let last = buffers[buffers.len() - 1];
        broken.push((
            "wrong shape".to_string(),
            edit(&|s| {
                for (n, v) in s.iter_mut() {
                    if *n == format!("1.{last}") {
                        *v = Tensor::zeros([5], DType::F64);
                    }
                }
            }),
        ));
        broken.push((
            "wrong dtype".to_string(),
            edit(&|s| {
                for (n, v) in s.iter_mut() {
                    if *n == format!("0.{last}") {
                        *v = Tensor::zeros([2, 3], DType::F32);
                    }
                }
            }),
        ));
    }
    if nadam {
        broken.push((
            "missing mu_product".to_string(),
            edit(&|s| s.retain(|(n, _)| n != "mu_product")),
        ));
        for (label, value) in [
            ("mu_product above 1", Tensor::scalar(1.5)),
            ("negative mu_product", Tensor::scalar(-0.1)),
            ("NaN mu_product", Tensor::scalar(f64::NAN)),
            ("mu_product not a scalar", Tensor::zeros([3], DType::F64)),
        ] {
            broken.push((
                label.to_string(),
                edit(&|s| {
                    for (n, v) in s.iter_mut() {
                        if n == "mu_product" {
                            *v = value.clone();
                        }
                    }
                }),
            ));
        }
    }
    broken
}

#[test]
fn rejected_state_changes_nothing() -> Result<()> {
    for (name, make, buffers) in configurations() {
        // the state to break comes from a differently trained optimizer
        let mut donor = make()?;
        let mut donor_params = parameters(DType::F64);
        for _ in 0..5 {
            step(donor.as_mut(), &mut donor_params)?;
        }
        let saved = donor.state();

        // `target` takes every broken state; `twin` takes the same steps and nothing else
        let (mut target, mut twin) = (make()?, make()?);
        let mut params = parameters(DType::F64);
        let mut twin_params = params.clone();
        for _ in 0..2 {
            step(target.as_mut(), &mut params)?;
            step(twin.as_mut(), &mut twin_params)?;
        }
        let before = state_bits(&target.state());
        for (label, state) in broken_states(&saved, buffers, name.starts_with("nadam")) {
            let result = target.load_state(&state);
            assert!(
                matches!(result, Err(NnError::InvalidSetting { what: "state", .. })),
                "{name}, {label}: {result:?}"
            );
            assert_eq!(state_bits(&target.state()), before, "{name}, {label}");
        }
        for _ in 0..3 {
            step(target.as_mut(), &mut params)?;
            step(twin.as_mut(), &mut twin_params)?;
        }
        assert_eq!(all_bits(&params), all_bits(&twin_params), "{name}");
        // the unbroken state still loads
        target.load_state(&saved)?;
        assert_eq!(state_bits(&target.state()), state_bits(&saved), "{name}");
    }
    Ok(())
}

#[test]
fn state_for_other_parameters_is_rejected_by_the_next_step() -> Result<()> {
    // a state holds no parameter shapes, so a single buffer of the wrong shape (Adagrad's `sum`)
    // or the wrong number of parameters shows only at the next step, which is rejected whole
    let mut adagrad = Adagrad::new(0.1)?;
    let mut params = parameters(DType::F64);
    step(&mut adagrad, &mut params)?;
    let mut state = adagrad.state();
    for (name, value) in &mut state {
        if name == "1.sum" {
            *value = Tensor::zeros([5], DType::F64);
        }
    }
    adagrad.load_state(&state)?;
    let before = all_bits(&params);
    let err = step(&mut adagrad, &mut params).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::ShapeMismatch {
                index: 1,
                other: "state",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(all_bits(&params), before);

    let mut rmsprop = Rmsprop::new(0.01)?;
    step(&mut rmsprop, &mut params)?;
    let one_parameter: State = rmsprop
        .state()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("1."))
        .collect();
    rmsprop.load_state(&one_parameter)?;
    let before = all_bits(&params);
    let err = step(&mut rmsprop, &mut params).unwrap_err();
    assert!(
        matches!(err, NnError::CountMismatch { actual: 1, .. }),
        "{err:?}"
    );
    assert_eq!(all_bits(&params), before);
    Ok(())
}

#[test]
fn nadam_keeps_its_mu_product_across_a_checkpoint() -> Result<()> {
    // Nadam's Π cannot be recomputed from the buffers: a resumed run that lost it would differ
    let mut nadam = Nadam::new(0.05)?;
    let mut params = parameters(DType::F64);
    for _ in 0..4 {
        step(&mut nadam, &mut params)?;
    }
    let mut state = nadam.state();
    let product = state
        .iter()
        .find(|(n, _)| n == "mu_product")
        .map(|(_, v)| v.to_scalar())
        .expect("saved")?;
    assert!(product > 0.0 && product < 1.0);
    for (name, value) in &mut state {
        if name == "mu_product" {
            *value = Tensor::scalar(1.0);
        }
    }
    let mut wrong = Nadam::new(0.05)?;
    wrong.load_state(&state)?;
    let mut wrong_params = params.clone();
    step(&mut nadam, &mut params)?;
    step(&mut wrong, &mut wrong_params)?;
    assert_ne!(all_bits(&params), all_bits(&wrong_params));
    Ok(())
}

#[test]
fn state_round_trips_through_a_checkpoint_file() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("adnet-optimizer-state-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    let mlp = |g: &Graph, seed: u64| -> Result<Vec<(String, NodeId)>> {
        let net = Mlp::new(&[3, 4, 2]).activation(Activation::Tanh).build(
            g,
            "mlp",
            &mut StdRng::seed_from_u64(seed),
        )?;
        Ok(net.parameters())
    };
    let train = |g: &Graph, params: &[(String, NodeId)], optimizer: &mut dyn Optimizer| {
        let ids: Vec<NodeId> = params.iter().map(|(_, id)| *id).collect();
        let values: Vec<Tensor> = ids
            .iter()
            .map(|id| g.value(*id))
            .collect::<Result<_, _>>()?;
        let grads = gradients(&values);
        let grads: Vec<&Tensor> = grads.iter().collect();
        g.with_params_mut(&ids, |values| optimizer.step(values, &grads))??;
        Ok::<(), NnError>(())
    };
    for (name, make, _) in configurations() {
        let path = dir.join(format!("{name}.safetensors"));
        let g = Graph::new();
        let params = mlp(&g, 0)?;
        let mut original = make()?;
        for _ in 0..3 {
            train(&g, &params, original.as_mut())?;
        }
        checkpoint::save_with_optimizer(&path, &g, &params, original.as_ref())?;
        let h = Graph::new();
        let resumed_params = mlp(&h, 7)?;
        let mut resumed = make()?;
        checkpoint::load_with_optimizer(&path, &h, &resumed_params, resumed.as_mut())?;
        for _ in 0..2 {
            train(&g, &params, original.as_mut())?;
            train(&h, &resumed_params, resumed.as_mut())?;
        }
        for ((_, a), (_, b)) in params.iter().zip(&resumed_params) {
            assert_eq!(bits(&g.value(*a)?), bits(&h.value(*b)?), "{name}");
        }
    }
    fs::remove_dir_all(&dir).ok();
    Ok(())
}
