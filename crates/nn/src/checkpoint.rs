//! Checkpoints: parameters, and optionally optimizer state, saved to and loaded from
//! [safetensors](https://huggingface.co/docs/safetensors) files.
//!
//! A checkpoint maps each parameter's full name ([`Module::parameters`]: `mlp.0.weight`,
//! `mlp.0.bias`, ...) to its value, stored little-endian as `F32` or `F64` with its shape. The
//! files are ordinary safetensors files: PyTorch's `safetensors.torch.load_file` reads them and
//! [`load`] reads PyTorch's.
//!
//! - [`save`] writes atomically: the bytes go to a temporary file in the same directory, which
//!   is flushed to disk (`fsync`) and then renamed over the target, so a crash or a failed write
//!   leaves either the old file or the new one, never half of one.
//! - [`load`] checks the file against the model before changing anything: every missing,
//!   unexpected, wrongly shaped or wrongly typed tensor is listed in one
//!   [`NnError::Checkpoint`], and a file that is not valid safetensors (truncated, a corrupted
//!   header) is [`NnError::CorruptCheckpoint`], never a panic. A rejected load leaves the
//!   parameters as they were. [`LoadOptions`] relaxes the check (`strict(false)` ignores
//!   tensors the model does not have) and adapts PyTorch's layout.
//! - [`save_with_optimizer`] and [`load_with_optimizer`] also store the optimizer's state
//!   ([`Optimizer::state`]) under names prefixed with `optimizer.`, and its step count as the
//!   metadata entry `optimizer.step`. The `optimizer.` prefix is reserved: [`load`] skips
//!   those tensors.
//!
//! # PyTorch's `Linear` weights
//! `torch.nn.Linear` stores its weight as `[out_features, in_features]` and computes
//! `x · Wᵀ + b`; adnet's [`Linear`](crate::layers::Linear) stores `[in_features, out_features]`
//! and computes `x · W + b`. [`load_pytorch_linear`] (or
//! [`LoadOptions::transpose_linear_weights`]) transposes every 2-D tensor whose name ends in
//! `.weight` while loading, so a PyTorch MLP's `state_dict` saved with
//! `safetensors.torch.save_file` under the same names loads into an [`Mlp`](crate::layers::Mlp)
//! and computes the same function.
//!
//! # Examples
//! ```
//! use adnet_graph::Graph;
//! use adnet_nn::{checkpoint, layers::{Mlp, Module}};
//! use adnet_tensor::rand::{rngs::StdRng, SeedableRng};
//!
//! let path = std::env::temp_dir().join(format!("adnet-doc-{}.safetensors", std::process::id()));
//! let g = Graph::new();
//! let mlp = Mlp::new(&[2, 3, 1]).build(&g, "mlp", &mut StdRng::seed_from_u64(0))?;
//! checkpoint::save(&path, &g, &mlp.parameters())?;
//!
//! // a second model, initialised differently, gets the first one's values
//! let h = Graph::new();
//! let copy = Mlp::new(&[2, 3, 1]).build(&h, "mlp", &mut StdRng::seed_from_u64(1))?;
//! checkpoint::load(&path, &h, &copy.parameters())?;
//! let (w, v) = (mlp.parameters()[0].1, copy.parameters()[0].1);
//! assert_eq!(g.value(w)?, h.value(v)?);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), adnet_nn::NnError>(())
//! ```
//!
//! [`Module::parameters`]: crate::layers::Module::parameters

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use adnet_graph::{Graph, NodeId, NodeKind};
use adnet_tensor::{DType, Shape, Storage, Tensor};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::optim::Optimizer;
use crate::{NnError, Result};

/// The prefix of the optimizer-state tensors in a checkpoint.
pub const OPTIMIZER_PREFIX: &str = "optimizer.";

/// The metadata key holding the optimizer's step count.
pub const OPTIMIZER_STEP_KEY: &str = "optimizer.step";

