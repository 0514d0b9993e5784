// STUB (the lead is writing this endpoint).
import { MeshError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';

export async function speech(_ctx: RequestContext): Promise<void> {
  throw new MeshError('not_found', 'not implemented yet');
}
