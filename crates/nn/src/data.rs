//! Data sets and mini-batches: [`DataSet`] (features and targets as tensors, read from numeric
//! CSV files), seeded splits, standardization, and [`Batches`], which walks a data set in
//! batches of any size, reshuffled every epoch from a seed, copying each batch into buffers it
//! reuses.
//!
//! # Examples
//! ```
//! use adnet_nn::data::{BatchOptions, Batches, DataSet};
//! use adnet_tensor::Tensor;
//! let features = Tensor::from_vec((0..10).map(f64::from).collect::<Vec<_>>(), [5, 2])?;
//! let labels = Tensor::from_vec(vec![0.0f64, 1.0, 0.0, 1.0, 1.0], [5])?;
//! let data = DataSet::from_tensors(features, labels)?;
//! let mut batches = Batches::new(&data, BatchOptions { batch_size: 2, ..BatchOptions::default() })?;
//! let mut seen = 0;
//! while let Some((x, y)) = batches.next_batch() {
//!     assert_eq!(x.dims()[1], 2);
//!     seen += y.dims()[0];
//! }
//! assert_eq!(seen, 5); // batches of 2, 2 and 1
//! # Ok::<(), adnet_nn::NnError>(())
//! ```

use std::path::{Path, PathBuf};

use adnet_tensor::{dispatch, DType, Element, Shape, Tensor};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;

use crate::{NnError, Result};

/// Features `[n, d]` and targets `[n, k]` (regression, one-hot) or `[n]` (class indices stored
/// as floats), in one dtype.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSet {
    features: Tensor,
    targets: Tensor,
}

/// Which CSV columns hold the targets (the other columns are the features, in file order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetColumns {
    /// One column of class indices (from 0), read into targets `[n]`.
    Label(usize),
    /// The last column holds class indices, read into targets `[n]`.
    LastLabel,
    /// These columns (from 0, in this order) are the targets `[n, k]`.
    Columns(Vec<usize>),
}

/// How [`DataSet::from_csv`] reads a file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// The target columns (default: the last column, as class labels).
    pub targets: TargetColumns,
    /// Whether the first line is a header to skip (default `false`).
    pub has_header: bool,
    /// The dtype of the tensors (default `f32`).
    pub dtype: DType,
    /// The field separator (default `,`).
    pub delimiter: char,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            targets: TargetColumns::LastLabel,
            has_header: false,
            dtype: DType::F32,
            delimiter: ',',
        }
    }
}

/// The per-feature mean and standard deviation [`DataSet::standardize`] used, to apply the
/// same transformation to another set (a validation or test set) with [`Standardization::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct Standardization {
    /// The mean of each feature.
    pub mean: Vec<f64>,
    /// The (population) standard deviation of each feature; a constant feature gets 1, so it
    /// maps to 0 instead of NaN.
    pub std: Vec<f64>,
}

impl Standardization {
    /// Replaces every feature `x` of `data` by `(x − mean) / std`.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`standardization`) when the number of features differs.
    pub fn apply(&self, data: &mut DataSet) -> Result<()> {
        let d = data.num_features();
        if self.mean.len() != d || self.std.len() != d {
            return Err(NnError::InvalidSetting {
                what: "standardization",
                reason: format!(
                    "computed for {} features, the data set has {d}",
                    self.mean.len()
                ),
            });
        }
        let dtype = data.features.dtype();
        dispatch!(dtype, T => {
            let values = data.features.as_mut_slice::<T>().expect("dispatched on its dtype");
            for row in values.chunks_mut(d.max(1)) {
                for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                    *x = T::from_f64((Element::to_f64(*x) - m) / s);
                }
            }
        });
        Ok(())
    }
}

fn invalid(what: &'static str, reason: String) -> NnError {
    NnError::InvalidSetting { what, reason }
}