/// One way a checkpoint differs from the model it is loaded into.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// The model has a parameter the file does not.
    Missing {
        /// The parameter's name.
        name: String,
    },
    /// The file has a tensor the model does not (only when loading strictly).
    Unexpected {
        /// The tensor's name.
        name: String,
    },
    /// A tensor whose shape is not the parameter's (after the transposition asked for, if any).
    ShapeMismatch {
        /// The parameter's name.
        name: String,
        /// The parameter's shape.
        expected: Shape,
        /// The shape the model would get from the file.
        actual: Shape,
    },
    /// A tensor whose element type is not the parameter's.
    DTypeMismatch {
        /// The parameter's name.
        name: String,
        /// The parameter's dtype.
        expected: DType,
        /// The file's dtype, as safetensors spells it (`F32`, `BF16`, `I64`, ...).
        actual: String,
    },
    /// A name listed twice in the parameters given to [`save`] or [`load`].
    DuplicateName {
        /// The name.
        name: String,
    },
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointProblem::Missing { name } => write!(f, "`{name}` is missing from the file"),
            CheckpointProblem::Unexpected { name } => {
                write!(f, "`{name}` is in the file but not in the model")
            }
            CheckpointProblem::ShapeMismatch {
                name,
                expected,
                actual,
            } => write!(
                f,
                "`{name}` has shape {actual}, the model expects {expected}"
            ),
            CheckpointProblem::DTypeMismatch {
                name,
                expected,
                actual,
            } => write!(
                f,
                "`{name}` has dtype {actual}, the model expects {expected:?}"
            ),
            CheckpointProblem::DuplicateName { name } => {
                write!(f, "`{name}` is listed more than once")
            }
        }
    }
}

/// How [`load_with`] matches a file to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    strict: bool,
    transpose_linear_weights: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            strict: true,
            transpose_linear_weights: false,
        }
    }
}

impl LoadOptions {
    /// Strict matching, no transposition (what [`load`] uses).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a tensor in the file that the model does not have is an error (`true`, the
    /// default, as PyTorch's `load_state_dict(strict=True)`) or ignored. A parameter missing
    /// from the file is an error either way.
    pub fn strict(self, strict: bool) -> Self {
        Self { strict, ..self }
    }

    /// Whether to transpose every 2-D tensor whose name ends in `.weight` (PyTorch's
    /// `[out, in]` layout into adnet's `[in, out]`). Default `false`.
    pub fn transpose_linear_weights(self, transpose: bool) -> Self {
        Self {
            transpose_linear_weights: transpose,
            ..self
        }
    }
}

/// Saves the values of `params` (as [`Module::parameters`](crate::layers::Module::parameters)
/// lists them) to a safetensors file at `path`, atomically.
///
/// # Errors
/// [`NnError::Checkpoint`] with [`CheckpointProblem::DuplicateName`] when a name is listed
/// twice, [`NnError::Graph`] when a node is not a parameter or constant of `graph`, and
/// [`NnError::Io`] when the file cannot be written (a missing directory, say). On error the
/// file at `path`, if any, is untouched.
pub fn save(path: impl AsRef<Path>, graph: &Graph, params: &[(String, NodeId)]) -> Result<()> {
    save_tensors(path.as_ref(), graph, params, Vec::new(), None)
}

/// Saves the parameters as [`save`] does, plus `optimizer`'s state
/// ([`Optimizer::state`]) under names prefixed with `optimizer.`, and its step count (the
/// state's scalar `step`, when it has one) as the metadata entry `optimizer.step`.
///
/// # Errors
/// As [`save`].
pub fn save_with_optimizer(
    path: impl AsRef<Path>,
    graph: &Graph,
    params: &[(String, NodeId)],
    optimizer: &dyn Optimizer,
) -> Result<()> {
    let state = optimizer.state();
    let step = state
        .iter()
        .find(|(name, _)| name == "step")
        .and_then(|(_, value)| value.to_scalar().ok())
        .map(|step| format!("{step}"));
    let state = state
        .into_iter()
        .map(|(name, value)| (format!("{OPTIMIZER_PREFIX}{name}"), value))
        .collect();
    save_tensors(path.as_ref(), graph, params, state, step)
}

