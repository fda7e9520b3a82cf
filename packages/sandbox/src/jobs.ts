// Asynchronous jobs (video renders, translations, dubbings). A job's state is a function of
// its age, so no timers run and nothing needs cleaning up when the sandbox closes.

export type Phase = 'pending' | 'processing' | 'completed' | 'failed';

export interface Job<T> {
  id: string;
  /** ms since the epoch. */
  createdAt: number;
  durationMs: number;
  /** Ends in `failed` instead of `completed` (asked for with `X-Sandbox-Job: fail`). */
  fails: boolean;
  data: T;
}

/** Share of the duration spent `pending` before `processing` starts. */
const PENDING_SHARE = 0.2;

export function phaseOf(job: Job<unknown>, now = Date.now()): Phase {
  const age = now - job.createdAt;
  if (age >= job.durationMs) return job.fails ? 'failed' : 'completed';
  return age < job.durationMs * PENDING_SHARE ? 'pending' : 'processing';
}

export function finishedAt(job: Job<unknown>): number {
  return job.createdAt + job.durationMs;
}

/** Insertion-ordered store with a size bound, so a benchmark creating jobs cannot grow it forever. */
export class JobStore<T> {
  private readonly jobs = new Map<string, Job<T>>();
  private readonly limit: number;

  constructor(limit = 10_000) {
    this.limit = limit;
  }

  create(id: string, durationMs: number, data: T, fails = false, createdAt = Date.now()): Job<T> {
    const job: Job<T> = { id, createdAt, durationMs, fails, data };
    if (this.jobs.size >= this.limit) this.jobs.delete(this.jobs.keys().next().value!);
    this.jobs.set(id, job);
    return job;
  }

  get(id: string): Job<T> | undefined {
    return this.jobs.get(id);
  }

  delete(id: string): boolean {
    return this.jobs.delete(id);
  }

  /** Newest first. */
  list(): Job<T>[] {
    return [...this.jobs.values()].reverse();
  }
}

/** `X-Sandbox-Job: fail` on the creating request makes the job end as failed. */
export function wantsFailure(header: string | string[] | undefined, ...hints: unknown[]): boolean {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined && h.trim().toLowerCase() === 'fail') return true;
  // Through a gateway that drops unknown headers, a title containing "sandbox_fail" does it.
  return hints.some((x) => typeof x === 'string' && x.includes('sandbox_fail'));
}
