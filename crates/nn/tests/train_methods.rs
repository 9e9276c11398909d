//! The classic full-batch methods through the ordinary `Trainer` and `GraphObjective`:
//! Levenberg-Marquardt against Adam on the 1-10-1 sine fit, L-BFGS on a classification loss,
//! the Jacobian of a graph against finite differences, and the errors a method gives where it
//! does not apply.

use adnet_graph::Graph;
use adnet_nn::classic::{
    minimize, FullBatchMethod, GaussNewton, GraphObjective, Lbfgs, LevenbergMarquardt, Objective,
    Rprop, ScaledConjugateGradient, StopReason, Stopping,
};
use adnet_nn::data::DataSet;
use adnet_nn::layers::{Activation, Mlp, Module};
use adnet_nn::optim::{schedule::StepLr, Adam, Optimizer};
use adnet_nn::train::{FitOptions, ScheduleInterval, Step, Trainer};
use adnet_nn::{NnError, Result};
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{DType, Tensor};

const SAMPLES: usize = 100;

/// `sin` on 100 points of `[-π, π]`.
fn sine() -> DataSet {
    let x: Vec<f64> = (0..SAMPLES)
        .map(|i| {
            -std::f64::consts::PI + 2.0 * std::f64::consts::PI * i as f64 / (SAMPLES - 1) as f64
        })
        .collect();
    let y: Vec<f64> = x.iter().map(|x| x.sin()).collect();
    DataSet::from_tensors(
        Tensor::from_vec(x, [SAMPLES, 1]).expect("100 values"),
        Tensor::from_vec(y, [SAMPLES, 1]).expect("100 values"),
    )
    .expect("valid")
}

/// What trains the network.
enum Rule {
    Method(Box<dyn FullBatchMethod>),
    Optimizer(Box<dyn Optimizer>),
}

/// A 1-10-1 tanh network with MSE, seeded, trained by `rule`.
fn sine_trainer(g: &Graph, rule: Rule) -> Result<Trainer<'_>> {
    let mut rng = StdRng::seed_from_u64(7);
    let model = Mlp::new(&[1, 10, 1])
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(g, "net", &mut rng)?;
    let params = model.parameters();
    let builder = Step::mse(model, 1, 1, DType::F64);
    match rule {
        Rule::Method(method) => Trainer::with_method(g, params, method, builder),
        Rule::Optimizer(optimizer) => Trainer::new(g, params, optimizer, builder),
    }
}

fn full_batch(epochs: usize) -> FitOptions {
    FitOptions {
        epochs,
        batch_size: SAMPLES,
        shuffle: false,
        quiet: true,
        ..FitOptions::default()
    }
}

/// The MSE after 100 full-batch epochs.
fn mse_after_100(rule: Rule) -> Result<f64> {
    let data = sine();
    let g = Graph::new();
    let mut trainer = sine_trainer(&g, rule)?;
    trainer.fit(&data, None, &full_batch(100))?;
    Ok(trainer.evaluate(&data, SAMPLES)?.loss)
}

#[test]
fn levenberg_marquardt_beats_adam_a_hundredfold_on_the_sine_fit() -> Result<()> {
    let lm = mse_after_100(Rule::Method(Box::new(LevenbergMarquardt::default())))?;
    let adam = mse_after_100(Rule::Optimizer(Box::new(Adam::new(0.01)?)))?;
    // measured: LM 1.5e-6, Adam 3.0e-2
    assert!(lm * 100.0 < adam, "LM {lm:e}, Adam {adam:e}");
    assert!(lm < 1e-5, "LM {lm:e}");
    Ok(())
}

#[test]
fn every_method_lowers_the_error_through_the_trainer() -> Result<()> {
    let start = mse_after_100(Rule::Optimizer(Box::new(Adam::new(0.0)?)))?;
    let methods: Vec<Box<dyn FullBatchMethod>> = vec![
        Box::new(GaussNewton::default()),
        Box::new(ScaledConjugateGradient::default()),
        Box::new(Lbfgs::default()),
        Box::new(Rprop::default()),
    ];
    for method in methods {
        let name = method.name();
        let end = mse_after_100(Rule::Method(method))?;
        // measured from 0.113: Gauss-Newton 3e-11, scaled CG 4.0e-3, L-BFGS 4.4e-4, Rprop 8.6e-3
        assert!(end < start / 10.0, "{name}: {start:e} to {end:e}");
    }
    Ok(())
}

