//! A plan run after the first allocates nothing: counted with a global allocator that tallies
//! every allocation made on this test's thread.
//!
//! The one allocation adnet does not control is inside the `gemm` crate, which allocates its
//! packing scratch (a small vector and, for larger products, a packing buffer) on every call.
//! Plans with matrix products are therefore held to exactly the allocations that the same
//! `gemm` calls make on their own, measured beside them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use adnet_graph::random::{random_dag, RandomDagConfig};
use adnet_graph::{Graph, Plan, Result};
use adnet_tensor::rand::{rngs::StdRng, SeedableRng};
use adnet_tensor::{DType, Tensor};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the thread-local counter
// is a const-initialised Cell, which never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Runs the plan once (warm-up), then counts the allocations of five more runs with changed
/// inputs and parameters.
fn steady_state_allocations(
    g: &Graph,
    plan: &mut Plan,
    change: impl Fn(&mut Plan, usize),
) -> usize {
    plan.run(g).expect("first run");
    allocations_during(|| {
        for step in 0..5 {
            change(plan, step);
            plan.run(g).expect("steady-state run");
        }
    })
}

#[test]
fn scalar_plan_allocates_nothing_after_the_first_run() -> Result<()> {
    let g = Graph::new();
    let (x, y) = (g.scalar_input("x")?, g.scalar_input("y")?);
    let alpha = g.scalar_param("alpha", 0.8)?;
    let p = alpha * x + y.exp();
    let q = (1.2 * x + y).ln();
    let o = (p + q) / 2.0 * (p * q).ln();
    let mut plan = g.compile([o])?;
    plan.set_scalar(y, 0.5)?;
    plan.set_scalar(x, 1.0)?;
    let count = steady_state_allocations(&g, &mut plan, |plan, step| {
        plan.set_scalar(x, 1.0 + step as f64)
            .expect("x is an input");
    });
    assert_eq!(count, 0);
    Ok(())
}

#[test]
fn expanded_small_tensor_plan_allocates_nothing_after_the_first_run() -> Result<()> {
    // small f64 tensors: the plan runs expanded on the scalar tape, with anomaly detection
    // off and on
    let g = Graph::new();
    let x = g.input("x", [4, 2], DType::F64)?;
    let w1 = g.param("w1", Tensor::full([2, 2], 0.3, DType::F64))?;
    let b1 = g.param("b1", Tensor::zeros([2], DType::F64))?;
    let w2 = g.param("w2", Tensor::full([2, 1], -0.2, DType::F64))?;
    let h = (x.matmul(w1) + b1).sigmoid();
    let loss = h.matmul(w2).sigmoid().square().mean_all();
    let w1_like = g.matmul_t(x, h, true, false)?;
    let mut plan = g.compile([loss, w1_like, g.sum_to(h, [2])?])?;
    assert!(plan.stats().expanded, "{:?}", plan.stats());
    let batches: Vec<Tensor> = (0..5)
        .map(|step| Tensor::full([4, 2], step as f64 * 0.1, DType::F64))
        .collect();
    let new_w = Tensor::full([2, 2], -0.4, DType::F64);
    plan.set_input(x, &batches[0])?;
    for anomalies in [false, true] {
        plan.detect_anomalies(anomalies);
        let count = steady_state_allocations(&g, &mut plan, |plan, step| {
            plan.set_input(x, &batches[step]).expect("x is an input");
            g.set_param(w1, &new_w).expect("w1 is a parameter");
        });
        assert_eq!(count, 0);
    }
    assert!(plan.scalar(loss)?.is_finite());
    Ok(())
}

/// The allocations one direct `matmul` kernel call makes in steady state (gemm's scratch).
fn gemm_allocations(lhs: [usize; 2], rhs: [usize; 2]) -> usize {
    let a = Tensor::ones(lhs, DType::F32);
    let b = Tensor::ones(rhs, DType::F32);
    let mut out = Tensor::default();
    adnet_tensor::kernels::matmul(&a, &b, &mut out).expect("shapes fit");
    allocations_during(|| adnet_tensor::kernels::matmul(&a, &b, &mut out).expect("shapes fit"))
}

#[test]
fn elementwise_tensor_plan_allocates_nothing_after_the_first_run() -> Result<()> {
    let g = Graph::new();
    let x = g.input("x", [16, 8], DType::F64)?;
    let b = g.param("b", Tensor::full([8], 0.5, DType::F64))?;
    let h = ((x + b).tanh() * 2.0).relu().log_softmax(-1);
    let loss = h.mean_all() + g.sum_to(h.softmax(0), [8])?.sum_all();
    let mut plan = g.compile([loss, h])?;
    let values: Vec<Tensor> = (0..5)
        .map(|step| Tensor::full([16, 8], step as f64, DType::F64))
        .collect();
    plan.set_input(x, &values[0])?;
    let count = steady_state_allocations(&g, &mut plan, |plan, step| {
        plan.set_input(x, &values[step]).expect("x is an input");
    });
    assert_eq!(count, 0);
    Ok(())
}

#[test]
fn tensor_plan_allocates_nothing_after_the_first_run() -> Result<()> {
    let mut rng = StdRng::seed_from_u64(1);
    let g = Graph::new();
    let x = g.input("x", [16, 8], DType::F32)?;
    let w1 = g.param(
        "w1",
        Tensor::normal([8, 32], 0.0, 0.3, DType::F32, &mut rng)?,
    )?;
    let b1 = g.param("b1", Tensor::zeros([32], DType::F32))?;
    let w2 = g.param(
        "w2",
        Tensor::normal([32, 4], 0.0, 0.3, DType::F32, &mut rng)?,
    )?;
    let hidden = (x.matmul(w1) + b1).relu();
    let logits = hidden.matmul(w2);
    let loss = (logits.log_softmax(-1) * -1.0).mean_all();
    let rows = g.sum_to(logits.softmax(-1), [4])?;
    let mut plan = g.compile([loss, rows])?;
    let batches: Vec<Tensor> = (0..5)
        .map(|_| Tensor::normal([16, 8], 0.0, 1.0, DType::F32, &mut rng))
        .collect::<adnet_tensor::Result<_>>()?;
    let new_w = Tensor::full([8, 32], 0.01, DType::F32);
    plan.set_input(x, &batches[0])?;
    let count = steady_state_allocations(&g, &mut plan, |plan, step| {
        plan.set_input(x, &batches[step]).expect("x is an input");
        g.set_param(w1, &new_w).expect("w1 is a parameter");
    });
    let per_run = gemm_allocations([16, 8], [8, 32]) + gemm_allocations([16, 32], [32, 4]);
    assert_eq!(count, 5 * per_run);
    assert!(plan.scalar(loss)?.is_finite());
    Ok(())
}

#[test]
fn random_dag_plan_allocates_nothing_after_the_first_run() -> Result<()> {
    let g = Graph::new();
    let dag = random_dag(&g, &RandomDagConfig::w2(2_000, 5))?;
    let mut plan = g.compile([dag.output])?;
    for (leaf, value) in dag.leaves.iter().zip(&dag.leaf_values) {
        plan.set_input(*leaf, value)?;
    }
    let first = dag.leaves[0];
    let count = steady_state_allocations(&g, &mut plan, |plan, step| {
        plan.set_scalar(first, step as f64 * 0.1)
            .expect("a leaf is an input");
    });
    assert_eq!(count, 0);
    Ok(())
}