impl DataSet {
    /// A data set from features `[n, d]` and targets `[n]` or `[n, k]` of the same dtype.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`features` or `targets`) for other ranks, a different number
    /// of rows, or different dtypes.
    pub fn from_tensors(features: Tensor, targets: Tensor) -> Result<DataSet> {
        if features.rank() != 2 {
            return Err(invalid(
                "features",
                format!("must be [n, d], got {}", features.shape()),
            ));
        }
        if targets.rank() != 1 && targets.rank() != 2 {
            return Err(invalid(
                "targets",
                format!("must be [n] or [n, k], got {}", targets.shape()),
            ));
        }
        if targets.dims()[0] != features.dims()[0] {
            return Err(invalid(
                "targets",
                format!(
                    "{} has {} rows but the features {} have {}",
                    targets.shape(),
                    targets.dims()[0],
                    features.shape(),
                    features.dims()[0]
                ),
            ));
        }
        if targets.dtype() != features.dtype() {
            return Err(invalid(
                "targets",
                format!(
                    "dtype {:?} differs from the features' {:?}",
                    targets.dtype(),
                    features.dtype()
                ),
            ));
        }
        Ok(DataSet { features, targets })
    }

    /// Reads a numeric CSV file (no quoting; blank lines are skipped; fields are trimmed).
    ///
    /// # Errors
    /// [`NnError::Io`] when the file cannot be read, and [`NnError::Csv`] with the line and
    /// column of a field that is not a number, a row with a different number of fields than
    /// the first, a target column past the end of the row, or a file with no data rows.
    pub fn from_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<DataSet> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| NnError::Io {
            path: path.to_path_buf(),
            action: "reading",
            kind: e.kind(),
            message: e.to_string(),
        })?;
        parse_csv(&text, path, options)
    }

    /// Parses CSV text as [`DataSet::from_csv`] reads a file (errors name the path `<text>`).
    ///
    /// # Errors
    /// As [`DataSet::from_csv`].
    pub fn parse_csv(text: &str, options: &CsvOptions) -> Result<DataSet> {
        parse_csv(text, Path::new("<text>"), options)
    }

    /// The features `[n, d]`.
    pub fn features(&self) -> &Tensor {
        &self.features
    }

    /// The targets `[n]` or `[n, k]`.
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.features.dims()[0]
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of features per sample.
    pub fn num_features(&self) -> usize {
        self.features.dims()[1]
    }

    /// The dtype of features and targets.
    pub fn dtype(&self) -> DType {
        self.features.dtype()
    }

    /// For class-index targets `[n]`: one more than the largest label (`None` for `[n, k]`
    /// targets or an empty set).
    pub fn num_classes(&self) -> Option<usize> {
        if self.targets.rank() != 1 || self.is_empty() {
            return None;
        }
        let max = self
            .targets
            .to_f64_vec()
            .into_iter()
            .fold(f64::NEG_INFINITY, f64::max);
        (max >= 0.0).then(|| max.round() as usize + 1)
    }

    /// The samples at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`indices`) for an index out of range.
    pub fn select(&self, indices: &[usize]) -> Result<DataSet> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(invalid(
                "indices",
                format!("index {bad} out of range for {} samples", self.len()),
            ));
        }
        let mut features = Tensor::default();
        let mut targets = Tensor::default();
        gather_rows(&self.features, indices, &mut features);
        gather_rows(&self.targets, indices, &mut targets);
        Ok(DataSet { features, targets })
    }

    /// A random permutation of `0..len()` drawn from `seed`.
    pub fn shuffled_indices(&self, seed: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        order
    }

    /// Splits the samples at random (from `seed`) into a first set holding
    /// `round(fraction · n)` of them and a second holding the rest (`fraction = 0.8` gives a
    /// training and a held-out set).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`fraction`) unless `0 <= fraction <= 1`.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(DataSet, DataSet)> {
        check_fraction(fraction)?;
        let order = self.shuffled_indices(seed);
        let cut = (fraction * self.len() as f64).round() as usize;
        Ok((self.select(&order[..cut])?, self.select(&order[cut..])?))
    }

    /// Splits as [`DataSet::split`] but class by class, so both sets keep the class
    /// proportions: each class contributes `round(fraction · its count)` samples to the first
    /// set. Each set's samples are shuffled (from `seed`).
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`fraction`) as for `split`, and (`targets`) unless the
    /// targets are class indices `[n]` (non-negative whole numbers).
    pub fn stratified_split(&self, fraction: f64, seed: u64) -> Result<(DataSet, DataSet)> {
        check_fraction(fraction)?;
        if self.targets.rank() != 1 {
            return Err(invalid(
                "targets",
                format!(
                    "a stratified split needs class-index targets [n], got {}",
                    self.targets.shape()
                ),
            ));
        }
        let labels = self.targets.to_f64_vec();
        if let Some(bad) = labels.iter().find(|l| !(**l >= 0.0 && l.fract() == 0.0)) {
            return Err(invalid(
                "targets",
                format!("class labels must be non-negative whole numbers, got {bad}"),
            ));
        }
        let classes = labels.iter().fold(0.0f64, |m, &l| m.max(l)) as usize + 1;
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut first, mut second) = (Vec::new(), Vec::new());
        for class in 0..classes {
            let mut members: Vec<usize> = (0..labels.len())
                .filter(|&i| labels[i] as usize == class)
                .collect();
            members.shuffle(&mut rng);
            let cut = (fraction * members.len() as f64).round() as usize;
            first.extend_from_slice(&members[..cut]);
            second.extend_from_slice(&members[cut..]);
        }
        first.shuffle(&mut rng);
        second.shuffle(&mut rng);
        Ok((self.select(&first)?, self.select(&second)?))
    }

    /// Standardizes every feature to mean 0 and standard deviation 1 (population statistics)
    /// in place, and returns the statistics used, to apply to another set.
    pub fn standardize(&mut self) -> Standardization {
        let (n, d) = (self.len(), self.num_features());
        let values = self.features.to_f64_vec();
        let mut mean = vec![0.0; d];
        let mut std = vec![0.0; d];
        for row in values.chunks(d.max(1)) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        let count = n.max(1) as f64;
        mean.iter_mut().for_each(|m| *m /= count);
        for row in values.chunks(d.max(1)) {
            for ((s, x), m) in std.iter_mut().zip(row).zip(&mean) {
                *s += (x - m) * (x - m);
            }
        }
        for s in &mut std {
            *s = (*s / count).sqrt();
            if *s == 0.0 || !s.is_finite() {
                *s = 1.0;
            }
        }
        let statistics = Standardization { mean, std };
        statistics
            .apply(self)
            .expect("statistics computed from this data set");
        statistics
    }

    /// Batches over this data set (see [`Batches::new`]).
    ///
    /// # Errors
    /// As [`Batches::new`].
    pub fn batches(&self, options: BatchOptions) -> Result<Batches<'_>> {
        Batches::new(self, options)
    }
}

