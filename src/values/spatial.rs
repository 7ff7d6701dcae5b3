//! Spatial values from one engine's form into another's. Each engine
//! keeps a shape as WKB (the OGC's well-known binary) and says its SRID
//! in a way of its own:
//!
//! - MySQL stores the SRID's 4 bytes (little-endian), then the WKB;
//! - PostGIS writes EWKB: the WKB with the SRID after the geometry type,
//!   which says so with the flag `0x20000000` (in the WKB's byte order);
//! - a plain binary column (PostgreSQL's `bytea`, SQLite's `BLOB`) takes
//!   the WKB alone, what GDAL and every WKB reader take.
//!
//! Only the header of the outermost shape differs between them, so no
//! coordinate is read or rewritten. Shapes with Z or M coordinates, which
//! PostGIS flags in EWKB and MySQL cannot hold, are refused.

/// How an engine's spatial value is laid out (its text is this in hex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpatialForm {
    /// MySQL's stored form: SRID (4 bytes, little-endian), then WKB.
    Mysql,
    /// PostGIS's EWKB.
    Ewkb,
    /// The WKB alone.
    Wkb,
}

const HAS_SRID: u32 = 0x2000_0000;
const HAS_Z: u32 = 0x8000_0000;
const HAS_M: u32 = 0x4000_0000;

/// `bytes` in the form `from` laid out in the form `to`; the error says
/// what is wrong with the value.
pub fn convert(bytes: &[u8], from: SpatialForm, to: SpatialForm) -> Result<Vec<u8>, String> {
    let (srid, wkb) = split(bytes, from)?;
    Ok(join(srid, &wkb, to))
}

/// The SRID (0: none) and the WKB of a value in the form `from`.
fn split(bytes: &[u8], from: SpatialForm) -> Result<(u32, Vec<u8>), String> {
    let not = |what: &str| format!("the value is not {what}");
    match from {
        SpatialForm::Mysql => {
            let (srid, wkb) = bytes
                .split_at_checked(4)
                .filter(|(_, wkb)| header(wkb).is_some())
                .ok_or_else(|| not("MySQL geometry (a 4-byte SRID, then WKB)"))?;
            let srid = u32::from_le_bytes(srid.try_into().expect("4 bytes"));
            Ok((srid, wkb.to_vec()))
        }
        SpatialForm::Wkb => {
            header(bytes).ok_or_else(|| not("WKB"))?;
            Ok((0, bytes.to_vec()))
        }
        SpatialForm::Ewkb => {
            let (little, kind) = header(bytes).ok_or_else(|| not("PostGIS EWKB"))?;
            if kind & (HAS_Z | HAS_M) != 0 {
                let why = "the shape has Z or M coordinates: MySQL and plain WKB keep X and Y only";
                return Err(why.into());
            }
            let mut wkb = Vec::with_capacity(bytes.len());
            wkb.push(bytes[0]);
            wkb.extend_from_slice(&word(kind & !HAS_SRID, little));
            let (srid, rest) = match kind & HAS_SRID {
                0 => (0, &bytes[5..]),
                _ => {
                    let srid = bytes.get(5..9).ok_or_else(|| not("PostGIS EWKB"))?;
                    let srid = srid.try_into().expect("4 bytes");
                    let srid = match little {
                        true => u32::from_le_bytes(srid),
                        false => u32::from_be_bytes(srid),
                    };
                    (srid, &bytes[9..])
                }
            };
            wkb.extend_from_slice(rest);
            Ok((srid, wkb))
        }
    }
}

/// `wkb` with `srid` in the form `to`.
fn join(srid: u32, wkb: &[u8], to: SpatialForm) -> Vec<u8> {
    let mut out = Vec::with_capacity(wkb.len() + 4);
    match to {
        SpatialForm::Mysql => {
            out.extend_from_slice(&srid.to_le_bytes());
            out.extend_from_slice(wkb);
        }
        SpatialForm::Ewkb if srid != 0 => {
            let (little, kind) = header(wkb).expect("checked by split");
            out.push(wkb[0]);
            out.extend_from_slice(&word(kind | HAS_SRID, little));
            out.extend_from_slice(&word(srid, little));
            out.extend_from_slice(&wkb[5..]);
        }
        SpatialForm::Ewkb | SpatialForm::Wkb => out.extend_from_slice(wkb),
    }
    out
}

/// A WKB's byte order (little-endian?) and geometry type, when it has
/// the 5-byte header and one more byte at least.
fn header(wkb: &[u8]) -> Option<(bool, u32)> {
    let little = match wkb.first()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let kind: [u8; 4] = wkb.get(1..5)?.try_into().ok()?;
    if wkb.len() < 6 {
        return None;
    }
    Some((
        little,
        match little {
            true => u32::from_le_bytes(kind),
            false => u32::from_be_bytes(kind),
        },
    ))
}

fn word(value: u32, little: bool) -> [u8; 4] {
    match little {
        true => value.to_le_bytes(),
        false => value.to_be_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SpatialForm::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    // POINT(1 2), little-endian, after its header.
    const XY: &str = "000000000000F03F0000000000000040";

    #[test]
    fn srid_4326_moves_between_mysql_and_ewkb() {
        // What MySQL stores for ST_GeomFromText('POINT(1 2)', 4326), and
        // what PostGIS writes for SRID=4326;POINT(1 2).
        let mysql = hex(&format!("E61000000101000000{XY}"));
        let ewkb = hex(&format!("0101000020E6100000{XY}"));
        let wkb = hex(&format!("0101000000{XY}"));
        assert_eq!(convert(&mysql, Mysql, Ewkb).unwrap(), ewkb);
        assert_eq!(convert(&ewkb, Ewkb, Mysql).unwrap(), mysql);
        assert_eq!(convert(&ewkb, Ewkb, Wkb).unwrap(), wkb);
        assert_eq!(convert(&mysql, Mysql, Wkb).unwrap(), wkb);
    }

    #[test]
    fn no_srid_is_plain_wkb_and_big_endian_keeps_its_order() {
        let wkb = hex(&format!("0101000000{XY}"));
        let mysql = hex(&format!("000000000101000000{XY}"));
        assert_eq!(convert(&wkb, Ewkb, Mysql).unwrap(), mysql);
        assert_eq!(convert(&mysql, Mysql, Ewkb).unwrap(), wkb);
        // POINT(1 2) in big-endian WKB, SRID 4326.
        let coords = "3FF00000000000004000000000000000";
        let big = hex(&format!("E61000000000000001{coords}"));
        let ewkb = hex(&format!("0020000001000010E6{coords}"));
        assert_eq!(convert(&big, Mysql, Ewkb).unwrap(), ewkb);
        assert_eq!(convert(&ewkb, Ewkb, Mysql).unwrap(), big);
    }

    #[test]
    fn what_is_not_a_shape_or_has_z_is_refused() {
        assert!(convert(&hex("E6100000"), Mysql, Wkb)
            .unwrap_err()
            .contains("not MySQL geometry"));
        assert!(convert(&hex("E61000000501000000"), Mysql, Wkb).is_err());
        // SRID=4326;POINT Z (1 2 3): Z flag and SRID flag.
        let z = hex(&format!("01010000A0E6100000{XY}0000000000000840"));
        assert!(convert(&z, Ewkb, Mysql).unwrap_err().contains("Z or M"));
    }
}
