// Building a connector call and expecting its failure: shared by the provider connector tests.
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/config/types.ts';
import { MeshError } from '../../src/errors.ts';
import type { ProviderCall } from '../../src/providers/provider.ts';

/** A buffered chat call for `model` saying `content`; `over` replaces any field. */
export function providerCall(model: ModelConfig, content: string, requestId: string, over: Partial<ProviderCall> = {}): ProviderCall {
  return {
    endpoint: 'chat',
    model,
    body: { model: 'text-generation', messages: [{ role: 'user', content }] },
    form: null,
    mode: 'buffer',
    signal: new AbortController().signal,
    requestId,
    ...over,
  };
}

/** The MeshError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<MeshError> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => {
      assert.ok(err instanceof MeshError);
      return err;
    },
  );
}