fn check_fraction(fraction: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(invalid(
            "fraction",
            format!("must be in [0, 1], got {fraction}"),
        ));
    }
    Ok(())
}

/// Copies rows `indices` of `source` (rank 1 or 2) into `out`, reusing its allocation.
fn gather_rows(source: &Tensor, indices: &[usize], out: &mut Tensor) {
    let width: usize = source.dims()[1..].iter().product();
    let mut dims: Vec<usize> = source.dims().to_vec();
    dims[0] = indices.len();
    out.reset(&Shape::new(&dims), source.dtype());
    dispatch!(source.dtype(), T => {
        let from = source.as_slice::<T>().expect("dispatched on its dtype");
        let to = out.as_mut_slice::<T>().expect("reset to the source's dtype");
        for (k, &i) in indices.iter().enumerate() {
            to[k * width..(k + 1) * width].copy_from_slice(&from[i * width..(i + 1) * width]);
        }
    });
}

fn parse_csv(text: &str, path: &Path, options: &CsvOptions) -> Result<DataSet> {
    let error = |line: usize, column: usize, reason: String| NnError::Csv {
        path: PathBuf::from(path),
        line,
        column,
        reason,
    };
    let mut values: Vec<f64> = Vec::new();
    let mut width = None;
    let mut first_line = 0;
    let mut rows = 0;
    for (number, line) in text.lines().enumerate() {
        let line_no = number + 1;
        if (number == 0 && options.has_header) || line.trim().is_empty() {
            continue;
        }
        let mut count = 0;
        for (k, field) in line.split(options.delimiter).enumerate() {
            let field = field.trim();
            let value: f64 = field
                .parse()
                .map_err(|_| error(line_no, k + 1, format!("`{field}` is not a number")))?;
            values.push(value);
            count += 1;
        }
        match width {
            None => {
                width = Some(count);
                first_line = line_no;
            }
            Some(w) if w != count => {
                return Err(error(
                    line_no,
                    count.min(w) + 1,
                    format!("{count} fields, but line {first_line} has {w}"),
                ))
            }
            Some(_) => {}
        }
        rows += 1;
    }
    let Some(width) = width else {
        return Err(error(1, 1, "no data rows".to_string()));
    };
    let target_columns = match &options.targets {
        TargetColumns::Label(c) => vec![*c],
        TargetColumns::LastLabel => vec![width - 1],
        TargetColumns::Columns(cs) => cs.clone(),
    };
    if let Some(&bad) = target_columns.iter().find(|&&c| c >= width) {
        return Err(error(
            first_line,
            width,
            format!("target column {bad} (from 0) past the end of a {width}-field row"),
        ));
    }
    let feature_columns: Vec<usize> = (0..width).filter(|c| !target_columns.contains(c)).collect();
    let mut features = Vec::with_capacity(rows * feature_columns.len());
    let mut targets = Vec::with_capacity(rows * target_columns.len());
    for row in values.chunks(width) {
        features.extend(feature_columns.iter().map(|&c| row[c]));
        targets.extend(target_columns.iter().map(|&c| row[c]));
    }
    let features = Tensor::from_f64s(&features, [rows, feature_columns.len()], options.dtype)?;
    let targets = match options.targets {
        TargetColumns::Columns(_) => {
            Tensor::from_f64s(&targets, [rows, target_columns.len()], options.dtype)?
        }
        _ => Tensor::from_f64s(&targets, [rows], options.dtype)?,
    };
    DataSet::from_tensors(features, targets)
}

