//! What querent-results makes of a small result: statistics, a summary, a chart suggestion
//! and the three exports. `cargo run -p querent-results --example results`

use querent_domain::query::ColumnMeta;
use querent_results::{CsvWriter, StatsBuilder, suggest_chart, summarize, to_json, to_xlsx};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let col = |name: &str, type_name: &str, masked: bool| ColumnMeta {
        name: name.into(),
        type_name: type_name.into(),
        masked,
    };
    let columns = vec![
        col("region", "text", false),
        col("revenue", "numeric", false),
        col("first_order", "date", false),
        col("manager_email", "text", true),
    ];
    let rows = vec![
        vec![
            json!("Europe"),
            json!("1234.50"),
            json!("2024-01-03"),
            json!("***"),
        ],
        vec![
            json!("America"),
            json!("1414.30"),
            json!("2024-02-11"),
            json!("***"),
        ],
        vec![
            json!("Asia"),
            json!("361.20"),
            json!("2024-12-30"),
            json!(null),
        ],
    ];

    let mut builder = StatsBuilder::new(&columns);
    builder.push_batch(&rows);
    let stats = builder.finish();
    println!("statistics:\n{}\n", serde_json::to_string_pretty(&stats)?);

    let total = rows.len() as u64;
    println!(
        "summary: {}\n",
        summarize(
            Some("revenue by region"),
            &columns,
            &rows,
            &stats,
            total,
            false
        )
    );

    let chart = suggest_chart(&columns, &rows);
    println!(
        "chart: {} ({:?} by {:?})\n{}\n",
        chart.kind,
        chart.y,
        chart.x,
        serde_json::to_string_pretty(&chart.spec)?
    );

    let mut csv = CsvWriter::new(Vec::new(), &columns)?;
    csv.write_rows(&rows)?;
    println!("csv:\n{}", String::from_utf8(csv.finish()?)?);
    println!("json: {}\n", String::from_utf8(to_json(&columns, &rows))?);
    let xlsx = to_xlsx(&columns, &rows, "Revenue")?;
    println!("xlsx: {} bytes", xlsx.len());
    Ok(())
}
