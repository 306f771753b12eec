//! [`PlateReader`]: a plate crop in, text + colour + layout + confidences out.
//!
//! Load once: the ONNX is parsed, its input pinned to `[1, 3, H, W]` (from the
//! manifest), optimised and planned at start-up, and checked against the manifest
//! on a blank input. A read is then preprocess → run → postprocess, on a run
//! state and input tensor kept in the reader (no per-call setup), with the
//! contract's second pass for double-row plates.
//!
//! With a layout net beside it (`[plate_layout]`, see [`crate::plate_layout`]),
//! a plate that net is sure is double-row skips the first pass: it is read in
//! one pass on its joined rows. With a province net (`[plate_province]`, see
//! [`crate::plate_province`]), a reading that starts with a province gets a second
//! look at that character. Last, a reading that is not a GA 36 plate but one
//! character from one the network also considered becomes that plate
//! ([`crate::plate_grammar`]).

use std::path::Path;
use std::sync::{Arc, Mutex, TryLockError};

use serde::{Deserialize, Serialize};
use tract_onnx::prelude::*;

use crate::ctc::{self, Decoded};
use crate::manifest::{PlateColor, PlateLayout, PlateReaderSpec};
use crate::plate_grammar;
use crate::plate_layout::{LayoutGuess, LayoutNet, PlateLayoutSpec};
use crate::plate_province::{self, PlateProvinceSpec, ProvinceNet};
use crate::preprocess::{self, Crop};
use crate::runtime::{self, inference, model_error};
use crate::Error;

/// The network's output names, in the order the plans return them.
const OUTPUTS: [&str; 3] = ["ctc", "color", "layout"];

/// Crops per network run in [`PlateReader::read_batch`].
const MAX_BATCH: usize = 32;

/// What the reader made of one plate crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateRead {
    /// The characters read, e.g. `冀A12345` (empty when the network saw none).
    pub text: String,
    /// Plate colour, from the first pass (from the layout net when that sent
    /// the plate straight to its double-row pass).
    pub color: PlateColor,
    /// Single or double row, from the first pass or the layout net.
    pub layout: PlateLayout,
    /// One confidence per character of `text` (per alphabet class, should a
    /// class ever be longer than one character): the peak softmax probability
    /// of that character over its CTC steps.
    pub char_confidences: Vec<f32>,
    /// The weakest character's confidence (the minimum of `char_confidences`;
    /// 0 when `text` is empty). The minimum rather than the product: a plate is
    /// as trustworthy as its least certain character, and the figure does not
    /// fall just because a plate has eight characters instead of seven.
    pub confidence: f32,
    /// Softmax probability of `color`.
    pub color_confidence: f32,
    /// Softmax probability of `layout`.
    pub layout_confidence: f32,
}

/// The fewest characters in a reading that confirms a detector box as a plate.
/// GA 36 plates have 7 (8 on new-energy plates) and one character lost to blur or
/// a tight box still leaves a plate, while what the detector takes for a plate and
/// is not (shop and dealer lettering, watermarks, lamps, grilles) mostly reads as
/// one to five characters.
pub const MIN_WHOLE_PLATE_CHARS: usize = 6;

/// The least confidence each character after the first must have for a reading to
/// confirm a box as a plate. Car badges, dealer lettering and video overlays can
/// read as six or more characters, but as guesses: on the real frames their
/// weakest character after the province sits at 0.14–0.26. Real plate crops are
/// read surely: on `plates/dev` every crop the reader reads right has all of them
/// at 0.44 or more, and 0.4 turns away 2 of the 277 crops (both misread). The
/// first character is left out because it is the province: the hardest class, the
/// one the province net looks at again, and no evidence of whether the box holds a
/// plate.
pub const MIN_CONFIRMING_CHAR_CONFIDENCE: f32 = 0.4;