#[test]
fn the_trainer_records_the_method_and_its_history() -> Result<()> {
    let data = sine();
    let g = Graph::new();
    let mut trainer = sine_trainer(&g, Rule::Method(Box::new(LevenbergMarquardt::default())))?;
    assert_eq!(
        trainer.method().map(|m| m.name()),
        Some("Levenberg-Marquardt")
    );
    assert!(trainer.optimizer().is_none() && trainer.lr().is_nan());
    let history = trainer.fit(&data, None, &full_batch(20))?;
    // one iteration per epoch; the recorded loss (before each iteration) never rises, since
    // Levenberg-Marquardt only accepts steps that lower the error
    assert_eq!((history.len(), trainer.steps()), (20, 20));
    for pair in history.epochs.windows(2) {
        assert!(pair[1].train_loss <= pair[0].train_loss);
    }
    let last = trainer.last_iteration().expect("iterations ran");
    assert!(last.grad_norm.is_finite() && last.evaluations >= 2);
    // the graph holds the method's final point: evaluating it gives the iteration's value
    // (½‖r‖² against the MSE, ‖r‖²/m)
    let mse = trainer.evaluate(&data, SAMPLES)?.loss;
    assert!((last.value - 0.5 * mse * SAMPLES as f64).abs() <= 1e-12 * last.value.max(1e-300));
    Ok(())
}

#[test]
fn a_method_that_cannot_improve_stops_training_early() -> Result<()> {
    // a damping ceiling just above the start: the first failed trial ends the training
    let data = sine();
    let g = Graph::new();
    let lm = LevenbergMarquardt::new(1e-3)?.mu_max(2e-3)?;
    let mut trainer = sine_trainer(&g, Rule::Method(Box::new(lm)))?;
    let history = trainer.fit(&data, None, &full_batch(1000))?;
    if let Some(reason) = history.method_stop {
        assert_eq!(reason, StopReason::MaxDamping);
        assert!(history.stopped_early && history.len() < 1000);
    } else {
        panic!("1000 epochs ran without a failed trial: the test needs a harder ceiling");
    }
    Ok(())
}

