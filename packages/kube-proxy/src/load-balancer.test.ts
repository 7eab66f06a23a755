import { describe, expect, it } from 'vitest';
import { FakeClock } from '@k8ts/api';
import { RoundRobinLoadBalancer } from './load-balancer.js';

describe('RoundRobinLoadBalancer', () => {
  it('rotates over endpoints and restarts the rotation when they change', () => {
    const lb = new RoundRobinLoadBalancer(new FakeClock());
    lb.update('s', ['a:1', 'b:1', 'c:1'], 0);
    expect([1, 2, 3, 4].map(() => lb.next('s', '127.0.0.1'))).toEqual(['a:1', 'b:1', 'c:1', 'a:1']);
    lb.update('s', ['a:1', 'b:1', 'c:1'], 0);
    expect(lb.next('s', '127.0.0.1')).toBe('b:1');
    lb.update('s', ['b:1', 'c:1'], 0);
    expect([1, 2, 3].map(() => lb.next('s', '127.0.0.1'))).toEqual(['b:1', 'c:1', 'b:1']);
    lb.update('s', [], 0);
    expect(lb.next('s', '127.0.0.1')).toBeUndefined();
    expect(lb.next('unknown', '127.0.0.1')).toBeUndefined();
  });

  it('pins a client under ClientIP affinity until idle for the timeout, the endpoint goes, or a reset', () => {
    const clock = new FakeClock();
    const lb = new RoundRobinLoadBalancer(clock);
    lb.update('s', ['a:1', 'b:1', 'c:1'], 10);
    expect(lb.next('s', '10.0.0.1')).toBe('a:1');
    expect(lb.next('s', '10.0.0.2')).toBe('b:1');
    clock.advance(9_000);
    expect(lb.next('s', '10.0.0.1')).toBe('a:1');
    clock.advance(9_000);
    expect(lb.next('s', '10.0.0.1')).toBe('a:1');
    clock.advance(10_000);
    expect(lb.next('s', '10.0.0.1')).toBe('c:1');
    expect(lb.next('s', '10.0.0.1', true)).toBe('a:1');
    lb.update('s', ['b:1', 'c:1'], 10);
    expect(lb.next('s', '10.0.0.2')).toBe('b:1');
    expect(lb.next('s', '10.0.0.1')).toBe('c:1');
    lb.update('s', ['b:1', 'c:1'], 0);
    expect(lb.next('s', '10.0.0.1')).toBe('b:1');
  });
});