impl PlateRead {
    /// Whether the reading confirms the detector's box as a plate: at least
    /// [`MIN_WHOLE_PLATE_CHARS`] characters, each after the first read with at
    /// least [`MIN_CONFIRMING_CHAR_CONFIDENCE`]. Not a check of the GA 36 pattern,
    /// so a plate misread by one character still counts as found.
    pub fn confirms_plate(&self) -> bool {
        self.text.chars().count() >= MIN_WHOLE_PLATE_CHARS
            && self
                .char_confidences
                .iter()
                .skip(1)
                .all(|&c| c >= MIN_CONFIRMING_CHAR_CONFIDENCE)
    }
}

/// The plate reader network, loaded once and ready to run.
///
/// `Send + Sync`: share it behind an `Arc`. Its run state and input buffer sit
/// behind a mutex that a read only *tries* to take; a read that finds it busy
/// (another thread mid-read) builds a one-off state instead of waiting. For
/// several worker threads reading all the time, give each its own reader with
/// [`PlateReader::try_clone`] (the network itself is shared, not copied).
#[derive(Debug)]
pub struct PlateReader {
    spec: PlateReaderSpec,
    /// Plan with the input pinned to batch 1, for `read`.
    single: Arc<TypedSimplePlan>,
    /// Plan with a symbolic batch, when the network was exported with one.
    batched: Option<Arc<TypedSimplePlan>>,
    /// Run state + input buffer of `single`, reused read after read.
    scratch: Mutex<Scratch>,
    /// Run state of `batched`, reused batch after batch.
    batch_state: Mutex<Option<TypedSimpleState>>,
    /// Decides the layout before the first pass, when the manifest has one.
    layout_net: Option<Arc<LayoutNet>>,
    /// Looks again at a province, when the manifest has one.
    province: Option<Province>,
}

/// The province net and where its classes stand among the reader's.
#[derive(Debug)]
struct Province {
    net: ProvinceNet,
    /// The reader's CTC class of each of the net's provinces, in the net's order.
    classes: Vec<usize>,
}

/// The per-worker state of the batch-1 hot path.
#[derive(Debug)]
struct Scratch {
    state: TypedSimpleState,
    /// The `[1, 3, H, W]` input; handed to tract as a shared reference and
    /// refilled in place once tract has dropped its copy.
    input: Arc<Tensor>,
    /// CTC decoding buffer.
    chars: Vec<Decoded>,
    /// Run state of the layout net's batch-1 plan, when there is one.
    layout_state: Option<TypedSimpleState>,
}

/// Colour, layout and their confidences from one network output row.
#[derive(Clone, Copy)]
struct Heads {
    color: PlateColor,
    color_confidence: f32,
    layout: PlateLayout,
    layout_confidence: f32,
}

impl Heads {
    /// The heads of a plate the layout net sent straight to its double-row pass.
    fn routed(g: LayoutGuess) -> Heads {
        Heads {
            color: g.color,
            color_confidence: g.color_confidence,
            layout: PlateLayout::Double,
            layout_confidence: g.p_double,
        }
    }
}

