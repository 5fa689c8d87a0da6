//! Exports of a result: CSV written row by row to any [`std::io::Write`] ([`CsvWriter`]),
//! JSON ([`to_json`]) and XLSX ([`to_xlsx`]).
//!
//! Every format keys columns by their labels ([`crate::unique_names`]: a repeated name gets
//! `_2`, `_3`…). Masked columns hold whatever the rows hold — the guard masked them before
//! the rows got here — and are exported as they are: nothing here tries to recover a value.
//!
//! **Formula injection.** A spreadsheet opening a CSV runs a cell that starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return as a formula. [`CsvWriter`] prefixes such text
//! cells (and header labels) with a single quote `'`, which spreadsheets show as text; plain
//! numbers (`-12.5`, whether JSON numbers or DECIMAL strings) are left alone since they
//! cannot be formulas. XLSX needs no such defence: cells are written as typed strings,
//! never as formulas.

use std::io::{self, Write};

use querent_domain::query::{ColumnMeta, Row};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

use crate::ResultsError;
use crate::values::{
    ColumnKind, as_bool, as_number, column_kinds, parse_decimal, parse_iso, unique_names,
};

/// Data rows one XLSX sheet can hold (1,048,576 rows less the header).
pub const XLSX_MAX_ROWS: usize = 1_048_575;
/// Columns one XLSX sheet can hold.
pub const XLSX_MAX_COLUMNS: usize = 16_384;
/// Characters one XLSX cell can hold; longer text is cut.
const XLSX_MAX_CELL_CHARS: usize = 32_767;

/// Writes CSV (RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote or line
/// break quoted and their quotes doubled) incrementally: the header when created, then each
/// row as it comes. Nulls are empty fields; booleans `true`/`false`; arrays and objects
/// their JSON text. See the module doc for the formula-injection defence.
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use querent_results::CsvWriter;
/// use serde_json::json;
///
/// let columns = [
///     ColumnMeta { name: "name".into(), type_name: "text".into(), masked: false },
///     ColumnMeta { name: "note".into(), type_name: "text".into(), masked: false },
/// ];
/// let mut csv = CsvWriter::new(Vec::new(), &columns)?;
/// csv.write_row(&vec![json!("Smith, J."), json!("=1+1")])?;
/// csv.write_row(&vec![json!(null), json!("say \"hi\"")])?;
/// let bytes = csv.finish()?;
/// assert_eq!(
///     String::from_utf8(bytes).unwrap(),
///     "name,note\r\n\"Smith, J.\",'=1+1\r\n,\"say \"\"hi\"\"\"\r\n"
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    out: W,
    columns: usize,
    line: String,
}

impl<W: Write> CsvWriter<W> {
    /// Starts a CSV export: writes the header line.
    pub fn new(out: W, columns: &[ColumnMeta]) -> io::Result<Self> {
        let mut w = Self {
            out,
            columns: columns.len(),
            line: String::new(),
        };
        for (i, label) in unique_names(columns).iter().enumerate() {
            w.field(i, label, true);
        }
        w.end_line()?;
        Ok(w)
    }

    /// Writes one row (a short row's missing values are empty fields).
    pub fn write_row(&mut self, row: &Row) -> io::Result<()> {
        for i in 0..self.columns {
            match row.get(i).unwrap_or(&Value::Null) {
                Value::Null => self.field(i, "", false),
                Value::String(s) => self.field(i, s, true),
                Value::Bool(b) => self.field(i, if *b { "true" } else { "false" }, false),
                Value::Number(n) => self.field(i, &n.to_string(), false),
                other => self.field(i, &other.to_string(), true),
            }
        }
        self.end_line()
    }

    /// Writes rows.
    pub fn write_rows(&mut self, rows: &[Row]) -> io::Result<()> {
        rows.iter().try_for_each(|r| self.write_row(r))
    }

    /// Flushes and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn field(&mut self, i: usize, text: &str, is_text: bool) {
        if i > 0 {
            self.line.push(',');
        }
        let guard = is_text
            && text.starts_with(['=', '+', '-', '@', '\t', '\r'])
            && parse_decimal(text).is_none();
        let quote = text.contains([',', '"', '\r', '\n']);
        if quote {
            self.line.push('"');
        }
        if guard {
            self.line.push('\'');
        }
        if quote {
            self.line.push_str(&text.replace('"', "\"\""));
            self.line.push('"');
        } else {
            self.line.push_str(text);
        }
    }

    fn end_line(&mut self) -> io::Result<()> {
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())?;
        self.line.clear();
        Ok(())
    }
}

