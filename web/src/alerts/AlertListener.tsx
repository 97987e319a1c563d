// Live price alerts for the logged-in user, shown as toasts wherever they are in the app.
// Not built yet (issue 9).
export function AlertListener() {
  return null;
}
