//! Training-step benchmarks (`docs/benchmarks.md`, W3-W5), each beside its hand-written
//! baseline in the same group so the ratio is measured in one sitting:
//! - `w3/train_step/64`: 784 -> 128 (ReLU) -> 10, softmax cross-entropy on integer labels,
//!   Adam(1e-3), f32, batch 64, against the same step written with `matmul_t` (the `gemm`
//!   crate) and hand-written ReLU, softmax-cross-entropy and Adam loops;
//! - `w4/train_step/256`: 784 -> 1024 -> 1024 -> 10, same loss and optimizer, batch 256, with
//!   its throughput in FLOP/s (`6 · batch · Σ in·out` per step) and the same baseline;
//! - `w5/train_step/4`: XOR, 2-2-1 sigmoid MLP, MSE, SGD(0.5, momentum 0.9), f64, against
//!   forward, backward and update written out by hand;
//! - `optim/adam_w4`: Adam alone on W4's 1.86 M parameters, against a one-thread plain loop.
//!
//! W3 and W4 first print their plan's profile (`Plan::profile`: time per op and the slowest
//! nodes, medians of 20 runs) and the optimizer's time, so a change shows where it landed.
//!
//! One adnet step runs the loss-and-gradient plan (compiled once with `value_and_grad`), reads
//! the loss, and updates the parameters in place through `Graph::with_params_mut` with the
//! gradients borrowed from the plan's outputs.
//!
//! Run: `cargo bench -p adnet-nn --bench train` (about 3 minutes on 2 cores).

use std::hint::black_box;
use std::time::Duration;