/// The rows as a JSON array of objects keyed by column label, in column order (values as
/// they are: integers, DECIMAL strings, ISO strings, booleans, nulls).
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use serde_json::json;
///
/// let col = |n: &str| ColumnMeta { name: n.into(), type_name: "int4".into(), masked: false };
/// let bytes = querent_results::to_json(&[col("b"), col("a"), col("a")], &[vec![json!(1), json!(2), json!(null)]]);
/// assert_eq!(String::from_utf8(bytes).unwrap(), r#"[{"b":1,"a":2,"a_2":null}]"#);
/// ```
pub fn to_json(columns: &[ColumnMeta], rows: &[Row]) -> Vec<u8> {
    let keys: Vec<String> = unique_names(columns)
        .iter()
        .map(|l| Value::String(l.clone()).to_string())
        .collect();
    let mut out = Vec::with_capacity(rows.len() * columns.len() * 16 + 2);
    out.push(b'[');
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key.as_bytes());
            out.push(b':');
            let v = row.get(i).unwrap_or(&Value::Null);
            out.extend_from_slice(v.to_string().as_bytes());
        }
        out.push(b'}');
    }
    out.push(b']');
    out
}

/// The result as an XLSX workbook of one sheet named `sheet_name` (cut to Excel's 31
/// characters, `[]:*?/\` replaced by `_`; `Results` if nothing is left): a bold, frozen
/// header row, then typed cells — numbers for numeric columns (DECIMAL strings included,
/// unless they carry more than 15 significant digits, which Excel would round: those stay
/// text), booleans, dates and date-times as Excel dates with a `yyyy-mm-dd` /
/// `yyyy-mm-dd hh:mm:ss` format (the wall-clock time as written; the offset is not kept),
/// everything else as text. Column widths follow the content (from 8 to 60 characters).
///
/// Fails with [`ResultsError::TooManyRows`] beyond [`XLSX_MAX_ROWS`] rows,
/// [`ResultsError::TooManyColumns`] beyond [`XLSX_MAX_COLUMNS`].
///
/// ```
/// use querent_domain::query::ColumnMeta;
/// use serde_json::json;
///
/// let columns = [ColumnMeta { name: "day".into(), type_name: "date".into(), masked: false }];
/// let bytes = querent_results::to_xlsx(&columns, &[vec![json!("2024-05-01")]], "Orders")?;
/// assert!(bytes.starts_with(b"PK"));
/// # Ok::<(), querent_results::ResultsError>(())
/// ```
pub fn to_xlsx(
    columns: &[ColumnMeta],
    rows: &[Row],
    sheet_name: &str,
) -> Result<Vec<u8>, ResultsError> {
    if rows.len() > XLSX_MAX_ROWS {
        return Err(ResultsError::TooManyRows {
            rows: rows.len(),
            max: XLSX_MAX_ROWS,
        });
    }
    if columns.len() > XLSX_MAX_COLUMNS {
        return Err(ResultsError::TooManyColumns {
            columns: columns.len(),
            max: XLSX_MAX_COLUMNS,
        });
    }
    let kinds = column_kinds(columns, rows);
    let labels = unique_names(columns);
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let time = Format::new().set_num_format("hh:mm:ss");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_title(sheet_name))?;
    let mut widths: Vec<usize> = labels.iter().map(|l| l.chars().count()).collect();
    for (c, label) in labels.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, label.as_str(), &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        // Both bounds were checked above: r < 1,048,575 and c < 16,384 fit.
        let xr = (r + 1) as u32;
        for (c, kind) in kinds.iter().enumerate() {
            let xc = c as u16;
            let v = row.get(c).unwrap_or(&Value::Null);
            let mut shown = 0;
            match cell(*kind, v) {
                Cell::Empty => {}
                Cell::Number(x) => {
                    sheet.write_number(xr, xc, x)?;
                    shown = 12;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(xr, xc, b)?;
                    shown = 5;
                }
                Cell::Date(serial, which) => {
                    let (format, w) = match which {
                        DateForm::Date => (&date, 10),
                        DateForm::DateTime => (&datetime, 19),
                        DateForm::Time => (&time, 8),
                    };
                    sheet.write_number_with_format(xr, xc, serial, format)?;
                    shown = w;
                }
                Cell::Text(s) => {
                    let s: String = s.chars().take(XLSX_MAX_CELL_CHARS).collect();
                    shown = s.chars().count();
                    sheet.write_string(xr, xc, s)?;
                }
            }
            if r < 1_000 {
                widths[c] = widths[c].max(shown);
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w + 2).clamp(8, 60) as f64)?;
    }
    Ok(workbook.save_to_buffer()?)
}

