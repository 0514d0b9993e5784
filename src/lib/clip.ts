// What a client sent, echoed in an error message (and so in logs): clipped, since a client may send megabytes
// where a name or a path belongs.

/** `text` up to 200 characters, else its first 200 and an ellipsis. */
export function clipEcho(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
