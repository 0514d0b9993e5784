// Parses an SSE body as received by a client: `event:` name (if any) and the JSON of each `data:` line.
export interface ParsedEvent {
  event: string | undefined;
  data: any;
  raw: string;
}

export function parseSse(body: string): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  for (const block of body.split('\n\n')) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    let parsed: unknown = data;
    try {
      parsed = JSON.parse(data);
    } catch {
      // [DONE] or text
    }
    out.push({ event, data: parsed, raw: block });
  }
  return out;
}
