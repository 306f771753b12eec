//! Any image → the reader's input: RGB, `0..=1`, planar `[3, H, W]`.
//!
//! Three steps, each its own function so the geometry can be tested alone:
//!
//! 1. `input_rgb`: any `image` buffer (grey, RGBA, 16-bit, ...) becomes RGB8.
//!    A crop up to `DIRECT_RESIZE_LIMIT` times the model input per axis passes
//!    through untouched (borrowed when already RGB8), so it sees exactly the
//!    contract's resize, as in training. One far larger (a whole frame passed by
//!    mistake, a 10000x10000 upload) is first box-sampled down to at most
//!    `MAX_OVERSAMPLE` times the input size (`bounded_rgb`), at a cost bounded
//!    by the output, not the input.
//! 2. `resize_into`: the contract's plain bilinear (triangle) resize to `W x H`,
//!    no letterbox, written into the input tensor's slice.
//! 3. `join_rows`: for a double-row plate's second pass, the two bands of the
//!    crop resized and laid side by side, top band on the left.

use std::borrow::Cow;

use image::imageops;
use image::{DynamicImage, GenericImageView, Pixel, RgbImage};

use crate::manifest::DoubleRow;
use crate::Error;

/// How many times the model input a crop beyond [`DIRECT_RESIZE_LIMIT`] is
/// box-sampled down to, per axis, ahead of the resize. At 4x the triangle filter
/// still sees every detail it would keep.
pub const MAX_OVERSAMPLE: u32 = 4;

/// How many times the model input a crop may be, per axis, and still be resized
/// straight from its own pixels. Box-sampling a 719x363 plate crop down to 4x the
/// reader's input took longer than the reader's network (2.3 ms a read against
/// 0.9 ms straight, `evaluate plates`, the same 277 readings); the SIMD resize
/// costs little up to 16x, and only a crop beyond it is bounded first.
pub const DIRECT_RESIZE_LIMIT: u32 = 16;

/// Samples per axis averaged into one pixel by the bounding step: a source cell
/// up to this many pixels on a side is averaged whole (a true box filter), a
/// larger one through this many evenly spaced rows and columns, so at most
/// `BOX_SAMPLES²` reads per output pixel whatever the input size.
const BOX_SAMPLES: u64 = 8;

/// A borrowed image in one of the forms the reader accepts.
#[derive(Debug, Clone, Copy)]
pub enum CropRef<'a> {
    /// Any decoded image: converted to RGB8 (alpha dropped, grey replicated).
    Dynamic(&'a DynamicImage),
    /// Already RGB8: read without a copy.
    Rgb(&'a RgbImage),
}

impl CropRef<'_> {
    /// Width and height in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            CropRef::Dynamic(i) => i.dimensions(),
            CropRef::Rgb(i) => i.dimensions(),
        }
    }
}

/// Something the reader can read: `DynamicImage`, `RgbImage`, or a reference to one.
pub trait Crop {
    /// Borrows the pixels.
    fn crop_ref(&self) -> CropRef<'_>;
}

impl Crop for DynamicImage {
    fn crop_ref(&self) -> CropRef<'_> {
        CropRef::Dynamic(self)
    }
}

impl Crop for RgbImage {
    fn crop_ref(&self) -> CropRef<'_> {
        CropRef::Rgb(self)
    }
}

impl Crop for CropRef<'_> {
    fn crop_ref(&self) -> CropRef<'_> {
        *self
    }
}

impl<T: Crop + ?Sized> Crop for &T {
    fn crop_ref(&self) -> CropRef<'_> {
        (**self).crop_ref()
    }
}

