//! What every network of this crate does the same way: parse the ONNX once, pin
//! the input to `[1, 3, H, W]`, optimise, plan; keep one run state behind a
//! mutex and renew it when a panic mid-run poisoned it.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

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
