// Work a user chose but has not saved yet (a recording previewed but not uploaded,
// a recording still running), registered by the parts that hold it so that the
// page's main button can save it before moving on — or stop and say why — instead
// of dropping it silently.

export interface PendingItem {
  /** What it is, for a message ("campaign", a prompt's name). */
  label: string;
  /** Saves it; false when saving failed (the part that holds it shows why). */
  save?: () => Promise<boolean>;
  /** Set when it cannot be saved now (a recording still running): the reason to show. */
  blocked?: string;
}

export type FlushResult = { ok: true; saved: number } | { ok: false; reason: 'blocked'; message: string; label: string } | { ok: false; reason: 'failed'; label: string };

export class PendingWork {
  private readonly items = new Map<string, PendingItem>();

  /** Registers (or with null, forgets) the unsaved work held under `key`. */
  set(key: string, item: PendingItem | null): void {
    if (item) this.items.set(key, item);
    else this.items.delete(key);
  }

  get size(): number {
    return this.items.size;
  }

  /**
   * Saves every unsaved item, in the order registered. Stops at the first that is
   * blocked (nothing is saved then) or that fails to save; each saved item forgets
   * itself (its holder calls `set(key, null)`).
   */
  async flush(): Promise<FlushResult> {
    const items = [...this.items.values()];
    const blocked = items.find((item) => item.blocked);
    if (blocked) return { ok: false, reason: 'blocked', message: blocked.blocked as string, label: blocked.label };
    let saved = 0;
    for (const item of items) {
      if (!item.save) continue;
      if (!(await item.save())) return { ok: false, reason: 'failed', label: item.label };
      saved += 1;
    }
    return { ok: true, saved };
  }
}