/// The crop as RGB8 for a model whose input is `w x h`: untouched (borrowed when
/// already RGB8) up to [`DIRECT_RESIZE_LIMIT`] times that on both axes, else
/// box-sampled down to at most [`MAX_OVERSAMPLE`] times it ([`bounded_rgb`]).
///
/// Fails with [`Error::EmptyImage`] for an image without pixels.
pub fn input_rgb(crop: CropRef<'_>, w: u32, h: u32) -> Result<Cow<'_, RgbImage>, Error> {
    let (cw, ch) = crop.dimensions();
    if cw <= w.saturating_mul(DIRECT_RESIZE_LIMIT) && ch <= h.saturating_mul(DIRECT_RESIZE_LIMIT) {
        bounded_rgb(crop, cw, ch)
    } else {
        bounded_rgb(crop, w * MAX_OVERSAMPLE, h * MAX_OVERSAMPLE)
    }
}

/// The crop as RGB8, box-sampled down to at most `max_w x max_h` when larger
/// (each axis independently; an axis already within bounds is kept).
///
/// Fails with [`Error::EmptyImage`] for an image without pixels.
pub fn bounded_rgb(crop: CropRef<'_>, max_w: u32, max_h: u32) -> Result<Cow<'_, RgbImage>, Error> {
    let (w, h) = crop.dimensions();
    if w == 0 || h == 0 {
        return Err(Error::EmptyImage {
            width: w,
            height: h,
        });
    }
    let (nw, nh) = (w.min(max_w.max(1)), h.min(max_h.max(1)));
    if (nw, nh) == (w, h) {
        return Ok(match crop {
            CropRef::Rgb(i) => Cow::Borrowed(i),
            CropRef::Dynamic(DynamicImage::ImageRgb8(i)) => Cow::Borrowed(i),
            CropRef::Dynamic(i) => Cow::Owned(i.to_rgb8()),
        });
    }
    Ok(Cow::Owned(match crop {
        CropRef::Rgb(i) | CropRef::Dynamic(DynamicImage::ImageRgb8(i)) => {
            box_sample(w, h, nw, nh, |x, y| i.get_pixel(x, y).0)
        }
        CropRef::Dynamic(i) => box_sample(w, h, nw, nh, |x, y| i.get_pixel(x, y).to_rgb().0),
    }))
}

/// Downscales a `w x h` image read through `px` to `nw x nh` (each no larger
/// than its source axis): each output pixel averages its source cell, through
/// at most `BOX_SAMPLES` evenly spaced samples per axis.
fn box_sample(w: u32, h: u32, nw: u32, nh: u32, px: impl Fn(u32, u32) -> [u8; 3]) -> RgbImage {
    // Sample coordinates of output index `o` along an axis of `n` source pixels
    // mapped onto `no` output pixels.
    fn samples(o: u32, n: u32, no: u32) -> impl Iterator<Item = u32> {
        let (n, no, o) = (u64::from(n), u64::from(no), u64::from(o));
        let start = o * n / no;
        let end = ((o + 1) * n / no).max(start + 1);
        let k = (end - start).min(BOX_SAMPLES);
        (0..k).map(move |i| (start + (2 * i + 1) * (end - start) / (2 * k)) as u32)
    }
    let mut out = RgbImage::new(nw, nh);
    for (ox, oy, p) in out.enumerate_pixels_mut() {
        let mut sum = [0u32; 3];
        let mut count = 0u32;
        for y in samples(oy, h, nh) {
            for x in samples(ox, w, nw) {
                for (s, q) in sum.iter_mut().zip(px(x, y)) {
                    *s += u32::from(q);
                }
                count += 1;
            }
        }
        p.0 = sum.map(|s| ((s + count / 2) / count) as u8);
    }
    out
}

/// Writes an RGB8 image into a planar `[3, H, W]` slice as `0..=1` floats.
///
/// `dst` must hold exactly `3 * W * H` values (checked by the caller, who sized
/// the tensor from the same manifest).
pub fn write_chw(img: &RgbImage, dst: &mut [f32]) {
    let plane = (img.width() * img.height()) as usize;
    debug_assert_eq!(dst.len(), 3 * plane);
    let (r, rest) = dst.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for (i, p) in img.pixels().enumerate() {
        r[i] = f32::from(p.0[0]) / 255.0;
        g[i] = f32::from(p.0[1]) / 255.0;
        b[i] = f32::from(p.0[2]) / 255.0;
    }
}

/// `src` resized to `w x h` with a bilinear (triangle) filter whose support grows
/// with the downscale factor — what Pillow's `BILINEAR`, used in training, does.
/// SIMD (fast_image_resize): a 1920x1080 frame to 640x360 takes about a millisecond,
/// where `image::imageops::resize` took tens.
pub fn resize(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    use fast_image_resize::{
        images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer,
    };
    let (sw, sh) = src.dimensions();
    if (sw, sh) == (w, h) || sw == 0 || sh == 0 || w == 0 || h == 0 {
        // Nothing to resample (or nothing to resample from): the slow path copes.
        return imageops::resize(src, w, h, imageops::FilterType::Triangle);
    }
    let from = ImageRef::new(sw, sh, src.as_raw(), PixelType::U8x3)
        .expect("an RgbImage's buffer is w * h * 3 bytes");
    let mut to = Image::new(w, h, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(&from, &mut to, &options)
        .expect("same pixel type on both sides");
    RgbImage::from_raw(w, h, to.into_vec()).expect("w * h * 3 bytes")
}

/// The contract's first-pass input: `src` resized to `w x h` with a triangle
/// filter (no letterbox), written planar into `dst`.
pub fn resize_into(src: &RgbImage, w: u32, h: u32, dst: &mut [f32]) {
    if src.dimensions() == (w, h) {
        write_chw(src, dst);
    } else {
        write_chw(&resize(src, w, h), dst);
    }
}

/// Row bands of a crop `height` pixels high: the top band's rows `0..top_end`
/// and the bottom band's rows `bottom_start..height`, each at least one row.
pub fn row_bands(rows: &DoubleRow, height: u32) -> (u32, u32) {
    let h = height as f32;
    let top_end = ((rows.top * h).round() as u32).clamp(1, height.max(1));
    let bottom_start = ((rows.bottom * h).round() as u32).min(height.saturating_sub(1));
    (top_end, bottom_start)
}

/// The contract's double-row second-pass image, `w x h`: the crop's top band
/// resized to `round(top_width * w) x h` on the left, its bottom band resized to
/// the rest of the width on the right.
pub fn join_rows(src: &RgbImage, rows: &DoubleRow, w: u32, h: u32) -> RgbImage {
    let (sw, sh) = src.dimensions();
    let (top_end, bottom_start) = row_bands(rows, sh);
    let top_w = ((rows.top_width * w as f32).round() as u32).clamp(1, w.saturating_sub(1).max(1));
    let top = imageops::crop_imm(src, 0, 0, sw, top_end);
    let bottom = imageops::crop_imm(src, 0, bottom_start, sw, sh - bottom_start);
    let mut out = RgbImage::new(w, h);
    imageops::replace(&mut out, &resize(&top.to_image(), top_w, h), 0, 0);
    let bottom_w = w.saturating_sub(top_w);
    if bottom_w > 0 {
        let b = resize(&bottom.to_image(), bottom_w, h);
        imageops::replace(&mut out, &b, i64::from(top_w), 0);
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn fast_resize_agrees_with_the_triangle_filter() {
        // A frame with edges and gradients, downscaled 3x as a 1080p frame is.
        let src = RgbImage::from_fn(300, 170, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 3 % 256) as u8,
                if (x / 9 + y / 7) % 2 == 0 { 230 } else { 20 },
            ])
        });
        let fast = resize(&src, 100, 57);
        let slow = imageops::resize(&src, 100, 57, imageops::FilterType::Triangle);
        let diff: f64 = fast
            .as_raw()
            .iter()
            .zip(slow.as_raw())
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
            .sum::<f64>()
            / fast.as_raw().len() as f64;
        assert!(diff < 2.0, "mean difference {diff} grey levels");
        // Degenerate sizes take the slow path and do not panic.
        assert_eq!(resize(&RgbImage::new(0, 0), 4, 4).dimensions(), (4, 4));
        assert_eq!(resize(&src, 300, 170), src);
    }

    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbaImage};

    const RED: Rgb<u8> = Rgb([255, 0, 0]);
    const BLUE: Rgb<u8> = Rgb([0, 0, 255]);

    #[test]
    fn empty_images_are_errors() {
        for (w, h) in [(0, 0), (0, 5), (5, 0)] {
            let img = RgbImage::new(w, h);
            let err = bounded_rgb(CropRef::Rgb(&img), 10, 10).unwrap_err();
            assert!(
                matches!(err, Error::EmptyImage { width, height } if (width, height) == (w, h))
            );
        }
    }

    #[test]
    fn small_rgb_is_borrowed_other_formats_converted() {
        let rgb = RgbImage::from_pixel(3, 2, RED);
        assert!(matches!(
            bounded_rgb(CropRef::Rgb(&rgb), 10, 10).unwrap(),
            Cow::Borrowed(_)
        ));
        let grey = DynamicImage::ImageLuma8(GrayImage::from_pixel(3, 2, Luma([7])));
        let out = bounded_rgb(CropRef::Dynamic(&grey), 10, 10).unwrap();
        assert_eq!(out.get_pixel(2, 1), &Rgb([7, 7, 7]));
        let rgba = DynamicImage::ImageRgba8(RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 0])));
        let out = bounded_rgb(CropRef::Dynamic(&rgba), 10, 10).unwrap();
        assert_eq!(out.get_pixel(0, 0), &Rgb([1, 2, 3]));
    }

    #[test]
    fn huge_images_are_bounded_per_axis() {
        let wide = RgbImage::from_pixel(5000, 3, BLUE);
        let out = bounded_rgb(CropRef::Rgb(&wide), 100, 40).unwrap();
        assert_eq!(out.dimensions(), (100, 3));
        assert!(out.pixels().all(|p| *p == BLUE));
        let grey =
            DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(300, 900, Luma([65535u16])));
        let out = bounded_rgb(CropRef::Dynamic(&grey), 100, 40).unwrap();
        assert_eq!(out.dimensions(), (100, 40));
        assert!(out.pixels().all(|p| *p == Rgb([255, 255, 255])));
    }

    #[test]
    fn crops_within_the_direct_limit_keep_their_pixels_larger_ones_are_bounded() {
        // A 128x32 input: a 719x363 plate crop, and one at the limit, are resized
        // straight from their pixels.
        for (w, h) in [
            (719, 363),
            (128 * DIRECT_RESIZE_LIMIT, 32 * DIRECT_RESIZE_LIMIT),
        ] {
            let crop = RgbImage::from_pixel(w, h, RED);
            let kept = input_rgb(CropRef::Rgb(&crop), 128, 32).unwrap();
            assert!(matches!(kept, Cow::Borrowed(_)), "{w}x{h}");
        }
        // One axis beyond it: the whole crop is box-sampled to 4x the input.
        let frame = RgbImage::from_pixel(1920, 32 * DIRECT_RESIZE_LIMIT + 1, BLUE);
        let out = input_rgb(CropRef::Rgb(&frame), 128, 32).unwrap();
        assert_eq!(
            out.dimensions(),
            (128 * MAX_OVERSAMPLE, 32 * MAX_OVERSAMPLE)
        );
        assert!(out.pixels().all(|p| *p == BLUE));
        let err = input_rgb(CropRef::Rgb(&RgbImage::new(0, 3)), 128, 32).unwrap_err();
        assert!(matches!(err, Error::EmptyImage { .. }));
    }

    #[test]
    fn box_sampling_averages_its_cell() {
        // left half red, right half blue, sampled down to 2x1: pure colours stay pure.
        let img = RgbImage::from_fn(400, 10, |x, _| if x < 200 { RED } else { BLUE });
        let out = box_sample(400, 10, 2, 1, |x, y| img.get_pixel(x, y).0);
        assert_eq!(out.get_pixel(0, 0), &RED);
        assert_eq!(out.get_pixel(1, 0), &BLUE);
        // a 1-pixel stripe pattern averages to the mid value
        let img = RgbImage::from_fn(8, 1, |x, _| {
            if x % 2 == 0 {
                Rgb([0; 3])
            } else {
                Rgb([200; 3])
            }
        });
        let out = box_sample(8, 1, 1, 1, |x, y| img.get_pixel(x, y).0);
        assert_eq!(out.get_pixel(0, 0), &Rgb([100; 3]));
    }

    #[test]
    fn chw_is_planar_and_unit_range() {
        let img = RgbImage::from_fn(2, 1, |x, _| if x == 0 { RED } else { Rgb([0, 51, 255]) });
        let mut dst = [9.0; 6];
        write_chw(&img, &mut dst);
        assert_eq!(dst, [1.0, 0.0, 0.0, 0.2, 0.0, 1.0]);
    }

    #[test]
    fn resize_is_plain_stretch() {
        let img = RgbImage::from_pixel(7, 3, RED);
        let mut dst = vec![0.0; 3 * 20 * 4];
        resize_into(&img, 20, 4, &mut dst);
        assert!(dst[..80].iter().all(|&v| v == 1.0));
        assert!(dst[80..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn bands_follow_the_fractions() {
        let rows = DoubleRow {
            top: 0.4,
            bottom: 0.3,
            top_width: 0.25,
        };
        assert_eq!(row_bands(&rows, 100), (40, 30));
        assert_eq!(row_bands(&rows, 1), (1, 0));
        let rows = DoubleRow {
            top: 1.0,
            bottom: 0.99,
            top_width: 0.25,
        };
        assert_eq!(row_bands(&rows, 10), (10, 9));
    }

    #[test]
    fn join_puts_top_band_left_bottom_band_right() {
        // 40 rows: top 16 red, bottom 24 blue; top band = rows 0..16, bottom = 16..40.
        let src = RgbImage::from_fn(88, 40, |_, y| if y < 16 { RED } else { BLUE });
        let rows = DoubleRow {
            top: 0.4,
            bottom: 0.4,
            top_width: 0.25,
        };
        let out = join_rows(&src, &rows, 168, 48);
        assert_eq!(out.dimensions(), (168, 48));
        let top_w = 42; // round(0.25 * 168)
        for y in 0..48 {
            for x in 0..168 {
                let want = if x < top_w { RED } else { BLUE };
                assert_eq!(out.get_pixel(x, y), &want, "at ({x}, {y})");
            }
        }
    }

    #[test]
    fn join_copes_with_tiny_crops() {
        let src = RgbImage::from_pixel(1, 1, RED);
        let rows = DoubleRow {
            top: 0.35,
            bottom: 0.35,
            top_width: 0.3,
        };
        let out = join_rows(&src, &rows, 168, 48);
        assert_eq!(out.dimensions(), (168, 48));
        assert!(out.pixels().all(|p| *p == RED));
    }
}