/// Loads the values of `params` from the safetensors file at `path`, strictly: the file must
/// hold exactly these names (tensors prefixed with `optimizer.` aside), with the parameters'
/// shapes and dtypes.
///
/// # Errors
/// [`NnError::Io`] when the file cannot be read, [`NnError::CorruptCheckpoint`] when it is
/// not valid safetensors, [`NnError::Checkpoint`] listing every mismatch, and
/// [`NnError::Graph`] when a node is not a parameter of `graph`. On error no parameter changes.
pub fn load(path: impl AsRef<Path>, graph: &Graph, params: &[(String, NodeId)]) -> Result<()> {
    load_with(path, graph, params, LoadOptions::default())
}

/// Loads parameters as [`load`] does, matched as `options` says.
///
/// # Errors
/// As [`load`].
pub fn load_with(
    path: impl AsRef<Path>,
    graph: &Graph,
    params: &[(String, NodeId)],
    options: LoadOptions,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let file = parse(path, &bytes)?;
    let values = check(path, graph, params, &file, options)?;
    apply(graph, values)
}

/// Loads a checkpoint written by PyTorch (`safetensors.torch.save_file(model.state_dict())`),
/// strictly, transposing 2-D `*.weight` tensors from PyTorch's `[out, in]` to adnet's
/// `[in, out]` (see the [module documentation](self)).
///
/// # Errors
/// As [`load`].
pub fn load_pytorch_linear(
    path: impl AsRef<Path>,
    graph: &Graph,
    params: &[(String, NodeId)],
) -> Result<()> {
    load_with(
        path,
        graph,
        params,
        LoadOptions::default().transpose_linear_weights(true),
    )
}

/// Loads the parameters as [`load`] does and `optimizer`'s state from the `optimizer.` tensors
/// ([`Optimizer::load_state`]).
///
/// # Errors
/// As [`load`], plus whatever `optimizer.load_state` rejects (state of another optimizer or
/// of other parameters). On error neither the parameters nor the optimizer change.
pub fn load_with_optimizer(
    path: impl AsRef<Path>,
    graph: &Graph,
    params: &[(String, NodeId)],
    optimizer: &mut dyn Optimizer,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let file = parse(path, &bytes)?;
    let values = check(path, graph, params, &file, LoadOptions::default())?;
    let mut state = Vec::new();
    for (name, view) in file.iter() {
        if let Some(short) = name.strip_prefix(OPTIMIZER_PREFIX) {
            let value = decode(path, name, &view, false)?.ok_or_else(|| NnError::Checkpoint {
                path: path.to_path_buf(),
                problems: vec![CheckpointProblem::DTypeMismatch {
                    name: name.to_string(),
                    expected: DType::F64,
                    actual: view.dtype().to_string(),
                }],
            })?;
            state.push((short.to_string(), value));
        }
    }
    state.sort_by(|a, b| a.0.cmp(&b.0));
    // the optimizer checks its state before changing anything, and applying checked values
    // cannot fail, so either both change or neither does
    optimizer.load_state(&state)?;
    apply(graph, values)
}

