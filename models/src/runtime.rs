//! What every network of this crate does the same way: parse the ONNX once, pin
//! the input to `[1, 3, H, W]`, optimise, plan; keep one run state behind a
//! mutex and renew it when a panic mid-run poisoned it.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use tract_onnx::prelude::*;

use crate::{Error, TractFailure};

/// A load failure of the model at `path`, as the crate's [`Error`].
pub(crate) fn model_error(path: &Path) -> impl Fn(anyhow::Error) -> Error + '_ {
    move |e| Error::Model {
        path: path.to_owned(),
        source: TractFailure(e),
    }
}

/// The ONNX bytes at `path`; its manifest is read beside it by each network.
pub(crate) fn read_model(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::ModelFile {
        path: path.to_owned(),
        source,
    })
}

/// A failure while running a loaded network.
pub(crate) fn inference(e: anyhow::Error) -> Error {
    Error::Inference(TractFailure(e))
}

/// The ONNX graph with the named outputs, before its input is pinned.
///
/// `value_info` and output shapes may carry the export's symbolic batch, which
/// would then refuse to unify with a pinned batch of 1 (DEPS.md): tract infers
/// them again from the input.
pub(crate) fn parse(onnx: &[u8], outputs: &[&str]) -> TractResult<InferenceModel> {
    let framework = tract_onnx::onnx()
        .with_ignore_value_info(true)
        .with_ignore_output_shapes(true);
    let proto = framework.proto_model_for_read(&mut &onnx[..])?;
    framework
        .model_for_proto_model(&proto)?
        .with_outputs_by_name(outputs)
}

/// The optimised plan of `model` for one `[1, 3, h, w]` f32 input.
pub(crate) fn plan_for(
    model: InferenceModel,
    h: usize,
    w: usize,
) -> TractResult<std::sync::Arc<TypedSimplePlan>> {
    model
        .with_input_fact(0, f32::fact([1, 3, h, w]).into())?
        .into_optimized()?
        .into_runnable()
}

/// The optimised plan of `model` for a symbolic batch `[N, 3, h, w]`, or `None`
/// when the network does not type with one (an export with a fixed batch):
/// batches then fall back to one run each.
pub(crate) fn batched_plan(
    model: InferenceModel,
    h: usize,
    w: usize,
) -> Option<Arc<TypedSimplePlan>> {
    let n = model.symbols.sym("N").to_dim();
    let shape = ShapeFact::from_dims([n, 3.to_dim(), h.to_dim(), w.to_dim()]);
    model
        .with_input_fact(0, f32::fact(shape).into())
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .ok()
}

/// Runs `state` on `inputs` and leaves the CPU's vector registers clean for the
/// scalar code that reads the outputs.
///
/// tract's AVX2/AVX-512 kernels return with the upper halves of the vector
/// registers dirty (no `vzeroupper`). Until something clears them, every SSE
/// instruction of the code that follows pays a state-transition penalty: on this
/// machine a plate read took 1.5 ms where the network alone took 1.1, the
/// difference nearly all in the 32 x 75 softmax of CTC decoding; with the clear,
/// the read took what the network took.
pub(crate) fn run_state(
    state: &mut TypedSimpleState,
    inputs: TVec<TValue>,
) -> TractResult<TVec<TValue>> {
    let outputs = state.run(inputs);
    clear_upper_vector_state();
    outputs
}

/// [`run_state`] for a one-off run of `plan`.
pub(crate) fn run_plan(
    plan: &Arc<TypedSimplePlan>,
    inputs: TVec<TValue>,
) -> TractResult<TVec<TValue>> {
    let outputs = plan.run(inputs);
    clear_upper_vector_state();
    outputs
}

fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked just above). vzeroupper only zeroes the
        // upper lanes of the vector registers, which hold no value across this
        // call: the System V ABI makes every vector register caller-saved.
        unsafe { vzeroupper() }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn vzeroupper() {
    std::arch::x86_64::_mm256_zeroupper();
}

/// Locks a run state; when a panic mid-run poisoned it, the state may be
/// mid-turn, so it is replaced by `renew()` (or kept if even that fails: the
/// next run reports the problem).
pub(crate) fn lock_or_renew<S>(
    slot: &Mutex<S>,
    renew: impl FnOnce() -> TractResult<S>,
) -> MutexGuard<'_, S> {
    match slot.lock() {
        Ok(g) => g,
        Err(poisoned) => {
            let mut g = poisoned.into_inner();
            if let Ok(fresh) = renew() {
                *g = fresh;
            }
            slot.clear_poison();
            g
        }
    }
}

