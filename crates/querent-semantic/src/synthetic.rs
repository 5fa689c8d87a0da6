//! A deterministic generator of large, realistic-looking schemas for tests and benches.

use querent_domain::Dialect;
use querent_domain::schema::{ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind};

const DOMAINS: &[&str] = &[
    "sales",
    "hr",
    "finance",
    "inventory",
    "marketing",
    "crm",
    "logistics",
    "billing",
    "support",
    "analytics",
    "payroll",
    "procurement",
    "manufacturing",
    "legal",
    "it",
    "web",
];

const ENTITIES: &[&str] = &[
    "order",
    "line",
    "customer",
    "employee",
    "contract",
    "invoice",
    "payment",
    "product",
    "shipment",
    "warehouse",
    "supplier",
    "campaign",
    "lead",
    "ticket",
    "account",
    "ledger",
    "budget",
    "asset",
    "vendor",
    "region",
    "store",
    "item",
    "price",
    "discount",
    "review",
    "session",
    "event",
    "subscription",
    "plan",
    "address",
    "department",
    "salary",
    "benefit",
    "timesheet",
    "project",
    "task",
    "batch",
    "machine",
    "part",
    "carrier",
    "route",
    "refund",
    "tax",
    "audit",
    "license",
    "device",
    "user",
    "page",
    "visit",
    "survey",
];

const COLUMNS: &[&str] = &[
    "name",
    "status",
    "created_at",
    "updated_at",
    "amt",
    "qty",
    "description",
    "code",
    "email",
    "phone",
    "country",
    "city",
    "start_date",
    "end_date",
    "total",
    "currency",
    "priority",
    "notes",
    "title",
    "rating",
    "score",
    "category",
    "type",
    "level",
    "unit_price",
    "weight",
    "cust_no",
    "dept_name",
    "emp_count",
    "addr_line",
    "tax_rate",
    "is_active",
    "due_date",
    "channel",
    "source",
];

const SAMPLES: &[(&str, &[&str])] = &[
    ("status", &["active", "inactive", "pending", "closed"]),
    (
        "country",
        &["Germany", "France", "Spain", "Brazil", "Japan", "Canada"],
    ),
    ("currency", &["EUR", "USD", "JPY", "GBP"]),
    ("priority", &["low", "medium", "high", "urgent"]),
    ("channel", &["web", "email", "phone", "partner"]),
    ("type", &["standard", "premium", "internal"]),
];

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

/// A schema of `tables` tables with varied names (`sales_order_line_2731`,
/// `hr_employee_contract_88`: a domain word, one or two entity words and the table's
/// number), 6–12 columns each (an `id` primary key, 0–2 foreign keys `<entity>_id` to
/// earlier tables, and common business columns, some abbreviated such as `qty`,
/// `cust_no`), and sampled values on low-cardinality columns (`status`, `country`, …).
/// The same arguments always give the same snapshot.
pub fn synthetic_schema(tables: usize, seed: u64) -> SchemaSnapshot {
    let mut rng = Rng(seed ^ 0x5151_7E57_0000_0001);
    let mut out: Vec<TableInfo> = Vec::with_capacity(tables);
    let mut entity_of: Vec<&str> = Vec::with_capacity(tables);
    for i in 0..tables {
        let domain = rng.pick(DOMAINS);
        let e1 = rng.pick(ENTITIES);
        let name = if rng.below(2) == 0 {
            let mut e2 = rng.pick(ENTITIES);
            if e2 == e1 {
                e2 = ENTITIES
                    [(ENTITIES.iter().position(|e| *e == e1).unwrap_or(0) + 1) % ENTITIES.len()];
            }
            entity_of.push(e2);
            format!("{domain}_{e1}_{e2}_{i}")
        } else {
            entity_of.push(e1);
            format!("{domain}_{e1}_{i}")
        };
        let mut columns = vec![column("id", "bigint", false, &[])];
        let mut foreign_keys = Vec::new();
        if i > 0 {
            let fks = rng.below(3);
            for _ in 0..fks {
                // Prefer recent tables so paths stay local, with a few far links.
                let j = if rng.below(4) == 0 {
                    rng.below(i)
                } else {
                    i - 1 - rng.below(i.min(50))
                };
                let col = format!("{}_id", entity_of[j]);
                if columns.iter().any(|c| c.name == col) {
                    continue;
                }
                columns.push(column(&col, "bigint", true, &[]));
                foreign_keys.push(ForeignKey {
                    name: None,
                    columns: vec![col],
                    referenced_schema: None,
                    referenced_table: out[j].name.clone(),
                    referenced_columns: vec!["id".into()],
                });
            }
        }
        let want = 6 + rng.below(7);
        let mut guard = 0;
        while columns.len() < want && guard < 100 {
            guard += 1;
            let c = rng.pick(COLUMNS);
            if columns.iter().any(|x| x.name == c) {
                continue;
            }
            let samples: Vec<String> = SAMPLES
                .iter()
                .find(|(n, _)| *n == c)
                .map(|(_, v)| v.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            let ty = if samples.is_empty() && (c.ends_with("_at") || c.ends_with("date")) {
                "timestamp"
            } else if matches!(c, "amt" | "total" | "unit_price" | "weight" | "tax_rate") {
                "numeric(12,2)"
            } else {
                "varchar(80)"
            };
            columns.push(column(c, ty, true, &samples));
        }
        let comment = (rng.below(5) == 0).then(|| format!("{e1} records of the {domain} team"));
        out.push(TableInfo {
            schema: None,
            name,
            kind: TableKind::Table,
            comment,
            columns,
            primary_key: vec!["id".into()],
            unique_constraints: Vec::new(),
            foreign_keys,
            row_estimate: None,
        });
    }
    let mut snapshot = SchemaSnapshot {
        dialect: Dialect::Postgres,
        database: Some("synthetic".into()),
        fingerprint: String::new(),
        taken_at: 0,
        tables: out,
    };
    snapshot.normalize();
    snapshot
}

fn column(name: &str, ty: &str, nullable: bool, samples: &[String]) -> ColumnInfo {
    ColumnInfo {
        name: name.into(),
        data_type: ty.into(),
        nullable,
        default: None,
        comment: None,
        sample_values: samples.to_vec(),
    }
}