/// Collects the parameter tensors and writes the file.
fn save_tensors(
    path: &Path,
    graph: &Graph,
    params: &[(String, NodeId)],
    extra: Vec<(String, Tensor)>,
    step: Option<String>,
) -> Result<()> {
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    let mut tensors = Vec::with_capacity(params.len() + extra.len());
    for (name, id) in params {
        if !seen.insert(name.as_str()) {
            problems.push(CheckpointProblem::DuplicateName { name: name.clone() });
            continue;
        }
        tensors.push((name.clone(), graph.value(*id)?));
    }
    if !problems.is_empty() {
        return Err(NnError::Checkpoint {
            path: path.to_path_buf(),
            problems,
        });
    }
    tensors.extend(extra);
    let encoded: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, value)| {
            let (dtype, bytes) = encode(value);
            (name.clone(), dtype, value.dims().to_vec(), bytes)
        })
        .collect();
    let views = encoded
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .map_err(|e| corrupt(path, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut metadata = HashMap::from([("format".to_string(), "adnet".to_string())]);
    if let Some(step) = step {
        metadata.insert(OPTIMIZER_STEP_KEY.to_string(), step);
    }
    let bytes = safetensors::serialize(views, Some(metadata)).map_err(|e| corrupt(path, e))?;
    write_atomic(path, |file| file.write_all(&bytes))
}

/// A tensor's safetensors dtype and little-endian bytes.
fn encode(value: &Tensor) -> (Dtype, Vec<u8>) {
    match value.storage() {
        Storage::F32(data) => (
            Dtype::F32,
            data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        Storage::F64(data) => (
            Dtype::F64,
            data.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
    }
}

/// A safetensors tensor as a [`Tensor`], transposed from `[out, in]` to `[in, out]` when
/// `transpose` (and it is 2-D); `None` for a dtype other than `F32` and `F64`.
fn decode(
    path: &Path,
    name: &str,
    view: &TensorView<'_>,
    transpose: bool,
) -> Result<Option<Tensor>> {
    let bytes = view.data();
    let shape = view.shape().to_vec();
    let tensor = match view.dtype() {
        Dtype::F32 => Tensor::from_vec(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4")))
                .collect::<Vec<f32>>(),
            shape,
        ),
        Dtype::F64 => Tensor::from_vec(
            bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")))
                .collect::<Vec<f64>>(),
            shape,
        ),
        _ => return Ok(None),
    }
    .map_err(|e| NnError::CorruptCheckpoint {
        path: path.to_path_buf(),
        reason: format!("tensor `{name}`: {e}"),
    })?;
    Ok(Some(if transpose && tensor.rank() == 2 {
        transposed(&tensor)
    } else {
        tensor
    }))
}

/// The transpose of a matrix.
fn transposed(matrix: &Tensor) -> Tensor {
    let (rows, cols) = (matrix.dims()[0], matrix.dims()[1]);
    fn swap<T: Copy>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
        (0..cols)
            .flat_map(|c| (0..rows).map(move |r| data[r * cols + c]))
            .collect()
    }
    let result = match matrix.storage() {
        Storage::F32(data) => Tensor::from_vec(swap(data, rows, cols), [cols, rows]),
        Storage::F64(data) => Tensor::from_vec(swap(data, rows, cols), [cols, rows]),
    };
    result.expect("a transpose has as many elements as its matrix")
}

/// Reads the whole file.
fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| io_error(path, "reading", e))
}

/// Parses the safetensors header and checks its offsets against the data.
fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| corrupt(path, e))
}

