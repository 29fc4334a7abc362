//! Shares a list of independent jobs out among the CPUs and gathers their results in order.

/// Runs `work` over `items`: split into one part per CPU (at most `max_threads`), each on a
/// thread of its own, when there are at least `min_items`; else all on this thread. The
/// results come back in the items' order; the first error is returned, and a part's panic is
/// raised again here.
pub fn in_order<T: Send, U: Send, E: Send>(
    items: Vec<T>,
    max_threads: usize,
    min_items: usize,
    work: impl Fn(Vec<T>) -> Result<Vec<U>, E> + Sync,
) -> Result<Vec<U>, E> {
    let threads = threads(max_threads);
    if threads < 2 || items.len() < min_items.max(2) {
        return work(items);
    }
    let per_part = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut rest = items;
    while rest.len() > per_part {
        let tail = rest.split_off(per_part);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    each_on_a_thread(parts, work)
}

/// How many threads to share work among: one per CPU, at most `max`.
pub fn threads(max: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(max)
}

/// Runs `work` on each part, each on a thread of its own, and joins their results in the
/// parts' order; the first error is returned, and a part's panic is raised again here.
pub fn each_on_a_thread<P: Send, U: Send, E: Send>(
    parts: Vec<P>,
    work: impl Fn(P) -> Result<Vec<U>, E> + Sync,
) -> Result<Vec<U>, E> {
    let work = &work;
    std::thread::scope(|scope| {
        let running: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        let mut out = Vec::new();
        for part in running {
            match part.join() {
                Ok(done) => out.extend(done?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_and_errors_come_through() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = in_order(items.clone(), 4, 10, |part| {
            Ok::<_, String>(part.into_iter().map(|i| i * 2).collect())
        });
        assert_eq!(
            doubled.unwrap(),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        let failed = in_order(items, 4, 10, |part| {
            if part.contains(&999) {
                Err("the last part failed".to_string())
            } else {
                Ok(part)
            }
        });
        assert_eq!(failed.unwrap_err(), "the last part failed");
    }
}
