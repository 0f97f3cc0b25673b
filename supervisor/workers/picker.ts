// Round robin in strict order over the ready members, with no sockets in sight: the proxy
// asks `next()` and tells the picker nothing else. Members are kept sorted by `order` (the
// port) and the cursor survives adds and removes, so the rotation never restarts or skips.

interface Member<T> {
  id: string;
  order: number;
  value: T;
  ready: boolean;
}

export class RoundRobinPicker<T> {
  #members: Member<T>[] = [];
  /** Index of the member picked last; -1 before the first pick. */
  #cursor = -1;

  add(id: string, order: number, value: T, ready = false): void {
    if (this.has(id)) return;
    let at = this.#members.findIndex((m) => m.order > order);
    if (at === -1) at = this.#members.length;
    this.#members.splice(at, 0, { id, order, value, ready });
    if (at <= this.#cursor) this.#cursor += 1;
  }

  remove(id: string): void {
    const at = this.#members.findIndex((m) => m.id === id);
    if (at === -1) return;
    this.#members.splice(at, 1);
    if (at <= this.#cursor) this.#cursor -= 1;
  }

  setReady(id: string, ready: boolean): void {
    const member = this.#members.find((m) => m.id === id);
    if (member) member.ready = ready;
  }

  has(id: string): boolean {
    return this.#members.some((m) => m.id === id);
  }

  ids(): string[] {
    return this.#members.map((m) => m.id);
  }

  get readyCount(): number {
    return this.#members.filter((m) => m.ready).length;
  }

  /** The next ready member after the last pick, skipping those `skip` rejects; advances the cursor. */
  next(skip?: (id: string) => boolean): { id: string; value: T } | undefined {
    const n = this.#members.length;
    for (let step = 1; step <= n; step++) {
      const at = (this.#cursor + step) % n;
      const member = this.#members[at]!;
      if (!member.ready || skip?.(member.id)) continue;
      this.#cursor = at;
      return { id: member.id, value: member.value };
    }
    return undefined;
  }
}
