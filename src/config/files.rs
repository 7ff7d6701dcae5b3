//! What the names of the files a command reads and writes, and the flags
//! about them, imply: the format from an extension, gzip or zstd, numbered
//! parts, Parquet's options, sizes; and which of them cannot go together.
//! All of it is checked before anything connects.

use super::*;

/// `--row-group-size` and `--parquet-compression`, which only Parquet
/// takes; and the flags Parquet does not take, each named.
pub(super) fn parquet_options(
    args: &ExportArgs,
    format: Format,
) -> Result<ParquetOptions, UsageError> {
    if format != Format::Parquet {
        for (flag, given) in [
            ("--row-group-size", args.row_group_size.is_some()),
            ("--parquet-compression", args.parquet_compression.is_some()),
        ] {
            if given {
                return Err(UsageError(format!(
                    "{flag} applies to --format parquet, but the format is {}",
                    format.name()
                )));
            }
        }
        return Ok(ParquetOptions::default());
    }
    let text_only = [
        ("--null", args.text.null.is_some()),
        ("--no-header", args.text.no_header),
    ];
    if let Some((flag, _)) = text_only.iter().find(|(_, given)| *given) {
        return Err(UsageError(format!(
            "{flag} applies to csv and tsv; Parquet has no header line and stores NULL as a \
             missing value: drop {flag}"
        )));
    }
    let resumable = args.state.is_some() && args.incremental.is_none();
    if resumable || args.resume || args.resume_from.is_some() {
        return Err(UsageError(
            "--state and --resume do not work with Parquet yet: its footer is written last, so a \
             stopped export cannot be continued (a failed one leaves no file behind); run it \
             again, or export csv/tsv/ndjson to resume"
                .into(),
        ));
    }
    if args.parallel > 1 {
        return Err(UsageError(
            "--parallel does not work with Parquet yet (one file gets one writer): drop \
             --parallel, or export csv/tsv/ndjson in parallel"
                .into(),
        ));
    }
    let mut options = ParquetOptions::default();
    if let Some(size) = &args.row_group_size {
        options.row_group_bytes = parse_size(size).ok_or_else(|| {
            UsageError(format!(
                "--row-group-size {size:?} is not a size: use bytes, or 64MB, 512KiB, 1GB"
            ))
        })?;
    }
    if let Some(codec) = &args.parquet_compression {
        options.compression =
            crate::format::parquet::Compression::parse(codec).map_err(UsageError)?;
    }
    Ok(options)
}

/// `--split-rows`/`--split-bytes`: a file name to number the parts after,
/// none of the flags splitting cannot honour, and no parts of an earlier
/// export under the name unless `--overwrite` (a rerun must not mix its
/// parts with older ones).
pub(super) fn split_plan(
    args: &ExportArgs,
    destination: &Destination,
) -> Result<Option<crate::split::Split>, UsageError> {
    use crate::split::{Limit, Split};
    if args.overwrite && args.split_rows.is_none() && args.split_bytes.is_none() {
        return Err(UsageError(
            "--overwrite goes with --split-rows or --split-bytes (a single --output file is \
             always replaced): drop --overwrite"
                .into(),
        ));
    }
    let (flag, limit) = match (args.split_rows, &args.split_bytes) {
        (Some(rows), _) => ("--split-rows", Limit::Rows(rows)),
        (None, Some(size)) => {
            let bytes = parse_size(size).ok_or_else(|| {
                UsageError(format!(
                    "--split-bytes {size:?} is not a size: use bytes, or 100MB, 512KiB, 1GB"
                ))
            })?;
            ("--split-bytes", Limit::Bytes(bytes as u64))
        }
        (None, None) => return Ok(None),
    };
    let base = match destination {
        Destination::File(path) => path,
        Destination::Stdout => {
            return Err(UsageError(format!(
                "{flag} writes numbered files named after --output, and stdout cannot be split: \
                 give -o NAME (e.g. -o orders.csv.zst for orders.00001.csv.zst, ...)"
            )))
        }
    };
    if let Ok(crate::place::Place::Stream(_)) = crate::place::Place::of(base) {
        return Err(UsageError(format!(
            "{flag}: --output {} is a device, FIFO or socket; the parts are numbered files \
             beside the name: give the name of a file",
            base.display()
        )));
    }
    let refused = [
        ("--state", args.state.is_some()),
        ("--resume-from", args.resume_from.is_some()),
        ("--parallel", args.parallel > 1),
    ];
    if let Some((other, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(UsageError(format!(
            "{flag} does not work with {other} yet: a split export is rerun whole (with \
             --overwrite); drop {other}, or export one file"
        )));
    }
    if !args.overwrite {
        let existing = crate::split::existing_parts(base)
            .map_err(|e| UsageError(format!("{flag}: looking for earlier parts: {e}")))?;
        if let Some(first) = existing.first() {
            return Err(UsageError(format!(
                "{flag}: {} and {} other part(s) of an earlier export exist; new parts must not \
                 mix with them: remove them, or give --overwrite to remove them before writing",
                first.display(),
                existing.len() - 1
            )));
        }
    }
    Ok(Some(Split {
        limit,
        base: base.clone(),
        overwrite: args.overwrite,
    }))
}

/// `1048576`, `64MB`, `512KiB`, `1g`: decimal units (kB, MB, GB) and
/// binary ones (KiB, MiB, GiB); at least one byte.
pub(super) fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse().ok()?;
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor).filter(|&n| n > 0)
}

/// `--chunk 0` or `--batch 0` would never move.
pub(super) fn at_least_one(flag: &str, value: u64) -> Result<(), UsageError> {
    match value {
        0 => Err(UsageError(format!("{flag} must be at least 1"))),
        _ => Ok(()),
    }
}

