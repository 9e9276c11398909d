//! Optimizers, clipping and schedules against PyTorch (and Keras) reference numbers.
//!
//! The numbers live in `fixtures/optimizers.json`, written by `fixtures/make_optimizer_fixtures.py`
//! with PyTorch 2.15 and Keras 3.15 (see that script for the problem and how to regenerate).

use adnet_nn::optim::schedule::{
    AnnealStrategy, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr, LinearLr,
    LrSchedule, MultiStepLr, OneCycleLr, PlateauMode, ReduceLrOnPlateau, StepLr, ThresholdMode,
};
use adnet_nn::optim::{
    clip_grad_norm, clip_grad_value, Adadelta, Adagrad, Adam, AdamW, Adamax, Nadam, Optimizer,
    Rmsprop, Sgd,
};
use adnet_nn::NnError;
use adnet_tensor::{DType, Tensor, TensorError};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn fixtures() -> Value {
    let text = include_str!("fixtures/optimizers.json");
    serde_json::from_str(text).expect("fixtures/optimizers.json is valid JSON")
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// `|a − b| ≤ rel · max(|a|, |b|) + 1e-12` (the absolute floor covers values that cross zero).
fn assert_close(actual: f64, expected: f64, rel: f64, context: &str) {
    let tolerance = rel * actual.abs().max(expected.abs()) + 1e-12;
    assert!(
        (actual - expected).abs() <= tolerance,
        "{context}: got {actual}, expected {expected} (difference {:e})",
        (actual - expected).abs()
    );
}

fn option_f64(options: &Value, key: &str) -> Option<f64> {
    options.get(key).map(|v| v.as_f64().expect("a number"))
}

fn option_bool(options: &Value, key: &str) -> bool {
    options
        .get(key)
        .is_some_and(|v| v.as_bool().expect("a bool"))
}

fn betas(options: &Value) -> Option<(f64, f64)> {
    options.get("betas").map(|b| {
        let b = floats(b);
        (b[0], b[1])
    })
}

/// The optimizer a fixture describes, configured with the builders.
fn build(name: &str, o: &Value) -> adnet_nn::Result<Box<dyn Optimizer>> {
    let lr = option_f64(o, "lr").expect("every fixture sets lr");
    let f = |key| option_f64(o, key);
    let b = |key| option_bool(o, key);
    Ok(match name {
        "sgd" => {
            let mut x = Sgd::new(lr)?;
            if let Some(v) = f("momentum") {
                x = x.momentum(v)?;
            }
            if let Some(v) = f("dampening") {
                x = x.dampening(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            Box::new(x.nesterov(b("nesterov"))?.maximize(b("maximize")))
        }
        "adagrad" => {
            let mut x = Adagrad::new(lr)?;
            if let Some(v) = f("lr_decay") {
                x = x.lr_decay(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            if let Some(v) = f("initial_accumulator_value") {
                x = x.initial_accumulator_value(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            Box::new(x.eps_inside_sqrt(b("eps_inside_sqrt")))
        }
        "rmsprop" => {
            let mut x = Rmsprop::new(lr)?;
            if let Some(v) = f("alpha") {
                x = x.alpha(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            if let Some(v) = f("momentum") {
                x = x.momentum(v)?;
            }
            Box::new(
                x.centered(b("centered"))
                    .eps_inside_sqrt(b("eps_inside_sqrt")),
            )
        }
        "adadelta" => {
            let mut x = Adadelta::new(lr)?;
            if let Some(v) = f("rho") {
                x = x.rho(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            Box::new(x)
        }
        "adam" => {
            let mut x = Adam::new(lr)?;
            if let Some(v) = betas(o) {
                x = x.betas(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            Box::new(
                x.amsgrad(b("amsgrad"))
                    .maximize(b("maximize"))
                    .eps_before_bias_correction(b("eps_before_bias_correction")),
            )
        }
        "adamw" => {
            let mut x = AdamW::new(lr)?;
            if let Some(v) = betas(o) {
                x = x.betas(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            Box::new(
                x.amsgrad(b("amsgrad"))
                    .eps_before_bias_correction(b("eps_before_bias_correction")),
            )
        }
        "adamax" => {
            let mut x = Adamax::new(lr)?;
            if let Some(v) = betas(o) {
                x = x.betas(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            Box::new(x.eps_outside_max(b("eps_outside_max")))
        }
        "nadam" => {
            let mut x = Nadam::new(lr)?;
            if let Some(v) = betas(o) {
                x = x.betas(v)?;
            }
            if let Some(v) = f("eps") {
                x = x.eps(v)?;
            }
            if let Some(v) = f("weight_decay") {
                x = x.weight_decay(v)?;
            }
            if let Some(v) = f("momentum_decay") {
                x = x.momentum_decay(v)?;
            }
            if b("keras_schedule") {
                x = x.keras_schedule();
            }
            Box::new(x.decoupled_weight_decay(b("decoupled_weight_decay")))
        }
        other => panic!("unknown optimizer {other} in the fixtures"),
    })
}

/// The fixtures' gradient, `2 (p − target) + 0.1 sin p`, in the parameter's dtype.
fn gradient(param: &Tensor, target: &[f64]) -> Tensor {
    let p = param.to_f64_vec();
    match param.dtype() {
        DType::F64 => {
            let g: Vec<f64> = p
                .iter()
                .zip(target)
                .map(|(&p, &t)| 2.0 * (p - t) + 0.1 * p.sin())
                .collect();
            Tensor::from_vec(g, [p.len()]).expect("same length")
        }
        DType::F32 => {
            let g: Vec<f32> = p
                .iter()
                .zip(target)
                .map(|(&p, &t)| {
                    let (p, t) = (p as f32, t as f32);
                    2.0 * (p - t) + 0.1 * p.sin()
                })
                .collect();
            Tensor::from_vec(g, [p.len()]).expect("same length")
        }
    }
}

fn check_optimizer_cases(source: &str) -> TestResult {
    let fixtures = fixtures();
    let p0 = floats(&fixtures["problem"]["p0"]);
    let target = floats(&fixtures["problem"]["target"]);
    let mut count = 0;
    for case in fixtures["optimizers"].as_array().expect("a list") {
        if case["source"] != source {
            continue;
        }
        let name = case["name"].as_str().expect("a name");
        let (dtype, rel) = match case["dtype"].as_str() {
            Some("f32") => (DType::F32, 1e-5),
            _ => (DType::F64, 1e-6),
        };
        let mut optimizer = build(
            case["optimizer"].as_str().expect("a name"),
            &case["options"],
        )?;
        let mut param = Tensor::from_f64s(&p0, [p0.len()], dtype)?;
        let mut previous = param.to_f64_vec();
        for (k, expected) in case["steps"].as_array().expect("steps").iter().enumerate() {
            let grad = gradient(&param, &target);
            optimizer.step(&mut [&mut param], &[&grad])?;
            let expected = floats(expected);
            let actual = param.to_f64_vec();
            for i in 0..actual.len() {
                let context = format!("{name}, step {}, element {i}", k + 1);
                assert_close(actual[i], expected[i], rel, &context);
                if dtype == DType::F64 {
                    // the update itself, not only the parameter it is added to
                    let update = actual[i] - previous[i];
                    let reference = expected[i] - previous[i];
                    assert_close(update, reference, 1e-6, &format!("{context} (update)"));
                }
            }
            previous = expected;
        }
        count += 1;
    }
    assert!(count > 0, "no {source} fixtures");
    Ok(())
}

#[test]
fn first_ten_steps_match_pytorch() -> TestResult {
    check_optimizer_cases("torch")
}

#[test]
fn keras_options_match_keras() -> TestResult {
    check_optimizer_cases("keras")
}

#[test]
fn sgd_without_momentum_is_exactly_p_minus_lr_g() -> TestResult {
    let values = [0.3f64, -1.7, 2.5e-3, 1e6, -0.0];
    let grads = [1.1f64, 0.25, -3.0, 7e-4, 2.0];
    let lr = 0.037;
    let mut param = Tensor::from_vec(values.to_vec(), [5])?;
    let grad = Tensor::from_vec(grads.to_vec(), [5])?;
    let mut sgd = Sgd::new(lr)?;
    sgd.step(&mut [&mut param], &[&grad])?;
    let expected: Vec<f64> = values.iter().zip(&grads).map(|(p, g)| p - lr * g).collect();
    assert_eq!(param.to_f64_vec(), expected);
    Ok(())
}

#[test]
fn steps_several_parameters_of_any_shape() -> TestResult {
    // two parameters through one Adam equal each through its own Adam
    let mut a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2])?;
    let mut b = Tensor::from_vec(vec![-1.0f64], [1])?;
    let (mut a_alone, mut b_alone) = (a.clone(), b.clone());
    let ga = Tensor::from_vec(vec![0.1f64, -0.2, 0.3, 0.0], [2, 2])?;
    let gb = Tensor::from_vec(vec![5.0f64], [1])?;
    let mut joint = Adam::new(0.1)?;
    let (mut only_a, mut only_b) = (Adam::new(0.1)?, Adam::new(0.1)?);
    for _ in 0..3 {
        joint.step(&mut [&mut a, &mut b], &[&ga, &gb])?;
        only_a.step(&mut [&mut a_alone], &[&ga])?;
        only_b.step(&mut [&mut b_alone], &[&gb])?;
    }
    assert_eq!(a, a_alone);
    assert_eq!(b, b_alone);
    Ok(())
}

#[test]
fn reset_forgets_the_state() -> TestResult {
    let grad = Tensor::from_vec(vec![1.0f64, -2.0], [2])?;
    let mut first = Tensor::from_vec(vec![0.5f64, 0.5], [2])?;
    let mut again = first.clone();
    let mut nadam = Nadam::new(0.1)?;
    nadam.step(&mut [&mut first], &[&grad])?;
    nadam.step(&mut [&mut first], &[&grad])?;
    nadam.reset();
    nadam.step(&mut [&mut again], &[&grad])?;
    let mut fresh = Tensor::from_vec(vec![0.5f64, 0.5], [2])?;
    Nadam::new(0.1)?.step(&mut [&mut fresh], &[&grad])?;
    assert_eq!(again, fresh);
    Ok(())
}

#[test]
fn set_lr_changes_the_next_step() -> TestResult {
    let mut sgd = Sgd::new(0.1)?;
    sgd.set_lr(0.5);
    assert_eq!(sgd.lr(), 0.5);
    let mut p = Tensor::from_vec(vec![1.0f64], [1])?;
    sgd.step(&mut [&mut p], &[&Tensor::from_vec(vec![1.0f64], [1])?])?;
    assert_eq!(p.to_f64_vec(), vec![0.5]);
    Ok(())
}

#[test]
fn rejects_mismatched_lists_and_changes_nothing() -> TestResult {
    let mut adam = Adam::new(0.1)?;
    let mut p = Tensor::from_vec(vec![1.0f64, 2.0], [2])?;
    let before = p.clone();
    let g3 = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], [3])?;
    let g32 = Tensor::from_vec(vec![1.0f32, 2.0], [2])?;
    let g = Tensor::from_vec(vec![1.0f64, 2.0], [2])?;

    let err = adam.step(&mut [&mut p], &[]).unwrap_err();
    assert!(matches!(
        err,
        NnError::CountMismatch {
            expected: 1,
            actual: 0,
            ..
        }
    ));
    let err = adam.step(&mut [&mut p], &[&g3]).unwrap_err();
    assert!(matches!(
        err,
        NnError::ShapeMismatch {
            index: 0,
            other: "gradient",
            ..
        }
    ));
    let err = adam.step(&mut [&mut p], &[&g32]).unwrap_err();
    assert!(matches!(
        err,
        NnError::Tensor(TensorError::DTypeMismatch {
            lhs: DType::F64,
            rhs: DType::F32,
            ..
        })
    ));
    assert_eq!(p, before);

    // after a first step the state fixes the parameter list
    adam.step(&mut [&mut p], &[&g])?;
    let mut q = Tensor::from_vec(vec![1.0f64], [1])?;
    let gq = Tensor::from_vec(vec![1.0f64], [1])?;
    let err = adam.step(&mut [&mut q], &[&gq]).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { other: "state", .. }));
    let err = adam.step(&mut [&mut p, &mut q], &[&g, &gq]).unwrap_err();
    assert!(matches!(err, NnError::CountMismatch { actual: 1, .. }));
    Ok(())
}

#[test]
fn rejects_bad_settings() {
    let what = |r: adnet_nn::Result<()>| match r {
        Err(NnError::InvalidSetting { what, .. }) => what,
        other => panic!("expected InvalidSetting, got {other:?}"),
    };
    assert_eq!(what(Sgd::new(-0.1).map(drop)), "lr");
    assert_eq!(what(Sgd::new(f64::NAN).map(drop)), "lr");
    assert_eq!(
        what(Sgd::new(0.1).and_then(|s| s.momentum(-1.0)).map(drop)),
        "momentum"
    );
    assert_eq!(
        what(Sgd::new(0.1).and_then(|s| s.nesterov(true)).map(drop)),
        "nesterov"
    );
    let damped_nesterov = Sgd::new(0.1)
        .and_then(|s| s.momentum(0.9))
        .and_then(|s| s.dampening(0.1))
        .and_then(|s| s.nesterov(true));
    assert_eq!(what(damped_nesterov.map(drop)), "nesterov");
    assert_eq!(
        what(Adam::new(0.1).and_then(|a| a.betas((1.0, 0.9))).map(drop)),
        "betas"
    );
    assert_eq!(
        what(Adam::new(0.1).and_then(|a| a.betas((0.9, -0.1))).map(drop)),
        "betas"
    );
    assert_eq!(
        what(AdamW::new(0.1).and_then(|a| a.eps(-1e-8)).map(drop)),
        "eps"
    );
    assert_eq!(
        what(Adagrad::new(0.1).and_then(|a| a.lr_decay(-1.0)).map(drop)),
        "lr_decay"
    );
    assert_eq!(
        what(Rmsprop::new(0.1).and_then(|r| r.alpha(-0.5)).map(drop)),
        "alpha"
    );
    assert_eq!(
        what(Adadelta::new(1.0).and_then(|a| a.rho(1.5)).map(drop)),
        "rho"
    );
    assert_eq!(
        what(
            Adamax::new(0.1)
                .and_then(|a| a.weight_decay(-1.0))
                .map(drop)
        ),
        "weight_decay"
    );
    assert_eq!(
        what(
            Nadam::new(0.1)
                .and_then(|n| n.momentum_decay(-1.0))
                .map(drop)
        ),
        "momentum_decay"
    );
    assert_eq!(what(StepLr::new(0, 0.1).map(drop)), "step_size");
    assert_eq!(what(LinearLr::new(0.0, 1.0, 5).map(drop)), "start_factor");
    assert_eq!(what(OneCycleLr::new(1.0, 0).map(drop)), "total_steps");
    let mut g = Tensor::scalar(1.0);
    assert_eq!(
        what(clip_grad_norm(&mut [&mut g], -1.0, 2.0).map(drop)),
        "max_norm"
    );
    assert_eq!(
        what(clip_grad_norm(&mut [&mut g], 1.0, 0.0).map(drop)),
        "norm_type"
    );
    assert_eq!(what(clip_grad_value(&mut [&mut g], -1.0)), "clip_value");
}

#[test]
fn clipping_matches_pytorch() -> TestResult {
    for (n, case) in fixtures()["clip"]
        .as_array()
        .expect("a list")
        .iter()
        .enumerate()
    {
        let shapes: Vec<Vec<usize>> = case["shapes"]
            .as_array()
            .expect("shapes")
            .iter()
            .map(|s| floats(s).iter().map(|&d| d as usize).collect())
            .collect();
        let mut grads: Vec<Tensor> = case["grads"]
            .as_array()
            .expect("grads")
            .iter()
            .zip(&shapes)
            .map(|(g, s)| Tensor::from_f64s(&floats(g), s.clone(), DType::F64))
            .collect::<Result<_, _>>()?;
        let mut refs: Vec<&mut Tensor> = grads.iter_mut().collect();
        if case["kind"] == "norm" {
            let norm_type = match &case["norm_type"] {
                Value::String(s) if s == "inf" => f64::INFINITY,
                v => v.as_f64().expect("a number"),
            };
            let max_norm = case["max_norm"].as_f64().expect("a number");
            let total = clip_grad_norm(&mut refs, max_norm, norm_type)?;
            let expected = case["total_norm"].as_f64().expect("a number");
            assert_close(
                total,
                expected,
                1e-12,
                &format!("clip case {n}: total norm"),
            );
        } else {
            clip_grad_value(&mut refs, case["clip_value"].as_f64().expect("a number"))?;
        }
        for (g, expected) in grads
            .iter()
            .zip(case["clipped"].as_array().expect("clipped"))
        {
            for (a, e) in g.to_f64_vec().iter().zip(floats(expected)) {
                assert_close(*a, e, 1e-12, &format!("clip case {n}"));
            }
        }
    }
    Ok(())
}

#[test]
fn clip_grad_norm_works_on_f32() -> TestResult {
    let mut g = Tensor::from_vec(vec![3.0f32, 4.0], [2])?;
    let total = clip_grad_norm(&mut [&mut g], 1.0, 2.0)?;
    assert_eq!(total, 5.0);
    assert_close(g.to_f64_vec()[1], 4.0 / (5.0 + 1e-6), 1e-6, "f32 clip");
    Ok(())
}

fn schedule(case: &Value) -> Box<dyn LrSchedule> {
    let o = &case["options"];
    let f = |k: &str| o[k].as_f64().expect("a number");
    let u = |k: &str| o[k].as_u64().expect("an integer") as usize;
    let built: adnet_nn::Result<Box<dyn LrSchedule>> = match case["schedule"].as_str() {
        Some("step_lr") => StepLr::new(u("step_size"), f("gamma")).map(|s| Box::new(s) as _),
        Some("multi_step_lr") => {
            let milestones: Vec<usize> = floats(&o["milestones"])
                .iter()
                .map(|&m| m as usize)
                .collect();
            MultiStepLr::new(&milestones, f("gamma")).map(|s| Box::new(s) as _)
        }
        Some("exponential_lr") => ExponentialLr::new(f("gamma")).map(|s| Box::new(s) as _),
        Some("cosine_annealing_lr") => {
            CosineAnnealingLr::new(u("t_max"), f("eta_min")).map(|s| Box::new(s) as _)
        }
        Some("cosine_annealing_warm_restarts") => {
            CosineAnnealingWarmRestarts::new(u("t_0"), u("t_mult"), f("eta_min"))
                .map(|s| Box::new(s) as _)
        }
        Some("linear_lr") => LinearLr::new(f("start_factor"), f("end_factor"), u("total_iters"))
            .map(|s| Box::new(s) as _),
        Some("one_cycle_lr") => {
            let strategy = match o["anneal_strategy"].as_str() {
                Some("linear") => AnnealStrategy::Linear,
                _ => AnnealStrategy::Cos,
            };
            OneCycleLr::new(f("max_lr"), u("total_steps"))
                .and_then(|s| s.pct_start(f("pct_start")))
                .and_then(|s| s.div_factor(f("div_factor")))
                .and_then(|s| s.final_div_factor(f("final_div_factor")))
                .map(|s| Box::new(s.anneal_strategy(strategy)) as _)
        }
        other => panic!("unknown schedule {other:?}"),
    };
    built.expect("valid fixture settings")
}

#[test]
fn schedules_match_pytorch() {
    for case in fixtures()["schedules"].as_array().expect("a list") {
        if case["schedule"] == "reduce_lr_on_plateau" {
            continue;
        }
        let name = case["name"].as_str().expect("a name");
        let base_lr = case["base_lr"].as_f64().expect("a number");
        let mut s = schedule(case);
        for (epoch, expected) in floats(&case["lrs"]).into_iter().enumerate() {
            let context = format!("{name}, epoch {epoch}");
            assert_close(s.lr(epoch, base_lr), expected, 1e-9, &context);
        }
    }
}

#[test]
fn reduce_lr_on_plateau_matches_pytorch() -> TestResult {
    let mut seen = 0;
    for case in fixtures()["schedules"].as_array().expect("a list") {
        if case["schedule"] != "reduce_lr_on_plateau" {
            continue;
        }
        let o = &case["options"];
        let mode = match o["mode"].as_str() {
            Some("max") => PlateauMode::Max,
            _ => PlateauMode::Min,
        };
        let threshold_mode = match o["threshold_mode"].as_str() {
            Some("abs") => ThresholdMode::Abs,
            _ => ThresholdMode::Rel,
        };
        let mut plateau = ReduceLrOnPlateau::new()
            .mode(mode)
            .factor(o["factor"].as_f64().expect("a number"))?
            .patience(o["patience"].as_u64().expect("an integer") as usize)
            .threshold(o["threshold"].as_f64().expect("a number"), threshold_mode)?
            .cooldown(o["cooldown"].as_u64().expect("an integer") as usize)
            .min_lr(o["min_lr"].as_f64().expect("a number"))?;
        let lrs = floats(&case["lrs"]);
        let mut sgd = Sgd::new(lrs[0])?;
        for (k, metric) in floats(&case["metrics"]).into_iter().enumerate() {
            let lr = plateau.step(metric, &mut sgd);
            assert_close(
                lr,
                lrs[k + 1],
                1e-12,
                &format!("{}, epoch {}", case["name"], k + 1),
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
    Ok(())
}

// ---- one-cycle momentum cycling ----
//
// The numbers live in `fixtures/one_cycle.json`, written by `fixtures/make_one_cycle_fixtures.py`
// with PyTorch 2.15: `torch.optim.lr_scheduler.OneCycleLR(cycle_momentum=True)` on a real
// optimizer, its lr and momentum read back after every `scheduler.step()`.

fn one_cycle_fixtures() -> Value {
    let text = include_str!("fixtures/one_cycle.json");
    serde_json::from_str(text).expect("fixtures/one_cycle.json is valid JSON")
}

/// The `OneCycleLr` a fixture describes (options absent from it keep PyTorch's defaults).
fn one_cycle(total_steps: usize, o: &Value) -> adnet_nn::Result<OneCycleLr> {
    let mut s = OneCycleLr::new(option_f64(o, "max_lr").expect("max_lr"), total_steps)?;
    if let Some(v) = option_f64(o, "pct_start") {
        s = s.pct_start(v)?;
    }
    if let Some(v) = option_f64(o, "div_factor") {
        s = s.div_factor(v)?;
    }
    if let Some(v) = option_f64(o, "final_div_factor") {
        s = s.final_div_factor(v)?;
    }
    if let Some(range) = o.get("momentum_range") {
        let range = floats(range);
        s = s.momentum_range(range[0], range[1])?;
    }
    if o["anneal_strategy"] == "linear" {
        s = s.anneal_strategy(AnnealStrategy::Linear);
    }
    Ok(s.three_phase(option_bool(o, "three_phase")))
}

fn total_steps(case: &Value) -> usize {
    case["total_steps"].as_u64().expect("an integer") as usize
}

#[test]
fn one_cycle_lr_and_momentum_match_pytorch() -> TestResult {
    let cases = one_cycle_fixtures();
    let cases = cases["schedules"].as_array().expect("a list");
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let mut schedule = one_cycle(total_steps(case), &case["options"])?;
        let (lrs, momenta) = (floats(&case["lrs"]), floats(&case["momenta"]));
        for (step, (lr, momentum)) in lrs.iter().zip(&momenta).enumerate() {
            let context = format!("{name}, step {step}");
            assert_close(schedule.lr(step, 123.0), *lr, 1e-12, &context);
            let actual = schedule
                .momentum(step)
                .expect("momentum is cycled by default");
            assert_close(actual, *momentum, 1e-12, &format!("{context} (momentum)"));
        }
    }
    Ok(())
}

#[test]
fn one_cycle_momentum_drives_optimizers_as_pytorch() -> TestResult {
    let fixtures = one_cycle_fixtures();
    let p0 = [0.5, -1.2, 2.0, 0.0, -0.3];
    let target = [1.0, 0.5, -1.5, 0.25, -2.0];
    for case in fixtures["trajectories"].as_array().expect("a list") {
        let name = case["name"].as_str().expect("a name");
        let mut optimizer = build(
            case["optimizer"].as_str().expect("a name"),
            &case["options"],
        )?;
        let mut schedule = one_cycle(total_steps(case), &case["schedule"])?;
        let mut param = Tensor::from_vec(p0.to_vec(), [5])?;
        for (k, expected) in case["steps"].as_array().expect("steps").iter().enumerate() {
            // what a trainer does before each step
            optimizer.set_lr(schedule.lr(k, optimizer.lr()));
            let momentum = schedule.momentum(k).expect("momentum is cycled by default");
            assert!(optimizer.set_momentum(momentum), "{name}: momentum not set");
            assert_eq!(optimizer.momentum(), Some(momentum));
            let grad = gradient(&param, &target);
            optimizer.step(&mut [&mut param], &[&grad])?;
            for (i, (a, e)) in param.to_f64_vec().iter().zip(floats(expected)).enumerate() {
                assert_close(
                    *a,
                    e,
                    1e-12,
                    &format!("{name}, step {}, element {i}", k + 1),
                );
            }
        }
    }
    Ok(())
}

#[test]
fn momentum_is_sgd_and_rmsprop_momentum_or_beta1() -> TestResult {
    let mut with: Vec<(&str, Box<dyn Optimizer>, f64)> = vec![
        ("sgd", Box::new(Sgd::new(0.1)?.momentum(0.9)?), 0.9),
        ("rmsprop", Box::new(Rmsprop::new(0.1)?.momentum(0.5)?), 0.5),
        ("adam", Box::new(Adam::new(0.1)?.betas((0.8, 0.99))?), 0.8),
        ("adamw", Box::new(AdamW::new(0.1)?), 0.9),
        ("adamax", Box::new(Adamax::new(0.1)?), 0.9),
        ("nadam", Box::new(Nadam::new(0.1)?), 0.9),
    ];
    for (name, optimizer, momentum) in &mut with {
        assert_eq!(optimizer.momentum(), Some(*momentum), "{name}");
        // rejected values change nothing; a beta may be 0, and SGD's or RMSprop's momentum may
        // exceed 1 (but not be 0, which would drop its buffer), as their builders allow
        let is_beta = !matches!(*name, "sgd" | "rmsprop");
        for (value, valid) in [
            (f64::NAN, false),
            (-0.1, false),
            (1.0, !is_beta),
            (0.0, is_beta),
        ] {
            assert_eq!(
                optimizer.set_momentum(value),
                valid,
                "{name}: set_momentum({value})"
            );
            if valid {
                assert_eq!(optimizer.momentum(), Some(value), "{name}");
                assert!(optimizer.set_momentum(*momentum));
            }
            assert_eq!(optimizer.momentum(), Some(*momentum), "{name}");
        }
        assert!(optimizer.set_momentum(0.85), "{name}");
        assert_eq!(optimizer.momentum(), Some(0.85), "{name}");
    }
    let mut without: Vec<(&str, Box<dyn Optimizer>)> = vec![
        ("sgd without momentum", Box::new(Sgd::new(0.1)?)),
        ("rmsprop without momentum", Box::new(Rmsprop::new(0.1)?)),
        ("adagrad", Box::new(Adagrad::new(0.1)?)),
        ("adadelta", Box::new(Adadelta::new(1.0)?)),
    ];
    for (name, optimizer) in &mut without {
        assert_eq!(optimizer.momentum(), None, "{name}");
        assert!(!optimizer.set_momentum(0.9), "{name}");
        assert_eq!(optimizer.momentum(), None, "{name}");
    }
    Ok(())
}

#[test]
fn set_momentum_changes_the_next_step_and_keeps_the_state() -> TestResult {
    // SGD with momentum: b ← m · b + g, θ ← θ − lr · b
    let grad = Tensor::from_vec(vec![1.0f64], [1])?;
    let mut w = Tensor::from_vec(vec![0.0f64], [1])?;
    let mut sgd = Sgd::new(1.0)?.momentum(0.9)?;
    sgd.step(&mut [&mut w], &[&grad])?; // b = 1
    assert!(sgd.set_momentum(0.5));
    sgd.step(&mut [&mut w], &[&grad])?; // b = 0.5 · 1 + 1
    assert_eq!(w.to_f64_vec(), vec![-1.0 - 1.5]);
    // Adam's β₁ changes the next moment update and bias correction, as in PyTorch
    let mut a = Tensor::from_vec(vec![1.0f64], [1])?;
    let mut b = a.clone();
    let mut changed = Adam::new(0.1)?;
    let mut reference = Adam::new(0.1)?.betas((0.5, 0.999))?;
    assert!(changed.set_momentum(0.5));
    for _ in 0..3 {
        changed.step(&mut [&mut a], &[&grad])?;
        reference.step(&mut [&mut b], &[&grad])?;
    }
    assert_eq!(a, b);
    assert_eq!(changed.state(), reference.state());
    Ok(())
}

#[test]
fn one_cycle_settings_and_edges() -> TestResult {
    let what = |r: adnet_nn::Result<OneCycleLr>| match r {
        Err(NnError::InvalidSetting { what, .. }) => what,
        other => panic!("expected InvalidSetting, got {other:?}"),
    };
    let s = OneCycleLr::new(1.0, 10)?;
    assert_eq!(what(s.clone().momentum_range(-0.1, 0.9)), "base_momentum");
    assert_eq!(
        what(s.clone().momentum_range(0.8, f64::NAN)),
        "max_momentum"
    );
    assert_eq!(
        what(s.clone().momentum_range(0.8, f64::INFINITY)),
        "max_momentum"
    );
    assert_eq!(what(s.clone().momentum_range(0.95, 0.85)), "base_momentum");
    // a constant momentum is a valid range
    let mut flat = s.clone().momentum_range(0.9, 0.9)?;
    assert!((0..12).all(|k| flat.momentum(k) == Some(0.9)));
    // without cycling, no momentum and the same rates
    let mut off = s.clone().cycle_momentum(false);
    let mut on = s.clone();
    for k in 0..12 {
        assert_eq!(off.momentum(k), None);
        assert_eq!(off.lr(k, 0.1), on.lr(k, 0.1));
    }
    // empty phases (where PyTorch divides by zero) and steps past the cycle stay finite
    for (pct_start, three_phase) in [(0.1, false), (0.1, true), (1.0, false), (0.0, true)] {
        let mut edge = OneCycleLr::new(1.0, 10)?
            .pct_start(pct_start)?
            .three_phase(three_phase);
        for k in 0..30 {
            let (lr, momentum) = (edge.lr(k, 0.1), edge.momentum(k).expect("cycled"));
            assert!(
                lr.is_finite() && momentum.is_finite(),
                "pct_start {pct_start}, three_phase {three_phase}, step {k}: {lr}, {momentum}"
            );
        }
    }
    // a warm-up of length zero starts at the peak
    let mut instant = OneCycleLr::new(1.0, 10)?.pct_start(0.1)?;
    assert_eq!(instant.lr(0, 0.1), 1.0);
    assert_eq!(instant.momentum(0), Some(0.85));
    Ok(())
}
