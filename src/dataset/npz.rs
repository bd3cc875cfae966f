//! Reading `.npz` archives written by numpy, such as those of the LieConv reference code.
//!
//! The arrays are `ts`, `zs`, `masses` and, for spring networks, `k`; f64 and f32 are accepted.

use std::io::Cursor;
use std::path::Path;

use npyz::npz::NpzArchive;
use npyz::{NpyFile, Order};

use super::{dataset_error, Dataset, RawArrays};
use crate::Result;

/// Parses an `.npz` archive already read into memory.
pub(super) fn read(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let error = |message: String| dataset_error(path, message);
    let mut archive = NpzArchive::new(Cursor::new(bytes))
        .map_err(|e| error(format!("not a readable .npz archive: {e}")))?;

    let mut array = |name: &str| -> Result<Option<(Vec<usize>, Vec<f64>)>> {
        let file = archive
            .by_name(name)
            .map_err(|e| error(format!("cannot read array '{name}': {e}")))?;
        file.map(|npy| read_f64(npy).map_err(|m| error(format!("array '{name}': {m}"))))
            .transpose()
    };
    let missing = |name: &str| error(format!("the archive has no array '{name}'"));

    let raw = RawArrays {
        ts: array("ts")?.ok_or_else(|| missing("ts"))?,
        zs: array("zs")?.ok_or_else(|| missing("zs"))?,
        masses: array("masses")?.ok_or_else(|| missing("masses"))?,
        spring_constants: array("k")?,
    };
    raw.into_dataset(path, None)
}

/// Reads one C-ordered float array as f64 with its shape.
fn read_f64<R: std::io::Read>(npy: NpyFile<R>) -> Result<(Vec<usize>, Vec<f64>), String> {
    if npy.order() != Order::C {
        return Err("Fortran-ordered arrays are not supported; save it with np.ascontiguousarray".into());
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let descr = npy.dtype().descr();
    let values = match descr.trim_matches('\'') {
        "<f8" | ">f8" => npy.into_vec::<f64>().map_err(|e| e.to_string())?,
        "<f4" | ">f4" => npy
            .into_vec::<f32>()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(f64::from)
            .collect(),
        other => return Err(format!("dtype {other} is not supported; use float64 or float32")),
    };
    Ok((shape, values))
}
