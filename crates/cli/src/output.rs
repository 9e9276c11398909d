//! How results are printed: aligned tables for people, JSON for programs.
//!
//! Both print every number in its shortest round-trip form: parsing the printed text gives
//! back the same `f64`, bit for bit.

use std::io::{self, Write};

use serde_json::ser::{Formatter, Serializer};
use serde_json::Value;

use crate::Result;

/// The shortest text that parses back to `value` exactly: plain decimals for magnitudes in
/// `[1e-4, 1e16)`, scientific notation outside (`1.5e-7`), as Rust's `Display` and `{:e}`
/// print them (both shortest round-trip).
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || !value.is_finite() || (1e-4..1e16).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

/// A JSON number, or `null` for NaN and the infinities, which JSON cannot hold.
pub fn json_number(value: f64) -> Value {
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// A table printed with its columns aligned: the first column (labels) to the left, the
/// others (numbers) to the right, two spaces apart.
#[derive(Debug)]
pub struct Table {
    rows: Vec<Vec<String>>,
    left: usize,
}

impl Table {
    /// A table whose first row is `header`.
    pub fn new(header: Vec<String>) -> Table {
        Table {
            rows: vec![header],
            left: 1,
        }
    }

    /// Aligns the first `columns` columns to the left instead of only the first.
    pub fn with_left(mut self, columns: usize) -> Table {
        self.left = columns;
        self
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table, one line per row, without trailing spaces.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write(&self, out: &mut dyn Write) -> Result<()> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                if c > 0 {
                    line.push_str("  ");
                }
                if c < self.left {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// serde_json's compact layout with a space after each `,` and `:`, as the command's
/// documentation shows it: `{"outputs": {"o": 1.23}}`.
struct Spaced;

impl Formatter for Spaced {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Writes `value` on one line (keys in insertion order, numbers shortest round-trip).
///
/// # Errors
/// When writing fails.
pub fn write_json(value: &Value, out: &mut dyn Write) -> Result<()> {
    let mut serializer = Serializer::with_formatter(&mut *out, Spaced);
    serde::Serialize::serialize(value, &mut serializer).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_exactly() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.1,
            1.0 / 3.0,
            0.907_975_004_656_905_6,
            1e-4,
            9.999_999_999_999_999e-5,
            1e16,
            123_456_789.123_456_79,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            -2.5e-300,
        ];
        for v in values {
            let text = number(v);
            assert_eq!(
                text.parse::<f64>().map(f64::to_bits),
                Ok(v.to_bits()),
                "{text}"
            );
            let json = serde_json::to_string(&json_number(v)).expect("a finite number");
            let back: f64 = serde_json::from_str(&json).expect("valid JSON");
            assert_eq!(back.to_bits(), v.to_bits(), "{json}");
        }
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.5e-7), "1.5e-7");
        assert_eq!(json_number(f64::NAN), Value::Null);
    }

    #[test]
    fn display_is_shortest_round_trip() {
        // Display prints the fewest digits that parse back to the same f64
        assert_eq!(format!("{}", 0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format!("{}", 0.3), "0.3");
        assert_eq!(format!("{:e}", 1e-20), "1e-20");
    }

    #[test]
    fn json_has_a_space_after_commas_and_colons_and_keeps_key_order() -> Result<()> {
        let mut map = serde_json::Map::new();
        map.insert("z".into(), json_number(1.0));
        map.insert(
            "a".into(),
            Value::Array(vec![json_number(0.5), json_number(2.0)]),
        );
        let mut out = Vec::new();
        write_json(&Value::Object(map), &mut out)?;
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\"z\": 1.0, \"a\": [0.5, 2.0]}\n"
        );
        Ok(())
    }

    #[test]
    fn tables_align_labels_left_and_numbers_right() -> Result<()> {
        let mut table = Table::new(vec![String::new(), "o".into(), "long".into()]);
        table.row(vec!["value".into(), "1.5".into(), "-2".into()]);
        table.row(vec!["∂/∂alpha".into(), "10".into(), "0.25".into()]);
        let mut out = Vec::new();
        table.write(&mut out)?;
        let text = String::from_utf8_lossy(&out);
        assert_eq!(
            text,
            "            o  long\nvalue     1.5    -2\n∂/∂alpha   10  0.25\n"
        );
        Ok(())
    }
}
