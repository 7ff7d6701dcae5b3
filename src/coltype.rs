//! The portable type of an output column: what the catalog (or a query's
//! result metadata) says a column holds, in words every engine and every
//! typed format share.
//!
//! Text formats do not need it (every value has one canonical text), but
//! typed formats do: Parquet's schema is written before the first row, so
//! it must come from the catalog, never from the data. The same vocabulary
//! is what a Parquet import maps back from and what creating a table on
//! another engine needs, so it stays engine-neutral and small.

/// What the values of one column are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Bool,
    /// A whole number of `bits` bits (8, 16, 32 or 64).
    Int {
        bits: u8,
        signed: bool,
    },
    Float32,
    Float64,
    /// An exact decimal with a declared precision and scale.
    Decimal {
        precision: u32,
        scale: u32,
    },
    Date,
    /// A time of day, to the microsecond.
    Time,
    /// A date and time to the microsecond; `utc` for an instant
    /// (`timestamptz`, MySQL `TIMESTAMP`), not for a wall-clock reading
    /// (`timestamp`, `DATETIME`).
    Timestamp {
        utc: bool,
    },
    /// Character data.
    Text,
    /// One label out of a declared set.
    Enum,
    Binary,
    Uuid,
    Json,
    /// A type with no faithful typed form elsewhere (an interval, a range,
    /// a `numeric` without declared precision, MySQL `BIT` or `SET`, …):
    /// carried as its canonical text.
    Other,
}

/// The types whose [`ColType::name`] carries no size or precision.
const UNSIZED: [ColType; 13] = [
    ColType::Bool,
    ColType::Float32,
    ColType::Float64,
    ColType::Date,
    ColType::Time,
    ColType::Timestamp { utc: false },
    ColType::Timestamp { utc: true },
    ColType::Text,
    ColType::Enum,
    ColType::Binary,
    ColType::Uuid,
    ColType::Json,
    ColType::Other,
];

impl ColType {
    /// A PostgreSQL column from its catalog: `typname` (`int4`,
    /// `timestamptz`), `format_type()` (`numeric(10,2)`), and whether it is
    /// an array or an enum. Arrays are written as their JSON form.
    pub fn postgres(typname: &str, formatted: &str, is_array: bool, is_enum: bool) -> ColType {
        if is_array {
            return ColType::Json;
        }
        if is_enum {
            return ColType::Enum;
        }
        match typname {
            "bool" => ColType::Bool,
            "int2" => ColType::int(16, true),
            "int4" => ColType::int(32, true),
            "int8" => ColType::int(64, true),
            "oid" => ColType::int(32, false),
            "float4" => ColType::Float32,
            "float8" => ColType::Float64,
            "numeric" => precision_scale(formatted).map_or(ColType::Other, |(precision, scale)| {
                ColType::Decimal { precision, scale }
            }),
            "date" => ColType::Date,
            "time" => ColType::Time,
            "timestamp" => ColType::Timestamp { utc: false },
            "timestamptz" => ColType::Timestamp { utc: true },
            "text" | "varchar" | "bpchar" | "name" => ColType::Text,
            "bytea" => ColType::Binary,
            "uuid" => ColType::Uuid,
            "json" | "jsonb" => ColType::Json,
            _ => ColType::Other,
        }
    }

    /// A SQLite column from its declared type, by SQLite's own affinity
    /// rules (an `INT` anywhere in the name is an integer, and so on), with
    /// the few conventional names that mean more (`BOOLEAN`, `DATE`,
    /// `DATETIME`, `JSON`). No declared type (an expression in a query)
    /// can hold anything: its canonical text.
    pub fn sqlite(declared: &str) -> ColType {
        let decl = declared.to_ascii_uppercase();
        let name = decl.split('(').next().unwrap_or("").trim();
        if decl.contains("INT") {
            ColType::int(64, true)
        } else if decl.contains("CHAR") || decl.contains("CLOB") || decl.contains("TEXT") {
            ColType::Text
        } else if decl.contains("BLOB") {
            ColType::Binary
        } else if decl.contains("REAL") || decl.contains("FLOA") || decl.contains("DOUB") {
            ColType::Float64
        } else if name.is_empty() {
            ColType::Other
        } else {
            match name {
                "BOOL" | "BOOLEAN" => ColType::Bool,
                "DATE" => ColType::Date,
                "DATETIME" | "TIMESTAMP" => ColType::Timestamp { utc: false },
                "JSON" => ColType::Json,
                // NUMERIC affinity: integers and reals, as stored.
                _ => ColType::Float64,
            }
        }
    }