/// Matches the file to `params`, returning each parameter's new value, or every problem.
fn check(
    path: &Path,
    graph: &Graph,
    params: &[(String, NodeId)],
    file: &SafeTensors<'_>,
    options: LoadOptions,
) -> Result<Vec<(NodeId, Tensor)>> {
    let mut problems = BTreeMap::<String, Vec<CheckpointProblem>>::new();
    let mut note = |problem: CheckpointProblem, name: &str| {
        problems.entry(name.to_string()).or_default().push(problem);
    };
    let mut wanted = BTreeMap::new();
    for (name, id) in params {
        // checked up front so that applying the values afterwards cannot fail
        let kind = graph.kind(*id)?;
        if !matches!(kind, NodeKind::Param { .. }) {
            return Err(adnet_graph::GraphError::WrongKind {
                node: *id,
                expected: "a parameter",
                actual: kind.describe(),
            }
            .into());
        }
        if wanted.insert(name.as_str(), *id).is_some() {
            note(
                CheckpointProblem::DuplicateName { name: name.clone() },
                name,
            );
        }
    }
    let mut values = Vec::with_capacity(wanted.len());
    for (&name, &id) in &wanted {
        let Ok(view) = file.tensor(name) else {
            note(
                CheckpointProblem::Missing {
                    name: name.to_string(),
                },
                name,
            );
            continue;
        };
        let spec = graph.spec(id)?;
        let transpose = options.transpose_linear_weights && name.ends_with(".weight");
        let Some(value) = decode(path, name, &view, transpose)? else {
            note(
                CheckpointProblem::DTypeMismatch {
                    name: name.to_string(),
                    expected: spec.dtype,
                    actual: view.dtype().to_string(),
                },
                name,
            );
            continue;
        };
        let mut ok = true;
        if value.dtype() != spec.dtype {
            ok = false;
            note(
                CheckpointProblem::DTypeMismatch {
                    name: name.to_string(),
                    expected: spec.dtype,
                    actual: view.dtype().to_string(),
                },
                name,
            );
        }
        if value.shape() != &spec.shape {
            ok = false;
            note(
                CheckpointProblem::ShapeMismatch {
                    name: name.to_string(),
                    expected: spec.shape.clone(),
                    actual: value.shape().clone(),
                },
                name,
            );
        }
        if ok {
            values.push((id, value));
        }
    }
    if options.strict {
        for name in file.names() {
            if !name.starts_with(OPTIMIZER_PREFIX) && !wanted.contains_key(name) {
                note(
                    CheckpointProblem::Unexpected {
                        name: name.to_string(),
                    },
                    name,
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(NnError::Checkpoint {
            path: path.to_path_buf(),
            problems: problems.into_values().flatten().collect(),
        })
    }
}

/// Writes checked values into the graph.
fn apply(graph: &Graph, values: Vec<(NodeId, Tensor)>) -> Result<()> {
    for (id, value) in values {
        graph.set_param(id, &value)?;
    }
    Ok(())
}

/// Writes `path` through a temporary file in the same directory, flushed to disk and renamed
/// over `path`, so that `path` holds either its old content or all of the new one. On error
/// the temporary file is removed.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Some(file_name) = path.file_name() else {
        return Err(io_error(
            path,
            "writing",
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        ));
    };
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        write(&mut file)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        // best effort: the temporary file may not even exist
        let _ = fs::remove_file(&temp);
        return Err(io_error(path, "writing", e));
    }
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io_error(path, "renaming", e));
    }
    // make the rename itself durable; some platforms cannot open a directory, which only
    // weakens durability, not atomicity
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// An I/O error on `path`.
fn io_error(path: &Path, action: &'static str, error: io::Error) -> NnError {
    NnError::Io {
        path: path.to_path_buf(),
        action,
        kind: error.kind(),
        message: error.to_string(),
    }
}

/// A file safetensors rejected.
fn corrupt(path: &Path, error: safetensors::SafeTensorError) -> NnError {
    NnError::CorruptCheckpoint {
        path: PathBuf::from(path),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("adnet-ckpt-unit-{}-{tag}", std::process::id()))
    }

    #[test]
    fn failed_write_keeps_old_file_and_leaves_no_temporary() {
        let dir = temp_path("atomic");
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("model.safetensors");
        fs::write(&path, b"old content").expect("write old");
        let result = write_atomic(&path, |file| {
            file.write_all(b"half of the new ")?;
            Err(io::Error::other("disk full (injected)"))
        });
        assert!(matches!(
            result,
            Err(NnError::Io {
                action: "writing",
                ..
            })
        ));
        assert_eq!(fs::read(&path).expect("read"), b"old content");
        let entries: Vec<_> = fs::read_dir(&dir).expect("list").collect();
        assert_eq!(entries.len(), 1, "temporary file left behind");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn successful_write_replaces_file() {
        let dir = temp_path("replace");
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("model.safetensors");
        fs::write(&path, b"old").expect("write old");
        write_atomic(&path, |file| file.write_all(b"new")).expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 1);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let m = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).expect("m");
        let t = transposed(&m);
        assert_eq!(t.dims(), &[3, 2]);
        assert_eq!(t.to_f64_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }
}
