// autocannon ships no type declarations: the part of its programmatic API the benchmark uses.
declare module 'autocannon' {
  interface Percentiles {
    readonly average: number;
    readonly mean: number;
    readonly stddev: number;
    readonly min: number;
    readonly max: number;
    readonly p50: number;
    readonly p90: number;
    readonly p97_5: number;
    readonly p99: number;
    readonly p99_9: number;
  }

  namespace autocannon {
    interface Client {
      setHeaders(headers: Record<string, string>): void;
    }

    interface Options {
      /** Several URLs: connection i goes to url[i % url.length]. */
      url: string | string[];
      connections?: number;
      /** Seconds. */
      duration?: number;
      pipelining?: number;
      /** Seconds before a request counts as a timeout (an error). */
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      setupClient?: (client: Client) => void;
    }

    interface Result {
      readonly requests: Percentiles & { readonly total: number; readonly sent: number };
      readonly latency: Percentiles;
      readonly throughput: Percentiles & { readonly total: number };
      readonly errors: number;
      readonly timeouts: number;
      readonly non2xx: number;
      readonly resets: number;
      readonly mismatches: number;
      readonly '1xx': number;
      readonly '2xx': number;
      readonly '3xx': number;
      readonly '4xx': number;
      readonly '5xx': number;
      readonly statusCodeStats: Record<string, { readonly count: number }>;
      readonly duration: number;
    }
  }

  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export = autocannon;
}