    /// A MySQL/MariaDB column from `information_schema.COLUMNS`: its
    /// `DATA_TYPE` (`int`, `decimal`) and `COLUMN_TYPE` (`int(10) unsigned`,
    /// `decimal(10,2)`), as the result metadata would type it.
    pub fn mysql(data_type: &str, column_type: &str) -> ColType {
        let column_type = column_type.to_ascii_lowercase();
        let signed = !column_type.contains("unsigned");
        match data_type.to_ascii_lowercase().as_str() {
            "tinyint" => ColType::int(8, signed),
            "smallint" => ColType::int(16, signed),
            "mediumint" | "int" | "integer" => ColType::int(32, signed),
            "bigint" => ColType::int(64, signed),
            "year" => ColType::int(16, true),
            "float" => ColType::Float32,
            "double" | "real" => ColType::Float64,
            "decimal" | "numeric" => {
                precision_scale(&column_type).map_or(ColType::Other, |(precision, scale)| {
                    ColType::Decimal { precision, scale }
                })
            }
            "date" => ColType::Date,
            "datetime" => ColType::Timestamp { utc: false },
            "timestamp" => ColType::Timestamp { utc: true },
            "time" => ColType::Time,
            "json" => ColType::Json,
            "enum" => ColType::Enum,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                ColType::Binary
            }
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => ColType::Text,
            _ => ColType::Other,
        }
    }

    /// The portable type's name in a dump's manifest and docs/types.md:
    /// `int32`, `uint64`, `decimal(10,2)`, `timestamptz`, ...
    pub fn name(self) -> String {
        match self {
            ColType::Bool => "bool".into(),
            ColType::Int { bits, signed: true } => format!("int{bits}"),
            ColType::Int {
                bits,
                signed: false,
            } => format!("uint{bits}"),
            ColType::Float32 => "float32".into(),
            ColType::Float64 => "float64".into(),
            ColType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            ColType::Date => "date".into(),
            ColType::Time => "time".into(),
            ColType::Timestamp { utc: false } => "timestamp".into(),
            ColType::Timestamp { utc: true } => "timestamptz".into(),
            ColType::Text => "text".into(),
            ColType::Enum => "enum".into(),
            ColType::Binary => "binary".into(),
            ColType::Uuid => "uuid".into(),
            ColType::Json => "json".into(),
            ColType::Other => "other".into(),
        }
    }

    /// The type a [`ColType::name`] names.
    pub fn from_name(name: &str) -> Option<ColType> {
        let int = |digits: &str, signed| {
            let bits = digits
                .parse()
                .ok()
                .filter(|b| [8, 16, 32, 64].contains(b))?;
            Some(ColType::int(bits, signed))
        };
        if let Some(bits) = name.strip_prefix("uint") {
            return int(bits, false);
        }
        if let Some(bits) = name.strip_prefix("int") {
            return int(bits, true);
        }
        if name.starts_with("decimal(") {
            let (precision, scale) = precision_scale(name)?;
            return Some(ColType::Decimal { precision, scale });
        }
        UNSIZED.into_iter().find(|ty| ty.name() == name)
    }

    /// A whole number of `bits` bits.
    pub const fn int(bits: u8, signed: bool) -> ColType {
        ColType::Int { bits, signed }
    }

    /// Whether values of this type are character data, which must be
    /// valid UTF-8 in formats that type them as strings.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            ColType::Text | ColType::Enum | ColType::Json | ColType::Other
        )
    }
}