/// How [`Batches`] walks a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Samples per batch, at least 1 (default 32); larger than the data set means one batch.
    pub batch_size: usize,
    /// Whether to reshuffle every epoch (default `true`); otherwise samples come in order.
    pub shuffle: bool,
    /// The seed of the shuffles: epoch `e`'s order depends only on `(seed, e)` (default 0).
    pub seed: u64,
    /// Whether to skip a last batch smaller than `batch_size` (default `false`).
    pub drop_last: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            batch_size: 32,
            shuffle: true,
            seed: 0,
            drop_last: false,
        }
    }
}

/// Walks a [`DataSet`] in batches, epoch after epoch.
///
/// [`Batches::next_batch`] copies the next batch's rows into two buffers it owns and lends
/// them out; the buffers are reused, so after the first epoch no batch allocates. The
/// [`Iterator`] implementation yields owned copies instead (one allocation per batch) and
/// covers the current epoch. Call [`Batches::start_epoch`] to begin another epoch (with a new
/// shuffle); a fresh `Batches` is at the start of epoch 0.
#[derive(Debug)]
pub struct Batches<'d> {
    data: &'d DataSet,
    options: BatchOptions,
    order: Vec<usize>,
    position: usize,
    epoch: usize,
    features: Tensor,
    targets: Tensor,
}

