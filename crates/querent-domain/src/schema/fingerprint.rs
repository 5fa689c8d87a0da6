//! The structural fingerprint of a schema: FNV-1a 64 over a canonical serialisation.

use super::{TableInfo, TableKind};

/// FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Hashes bytes with FNV-1a 64.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    })
}

/// Appends a length-prefixed field, so that no two different structures serialise alike.
fn field(out: &mut String, tag: &str, value: &str) {
    out.push_str(tag);
    out.push_str(&value.len().to_string());
    out.push(':');
    out.push_str(value);
    out.push(';');
}

/// A list of names as one field.
fn names(out: &mut String, tag: &str, values: &[String]) {
    out.push_str(tag);
    out.push_str(&values.len().to_string());
    out.push('[');
    for v in values {
        field(out, "", v);
    }
    out.push(']');
}

/// The canonical serialisation hashed by [`fingerprint`]: tables sorted by schema and name;
/// per table its kind, columns in ordinal order (name, type, nullability), primary key,
/// unique constraints and foreign keys (each sorted by columns; constraint names ignored).
/// Comments, defaults, row estimates and samples are left out.
pub(crate) fn canonical(tables: &[TableInfo]) -> String {
    let mut sorted: Vec<&TableInfo> = tables.iter().collect();
    sorted.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    let mut out = String::from("querent-schema-v1;");
    for t in sorted {
        out.push_str("T(");
        field(&mut out, "s", t.schema.as_deref().unwrap_or(""));
        field(&mut out, "n", &t.name);
        out.push_str(match t.kind {
            TableKind::Table => "k:t;",
            TableKind::View => "k:v;",
            TableKind::MaterializedView => "k:m;",
        });
        for c in &t.columns {
            out.push_str("C(");
            field(&mut out, "n", &c.name);
            field(&mut out, "t", &c.data_type);
            out.push_str(if c.nullable { "null;" } else { "notnull;" });
            out.push(')');
        }
        names(&mut out, "pk", &t.primary_key);
        let mut uniques: Vec<&Vec<String>> =
            t.unique_constraints.iter().map(|u| &u.columns).collect();
        uniques.sort();
        for u in uniques {
            names(&mut out, "u", u);
        }
        let mut fks: Vec<_> = t
            .foreign_keys
            .iter()
            .map(|f| {
                (
                    &f.columns,
                    f.referenced_schema.as_deref().unwrap_or(""),
                    &f.referenced_table,
                    &f.referenced_columns,
                )
            })
            .collect();
        fks.sort();
        for (cols, rs, rt, rc) in fks {
            names(&mut out, "fk", cols);
            field(&mut out, "rs", rs);
            field(&mut out, "rt", rt);
            names(&mut out, "rc", rc);
        }
        out.push(')');
    }
    out
}

/// The structural fingerprint of these tables: 16 lowercase hex digits of FNV-1a 64 over
/// their canonical serialisation (tables sorted by schema and name; per table its kind,
/// columns in ordinal order with type and nullability, primary key, unique constraints and
/// foreign keys, keys sorted, constraint names ignored). Independent of table order, comments,
/// defaults, row estimates and samples.
pub fn fingerprint(tables: &[TableInfo]) -> String {
    format!("{:016x}", fnv1a64(canonical(tables).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::super::{ColumnInfo, ForeignKey};
    use super::*;

    fn table(name: &str) -> TableInfo {
        TableInfo {
            schema: Some("public".to_owned()),
            name: name.to_owned(),
            kind: TableKind::Table,
            comment: None,
            columns: vec![ColumnInfo {
                name: "id".to_owned(),
                data_type: "integer".to_owned(),
                nullable: false,
                default: None,
                comment: None,
                sample_values: Vec::new(),
            }],
            primary_key: vec!["id".to_owned()],
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate: None,
        }
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn order_and_volatile_fields_do_not_matter() {
        let a = vec![table("a"), table("b")];
        let mut b = vec![table("b"), table("a")];
        b[0].comment = Some("x".to_owned());
        b[0].row_estimate = Some(42);
        b[0].columns[0].sample_values = vec!["v".to_owned()];
        b[0].columns[0].default = Some("1".to_owned());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
    }

    #[test]
    fn structure_matters() {
        let base = vec![table("a")];
        let mut typed = base.clone();
        typed[0].columns[0].data_type = "bigint".to_owned();
        let mut nullable = base.clone();
        nullable[0].columns[0].nullable = true;
        let mut fk = base.clone();
        fk[0].foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["id".to_owned()],
            referenced_schema: None,
            referenced_table: "b".to_owned(),
            referenced_columns: vec!["id".to_owned()],
        });
        let mut view = base.clone();
        view[0].kind = TableKind::View;
        let all = [&base, &typed, &nullable, &fk, &view].map(|t| fingerprint(t));
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                assert_ne!(all[i], all[j], "{i} vs {j}");
            }
        }
    }
}