use adnet_autodiff::{value_and_grad, ValueAndGrad};
use adnet_graph::{Graph, NodeId};
use adnet_nn::layers::{Activation, Mlp, Module};
use adnet_nn::loss::{cross_entropy, mse_loss, Reduction};
use adnet_nn::optim::{Adam, Optimizer, Sgd};
use adnet_tensor::kernels::matmul_t;
use adnet_tensor::rand::rngs::StdRng;
use adnet_tensor::rand::{Rng, SeedableRng};
use adnet_tensor::{DType, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A compiled training step: the graph, its value-and-gradient plan and the parameters.
struct Trainer<O> {
    g: Graph,
    step: ValueAndGrad,
    params: Vec<NodeId>,
    optimizer: O,
}

impl<O: Optimizer> Trainer<O> {
    /// One step: loss and gradients, then the optimizer's in-place update. Returns the loss
    /// before the update.
    fn step<const N: usize>(&mut self) -> f64 {
        self.step.run(&self.g).expect("runs");
        let loss = self.step.value().expect("scalar loss");
        let step = &self.step;
        let grads: [&Tensor; N] = std::array::from_fn(|k| step.grad(k));
        let optimizer = &mut self.optimizer;
        self.g
            .with_params_mut(&self.params, |p| {
                optimizer.step(p, &grads).map_err(|e| e.to_string())
            })
            .expect("parameters")
            .expect("optimizer step");
        loss
    }

    /// Prints where one step's time goes: the plan node by node (medians of 20 runs), then
    /// the optimizer.
    fn print_profile<const N: usize>(&mut self, label: &str) {
        let profile = self.step.plan().profile(&self.g, 20).expect("runs");
        let start = std::time::Instant::now();
        let step = &self.step;
        let grads: [&Tensor; N] = std::array::from_fn(|k| step.grad(k));
        let optimizer = &mut self.optimizer;
        self.g
            .with_params_mut(&self.params, |p| optimizer.step(p, &grads))
            .expect("parameters")
            .expect("optimizer step");
        println!(
            "{label}: plan {profile}{label}: optimizer step {:.3?}",
            start.elapsed()
        );
    }
}

/// The W3/W4 batch: inputs `N(0, 1)` and labels uniform in `0..10` (as floats), seeded.
fn mnist_like_batch(batch: usize, features: usize) -> (Tensor, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(1);
    let x = Tensor::normal([batch, features], 0.0, 1.0, DType::F32, &mut rng).expect("x");
    let labels = (0..batch).map(|_| rng.random_range(0..10)).collect();
    (x, labels)
}

/// The W3/W4 network and step: He-uniform weights, zero biases (seed 0), mean softmax
/// cross-entropy, Adam(1e-3).
fn mlp_trainer(sizes: &[usize], batch: usize) -> (Trainer<Adam>, HandMlp) {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let net = Mlp::new(sizes).build(&g, "mlp", &mut rng).expect("mlp");
    let x = g.input("x", [batch, sizes[0]], DType::F32).expect("x");
    let y = g.input("y", [batch], DType::F32).expect("y");
    let logits = net.forward(&g, x).expect("forward");
    let loss = cross_entropy(logits, y, 0.0, Reduction::Mean).expect("loss");
    let params: Vec<NodeId> = net.parameters().into_iter().map(|(_, id)| id).collect();
    let mut step = value_and_grad(&g, loss, &params).expect("gradient");
    let (xs, labels) = mnist_like_batch(batch, sizes[0]);
    let ys: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
    step.plan().set_input(x, &xs).expect("x");
    step.plan()
        .set_input(y, &Tensor::from_vec(ys, [batch]).expect("labels"))
        .expect("y");
    println!("mlp {sizes:?}, batch {batch}: {:?}", step.plan().stats());
    let hand = HandMlp::new(&g, &params, xs, labels);
    let trainer = Trainer {
        g,
        step,
        params,
        optimizer: Adam::new(1e-3).expect("adam"),
    };
    (trainer, hand)
}

/// FLOPs of one training step: `6 · batch · Σ in·out` (forward, and two products backward).
fn step_flops(sizes: &[usize], batch: usize) -> u64 {
    let macs: usize = sizes.windows(2).map(|w| w[0] * w[1]).sum();
    (6 * batch * macs) as u64
}

/// A ReLU MLP with softmax cross-entropy and Adam, written by hand: products through
/// `matmul_t` (the `gemm` crate), everything else plain loops over owned buffers.
struct HandMlp {
    x: Tensor,
    labels: Vec<usize>,
    /// Per layer: weight `[in, out]`, bias `[out]`.
    weights: Vec<Tensor>,
    biases: Vec<Vec<f32>>,
    /// Per layer: its output (pre-activation for the last, post-ReLU for the others).
    acts: Vec<Tensor>,
    /// Per layer: the gradient with respect to its output, then scratch for the next one down.
    deltas: Vec<Tensor>,
    weight_grads: Vec<Tensor>,
    bias_grads: Vec<Vec<f32>>,
    /// Adam moments, per parameter (weights then biases), flattened.
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
}

impl HandMlp {
    /// Copies the initial parameters of `g` (weight, bias per layer) so both start equal.
    fn new(g: &Graph, params: &[NodeId], x: Tensor, labels: Vec<usize>) -> HandMlp {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for pair in params.chunks(2) {
            weights.push(g.value(pair[0]).expect("weight"));
            let b = g.value(pair[1]).expect("bias");
            biases.push(b.as_slice::<f32>().expect("f32").to_vec());
        }
        let layers = weights.len();
        let sizes: Vec<usize> = weights.iter().map(Tensor::numel).collect();
        let bias_sizes: Vec<usize> = biases.iter().map(Vec::len).collect();
        let moments: Vec<Vec<f32>> = sizes
            .iter()
            .chain(&bias_sizes)
            .map(|&n| vec![0.0; n])
            .collect();
        HandMlp {
            x,
            labels,
            weight_grads: weights.clone(),
            bias_grads: biases.clone(),
            weights,
            biases,
            acts: (0..layers).map(|_| Tensor::default()).collect(),
            deltas: (0..layers).map(|_| Tensor::default()).collect(),
            m: moments.clone(),
            v: moments,
            t: 0,
        }
    }

    #[inline(never)]
    fn step(&mut self) -> f32 {
        let layers = self.weights.len();
        // forward
        for l in 0..layers {
            let (before, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { &self.x } else { &before[l - 1] };
            matmul_t(input, &self.weights[l], false, false, &mut rest[0]).expect("matmul");
            let out = rest[0].as_mut_slice::<f32>().expect("f32");
            let bias = &self.biases[l];
            for row in out.chunks_exact_mut(bias.len()) {
                for (o, &b) in row.iter_mut().zip(bias) {
                    *o += b;
                    if l + 1 < layers {
                        *o = o.max(0.0);
                    }
                }
            }
        }
        // softmax cross-entropy: loss and d(loss)/d(logits) = (softmax − onehot) / N
        let batch = self.labels.len();
        let logits = self.acts[layers - 1].as_slice::<f32>().expect("f32");
        let classes = logits.len() / batch;
        let delta = &mut self.deltas[layers - 1];
        delta.reset(self.acts[layers - 1].shape(), DType::F32);
        let d = delta.as_mut_slice::<f32>().expect("f32");
        let mut loss = 0.0f32;
        let inv_n = 1.0 / batch as f32;
        for ((row, drow), &label) in logits
            .chunks_exact(classes)
            .zip(d.chunks_exact_mut(classes))
            .zip(&self.labels)
        {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f32;
            for (dv, &z) in drow.iter_mut().zip(row) {
                *dv = (z - max).exp();
                sum += *dv;
            }
            loss += sum.ln() + max - row[label];
            for dv in drow.iter_mut() {
                *dv *= inv_n / sum;
            }
            drow[label] -= inv_n;
        }
        // backward
        for l in (0..layers).rev() {
            let input = if l == 0 { &self.x } else { &self.acts[l - 1] };
            let (lower, upper) = self.deltas.split_at_mut(l);
            let delta = &upper[0];
            matmul_t(input, delta, true, false, &mut self.weight_grads[l]).expect("matmul");
            let db = &mut self.bias_grads[l];
            db.fill(0.0);
            for row in delta.as_slice::<f32>().expect("f32").chunks_exact(db.len()) {
                for (g, &v) in db.iter_mut().zip(row) {
                    *g += v;
                }
            }
            if l > 0 {
                let below = &mut lower[l - 1];
                matmul_t(delta, &self.weights[l], false, true, below).expect("matmul");
                let h = self.acts[l - 1].as_slice::<f32>().expect("f32");
                for (g, &hv) in below.as_mut_slice::<f32>().expect("f32").iter_mut().zip(h) {
                    if hv <= 0.0 {
                        *g = 0.0;
                    }
                }
            }
        }
        // Adam, PyTorch's formula
        self.t += 1;
        let (beta1, beta2, lr, eps) = (0.9f64, 0.999f64, 1e-3f64, 1e-8f32);
        let step_size = (lr / (1.0 - beta1.powi(self.t))) as f32;
        let bc2_sqrt = ((1.0 - beta2.powi(self.t)).sqrt()) as f32;
        let (b1, b2) = (beta1 as f32, beta2 as f32);
        let params = self
            .weights
            .iter_mut()
            .map(|w| w.as_mut_slice::<f32>().expect("f32"))
            .chain(self.biases.iter_mut().map(Vec::as_mut_slice));
        let grads = self
            .weight_grads
            .iter()
            .map(|w| w.as_slice::<f32>().expect("f32"))
            .chain(self.bias_grads.iter().map(Vec::as_slice));
        for (((p, g), m), v) in params.zip(grads).zip(&mut self.m).zip(&mut self.v) {
            for i in 0..p.len() {
                let gi = g[i];
                m[i] = b1 * m[i] + (1.0 - b1) * gi;
                v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                p[i] -= step_size * (m[i] / (v[i].sqrt() / bc2_sqrt + eps));
            }
        }
        loss * inv_n
    }
}

fn w3(c: &mut Criterion) {
    let (sizes, batch) = ([784, 128, 10], 64);
    let (mut trainer, mut hand) = mlp_trainer(&sizes, batch);
    let (first, hand_first) = (trainer.step::<4>(), hand.step());
    println!("w3: first-step loss {first:.6} (adnet), {hand_first:.6} (hand-written)");
    trainer.print_profile::<4>("w3");
    let mut group = c.benchmark_group("w3/train_step");
    group.throughput(Throughput::Elements(step_flops(&sizes, batch)));
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(50);
    group.bench_function(BenchmarkId::new("plan", batch), |b| {
        b.iter(|| black_box(trainer.step::<4>()))
    });
    group.bench_function(BenchmarkId::new("handwritten", batch), |b| {
        b.iter(|| black_box(hand.step()))
    });
    group.finish();
}

fn w4(c: &mut Criterion) {
    let (sizes, batch) = ([784, 1024, 1024, 10], 256);
    let (mut trainer, mut hand) = mlp_trainer(&sizes, batch);
    let (first, hand_first) = (trainer.step::<6>(), hand.step());
    println!("w4: first-step loss {first:.6} (adnet), {hand_first:.6} (hand-written)");
    trainer.print_profile::<6>("w4");
    let mut group = c.benchmark_group("w4/train_step");
    group.throughput(Throughput::Elements(step_flops(&sizes, batch)));
    group.measurement_time(Duration::from_secs(5));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("plan", batch), |b| {
        b.iter(|| black_box(trainer.step::<6>()))
    });
    group.bench_function(BenchmarkId::new("handwritten", batch), |b| {
        b.iter(|| black_box(hand.step()))
    });
    group.finish();
}

/// The W5 initialisation (`bench-peers/w5.py`, PyTorch layout `[out, in]`).
const W1: [[f64; 2]; 2] = [[0.5, 0.4], [-0.3, 0.6]];
const B1: [f64; 2] = [0.1, -0.2];
const W2: [f64; 2] = [0.7, -0.5];
const B2: f64 = 0.05;
const XOR_X: [[f64; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
const XOR_T: [f64; 4] = [0.0, 1.0, 1.0, 0.0];

/// The W5 network in adnet: `Mlp([2, 2, 1])` with sigmoids, MSE, SGD(0.5, momentum 0.9).
fn xor_trainer() -> Trainer<Sgd> {
    let g = Graph::new();
    let mut rng = StdRng::seed_from_u64(0);
    let net = Mlp::new(&[2, 2, 1])
        .activation(Activation::Sigmoid)
        .output_activation(Activation::Sigmoid)
        .dtype(DType::F64)
        .build(&g, "xor", &mut rng)
        .expect("mlp");
    let params: Vec<NodeId> = net.parameters().into_iter().map(|(_, id)| id).collect();
    // adnet's weights are [in, out]: the transposes of PyTorch's
    let init = [
        Tensor::from_vec(vec![W1[0][0], W1[1][0], W1[0][1], W1[1][1]], [2, 2]),
        Tensor::from_vec(B1.to_vec(), [2]),
        Tensor::from_vec(W2.to_vec(), [2, 1]),
        Tensor::from_vec(vec![B2], [1]),
    ];
    for (&id, value) in params.iter().zip(init) {
        g.set_param(id, &value.expect("init")).expect("set");
    }
    let x = g.constant(Tensor::from_vec(XOR_X.concat(), [4, 2]).expect("x"));
    let t = g.constant(Tensor::from_vec(XOR_T.to_vec(), [4, 1]).expect("t"));
    let o = net.forward(&g, x).expect("forward");
    let loss = mse_loss(o, t, Reduction::Mean).expect("loss");
    let step = value_and_grad(&g, loss, &params).expect("gradient");
    let optimizer = Sgd::new(0.5).expect("sgd").momentum(0.9).expect("momentum");
    Trainer {
        g,
        step,
        params,
        optimizer,
    }
}

/// XOR 2-2-1 by hand: parameters `[w1 (2x2, [out][in]), b1, w2, b2]` flattened to 9 values.
#[derive(Clone)]
struct HandXor {
    p: [f64; 9],
    buf: [f64; 9],
}

impl HandXor {
    fn new() -> HandXor {
        HandXor {
            p: [
                W1[0][0], W1[0][1], W1[1][0], W1[1][1], B1[0], B1[1], W2[0], W2[1], B2,
            ],
            buf: [0.0; 9],
        }
    }

    /// One step (loss before the update), PyTorch's momentum: `b ← 0.9·b + g; θ ← θ − 0.5·b`.
    #[inline(never)]
    fn step(&mut self) -> f64 {
        let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
        let p = &self.p;
        let mut g = [0.0; 9];
        let mut loss = 0.0;
        for (x, &t) in XOR_X.iter().zip(&XOR_T) {
            let h0 = sigmoid(p[0] * x[0] + p[1] * x[1] + p[4]);
            let h1 = sigmoid(p[2] * x[0] + p[3] * x[1] + p[5]);
            let o = sigmoid(p[6] * h0 + p[7] * h1 + p[8]);
            loss += (o - t) * (o - t);
            let d_o = 2.0 * (o - t) / 4.0 * o * (1.0 - o);
            let d_h0 = d_o * p[6] * h0 * (1.0 - h0);
            let d_h1 = d_o * p[7] * h1 * (1.0 - h1);
            g[0] += d_h0 * x[0];
            g[1] += d_h0 * x[1];
            g[2] += d_h1 * x[0];
            g[3] += d_h1 * x[1];
            g[4] += d_h0;
            g[5] += d_h1;
            g[6] += d_o * h0;
            g[7] += d_o * h1;
            g[8] += d_o;
        }
        for ((p, b), g) in self.p.iter_mut().zip(&mut self.buf).zip(g) {
            *b = 0.9 * *b + g;
            *p -= 0.5 * *b;
        }
        loss / 4.0
    }
}

/// Steps until the loss (read before each update) is below 1e-3 (the numpy reference: 773).
fn steps_to_converge(mut step: impl FnMut() -> f64) -> usize {
    (0..100_000).find(|_| step() < 1e-3).unwrap_or(100_000)
}

fn w5(c: &mut Criterion) {
    let mut fresh = xor_trainer();
    let mut fresh_hand = HandXor::new();
    println!(
        "w5: steps to loss < 1e-3: {} (adnet), {} (hand-written), numpy reference 773",
        steps_to_converge(|| fresh.step::<4>()),
        steps_to_converge(|| fresh_hand.step())
    );
    let mut group = c.benchmark_group("w5/train_step");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    let mut trainer = xor_trainer();
    group.bench_function(BenchmarkId::new("plan", 4), |b| {
        b.iter(|| black_box(trainer.step::<4>()))
    });
    let mut hand = HandXor::new();
    group.bench_function(BenchmarkId::new("handwritten", 4), |b| {
        b.iter(|| black_box(hand.step()))
    });
    group.finish();
}

/// Adam alone on W4's parameters (1.86 M `f32`), beside the same update in a plain loop on one
/// thread: the update is memory-bound (28 bytes per element), and runs in pieces on all cores.
fn optimizer(c: &mut Criterion) {
    let sizes = [784 * 1024, 1024, 1024 * 1024, 1024, 1024 * 10, 10];
    let mut rng = StdRng::seed_from_u64(3);
    let mut uniform =
        |n: usize| Tensor::uniform([n], -1.0, 1.0, DType::F32, &mut rng).expect("bounds");
    let mut params: Vec<Tensor> = sizes.iter().map(|&n| uniform(n)).collect();
    let grads: Vec<Tensor> = sizes.iter().map(|&n| uniform(n)).collect();
    let grad_refs: Vec<&Tensor> = grads.iter().collect();
    let mut adam = Adam::new(1e-3).expect("adam");
    let mut group = c.benchmark_group("optim/adam_w4");
    group.throughput(Throughput::Elements(sizes.iter().sum::<usize>() as u64));
    group.bench_function("adnet", |b| {
        b.iter(|| {
            let mut refs: Vec<&mut Tensor> = params.iter_mut().collect();
            adam.step(&mut refs, &grad_refs).expect("step");
        })
    });
    let mut flat: Vec<Vec<f32>> = params
        .iter()
        .map(|p| p.as_slice::<f32>().expect("f32").to_vec())
        .collect();
    let flat_grads: Vec<&[f32]> = grads
        .iter()
        .map(|g| g.as_slice::<f32>().expect("f32"))
        .collect();
    let mut m: Vec<Vec<f32>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
    let mut v = m.clone();
    let mut t = 0;
    group.bench_function("one_thread_loop", |b| {
        b.iter(|| {
            t += 1;
            let (b1, b2, lr, eps) = (0.9f32, 0.999f32, 1e-3f32, 1e-8f32);
            let step_size = lr / (1.0 - b1.powi(t));
            let bc2_sqrt = (1.0 - b2.powi(t)).sqrt();
            for (((p, g), m), v) in flat.iter_mut().zip(&flat_grads).zip(&mut m).zip(&mut v) {
                for (((p, &g), m), v) in p.iter_mut().zip(*g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *p -= step_size * (*m / (v.sqrt() / bc2_sqrt + eps));
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, w3, w4, w5, optimizer);
criterion_main!(benches);
