import { type Metric, Registry } from 'prom-client';
import { HotHistogram } from './hot.histogram.js';

describe('HotHistogram', () => {
  it('exposes cumulative buckets, +Inf, sum and count per series', async () => {
    const histogram = new HotHistogram('test_seconds', 'A test.', [0.1, 1]);
    const fast = histogram.series({ route: '/a' });
    const slow = histogram.series({ route: '/b' });
    for (const seconds of [0.05, 0.1, 0.5]) fast.observe(seconds);
    slow.observe(5);
    const registry = new Registry();
    registry.registerMetric(histogram as unknown as Metric);

    expect((await registry.metrics()).split('\n')).toEqual([
      '# HELP test_seconds A test.',
      '# TYPE test_seconds histogram',
      'test_seconds_bucket{route="/a",le="0.1"} 2',
      'test_seconds_bucket{route="/a",le="1"} 3',
      'test_seconds_bucket{route="/a",le="+Inf"} 3',
      'test_seconds_sum{route="/a"} 0.65',
      'test_seconds_count{route="/a"} 3',
      'test_seconds_bucket{route="/b",le="0.1"} 0',
      'test_seconds_bucket{route="/b",le="1"} 0',
      'test_seconds_bucket{route="/b",le="+Inf"} 1',
      'test_seconds_sum{route="/b"} 5',
      'test_seconds_count{route="/b"} 1',
      '',
    ]);
  });
});
