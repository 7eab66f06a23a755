import { describe, expect, it } from 'vitest';
import { ApiError } from '@k8ts/api';
import { evictionDeleteOptions, isDryRun } from './dry-run.js';
import { boolParam } from './http.js';

describe('boolParam', () => {
  it('reads booleans as upstream\'s parameter codec: only absent, "0" and "false" in any case are false', () => {
    for (const v of ['true', 'True', 'TRUE', 't', 'T', '1', 'yes', '']) expect(boolParam(v), v).toBe(true);
    for (const v of [undefined, '0', 'false', 'False', 'FALSE', 'fAlSe']) expect(boolParam(v), String(v)).toBe(false);
    expect(boolParam(['false', 'true'])).toBe(false);
  });
});

describe('dryRun', () => {
  it('accepts only "All", as upstream\'s ValidateDryRun, naming the options kind in the 422', () => {
    expect(isDryRun('CreateOptions', undefined)).toBe(false);
    expect(isDryRun('CreateOptions', 'All')).toBe(true);
    expect(isDryRun('DeleteOptions', ['All'])).toBe(true);
    expect(isDryRun('DeleteOptions', [])).toBe(false);
    const err = (() => { try { isDryRun('UpdateOptions', ['All', 'Server']); } catch (e) { return e; } })() as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(422);
    expect(err.message).toBe('UpdateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["All","Server"]: supported values: "All"');
  });

  it('pushes ?dryRun= into an Eviction\'s deleteOptions, refusing two that differ (upstream\'s propagateDryRun)', () => {
    expect(evictionDeleteOptions(undefined, undefined)).toEqual({});
    expect(evictionDeleteOptions({}, 'All')).toEqual({ dryRun: ['All'] });
    expect(evictionDeleteOptions({ deleteOptions: { gracePeriodSeconds: 5 } }, 'All')).toEqual({ gracePeriodSeconds: 5, dryRun: ['All'] });
    expect(evictionDeleteOptions({ deleteOptions: { dryRun: ['All'] } }, undefined)).toEqual({ dryRun: ['All'] });
    expect(() => evictionDeleteOptions({ deleteOptions: { dryRun: ['All', 'All'] } }, 'All')).toThrow(/Non-matching dry-run options/);
    expect(() => evictionDeleteOptions({ deleteOptions: { dryRun: ['Some'] } }, undefined)).toThrow(/supported values: "All"/);
  });
});
