// "Alert me": watch the marketplace's current query for a price at or below a threshold.
// Not built yet (issue 9).
export function WatchSearchButton(_props: { query: string }) {
  return null;
}
