/**
 * Small promise helpers the bench's scenarios and harness share.
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { sleep } from "./_async.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `fn` over `items` with at most `n` at a time; the results keep the
 * order of `items`.
 *
 * @example
 * ```ts
 * import { inParallel } from "./_async.ts";
 * const doubled = await inParallel([1, 2, 3], 2, (x) => Promise.resolve(2 * x));
 * console.log(doubled); // [2, 4, 6]
 * ```
 */
export async function inParallel<T, R>(
  items: T[],
  n: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
