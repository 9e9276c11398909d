//! Checkpoints: bit-exact round trips, every kind of broken or mismatched file reported in one
//! error, atomic writes, optimizer state, and a checkpoint written by PyTorch.

use std::fs;
use std::path::{Path, PathBuf};

use adnet_graph::{Graph, NodeId};
use adnet_nn::checkpoint::{self, CheckpointProblem, LoadOptions};
use adnet_nn::layers::{Activation, Mlp, Module};
use adnet_nn::optim::{Adam, Optimizer, Sgd};
use adnet_nn::{NnError, Result};
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::SeedableRng;
use adnet_tensor::{DType, Shape, Tensor};

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("adnet-ckpt-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn mlp(g: &Graph, dtype: DType, seed: u64) -> Result<Vec<(String, NodeId)>> {
    let net = Mlp::new(&[4, 8, 3])
        .activation(Activation::Tanh)
        .dtype(dtype)
        .build(g, "mlp", &mut StdRng::seed_from_u64(seed))?;
    Ok(net.parameters())
}

fn bits(t: &Tensor) -> Vec<u64> {
    match t.dtype() {
        DType::F32 => t
            .as_slice::<f32>()
            .expect("f32")
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
        DType::F64 => t
            .as_slice::<f64>()
            .expect("f64")
            .iter()
            .map(|x| x.to_bits())
            .collect(),
    }
}

fn values(g: &Graph, params: &[(String, NodeId)]) -> Result<Vec<Tensor>> {
    params.iter().map(|(_, id)| Ok(g.value(*id)?)).collect()
}

fn problems(result: Result<()>) -> Vec<CheckpointProblem> {
    match result {
        Err(NnError::Checkpoint { problems, .. }) => problems,
        other => panic!("expected NnError::Checkpoint, got {other:?}"),
    }
}

fn assert_corrupt(result: Result<()>) {
    assert!(
        matches!(result, Err(NnError::CorruptCheckpoint { .. })),
        "expected CorruptCheckpoint, got {result:?}"
    );
}

