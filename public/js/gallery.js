// The acts the current page shows, in order, so the photo view can step to the previous and
// next photo (arrows, swipes) and ask the page for more at the end of what it has loaded.
/** @type {import('./api.js').Card[]} */
let acts = [];
/** @type {(() => Promise<boolean>) | null} */
let loadMore = null;

export const gallery = {
  /**
   * The page's list (kept by reference: the page appends to it as it loads more) and how to load
   * more (resolves false when there is nothing more).
   */
  set(list, more = null) {
    acts = list;
    loadMore = more;
  },

  clear() {
    acts = [];
    loadMore = null;
  },

  find(actId) {
    return acts.find((a) => a.actId === actId) ?? null;
  },

  /** The act `step` places from `actId` (−1 previous, +1 next), loading more if needed; null at either end. */
  async neighbour(actId, step) {
    let at = acts.findIndex((a) => a.actId === actId);
    if (at < 0) return null;
    if (step > 0 && at + step >= acts.length && loadMore) {
      await loadMore();
      at = acts.findIndex((a) => a.actId === actId);
    }
    return acts[at + step] ?? null;
  },
};
