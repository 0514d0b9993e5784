// POST /v1/images/edits: multipart/form-data in (one `image`, or several `image[]` for gpt-image, an optional
// `mask`, a `prompt`), JSON out, routed to models with the image-to-image or inpainting capability. Bounded by
// `proxy.limits.max_upload` like transcriptions; the form is re-encoded upstream with only `model` swapped,
// so every file (name, type, bytes) and field reaches it unchanged, in order. gpt-image's `stream=true`
// relays its `image_edit.*` events, ending with `image_edit.completed` (which carries usage).
import { MeshError } from '../../errors.ts';
import type { FormData, FormPart } from '../../lib/multipart.ts';
import { NO_NEEDS } from '../../mesh/eligibility.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered, relaySse } from '../relay.ts';
import { readForm, textField, textFields } from './transcriptions.ts';
import { bodyUsage, doneEventFilter } from './usage-scan.ts';
import { routeFrom } from './route-from.ts';

const IMAGE_PARTS = new Set(['image', 'image[]']);
const RESPONSE_FORMATS = ['url', 'b64_json'];
const CURL_EXAMPLE = '-F image=@photo.png -F prompt=... -F model=...';

export async function imageEdits(ctx: RequestContext): Promise<void> {
  const form = await readForm(ctx, CURL_EXAMPLE);
  const images = form.parts.filter((p) => IMAGE_PARTS.has(p.name));
  if (images.length === 0) throw new MeshError('missing_param', "Missing required parameter: 'image'.", { param: 'image' });
  for (const image of images) requireFile(image);
  const masks = form.parts.filter((p) => p.name === 'mask');
  for (const mask of masks) requireFile(mask);
  textField(form, 'prompt', true);
  // The real API defaults the model; the proxy routes on it, so it must be named (a pool such as image-editing).
  const model = textField(form, 'model', true) as string;
  checkFields(form);
  const stream = textField(form, 'stream', false) === 'true';
  const fields = textFields(form);

  const routed = await routeFrom(ctx, fields, {
    endpoint: 'image-edits',
    model,
    form,
    mode: stream ? 'sse' : 'buffer',
    needs: { ...NO_NEEDS, stream, images: images.length, file_bytes: Math.max(...images.map((p) => p.data.length), ...masks.map((p) => p.data.length)) },
  });
  if (stream) return relaySse(ctx, routed, doneEventFilter('image_edit.completed'));
  // b64_json answers run to megabytes: usage is read without parsing the images.
  relayBuffered(ctx, routed, bodyUsage);
}

function requireFile(part: FormPart): void {
  if (part.filename === undefined) {
    throw new MeshError('invalid_param', `Invalid '${part.name}': expected a file upload (a form part with a filename), got a text field.`, { param: part.name });
  }
}

/** `n`, `response_format` and `stream` as the real API checks them (form fields are strings). */
function checkFields(form: FormData): void {
  const n = textField(form, 'n', false);
  if (n !== undefined && !(/^\d{1,2}$/.test(n) && Number(n) >= 1 && Number(n) <= 10)) {
    throw new MeshError('invalid_param', "Invalid value for 'n': expected an integer from 1 to 10.", { param: 'n' });
  }
  const format = textField(form, 'response_format', false);
  if (format !== undefined && !RESPONSE_FORMATS.includes(format)) {
    throw new MeshError('invalid_param', `Invalid value for 'response_format': expected one of ${RESPONSE_FORMATS.join(', ')}.`, { param: 'response_format' });
  }
  const stream = textField(form, 'stream', false);
  if (stream !== undefined && stream !== 'true' && stream !== 'false') {
    throw new MeshError('invalid_param', "Invalid value for 'stream': expected 'true' or 'false'.", { param: 'stream' });
  }
}