/// A network's per-worker run state: tract's state, the `[1, 3, H, W]` input
/// refilled in place call after call, and whatever buffers the wrapper reuses.
#[derive(Debug)]
pub(crate) struct RunState<X> {
    state: TypedSimpleState,
    input: Arc<Tensor>,
    pub extra: X,
}

/// One single-input network, planned once, with one run state behind a mutex.
///
/// The detector and the cargo classifier wrap one each; `try_clone` gives another
/// worker its own run state over the same plan.
#[derive(Debug)]
pub(crate) struct Network<X> {
    plan: Arc<TypedSimplePlan>,
    h: usize,
    w: usize,
    scratch: Mutex<RunState<X>>,
}

impl<X> RunState<X> {
    /// Fills the input in place with `fill` and runs the plan on it; what `fill`
    /// returned and the outputs.
    pub fn run<R>(
        &mut self,
        fill: impl FnOnce(&mut [f32]) -> R,
    ) -> Result<(R, TVec<TValue>), Error> {
        let filled = {
            // Unique unless tract kept the last input; then this copies once.
            let input = Arc::make_mut(&mut self.input);
            let mut view = input.to_plain_array_view_mut::<f32>().map_err(inference)?;
            let dst = view
                .as_slice_mut()
                .ok_or_else(|| inference(anyhow::anyhow!("input not contiguous")))?;
            fill(dst)
        };
        let out = run_state(&mut self.state, tvec![self.input.clone().into_tvalue()])
            .map_err(inference)?;
        Ok((filled, out))
    }
}

impl<X: Default> Network<X> {
    /// Parses, pins to `[1, 3, h, w]`, optimises and plans `onnx`, then runs a
    /// blank input once and checks that `outputs` come back with the `expected`
    /// shapes, so a Python/Rust disagreement fails at load, not on the first
    /// truck (and the plan is warm). `path` only names the model in errors.
    pub fn load(
        onnx: &[u8],
        outputs: &[&str],
        (h, w): (usize, usize),
        expected: &[Vec<usize>],
        path: &Path,
    ) -> Result<Self, Error> {
        let err = model_error(path);
        let plan = parse(onnx, outputs)
            .and_then(|m| plan_for(m, h, w))
            .map_err(&err)?;
        let scratch = Self::new_state(&plan, h, w).map_err(&err)?;
        let net = Network {
            plan,
            h,
            w,
            scratch: Mutex::new(scratch),
        };
        net.check_shapes(outputs, expected).map_err(&err)?;
        Ok(net)
    }

    /// Another handle on the same plan, with its own run state.
    pub fn try_clone(&self) -> Result<Self, Error> {
        Ok(Network {
            plan: self.plan.clone(),
            h: self.h,
            w: self.w,
            scratch: Mutex::new(Self::new_state(&self.plan, self.h, self.w).map_err(inference)?),
        })
    }

    /// The run state, renewed first if a panic mid-run poisoned it.
    pub fn lock(&self) -> MutexGuard<'_, RunState<X>> {
        lock_or_renew(&self.scratch, || {
            Self::new_state(&self.plan, self.h, self.w)
        })
    }

    fn new_state(plan: &Arc<TypedSimplePlan>, h: usize, w: usize) -> TractResult<RunState<X>> {
        Ok(RunState {
            state: plan.spawn()?,
            input: Arc::new(Tensor::zero::<f32>(&[1, 3, h, w])?),
            extra: X::default(),
        })
    }

    fn check_shapes(&self, outputs: &[&str], expected: &[Vec<usize>]) -> anyhow::Result<()> {
        let mut scratch = self.lock();
        let input = scratch.input.clone();
        let out = run_state(&mut scratch.state, tvec![input.into_tvalue()])?;
        let shapes: Vec<&[usize]> = out.iter().map(|o| o.shape()).collect();
        anyhow::ensure!(
            shapes.len() == expected.len() && shapes.iter().zip(expected).all(|(s, e)| s == e),
            "outputs ({}) have shapes {shapes:?}; the manifest implies {expected:?}",
            outputs.join(", ")
        );
        Ok(())
    }
}
