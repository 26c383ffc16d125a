//! Interleaved timing of variants of the same work (library, raw, ...),
//! throughput under concurrency, and the tables that report them.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{BoxError, BoxFuture, Context, Section};
use crate::stats::{ratio, Summary};

type Run<'a> = Box<dyn Fn(usize) -> BoxFuture<'a, Result<Duration, BoxError>> + Send + Sync + 'a>;

/// One way of doing the work: its name in the table, and a function of the
/// iteration number that does it once and returns how long the measured
/// part took (set-up and clean-up stay outside it).
pub struct Variant<'a> {
    name: String,
    run: Run<'a>,
}

/// A variant whose whole call is measured.
pub fn timed<'a, F, Fut>(name: &str, f: F) -> Variant<'a>
where
    F: Fn(usize) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'a,
{
    Variant {
        name: name.to_owned(),
        run: Box::new(move |i| {
            let work = f(i);
            Box::pin(async move {
                let started = Instant::now();
                work.await?;
                Ok(started.elapsed())
            })
        }),
    }
}

/// A variant that measures itself (for set-up or clean-up outside the
/// measured part).
pub fn self_timed<'a, F, Fut>(name: &str, f: F) -> Variant<'a>
where
    F: Fn(usize) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<Duration, BoxError>> + Send + 'a,
{
    Variant { name: name.to_owned(), run: Box::new(move |i| Box::pin(f(i))) }
}

/// The samples of each variant.
pub struct Measured {
    /// Variant names, in the order given.
    pub names: Vec<String>,
    /// Their summaries, same order.
    pub summaries: Vec<Summary>,
}

/// Runs `warm_up` rounds, then `rounds` rounds of every variant once each,
/// interleaved in an order shuffled every round, so drift on a noisy machine
/// hits every variant alike, and so does whatever a variant leaves behind
/// for the one after it. (A rotation, A B C D, B C D A, ..., puts A right
/// after D in three rounds of four: after a heavy variant such as an N+1
/// loop, the same variant always paid for it.) Smoke mode: one round, no
/// warm-up.
pub async fn interleaved(
    ctx: &Context,
    warm_up: usize,
    rounds: usize,
    variants: &[Variant<'_>],
) -> Result<Measured, BoxError> {
    let warm_up = ctx.warm_up(warm_up);
    for i in 0..warm_up {
        for variant in variants {
            (variant.run)(i).await?;
        }
    }
    let n = variants.len();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); n];
    // A fixed seed: the same orders every run.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7472_6f6d);
    let mut order: Vec<usize> = (0..n).collect();
    for round in 0..ctx.iterations(rounds) {
        order.shuffle(&mut rng);
        for &index in &order {
            samples[index].push((variants[index].run)(warm_up + round).await?);
        }
    }
    let summaries = samples.iter().map(|s| Summary::of(s).ok_or("no samples")).collect::<Result<_, _>>()?;
    Ok(Measured { names: variants.iter().map(|v| v.name.clone()).collect(), summaries })
}

/// Operations per second of `total` operations run by `tasks` spawned tasks
/// that take the next operation number from a shared counter.
pub async fn throughput<F, Fut>(tasks: usize, total: usize, op: F) -> Result<f64, BoxError>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (next, op) = (Arc::clone(&next), op.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok::<(), BoxError>(());
                    }
                    op(i).await?;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// A median ratio judged against a target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The ratio must be at most this.
    AtMost(f64),
    /// The ratio must be at least this.
    AtLeast(f64),
    /// No target: reported for reference.
    None,
}

impl Target {
    /// `target ≤ 1.10: **pass**` and the like.
    pub fn judge(self, ratio: f64) -> String {
        match self {
            Target::AtMost(t) => format!("target ≤ {t:.2}: **{}**", if ratio <= t { "pass" } else { "miss" }),
            Target::AtLeast(t) => {
                format!("target ≥ {t:.2}: **{}**", if ratio >= t { "pass" } else { "miss" })
            }
            Target::None => "no target".to_owned(),
        }
    }
}

/// A duration in the unit that suits it: µs below 10 ms, else ms.
pub fn human(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

/// A table of the variants: n, median, p99, and each median's ratio to the
/// variant `reference` (an index). The first note is the headline ratio
/// `numerator / reference` with its target.
pub fn latency_section(
    title: &str,
    measured: &Measured,
    numerator: usize,
    reference: usize,
    target: Target,
    mut notes: Vec<String>,
) -> Section {
    let base = measured.summaries[reference].median;
    let headline = ratio(measured.summaries[numerator].median, base);
    notes.insert(
        0,
        format!(
            "ratio {} / {}, medians: **{headline:.3}** ({})",
            measured.names[numerator],
            measured.names[reference],
            target.judge(headline)
        ),
    );
    let rows = measured
        .names
        .iter()
        .zip(&measured.summaries)
        .map(|(name, s)| {
            vec![
                name.clone(),
                s.n.to_string(),
                human(s.median),
                human(s.p99),
                format!("{:.3}", ratio(s.median, base)),
            ]
        })
        .collect();
    Section {
        title: title.to_owned(),
        notes,
        headers: vec![
            "variant".into(),
            "n".into(),
            "median".into(),
            "p99".into(),
            format!("÷ {}", measured.names[reference]),
        ],
        rows,
    }
}

/// The median of `values` (not durations).
pub fn median_f64(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_targets() {
        assert_eq!(Target::AtMost(1.1).judge(1.05), "target ≤ 1.10: **pass**");
        assert_eq!(Target::AtMost(1.1).judge(1.2), "target ≤ 1.10: **miss**");
        assert_eq!(Target::AtLeast(0.9).judge(0.95), "target ≥ 0.90: **pass**");
        assert_eq!(Target::None.judge(3.0), "no target");
    }

    #[test]
    fn formats_and_medians() {
        assert_eq!(human(Duration::from_micros(1500)), "1500.0 µs");
        assert_eq!(human(Duration::from_millis(25)), "25.00 ms");
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f64(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median_f64(&[]).is_nan());
    }
}