/// The format the file name `name` implies (`path` less the `.gz` an
/// input may carry), csv for a name without an extension, and a usage
/// error for an extension dbchunk does not know: data in the wrong format
/// under a trusted name is worse than stopping.
pub(super) fn format_of(
    flag: &str,
    path: &str,
    name: &str,
    verb: &str,
) -> Result<Format, UsageError> {
    let format = Format::from_path(name).map_err(|unknown| {
        UsageError(format!(
            "{flag} {path}: {unknown}: give --format csv, tsv, ndjson or parquet to {verb} it \
             anyway (a .gz or .zst after the format's extension compresses it)"
        ))
    })?;
    Ok(format.unwrap_or(Format::Csv))
}

/// An input name without the `.gz` or `.zst` it is decompressed for.
pub(super) fn input_name(path: &str) -> Result<&str, UsageError> {
    match Suffix::of(path) {
        Suffix::Plain(name) | Suffix::Compressed(_, name) => Ok(name),
        Suffix::Unsupported(tool) => Err(UsageError(format!(
            "--input {path}: dbchunk reads gzip (.gz) and zstd (.zst), not {tool}: decompress it \
             first, e.g. {tool} -dc {path} | dbchunk import ..."
        ))),
    }
}

/// A path dbchunk cannot write to at all (a directory) is found before
/// connecting. Devices and FIFOs are fine: they are written in place.
pub(super) fn check_place(flag: &str, path: &str) -> Result<crate::place::Place, UsageError> {
    crate::place::Place::of(std::path::Path::new(path))
        .map_err(|e| UsageError(format!("{flag}: {e}")))
}

/// A state file must be a file: `--resume` reads it back, and a device
/// keeps nothing.
pub(super) fn check_state_file(path: &str) -> Result<(), UsageError> {
    match check_place("--state", path)? {
        crate::place::Place::File(_) => Ok(()),
        crate::place::Place::Stream(_) => Err(UsageError(format!(
            "--state {path} is a device, FIFO or socket, not a regular file: --resume reads the \
             state back from it; give the path of a file"
        ))),
    }
}

/// Parquet input names its fields and stores NULL as a missing value, and
/// compresses inside the file: the text-only flags and a compressed name
/// are refused by name.
pub(super) fn check_parquet_input(
    no_header: bool,
    null: bool,
    input: Option<&str>,
) -> Result<(), UsageError> {
    for (flag, given) in [("--no-header", no_header), ("--null", null)] {
        if given {
            return Err(UsageError(format!(
                "{flag} applies to csv and tsv; Parquet names its fields in its schema and \
                 stores NULL as a missing value: drop {flag}"
            )));
        }
    }
    if let Some(path) = input {
        if let Suffix::Compressed(_, _) = Suffix::of(path) {
            return Err(UsageError(format!(
                "--input {path}: Parquet compresses inside the file, and dbchunk does not read \
                 a Parquet file in gzip or zstd: decompress it first"
            )));
        }
    }
    Ok(())
}

/// Parquet compresses each column inside the file; a gzip or zstd stream
/// around it would make a file no Parquet reader opens.
pub(super) fn check_parquet_not_wrapped(
    format: Option<Format>,
    output: Option<&str>,
    compress: Option<&str>,
) -> Result<(), UsageError> {
    let lower = output.unwrap_or_default().to_ascii_lowercase();
    let wrapped_name = [".parquet.gz", ".parquet.zst", ".parquet.bz2", ".parquet.xz"]
        .iter()
        .any(|suffix| lower.ends_with(suffix));
    let parquet = format == Some(Format::Parquet)
        || (format.is_none() && (lower.ends_with(".parquet") || wrapped_name));
    if parquet && (wrapped_name || compress.is_some()) {
        return Err(UsageError(
            "Parquet compresses inside the file (zstd unless --parquet-compression says \
             snappy, gzip or none): name the file .parquet and drop --compress"
                .into(),
        ));
    }
    Ok(())
}

/// The compression of the output, from `--compress` and the `--output`
/// name, and the name the format is read from (without `.gz`/`.zst`).
/// A name and a flag that disagree, or a plain format's name for
/// compressed bytes, would label a file wrongly: both are usage errors.
pub(super) fn output_compression(
    path: Option<&str>,
    flag: Option<Compression>,
) -> Result<(Option<Compression>, Option<&str>), UsageError> {
    let Some(path) = path else {
        return Ok((flag, None));
    };
    match Suffix::of(path) {
        Suffix::Unsupported(tool) => Err(UsageError(format!(
            "--output {path}: dbchunk compresses with gzip (.gz) or zstd (.zst), not {tool}: name \
             the file .gz or .zst, or pipe plain output: dbchunk export ... | {tool} > {path}"
        ))),
        Suffix::Compressed(codec, name) => match flag {
            Some(flag) if flag.codec != codec => Err(UsageError(format!(
                "--output {path} names {} data but --compress is {}: name the file .{} or drop \
                 --compress",
                codec.name(),
                flag.codec.name(),
                flag.codec.extension()
            ))),
            Some(flag) => Ok((Some(flag), Some(name))),
            None => Ok((Some(Compression::new(codec)), Some(name))),
        },
        Suffix::Plain(name) => match flag {
            Some(flag) if matches!(Format::from_path(name), Ok(Some(_))) => {
                Err(UsageError(format!(
                    "--output {path} names plain text but --compress is {}: name the file \
                     {path}.{}",
                    flag.codec.name(),
                    flag.codec.extension()
                )))
            }
            flag => Ok((flag, Some(name))),
        },
    }
}
