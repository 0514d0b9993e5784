// A URL as log messages may show it: scheme, host and path, without credentials or a query (either may carry
// a token). Used for the endpoints the operator configures (webhook sinks, the OTLP collector).

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
