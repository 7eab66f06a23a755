import { describe, expect, it } from 'vitest';
import { acquireIptablesLock } from './host-lock.js';

describe('acquireIptablesLock', () => {
  it('is held by one holder at a time and free again once released', async () => {
    const name = `\0k8ts-test-lock-${process.pid}`;
    const first = await acquireIptablesLock(name);
    await expect(acquireIptablesLock(name)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.release();
    const again = await acquireIptablesLock(name);
    await again.release();
  });
});
