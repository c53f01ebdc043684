import { jsonArray } from './json-array.js';

const text = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error('must be a string');
  return value;
};

const connections = jsonArray('connection', {
  name: { unique: true, parse: text },
  url: { alias: 'href', parse: text },
  retries: { default: 3, parse: (value: unknown) => Number(value) },
  label: {
    parse: (value: unknown) => (value === undefined ? undefined : text(value)),
    check: (entry) => (entry.label === entry.name ? 'label repeats the name' : undefined),
  },
});

describe('jsonArray', () => {
  it('reads each key, with aliases and defaults (the caller may replace a default)', () => {
    expect(connections('[{"name":"a","href":"x"},{"name":"b","url":"y","retries":1,"label":"B"}]', { retries: 5 })).toEqual([
      { name: 'a', url: 'x', retries: 5, label: undefined },
      { name: 'b', url: 'y', retries: 1, label: 'B' },
    ]);
  });

  it.each([
    ['[', 'must be a JSON array of connections'],
    ['{}', 'must be a JSON array of connections'],
    ['[1]', 'connection 0 must be an object'],
    ['[{"name":"a","url":"x","port":1,"host":2}]', 'connection 0 has unknown field(s): port, host'],
    ['[{"name":1}]', 'connection 0: name must be a string'],
    ['[{"name":"a","url":"x"},{"name":"a","url":"y"}]', 'connection 1: name a is listed twice'],
    ['[{"name":"a","url":"x","href":"y"}]', 'connection 0: give url or href, not both'],
    ['[{"name":"a","url":"x","label":"a"}]', 'connection 0: label repeats the name'],
  ])('refuses %s: %s', (raw, message) => {
    expect(() => connections(raw)).toThrow(new Error(message));
  });

  it('reads keys in order and reports the first problem', () => {
    expect(() => connections('[{"name":1,"url":2}]')).toThrow('connection 0: name must be a string');
  });

  it('takes a default only for an absent key: null is read as given', () => {
    expect(connections('[{"name":"a","url":"x","retries":null}]')[0]?.retries).toBe(0);
  });
});
