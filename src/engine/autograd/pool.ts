// A size-bucketed pool of Float32Array buffers for activations and gradients, so that a training
// step reuses last step's memory instead of allocating (and page-faulting) ~100 MB afresh.
//
// Sizes are rounded up to a bucket (4 buckets per power of two, ≤ 25 % waste) so that batches of
// varying sequence length still reuse buffers; callers get a subarray of exactly the length they
// asked for. Buffers come back through `give` (the tape does this after backward). Taking is
// O(1); nothing here touches elements except `takeZeroed`'s fill.

const free = new Map<number, Float32Array[]>(); // bucket length -> full-size buffers
let heldBytes = 0;
/** Upper bound on bytes parked in the pool; beyond it, given buffers are left to the GC. */
let limitBytes = 1 << 30; // 1 GiB: several training steps' activations of the reference model

function bucket(n: number): number {
  if (n <= 1024) return 1024; // tiny buffers share one bucket: cheap, and avoids many keys
  const p = 2 ** Math.floor(Math.log2(n));
  const q = p / 4;
  return Math.ceil(n / q) * q;
}

/** A buffer of length n with unspecified contents (callers overwrite it). */
export function take(n: number): Float32Array {
  const b = bucket(n);
  const list = free.get(b);
  const full = list?.pop();
  if (full) {
    heldBytes -= full.byteLength;
    return full.length === n ? full : full.subarray(0, n);
  }
  const fresh = new Float32Array(b);
  return b === n ? fresh : fresh.subarray(0, n);
}

/** A zero-filled buffer of length n (for gradients, which kernels accumulate into). */
export function takeZeroed(n: number): Float32Array {
  return take(n).fill(0);
}

/** Returns a buffer obtained from `take` to the pool. The caller must not use it afterwards. */
export function give(buf: Float32Array): void {
  const full = buf.byteOffset === 0 && buf.length * 4 === buf.buffer.byteLength ? buf : new Float32Array(buf.buffer);
  const b = full.length;
  if (bucket(b) !== b || heldBytes + full.byteLength > limitBytes) return; // not one of ours, or pool full
  let list = free.get(b);
  if (!list) free.set(b, (list = []));
  list.push(full);
  heldBytes += full.byteLength;
}

/** Drops every pooled buffer (e.g. after training, before long inference). */
export function clearPool(): void {
  free.clear();
  heldBytes = 0;
}

export function setPoolLimit(bytes: number): void {
  limitBytes = bytes;
  if (heldBytes > bytes) clearPool();
}

export function poolStats(): { heldBytes: number; buckets: number } {
  return { heldBytes, buckets: free.size };
}