#[test]
fn round_trip_is_bit_exact_in_f32_and_f64() -> Result<()> {
    let dir = temp_dir("roundtrip");
    for dtype in [DType::F32, DType::F64] {
        let path = dir.join(format!("{dtype:?}.safetensors"));
        let g = Graph::new();
        let mut params = mlp(&g, dtype, 0)?;
        // values a text format would lose: signed zero, a subnormal, infinities, a NaN payload
        let special = [
            -0.0,
            f64::from(f32::MIN_POSITIVE) / 8.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1.0 / 3.0,
        ];
        let s = g.param("special", Tensor::from_f64s(&special, [2, 3], dtype)?)?;
        params.push(("special".to_string(), s.id()));
        checkpoint::save(&path, &g, &params)?;

        let h = Graph::new();
        let mut loaded = mlp(&h, dtype, 1)?;
        let s = h.param("special", Tensor::zeros([2, 3], dtype))?;
        loaded.push(("special".to_string(), s.id()));
        assert_ne!(values(&g, &params)?[0], values(&h, &loaded)?[0]);
        checkpoint::load(&path, &h, &loaded)?;
        for (a, b) in values(&g, &params)?.iter().zip(&values(&h, &loaded)?) {
            assert_eq!(a.dtype(), b.dtype());
            assert_eq!(a.shape(), b.shape());
            assert_eq!(bits(a), bits(b));
        }
    }
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn file_is_plain_safetensors_with_the_parameter_names() -> Result<()> {
    let dir = temp_dir("format");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let params = mlp(&g, DType::F32, 0)?;
    checkpoint::save(&path, &g, &params)?;
    let bytes = fs::read(&path).expect("read");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
    let mut names = file.names();
    names.sort_unstable();
    assert_eq!(
        names,
        ["mlp.0.bias", "mlp.0.weight", "mlp.2.bias", "mlp.2.weight"]
    );
    let w = file.tensor("mlp.0.weight").expect("weight");
    assert_eq!(w.shape(), &[4, 8]);
    assert_eq!(w.dtype(), safetensors::Dtype::F32);
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn truncated_file_is_an_error_not_a_panic() -> Result<()> {
    let dir = temp_dir("truncated");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let params = mlp(&g, DType::F64, 0)?;
    checkpoint::save(&path, &g, &params)?;
    let bytes = fs::read(&path).expect("read");
    let before = values(&g, &params)?;
    // cut in the data, in the header, in the length prefix, and empty
    for len in [bytes.len() - 1, bytes.len() / 2, 20, 4, 0] {
        let cut = dir.join(format!("cut{len}.safetensors"));
        fs::write(&cut, &bytes[..len]).expect("write");
        assert_corrupt(checkpoint::load(&cut, &g, &params));
    }
    assert_eq!(values(&g, &params)?, before);
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn corrupted_header_is_an_error() -> Result<()> {
    let dir = temp_dir("header");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let params = mlp(&g, DType::F32, 0)?;
    checkpoint::save(&path, &g, &params)?;
    let bytes = fs::read(&path).expect("read");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;

    let mut huge_length = bytes.clone();
    huge_length[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut invalid_utf8 = bytes.clone();
    invalid_utf8[9] = 0xff;
    // a header that parses but whose offsets leave data uncovered
    let mut extra_data = bytes.clone();
    extra_data.extend_from_slice(&[0; 8]);
    // offsets past the end of the data
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).expect("utf-8");
    let bad_offsets = header.replacen("\"data_offsets\":[0,", "\"data_offsets\":[9999,", 1);
    let mut bad_offset_bytes = bytes[..8].to_vec();
    assert_eq!(bad_offsets.len(), header.len() + 3);
    bad_offset_bytes[..8].copy_from_slice(&(bad_offsets.len() as u64).to_le_bytes());
    bad_offset_bytes.extend_from_slice(bad_offsets.as_bytes());
    bad_offset_bytes.extend_from_slice(&bytes[8 + header_len..]);

    for (tag, broken) in [
        ("huge", huge_length),
        ("utf8", invalid_utf8),
        ("extra", extra_data),
        ("offsets", bad_offset_bytes),
    ] {
        let broken_path = dir.join(format!("{tag}.safetensors"));
        fs::write(&broken_path, broken).expect("write");
        assert_corrupt(checkpoint::load(&broken_path, &g, &params));
    }
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn header_that_is_not_json_is_an_error() -> Result<()> {
    let dir = temp_dir("json");
    let g = Graph::new();
    let params = mlp(&g, DType::F32, 0)?;
    for (tag, header) in [
        ("garbage", "{not json at all}"),
        ("array", "[1, 2, 3]"),
        ("wrong_fields", r#"{"w": {"dtype": "F32", "shape": "two"}}"#),
        (
            "unknown_dtype",
            r#"{"w": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}}"#,
        ),
    ] {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0; 4]);
        let path = dir.join(format!("{tag}.safetensors"));
        fs::write(&path, bytes).expect("write");
        let result = checkpoint::load(&path, &g, &params);
        assert_corrupt(result.clone());
        // the message names the file
        let message = result.expect_err("corrupt").to_string();
        assert!(message.contains(&format!("{tag}.safetensors")), "{message}");
    }
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn every_mismatch_is_reported_in_one_error_and_nothing_changes() -> Result<()> {
    let dir = temp_dir("mismatch");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let saved: Vec<(String, NodeId)> = [
        ("a", Tensor::zeros([2, 3], DType::F32)),
        ("b", Tensor::zeros([3], DType::F64)),
        ("ok", Tensor::ones([2], DType::F32)),
        ("shape_and_dtype", Tensor::zeros([5], DType::F64)),
        ("stale", Tensor::zeros([1], DType::F32)),
    ]
    .into_iter()
    .map(|(name, value)| Ok((name.to_string(), g.param(name, value)?.id())))
    .collect::<Result<_>>()?;
    checkpoint::save(&path, &g, &saved)?;

    let h = Graph::new();
    let model: Vec<(String, NodeId)> = [
        ("a", Tensor::full([3, 2], 7.0, DType::F32)),
        ("b", Tensor::full([3], 7.0, DType::F32)),
        ("new", Tensor::full([4], 7.0, DType::F32)),
        ("ok", Tensor::full([2], 7.0, DType::F32)),
        ("shape_and_dtype", Tensor::full([4], 7.0, DType::F32)),
    ]
    .into_iter()
    .map(|(name, value)| Ok((name.to_string(), h.param(name, value)?.id())))
    .collect::<Result<_>>()?;
    let before = values(&h, &model)?;

    let result = checkpoint::load(&path, &h, &model);
    let message = result.clone().expect_err("mismatch").to_string();
    assert_eq!(
        problems(result),
        vec![
            CheckpointProblem::ShapeMismatch {
                name: "a".into(),
                expected: Shape::from([3, 2]),
                actual: Shape::from([2, 3]),
            },
            CheckpointProblem::DTypeMismatch {
                name: "b".into(),
                expected: DType::F32,
                actual: "F64".into(),
            },
            CheckpointProblem::Missing { name: "new".into() },
            CheckpointProblem::DTypeMismatch {
                name: "shape_and_dtype".into(),
                expected: DType::F32,
                actual: "F64".into(),
            },
            CheckpointProblem::ShapeMismatch {
                name: "shape_and_dtype".into(),
                expected: Shape::from([4]),
                actual: Shape::from([5]),
            },
            CheckpointProblem::Unexpected {
                name: "stale".into(),
            },
        ]
    );
    assert!(message.contains("6 problems"), "{message}");
    assert!(message.contains("`new` is missing"), "{message}");
    assert!(message.contains("`stale` is in the file"), "{message}");
    // `ok` matched, but a rejected load changes nothing
    assert_eq!(values(&h, &model)?, before);

    // not strict: the stale tensor is ignored, the rest still reported
    let lax = checkpoint::load_with(&path, &h, &model, LoadOptions::new().strict(false));
    let lax = problems(lax);
    assert_eq!(lax.len(), 5);
    assert!(!lax
        .iter()
        .any(|p| matches!(p, CheckpointProblem::Unexpected { .. })));
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn non_strict_load_ignores_extra_tensors() -> Result<()> {
    let dir = temp_dir("lax");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let mut params = mlp(&g, DType::F32, 0)?;
    let extra = g.param("extra", Tensor::ones([2], DType::F32))?;
    params.push(("extra".to_string(), extra.id()));
    checkpoint::save(&path, &g, &params)?;

    let h = Graph::new();
    let model = mlp(&h, DType::F32, 1)?;
    let strict = problems(checkpoint::load(&path, &h, &model));
    assert_eq!(
        strict,
        vec![CheckpointProblem::Unexpected {
            name: "extra".into()
        }]
    );
    checkpoint::load_with(&path, &h, &model, LoadOptions::new().strict(false))?;
    assert_eq!(values(&h, &model)?, values(&g, &params[..4])?);
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn failed_save_leaves_the_old_file_intact() -> Result<()> {
    let dir = temp_dir("atomic");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let params = mlp(&g, DType::F32, 0)?;
    checkpoint::save(&path, &g, &params)?;
    let old = fs::read(&path).expect("read");

    // a name listed twice is rejected before anything is written
    let mut twice = params.clone();
    twice.push(params[0].clone());
    assert_eq!(
        problems(checkpoint::save(&path, &g, &twice)),
        vec![CheckpointProblem::DuplicateName {
            name: "mlp.0.weight".into()
        }]
    );
    // a node that holds no value (an input) fails while collecting the tensors
    let x = g.input("x", [1, 4], DType::F32)?;
    let mut with_input = params.clone();
    with_input.push(("x".into(), x.id()));
    assert!(matches!(
        checkpoint::save(&path, &g, &with_input),
        Err(NnError::Graph(_))
    ));
    assert_eq!(fs::read(&path).expect("read"), old);

    // a directory that does not exist: an I/O error naming the path
    let missing = dir.join("no/such/dir/m.safetensors");
    match checkpoint::save(&missing, &g, &params) {
        Err(NnError::Io { path, kind, .. }) => {
            assert_eq!(path, missing);
            assert_eq!(kind, std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    // no temporary file is left beside the checkpoint
    let entries: Vec<_> = fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(entries, ["m.safetensors"]);
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn missing_file_is_an_io_error() -> Result<()> {
    let g = Graph::new();
    let params = mlp(&g, DType::F32, 0)?;
    let path = temp_dir("nofile").join("absent.safetensors");
    assert!(matches!(
        checkpoint::load(&path, &g, &params),
        Err(NnError::Io {
            action: "reading",
            kind: std::io::ErrorKind::NotFound,
            ..
        })
    ));
    Ok(())
}

/// Builds a 4-8-3 tanh MLP in f32 and returns it with its output node for a `[5, 4]` input.
fn torch_shaped_mlp(g: &Graph) -> Result<(Vec<(String, NodeId)>, NodeId)> {
    let net = Mlp::new(&[4, 8, 3])
        .activation(Activation::Tanh)
        .dtype(DType::F32)
        .build(g, "mlp", &mut StdRng::seed_from_u64(3))?;
    let x = g.input("x", [5, 4], DType::F32)?;
    let y = net.forward(g, x)?;
    Ok((net.parameters(), y.id()))
}

#[test]
fn pytorch_checkpoint_loads_and_computes_pytorchs_output() -> Result<()> {
    let g = Graph::new();
    let (params, y) = torch_shaped_mlp(&g)?;
    checkpoint::load_pytorch_linear(fixture("torch_mlp.safetensors"), &g, &params)?;

    let io = fs::read(fixture("torch_mlp_io.safetensors")).expect("fixture");
    let io = safetensors::SafeTensors::deserialize(&io).expect("valid fixture");
    let read = |name: &str| -> Vec<f32> {
        io.tensor(name)
            .expect("in fixture")
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect()
    };
    let x = Tensor::from_vec(read("x"), [5, 4])?;
    let expected = read("y");
    let actual = g.eval_tensor(y, &[("x", &x)])?;
    assert_eq!(actual.dims(), &[5, 3]);
    for (a, e) in actual.to_f64_vec().iter().zip(&expected) {
        // f32 arithmetic in a different order than PyTorch's
        assert!((a - f64::from(*e)).abs() < 1e-5, "{a} vs {e}");
    }
    Ok(())
}

#[test]
fn pytorch_checkpoint_without_transposing_reports_both_weights() -> Result<()> {
    let g = Graph::new();
    let (params, _) = torch_shaped_mlp(&g)?;
    let result = checkpoint::load(fixture("torch_mlp.safetensors"), &g, &params);
    assert_eq!(
        problems(result),
        vec![
            CheckpointProblem::ShapeMismatch {
                name: "mlp.0.weight".into(),
                expected: Shape::from([4, 8]),
                actual: Shape::from([8, 4]),
            },
            CheckpointProblem::ShapeMismatch {
                name: "mlp.2.weight".into(),
                expected: Shape::from([8, 3]),
                actual: Shape::from([3, 8]),
            },
        ]
    );
    Ok(())
}

/// Builds a fresh optimizer of one configuration.
type MakeOptimizer = Box<dyn Fn() -> Result<Box<dyn Optimizer>>>;

/// Quadratic-loss gradients `2 · θ` of every parameter.
fn gradients(g: &Graph, params: &[(String, NodeId)]) -> Result<Vec<Tensor>> {
    values(g, params)?
        .iter()
        .map(|v| {
            let data: Vec<f64> = v.to_f64_vec().iter().map(|x| 2.0 * x).collect();
            Ok(Tensor::from_f64s(&data, v.shape().clone(), v.dtype())?)
        })
        .collect()
}

fn step(g: &Graph, params: &[(String, NodeId)], optimizer: &mut dyn Optimizer) -> Result<()> {
    let grads = gradients(g, params)?;
    let ids: Vec<NodeId> = params.iter().map(|(_, id)| *id).collect();
    let grads: Vec<&Tensor> = grads.iter().collect();
    g.with_params_mut(&ids, |values| optimizer.step(values, &grads))??;
    Ok(())
}

#[test]
fn optimizer_state_round_trips_and_training_resumes_identically() -> Result<()> {
    let dir = temp_dir("optimizer");
    let optimizers: Vec<(&str, MakeOptimizer)> = vec![
        ("adam", Box::new(|| Ok(Box::new(Adam::new(0.01)?)))),
        (
            "amsgrad",
            Box::new(|| Ok(Box::new(Adam::new(0.01)?.amsgrad(true)))),
        ),
        (
            "sgd_momentum",
            Box::new(|| Ok(Box::new(Sgd::new(0.05)?.momentum(0.9)?))),
        ),
        ("sgd", Box::new(|| Ok(Box::new(Sgd::new(0.05)?)))),
    ];
    for (tag, make) in optimizers {
        let path = dir.join(format!("{tag}.safetensors"));
        let g = Graph::new();
        let params = mlp(&g, DType::F64, 0)?;
        let mut original = make()?;
        for _ in 0..3 {
            step(&g, &params, original.as_mut())?;
        }
        checkpoint::save_with_optimizer(&path, &g, &params, original.as_ref())?;

        let bytes = fs::read(&path).expect("read");
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).expect("valid");
        let metadata = header.metadata().clone().expect("metadata");
        assert_eq!(
            metadata.get("optimizer.step").map(String::as_str),
            Some("3")
        );

        let h = Graph::new();
        let resumed_params = mlp(&h, DType::F64, 9)?;
        let mut resumed = make()?;
        checkpoint::load_with_optimizer(&path, &h, &resumed_params, resumed.as_mut())?;
        // the model alone loads too: `optimizer.` tensors are not unexpected
        checkpoint::load(&path, &h, &resumed_params)?;
        for _ in 0..2 {
            step(&g, &params, original.as_mut())?;
            step(&h, &resumed_params, resumed.as_mut())?;
        }
        for (a, b) in values(&g, &params)?
            .iter()
            .zip(&values(&h, &resumed_params)?)
        {
            assert_eq!(bits(a), bits(b), "{tag}: resumed training diverged");
        }
    }
    fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn optimizer_state_of_another_kind_is_rejected_and_changes_nothing() -> Result<()> {
    let dir = temp_dir("wrong-optimizer");
    let path = dir.join("m.safetensors");
    let g = Graph::new();
    let params = mlp(&g, DType::F64, 0)?;
    let mut sgd = Sgd::new(0.1)?.momentum(0.9)?;
    step(&g, &params, &mut sgd)?;
    checkpoint::save_with_optimizer(&path, &g, &params, &sgd)?;

    let h = Graph::new();
    let model = mlp(&h, DType::F64, 4)?;
    let before = values(&h, &model)?;
    let mut adam = Adam::new(0.1)?;
    let result = checkpoint::load_with_optimizer(&path, &h, &model, &mut adam);
    assert!(
        matches!(result, Err(NnError::InvalidSetting { what: "state", .. })),
        "{result:?}"
    );
    assert_eq!(values(&h, &model)?, before);
    assert_eq!(adam.state(), Optimizer::state(&Adam::new(0.1)?));
    fs::remove_dir_all(&dir).ok();
    Ok(())
}
