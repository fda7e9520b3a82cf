// One timer for many deadlines, as node:http checks its own request timeouts: the items are an
// intrusive list (each item carries its own links), so adding and removing one on the hot path
// costs a few field writes, with nothing allocated and nothing hashed. A timer per request
// would cost an allocation each, and some timer implementations keep cleared ones for a while.

/** The list links an item carries (used only by its Sweeper). */
export interface Swept {
  sweepPrev: Swept | null;
  sweepNext: Swept | null;
}

/**
 * Visits every listed item every `everyMs` while any is listed; `visit` returns true to drop
 * the item (it may act on it first, and what it does may delete it: deleting is idempotent).
 */
export class Sweeper<T extends Swept> {
  private head: Swept | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly everyMs: number;
  private readonly visit: (item: T, now: number) => boolean;

  constructor(everyMs: number, visit: (item: T, now: number) => boolean) {
    this.everyMs = everyMs;
    this.visit = visit;
  }

  add(item: T): void {
    item.sweepPrev = null;
    item.sweepNext = this.head;
    if (this.head !== null) this.head.sweepPrev = item;
    this.head = item;
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), this.everyMs);
      this.timer.unref();
    }
  }

  /** Idempotent. */
  delete(item: T): void {
    if (item.sweepPrev === null && this.head !== item) return;
    if (item.sweepPrev !== null) item.sweepPrev.sweepNext = item.sweepNext;
    else this.head = item.sweepNext;
    if (item.sweepNext !== null) item.sweepNext.sweepPrev = item.sweepPrev;
    item.sweepPrev = item.sweepNext = null;
  }

  private sweep(): void {
    const now = performance.now();
    for (let item = this.head; item !== null;) {
      const next = item.sweepNext;
      if (this.visit(item as T, now)) this.delete(item as T);
      item = next;
    }
    if (this.head === null) {
      clearInterval(this.timer!);
      this.timer = null;
    }
  }
}
