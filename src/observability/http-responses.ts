// Every answered HTTP request by route and status class (issue 11.8), for /metrics:
//   modelmesh_http_responses_total{route="/v1/chat/completions",class="4xx"}
// The routing statistics only see requests that reach the router; a 400 from validation, a 401, a 404 for an
// unknown URL or a 413 never get there. Labels are bounded: `route` is the matched route pattern (from the
// config's route table) or "unmatched", `class` is one of 1xx..5xx.
export const UNMATCHED_ROUTE = 'unmatched';
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export class HttpResponseCounts {
  /** route -> counts per class (index 0 = 1xx). */
  readonly #byRoute = new Map<string, number[]>();

  /** One answered request. Statuses outside 100..599 are not counted. */
  record(route: string, status: number): void {
    const index = Math.floor(status / 100) - 1;
    if (!(index >= 0 && index < 5)) return;
    let counts = this.#byRoute.get(route);
    if (counts === undefined) this.#byRoute.set(route, (counts = [0, 0, 0, 0, 0]));
    counts[index] = (counts[index] ?? 0) + 1;
  }

  /** Non-zero counters, routes in first-seen order. */
  *entries(): Generator<{ route: string; class: (typeof STATUS_CLASSES)[number]; count: number }> {
    for (const [route, counts] of this.#byRoute) {
      for (let i = 0; i < 5; i++) {
        const count = counts[i] ?? 0;
        if (count > 0) yield { route, class: STATUS_CLASSES[i] as (typeof STATUS_CLASSES)[number], count };
      }
    }
  }
}
