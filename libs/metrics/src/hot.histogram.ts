/** A sample as prom-client's Registry formats it. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/** One label set of a HotHistogram: observing costs a bucket search and three additions. */
export interface HistogramSeries {
  observe(seconds: number): void;
}

class Series implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count += 1;
    const { bounds } = this;
    for (let index = 0; index < bounds.length; index++) {
      if (seconds <= bounds[index]!) {
        this.counts[index]! += 1;
        return;
      }
    }
  }
}

/**
 * A Prometheus histogram for the request path. prom-client's own `observe` hashes its labels into a
 * string on every call; here each label set is a series the caller creates once and keeps, and the
 * exposition (cumulative buckets, `_sum`, `_count`) is built only when scraped. Registered in a
 * prom-client Registry, which only calls `get()`.
 */
export class HotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const series = new Series(labels, this.bounds);
    this.all.push(series);
    return series;
  }

  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    const values: Sample[] = [];
    for (const series of this.all) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += series.counts[index]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