impl PlateReader {
    /// Loads the plate reader ONNX at `path` and the `manifest.toml` in the same
    /// folder, optimises and plans it, and checks its outputs against the manifest.
    /// When the manifest has a `[plate_layout]` or `[plate_province]` table,
    /// its network (beside the manifest) is loaded too; a table naming a missing
    /// file is an error.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let onnx = runtime::read_model(path)?;
        let manifest = path.with_file_name("manifest.toml");
        let spec = PlateReaderSpec::load(&manifest)?;
        let mut reader = Self::from_onnx(&onnx, spec, path)?;
        if let Some(layout) = PlateLayoutSpec::load(&manifest)? {
            let layout_path = path.with_file_name(&layout.file);
            let bytes = runtime::read_model(&layout_path)?;
            reader = reader.with_layout_net(&bytes, layout, &layout_path)?;
        }
        if let Some(province) = PlateProvinceSpec::load(&manifest)? {
            let province_path = path.with_file_name(&province.file);
            let bytes = runtime::read_model(&province_path)?;
            reader = reader.with_province_net(&bytes, province, &province_path)?;
        }
        Ok(reader)
    }

    /// This reader with a layout net (ONNX bytes and its spec) deciding the
    /// layout before the first pass; `path` only names the model in errors.
    /// The net must take the reader's input size: it reads the same tensor.
    pub fn with_layout_net(
        mut self,
        onnx: &[u8],
        spec: PlateLayoutSpec,
        path: &Path,
    ) -> Result<Self, Error> {
        let err = model_error(path);
        if (spec.height, spec.width) != (self.spec.height, self.spec.width) {
            return Err(err(anyhow::anyhow!(
                "layout net input [{}, {}] is not the reader's [{}, {}]",
                spec.height,
                spec.width,
                self.spec.height,
                self.spec.width
            )));
        }
        let net = Arc::new(LayoutNet::from_onnx(onnx, spec, path)?);
        self.layout_net = Some(net);
        let scratch = self.fresh_scratch().map_err(&err)?;
        self.scratch = Mutex::new(scratch);
        Ok(self)
    }

    /// Whether a layout net decides the layout before the first pass.
    pub fn has_layout_net(&self) -> bool {
        self.layout_net.is_some()
    }

    /// This reader with a province net (ONNX bytes and its spec) taking a second
    /// look at a reading's first character; `path` only names the model in
    /// errors. Every province the net knows must be in the reader's alphabet.
    pub fn with_province_net(
        mut self,
        onnx: &[u8],
        spec: PlateProvinceSpec,
        path: &Path,
    ) -> Result<Self, Error> {
        let classes = spec
            .provinces
            .iter()
            .map(|p| {
                self.spec
                    .alphabet
                    .iter()
                    .position(|a| a == p)
                    .map(|i| i + 1)
            })
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                model_error(path)(anyhow::anyhow!(
                    "province net classes {:?} are not all in the reader's alphabet",
                    spec.provinces.concat()
                ))
            })?;
        let net = ProvinceNet::from_onnx(onnx, spec, path)?;
        self.province = Some(Province { net, classes });
        Ok(self)
    }

    /// Whether a province net looks again at each reading's province.
    pub fn has_province_net(&self) -> bool {
        self.province.is_some()
    }

    /// Builds a reader from ONNX bytes and a spec already in hand; `path` only
    /// names the model in errors.
    pub fn from_onnx(onnx: &[u8], spec: PlateReaderSpec, path: &Path) -> Result<Self, Error> {
        let err = model_error(path);
        let model = runtime::parse(onnx, &OUTPUTS).map_err(&err)?;
        let (h, w) = (spec.height as usize, spec.width as usize);
        let single = runtime::plan_for(model.clone(), h, w).map_err(&err)?;
        // A symbolic batch for `read_batch` (None: batches run one crop at a time).
        let batched = runtime::batched_plan(model, h, w);

        let scratch = Self::new_scratch(&single, &spec, None).map_err(&err)?;
        let mut reader = PlateReader {
            spec,
            single,
            batched,
            scratch: Mutex::new(scratch),
            batch_state: Mutex::new(None),
            layout_net: None,
            province: None,
        };
        reader.check_contract().map_err(&err)?;
        Ok(reader)
    }

    /// Another reader over the same loaded network, with its own run state:
    /// one per worker thread.
    pub fn try_clone(&self) -> Result<Self, Error> {
        Ok(PlateReader {
            spec: self.spec.clone(),
            single: self.single.clone(),
            batched: self.batched.clone(),
            scratch: Mutex::new(self.fresh_scratch().map_err(inference)?),
            batch_state: Mutex::new(None),
            layout_net: self.layout_net.clone(),
            province: match &self.province {
                Some(p) => Some(Province {
                    net: p.net.try_clone()?,
                    classes: p.classes.clone(),
                }),
                None => None,
            },
        })
    }

    /// What the manifest said about the network.
    pub fn spec(&self) -> &PlateReaderSpec {
        &self.spec
    }

    /// Whether `read_batch` runs crops together (the network has a symbolic
    /// batch) or one by one.
    pub fn batches(&self) -> bool {
        self.batched.is_some()
    }

    fn new_scratch(
        plan: &Arc<TypedSimplePlan>,
        spec: &PlateReaderSpec,
        layout_net: Option<&LayoutNet>,
    ) -> TractResult<Scratch> {
        let shape = [1, 3, spec.height as usize, spec.width as usize];
        Ok(Scratch {
            state: plan.spawn()?,
            input: Arc::new(Tensor::zero::<f32>(&shape)?),
            chars: Vec::with_capacity(16),
            layout_state: layout_net.map(|n| n.single.spawn()).transpose()?,
        })
    }

    /// A run state for this reader's networks.
    fn fresh_scratch(&self) -> TractResult<Scratch> {
        Self::new_scratch(&self.single, &self.spec, self.layout_net.as_deref())
    }

    /// Runs a blank crop and checks the output shapes against the manifest, so
    /// a Python/Rust disagreement fails at load, not on the first truck. It
    /// also warms the plan up. The batched plan is checked on two crops and
    /// dropped (batches then run one by one) if it misbehaves.
    fn check_contract(&mut self) -> anyhow::Result<()> {
        let expect = |outputs: &TVec<TValue>, n: usize| -> anyhow::Result<()> {
            let classes = 1 + self.spec.alphabet.len();
            let shapes: Vec<&[usize]> = outputs.iter().map(|o| o.shape()).collect();
            let ok = shapes.len() == 3
                && matches!(shapes[0], [b, t, c] if *b == n && *t > 0 && *c == classes)
                && shapes[1] == [n, self.spec.colors.len()]
                && shapes[2] == [n, 2];
            anyhow::ensure!(
                ok,
                "outputs (ctc, color, layout) have shapes {shapes:?}; the manifest expects \
                 [{n}, T, {classes}], [{n}, {}], [{n}, 2]",
                self.spec.colors.len()
            );
            Ok(())
        };
        let scratch = self.scratch.get_mut().unwrap_or_else(|p| p.into_inner());
        let outputs = scratch
            .state
            .run(tvec![scratch.input.clone().into_tvalue()])?;
        expect(&outputs, 1)?;
        if let Some(plan) = &self.batched {
            let (h, w) = (self.spec.height as usize, self.spec.width as usize);
            let two = Tensor::zero::<f32>(&[2, 3, h, w])?;
            if plan
                .run(tvec![two.into_tvalue()])
                .map(|o| expect(&o, 2))
                .is_err()
            {
                self.batched = None;
            }
        }
        Ok(())
    }

    /// Reads one plate crop: text, colour, layout and confidences.
    ///
    /// Any image size or pixel format is accepted; an image with no pixels is
    /// [`Error::EmptyImage`]. A double-row plate is read in a second pass on its
    /// two rows laid side by side (see [`preprocess::join_rows`]).
    pub fn read<C: Crop + ?Sized>(&self, crop: &C) -> Result<PlateRead, Error> {
        let (h, w) = (self.spec.height, self.spec.width);
        let rgb = preprocess::input_rgb(crop.crop_ref(), w, h)?;

        let mut spare = None;
        let mut guard = match self.scratch.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => {
                // A panic mid-read may have left the state mid-turn: start afresh.
                let mut guard = poisoned.into_inner();
                *guard = self.fresh_scratch().map_err(inference)?;
                self.scratch.clear_poison();
                Some(guard)
            }
            Err(TryLockError::WouldBlock) => None,
        };
        let scratch: &mut Scratch = match guard.as_deref_mut() {
            Some(scratch) => scratch,
            None => spare.insert(self.fresh_scratch().map_err(inference)?),
        };

        Self::fill(scratch, |dst| preprocess::resize_into(&rgb, w, h, dst))?;
        let joined = |dst: &mut [f32]| {
            preprocess::write_chw(
                &preprocess::join_rows(&rgb, &self.spec.double_row, w, h),
                dst,
            )
        };
        if let Some(heads) = self.route_single(scratch)? {
            Self::fill(scratch, joined)?;
            let ctc = self.run_filled(scratch)?;
            return self.assemble(&rgb, &ctc[0], 0, heads, &mut scratch.chars);
        }
        let first = self.run_filled(scratch)?;
        let heads = self.heads(&first, 0)?;
        let ctc = if heads.layout == PlateLayout::Double {
            drop(first); // tract's outputs may hold the input: release it before the refill
            Self::fill(scratch, joined)?;
            self.run_filled(scratch)?
        } else {
            first
        };
        self.assemble(&rgb, &ctc[0], 0, heads, &mut scratch.chars)
    }

    /// Runs the layout net on the filled input; the heads to read the plate
    /// with in one double-row pass when the net routes it there.
    fn route_single(&self, scratch: &mut Scratch) -> Result<Option<Heads>, Error> {
        let (Some(net), Some(state)) = (&self.layout_net, scratch.layout_state.as_mut()) else {
            return Ok(None);
        };
        let out = runtime::run_state(state, tvec![scratch.input.clone().into_tvalue()])
            .map_err(inference)?;
        let guess = net.guess(&out, 0)?;
        Ok(net.routes(&guess).then(|| Heads::routed(guess)))
    }

    /// Reads several crops, in one network run per `MAX_BATCH` crops when the
    /// network has a symbolic batch (one run each otherwise). One result per
    /// crop, in order: a bad crop fails alone.
    pub fn read_batch<C: Crop>(&self, crops: &[C]) -> Vec<Result<PlateRead, Error>> {
        let Some(plan) = &self.batched else {
            return crops.iter().map(|c| self.read(c)).collect();
        };
        let (h, w) = (self.spec.height, self.spec.width);
        let mut results: Vec<Option<Result<PlateRead, Error>>> = Vec::with_capacity(crops.len());
        let mut images = Vec::with_capacity(crops.len());
        for crop in crops {
            match preprocess::input_rgb(crop.crop_ref(), w, h) {
                Ok(rgb) => {
                    images.push((results.len(), rgb));
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let mut chars = Vec::with_capacity(16);
        for chunk in images.chunks(MAX_BATCH) {
            let read = self.read_chunk(plan, chunk, &mut chars);
            match read {
                Ok(reads) => {
                    for ((i, _), r) in chunk.iter().zip(reads) {
                        results[*i] = Some(Ok(r));
                    }
                }
                // Should not happen; if it does, each crop gets its own verdict.
                Err(_) => {
                    for (i, rgb) in chunk {
                        results[*i] = Some(self.read(&**rgb));
                    }
                }
            }
        }
        // Every slot was filled above; the fallback only keeps this panic-free.
        let unread = || Err(inference(anyhow::anyhow!("crop skipped by read_batch")));
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(unread))
            .collect()
    }

    /// One batched run over `chunk` (already bounded RGB), plus one batched
    /// second pass over its double-row plates. With a layout net, the plates it
    /// routes skip the first run and go straight to the second.
    fn read_chunk(
        &self,
        plan: &Arc<TypedSimplePlan>,
        chunk: &[(usize, std::borrow::Cow<'_, image::RgbImage>)],
        chars: &mut Vec<Decoded>,
    ) -> Result<Vec<PlateRead>, Error> {
        let (h, w) = (self.spec.height, self.spec.width);
        // The plain resize of every crop, once: the layout net's input and the
        // first pass's (for the crops the net does not route).
        let item = 3 * (h * w) as usize;
        let mut resized = vec![0.0f32; chunk.len() * item];
        for (dst, (_, rgb)) in resized.chunks_exact_mut(item).zip(chunk) {
            preprocess::resize_into(rgb, w, h, dst);
        }
        let routed = self.route_chunk(&resized, chunk.len())?;
        let plain: Vec<usize> = (0..chunk.len()).filter(|&k| routed[k].is_none()).collect();
        let first = if plain.is_empty() {
            None
        } else {
            Some(self.run_batched(plan, plain.len(), |j, dst| {
                let k = plain[j];
                dst.copy_from_slice(&resized[k * item..(k + 1) * item]);
            })?)
        };
        // The heads of every crop: the layout net's for a routed one, the first
        // run's for the others.
        let mut heads = routed.clone();
        if let Some(first) = &first {
            for (j, &k) in plain.iter().enumerate() {
                heads[k] = Some(self.heads(first, j)?);
            }
        }
        let doubles: Vec<usize> = (0..chunk.len())
            .filter(|&k| heads[k].is_some_and(|h| h.layout == PlateLayout::Double))
            .collect();
        let second = if doubles.is_empty() {
            None
        } else {
            Some(self.run_batched(plan, doubles.len(), |j, dst| {
                let joined =
                    preprocess::join_rows(&chunk[doubles[j]].1, &self.spec.double_row, w, h);
                preprocess::write_chw(&joined, dst)
            })?)
        };
        let mut reads = Vec::with_capacity(chunk.len());
        for (k, heads) in heads.into_iter().enumerate() {
            let heads = heads.ok_or_else(|| inference(anyhow::anyhow!("crop {k} has no heads")))?;
            let read = match (
                &second,
                doubles.binary_search(&k),
                &first,
                plain.binary_search(&k),
            ) {
                (Some(second), Ok(j), _, _) => {
                    self.assemble(&chunk[k].1, &second[0], j, heads, chars)?
                }
                (_, _, Some(first), Ok(j)) => {
                    self.assemble(&chunk[k].1, &first[0], j, heads, chars)?
                }
                _ => return Err(inference(anyhow::anyhow!("crop {k} was not run"))),
            };
            reads.push(read);
        }
        Ok(reads)
    }

    /// The layout net over `n` plain-resized crops (`[n, 3, H, W]`, flat) in one
    /// batched run: for each crop, the heads to read it with in one double-row
    /// pass, or `None` (the reader decides). Without a layout net, or without a
    /// batched plan for it, nothing is routed.
    fn route_chunk(&self, resized: &[f32], n: usize) -> Result<Vec<Option<Heads>>, Error> {
        let Some((net, plan)) = self
            .layout_net
            .as_ref()
            .and_then(|net| net.batched.as_ref().map(|p| (net, p)))
        else {
            return Ok(vec![None; n]);
        };
        let (h, w) = (self.spec.height as usize, self.spec.width as usize);
        let input = Tensor::from_shape(&[n, 3, h, w], resized).map_err(inference)?;
        let out = runtime::run_plan(plan, tvec![input.into_tvalue()]).map_err(inference)?;
        (0..n)
            .map(|k| {
                let g = net.guess(&out, k)?;
                Ok(net.routes(&g).then(|| Heads::routed(g)))
            })
            .collect()
    }

    /// Fills the kept `[1, 3, H, W]` input with `fill`.
    fn fill(scratch: &mut Scratch, fill: impl FnOnce(&mut [f32])) -> Result<(), Error> {
        // Unique unless tract kept a reference to the last input; then this copies.
        let input = Arc::make_mut(&mut scratch.input);
        let mut view = input.to_plain_array_view_mut::<f32>().map_err(inference)?;
        let dst = view
            .as_slice_mut()
            .ok_or_else(|| inference(anyhow::anyhow!("input not contiguous")))?;
        fill(dst);
        Ok(())
    }

    /// Runs the batch-1 plan on the kept input as it was last filled.
    fn run_filled(&self, scratch: &mut Scratch) -> Result<TVec<TValue>, Error> {
        runtime::run_state(
            &mut scratch.state,
            tvec![scratch.input.clone().into_tvalue()],
        )
        .map_err(inference)
    }

    /// Builds an `[n, 3, H, W]` input (item `k` filled by `fill(k, slice)`) and
    /// runs the batched plan on the kept batch state.
    fn run_batched(
        &self,
        plan: &Arc<TypedSimplePlan>,
        n: usize,
        fill: impl Fn(usize, &mut [f32]),
    ) -> Result<TVec<TValue>, Error> {
        let (h, w) = (self.spec.height as usize, self.spec.width as usize);
        let mut input = Tensor::zero::<f32>(&[n, 3, h, w]).map_err(inference)?;
        {
            let mut view = input.to_plain_array_view_mut::<f32>().map_err(inference)?;
            let all = view
                .as_slice_mut()
                .ok_or_else(|| inference(anyhow::anyhow!("input not contiguous")))?;
            for (k, dst) in all.chunks_exact_mut(3 * h * w).enumerate() {
                fill(k, dst);
            }
        }
        let inputs = tvec![input.into_tvalue()];
        match self.batch_state.try_lock() {
            Ok(mut guard) => {
                if guard.is_none() {
                    *guard = Some(plan.spawn().map_err(inference)?);
                }
                match guard.as_mut() {
                    Some(state) => runtime::run_state(state, inputs).map_err(inference),
                    None => runtime::run_plan(plan, inputs).map_err(inference),
                }
            }
            // Busy or poisoned: a one-off state (a poisoned one is not reused).
            Err(_) => runtime::run_plan(plan, inputs).map_err(inference),
        }
    }

    /// Colour and layout of item `k` of a run's outputs.
    fn heads(&self, outputs: &[TValue], k: usize) -> Result<Heads, Error> {
        let row = |ix: usize, len: usize| -> Result<(usize, f32), Error> {
            let view = outputs[ix]
                .to_plain_array_view::<f32>()
                .map_err(inference)?;
            let all = view
                .as_slice()
                .ok_or_else(|| inference(anyhow::anyhow!("output not contiguous")))?;
            let logits = all.get(k * len..(k + 1) * len).unwrap_or(&[]);
            Ok(ctc::softmax_peak(logits))
        };
        let (c, color_confidence) = row(1, self.spec.colors.len())?;
        let (l, layout_confidence) = row(2, 2)?;
        Ok(Heads {
            color: self.spec.colors[c.min(self.spec.colors.len() - 1)],
            color_confidence,
            layout: self.spec.layouts[l.min(1)],
            layout_confidence,
        })
    }

    /// Decodes item `k` of a `ctc` output `[N, T, C]` (read from `crop`) and
    /// puts the read together.
    fn assemble(
        &self,
        crop: &image::RgbImage,
        ctc_out: &TValue,
        k: usize,
        heads: Heads,
        chars: &mut Vec<Decoded>,
    ) -> Result<PlateRead, Error> {
        let classes = 1 + self.spec.alphabet.len();
        let per_item = ctc_out.shape().get(1).copied().unwrap_or(0) * classes;
        let view = ctc_out.to_plain_array_view::<f32>().ok();
        // The shapes were checked at load, so the logits are always there; an
        // empty read rather than a panic if a future tract ever disagreed.
        let logits = view
            .as_ref()
            .and_then(|v| v.as_slice())
            .and_then(|s| s.get(k * per_item..(k + 1) * per_item))
            .unwrap_or(&[]);
        ctc::greedy_decode_into(logits, classes, chars);
        if let Some(first) = chars.first_mut() {
            self.second_look_at_province(crop, heads.layout, logits, classes, first)?;
        }
        let alphabet = &self.spec.alphabet;
        let mut text = ctc::spell(chars, alphabet);
        if let Some(plate) = plate_grammar::read_as_plate(chars, &text, logits, classes, alphabet) {
            text = plate;
        }
        let char_confidences: Vec<f32> = chars.iter().map(|d| d.confidence).collect();
        let confidence = if char_confidences.is_empty() {
            0.0
        } else {
            char_confidences.iter().copied().fold(1.0, f32::min)
        };
        Ok(PlateRead {
            text,
            color: heads.color,
            layout: heads.layout,
            char_confidences,
            confidence,
            color_confidence: heads.color_confidence,
            layout_confidence: heads.layout_confidence,
        })
    }

    /// When a province net is loaded and `first` (the reading's first character,
    /// from the CTC `logits` `[T, classes]` of `crop`) is a province the reader
    /// is unsure of (below the spec's `consult_below`): the
    /// province that the reader's softmax at `first`'s peak step and the net's
    /// softmax on the crop's province window agree on best, with the combined
    /// confidence ([`plate_province::combine`]).
    fn second_look_at_province(
        &self,
        crop: &image::RgbImage,
        layout: PlateLayout,
        logits: &[f32],
        classes: usize,
        first: &mut Decoded,
    ) -> Result<(), Error> {
        let Some(province) = &self.province else {
            return Ok(());
        };
        // A sure reader would keep its province under the product anyway.
        if first.confidence >= province.net.spec.consult_below
            || !province.classes.contains(&first.class)
        {
            return Ok(());
        }
        let Some(row) = logits.get(first.step * classes..(first.step + 1) * classes) else {
            return Ok(());
        };
        // A few dozen floats per read; the net's run dwarfs them.
        let mut all = Vec::with_capacity(classes);
        plate_province::softmax_into(row, &mut all);
        let reader: Vec<f32> = province.classes.iter().map(|&c| all[c]).collect();
        let mut net = Vec::with_capacity(reader.len());
        province.net.probabilities(crop, layout, &mut net)?;
        let weight = province.net.spec.reader_weight;
        if let Some((i, p)) = plate_province::combine(&reader, &net, weight) {
            first.class = province.classes[i];
            first.confidence = p;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PlateReader>();
    }

    /// The hot path keeps its run state and input tensor: after a read, tract
    /// holds no reference to the input, so the next read refills it in place.
    #[test]
    fn reads_reuse_the_input_buffer() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let reader = PlateReader::load(dir.join("onnx/plate_reader.onnx")).unwrap();
        let crop = image::RgbImage::from_pixel(94, 24, image::Rgb([20, 60, 180]));
        let before = Arc::as_ptr(&reader.scratch.lock().unwrap().input);
        for _ in 0..2 {
            reader.read(&crop).unwrap();
            let scratch = reader.scratch.lock().unwrap();
            assert_eq!(Arc::strong_count(&scratch.input), 1);
            assert_eq!(Arc::as_ptr(&scratch.input), before);
        }
    }

    #[test]
    fn a_plate_is_confirmed_by_six_characters_read_surely_after_the_province() {
        let read = |text: &str, confidences: &[f32]| PlateRead {
            text: text.to_owned(),
            color: PlateColor::Blue,
            layout: PlateLayout::Single,
            char_confidences: confidences.to_vec(),
            confidence: confidences.iter().copied().fold(f32::NAN, f32::min),
            color_confidence: 0.9,
            layout_confidence: 0.9,
        };
        let sure = |text: &str| read(text, &vec![0.9; text.chars().count()]);
        for whole in ["冀A12345", "冀AD12345", "冀A1234", "粤ZDJ76港"] {
            assert!(sure(whole).confirms_plate(), "{whole}");
        }
        // Lettering and lamps: a province alone, or a few characters.
        for part in ["", "粤", "皖944", "冀604M"] {
            assert!(!sure(part).confirms_plate(), "{part}");
        }
        // An unsure province still confirms: the province net looks at it again.
        let unsure_province = [0.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
        assert!(read("晋H93513", &unsure_province).confirms_plate());
        // A badge read as seven guesses does not, nor does one guess after the
        // province, at the threshold's edge.
        let edge = MIN_CONFIRMING_CHAR_CONFIDENCE;
        let guessed = [0.8, 0.5, edge - 0.01, 0.9, 0.9, 0.9, 0.9];
        assert!(!read("川M099M0", &guessed).confirms_plate());
        let at_edge = [0.8, 0.5, edge, 0.9, 0.9, 0.9, 0.9];
        assert!(read("川M099M0", &at_edge).confirms_plate());
    }
}
