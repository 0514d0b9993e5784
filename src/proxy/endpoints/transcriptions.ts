// STUB (the lead is writing this endpoint).
import { MeshError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';

export async function transcriptions(_ctx: RequestContext): Promise<void> {
  throw new MeshError('not_found', 'not implemented yet');
}

export async function translations(_ctx: RequestContext): Promise<void> {
  throw new MeshError('not_found', 'not implemented yet');
}
