import { afterEach, describe, expect, it } from 'vitest';
import { checkIptables } from './iptables.js';

describe('checkIptables', () => {
  const path = process.env.PATH;
  afterEach(() => { process.env.PATH = path; });

  it('says what to do when iptables is missing, instead of crashing later', async () => {
    process.env.PATH = '/nonexistent';
    await expect(checkIptables()).rejects.toThrow('iptables is not installed: install it (apt-get install -y iptables) or use --proxy-mode userspace');
  });
});