/// `(p,s)` from `numeric(10,2)` or `(p,0)` from `numeric(10)`; `None` for
/// a bare `numeric`, whose values can have any precision.
/// Whether a MySQL `DATA_TYPE` is spatial. Such a value is the bytes
/// MySQL stores (the SRID's 4 bytes, little-endian, then the WKB); its
/// portable type is `other`, and a restore into another engine rewrites
/// it as that engine keeps shapes (`values::spatial`).
pub fn is_mysql_spatial(data_type: &str) -> bool {
    matches!(
        data_type.to_ascii_lowercase().as_str(),
        "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "geomcollection"
    )
}

/// Whether a PostgreSQL column type (as `format_type` writes it) is
/// PostGIS's `geometry`, whose text is hex EWKB.
pub fn is_postgis_geometry(formatted: &str) -> bool {
    formatted == "geometry" || formatted.starts_with("geometry(")
}

fn precision_scale(formatted: &str) -> Option<(u32, u32)> {
    let inner = formatted.split_once('(')?.1.strip_suffix(')')?;
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>());
    let precision = parts.next()?.ok()?;
    let scale = match parts.next() {
        Some(s) => s.ok()?,
        None => 0,
    };
    Some((precision, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numeric_keeps_its_declared_precision() {
        assert_eq!(
            ColType::postgres("numeric", "numeric(10,2)", false, false),
            ColType::Decimal {
                precision: 10,
                scale: 2
            }
        );
        assert_eq!(
            ColType::postgres("numeric", "numeric(7)", false, false),
            ColType::Decimal {
                precision: 7,
                scale: 0
            }
        );
        assert_eq!(
            ColType::postgres("numeric", "numeric", false, false),
            ColType::Other
        );
        assert_eq!(
            ColType::postgres("int4", "integer[]", true, false),
            ColType::Json
        );
    }

    #[test]
    fn portable_names_read_back() {
        let sized = [
            ColType::int(8, false),
            ColType::int(64, true),
            ColType::Decimal {
                precision: 38,
                scale: 9,
            },
        ];
        for ty in UNSIZED.into_iter().chain(sized) {
            assert_eq!(ColType::from_name(&ty.name()), Some(ty), "{}", ty.name());
        }
        assert_eq!(ColType::from_name("int12"), None);
        assert_eq!(ColType::from_name("varchar"), None);
    }

    #[test]
    fn mysql_reads_unsigned_and_decimals_from_the_column_type() {
        assert_eq!(
            ColType::mysql("int", "int(10) unsigned"),
            ColType::int(32, false)
        );
        assert_eq!(
            ColType::mysql("decimal", "decimal(12,3)"),
            ColType::Decimal {
                precision: 12,
                scale: 3
            }
        );
        assert_eq!(
            ColType::mysql("timestamp", "timestamp(6)"),
            ColType::Timestamp { utc: true }
        );
        assert_eq!(ColType::mysql("set", "set('a','b')"), ColType::Other);
        assert_eq!(ColType::mysql("longblob", "longblob"), ColType::Binary);
    }

    #[test]
    fn sqlite_follows_affinity() {
        assert_eq!(ColType::sqlite("BIGINT"), ColType::int(64, true));
        assert_eq!(ColType::sqlite("varchar(20)"), ColType::Text);
        assert_eq!(ColType::sqlite("DOUBLE PRECISION"), ColType::Float64);
        assert_eq!(ColType::sqlite("decimal(10,2)"), ColType::Float64);
        assert_eq!(ColType::sqlite("boolean"), ColType::Bool);
        assert_eq!(
            ColType::sqlite("DATETIME"),
            ColType::Timestamp { utc: false }
        );
        assert_eq!(ColType::sqlite(""), ColType::Other);
        assert_eq!(ColType::sqlite("blob"), ColType::Binary);
    }
}