impl<'d> Batches<'d> {
    /// Batches over `data`, positioned at the start of epoch 0.
    ///
    /// # Errors
    /// [`NnError::InvalidSetting`] (`batch_size`) when the batch size is 0.
    pub fn new(data: &'d DataSet, options: BatchOptions) -> Result<Batches<'d>> {
        if options.batch_size == 0 {
            return Err(invalid(
                "batch_size",
                "must be at least 1, got 0".to_string(),
            ));
        }
        let mut batches = Batches {
            data,
            options,
            order: (0..data.len()).collect(),
            position: 0,
            epoch: 0,
            features: Tensor::default(),
            targets: Tensor::default(),
        };
        batches.start_epoch(0);
        Ok(batches)
    }

    /// Rewinds to the start of epoch `epoch`, with that epoch's order.
    pub fn start_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
        self.position = 0;
        for (k, i) in self.order.iter_mut().enumerate() {
            *i = k;
        }
        if self.options.shuffle {
            // a distinct, reproducible stream per (seed, epoch)
            let seed = self
                .options
                .seed
                .wrapping_add((epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            self.order.shuffle(&mut StdRng::seed_from_u64(seed));
        }
    }

    /// The current epoch.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// This epoch's sample order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The number of batches in an epoch.
    pub fn batches_per_epoch(&self) -> usize {
        let (n, b) = (self.data.len(), self.options.batch_size);
        if self.options.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// The next batch of this epoch, `(features, targets)`, or `None` at the epoch's end.
    pub fn next_batch(&mut self) -> Option<(&Tensor, &Tensor)> {
        let remaining = self.order.len() - self.position;
        let size = remaining.min(self.options.batch_size);
        if size == 0 || (self.options.drop_last && size < self.options.batch_size) {
            return None;
        }
        if !self.options.shuffle && size == self.data.len() {
            // the whole set in order (full-batch training): lend it, no copy
            self.position += size;
            return Some((&self.data.features, &self.data.targets));
        }
        let indices = &self.order[self.position..self.position + size];
        gather_rows(&self.data.features, indices, &mut self.features);
        gather_rows(&self.data.targets, indices, &mut self.targets);
        self.position += size;
        Some((&self.features, &self.targets))
    }
}

impl Iterator for Batches<'_> {
    type Item = (Tensor, Tensor);

    fn next(&mut self) -> Option<(Tensor, Tensor)> {
        self.next_batch().map(|(x, y)| (x.clone(), y.clone()))
    }
}

/// Two intertwined spirals in the plane, the classic hard case for a classifier:
/// `per_class` points per class as `(x, y, class)`, class 0 first. Point `i` of class `c` sits at
/// angle `t + πc` and radius `t / (3π + 0.3)`, `t = 0.3 + 3π·i/per_class` (one and a half turns
/// inside the unit disc), each coordinate moved by a uniform draw from `(−noise, noise)`.
///
/// # Errors
/// [`NnError::InvalidSetting`] (`noise`) for a negative or non-finite `noise`.
///
/// # Examples
/// ```
/// use adnet_nn::data::two_spirals;
/// use adnet_tensor::rand::{rngs::StdRng, SeedableRng};
/// let points = two_spirals(100, 0.02, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(points.len(), 200);
/// assert!(points.iter().all(|&(x, y, _)| x.hypot(y) < 1.1));
/// # Ok::<(), adnet_nn::NnError>(())
/// ```
pub fn two_spirals(
    per_class: usize,
    noise: f64,
    rng: &mut impl Rng,
) -> Result<Vec<(f64, f64, usize)>> {
    if !noise.is_finite() || noise < 0.0 {
        return Err(invalid(
            "noise",
            format!("must be finite and non-negative, got {noise}"),
        ));
    }
    let jitter = |rng: &mut _| {
        if noise > 0.0 {
            Rng::random_range(rng, -noise..noise)
        } else {
            0.0
        }
    };
    let pi = std::f64::consts::PI;
    let mut points = Vec::with_capacity(2 * per_class);
    for class in 0..2 {
        for i in 0..per_class {
            let t = 0.3 + 3.0 * pi * i as f64 / per_class as f64;
            let radius = t / (3.0 * pi + 0.3);
            let angle = t + pi * class as f64;
            let x = radius * angle.cos() + jitter(rng);
            let y = radius * angle.sin() + jitter(rng);
            points.push((x, y, class));
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> DataSet {
        let features: Vec<f64> = (0..n * 2).map(|v| v as f64).collect();
        let labels: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
        DataSet::from_tensors(
            Tensor::from_vec(features, [n, 2]).expect("sizes match"),
            Tensor::from_vec(labels, [n]).expect("sizes match"),
        )
        .expect("valid")
    }

    #[test]
    fn batches_cover_every_sample_once_per_epoch_in_the_seeded_order() -> Result<()> {
        let data = toy(23);
        for batch_size in [1, 5, 23, 100] {
            let options = BatchOptions {
                batch_size,
                seed: 7,
                ..BatchOptions::default()
            };
            let mut batches = Batches::new(&data, options)?;
            let mut orders = Vec::new();
            for epoch in 0..3 {
                batches.start_epoch(epoch);
                let expected = batches.order().to_vec();
                let mut seen = Vec::new();
                let mut count = 0;
                while let Some((x, y)) = batches.next_batch() {
                    assert_eq!(x.dims()[0], y.dims()[0]);
                    assert!(x.dims()[0] <= batch_size);
                    // the first feature of sample i is 2i
                    seen.extend(x.to_f64_vec().chunks(2).map(|r| r[0] as usize / 2));
                    count += 1;
                }
                assert_eq!(count, batches.batches_per_epoch());
                assert_eq!(seen, expected);
                let mut sorted = seen.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..23).collect::<Vec<_>>());
                orders.push(seen);
            }
            assert_ne!(orders[0], orders[1], "each epoch reshuffles");
            // same seed, same orders
            let mut again = Batches::new(&data, options)?;
            again.start_epoch(1);
            assert_eq!(again.order(), &orders[1][..]);
        }
        Ok(())
    }

    #[test]
    fn drop_last_skips_the_short_batch() -> Result<()> {
        let data = toy(10);
        let options = BatchOptions {
            batch_size: 4,
            drop_last: true,
            shuffle: false,
            seed: 0,
        };
        let sizes: Vec<usize> = Batches::new(&data, options)?
            .map(|(x, _)| x.dims()[0])
            .collect();
        assert_eq!(sizes, [4, 4]);
        assert!(Batches::new(
            &data,
            BatchOptions {
                batch_size: 0,
                ..options
            }
        )
        .is_err());
        Ok(())
    }

    #[test]
    fn csv_reports_line_and_column() {
        let options = CsvOptions::default();
        let err = DataSet::parse_csv("1,2,0\n3,x,1\n", &options).unwrap_err();
        assert!(
            matches!(
                err,
                NnError::Csv {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.to_string(), "<text>:2:2: `x` is not a number");
        let err = DataSet::parse_csv("1,2,0\n\n3,1\n", &options).unwrap_err();
        assert!(matches!(err, NnError::Csv { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("2 fields, but line 1 has 3"));
    }

    #[test]
    fn csv_reads_labels_and_target_columns() -> Result<()> {
        let text = "h,e,a,d\n1,2,3,0\n4,5,6,2\n";
        let options = CsvOptions {
            has_header: true,
            dtype: DType::F64,
            ..CsvOptions::default()
        };
        let data = DataSet::parse_csv(text, &options)?;
        assert_eq!(data.features().to_f64_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(data.targets().dims(), &[2]);
        assert_eq!(data.num_classes(), Some(3));
        let options = CsvOptions {
            targets: TargetColumns::Columns(vec![0, 2]),
            ..options
        };
        let data = DataSet::parse_csv(text, &options)?;
        assert_eq!(data.targets().to_f64_vec(), [1.0, 3.0, 4.0, 6.0]);
        assert_eq!(data.features().to_f64_vec(), [2.0, 0.0, 5.0, 2.0]);
        Ok(())
    }

    #[test]
    fn stratified_split_keeps_class_proportions() -> Result<()> {
        let data = toy(30); // 10 of each class
        let (train, test) = data.stratified_split(0.8, 3)?;
        assert_eq!((train.len(), test.len()), (24, 6));
        let count =
            |d: &DataSet, c: f64| d.targets().to_f64_vec().iter().filter(|&&l| l == c).count();
        for c in [0.0, 1.0, 2.0] {
            assert_eq!((count(&train, c), count(&test, c)), (8, 2));
        }
        let (a, b) = data.split(0.5, 1)?;
        assert_eq!((a.len(), b.len()), (15, 15));
        Ok(())
    }

    #[test]
    fn standardize_gives_zero_mean_unit_std_and_applies_elsewhere() -> Result<()> {
        let mut data = toy(6);
        let mut other = data.clone();
        let statistics = data.standardize();
        let values = data.features().to_f64_vec();
        let mean0: f64 = values.iter().step_by(2).sum::<f64>() / 6.0;
        let var0: f64 = values.iter().step_by(2).map(|x| x * x).sum::<f64>() / 6.0;
        assert!(mean0.abs() < 1e-12 && (var0 - 1.0).abs() < 1e-12);
        statistics.apply(&mut other)?;
        assert_eq!(other, data);
        Ok(())
    }
}
