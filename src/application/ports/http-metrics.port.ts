/** What an HTTP server counts: every answered request, by route template (never the raw path), method and status. */
export interface HttpMetricsPort {
  httpRequest(route: string, method: string, status: number, durationSeconds: number): void;
}