#[test]
fn full_batch_methods_refuse_mini_batches_and_learning_rate_settings() -> Result<()> {
    let data = sine();
    let g = Graph::new();
    let mut trainer = sine_trainer(&g, Rule::Method(Box::new(Lbfgs::default())))?;
    let mini = FitOptions {
        batch_size: 10,
        ..full_batch(1)
    };
    let error = trainer.fit(&data, None, &mini).unwrap_err();
    assert!(matches!(
        error,
        NnError::InvalidSetting {
            what: "batch_size",
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "batch_size: L-BFGS needs the full batch: batch_size is 10 but the training set has 100 \
         samples"
    );
    assert_eq!(trainer.steps(), 0);
    let g2 = Graph::new();
    let mut scheduled = sine_trainer(&g2, Rule::Method(Box::new(Lbfgs::default())))?
        .with_schedule(StepLr::new(10, 0.5)?, ScheduleInterval::Epoch);
    let error = scheduled.fit(&data, None, &full_batch(1)).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a learning-rate schedule does not apply"),
        "{error}"
    );
    Ok(())
}

#[test]
fn least_squares_methods_need_outputs_shaped_like_targets() -> Result<()> {
    // a classifier's logits [n, 3] against labels [n]: no residual vector to minimise
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let model = Mlp::new(&[2, 3])
        .dtype(DType::F64)
        .build(&g, "clf", &mut rng)?;
    let params = model.parameters();
    let mut trainer = Trainer::with_method(
        &g,
        params,
        LevenbergMarquardt::default(),
        Step::cross_entropy(model, 2, DType::F64),
    )?;
    let x = Tensor::from_vec(vec![0.0f64, 1.0, 1.0, 0.0], [2, 2])?;
    let t = Tensor::from_vec(vec![0.0f64, 2.0], [2])?;
    let error = trainer.train_batch(&x, &t).unwrap_err().to_string();
    assert!(
        error.contains("Levenberg-Marquardt minimises the squared residuals output - target")
            && error.contains("[2, 3]")
            && error.contains("[2]"),
        "{error}"
    );
    Ok(())
}

#[test]
fn lbfgs_trains_a_classifier_on_its_cross_entropy() -> Result<()> {
    // two Gaussian blobs, a 2-4-2 tanh classifier, L-BFGS on the (scalar) cross-entropy
    let mut rng = StdRng::seed_from_u64(3);
    let points = Tensor::normal([40, 2], 0.0, 0.5, DType::F64, &mut rng)?;
    let mut x = points.to_f64_vec();
    let mut labels = Vec::new();
    for i in 0..40 {
        let class = (i % 2) as f64;
        x[2 * i] += 2.0 * class - 1.0;
        labels.push(class);
    }
    let data = DataSet::from_tensors(
        Tensor::from_vec(x, [40, 2])?,
        Tensor::from_vec(labels, [40])?,
    )?;
    let g = Graph::new();
    let model = Mlp::new(&[2, 4, 2])
        .activation(Activation::Tanh)
        .dtype(DType::F64)
        .build(&g, "clf", &mut rng)?;
    let params = model.parameters();
    let mut trainer = Trainer::with_method(
        &g,
        params,
        Lbfgs::default(),
        Step::cross_entropy(model, 2, DType::F64),
    )?;
    let before = trainer.evaluate(&data, 40)?.loss;
    trainer.fit(
        &data,
        None,
        &FitOptions {
            epochs: 30,
            batch_size: 40,
            quiet: true,
            ..FitOptions::default()
        },
    )?;
    let after = trainer.evaluate(&data, 40)?;
    assert!(after.loss < before / 3.0, "{before} to {}", after.loss);
    assert!(after.accuracy.expect("classification") >= 0.95);
    Ok(())
}

#[test]
fn a_graph_jacobian_matches_central_differences_and_fits_in_one_gauss_newton_step() -> Result<()> {
    // a linear model's residuals: its Jacobian is the design matrix, and one Gauss-Newton step
    // lands on the least-squares solution
    let g = Graph::new();
    let x = g.input("x", [6, 2], DType::F32)?;
    let t = g.input("t", [6, 1], DType::F32)?;
    let w = g.param("w", Tensor::from_vec(vec![0.3f32, -0.2], [2, 1])?)?;
    let b = g.param("b", Tensor::from_vec(vec![0.1f32], [1])?)?;
    let r = x.try_matmul(w)? + b - t;
    let mut objective = GraphObjective::least_squares(&g, r, &[w.id(), b.id()])?;
    let xs = [
        1.0f32, 2.0, 2.0, 1.0, 3.0, 0.5, -1.0, 1.0, 0.0, -2.0, 2.5, 2.5,
    ];
    // t = 2 x₀ − x₁ + 0.5, plus a little noise
    let noise = [0.01f32, -0.02, 0.0, 0.015, -0.01, 0.005];
    let ts: Vec<f32> = (0..6)
        .map(|i| 2.0 * xs[2 * i] - xs[2 * i + 1] + 0.5 + noise[i])
        .collect();
    objective.set_input(x, &Tensor::from_vec(xs.to_vec(), [6, 2])?)?;
    objective.set_input(t, &Tensor::from_vec(ts, [6, 1])?)?;
    assert_eq!((objective.dim(), objective.residual_count()), (3, Some(6)));
    let mut theta = objective.params();
    let (mut r0, mut jac) = (vec![0.0; 6], vec![0.0; 18]);
    objective.residuals_jacobian(&theta, &mut r0, &mut jac)?;
    for i in 0..6 {
        assert_eq!(jac[3 * i], f64::from(xs[2 * i]));
        assert_eq!(jac[3 * i + 1], f64::from(xs[2 * i + 1]));
        assert_eq!(jac[3 * i + 2], 1.0);
    }
    let report = minimize(
        &mut GaussNewton::default(),
        &mut objective,
        &mut theta,
        &Stopping {
            max_epochs: 1,
            ..Stopping::default()
        },
    )?;
    assert_eq!(report.epochs, 1);
    // the gradient Jᵀr at the solution vanishes (to f32 precision)
    let mut gradient = vec![0.0; 3];
    objective.value_grad(&theta, &mut gradient)?;
    assert!(gradient.iter().all(|g| g.abs() < 1e-4), "{gradient:?}");
    assert!((theta[0] - 2.0).abs() < 0.02 && (theta[1] + 1.0).abs() < 0.02);
    // a wrong input is refused with the input's name
    let error = objective
        .set_input(x, &Tensor::zeros([5, 2], DType::F32))
        .unwrap_err()
        .to_string();
    assert!(error.contains('x') && error.contains("[5, 2]"), "{error}");
    Ok(())
}
