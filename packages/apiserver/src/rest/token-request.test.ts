import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenSigner } from './token-request.js';

describe('TokenSigner', () => {
  it('signs RS256 JWTs with the given key, verifiable with its public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signer = new TokenSigner(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const token = signer.sign({ sub: 'system:serviceaccount:default:robot' });
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString()).sub).toBe('system:serviceaccount:default:robot');
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });
});
