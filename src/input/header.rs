//! The header line of CSV and TSV input. The two formats handle it the
//! same way and differ only in how a record is read, so each supplies
//! that ([`ReadRecord`]) and [`Headed`] does the rest for both.

use super::record::{InputError, Record};

/// Reading one record of CSV or TSV, which the header handling is built on.
pub trait ReadRecord {
    /// As [`super::Reader::read`]. `header`: the record is the header, whose
    /// names are text even when they equal the NULL text. `names`: the
    /// header's, to name a field in an error (empty without one).
    fn read_record(
        &mut self,
        record: &mut Record,
        header: bool,
        names: &[String],
    ) -> Result<bool, InputError>;

    fn bytes_read(&self) -> u64;
}

/// A CSV or TSV reader: the format's records, after the header if any.
pub struct Headed<P> {
    records: P,
    header: Header,
}

impl<P: ReadRecord> Headed<P> {
    /// Not `new`: that is the name of each format's own constructor.
    pub(super) fn wrap(records: P, header: bool) -> Headed<P> {
        Headed {
            records,
            header: Header::new(header),
        }
    }

    pub fn names(&mut self) -> Result<Option<Vec<String>>, InputError> {
        self.load_header();
        self.header.names()
    }

    pub fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        self.load_header();
        if let Some(err) = self.header.unreported_error() {
            return Err(err);
        }
        self.records
            .read_record(record, false, self.header.field_names())
    }

    pub fn bytes_read(&self) -> u64 {
        self.records.bytes_read()
    }

    fn load_header(&mut self) {
        if !self.header.is_pending() {
            return;
        }
        let mut record = Record::new();
        let names = match self.records.read_record(&mut record, true, &[]) {
            Ok(true) => Ok(Some(header_names(&record))),
            Ok(false) => Ok(None),
            Err(err) => Err(err),
        };
        self.header = Header::Loaded {
            names,
            reported: false,
        };
    }
}

/// The header, read on first need by either `names()` or `read()`.
enum Header {
    Absent,
    Pending,
    Loaded {
        names: Result<Option<Vec<String>>, InputError>,
        /// A broken header must reach the caller once even if it only calls
        /// `read()`, but not twice if it asked `names()` first.
        reported: bool,
    },
}

impl Header {
    fn new(present: bool) -> Header {
        if present {
            Header::Pending
        } else {
            Header::Absent
        }
    }

    fn is_pending(&self) -> bool {
        matches!(self, Header::Pending)
    }

    fn names(&mut self) -> Result<Option<Vec<String>>, InputError> {
        match self {
            Header::Absent | Header::Pending => Ok(None),
            Header::Loaded { names, reported } => {
                *reported |= names.is_err();
                names.clone()
            }
        }
    }

    /// The names that errors in later records can give their fields: a
    /// broken or missing header has none.
    fn field_names(&self) -> &[String] {
        match self {
            Header::Loaded {
                names: Ok(Some(names)),
                ..
            } => names,
            _ => &[],
        }
    }

    /// The header's error, if `read()` must still report it.
    fn unreported_error(&mut self) -> Option<InputError> {
        match self {
            Header::Loaded {
                names: Err(err),
                reported: reported @ false,
            } => {
                *reported = true;
                Some(err.clone())
            }
            _ => None,
        }
    }
}

/// The names in a header record, which [`super::check_utf8`] has already
/// passed.
fn header_names(record: &Record) -> Vec<String> {
    record
        .iter()
        .map(|name| String::from_utf8_lossy(name.unwrap_or_default()).into_owned())
        .collect()
}