enum DateForm {
    Date,
    DateTime,
    Time,
}

enum Cell {
    Empty,
    Number(f64),
    Bool(bool),
    Date(f64, DateForm),
    Text(String),
}

/// How a value goes into a cell, given its column's kind.
fn cell(kind: ColumnKind, v: &Value) -> Cell {
    match (kind, v) {
        (_, Value::Null) => Cell::Empty,
        (_, Value::Bool(b)) => Cell::Bool(*b),
        (ColumnKind::Boolean, v) if as_bool(v).is_some() => {
            as_bool(v).map_or(Cell::Empty, Cell::Bool)
        }
        (_, Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            // Excel keeps 15 significant digits: larger integers (ids) stay exact as text.
            (Some(i), _) if i.unsigned_abs() > (1 << 53) => Cell::Text(i.to_string()),
            (None, _) if n.as_u64().is_some() => Cell::Text(n.to_string()),
            (_, Some(x)) => Cell::Number(x),
            _ => Cell::Text(n.to_string()),
        },
        (ColumnKind::Numeric, Value::String(s)) => match as_number(v) {
            Some(x) if significant_digits(s) <= 15 => Cell::Number(x),
            _ => Cell::Text(s.clone()),
        },
        (ColumnKind::Temporal, Value::String(s)) => {
            excel_date(s).unwrap_or_else(|| Cell::Text(s.clone()))
        }
        _ => Cell::Text(text(v)),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn significant_digits(s: &str) -> usize {
    let mantissa = s.split(['e', 'E']).next().unwrap_or(s);
    mantissa
        .chars()
        .filter(char::is_ascii_digit)
        .skip_while(|c| *c == '0')
        .count()
}

/// An ISO date, date-time or time as an Excel serial number (days since 1899-12-30), for
/// dates from 1900-03-01 (Excel's 1900 leap-year bug makes earlier serials wrong) to 9999.
fn excel_date(s: &str) -> Option<Cell> {
    let c = parse_iso(s)?;
    let fraction = c.nanos as f64 / 86_400e9;
    if !c.has_date {
        return Some(Cell::Date(fraction, DateForm::Time));
    }
    let serial = c.days + 25_569;
    if !(61..=2_958_465).contains(&serial) {
        return None;
    }
    let form = if c.has_time {
        DateForm::DateTime
    } else {
        DateForm::Date
    };
    Some(Cell::Date(serial as f64 + fraction, form))
}

/// A legal sheet name: at most 31 characters, none of `[]:*?/\`, not starting or ending
/// with `'`, not empty.
fn sheet_title(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if "[]:*?/\\".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(31)
        .collect();
    let trimmed = cleaned.trim_matches('\'').trim();
    if trimmed.is_empty() {
        "Results".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(name: &str, t: &str) -> ColumnMeta {
        ColumnMeta {
            name: name.into(),
            type_name: t.into(),
            masked: false,
        }
    }

    fn csv(columns: &[ColumnMeta], rows: &[Row]) -> String {
        let mut w = CsvWriter::new(Vec::new(), columns).unwrap();
        w.write_rows(rows).unwrap();
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn csv_quotes_per_rfc_4180() {
        let columns = [
            col("a", "text"),
            col("b", "int4"),
            col("c", "bool"),
            col("d", "jsonb"),
        ];
        let rows = vec![
            vec![
                json!("line\nbreak"),
                json!(-5),
                json!(true),
                json!({"k": [1, 2]}),
            ],
            vec![json!("plain"), json!(null), json!(false)],
            vec![
                json!("comma,\"quote\""),
                json!(1.5),
                json!(null),
                json!(null),
            ],
        ];
        assert_eq!(
            csv(&columns, &rows),
            "a,b,c,d\r\n\"line\nbreak\",-5,true,\"{\"\"k\"\":[1,2]}\"\r\nplain,,false,\r\n\"comma,\"\"quote\"\"\",1.5,,\r\n"
        );
    }

    #[test]
    fn csv_defuses_formulas_but_not_numbers() {
        let columns = [col("=HYPERLINK(\"x\")", "text"), col("amount", "numeric")];
        let rows: Vec<Row> = [
            ("=1+1", "-12.50"),
            ("+cmd", "+3"),
            ("-2+3", "1e3"),
            ("@SUM(A1)", "0"),
            ("\tx", "7"),
            ("\rx", "8"),
            ("a=b", "-inf"),
        ]
        .iter()
        .map(|(a, b)| vec![json!(a), json!(b)])
        .collect();
        let out = csv(&columns, &rows);
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines[0], "\"'=HYPERLINK(\"\"x\"\")\",amount");
        assert_eq!(lines[1], "'=1+1,-12.50");
        assert_eq!(lines[2], "'+cmd,+3");
        assert_eq!(lines[3], "'-2+3,1e3");
        assert_eq!(lines[4], "'@SUM(A1),0");
        assert_eq!(lines[5], "'\tx,7");
        // A carriage return forces quoting; the quote mark goes inside the quotes.
        assert_eq!(lines[6], "\"'\rx\",8");
        assert_eq!(lines[7], "a=b,'-inf");
    }

    #[test]
    fn json_is_an_array_of_objects_in_column_order() {
        let columns = [col("z", "text"), col("a", "numeric"), col("z", "int4")];
        let rows = vec![
            vec![json!("x\"y"), json!("1.50"), json!(3)],
            vec![json!(null)],
        ];
        let text = String::from_utf8(to_json(&columns, &rows)).unwrap();
        assert_eq!(
            text,
            r#"[{"z":"x\"y","a":"1.50","z_2":3},{"z":null,"a":null,"z_2":null}]"#
        );
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 2);
        assert_eq!(String::from_utf8(to_json(&columns, &[])).unwrap(), "[]");
    }

    #[test]
    fn xlsx_is_a_zip_with_the_sheet() {
        let columns = [
            col("id", "int8"),
            col("amount", "numeric"),
            col("at", "timestamptz"),
            col("day", "date"),
            col("ok", "bool"),
            col("name", "text"),
        ];
        let rows: Vec<Row> = (0..10_000)
            .map(|i| {
                vec![
                    json!(i),
                    json!(format!("{}.25", i)),
                    json!("2024-05-01T10:30:00+02:00"),
                    json!("2024-05-01"),
                    json!(i % 2 == 0),
                    json!(format!("=name {i}")),
                ]
            })
            .collect();
        let bytes = to_xlsx(&columns, &rows, "Orders: 2024/05").unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        // Zip entry names are stored as plain text in the archive's headers.
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"xl/worksheets/sheet1.xml"));
        assert!(has(b"xl/workbook.xml"));
        assert!(to_xlsx(&columns, &[], "").unwrap().starts_with(b"PK"));
    }

    #[test]
    fn xlsx_cells_are_typed() {
        assert!(matches!(cell(ColumnKind::Numeric, &json!("12.5")), Cell::Number(x) if x == 12.5));
        assert!(matches!(
            cell(ColumnKind::Numeric, &json!("12345678901234567.5")),
            Cell::Text(_)
        ));
        assert!(matches!(
            cell(ColumnKind::Numeric, &json!(9_007_199_254_740_993i64)),
            Cell::Text(_)
        ));
        assert!(matches!(
            cell(ColumnKind::Boolean, &json!(1)),
            Cell::Bool(true)
        ));
        assert!(matches!(
            cell(ColumnKind::Boolean, &json!(7)),
            Cell::Number(_)
        ));
        assert!(matches!(
            cell(ColumnKind::Boolean, &json!("t")),
            Cell::Bool(true)
        ));
        // 2024-05-01 is Excel day 45413; 12:00 is half a day.
        assert!(
            matches!(cell(ColumnKind::Temporal, &json!("2024-05-01")), Cell::Date(x, DateForm::Date) if x == 45_413.0)
        );
        assert!(
            matches!(cell(ColumnKind::Temporal, &json!("2024-05-01 12:00:00")), Cell::Date(x, DateForm::DateTime) if x == 45_413.5)
        );
        assert!(matches!(
            cell(ColumnKind::Temporal, &json!("1899-01-01")),
            Cell::Text(_)
        ));
        assert!(matches!(
            cell(ColumnKind::Temporal, &json!("infinity")),
            Cell::Text(_)
        ));
        assert!(matches!(cell(ColumnKind::String, &json!("=1+1")), Cell::Text(s) if s == "=1+1"));
        assert_eq!(sheet_title("Orders: 2024/05"), "Orders_ 2024_05");
        assert_eq!(sheet_title("''"), "Results");
        assert_eq!(sheet_title(&"x".repeat(40)).len(), 31);
    }

    #[test]
    fn xlsx_refuses_more_rows_than_a_sheet_holds() {
        let rows = vec![Vec::new(); XLSX_MAX_ROWS + 1];
        let err = to_xlsx(&[], &rows, "s").unwrap_err();
        assert_eq!(
            err,
            ResultsError::TooManyRows {
                rows: XLSX_MAX_ROWS + 1,
                max: XLSX_MAX_ROWS
            }
        );
    }
}
