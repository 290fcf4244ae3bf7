import { describe, expect, it } from 'vitest';
import { Mutex } from '../../src/runtime/mutex.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('the abortable FIFO lock', () => {
  it('runs holders one at a time, in arrival order', async () => {
    const m = new Mutex();
    const log: string[] = [];
    const job = (name: string) => m.run(async () => { log.push(`${name}+`); await tick(); log.push(`${name}-`); return name; });
    expect(await Promise.all([job('a'), job('b'), job('c')])).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
  });

  it('lets an aborted waiter leave at once without running, and the queue goes on', async () => {
    const m = new Mutex();
    const log: string[] = [];
    let release!: () => void;
    const first = m.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const second = m.run(async () => log.push('second ran'), ac.signal);
    const third = m.run(async () => log.push('third ran'));
    ac.abort(new Error('cancelled'));
    await expect(second).rejects.toThrow('cancelled');
    expect(m.size).toBe(2); // the holder and the third waiter
    release();
    await first;
    await third;
    expect(log).toEqual(['third ran']);
  });

  it('releases the lock when a holder throws', async () => {
    const m = new Mutex();
    await expect(m.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await m.run(async () => 42)).toBe(42);
  });
});
