// The timing bounds the suites assert, in one place: the tests import their bound from here and
// bench/figures.ts prints this table into docs/figures.md, so the docs state exactly the bound CI
// checks. A bound is generous enough for a loaded 2-core machine (measured medians are in
// docs/figures.md) yet fails a tenfold slowdown. Where a figure is measured over several rounds,
// the bound applies to the median, so one slow start does not fail the run.

export interface TimingBound {
  /** The documented behaviour, as the docs say it. */
  what: string;
  /** The bound, as the docs state it. */
  bound: string;
  /** file › test name of every test that asserts it. */
  tests: string[];
}

export const TIMING_BOUNDS: TimingBound[] = [];
